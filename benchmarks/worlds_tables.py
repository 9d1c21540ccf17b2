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
`--add OTHER:MODEL=NAME` (repeatable): MODEL's runs from another benchmark folder of the same worlds and draws (its
data generated again from the same seeds), in the table as NAME: e.g. the previous default, trained with other
options under the same registry name. Each of its runs must have been tested on the same videos with the same labels.
"""
from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from lmac.evaluation.benchmark import collect, job_dir, summarise, worlds_table

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
    p.add_argument("--add", action="append", default=[], metavar="OTHER:MODEL=NAME",
                   help="MODEL's runs from benchmark folder OTHER (the same worlds and draws), in the table as NAME")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        return _tables(p, args, tmp)


def _added(p, bench: Path, spec: str, view: Path, taken: set[str]) -> list[dict]:
    """The runs named by one `--add OTHER:MODEL=NAME`, as runs of NAME linked into `view`, after checking that each
    was tested on the videos and labels of the same (task, seed) in `bench`. `taken`: the model names `bench` has."""
    from lmac.evaluation.bootstrap import COLUMN, read_predictions

    try:
        other, rest = spec.rsplit(":", 1)
        model, name = rest.split("=")
    except ValueError:
        p.error(f"--add takes OTHER:MODEL=NAME, got {spec!r}")
    if name in taken:
        p.error(f"--add {spec}: {bench} has runs of a model named {name}; choose another name")
    out = []
    for r in collect(other):
        if r["model"] != model:
            continue
        there = job_dir(other, r["task"], model, r["seed"])
        here = next(iter(sorted(Path(bench, "runs").glob(f"{r['task']}-*-s{r['seed']}/predictions.csv"))), None)
        if here is None:
            p.error(f"--add {spec}: {bench} has no run of {r['task']} seed {r['seed']} to check its videos against")
        here = here.parent
        a, b = (read_predictions(d / "predictions.csv", COLUMN["last"]) for d in (here, there))
        if set(a) != set(b) or any(a[v][0] != b[v][0] for v in a):
            p.error(f"--add {spec}: {there} was tested on other videos or labels than {here} (not the same draw)")
        os.symlink(there.resolve(), job_dir(view, r["task"], name, r["seed"]))
        out.append({**r, "model": name})
    if not out:
        p.error(f"--add {spec}: no finished run of {model} in {other}/runs")
    return out


def _tables(p, args, tmp: str) -> int:
    models = args.models.split(",")
    every = collect(args.bench)
    results = [r for r in every if r["model"] in models]
    if args.add:  # a view of both folders' runs, the added ones under their new names
        view = Path(tmp)
        (view / "runs").mkdir()
        for r in results:
            os.symlink(job_dir(args.bench, r["task"], r["model"], r["seed"]).resolve(),
                       job_dir(view, r["task"], r["model"], r["seed"]))
        for spec in args.add:
            added = _added(p, args.bench, spec, view, {r["model"] for r in every})
            results += added
            models.append(added[0]["model"])
        args.bench = view
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
