"""`lmac benchmark`: every (task, model, seed) of a suite, and the paper-style table."""
from __future__ import annotations


def register(sub):
    from lmac.cli.train import add_train_options

    p = sub.add_parser("benchmark", help="train every (task, model, seed) of a suite and write results.md/csv",
                       description="Train every (task, model, seed) of a suite and write results.md/csv. Under "
                       "torchrun (torchrun --nproc-per-node N -m lmac benchmark ...) the jobs are spread over "
                       "the ranks; rank 0 writes the tables. See docs/scaling.md.")
    p.add_argument("--suite", choices=["synth", "rg", "fisv"], required=True)
    p.add_argument("--models", default="lmac,concat,lmac_rgb", help="comma-separated registry names")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--tasks", help="subset of the suite's tasks, comma-separated")
    p.add_argument("--out", required=True)
    add_train_options(p, for_benchmark=True)
    p.set_defaults(func=run)


def run(args) -> int:
    import dataclasses

    from lmac.cli.train import config_from_args
    from lmac.distributed import LONG_TIMEOUT, process_group
    from lmac.evaluation.benchmark import collect, gather_results, run_benchmark, write_results

    cfg = config_from_args(args)
    if not cfg.features:
        raise ValueError("--features is required (for the synth suite: the features/ folder written by lmac synth)")
    models = args.models.split(",")
    seeds = [int(s) for s in args.seeds.split(",")]
    tasks = args.tasks.split(",") if args.tasks else None
    # Under torchrun the ranks share the jobs (job j goes to rank j % world), each training its
    # jobs alone; rank 0 waits for all of them, then writes the tables.
    with process_group(device=cfg.device, backend="gloo", timeout=LONG_TIMEOUT) as d:
        log = print
        if d.enabled:
            log = lambda msg: print(f"[rank {d.rank}] {msg}", flush=True)  # noqa: E731
            if not d.is_main:
                cfg = dataclasses.replace(cfg, progress=False)
        mine = run_benchmark(cfg, args.suite, models, seeds, args.out, tasks=tasks, log=log, shard=(d.rank, d.world))
        everyone = gather_results(mine)
    if not d.is_main:
        return 0
    found = {(r["task"], r["model"], r["seed"]): r for r in collect(args.out) + everyone}
    md = write_results(args.out, [r for r in found.values() if r["model"] in models and r["seed"] in seeds], models)
    print(md)
    print(f"wrote {args.out}/results.md and results.csv")
    return 0
