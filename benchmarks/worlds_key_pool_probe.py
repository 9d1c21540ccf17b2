"""A probe before the twenty-seventh worlds candidate (validation only; no test video is read): the default ridge
member's five input options (RGB, every modality, aligned pairs at rank 2/4/8, RGB's or every modality's with the shared
moments), rebuilt from ridge.py's functions and chosen by its 5-fold cross-validation on the training videos (A: it
reproduces the member), against the same options with every read modality's pooled features also taken over its own
key moments (B), and A and B's options together (AB). Reads a benchmark folder's generated development worlds (draws
1-3) and the train/validation split its runs use.

    PYTHONPATH=src python benchmarks/worlds_key_pool_probe.py DEV26 OUT.json
"""
from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from lmac.config import load_config
from lmac.data.tasks import get_task
from lmac.data.worlds import world_tasks
from lmac.evaluation.metrics import fisher_z_mean, spearman
from lmac.models.ridge import (best_by_cv, cca_pair, cca_pool, cv_scores, key_gate, pair_pool, pca_projection,
                               pool_video, ridge_fit, ridge_predict, salience)
from lmac.training.trainer import prepare_data

K = 16  # principal components in which a segment's salience is measured (the member's key_rank)
MODS = ("rgb", "flow", "audio")
WORLDS = ("amplitude", "energy", "execution", "rg")


def validation_draws(root: Path):
    """For each development world's task and draw 1-3 generated in the benchmark folder `root`: (task name, seed,
    train dataset, validation dataset, window, training targets, validation scores), with the train/validation split
    the folder's runs use (their config, this task and draw's data)."""
    template = load_config(next(root.glob("runs/*/config.yaml")))
    for world in WORLDS:
        for task_name in world_tasks(world):
            for seed in (1, 2, 3):
                d = root / "data" / world / f"seed{seed}"
                cfg = replace(template, task=task_name, features=str(d / "features"), labels=str(d), seed=seed)
                task = get_task(task_name)
                train, val, _ = prepare_data(cfg, task)
                y = np.array([float(task.to_target(np.asarray(s.score))) for s in train.samples])
                yv = np.array([float(np.asarray(s.score)) for s in val.samples])
                yield task_name, seed, train, val, int(train.window), y, yv


def own_key(feats, proj, window, mods):
    """Each modality's mean and sum / window over its own key moments."""
    out = []
    for m in mods:
        x = np.asarray(feats[m], np.float64)
        g = key_gate(salience(x, proj[m], K))
        out += [x[g].mean(0), x[g].sum(0) / window]
    return np.concatenate(out)


def option_features(ds, w, proj8, projK, dirs, keyed):
    """{the default ridge's input option: features} of a dataset, with key pooling when `keyed`."""
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


def unsupervised_fits(train):
    """What the ridge member fits on the training videos' segments without labels: each modality's first 8 and first
    K principal components (the pairs, the key moments) and every two modalities' canonical pair (the shared moments)."""
    segs = {m: np.concatenate([np.asarray(s.feats[m], np.float64) for s in train.samples]) for m in MODS}
    pc = {m: pca_projection(segs[m], max(8, K)) for m in MODS}
    proj8 = {m: (mu, sd, U[:, :8]) for m, (mu, sd, U) in pc.items()}
    projK = {m: (mu, sd, U[:, :K]) for m, (mu, sd, U) in pc.items()}
    dirs = {(a, b): cca_pair([s.feats[a] for s in train.samples], [s.feats[b] for s in train.samples], 64)
            for a, b in [("rgb", "flow"), ("rgb", "audio"), ("flow", "audio")]}
    return proj8, projK, dirs


def ridge_on_validation(Xt: dict, Xv: dict, y, yv, seed: int) -> tuple:
    """The ridge member's choice among options {key: training features} and penalties by its 5-fold cross-validation,
    refitted on every training video: (key, penalty, its cross-validated rho, its validation rho)."""
    sc = cv_scores(Xt, y, seed)
    key, lam = best_by_cv(sc)
    pred = ridge_predict(ridge_fit(Xt[key], y, lam), Xv[key])
    return key, lam, round(sc[key][0], 4), round(spearman(pred, yv), 4)


def main(root: Path, out: Path) -> None:
    res = {}
    for task_name, seed, train, val, w, y, yv in validation_draws(root):
        proj8, projK, dirs = unsupervised_fits(train)
        A_t, A_v = (option_features(ds, w, proj8, projK, dirs, False) for ds in (train, val))
        B_t, B_v = (option_features(ds, w, proj8, projK, dirs, True) for ds in (train, val))
        row = {}
        for name, (Xt, Xv) in {"A": (A_t, A_v), "B": (B_t, B_v),
                               "AB": ({**A_t, **{"k" + k: v for k, v in B_t.items()}},
                                      {**A_v, **{"k" + k: v for k, v in B_v.items()}})}.items():
            row[name] = ridge_on_validation(Xt, Xv, y, yv, seed)
        res[f"{task_name}-s{seed}"] = row
        print(task_name, seed, row, flush=True)
    json.dump(res, open(out, "w"), indent=1)
    for world in WORLDS + ("",):
        keys = [k for k in res if k.startswith(f"world_{world}")]
        print(world or "all", {n: round(fisher_z_mean([res[k][n][3] for k in keys]), 3) for n in ("A", "B", "AB")})


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
