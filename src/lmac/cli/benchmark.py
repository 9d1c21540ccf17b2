"""`lmac benchmark`: every (task, model, seed) of a suite, and the paper-style table."""
from __future__ import annotations


def register(sub):
    from lmac.cli.train import add_train_options

    p = sub.add_parser("benchmark", help="train every (task, model, seed) of a suite and write results.md/csv")
    p.add_argument("--suite", choices=["synth", "rg", "fisv"], required=True)
    p.add_argument("--models", default="lmac,concat,lmac_rgb", help="comma-separated registry names")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--tasks", help="subset of the suite's tasks, comma-separated")
    p.add_argument("--out", required=True)
    add_train_options(p, for_benchmark=True)
    p.set_defaults(func=run)


def run(args) -> int:
    from lmac.cli.train import config_from_args
    from lmac.evaluation.benchmark import collect, run_benchmark, write_results

    cfg = config_from_args(args)
    if not cfg.features:
        raise ValueError("--features is required (for the synth suite: the features/ folder written by lmac synth)")
    models = args.models.split(",")
    seeds = [int(s) for s in args.seeds.split(",")]
    tasks = args.tasks.split(",") if args.tasks else None
    run_benchmark(cfg, args.suite, models, seeds, args.out, tasks=tasks)
    md = write_results(args.out, [r for r in collect(args.out) if r["model"] in models and r["seed"] in seeds], models)
    print(md)
    print(f"wrote {args.out}/results.md and results.csv")
    return 0
