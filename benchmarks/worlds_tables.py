"""The worlds verdict table (and the per-task tables) from finished runs of a benchmark folder, for chosen models.

`lmac benchmark` writes its tables for the models of its own invocation; when the models of one folder were trained
by several invocations (a candidate with `--set`, then `gdlt` beside it; or baselines added later to a held-out
run), this writes the table over all of them with the benchmark's own code (collect, summarise, worlds_table).

    python benchmarks/worlds_tables.py BENCH lmac_ensemble,gdlt,concat,lmac benchmarks/results/worlds/NAME [--spent]
        [--per-score] [--worlds W1,W2]

`--worlds`: only these worlds' runs, or one score of a Fis-V world (`entries_pcs`): a baseline run on part of a round
gets a table of its own.
`--spent`: the held-out worlds were spent before some or all of these runs (a rerun, or a model added after the
round was run once), and the table says so instead of "generated and run once".
`--per-score`: a second verdict table follows, with one column per task (a Fis-V world's TES and PCS each alone).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from lmac.evaluation.benchmark import collect, summarise, worlds_table

ONCE = "(generated and run once, after the model and recipe were fixed)"
SPENT = ("(spent: some or all of these runs came after the round was run once, on the same generated data; a "
         "diagnostic, nothing chosen on it; benchmarks/results/worlds/README.md)")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("bench", type=Path)
    p.add_argument("models", help="comma-separated; the first is the reference")
    p.add_argument("dest", help="output path without extension: DEST.md and DEST.csv are written")
    p.add_argument("--resamples", type=int, default=1000)
    p.add_argument("--spent", action="store_true",
                   help="the held-out worlds were spent before some or all of these runs: the table says so")
    p.add_argument("--per-score", action="store_true",
                   help="add the verdict table per task (each of a Fis-V world's TES and PCS alone)")
    p.add_argument("--worlds", help="comma-separated: only these worlds' runs, or a Fis-V world's one score "
                                    "(entries_pcs); default: every world in BENCH")
    args = p.parse_args(argv)
    models = args.models.split(",")
    results = [r for r in collect(args.bench) if r["model"] in models]
    if args.worlds:
        worlds = args.worlds.split(",")
        results = [r for r in results if any(r["task"] == f"world_{w}" or r["task"].startswith(f"world_{w}_")
                                             for w in worlds)]
    if not results:
        p.error(f"no finished run of {models} in {args.bench}/runs" + (f" for --worlds {args.worlds}" if args.worlds else ""))
    md = worlds_table(args.bench, results, models, models[0], args.resamples)
    if args.per_score:
        md += "\n" + worlds_table(args.bench, results, models, models[0], args.resamples, by_task=True)
    if args.spent:
        if ONCE not in md:
            p.error("--spent: the table names no held-out world (or its wording changed in lmac.evaluation.benchmark)")
        md = md.replace(ONCE, SPENT)
    md2, csv, _ = summarise(results, models)
    Path(args.dest + ".md").write_text(md + "\n" + md2)
    Path(args.dest + ".csv").write_text(csv)
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
