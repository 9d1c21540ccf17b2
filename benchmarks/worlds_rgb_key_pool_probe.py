"""A probe before the twenty-seventh worlds candidate (validation only; no test video is read): the ridge on RGB's
pooled features alone, and with RGB also pooled over each modality's key moments (the top third of its segments by
salience in its first 16 principal components, fitted on the training videos), penalty by 5-fold cross-validation on
the training videos; beside the default ridge member (five input options) refitted on the same videos. Reads a
benchmark folder's generated development worlds (draws 1-3) and the train/validation split its runs use.

    PYTHONPATH=src python benchmarks/worlds_rgb_key_pool_probe.py DEV26 OUT.json
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from lmac.data.dataset import collate_sequences
from lmac.evaluation.metrics import fisher_z_mean, spearman
from lmac.models import create_model
from lmac.models.ridge import cv_scores, key_gate, pca_projection, pool_video, ridge_fit, ridge_predict, salience
from worlds_key_pool_probe import K, WORLDS, validation_draws


def gated(feats, gates_proj, window, which):
    """RGB's mean and sum / window over the key moments of each modality in `which`."""
    x = np.asarray(feats["rgb"], np.float64)
    out = []
    for m in which:
        g = key_gate(salience(feats[m], gates_proj[m], K))
        out += [x[g].mean(0), x[g].sum(0) / window]
    return np.concatenate(out)


def main(root: Path, out: Path) -> None:
    res = {}
    for task_name, seed, train, val, w, y, yv in validation_draws(root):
        proj = {m: pca_projection(np.concatenate([np.asarray(s.feats[m], np.float64) for s in train.samples]), K)
                for m in ("rgb", "flow", "audio")}

        def pooled(ds):
            return np.stack([pool_video(s.feats, ("rgb",), w) for s in ds.samples])

        variants = {"rgb": pooled}
        for which in (("rgb",), ("flow",), ("audio",), ("rgb", "flow", "audio")):
            variants["rgb+" + "+".join(which)] = (lambda which: lambda ds: np.concatenate(
                [pooled(ds), np.stack([gated(s.feats, proj, w, which) for s in ds.samples])], 1))(which)
        row = {}
        for name, f in variants.items():
            Xt, Xv = f(train), f(val)
            cv, lam = cv_scores({name: Xt}, y, seed)[name]
            pred = ridge_predict(ridge_fit(Xt, y, lam), Xv)
            row[name] = (round(cv, 4), round(spearman(pred, yv), 4))
        ridge = create_model("pooled_ridge", train.dims, key_pool=False)  # the default's ridge before this probe
        ridge.fit(train, seed)
        b = collate_sequences([val[i] for i in range(len(val))])
        pred = ridge(b["feats"], b["mask"])["score"].double().numpy().ravel()
        row["default_ridge"] = (None, round(spearman(pred, yv), 4))
        res[f"{task_name}-s{seed}"] = row
        print(task_name, seed, row, flush=True)
    json.dump(res, open(out, "w"), indent=1)
    names = list(next(iter(res.values())))
    for world in WORLDS:
        keys = [k for k in res if k.startswith(f"world_{world}")]
        print(world, {n: round(fisher_z_mean([res[k][n][1] for k in keys]), 3) for n in names})
    print("all", {n: round(fisher_z_mean([res[k][n][1] for k in res]), 3) for n in names})


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
