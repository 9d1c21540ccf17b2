"""`lmac extract VIDEO_OR_DIR... --preset NAME --out DIR`: features from raw videos (native layout)."""
from __future__ import annotations

import sys
import time


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "extract",
        help="extract rgb/flow/audio features from raw videos",
        description="Decode videos at 25 fps into 32-frame segments and write one <video>.safetensors per video "
        "(native layout, resumable). Presets: offline (nothing to download), pamfn (the public features' "
        "recipe; needs checkpoints). See docs/extraction.md.",
    )
    p.add_argument("inputs", nargs="*", metavar="VIDEO_OR_DIR", help="video files and/or folders (searched recursively)")
    p.add_argument("--preset", default="offline", help="offline (default) or pamfn")
    p.add_argument("--out", help="output folder (native feature layout)")
    p.add_argument("--device", default="auto", help="auto (CUDA if present), cpu or cuda[:N]")
    p.add_argument(
        "--weights", action="append", default=[], metavar="NAME=PATH",
        help="checkpoint for an extractor, e.g. vst=swin_base_patch244_window877_kinetics600_22k.pth, "
        "i3d-flow=flow_imagenet.pt, ast=DIR_OR_FILE, i3d-rgb=PATH (repeatable)",
    )
    p.add_argument("--flow-method", choices=["tvl1", "dis", "farneback"], help="optical flow (default: the preset's)")
    p.add_argument("--crop", type=int, help="crop size in pixels (default 224; smaller only for quick checks)")
    p.add_argument("--resize", type=int, help="short side before the crop (default 256)")
    p.add_argument("--batch-size", type=int, default=4, help="segments per forward pass (default 4)")
    p.add_argument("--allow-silent", action="store_true", help="videos without audio get zero audio features, marked silent")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (log lines only)")
    p.add_argument("--list", action="store_true", help="list presets and extractors, then exit")
    p.set_defaults(func=run)


def _list() -> int:
    from lmac.features import EXTRACTORS, PRESETS

    print("presets:")
    for p in PRESETS.values():
        dims = ", ".join(f"{m} {p.extractors[m]} {d}-d" for m, d in p.dims.items())
        print(f"  {p.name:8s} {dims}\n           {p.description}")
    print("extractors:")
    for name in EXTRACTORS.names():
        i = EXTRACTORS.info(name)
        w = "needs --weights" if i.get("needs_weights") else "no download needed"
        print(f"  {name:12s} {i['modality']:5s} {i['dim']:5d}-d  {w}")
    return 0


def run(args) -> int:
    if args.list:
        return _list()
    from lmac.features.extract import ExtractSettings, parse_weights_args
    from lmac.features.sharding import run_extraction  # under torchrun: videos sharded over the ranks

    if not args.inputs:
        raise ValueError("give at least one video file or folder")
    if not args.out:
        raise ValueError("--out DIR is required (the native feature folder to write)")
    if args.batch_size < 1:
        raise ValueError("--batch-size must be >= 1")
    if args.crop is not None and args.crop < 32:
        raise ValueError("--crop must be >= 32 pixels")
    settings = ExtractSettings(
        preset=args.preset, resize=args.resize, crop=args.crop, flow_method=args.flow_method,
        batch_size=args.batch_size, allow_silent=args.allow_silent,
    )
    if settings.resize is not None and settings.crop is not None and settings.resize < settings.crop:
        raise ValueError("--resize must be >= --crop")
    t0 = time.perf_counter()
    summary = run_extraction(
        args.inputs, args.out, preset=args.preset, weights=parse_weights_args(args.weights), device=args.device,
        settings=settings, progress=not args.no_progress,
    )
    n = len(summary.written) + len(summary.skipped) + len(summary.failed)
    print(
        f"lmac extract: {len(summary.written)} written, {len(summary.skipped)} skipped (already done), "
        f"{len(summary.failed)} failed of {n} -> {args.out}",
        file=sys.stderr,
    )
    wall = time.perf_counter() - t0
    if summary.segments:
        print(f"lmac extract: {summary.segments} segments ({summary.video_s:.1f} s of video) in {wall:.1f} s: "
              f"{summary.segments / wall:.2f} segments/s, {summary.video_s / wall:.2f}x realtime", file=sys.stderr)
    if summary.failed:
        print("failed:", file=sys.stderr)
        for _, msg in summary.failed:
            print(f"  {msg}", file=sys.stderr)
        return 1
    return 0
