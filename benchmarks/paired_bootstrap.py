"""How sure is "model A beats model B"? A paired bootstrap over the test videos of a benchmark.

For each seed of a `lmac benchmark` folder, resamples each class's test videos with replacement
(the same resample for both models, so what the two share -- which videos are hard -- cancels)
and recomputes the Fisher-z average of Spearman's rho for A and for B. Prints, per seed, the
difference A - B on the real test set and its standard error over resamples. The error says how
much of a difference one draw of test videos can produce by itself: on RG's 50 test videos per
class it is several hundredths, which a 3-seed mean on one dataset does not average away.

    python benchmarks/paired_bootstrap.py BENCH_DIR MODEL_A MODEL_B [--seeds 1,2,3]
        [--protocol last|val|best] [--resamples 1000] [--out FILE.json]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from lmac.evaluation.benchmark import collect, job_dir
from lmac.evaluation.bootstrap import COLUMN, paired_arrays
from lmac.evaluation.bootstrap import paired_bootstrap as bootstrap
from lmac.utils import atomic_write_json


def paired_bootstrap(bench: Path, a: str, b: str, seed: int, column: str, resamples: int, rng) -> dict:
    tasks = sorted({r["task"] for r in collect(bench) if r["model"] == a and r["seed"] == seed})
    if not tasks:
        raise FileNotFoundError(f"{bench}/runs: no finished runs of {a} with seed {seed}")
    per_task = [paired_arrays(job_dir(bench, t, a, seed), job_dir(bench, t, b, seed), column) for t in tasks]
    return {"seed": seed, "tasks": tasks, **bootstrap(per_task, resamples, rng)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("bench", type=Path)
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--seeds", help="default: every seed of model A in the folder")
    p.add_argument("--protocol", choices=list(COLUMN), default="last")
    p.add_argument("--resamples", type=int, default=1000)
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    if args.seeds:
        seeds = [int(s) for s in args.seeds.split(",")]
    else:
        seeds = sorted({r["seed"] for r in collect(args.bench) if r["model"] == args.a})
    rng = np.random.default_rng(0)
    rows = [paired_bootstrap(args.bench, args.a, args.b, s, COLUMN[args.protocol], args.resamples, rng) for s in seeds]
    print(f"{args.a} - {args.b}, Fisher-z average of Spearman rho ({args.protocol} epoch / checkpoint), "
          f"paired bootstrap over test videos ({args.resamples} resamples)")
    for r in rows:
        print(f"  seed {r['seed']}: {r['rho_a']:.3f} - {r['rho_b']:.3f} = {r['diff']:+.3f} ± {r['diff_se']:.3f} "
              f"(test videos per class {r['test_videos']})")
    diffs = [r["diff"] for r in rows]
    print(f"  mean over {len(rows)} seed(s): {np.mean(diffs):+.3f}; seeds with A ahead: {sum(d > 0 for d in diffs)}/{len(rows)}")
    if args.out:
        atomic_write_json(args.out, {"a": args.a, "b": args.b, "protocol": args.protocol, "seeds": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
