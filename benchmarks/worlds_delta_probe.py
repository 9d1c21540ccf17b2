"""Do temporal-difference features help the ridge member? An exploration on the development worlds' validation splits.

Why: judges add over elements (RG's D, skating's TES), and a routine's pooled mean and sum over segments tell how
long its elements last in all, not how many there are (in `energy`, elements last 2-4 segments: the count and the
total duration correlate at about 0.8). How often the features change, the mean over a video's segments of
|p(t) - p(t-1)| on each modality's first k principal components (fitted on the training videos' segments, no
labels), is a count of onsets that does not depend on the elements' lengths.

For each task and draw: the ridge (lmac.models.ridge: pooled mean and sum / window, standardised, penalty by 5-fold
cross-validation on the training videos) fitted on lmac's training split (the 80% `lmac train --seed S` keeps) on
RGB alone and on every modality, each without and with the difference features (their mean and their sum / window),
and scored on lmac's validation split (Spearman rho). Test splits are not read.

    python benchmarks/worlds_delta_probe.py BENCH/data --tasks world_energy,world_rg --seeds 1,2,3 [--k 16] [--out F.json]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from lmac.config import TrainConfig
from lmac.data.tasks import get_task
from lmac.evaluation.metrics import spearman
from lmac.models.ridge import choose_by_cv, delta_pool, pca_projection, pool_video, ridge_fit, ridge_predict

MODALITIES = ("rgb", "flow", "audio")


def world_of(task: str) -> str:
    name = task[len("world_"):]
    return name.rsplit("_", 1)[0] if name.endswith(("_tes", "_pcs")) else name


def probe(folder: Path, task: str, seed: int, k: int) -> dict:
    from lmac.training.trainer import prepare_data

    cfg = TrainConfig(task=task, features=str(folder / "features"), labels=str(folder), seed=seed)
    train, val, _ = prepare_data(cfg, get_task(task))
    window = int(train.window)
    target = lambda ds: np.array([float(ds.task.to_target(np.asarray(s.score))) for s in ds.samples])  # noqa: E731
    y_train, y_val = target(train), target(val)
    proj = {m: pca_projection(np.concatenate([np.asarray(s.feats[m], np.float64) for s in train.samples]), k)
            for m in MODALITIES}

    def features(ds, mods, with_delta: bool) -> np.ndarray:
        rows = []
        for s in ds.samples:
            row = [pool_video(s.feats, mods, window)]
            if with_delta:
                row.append(delta_pool(s.feats, {m: proj[m] for m in mods}, k, window))
            rows.append(np.concatenate(row))
        return np.stack(rows)

    out = {}
    for name, mods in (("rgb", ("rgb",)), ("all", MODALITIES)):
        for with_delta in (False, True):
            X_train, X_val = features(train, mods, with_delta), features(val, mods, with_delta)
            _, lam = choose_by_cv({name: X_train}, y_train, seed)
            out[name + ("+delta" if with_delta else "")] = round(
                spearman(ridge_predict(ridge_fit(X_train, y_train, lam), X_val), y_val), 4)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data", type=Path, help="BENCH/data (holding <world>/seed<s>/)")
    p.add_argument("--tasks", required=True)
    p.add_argument("--seeds", default="1,2,3")
    p.add_argument("--k", type=int, default=16, help="principal components per modality")
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    results = {}
    for task in args.tasks.split(","):
        for s in (int(x) for x in args.seeds.split(",")):
            r = results[f"{task}/seed{s}"] = probe(args.data / world_of(task) / f"seed{s}", task, s, args.k)
            print(f"{task} draw {s} (validation rho): " + ", ".join(f"{k} {v:.3f}" for k, v in r.items()), flush=True)
    if args.out:
        args.out.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
