"""Choose between models on *validation* only: each run's validation rho, never its test rho.

Reads a `lmac benchmark` folder (metrics.csv of every run) and prints, per task and as the Fisher-z
average over tasks, each model's validation Spearman rho at the last epoch and the best over epochs
(the latter is what `--val-fraction` selection sees, so it is optimistic by the maximum over 30 noisy
values; the last epoch's is not). Test numbers are not read.

    python benchmarks/worlds_select.py BENCH_DIR [--seeds 1] [--out FILE.json]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from lmac.evaluation.benchmark import validation_curves
from lmac.evaluation.metrics import fisher_z_mean


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("bench", type=Path)
    p.add_argument("--seeds", help="comma-separated (default: all)")
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    seeds = {int(s) for s in args.seeds.split(",")} if args.seeds else None
    val = {k: (v[-1], max(v)) for k, v in validation_curves(args.bench, seeds).items()}  # -> (last, best)
    models = sorted({k[0] for k in val})
    tasks = sorted({k[1] for k in val})
    table = {}
    print("validation Spearman rho, last epoch / best epoch (mean over seeds); Fisher-z average over tasks")
    print(f"{'model':24s} " + " ".join(f"{t[6:]:>16s}" for t in tasks) + f" {'avg':>16s}")
    for m in models:
        cells, lasts, bests = [], [], []
        for t in tasks:
            vs = [val[k] for k in val if k[0] == m and k[1] == t]
            if vs:
                last, best = float(np.mean([x[0] for x in vs])), float(np.mean([x[1] for x in vs]))
                cells.append(f"{last:7.3f}/{best:.3f}")
                lasts.append(last)
                bests.append(best)
            else:
                cells.append(f"{'-':>16s}")
        avg = (fisher_z_mean(lasts), fisher_z_mean(bests)) if len(lasts) == len(tasks) else None
        table[m] = {"tasks": dict(zip(tasks, cells)), "avg_last": avg and avg[0], "avg_best": avg and avg[1]}
        print(f"{m:24s} " + " ".join(f"{c:>16s}" for c in cells) + (f" {avg[0]:7.3f}/{avg[1]:.3f}" if avg else ""))
    if args.out:
        args.out.write_text(json.dumps(table, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
