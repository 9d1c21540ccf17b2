"""`lmac demo`: the main job on the embedded default data.

Generates the synthetic benchmark (small feature dims so it runs on a laptop CPU), trains
LMAC-Net and key baselines on its four classes, and prints the paper-style table.
"""
from __future__ import annotations

from lmac.cli.synth import SMALL_DIMS

# the default model (what `lmac train` builds), the paper's LMAC-Net, our aligned variant, the concatenation
# baseline and the RGB-only GDLT
DEMO_MODELS = "lmac_ensemble,lmac,lmac_aligned,concat,gdlt"


def register(sub):
    p = sub.add_parser("demo", help="synthetic benchmark end to end: generate, train, print the table")
    p.add_argument("--out", default="demo_out", help="output folder (default demo_out)")
    p.add_argument("--models", default=DEMO_MODELS)
    p.add_argument("--seeds", default="0")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--dims", default=SMALL_DIMS, help=f"synthetic feature dims RGB,FLOW,AUDIO (default {SMALL_DIMS})")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--jobs", default="auto", help="runs trained at once, each in its own process (default auto: "
                   "one per CPU core on a CPU, 1 on a GPU)")
    p.set_defaults(func=run)


def run(args) -> int:
    import time
    from pathlib import Path

    from lmac.cli.synth import parse_dims
    from lmac.config import TrainConfig
    from lmac.cli.benchmark import parse_jobs, parse_models_and_seeds
    from lmac.data.synthetic import SynthConfig, ensure_generated
    from lmac.data.tasks import SUITES
    from lmac.evaluation.benchmark import collect, run_benchmark_parallel, write_results

    t0 = time.time()
    out = Path(args.out)
    data = out / "synth"
    synth = SynthConfig(dims=parse_dims(args.dims))
    models, seeds = parse_models_and_seeds(args.models, args.seeds)  # before minutes of data generation
    jobs = parse_jobs(args.jobs, args.device, len(models) * len(seeds) * len(SUITES["synth"]))
    ensure_generated(data, synth, progress=True)
    base = TrainConfig(features=str(data / "features"), labels=str(data), epochs=args.epochs, device=args.device,
                       progress=True)
    run_benchmark_parallel(base, "synth", models, seeds, out, jobs, log=lambda m: None)
    md = write_results(out, [r for r in collect(out) if r["model"] in models and r["seed"] in seeds], models)
    print(f"\nSynthetic benchmark ({len(synth.classes)} classes, {synth.n_train} train / {synth.n_test} test videos each; "
          "see docs/synthetic.md)\n")
    print(md)
    print(f"One draw of the data ({synth.n_test} test videos per class) and one seed: differences of a few hundredths here\n"
          "are within sampling error. To compare models: lmac benchmark --suite synth --seeds 1,2,3 --synth-test 200 (README).")
    print(f"runs, results.md and results.csv in {out}/ ({time.time() - t0:.0f} s)")
    return 0
