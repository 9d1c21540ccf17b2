"""One model for TES and PCS against one model per score, on the `amplitude` world (Fis-V law): each score's
test rho at the last epoch, shared minus own, with its paired-bootstrap standard error (the same resample of
test videos for both models), per draw and as a mean over draws (error sqrt(sum SE^2) / draws).

    python benchmarks/worlds_multiscore.py DEV --seeds 1,2,3 [--model lmac_ensemble] [--resamples 1000]

Reads DEV/runs/world_amplitude_tes_pcs-MODEL-sS (the shared model) and world_amplitude_{tes,pcs}-MODEL-sS.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from lmac.evaluation.bootstrap import paired_bootstrap, read_predictions


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
            shared = read_predictions(runs / f"world_amplitude_tes_pcs-{args.model}-s{s}" / "predictions.csv",
                                      f"pred_last_{score}", truth=f"true_{score}")
            own = read_predictions(runs / f"world_amplitude_{score}-{args.model}-s{s}" / "predictions.csv", "pred_last")
            if set(shared) != set(own):
                raise ValueError(f"draw {s}: the two runs scored different test videos")
            r = paired_bootstrap([np.array([[shared[i][0], shared[i][1], own[i][1]] for i in sorted(shared)])],
                                 args.resamples, rng)
            diffs.append(r["diff"])
            ses.append(r["diff_se"])
            print(f"{score} draw {s}: shared {r['rho_a']:.3f}, own {r['rho_b']:.3f}, "
                  f"shared - own {r['diff']:+.3f} +- {r['diff_se']:.3f}")
        print(f"{score} mean over draws: shared - own {np.mean(diffs):+.3f} +- {np.sqrt(np.sum(np.square(ses))) / len(seeds):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
