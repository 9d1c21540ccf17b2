"""One model for TES and PCS against one model per score, on the `amplitude` world (Fis-V law): each score's
test rho at the last epoch, shared minus own, with its paired-bootstrap standard error (the same resample of
test videos for both models), per draw and as a mean over draws (error sqrt(sum SE^2) / draws).

    python benchmarks/worlds_multiscore.py DEV --seeds 1,2,3 [--model lmac_ensemble] [--resamples 1000]

Reads DEV/runs/world_amplitude_tes_pcs-MODEL-sS (the shared model) and world_amplitude_{tes,pcs}-MODEL-sS.
"""
from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr


def _rows(path: Path) -> list[dict]:
    with open(path) as f:
        return list(csv.DictReader(f))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("bench", type=Path)
    p.add_argument("--seeds", default="1,2,3")
    p.add_argument("--model", default="lmac_ensemble")
    p.add_argument("--resamples", type=int, default=1000)
    args = p.parse_args(argv)
    runs, rng = args.bench / "runs", np.random.default_rng(0)
    seeds = [int(s) for s in args.seeds.split(",")]
    for score in ("tes", "pcs"):
        diffs, ses = [], []
        for s in seeds:
            shared = {r["video_id"]: (float(r[f"true_{score}"]), float(r[f"pred_last_{score}"]))
                      for r in _rows(runs / f"world_amplitude_tes_pcs-{args.model}-s{s}" / "predictions.csv")}
            own = {r["video_id"]: (float(r["true_score"]), float(r["pred_last"]))
                   for r in _rows(runs / f"world_amplitude_{score}-{args.model}-s{s}" / "predictions.csv")}
            ids = sorted(shared)
            if set(ids) != set(own):
                raise ValueError(f"draw {s}: the two runs scored different test videos")
            t = np.array([shared[i][0] for i in ids])
            a, b = np.array([shared[i][1] for i in ids]), np.array([own[i][1] for i in ids])
            d = spearmanr(a, t)[0] - spearmanr(b, t)[0]
            boot = []
            for _ in range(args.resamples):
                k = rng.integers(0, len(ids), len(ids))
                boot.append(spearmanr(a[k], t[k])[0] - spearmanr(b[k], t[k])[0])
            diffs.append(d)
            ses.append(float(np.std(boot)))
            print(f"{score} draw {s}: shared {spearmanr(a, t)[0]:.3f}, own {spearmanr(b, t)[0]:.3f}, "
                  f"shared - own {d:+.3f} +- {ses[-1]:.3f}")
        print(f"{score} mean over draws: shared - own {np.mean(diffs):+.3f} +- {np.sqrt(np.sum(np.square(ses))) / len(seeds):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
