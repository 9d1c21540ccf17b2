"""`lmac benchmark`: every (task, model, seed) of a suite, and the paper-style table."""
from __future__ import annotations


def register(sub):
    from lmac.cli.synth import SMALL_DIMS
    from lmac.cli.train import add_train_options

    p = sub.add_parser("benchmark", help="train every (task, model, seed) of a suite and write results.md/csv",
                       description="Train every (task, model, seed) of a suite and write results.md/csv. Under "
                       "torchrun (torchrun --nproc-per-node N -m lmac benchmark ...) the jobs are spread over "
                       "the ranks; rank 0 writes the tables. See docs/scaling.md.")
    from lmac.data.tasks import SUITES

    p.add_argument("--suite", choices=list(SUITES), required=True)
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
    w = p.add_argument_group("worlds suite: independent synthetic worlds (docs/worlds.md), a fresh draw per seed",
                             "seed s draws each world anew in OUT/data/WORLD/seed{s} and trains with seed s")
    from lmac.data.worlds import DEV_WORLDS, HELD_OUT_WORLDS

    w.add_argument("--worlds", help=f"comma-separated (default: the development worlds {','.join(DEV_WORLDS)})")
    w.add_argument("--held-out", action="store_true",
                   help=f"allow the held-out worlds ({', '.join(HELD_OUT_WORLDS)}) in --worlds: run each once, after "
                   "the model is fixed (docs/worlds.md says which are spent)")
    w.add_argument("--world-train", type=int, default=200, help="training videos per world (default 200)")
    w.add_argument("--world-test", type=int, default=200, help="test videos per world (default 200)")
    w.add_argument("--reference", help="the model the worlds table compares against the others (default: the first of --models)")
    w.add_argument("--resamples", type=int, default=1000, help="paired-bootstrap resamples (default 1000)")
    p.add_argument("--jobs", default="1", help="train this many jobs at once, each in its own process with its "
                   "share of the torch threads (auto: one per CPU core, 1 on a GPU); under torchrun the ranks "
                   "share the jobs instead")
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


def parse_jobs(value: str, device: str, n_jobs: int) -> int:
    """--jobs: a positive number, or auto (lmac.evaluation.benchmark.auto_jobs)."""
    from lmac.evaluation.benchmark import auto_jobs

    if str(value) == "auto":
        return auto_jobs(device, n_jobs)
    try:
        jobs = int(value)
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise ValueError(f"--jobs takes a positive number or auto, got {value!r}")
    return min(jobs, max(1, n_jobs))


