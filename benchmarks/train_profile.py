"""Where a training step spends its time at the demo's dims, against its FLOP floor.

Each demo job is a one-thread process, so this runs one thread. Per model (built as `lmac demo` builds it, at
the demo's dims, a batch of 32 padded to T = 76): the time of the forward pass with its loss, of the backward
pass and of the AdamW step (best of --repeats, median), the step's FLOPs (torch.utils.flop_counter) and so its
floor at this CPU's one-thread matmul rate, and, from the torch profiler's self time of the forward and backward
passes, the share spent in matrix products, in drawing dropout masks (the random number generator) and in
everything else (elementwise ops, softmax, norms, autograd's bookkeeping).

    python benchmarks/train_profile.py --out benchmarks/results/train_profile_epyc.json
    python benchmarks/train_profile.py --compare-dropout ...   # each model with torch's dropout and with lmac's

The AdamW step is `lmac train`'s (fused); `optimizer_ms_torch_loop` times torch's CPU default (a loop over the
parameters) on the same gradients. `--compare-dropout` profiles each model twice, one after the other: with torch's dropout masks
(`FastDropout.enabled = False`) and with lmac's (models/dropout.py), so both see the machine in the same state.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from demo_floor import matmul_gflops
from lmac.cli.demo import DEMO_MODELS
from lmac.cli.synth import SMALL_DIMS, parse_dims
from lmac.config import TrainConfig
from lmac.models import create_model
from lmac.models.dropout import FastDropout
from lmac.training.trainer import _optimizer

MATMUL = {"aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm", "aten::matmul", "aten::_mkldnn_matmul"}
RNG = {"aten::bernoulli_", "aten::uniform_", "aten::normal_", "aten::random_", "aten::rand_like", "aten::rand"}


def batch(dims, B, T):
    g = torch.Generator().manual_seed(0)
    feats = {m: torch.randn(B, T, D, generator=g) for m, D in dims.items()}
    mask = torch.ones(B, T, dtype=torch.bool)
    mask[::3, T - 10:] = False  # a third of the videos shorter, as a batch of the demo's data
    return feats, mask, torch.rand(B, generator=g)


def profile_model(name, dims, B, T, repeats):
    torch.manual_seed(0)
    model = create_model(name, dims)
    opt = _optimizer(model, TrainConfig(), 1e-4)  # as `lmac train` makes it (fused AdamW)
    feats, mask, y = batch(dims, B, T)
    model.train()

    def fwd():
        return model.compute_loss(model(feats, mask), y, mask)["total"]

    for _ in range(3):  # warm-up: allocator, oneDNN primitives
        opt.zero_grad(set_to_none=True)
        fwd().backward()
        opt.step()
    t_f, t_b, t_o = [], [], []
    for _ in range(repeats):
        opt.zero_grad(set_to_none=True)
        t0 = time.perf_counter()
        loss = fwd()
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        opt.step()
        t3 = time.perf_counter()
        t_f.append(t1 - t0), t_b.append(t2 - t1), t_o.append(t3 - t2)
    looped = torch.optim.AdamW(model.parameters(), lr=1e-4, foreach=False, fused=False)  # torch's CPU default
    t_loop = []
    for _ in range(3 + repeats):
        t0 = time.perf_counter()
        looped.step()
        t_loop.append(time.perf_counter() - t0)
    opt.zero_grad(set_to_none=True)
    with FlopCounterMode(display=False) as fc:
        fwd().backward()
    flops = fc.get_total_flops()
    opt.zero_grad(set_to_none=True)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        for _ in range(3):
            fwd().backward()
    self_us = {e.key: e.self_cpu_time_total for e in prof.key_averages()}
    total = sum(self_us.values())
    mm = sum(v for k, v in self_us.items() if k in MATMUL)
    rng = sum(v for k, v in self_us.items() if k in RNG)
    med = statistics.median
    fb_s = med(t_f) + med(t_b)
    return {
        "model": name, "forward_ms": 1e3 * med(t_f), "backward_ms": 1e3 * med(t_b), "optimizer_ms": 1e3 * med(t_o),
        "optimizer_ms_torch_loop": 1e3 * med(t_loop[3:]),
        "step_ms": 1e3 * (fb_s + med(t_o)), "gflop_per_step": flops / 1e9,
        "share_matmul": mm / total, "share_dropout_rng": rng / total, "share_other": 1 - (mm + rng) / total,
        "matmul_gflops_in_kernels": flops / (fb_s * mm / total) / 1e9 if mm else None,
        "top_ops": sorted(((k, v / total) for k, v in self_us.items()), key=lambda kv: -kv[1])[:8],
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=DEMO_MODELS)
    ap.add_argument("--dims", default=SMALL_DIMS)
    ap.add_argument("--T", type=int, default=76)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (the demo's jobs use one each)")
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--compare-dropout", action="store_true", help="each model with torch's dropout, then lmac's")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    dims, B = parse_dims(args.dims), TrainConfig().batch_size
    peak = matmul_gflops(args.threads)
    torch.set_num_threads(args.threads)
    rows = []
    print(f"{args.threads} thread(s), dims {dims}, batch {B} x T {args.T}; matmul {peak:.0f} GFLOP/s")
    print(f"{'model':22s} {'step ms':>8s} {'floor ms':>8s} {'fwd':>6s} {'bwd':>6s} {'adamw':>6s} {'(loop)':>6s} | "
          f"{'matmul':>6s} {'dropout rng':>11s} {'other':>6s} | GFLOP/s in matmul")
    for name in [m.strip() for m in args.models.split(",") if m.strip()]:
        for fast in ((False, True) if args.compare_dropout else (True,)):
            FastDropout.enabled = fast
            r = profile_model(name, dims, B, args.T, args.repeats)
            r["dropout"] = "lmac" if fast else "torch"
            r["floor_ms"] = 1e3 * r["gflop_per_step"] / peak
            rows.append(r)
            label = name + ("" if not args.compare_dropout else f" ({r['dropout']})")
            print(f"{label:22s} {r['step_ms']:8.1f} {r['floor_ms']:8.1f} {r['forward_ms']:6.1f} {r['backward_ms']:6.1f} "
                  f"{r['optimizer_ms']:6.1f} {r['optimizer_ms_torch_loop']:6.1f} | {r['share_matmul']:6.0%} {r['share_dropout_rng']:11.0%} "
                  f"{r['share_other']:6.0%} | {r['matmul_gflops_in_kernels'] or 0:.0f}", flush=True)
    FastDropout.enabled = True
    res = {"command": "python benchmarks/train_profile.py " + " ".join(argv if argv is not None else os.sys.argv[1:]),
           "torch": torch.__version__, "python": platform.python_version(), "cpu_count": os.cpu_count(),
           "threads": args.threads, "dims": dims, "batch": B, "T": args.T, "matmul_gflops": peak,
           "load_avg_1min": os.getloadavg()[0], "models": rows,
           "note": "shares are of the forward and backward passes' profiled self CPU time; the AdamW step is timed apart"}
    if args.out:
        tmp = args.out + ".tmp"
        with open(tmp, "w") as f:
            json.dump(res, f, indent=1)
        os.replace(tmp, args.out)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
