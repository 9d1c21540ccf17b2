"""Throughput of `lmac train` and `lmac extract` with 1 and 2 processes (torchrun, gloo, CPU).

    .venv/bin/python benchmarks/bench_distributed.py --out benchmarks/results/distributed_cpu.json [--quick]

Runs the commands a user runs, in subprocesses, on data made here:
- training: LMAC-Net (default config) on a synthetic RG task in the native layout with the real
  feature sizes (rgb 1024, flow 1024, audio 768; 66-76 segments, window 70), global batch 32.
  `train_videos_per_s` = training videos / median epoch time over the epochs after the first;
  an epoch also evaluates the validation and test videos (sharded over the ranks as well).
- extraction: the `offline` preset at its real settings (short side 256, crop 224, DIS flow,
  I3D RGB, audio descriptors) on generated 320x240 25-fps clips with a tone soundtrack.
  `videos_per_s` = videos / wall time of the whole command (start-up and model building included,
  as a user sees it); `segments_per_s` the same for 32-frame segments.
Configurations: 1 process with 1 thread, 1 process with 2 threads, 2 processes with 1 thread
each (torchrun --standalone --nproc-per-node 2), measured `--repeats` times in turn (so a burst of
load from other programs hits all configurations alike). The JSON keeps every measurement, with
the 1-minute load average before and after it, and the best and median per configuration; on a
shared machine the best is the closest to what the hardware can do.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
from lmac.utils import cpu_model

CONFIGS = [  # (name, processes, threads per process)
    ("1 process, 1 thread", 1, 1),
    ("1 process, 2 threads", 1, 2),
    ("2 processes, 1 thread each", 2, 1),
]


def lmac_command(args: list[str], procs: int, threads: int) -> tuple[subprocess.CompletedProcess, float]:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads), HF_HUB_OFFLINE="1")
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    if procs == 1:
        cmd = [sys.executable, "-m", "lmac", *args]
    else:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={procs}", "-m", "lmac", *args]
    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{res.stdout[-2000:]}\n{res.stderr[-4000:]}")
    return res, wall


def write_clip(path: Path, n_frames: int, size=(320, 240), seed: int = 0) -> None:
    """A bright square moving over noise (non-zero flow) with a 440 Hz tone, H.264 + AAC."""
    import av

    w, h = size
    rng = np.random.default_rng(seed)
    c = av.open(str(path), "w")
    vs = c.add_stream("libx264", rate=25, options={"preset": "ultrafast"})
    vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
    au = c.add_stream("aac", rate=16000, layout="mono")
    bg = rng.integers(0, 90, size=(h, w, 3), dtype=np.uint8)
    for i in range(n_frames):
        img = bg.copy()
        x = (3 * i + 7 * seed) % (w - 24)
        img[h // 3 : h // 3 + 24, x : x + 24] = 255
        for p in vs.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
            c.mux(p)
    for p in vs.encode():
        c.mux(p)
    n = int(n_frames / 25 * 16000)
    wav = (0.3 * np.sin(2 * np.pi * 440 * np.arange(n) / 16000)).astype(np.float32)
    for i in range(0, n, 1024):
        fr = av.AudioFrame.from_ndarray(wav[None, i : i + 1024], format="flt", layout="mono")
        fr.sample_rate, fr.pts, fr.time_base = 16000, i, Fraction(1, 16000)
        for p in au.encode(fr):
            c.mux(p)
    for p in au.encode(None):
        c.mux(p)
    c.close()


def _aggregate(runs: list[dict], key: str) -> list[dict]:
    out = []
    for name, procs, threads in CONFIGS:
        vals = [r[key] for r in runs if r["config"] == name]
        out.append({"config": name, "processes": procs, "threads_per_process": threads, f"best_{key}": max(vals),
                    f"median_{key}": round(statistics.median(vals), 3), "n": len(vals)})
    return out


def bench_training(work: Path, quick: bool, repeats: int) -> dict:
    from lmac.data.synthetic import SynthConfig, generate

    n_train, n_test, epochs = (40, 8, 2) if quick else (120, 16, 3)
    data = work / "synth"
    generate(data, SynthConfig(seed=0, classes=("Hoop",), n_train=n_train, n_test=n_test), progress=False)
    flags = ["train", "--task", "rg_hoop", "--model", "lmac", "--features", str(data / "features"), "--labels", str(data),
             "--epochs", str(epochs), "--batch-size", "32", "--device", "cpu", "--no-progress"]
    out = {"setup": {"model": "lmac (default config)", "task": "rg_hoop", "dims": {"rgb": 1024, "flow": 1024, "audio": 768},
                     "window": 70, "global_batch": 32, "epochs": epochs, "labelled_train": n_train, "test": n_test},
           "runs": []}
    for rep, (name, procs, threads) in ((r, c) for r in range(repeats) for c in CONFIGS):
        load0 = os.getloadavg()[0]
        run_dir = work / f"train-{procs}x{threads}-{rep}"
        _, wall = lmac_command(flags + ["--out", str(run_dir)], procs, threads)
        rows = list(csv.DictReader(open(run_dir / "metrics.csv")))
        summary = json.loads((run_dir / "summary.json").read_text())
        epoch_s = [float(r["epoch_s"]) for r in rows]
        steady = statistics.median(epoch_s[1:])
        out["runs"].append({
            "config": name, "processes": procs, "threads_per_process": threads, "repeat": rep,
            "train_videos": summary["train_videos"], "eval_videos": summary["val_videos"] + summary["test_videos"],
            "epoch_s": [round(e, 3) for e in epoch_s], "median_epoch_s_after_first": round(steady, 3),
            "train_videos_per_s": round(summary["train_videos"] / steady, 2),
            "command_wall_s": round(wall, 1), "test_srcc_last": summary["test_srcc_last"],
            "loadavg_1min_before_after": [round(load0, 2), round(os.getloadavg()[0], 2)],
        })
        print(f"train   {name:28s} {out['runs'][-1]['train_videos_per_s']:7.2f} videos/s "
              f"(epoch {steady:.2f} s)", flush=True)
    out["summary"] = _aggregate(out["runs"], "train_videos_per_s")
    return out


def bench_extraction(work: Path, quick: bool, repeats: int) -> dict:
    n_videos, n_frames = (4, 40) if quick else (6, 80)
    clips = work / "clips"
    clips.mkdir()
    for i in range(n_videos):
        write_clip(clips / f"clip{i:02d}.mp4", n_frames, seed=i)
    extra = ["--crop", "64", "--resize", "72"] if quick else []
    out = {"setup": {"preset": "offline", "videos": n_videos, "frames_per_video": n_frames, "source_size": "320x240",
                     "crop": 64 if quick else 224, "resize_short_side": 72 if quick else 256},
           "runs": []}
    for rep, (name, procs, threads) in ((r, c) for r in range(repeats) for c in CONFIGS):
        load0 = os.getloadavg()[0]
        feats = work / f"feats-{procs}x{threads}-{rep}"
        res, wall = lmac_command(["extract", str(clips), "--out", str(feats), "--no-progress", *extra], procs, threads)
        if f"{n_videos} written" not in res.stderr:
            raise SystemExit(f"extraction did not write {n_videos} videos:\n{res.stderr[-3000:]}")
        from lmac.data.features import NativeStore

        store = NativeStore(feats)
        segments = sum(store.meta(v)["n_segments"] for v in store.ids())
        compute = sum(store.meta(v)["extract_s"] for v in store.ids())
        out["runs"].append({
            "config": name, "processes": procs, "threads_per_process": threads, "repeat": rep, "segments": segments,
            "command_wall_s": round(wall, 2), "videos_per_s": round(n_videos / wall, 3),
            "segments_per_s": round(segments / wall, 3), "sum_per_video_extract_s": round(compute, 2),
            "loadavg_1min_before_after": [round(load0, 2), round(os.getloadavg()[0], 2)],
        })
        print(f"extract {name:28s} {out['runs'][-1]['videos_per_s']:7.3f} videos/s "
              f"({segments} segments in {wall:.1f} s)", flush=True)
    out["summary"] = _aggregate(out["runs"], "videos_per_s")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="benchmarks/results/distributed_cpu.json")
    ap.add_argument("--quick", action="store_true", help="smaller data, small crop: a smoke run, not figures to quote")
    ap.add_argument("--only", choices=["train", "extract"])
    ap.add_argument("--repeats", type=int, default=2, help="measurements per configuration (default 2)")
    args = ap.parse_args()
    import torch

    result = {
        "what": "lmac throughput with 1 and 2 processes (torchrun --standalone, gloo, CPU)",
        "command": "python benchmarks/bench_distributed.py" + (" --quick" if args.quick else "")
                   + f" --repeats {args.repeats}",
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "torch": torch.__version__, "processor": platform.processor(), "cpu": cpu_model()},
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.only in (None, "train"):
            result["training"] = bench_training(work, args.quick, args.repeats)
        if args.only in (None, "extract"):
            result["extraction"] = bench_extraction(work, args.quick, args.repeats)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