def run(args) -> int:
    import dataclasses

    from lmac.cli.train import config_from_args
    from lmac.distributed import LONG_TIMEOUT, process_group
    from lmac.data.tasks import SUITES
    from lmac.evaluation.benchmark import (collect, gather_results, run_benchmark, run_benchmark_parallel,
                                           write_results)

    cfg = config_from_args(args)
    worlds = _worlds(args) if args.suite == "worlds" else None
    if worlds and cfg.features:
        raise ValueError("--suite worlds generates its own data: drop --features/--labels")
    fresh_data = args.suite == "synth" and not cfg.features
    if not cfg.features and not fresh_data and not worlds:
        raise ValueError(f"--features is required for the {args.suite} suite (and --labels: the folder of its label files)")
    if fresh_data and cfg.labels:
        raise ValueError("--labels without --features: give both to train on one dataset, or neither for fresh synthetic data per seed")
    models, seeds = parse_models_and_seeds(args.models, args.seeds)
    tasks = args.tasks.split(",") if args.tasks else None
    if worlds:
        from lmac.data.worlds import world_tasks

        tasks = [t for w in worlds for t in world_tasks(w, multi=tasks is not None) if tasks is None or t in tasks]
        if not tasks:
            raise ValueError("--tasks names none of the chosen worlds' tasks")
        reference = args.reference or models[0]
        if reference not in models:
            raise ValueError(f"--reference {reference} is not one of --models")
    jobs = parse_jobs(args.jobs, cfg.device, len(models) * len(seeds) * len(tasks or SUITES[args.suite]))
    # Under torchrun the ranks share the jobs (job j goes to rank j % world), each training its
    # jobs alone; rank 0 waits for all of them, then writes the tables.
    with process_group(device=cfg.device, backend="gloo", timeout=LONG_TIMEOUT) as d:
        log = print
        if d.enabled:
            log = lambda msg: print(f"[rank {d.rank}] {msg}", flush=True)  # noqa: E731
            if not d.is_main:
                cfg = dataclasses.replace(cfg, progress=False)
        if d.enabled and jobs > 1:
            raise ValueError("--jobs under torchrun: the ranks already share the jobs; use one or the other")
        data_for = None
        if fresh_data:
            data_for = _fresh_synth_data(args, seeds, d)
        elif worlds:
            data_for = _world_data(args, worlds, seeds, d)
        if jobs > 1:
            mine = run_benchmark_parallel(cfg, args.suite, models, seeds, args.out, jobs, tasks=tasks, log=log,
                                          data_for=data_for)
        else:
            mine = run_benchmark(cfg, args.suite, models, seeds, args.out, tasks=tasks, log=log,
                                 shard=(d.rank, d.world), data_for=data_for)
        everyone = gather_results(mine)
    if not d.is_main:
        return 0
    found = {(r["task"], r["model"], r["seed"]): r for r in collect(args.out) + everyone}
    chosen = [r for r in found.values() if r["model"] in models and r["seed"] in seeds and (tasks is None or r["task"] in tasks)]
    md = write_results(args.out, chosen, models)
    if worlds:
        from lmac.evaluation.benchmark import worlds_table
        from lmac.utils import atomic_write_text

        md = worlds_table(args.out, chosen, models, reference, args.resamples) + "\n" + md
        atomic_write_text(f"{args.out}/results.md", md)
    print(md)
    print(f"wrote {args.out}/results.md and results.csv")
    return 0


def _synth_folder(out, task: str, seed: int):
    from pathlib import Path

    return Path(out) / "data" / f"seed{seed}"


def _world_folder(out, task: str, seed: int):
    from pathlib import Path

    from lmac.evaluation.benchmark import world_of

    return Path(out) / "data" / world_of(task) / f"seed{seed}"


def _fresh_synth_data(args, seeds, d):
    """Rank 0 generates (or checks) one synthetic dataset per seed; the other ranks wait for it."""
    import functools

    from lmac.cli.synth import parse_dims
    from lmac.data.synthetic import SynthConfig, ensure_generated
    from lmac.distributed import all_gather_objects

    folder = functools.partial(_synth_folder, args.out)  # picklable: --jobs workers get it
    if d.is_main:
        for s in seeds:
            cfg = SynthConfig(seed=s, n_train=args.synth_train, n_test=args.synth_test, dims=parse_dims(args.synth_dims))
            ensure_generated(folder(None, s), cfg)
    all_gather_objects(None)  # a barrier: no rank reads a dataset before it is complete
    return folder


def _worlds(args) -> list[str]:
    from lmac.data.worlds import DEV_WORLDS, WORLDS

    names = [w.strip() for w in args.worlds.split(",") if w.strip()] if args.worlds else list(DEV_WORLDS)
    for w in names:
        if w not in WORLDS:
            raise ValueError(f"--worlds: unknown world {w!r}; valid: {', '.join(WORLDS)}")
        if WORLDS[w].held_out and not args.held_out:
            raise ValueError(f"--worlds: {w} is a held-out world; it is run once, after the model and recipe are "
                             "fixed: add --held-out to run it")
    return names


def _world_data(args, worlds, seeds, d):
    """Rank 0 generates (or checks) each world's draw per seed; the other ranks wait for it."""
    import functools
    from pathlib import Path

    from lmac.data.worlds import ensure_world, world_config

    folder = functools.partial(_world_folder, args.out)  # picklable: --jobs workers get it
    if d.is_main:
        for w in worlds:
            for s in seeds:
                ensure_world(Path(args.out) / "data" / w / f"seed{s}",
                             world_config(w, seed=s, n_train=args.world_train, n_test=args.world_test))
    from lmac.distributed import all_gather_objects

    all_gather_objects(None)  # a barrier: no rank reads a draw before it is complete
    return folder
