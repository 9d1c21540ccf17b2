"""A probe before the twenty-seventh worlds candidate (validation only; no test video is read): the ridge on RGB's
pooled features alone, and with RGB also pooled over each modality's key moments (the top third of its segments by
salience in its first 16 principal components, fitted on the training videos), penalty by 5-fold cross-validation on
the training videos; beside the default ridge member (five input options) refitted on the same videos. Reads a
benchmark folder's generated development worlds (draws 1-3) and the train/validation split its runs use.

    PYTHONPATH=src python benchmarks/worlds_rgb_key_pool_probe.py DEV26 OUT.json
"""
import json
import sys
from dataclasses import replace
from pathlib import Path
import numpy as np
from lmac.config import load_config
from lmac.data.tasks import get_task
from lmac.data.worlds import world_tasks
from lmac.evaluation.metrics import spearman, fisher_z_mean
from lmac.models import create_model
from lmac.models.ridge import (pool_video, pca_projection, salience, key_gate, cv_scores, best_by_cv, ridge_fit,
                               ridge_predict)
from lmac.data.dataset import collate_sequences
from lmac.training.trainer import prepare_data

ROOT = Path(sys.argv[1])
template = load_config(next(ROOT.glob("runs/*/config.yaml")))
K = 16

def gated(feats, gates_proj, window, which):
    x = np.asarray(feats["rgb"], np.float64)
    out = []
    for m in which:
        g = key_gate(salience(feats[m], gates_proj[m], K))
        out += [x[g].mean(0), x[g].sum(0) / window]
    return np.concatenate(out)

res = {}
for world in ["amplitude", "energy", "execution", "rg"]:
    for task_name in world_tasks(world):
        for seed in (1, 2, 3):
            d = ROOT / "data" / world / f"seed{seed}"
            cfg = replace(template, task=task_name, features=str(d / "features"), labels=str(d), seed=seed)
            task = get_task(task_name)
            train, val, _ = prepare_data(cfg, task)
            w = int(train.window)
            y = np.array([float(task.to_target(np.asarray(s.score))) for s in train.samples])
            yv = np.array([float(np.asarray(s.score)) for s in val.samples])
            proj = {m: pca_projection(np.concatenate([np.asarray(s.feats[m], np.float64) for s in train.samples]), K)
                    for m in ("rgb", "flow", "audio")}
            P = lambda ds: np.stack([pool_video(s.feats, ("rgb",), w) for s in ds.samples])
            variants = {"rgb": lambda ds: P(ds)}
            for which in (("rgb",), ("flow",), ("audio",), ("rgb", "flow", "audio")):
                variants["rgb+" + "+".join(which)] = (lambda which: lambda ds: np.concatenate(
                    [P(ds), np.stack([gated(s.feats, proj, w, which) for s in ds.samples])], 1))(which)
            row = {}
            for name, f in variants.items():
                Xt, Xv = f(train), f(val)
                sc = cv_scores({name: Xt}, y, seed)
                cv, lam = sc[name]
                pred = ridge_predict(ridge_fit(Xt, y, lam), Xv)
                row[name] = (round(cv, 4), round(spearman(pred, yv), 4))
            rm = create_model("pooled_ridge", train.dims)
            rm.fit(train, seed)
            b = collate_sequences([val[i] for i in range(len(val))])
            pr = rm(b["feats"], b["mask"])["score"].double().numpy().ravel()
            row["default_ridge"] = (None, round(spearman(pr, yv), 4))
            res[f"{task_name}-s{seed}"] = row
            print(task_name, seed, row, flush=True)
json.dump(res, open(sys.argv[2], "w"), indent=1)
names = list(next(iter(res.values())))
for world in ["amplitude", "energy", "execution", "rg"]:
    keys = [k for k in res if k.startswith(f"world_{world}")]
    print(world, {n: round(fisher_z_mean([res[k][n][1] for k in keys]), 3) for n in names})
print("all", {n: round(fisher_z_mean([res[k][n][1] for k in res]), 3) for n in names})
