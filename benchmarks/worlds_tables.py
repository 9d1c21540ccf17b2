"""The worlds verdict table (and the per-task tables) from finished runs of a benchmark folder, for chosen models.

`lmac benchmark` writes its tables for the models of its own invocation; when the models of one folder were trained
by several invocations (a candidate with `--set`, then `gdlt` beside it; or baselines added later to a held-out
run), this writes the table over all of them with the benchmark's own code (collect, summarise, worlds_table).

    python benchmarks/worlds_tables.py BENCH lmac_ensemble,gdlt,concat,lmac benchmarks/results/worlds/NAME
"""
from __future__ import annotations

import argparse
from pathlib import Path

from lmac.evaluation.benchmark import collect, summarise, worlds_table


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("bench", type=Path)
    p.add_argument("models", help="comma-separated; the first is the reference")
    p.add_argument("dest", help="output path without extension: DEST.md and DEST.csv are written")
    p.add_argument("--resamples", type=int, default=1000)
    args = p.parse_args(argv)
    models = args.models.split(",")
    results = [r for r in collect(args.bench) if r["model"] in models]
    if not results:
        p.error(f"no finished run of {models} in {args.bench}/runs")
    md = worlds_table(args.bench, results, models, models[0], args.resamples)
    md2, csv, _ = summarise(results, models)
    Path(args.dest + ".md").write_text(md + "\n" + md2)
    Path(args.dest + ".csv").write_text(csv)
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
