"""Speed and size of the models at the real feature dims (RGB 1024, flow 1024, audio 768; --dims for others).

For each model: parameters, FLOPs per video (torch.utils.flop_counter, one video, T=70 and T=130;
FLOPs = 2 x multiply-adds), inference latency per video (batch 1, eval, no_grad; median of
repeats) at T=70 and T=130, training throughput (videos/s; batch 32, T=70, forward + loss +
backward + AdamW step; its FLOPs per step and GFLOP/s, against the device's fp32 matmul rate measured at
start, `matmul_peak_gflops`) and peak memory (CUDA: max_memory_allocated per phase; CPU: the process's
peak resident set size, ru_maxrss, after each phase -- it only grows, so training's figure includes
everything before it; each model runs in a fresh process, and `rss_at_start_mb` is torch alone).

    python benchmarks/bench_model.py --device cpu --out benchmarks/results/bench_cpu.json
    python benchmarks/bench_model.py --models lmac,gdlt --threads 2

Not a timed test: figures depend on the machine; the JSON records torch version, device and threads.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from lmac.config import TrainConfig
from lmac.training.trainer import _optimizer
from lmac.models import MODELS, count_parameters, create_model
from lmac.utils import cpu_model

REAL_DIMS = {"rgb": 1024, "flow": 1024, "audio": 768}


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device is available")
    return torch.device(name)


def model_dims(name: str, dims: dict[str, int] = REAL_DIMS) -> dict[str, int]:
    wanted = MODELS.info(name).get("modalities")
    return dict(dims) if wanted is None else {m: dims[m] for m in wanted}


def parse_dims(text: str) -> dict[str, int]:
    rgb, flow, audio = (int(x) for x in text.split(","))
    return {"rgb": rgb, "flow": flow, "audio": audio}


def make_batch(dims, B, T, device, seed=0):
    g = torch.Generator().manual_seed(seed)
    feats = {m: torch.randn(B, T, D, generator=g).to(device) for m, D in dims.items()}
    mask = torch.ones(B, T, dtype=torch.bool, device=device)
    return feats, mask


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def rss_mb() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return r / (1024 * 1024) if sys.platform == "darwin" else r / 1024


def flops_per_video(model, dims, T) -> int:
    feats, mask = make_batch(dims, 1, T, torch.device("cpu"))
    model = model.cpu().eval()
    with FlopCounterMode(display=False) as fc:  # grad mode on: FlopCounterMode's module tracker needs it
        model(feats, mask)
    return int(fc.get_total_flops())


def train_flops_per_step(model, dims, batch, T) -> int:
    """FLOPs of one training step's forward, loss and backward (the optimiser's elementwise work not counted)."""
    feats, mask = make_batch(dims, batch, T, torch.device("cpu"))
    model = model.cpu().train()
    with FlopCounterMode(display=False) as fc:
        out = model(feats, mask)
        model.compute_loss(out, torch.rand(batch), mask)["total"].backward()
    model.zero_grad(set_to_none=True)
    return int(fc.get_total_flops())


def matmul_peak_gflops(device, n=1024, repeats=10) -> float:
    """What this device does in an fp32 (n x n) matmul with the current threads: the floor's yardstick."""
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    for _ in range(3):
        a @ b
    sync(device)
    t0 = time.perf_counter()
    for _ in range(repeats):
        a @ b
    sync(device)
    return 2 * n ** 3 * repeats / (time.perf_counter() - t0) / 1e9


def autocast(device, mode):
    """bf16: torch.autocast with bfloat16 (as `lmac train --precision bf16`); none: full fp32."""
    import contextlib

    return torch.autocast(device.type, dtype=torch.bfloat16) if mode == "bf16" else contextlib.nullcontext()


def latency_ms(model, dims, T, device, repeats, warmup, amp="none") -> dict:
    model.eval()
    feats, mask = make_batch(dims, 1, T, device)
    times = []
    with torch.no_grad(), autocast(device, amp):
        for i in range(warmup + repeats):
            sync(device)
            t0 = time.perf_counter()
            model(feats, mask)
            sync(device)
            if i >= warmup:
                times.append((time.perf_counter() - t0) * 1e3)
    return {"median_ms": statistics.median(times), "min_ms": min(times), "repeats": repeats}


