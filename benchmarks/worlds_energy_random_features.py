"""Exploration, validation only (2026-12-04): can the ridge read `energy`'s cross-modal term from random |projection|
features of the aligned flow and audio streams?

`energy` scores 8 mean |energy - intensity| over the elements (flow x audio at the same segment). A linear reader needs
a non-linear feature of the two streams in step; this adds, to the ridge member's pooled inputs, the mean over a
video's segments of |z(t) . r_j| for J random directions r_j in the joint space z(t) = [first k principal components
of flow(t), of audio(t)] (|a - b| along the right direction is the mismatch), and compares the ridge's validation rho
with and without them (inputs and penalty chosen by the member's own 5-fold cross-validation on the training videos).
It reads the REF31 runs' splits (the two-member default's runs of draws 1-3); no test video is read.

    python benchmarks/worlds_energy_random_features.py REF31 [--seeds 1,2,3]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from lmac.config import load_config
from lmac.data.tasks import get_task
from lmac.training.trainer import prepare_data
from lmac.evaluation.metrics import spearman
from lmac.models.ridge import choose_by_cv, pca_projection, pool_video, project_segments, ridge_fit, ridge_predict


def feats_of(ds, mods, window):
    return np.stack([pool_video(s.feats, mods, window) for s in ds.samples])


def rf_block(ds, proj, R, k):
    out = []
    for s in ds.samples:
        z = np.concatenate([project_segments(s.feats[m], p, k) for m, p in proj.items()], 1)
        out.append(np.abs(z @ R).mean(0))
    return np.stack(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bench", help="a worlds benchmark folder with lmac_ensemble runs of `energy`")
    ap.add_argument("--seeds", default="1,2,3")
    args = ap.parse_args()
    for seed in map(int, args.seeds.split(",")):
        run_one(Path(args.bench) / "runs" / f"world_energy-lmac_ensemble-s{seed}", seed)


def run_one(run: Path, seed: int) -> None:
    cfg = load_config(run / "config.yaml")
    task = get_task(cfg.task)
    tr, va, _ = prepare_data(cfg, task)
    w = int(tr.window)
    y = np.array([float(task.to_target(np.asarray(s.score))) for s in tr.samples])
    yv = np.array([float(s.score) for s in va.samples])
    mods = ("rgb", "flow", "audio")
    base = {(("rgb",), 0): feats_of(tr, ("rgb",), w), (mods, 0): feats_of(tr, mods, w)}
    vbase = {(("rgb",), 0): feats_of(va, ("rgb",), w), (mods, 0): feats_of(va, mods, w)}

    def val_rho(cands, vcands):  # the member's own choice of inputs and penalty, then its validation rho
        key, lam = choose_by_cv(cands, y, seed)
        p = ridge_predict(ridge_fit(cands[key], y, lam), vcands[key])
        return round(spearman(p, yv), 3), key[0], lam

    row = {"seed": seed, "base": val_rho(base, vbase)}
    proj = {m: pca_projection(np.concatenate([np.asarray(s.feats[m], np.float64) for s in tr.samples]), 8)
            for m in ("flow", "audio")}  # once, at the largest k; the first k components are its first k columns
    for k in (4, 8):
        for J in (32, 128):
            R = np.random.default_rng(100 + seed).standard_normal((2 * k, J))
            B, Bv = rf_block(tr, proj, R, k), rf_block(va, proj, R, k)
            row[f"rf_k{k}_J{J}"] = val_rho({key: np.concatenate([X, B], 1) for key, X in base.items()},
                                           {key: np.concatenate([X, Bv], 1) for key, X in vbase.items()})
    print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
