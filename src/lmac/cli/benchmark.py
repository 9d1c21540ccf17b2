"""`lmac benchmark`: every (task, model, seed) of a suite, and the paper-style table."""
from __future__ import annotations


def register(sub):
    from lmac.cli.synth import SMALL_DIMS
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
    g = p.add_argument_group("synth suite without --features: fresh data per seed",
                             "seed s generates its own dataset (lmac synth --seed s) in OUT/data/seed{s} and trains "
                             "with seed s, so the spread over seeds includes the draw of the data, not only of the training")
    g.add_argument("--synth-train", type=int, default=200, help="training videos per class (default 200, as RG)")
    g.add_argument("--synth-test", type=int, default=50, help="test videos per class (default 50, as RG; "
                   "more gives a sharper estimate: the standard error of rho on 50 videos is about 0.08)")
    g.add_argument("--synth-dims", default=SMALL_DIMS, help=f"feature dims RGB,FLOW,AUDIO (default {SMALL_DIMS}, as make demo)")
    add_train_options(p, for_benchmark=True)
    p.set_defaults(func=run)


def parse_models_and_seeds(models: str, seeds: str) -> tuple[list[str], list[int]]:
    """--models and --seeds checked before any data is generated or any job starts."""
    from lmac.models import MODELS

    names = [m.strip() for m in models.split(",") if m.strip()]
    for name in names:
        try:
            MODELS.get(name)
        except KeyError as e:
            raise ValueError(f"--models: {e.args[0]}") from None
    try:
        numbers = [int(s) for s in seeds.split(",")]
    except ValueError:
        raise ValueError(f"--seeds takes comma-separated integers, e.g. 0,1,2; got {seeds!r}") from None
    if not names or not numbers:
        raise ValueError("--models and --seeds must each name at least one")
    return names, numbers


def run(args) -> int:
    import dataclasses

    from lmac.cli.train import config_from_args
    from lmac.distributed import LONG_TIMEOUT, process_group
    from lmac.evaluation.benchmark import collect, gather_results, run_benchmark, write_results

    cfg = config_from_args(args)
    fresh_data = args.suite == "synth" and not cfg.features
    if not cfg.features and not fresh_data:
        raise ValueError(f"--features is required for the {args.suite} suite (and --labels: the folder of its label files)")
    if fresh_data and cfg.labels:
        raise ValueError("--labels without --features: give both to train on one dataset, or neither for fresh synthetic data per seed")
    models, seeds = parse_models_and_seeds(args.models, args.seeds)
    tasks = args.tasks.split(",") if args.tasks else None
    # Under torchrun the ranks share the jobs (job j goes to rank j % world), each training its
    # jobs alone; rank 0 waits for all of them, then writes the tables.
    with process_group(device=cfg.device, backend="gloo", timeout=LONG_TIMEOUT) as d:
        log = print
        if d.enabled:
            log = lambda msg: print(f"[rank {d.rank}] {msg}", flush=True)  # noqa: E731
            if not d.is_main:
                cfg = dataclasses.replace(cfg, progress=False)
        data_for_seed = None
        if fresh_data:
            data_for_seed = _fresh_synth_data(args, seeds, d)
        mine = run_benchmark(cfg, args.suite, models, seeds, args.out, tasks=tasks, log=log, shard=(d.rank, d.world),
                             data_for_seed=data_for_seed)
        everyone = gather_results(mine)
    if not d.is_main:
        return 0
    found = {(r["task"], r["model"], r["seed"]): r for r in collect(args.out) + everyone}
    md = write_results(args.out, [r for r in found.values() if r["model"] in models and r["seed"] in seeds], models)
    print(md)
    print(f"wrote {args.out}/results.md and results.csv")
    return 0


def _fresh_synth_data(args, seeds, d):
    """Rank 0 generates (or checks) one synthetic dataset per seed; the other ranks wait for it."""
    from pathlib import Path

    from lmac.cli.synth import parse_dims
    from lmac.data.synthetic import SynthConfig, ensure_generated
    from lmac.distributed import all_gather_objects

    def folder(seed: int) -> Path:
        return Path(args.out) / "data" / f"seed{seed}"

    if d.is_main:
        for s in seeds:
            cfg = SynthConfig(seed=s, n_train=args.synth_train, n_test=args.synth_test, dims=parse_dims(args.synth_dims))
            ensure_generated(folder(s), cfg)
    all_gather_objects(None)  # a barrier: no rank reads a dataset before it is complete
    return folder