def latency_ab_ms(model, dims, T, device, repeats, warmup, amp="none") -> dict | None:
    """LMAC-Net models: batch-1 latency with the stacked scoring path and with the per-modality modules (the
    decoders as training runs them), interleaved run by run so that both see the same machine load."""
    from lmac.models.lmac_net import LMACNet

    nets = [m for m in model.modules() if isinstance(m, LMACNet)]
    if not nets:
        return None
    model.eval()
    feats, mask = make_batch(dims, 1, T, device)
    times = {True: [], False: []}
    try:
        with torch.no_grad(), autocast(device, amp):
            for i in range(warmup + repeats):
                for stacked in (True, False):
                    for n in nets:
                        n.stacked_scoring = stacked
                    sync(device)
                    t0 = time.perf_counter()
                    model(feats, mask)
                    sync(device)
                    if i >= warmup:
                        times[stacked].append((time.perf_counter() - t0) * 1e3)
    finally:
        for n in nets:
            n.stacked_scoring = True
    return {name: {"median_ms": statistics.median(times[k]), "min_ms": min(times[k]), "repeats": repeats}
            for name, k in (("stacked", True), ("per_modality_modules", False))}


def train_throughput(model, dims, device, batch, T, steps, warmup, amp="none") -> float:
    model.train()
    opt = _optimizer(model, TrainConfig(weight_decay=1e-4), 1e-4)  # as `lmac train` makes it (fused AdamW)
    feats, mask = make_batch(dims, batch, T, device)
    target = torch.rand(batch, device=device)
    n_timed, elapsed = 0, 0.0
    for i in range(warmup + steps):
        sync(device)
        t0 = time.perf_counter()
        with autocast(device, amp):
            out = model(feats, mask)
            loss = model.compute_loss(out, target, mask)["total"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sync(device)
        if i >= warmup:
            elapsed += time.perf_counter() - t0
            n_timed += batch
    return n_timed / elapsed


def bench(name, device, args) -> dict:
    dims = model_dims(name, parse_dims(args.dims))
    torch.manual_seed(0)
    model = create_model(name, dims)
    res = {"model": name, "dims": dims, "params": count_parameters(model)}
    res["flops_per_video"] = {f"T{T}": flops_per_video(model, dims, T) for T in (70, 130)}
    res["train_flops_per_step"] = train_flops_per_step(model, dims, args.batch, 70)
    model.to(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    res["autocast"] = args.autocast
    res["latency_per_video"] = {f"T{T}": latency_ms(model, dims, T, device, args.repeats, args.warmup, args.autocast)
                                for T in (70, 130)}
    ab = {f"T{T}": latency_ab_ms(model, dims, T, device, args.repeats, args.warmup, args.autocast) for T in (70, 130)}
    if ab["T70"] is not None:  # LMAC-Net's decoders: scoring's batched path against the per-modality modules
        res["latency_stacked_vs_per_modality"] = ab
    mem = {}
    if device.type == "cuda":
        mem["inference_cuda_max_allocated_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
        torch.cuda.reset_peak_memory_stats(device)
    else:
        mem["rss_peak_after_inference_mb"] = rss_mb()
    res["train_videos_per_s"] = train_throughput(model, dims, device, args.batch, 70, args.train_steps, 2, args.autocast)
    res["train_setting"] = {"batch": args.batch, "T": 70, "steps": args.train_steps, "optimizer": "AdamW"}
    res["train_gflops_per_s"] = res["train_flops_per_step"] * res["train_videos_per_s"] / args.batch / 1e9
    res["inference_gflops_per_s_T70"] = res["flops_per_video"]["T70"] / res["latency_per_video"]["T70"]["median_ms"] / 1e6
    if device.type == "cuda":
        mem["train_cuda_max_allocated_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
    else:
        mem["rss_peak_after_train_mb"] = rss_mb()
    res["memory"] = mem
    return res


def bench_in_subprocess(name: str, argv: list[str]) -> dict:
    """Run this script for one model in a fresh interpreter and read its JSON back."""
    import subprocess
    import tempfile

    keep, skip = [], False
    for a in argv:  # drop --models/--out (and their values); the child gets its own
        if skip:
            skip = False
            continue
        if a in ("--models", "--out"):
            skip = True
            continue
        if a.startswith(("--models=", "--out=")):
            continue
        keep.append(a)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "one.json")
        subprocess.run([sys.executable, os.path.abspath(__file__), *keep, "--models", name, "--out", out, "--quiet"], check=True)
        with open(out) as f:
            return json.load(f)["models"][0]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="lmac,lmac_rgb,concat,gdlt", help="comma-separated registry names")
    ap.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    ap.add_argument("--autocast", choices=["none", "bf16"], default="none",
                    help="bf16: inference and training under bfloat16 autocast (lmac train --precision bf16)")
    ap.add_argument("--repeats", type=int, default=30, help="timed inference runs per T")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--dims", default="1024,1024,768", help="feature dims RGB,FLOW,AUDIO (default the real ones; "
                    "128,128,96 are make demo's)")
    ap.add_argument("--train-steps", type=int, default=10)
    ap.add_argument("--out", default=None, help="write the results as JSON here")
    ap.add_argument("--same-process", action="store_true",
                    help="bench every model in this process (default: one fresh process per model, so peak RSS is per model)")
    ap.add_argument("--quiet", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    env = {
        "torch": torch.__version__,
        "python": platform.python_version(),
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_model(),
        "device_type": device.type,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "rss_at_start_mb": rss_mb(),  # torch import alone; subtract it from the rss peaks below
        "matmul_peak_gflops": matmul_peak_gflops(device),  # fp32 1024^2 matmul, these threads: the FLOP floor's rate
        "load_avg_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,  # >cpu_count: timings are contended
    }
    results = {"env": env, "models": []}
    names = [m.strip() for m in args.models.split(",") if m.strip()]
    for name in names:
        if len(names) > 1 and not args.same_process:
            r = bench_in_subprocess(name, argv if argv is not None else sys.argv[1:])
        else:
            r = bench(name, device, args)
            r["memory"]["rss_at_start_mb"] = env["rss_at_start_mb"]
        results["models"].append(r)
        lat = r["latency_per_video"]
        if args.quiet:
            continue
        print(
            f"{name:12s} params {r['params'] / 1e6:6.2f} M | GFLOPs/video T70 {r['flops_per_video']['T70'] / 1e9:.3f} "
            f"T130 {r['flops_per_video']['T130'] / 1e9:.3f} | latency median/min T70 {lat['T70']['median_ms']:.2f}/{lat['T70']['min_ms']:.2f} ms "
            f"T130 {lat['T130']['median_ms']:.2f}/{lat['T130']['min_ms']:.2f} ms | train {r['train_videos_per_s']:.1f} videos/s "
            f"({r['train_gflops_per_s']:.1f} GFLOP/s of a {env['matmul_peak_gflops']:.0f} GFLOP/s matmul) | mem {r['memory']}",
            flush=True,
        )
        if "latency_stacked_vs_per_modality" in r:
            ab = r["latency_stacked_vs_per_modality"]["T70"]
            print(f"{'':12s} interleaved, T70 median/min: stacked {ab['stacked']['median_ms']:.2f}/{ab['stacked']['min_ms']:.2f} ms, "
                  f"per-modality modules {ab['per_modality_modules']['median_ms']:.2f}/{ab['per_modality_modules']['min_ms']:.2f} ms",
                  flush=True)
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        tmp = args.out + ".tmp"
        with open(tmp, "w") as f:
            json.dump(results, f, indent=2)
            f.write("\n")
        os.replace(tmp, args.out)
        if not args.quiet:
            print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
