"""What the seventeenth worlds candidate was looked at on before its rule (validation and training videos only): does
the first canonical pair of flow and audio find `energy`'s energy and intensity, and do its five shared-moment
features read the judges' mismatch term?

For each draw it reads the split of BENCH's `lmac_ensemble` run of `world_energy` (train / validation; no test video)
and, for each number of principal components k: the within-video correlation of the first canonical pair of flow and
audio (`lmac.models.ridge.cca_pair`); on the training videos, the
correlation of the pair's flow side (averaged over each element) with the element's true energy and of its audio side
with the true intensity (from truth.json); how well the five features (`cca_features`) read the true mean mismatch
(a linear fit on the training videos, in-sample r); and the validation rho of a ridge on RGB's pooled features with
and without the five (penalty by the member's own 5-fold cross-validation).

    python benchmarks/worlds_shared_moments_probe.py BENCH [--seeds 1,2,3] [--ranks 16,32,64]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from lmac.config import load_config
from lmac.data.tasks import get_task
from lmac.evaluation.metrics import spearman
from lmac.models.ridge import cca_features, cca_pair, cca_sides, choose_by_cv, pool_video, ridge_fit, ridge_predict
from lmac.training.trainer import prepare_data


def validation_split(bench: Path, world: str, seed: int):
    """(training dataset, validation dataset, training targets, validation scores) of BENCH's `lmac_ensemble` run of
    `world_<world>` for one draw: its own split, no test video."""
    cfg = load_config(bench / "runs" / f"world_{world}-lmac_ensemble-s{seed}" / "config.yaml")
    task = get_task(cfg.task)
    tr, va, _ = prepare_data(cfg, task)
    y = np.array([float(task.to_target(np.asarray(s.score))) for s in tr.samples])
    yv = np.array([float(s.score) for s in va.samples])
    return tr, va, y, yv


def sides(feats, pair):
    return cca_sides(feats, "flow", "audio", pair)


def within_corr(samples, pair) -> float:
    xs, ys = zip(*(sides(s.feats, pair) for s in samples))
    x = np.concatenate([a - a.mean() for a in xs])
    y = np.concatenate([b - b.mean() for b in ys])
    return float(np.corrcoef(x, y)[0, 1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bench", type=Path)
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--ranks", default="16,32,64")
    args = ap.parse_args()
    for seed in map(int, args.seeds.split(",")):
        tr, va, y, yv = validation_split(args.bench, "energy", seed)
        truth = json.loads((args.bench / "data" / "energy" / f"seed{seed}" / "truth.json").read_text())
        w = int(tr.window)
        mism = np.array([np.mean([abs(e["energy"] - e["intensity"]) for e in truth[s.video_id]["elements"]])
                         for s in tr.samples])
        rgb, rgbv = (np.stack([pool_video(s.feats, ("rgb",), w) for s in ds.samples]) for ds in (tr, va))

        def val_rho(X, Xv):
            _, lam = choose_by_cv({"x": X}, y, seed)
            return round(spearman(ridge_predict(ridge_fit(X, y, lam), Xv), yv), 3)

        row = {"seed": seed, "rgb_alone_val": val_rho(rgb, rgbv)}
        for k in map(int, args.ranks.split(",")):
            pair = cca_pair([s.feats["flow"] for s in tr.samples], [s.feats["audio"] for s in tr.samples], k)
            E, I, FE, AI = [], [], [], []
            for s in tr.samples:
                x, a = sides(s.feats, pair)
                for e in truth[s.video_id]["elements"]:
                    E.append(e["energy"]), I.append(e["intensity"])
                    FE.append(x[e["start"]:e["end"]].mean()), AI.append(a[e["start"]:e["end"]].mean())
            Q, Qv = (np.stack([cca_features(*sides(s.feats, pair)) for s in ds.samples]) for ds in (tr, va))
            Z = np.c_[Q, np.ones(len(Q))]
            fit = np.linalg.lstsq(Z, mism, rcond=None)[0]
            row[f"k{k}"] = {"canonical_r": round(within_corr(tr.samples, pair), 3),
                            "flow_vs_energy": round(float(np.corrcoef(FE, E)[0, 1]), 3),
                            "audio_vs_intensity": round(float(np.corrcoef(AI, I)[0, 1]), 3),
                            "reads_mismatch_r": round(float(np.corrcoef(Z @ fit, mism)[0, 1]), 3),
                            "rgb_and_shared_val": val_rho(np.c_[rgb, Q], np.c_[rgbv, Qv])}
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
