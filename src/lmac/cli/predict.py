"""`lmac predict VIDEO... --run RUN_DIR`: score videos with a trained run and explain the scores."""
from __future__ import annotations

import sys


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "predict",
        help="score videos with a trained run: prediction.json, report.html, timeline.png",
        description="Extract features with the preset recorded in the run (cached under --out), score each "
        "video, and write <out>/<video_id>/prediction.json, report.html and timeline.png. Folders are searched "
        "for videos; a bad video is reported and skipped (exit status 1 at the end). See docs/predict.md.",
    )
    p.add_argument("inputs", nargs="*", metavar="VIDEO_OR_DIR",
                   help="video files and/or folders; with --features: video ids (default: every video there)")
    p.add_argument("--run", required=True, help="run folder written by lmac train")
    p.add_argument("--out", default="predict_out", help="output folder (default predict_out)")
    p.add_argument("--checkpoint", default="last", choices=["last", "best_val", "best_test"],
                   help="which checkpoint of the run (default last)")
    p.add_argument("--device", default="auto", help="auto (CUDA if present), cpu or cuda[:N]")
    p.add_argument("--features", metavar="PATH",
                   help="score already-extracted features (a feature folder or one <video_id>.safetensors)")
    p.add_argument("--csv", metavar="FILE", help="also write one row per video (score, stages) to FILE")
    p.add_argument("--weights", action="append", default=[], metavar="NAME=PATH",
                   help="extractor checkpoint for presets that need one (pamfn), as in lmac extract")
    p.add_argument("--allow-silent", action="store_true", help="score videos without audio (zero audio features)")
    p.add_argument("--elements", metavar="FILE",
                   help="annotated elements to draw under the stages and to measure them against: a FineFS annotation "
                        "JSON, a JSON list of {name, start_s, end_s}, or {video_id: list} for several videos")
    p.add_argument("--no-report", action="store_true", help="write prediction.json only")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _table(items) -> str:
    width = max([len("video")] + [len(it.video_id) for it in items])
    lines = [f"{'video':<{width}}  {'score':>7}  {'segments':>8}  result"]
    for it in items:
        p = it.prediction
        if p:
            lines.append(f"{it.video_id:<{width}}  {p.score:>7.2f}  {p.n_segments:>8}  {it.out_dir}")
        else:
            lines.append(f"{it.video_id:<{width}}  {'-':>7}  {'-':>8}  FAILED: {it.error}")
    return "\n".join(lines)


def run(args) -> int:
    from lmac.predict import load, predict_batch, write_batch_csv

    weights = {}
    if args.weights:
        from lmac.features.extract import parse_weights_args

        weights = parse_weights_args(args.weights)
    elements = None
    if args.elements:
        import json
        from pathlib import Path

        try:
            elements = (json.loads(Path(args.elements).read_text(encoding="utf-8")), args.elements)
        except FileNotFoundError:
            raise FileNotFoundError(f"{args.elements}: elements file not found") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ValueError(f"{args.elements}: not valid JSON ({e})") from None
    predictor = load(args.run, checkpoint=args.checkpoint, device=args.device, weights=weights)
    items = predict_batch(
        predictor, args.inputs, args.out, features=args.features, allow_silent=args.allow_silent,
        progress=not args.no_progress, report=not args.no_report, elements=elements,
    )
    ok = [it for it in items if it.prediction]
    if len(items) == 1 and ok:
        print(ok[0].prediction.summary())
        print(f"-> {ok[0].out_dir}/" + ("prediction.json" if args.no_report else "{prediction.json,report.html,timeline.png}"))
    else:
        print(_table(items))
    if args.csv:
        write_batch_csv(args.csv, items)
        print(f"-> {args.csv}")
    failed = [it for it in items if not it.prediction]
    print(f"lmac predict: {len(ok)} scored, {len(failed)} failed of {len(items)} -> {args.out}", file=sys.stderr)
    return 1 if failed else 0
