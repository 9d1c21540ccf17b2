"""A probe before the twenty-seventh worlds candidate (validation only; no test video is read): the default ridge
member's five input options (RGB, every modality, aligned pairs at rank 2/4/8, RGB's or every modality's with the shared
moments), rebuilt from ridge.py's functions and chosen by its 5-fold cross-validation on the training videos (A: it
reproduces the member), against the same options with every read modality's pooled features also taken over its own
key moments (B), and A and B's options together (AB). Reads a benchmark folder's generated development worlds (draws
1-3) and the train/validation split its runs use.

    PYTHONPATH=src python benchmarks/worlds_key_pool_probe.py DEV26 OUT.json
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
from lmac.models.ridge import (pool_video, pca_projection, salience, key_gate, cv_scores, best_by_cv, ridge_fit,
                               ridge_predict, pair_pool, cca_pair, cca_pool)
from lmac.training.trainer import prepare_data

ROOT = Path(sys.argv[1])
template = load_config(next(ROOT.glob("runs/*/config.yaml")))
K = 16
MODS = ("rgb", "flow", "audio")

def own_key(feats, proj, window, mods):
    out = []
    for m in mods:
        x = np.asarray(feats[m], np.float64)
        g = key_gate(salience(x, proj[m], K))
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
            segs = {m: np.concatenate([np.asarray(s.feats[m], np.float64) for s in train.samples]) for m in MODS}
            pc = {m: pca_projection(segs[m], max(8, K)) for m in MODS}
            proj8 = {m: (mu, sd, U[:, :8]) for m, (mu, sd, U) in pc.items()}
            projK = {m: (mu, sd, U[:, :K]) for m, (mu, sd, U) in pc.items()}
            dirs = {(a, b): cca_pair([s.feats[a] for s in train.samples], [s.feats[b] for s in train.samples], 64)
                    for a, b in [("rgb", "flow"), ("rgb", "audio"), ("flow", "audio")]}
            def feats_of(ds, keyed):
                rows = []
                for s in ds.samples:
                    f = s.feats
                    pr, pa = pool_video(f, ("rgb",), w), pool_video(f, MODS, w)
                    if keyed:
                        pr = np.concatenate([pr, own_key(f, projK, w, ("rgb",))])
                        pa = np.concatenate([pa, own_key(f, projK, w, MODS)])
                    sh = cca_pool(f, dirs)
                    r = {"rgb": pr, "all": pa}
                    for k in (2, 4, 8):
                        r[f"pairs{k}"] = np.concatenate([pa, pair_pool(f, proj8, k)])
                    r["rgb_cca"], r["all_cca"] = np.concatenate([pr, sh]), np.concatenate([pa, sh])
                    rows.append(r)
                return {k: np.stack([r[k] for r in rows]) for k in rows[0]}
            A_t, A_v = feats_of(train, False), feats_of(val, False)
            B_t, B_v = feats_of(train, True), feats_of(val, True)
            row = {}
            for name, (Xt, Xv) in {"A": (A_t, A_v), "B": (B_t, B_v),
                                   "AB": ({**A_t, **{"k" + k: v for k, v in B_t.items()}},
                                          {**A_v, **{"k" + k: v for k, v in B_v.items()}})}.items():
                sc = cv_scores(Xt, y, seed)
                key, lam = best_by_cv(sc)
                pred = ridge_predict(ridge_fit(Xt[key], y, lam), Xv[key])
                row[name] = (key, lam, round(sc[key][0], 4), round(spearman(pred, yv), 4))
            res[f"{task_name}-s{seed}"] = row
            print(task_name, seed, row, flush=True)
json.dump(res, open(sys.argv[2], "w"), indent=1)
for world in ["amplitude", "energy", "execution", "rg", ""]:
    keys = [k for k in res if k.startswith(f"world_{world}")]
    print(world or "all", {n: round(fisher_z_mean([res[k][n][3] for k in keys]), 3) for n in ("A", "B", "AB")})
