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
parameters) on the same gradients. `--compare-dropout` profiles each model with torch's dropout masks (`FastDropout.enabled = False`) and with lmac's
(models/dropout.py), their training steps alternating, so both see the machine in the same state.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

import torch

from demo_floor import matmul_gflops, step_flops
from lmac.cli.demo import DEMO_MODELS
from lmac.cli.synth import SMALL_DIMS, parse_dims
from lmac.config import TrainConfig
from lmac.models import create_model
from lmac.models.dropout import FastDropout
from lmac.training.trainer import _optimizer
from lmac.utils import cpu_model

MATMUL = {"aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm", "aten::matmul", "aten::_mkldnn_matmul"}
RNG = {"aten::bernoulli_", "aten::uniform_", "aten::normal_", "aten::random_", "aten::rand_like", "aten::rand"}


def batch(dims, B, T):
    g = torch.Generator().manual_seed(0)
    feats = {m: torch.randn(B, T, D, generator=g) for m, D in dims.items()}
    mask = torch.ones(B, T, dtype=torch.bool)
    mask[::3, T - 10:] = False  # a third of the videos shorter, as a batch of the demo's data
    return feats, mask, torch.rand(B, generator=g)


class Setup:
    """One model, its optimizer as `lmac train` makes it (fused AdamW) and one batch; `fast` picks the dropout masks."""

    def __init__(self, name, dims, B, T, fast: bool):
        torch.manual_seed(0)
        self.fast = fast
        self.model = create_model(name, dims).train()
        self.opt = _optimizer(self.model, TrainConfig(weight_decay=1e-4), 1e-4)
        self.feats, self.mask, self.y = batch(dims, B, T)

    def loss(self):
        FastDropout.enabled = self.fast
        return self.model.compute_loss(self.model(self.feats, self.mask), self.y, self.mask)["total"]

    def timed_step(self):
        self.opt.zero_grad(set_to_none=True)
        t0 = time.perf_counter()
        loss = self.loss()
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        self.opt.step()
        return t1 - t0, t2 - t1, time.perf_counter() - t2


def profile_model(name, dims, B, T, repeats, modes=(True,)):
    """One row per dropout mode (True: lmac's masks, False: torch's). The modes' steps alternate, so a burst of
    load on the machine hits both alike; medians over `repeats` steps each."""
    setups = [Setup(name, dims, B, T, fast) for fast in modes]
    for s in setups:
        for _ in range(3):  # warm-up: allocator, oneDNN primitives
            s.timed_step()
    times = {s.fast: [] for s in setups}
    for _ in range(repeats):
        for s in setups:
            times[s.fast].append(s.timed_step())
    s0 = setups[0]
    looped = torch.optim.AdamW(s0.model.parameters(), lr=1e-4, foreach=False, fused=False)  # torch's CPU default
    t_loop = []
    for _ in range(3 + repeats):
        t0 = time.perf_counter()
        looped.step()
        t_loop.append(time.perf_counter() - t0)
    flops = step_flops(s0.model, dims, B, T, train=True)  # padding is computed too: the mask does not change it
    med = statistics.median
    rows = []
    for s in setups:
        s.opt.zero_grad(set_to_none=True)
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
            for _ in range(3):
                s.loss().backward()
        self_us = {e.key: e.self_cpu_time_total for e in prof.key_averages()}
        total = sum(self_us.values())
        mm = sum(v for k, v in self_us.items() if k in MATMUL)
        rng = sum(v for k, v in self_us.items() if k in RNG)
        t_f, t_b, t_o = (med(x) for x in zip(*times[s.fast]))
        rows.append({
            "model": name, "dropout": "lmac" if s.fast else "torch",
            "forward_ms": 1e3 * t_f, "backward_ms": 1e3 * t_b, "optimizer_ms": 1e3 * t_o,
            "optimizer_ms_torch_loop": 1e3 * med(t_loop[3:]),
            "step_ms": 1e3 * (t_f + t_b + t_o), "gflop_per_step": flops / 1e9,
            "share_matmul": mm / total, "share_dropout_rng": rng / total, "share_other": 1 - (mm + rng) / total,
            "matmul_gflops_in_kernels": flops / ((t_f + t_b) * mm / total) / 1e9 if mm else None,
            "top_ops": sorted(((k, v / total) for k, v in self_us.items()), key=lambda kv: -kv[1])[:8],
        })
    FastDropout.enabled = True
    return rows


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
        for r in profile_model(name, dims, B, args.T, args.repeats, (False, True) if args.compare_dropout else (True,)):
            r["floor_ms"] = 1e3 * r["gflop_per_step"] / peak
            rows.append(r)
            label = name + ("" if not args.compare_dropout else f" ({r['dropout']})")
            print(f"{label:22s} {r['step_ms']:8.1f} {r['floor_ms']:8.1f} {r['forward_ms']:6.1f} {r['backward_ms']:6.1f} "
                  f"{r['optimizer_ms']:6.1f} {r['optimizer_ms_torch_loop']:6.1f} | {r['share_matmul']:6.0%} "
                  f"{r['share_dropout_rng']:11.0%} {r['share_other']:6.0%} | {r['matmul_gflops_in_kernels'] or 0:.0f}",
                  flush=True)
    FastDropout.enabled = True
    res = {"command": "python benchmarks/train_profile.py " + " ".join(argv if argv is not None else os.sys.argv[1:]),
           "torch": torch.__version__, "python": platform.python_version(), "cpu": cpu_model(), "cpu_count": os.cpu_count(),
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
