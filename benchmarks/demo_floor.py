"""The FLOP floor of `make demo`: how fast could it be on this CPU if every run were pure matrix arithmetic?

`lmac demo` trains each demo model on each synthetic class (30 epochs, batch 32, 160 training videos after the 20%
validation split, segments 66-76 per video) and scores the validation (40) and test (50) videos after every
epoch. This script counts those FLOPs with torch.utils.flop_counter on the models `lmac demo` builds, at the
demo's dims, with every batch padded to T = 76 (a batch of 32 draws almost always holds a 76-segment video;
so the count is an upper bound within about 2%), and divides them by what this CPU does in an fp32 matmul:
one thread's rate times the demo's job processes (one one-thread process per core). The demo cannot be faster
than that with its current content; the measured demo time over the floor says how much of the time is
overhead.

    python benchmarks/demo_floor.py --out benchmarks/results/demo_floor_epyc.json [--demo-seconds 592]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform

import torch
from torch.utils.flop_counter import FlopCounterMode

from lmac.cli.demo import DEMO_MODELS
from lmac.cli.synth import SMALL_DIMS, parse_dims
from lmac.data.synthetic import SynthConfig
from lmac.data.tasks import SUITES
from lmac.config import TrainConfig
from lmac.models import create_model
from lmac.utils import cpu_model


def step_flops(model, dims, B, T, train: bool) -> int:
    g = torch.Generator().manual_seed(0)
    feats = {m: torch.randn(B, T, D, generator=g) for m, D in dims.items()}
    mask = torch.ones(B, T, dtype=torch.bool)
    model.train(train)
    with FlopCounterMode(display=False) as fc:
        if train:
            out = model(feats, mask)
            model.compute_loss(out, torch.rand(B), mask)["total"].backward()
        else:  # eval mode; autograd on, which FlopCounterMode's module tracker needs (the per-modality path:
            model(feats, mask)  # scoring's stacked path adds only the narrower modalities' zero padding)
    model.zero_grad(set_to_none=True)
    return int(fc.get_total_flops())


def matmul_gflops(threads: int, n: int = 1024, repeats: int = 20) -> float:
    import time

    torch.set_num_threads(threads)
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    best = math.inf
    for _ in range(3):  # best of three: the machine's rate when nothing else runs
        t0 = time.perf_counter()
        for _ in range(repeats):
            a @ b
        best = min(best, time.perf_counter() - t0)
    return 2 * n ** 3 * repeats / best / 1e9


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=DEMO_MODELS)
    ap.add_argument("--dims", default=SMALL_DIMS)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--T", type=int, default=None, help="padded segments per batch (default the synthetic t_max)")
    ap.add_argument("--jobs", type=int, default=None, help="demo job processes (default: one per core, as the demo)")
    ap.add_argument("--demo-seconds", type=float, default=None, help="a measured `make demo` time, to compare")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)

    synth, cfg = SynthConfig(dims=parse_dims(args.dims)), TrainConfig()
    dims = dict(synth.dims) if isinstance(synth.dims, dict) else parse_dims(args.dims)
    T = args.T or synth.t_max
    n_val = round(synth.n_train * cfg.val_fraction)
    n_train, n_test = synth.n_train - n_val, synth.n_test
    steps = math.ceil(n_train / cfg.batch_size)
    classes = len(SUITES["synth"])
    jobs = args.jobs or len(os.sched_getaffinity(0))
    rows, total = [], 0
    for name in [m.strip() for m in args.models.split(",") if m.strip()]:
        torch.manual_seed(0)
        model = create_model(name, dims)
        train = step_flops(model, dims, cfg.batch_size, T, train=True)  # a full batch; the last is smaller
        last = step_flops(model, dims, n_train - (steps - 1) * cfg.batch_size, T, train=True)
        score = step_flops(model, dims, 1, T, train=False)  # per video
        per_run = args.epochs * ((steps - 1) * train + last + (n_val + n_test) * score)
        rows.append({"model": name, "train_gflop_per_batch": train / 1e9, "score_mflop_per_video": score / 1e6,
                     "tflop_per_run": per_run / 1e12})
        total += classes * per_run
        print(f"{name:14s} {train / 1e9:7.2f} GFLOP per training batch | {score / 1e6:7.1f} MFLOP to score a video | "
              f"{per_run / 1e12:6.2f} TFLOP per run", flush=True)
    one = matmul_gflops(1)
    peak = one * jobs
    floor_s = total / (peak * 1e9)
    res = {
        "command": "python benchmarks/demo_floor.py " + " ".join(argv if argv is not None else os.sys.argv[1:]),
        "torch": torch.__version__, "python": platform.python_version(), "cpu": cpu_model(), "cpu_count": os.cpu_count(), "jobs": jobs,
        "dims": dims, "T": T, "epochs": args.epochs, "classes": classes, "train_videos": n_train,
        "scored_videos_per_epoch": n_val + n_test, "runs": rows, "total_tflop": total / 1e12,
        "matmul_gflops_one_thread": one, "matmul_gflops_all_jobs": peak, "floor_s": floor_s,
        "load_avg_1min": os.getloadavg()[0],
    }
    print(f"demo: {len(rows)} models x {classes} classes = {total / 1e12:.1f} TFLOP; matmul {one:.0f} GFLOP/s per thread "
          f"x {jobs} jobs = {peak:.0f} GFLOP/s -> floor {floor_s:.0f} s ({floor_s / 60:.1f} min)")
    if args.demo_seconds:
        res["demo_seconds_measured"] = args.demo_seconds
        res["share_of_floor"] = floor_s / args.demo_seconds
        print(f"measured demo {args.demo_seconds:.0f} s: the floor is {floor_s / args.demo_seconds:.0%} of it")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(res, f, indent=1)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
