"""Speed of feature extraction: decode fps and segments/s per backbone, for a 90-s 25-fps video.

    python benchmarks/bench_extract.py --out benchmarks/results/extract_cpu.json [--device auto]

Makes the video itself (synthetic moving content, H.264 1280x720 by default, with a real music
track from arcade's resources when installed, else a tone), then times:
- decoding: all 2250 frames resampled, resized (short side 256) and centre-cropped (224), in
  32-frame segments (decode fps = output frames per second), and the audio track (16 kHz mono);
- each extractor on up to `--max-segments` segments (the slow ones on a CPU would take an hour on
  the whole video), after one warm-up batch. Weights: the packaged I3D RGB checkpoint; random
  weights of the full-size architectures for vst / i3d-flow / ast (speed does not depend on them);
- optical flow per segment (31 frame pairs at 224x224) for tvl1, dis and farneback.
`est_video_s` extrapolates to all segments of the 90-s video. Figures depend on the machine: the
JSON records CPU count, torch threads, device and versions.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch
from lmac.utils import cpu_model


def make_video(path: Path, seconds: float, fps: int, size: tuple[int, int]) -> Path:
    import importlib.metadata

    import av

    w, h = size
    c = av.open(str(path), "w")
    vs = c.add_stream("libx264", rate=fps, options={"preset": "ultrafast", "crf": "23"})
    vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
    a = c.add_stream("aac", rate=44100, layout="stereo")  # every stream before the first packet
    rng = np.random.default_rng(0)
    bg = rng.integers(0, 120, size=(h // 8, w // 8, 3), dtype=np.uint8).repeat(8, 0).repeat(8, 1)
    n = int(seconds * fps)
    for i in range(n):
        img = np.roll(bg, 3 * i, axis=1).copy()
        x = int((w - 80) * (0.5 + 0.5 * np.sin(i / 20)))
        img[h // 3 : h // 3 + 80, x : x + 80] = (230, 200, 40)
        for p in vs.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
            c.mux(p)
    for p in vs.encode():
        c.mux(p)
    music = None
    try:
        music = next(Path(f.locate()) for f in importlib.metadata.files("arcade") or [] if str(f).endswith("funkyrobot.mp3"))
    except (importlib.metadata.PackageNotFoundError, StopIteration):
        pass
    total = int(seconds * 44100)
    written = 0
    if music is not None:
        src = av.open(str(music))
        res = av.AudioResampler(format="fltp", layout="stereo", rate=44100)
        for frame in src.decode(audio=0):
            for f in res.resample(frame):
                f.pts, f.time_base = written, Fraction(1, 44100)
                written += f.samples
                for p in a.encode(f):
                    c.mux(p)
            if written >= total:
                break
        src.close()
    else:
        t = np.arange(total) / 44100
        wav = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        for i in range(0, total, 1024):
            chunk = np.stack([wav[i : i + 1024]] * 2)
            f = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
            f.sample_rate, f.pts, f.time_base = 44100, i, Fraction(1, 44100)
            for p in a.encode(f):
                c.mux(p)
    for p in a.encode(None):
        c.mux(p)
    c.close()
    return path


def _random_state(factory):
    with torch.device("meta"):
        net = factory()
    return {k: torch.randn(v.shape) * 0.02 if v.dtype.is_floating_point else torch.zeros(v.shape, dtype=v.dtype)
            for k, v in net.state_dict().items()}


def build_random_checkpoints(tmp: Path) -> dict:
    from torchvision.models.video import swin3d_b
    from torchvision.models.video.swin_transformer import ShiftedWindowAttention3d
    from transformers import ASTConfig, ASTModel

    from lmac.features.backbones.i3d import InceptionI3d

    sd = _random_state(swin3d_b)
    idx = ShiftedWindowAttention3d(8, [8, 7, 7], [0, 0, 0], 1).relative_position_index
    sd = {k: (idx if k.endswith("relative_position_index") else v) for k, v in sd.items()}
    torch.save(sd, tmp / "swin3d_b.pth")
    torch.save(InceptionI3d(in_channels=2).state_dict(), tmp / "i3d_flow.pth")
    ASTModel(ASTConfig()).save_pretrained(tmp / "ast")  # AudioSet base configuration: 12 layers, 1024 frames
    return {"vst": tmp / "swin3d_b.pth", "i3d-flow": tmp / "i3d_flow.pth", "ast": tmp / "ast"}


def time_extractor(ex, inputs: list[np.ndarray], batch: int) -> dict:
    ex(np.stack(inputs[:batch]))  # warm-up
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    t = time.perf_counter()
    n = 0
    for i in range(0, len(inputs), batch):
        ex(np.stack(inputs[i : i + batch]))
        n += len(inputs[i : i + batch])
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    dt = time.perf_counter() - t
    return {"segments": n, "seconds": round(dt, 3), "segments_per_s": round(n / dt, 4)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="benchmarks/results/extract.json")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--seconds", type=float, default=90.0)
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--max-segments", type=int, default=4, help="segments timed per heavy extractor")
    ap.add_argument("--batch-size", type=int, default=2)
    ap.add_argument("--skip", default="", help="comma-separated parts to skip (e.g. vst,ast,tvl1)")
    ap.add_argument("--random-weights", action="store_true",
                    help="random full-size weights for I3D RGB too, and musicnn only where its package is installed "
                         "(a machine without the packaged checkpoints; speed does not depend on the weights)")
    args = ap.parse_args(argv)

    from lmac.features import EXTRACTORS
    from lmac.features.flow import FlowComputer
    from lmac.features.backbones.musicnn import PATCH_SAMPLES
    from lmac.features.video import audio_chunks, iter_segments, load_audio, probe_video
    from lmac.utils import resolve_device

    device = resolve_device(args.device)
    skip = set(filter(None, args.skip.split(",")))
    w, h = map(int, args.size.split("x"))
    res: dict = {
        "machine": {"platform": platform.platform(), "cpu": cpu_model(), "cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                    "torch": torch.__version__, "device": str(device),
                    "gpu": torch.cuda.get_device_name(0) if device.type == "cuda" else None},
        "video": {"seconds": args.seconds, "fps": 25, "size": args.size},
        "decode": {}, "extractors": {}, "flow": {},
    }
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        t = time.perf_counter()
        video = make_video(tmp / "bench.mp4", args.seconds, 25, (w, h))
        res["video"]["make_s"] = round(time.perf_counter() - t, 2)
        probe = probe_video(video)
        n_seg = probe.n_segments
        res["video"]["segments"] = n_seg
        t = time.perf_counter()
        segs = []
        for i, s in enumerate(iter_segments(probe)):
            if i < args.max_segments * 2:
                segs.append(s)
        dt = time.perf_counter() - t
        res["decode"]["video"] = {"frames": n_seg * 32, "seconds": round(dt, 3), "fps": round(n_seg * 32 / dt, 1),
                                  "segments_per_s": round(n_seg / dt, 3), "note": "decode + resize 256 + crop 224"}
        t = time.perf_counter()
        wav, start = load_audio(video)
        chunks = audio_chunks(wav, start, probe)
        context_chunks = audio_chunks(wav, start, probe, samples=PATCH_SAMPLES)  # musicnn: 3 s around each segment
        res["decode"]["audio"] = {"seconds": round(time.perf_counter() - t, 3), "samples": int(len(wav))}
        print(json.dumps(res["decode"]), file=sys.stderr)

        k = args.max_segments
        flows = {}
        for method in ("dis", "farneback", "tvl1"):
            if method in skip:
                continue
            fc = FlowComputer(method)
            n = 1 if method == "tvl1" else min(k, len(segs))
            t = time.perf_counter()
            out = [fc(s) for s in segs[:n]]
            dt = time.perf_counter() - t
            flows[method] = out
            res["flow"][method] = {"segments": n, "seconds": round(dt, 3), "segments_per_s": round(n / dt, 4),
                                   "est_video_s": round(n_seg * dt / n, 1), "pairs_per_segment": 31}
            print(method, res["flow"][method], file=sys.stderr)
        flow_in = (flows.get("dis") or flows.get("farneback") or flows.get("tvl1"))
        flow_in = (flow_in * k)[:k] if flow_in else None

        ckpts = build_random_checkpoints(tmp) if not {"vst", "i3d-flow", "ast"} <= skip else {}
        if args.random_weights:
            from lmac.features.backbones.i3d import InceptionI3d
            from lmac.features.weights import WeightsError

            torch.save(InceptionI3d(in_channels=3).state_dict(), tmp / "i3d_rgb.pth")
            ckpts["i3d-rgb"] = tmp / "i3d_rgb.pth"
            try:
                EXTRACTORS.get("musicnn")()
            except WeightsError as e:
                skip.add("musicnn")
                res["extractors"]["musicnn"] = {"skipped": str(e)}
        plan = [("i3d-rgb", ckpts.get("i3d-rgb"), segs[:k]), ("vst", ckpts.get("vst"), segs[:k]),
                ("i3d-flow", ckpts.get("i3d-flow"), flow_in), ("flow-hof", None, flow_in),
                ("ast", ckpts.get("ast"), list(chunks[:k])), ("audio-stats", None, list(chunks)),
                ("musicnn", None, list(context_chunks))]
        for name, wpath, inputs in plan:
            if name in skip or inputs is None:
                continue
            kwargs = {"weights": wpath} if wpath is not None else {}
            ex = EXTRACTORS.get(name)(**kwargs).to(device)
            r = time_extractor(ex, inputs, args.batch_size)
            r["est_video_s"] = round(n_seg / r["segments_per_s"], 1)
            r["weights"] = ("random, full-size" if wpath else {"i3d-rgb": "packaged K400",
                                                                "musicnn": "packaged MTT_musicnn"}.get(name, "none"))
            res["extractors"][name] = r
            print(name, r, file=sys.stderr)
            del ex
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=2) + "\n")
    print(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
