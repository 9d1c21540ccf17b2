"""Where a batch-1 scoring of LMAC-Net spends its time, against two floors: streaming its weights and its FLOPs.

Why: issue 15 asks for `lmac` in <= 3 ms per video (T=70, batch 1). At batch 1 the decoders multiply 5-row
matrices (the K stage queries) by weight matrices of up to 256 x 1536, so each weight is read once per video
and used for 5 rows: the products are bound by how fast the kernels read weights, not by arithmetic. This
script measures
- the scoring latency (eval, no_grad: the stacked path of models/stacked_decode.py), median of repeats;
- each matrix-product op of one scoring (torch profiler, grouped by shape): its time, the bytes of its largest
  operand (the weights) and the rate at which it reads them;
- the stream floor: the time to read the same bytes from one contiguous tensor (`tensor.sum()`), i.e. what
  the weights would cost if the products read them at the memory's speed;
- the FLOP floor: the scoring's FLOPs over this CPU's fp32 matmul rate (a 1024^2 matmul);
- the decoders' largest product (the FFN's first layer, stacked over the modalities) in each fp32 backend
  this torch and numpy offer: torch's batched product (MKL), per-modality `F.linear`, MKL's prepacked weights
  (`torch.ops.mkl._mkl_linear`), oneDNN (`mkldnn_linear`) and numpy's `matmul` (OpenBLAS), with enough copies
  of the weights that they do not stay in cache.

    python benchmarks/inference_floor.py --threads 2 --out benchmarks/results/inference_floor_epyc.json

Not a timed test: figures depend on the machine and its load.
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile
from torch.utils.flop_counter import FlopCounterMode

from bench_model import matmul_peak_gflops
from lmac.models import create_model
from lmac.utils import atomic_write_json, cpu_model

MATMUL_OPS = ("aten::baddbmm", "aten::bmm", "aten::addmm", "aten::mm", "aten::matmul", "aten::linear")


def median_ms(fn, repeats: int, warmup: int = 5) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def stream_ms(nbytes: int, repeats: int) -> float:
    """Reading nbytes once, at the memory's speed: the sum of one contiguous fp32 tensor of that size."""
    t = torch.randn(max(1, nbytes // 4))
    return median_ms(t.sum, repeats)


def matmul_profile(model, feats, mask, passes: int) -> list[dict]:
    """Each matrix-product op of a scoring, grouped by op and input shapes: ms per scoring, weight MB, GB/s."""
    with torch.no_grad(), profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        for _ in range(passes):
            model(feats, mask)
    rows = []
    for ev in prof.key_averages(group_by_input_shape=True):
        if ev.key not in MATMUL_OPS:
            continue
        shapes = [s for s in ev.input_shapes if s]
        weight_mb = max(int(np.prod(s)) for s in shapes) * 4 / 1e6  # the largest operand: the weights
        ms = ev.self_cpu_time_total / 1e3 / passes
        rows.append({"op": ev.key, "shapes": shapes, "calls_per_scoring": ev.count / passes,
                     "ms_per_scoring": ms, "weight_mb_per_call": weight_mb,
                     "gb_per_s": weight_mb * ev.count / passes / ms if ms > 0 else None})
    return sorted(rows, key=lambda r: -r["ms_per_scoring"])


def ffn_backends(d: int, d_ffn: int, k: int, n_mod: int, copies: int, repeats: int) -> dict:
    """The (n_mod, k, d) x (n_mod, d, d_ffn) product in each fp32 backend; outputs checked against torch's."""
    g = torch.Generator().manual_seed(0)
    W = [torch.randn(n_mod, d, d_ffn, generator=g) for _ in range(copies)]  # as the stacked cache holds them
    Wt = [w.transpose(1, 2).contiguous() for w in W]  # (n_mod, d_ffn, d): nn.Linear's layout
    x, b = torch.randn(n_mod, k, d, generator=g), torch.randn(n_mod, 1, d_ffn, generator=g)
    xs, bs = [x[i].contiguous() for i in range(n_mod)], [b[i, 0].contiguous() for i in range(n_mod)]
    ref = torch.baddbmm(b, x, W[0])
    mb = sum(w.numel() for w in W) * 4 / 1e6
    out: dict = {"shape": [n_mod, k, d, d_ffn], "weight_mb": mb}

    def record(name, product):
        """product(c): the output for weight copy c; timed over every copy, checked on the first."""
        ms = median_ms(lambda: [product(c) for c in range(copies)], repeats)
        err = (torch.as_tensor(product(0)) - ref).abs().max().item()
        out[name] = {"ms": ms, "gb_per_s": mb / ms, "max_abs_diff_vs_baddbmm": err}

    record("torch_baddbmm", lambda c: torch.baddbmm(b, x, W[c]))
    record("torch_linear_per_modality", lambda c: torch.stack([F.linear(xs[i], Wt[c][i], bs[i]) for i in range(n_mod)]))
    if hasattr(torch.ops, "mkl") and hasattr(torch.ops.mkl, "_mkl_linear") and torch.backends.mkl.is_available():
        packed = [[torch.ops.mkl._mkl_reorder_linear_weight(w[i], k) for i in range(n_mod)] for w in Wt]
        record("mkl_prepacked_linear", lambda c: torch.stack(
            [torch.ops.mkl._mkl_linear(xs[i], packed[c][i], Wt[c][i], bs[i], k) for i in range(n_mod)]))
    if torch.backends.mkldnn.is_available():
        mk = [[w[i].to_mkldnn() for i in range(n_mod)] for w in Wt]
        bmk = [v.to_mkldnn() for v in bs]
        lin = torch._C._nn.mkldnn_linear
        record("onednn_linear", lambda c: torch.stack(
            [lin(xs[i].to_mkldnn(), mk[c][i], bmk[i]).to_dense() for i in range(n_mod)]))
    Wn, xn, bn = [w.numpy() for w in W], x.numpy(), b.numpy()
    record("numpy_matmul", lambda c: np.matmul(xn, Wn[c]) + bn)
    out["stream_ms"] = stream_ms(int(mb * 1e6), repeats)
    out["stream_gb_per_s"] = mb / out["stream_ms"]
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="lmac")
    ap.add_argument("--dims", default="1024,1024,768", help="RGB,FLOW,AUDIO feature dims (default the real ones)")
    ap.add_argument("--T", type=int, default=70)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=200)
    ap.add_argument("--copies", type=int, default=8, help="weight copies in the backend comparison (beyond cache)")
    ap.add_argument("--out", help="write the figures to this JSON file")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    dims = dict(zip(("rgb", "flow", "audio"), (int(v) for v in args.dims.split(","))))
    model = create_model(args.model, dims).eval()
    feats = {m: torch.randn(1, args.T, D) for m, D in dims.items()}
    mask = torch.ones(1, args.T, dtype=torch.bool)
    with torch.no_grad():
        latency = median_ms(lambda: model(feats, mask), args.repeats, warmup=10)  # warm-up builds the stacked cache
    with FlopCounterMode(display=False) as fc:
        model(feats, mask)  # grad mode on: FlopCounterMode's module tracker needs it (the per-modality path)
    flops = int(fc.get_total_flops())
    cache = model.__dict__.get("_stacked_cache")
    weights = list(_tensors(cache[2])) if cache else list(model.parameters())
    weight_bytes = sum(t.numel() * t.element_size() for t in weights)
    rate = matmul_peak_gflops(torch.device("cpu"))
    ops = matmul_profile(model, feats, mask, passes=max(5, args.repeats // 10))
    cfg = model.config
    res = {
        "model": args.model, "dims": dims, "T": args.T, "threads": args.threads, "batch": 1,
        "torch": torch.__version__, "cpu": cpu_model(),
        "latency_ms": latency,
        "weights_read_mb": weight_bytes / 1e6,
        "stream_floor_ms": stream_ms(weight_bytes, args.repeats),
        "gflop_per_scoring": flops / 1e9,
        "matmul_gflops": rate,
        "flop_floor_ms": flops / (rate * 1e9) * 1e3,
        "matmul_ms_per_scoring": sum(r["ms_per_scoring"] for r in ops),
        "matmul_ops": ops,
        "ffn_product_backends": ffn_backends(cfg.d_model, cfg.d_ffn, cfg.num_queries, len(dims), args.copies,
                                             max(10, args.repeats // 4)),
    }
    print(f"{args.model} at {args.dims}, T={args.T}, batch 1, {args.threads} threads: {latency:.2f} ms per video")
    print(f"  matrix products {res['matmul_ms_per_scoring']:.2f} ms of it; weights read {weight_bytes / 1e6:.1f} MB")
    print(f"  stream floor {res['stream_floor_ms']:.2f} ms; FLOP floor {res['flop_floor_ms']:.2f} ms "
          f"({flops / 1e9:.3f} GFLOP at {rate:.0f} GFLOP/s)")
    fb = res["ffn_product_backends"]
    print(f"  FFN product {fb['shape']} x {args.copies} copies ({fb['weight_mb']:.0f} MB; "
          f"stream {fb['stream_gb_per_s']:.1f} GB/s):")
    for name, v in fb.items():
        if isinstance(v, dict):
            print(f"    {name:28s} {v['ms']:.2f} ms  {v['gb_per_s']:.1f} GB/s  (max diff {v['max_abs_diff_vs_baddbmm']:.1e})")
    if args.out:
        atomic_write_json(args.out, res)
        print(f"wrote {args.out}")
    return 0


def _tensors(obj):
    """Every tensor in the stacked cache (nested dicts, lists, tuples)."""
    if isinstance(obj, torch.Tensor):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _tensors(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _tensors(v)


if __name__ == "__main__":
    raise SystemExit(main())
