"""The extraction driver: videos in, one native `<video_id>.safetensors` per video out.

    run_extraction(["clips/"], "feats/", preset="offline")

Resumable (videos already written are skipped), atomic per video, and a bad file never stops a
folder run: it is reported in the returned summary (and by the CLI's exit code).
"""
from __future__ import annotations

import json
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lmac.data.features import MANIFEST, write_native_manifest, write_native_video
from lmac.features import EXTRACTORS
from lmac.features.presets import get_preset
from lmac.features.video import (
    AUDIO_RATE,
    VideoDecodeError,
    audio_chunks,
    iter_segments,
    load_audio,
    probe_video,
    require_segments,
)

VIDEO_EXTS = {".mp4", ".mkv", ".avi", ".mov", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".ts", ".mts", ".3gp"}
_BAD_ID_CHARS = re.compile(r"[^A-Za-z0-9_.\-]")


@dataclass
class ExtractSettings:
    preset: str = "offline"
    fps: float = 25.0
    seg_len: int = 32
    resize: int | None = None  # None: the preset's (256)
    crop: int | None = None  # None: the preset's (224)
    flow_method: str | None = None  # None: the preset's
    batch_size: int = 4
    allow_silent: bool = False
    audio_rate: int = AUDIO_RATE

    def resolved(self) -> "ExtractSettings":
        p = get_preset(self.preset)
        return ExtractSettings(
            preset=self.preset, fps=self.fps, seg_len=self.seg_len,
            resize=self.resize or p.resize, crop=self.crop or p.crop,
            flow_method=self.flow_method or p.flow_method, batch_size=self.batch_size,
            allow_silent=self.allow_silent, audio_rate=self.audio_rate,
        )


@dataclass
class ExtractSummary:
    written: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    failed: list = field(default_factory=list)  # (path, message)
    segments: int = 0  # segments of the videos written
    video_s: float = 0.0  # seconds of video written

    @property
    def ok(self) -> bool:
        return not self.failed


def video_id_for(path) -> str:
    """File stem with characters outside [A-Za-z0-9_.-] replaced by '_' (and no leading dot/dash)."""
    vid = _BAD_ID_CHARS.sub("_", Path(path).stem)
    if not vid or not vid[0].isalnum():
        vid = "v" + vid
    return vid


def collect_videos(inputs) -> list[Path]:
    """Files as given; folders searched recursively for video extensions, sorted."""
    out: list[Path] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            found = sorted(q for q in p.rglob("*") if q.is_file() and q.suffix.lower() in VIDEO_EXTS)
            if not found:
                raise FileNotFoundError(f"{p}: no video files ({', '.join(sorted(VIDEO_EXTS))}) in this folder")
            out.extend(found)
        else:
            out.append(p)  # missing or odd files are reported per video
    return out


def parse_weights_args(items) -> dict[str, str]:
    """["vst=path", "ast=dir"] -> {"vst": "path", "ast": "dir"}."""
    out = {}
    for item in items or []:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise ValueError(f"--weights expects NAME=PATH (e.g. vst=swin_base.pth), got {item!r}")
        if name not in EXTRACTORS:
            EXTRACTORS.get(name)  # raises with the valid names
        out[name] = path
    return out


def build_extractors(preset_name: str, weights: dict | None = None, device="cpu") -> dict:
    """{modality: Extractor} for a preset, weights from `weights` {extractor name: path}."""
    preset = get_preset(preset_name)
    weights = dict(weights or {})
    unused = set(weights) - set(preset.extractors.values())
    if unused:
        raise ValueError(
            f"--weights given for {', '.join(sorted(unused))}, not used by preset {preset.name} "
            f"({', '.join(preset.extractors.values())})"
        )
    exts = {}
    for modality, name in preset.extractors.items():
        ex = EXTRACTORS.get(name)(weights=weights.get(name))
        exts[modality] = ex.to(device)
    return exts


def _manifest_info(preset, settings: ExtractSettings, extractors: dict, flow_settings: dict | None) -> dict:
    return {
        "preset": preset.name,
        "extractors": {m: ex.describe() for m, ex in extractors.items()},
        "settings": {
            "fps": settings.fps, "segment_frames": settings.seg_len, "resize_short_side": settings.resize,
            "crop": settings.crop, "audio_rate": settings.audio_rate,
            "audio_chunk": "one per segment, aligned with its frames",
            "leftover_frames": "trimmed evenly from both ends", "flow": flow_settings,
        },
    }


def _compatible(old: dict, new: dict) -> list[str]:
    """Differences that make an existing output folder (manifest `old`) unsafe to extend with `new`."""
    from lmac.inference.provenance import manifest_differences

    return manifest_differences(old.get("info", {}), new)


def extract_video(path, extractors: dict, settings: ExtractSettings, flow=None, progress=None):
    """Features of one video: ({modality: (T, D)}, meta). Raises VideoDecodeError on bad input."""
    path = Path(path)
    probe = probe_video(path, fps=settings.fps, seg_len=settings.seg_len)
    require_segments(probe)
    meta = {
        "source": path.name, "fps": settings.fps, "n_segments": probe.n_segments, "duration_s": probe.duration_s,
        "source_fps": probe.source_fps, "rotation": probe.rotation, "skip_start_frames": probe.skip_start,
        "silent": False,
    }
    chunks = None
    if "audio" in extractors:
        if not probe.has_audio:
            if not settings.allow_silent:
                raise VideoDecodeError(
                    f"{path}: has no audio stream; pass --allow-silent to write zero audio features marked silent"
                )
            meta["silent"] = True
        else:
            wav, start = load_audio(path, settings.audio_rate)
            chunks = audio_chunks(wav, start, probe, settings.audio_rate,
                                  getattr(extractors["audio"], "context_samples", None))
            meta["audio_samples"] = int(len(wav))
    out: dict[str, list] = {m: [] for m in extractors}
    video_mods = [m for m, ex in extractors.items() if ex.input in ("rgb", "flow")]
    if video_mods:
        seg_flow = flow if any(extractors[m].input == "flow" for m in video_mods) else None

        def batches():  # decoding, resizing and optical flow: run ahead of the networks in a thread
            batch = []
            for seg in iter_segments(probe, resize=settings.resize, crop=settings.crop):
                batch.append(seg)
                if len(batch) == settings.batch_size:
                    yield _with_flow(batch, seg_flow)
                    batch = []
            if batch:
                yield _with_flow(batch, seg_flow)

        for frames, flows in prefetch(batches(), depth=2):
            for m in video_mods:
                ex = extractors[m]
                out[m].append(ex(frames) if ex.input == "rgb" else ex(flows))
            if progress is not None:
                progress.update(len(frames))
    if "audio" in extractors:
        ex = extractors["audio"]
        if chunks is None:
            out["audio"] = [np.zeros((probe.n_segments, ex.dim), np.float32)]
        else:
            for i in range(0, len(chunks), settings.batch_size):
                out["audio"].append(ex(chunks[i : i + settings.batch_size]))
    arrays = {m: np.concatenate(v).astype(np.float32) for m, v in out.items()}
    for m, a in arrays.items():
        if a.shape != (probe.n_segments, extractors[m].dim):
            raise RuntimeError(f"{path}: {m} features have shape {a.shape}, expected ({probe.n_segments}, {extractors[m].dim})")
    return arrays, meta


def _with_flow(batch: list, flow) -> tuple:
    """(frames (B, T, S, S, 3) uint8, flows (B, T, S, S, 2) or None)."""
    frames = np.stack(batch)
    return frames, (np.stack([flow(seg) for seg in frames]) if flow is not None else None)


def prefetch(iterable, depth: int = 2):
    """Yield the items of `iterable`, produced by a background thread up to `depth` items ahead: PyAV's
    decoding and OpenCV's optical flow release the GIL, so they run while torch computes the previous batch.
    An exception in the producer is raised here; leaving the loop early stops the producer."""
    import queue
    import threading

    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        try:
            for item in iterable:
                if not put((None, item)):
                    return
            put((None, done))
        except BaseException as e:  # noqa: BLE001 - handed to the consumer
            put((e, None))

    worker = threading.Thread(target=produce, name="lmac-extract-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            err, item = q.get()
            if err is not None:
                raise err
            if item is done:
                return
            yield item
    finally:
        stop.set()
        worker.join(timeout=5)


def _claim(out_dir: Path, vid: str) -> Path | None:
    """A lock file `.<vid>.lock` holding our pid, so two `lmac extract` runs into one folder share the
    work instead of both doing all of it; None when a live process holds it (a dead one's is taken over)."""
    import os

    lock = out_dir / f".{vid}.lock"
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                pid = int(lock.read_text() or "0")
                os.kill(pid, 0)  # raises if no such process
                if pid != os.getpid():
                    return None
            except (ValueError, ProcessLookupError, FileNotFoundError):
                pass
            except PermissionError:  # alive, someone else's
                return None
            lock.unlink(missing_ok=True)  # stale: its process died
            continue
        with os.fdopen(fd, "w") as f:
            f.write(str(os.getpid()))
        if (out_dir / f"{vid}.safetensors").exists():  # finished by the other run meanwhile
            lock.unlink(missing_ok=True)
            return None
        return lock
    return None


def run_extraction(
    inputs, out_dir, preset: str = "offline", weights: dict | None = None, device: str = "auto",
    settings: ExtractSettings | None = None, progress: bool = True, log=None, extractors: dict | None = None,
) -> ExtractSummary:
    """Extract every video in `inputs` (files or folders) into `out_dir` (native layout)."""
    import torch
    from tqdm import tqdm

    from lmac.features.flow import FlowComputer
    from lmac.utils import resolve_device

    log = log or (lambda msg: tqdm.write(msg, file=sys.stderr))
    settings = (settings or ExtractSettings(preset=preset)).resolved()
    preset_obj = get_preset(settings.preset)
    videos = collect_videos(inputs)
    dev = resolve_device(device)
    if extractors is None:
        extractors = build_extractors(settings.preset, weights, dev)
    needs_flow = any(ex.input == "flow" for ex in extractors.values())
    flow = FlowComputer(settings.flow_method) if needs_flow else None
    info = _manifest_info(preset_obj, settings, extractors, flow.settings() if flow else None)
    dims = {m: ex.dim for m, ex in extractors.items()}

    out_dir = Path(out_dir)
    manifest = out_dir / MANIFEST
    if manifest.exists():
        try:
            old = json.loads(manifest.read_text())
        except json.JSONDecodeError:
            raise ValueError(f"{manifest}: existing manifest is not valid JSON; use a new --out folder") from None
        diffs = _compatible(old, info)
        if diffs:
            raise ValueError(
                f"{out_dir}: holds features made differently ({'; '.join(diffs)}); use a new --out folder"
            )
    out_dir.mkdir(parents=True, exist_ok=True)
    write_native_manifest(out_dir, dims, info)

    summary = ExtractSummary()
    seen: dict[str, Path] = {}
    grad_was = torch.is_grad_enabled()
    torch.set_grad_enabled(False)  # restored in `finally`: a process may train after extracting
    bar = tqdm(total=len(videos), desc=f"extract {settings.preset}", unit="video", disable=not progress, file=sys.stderr)
    try:
        for i, path in enumerate(videos, 1):
            vid = video_id_for(path)
            tag = f"[{i}/{len(videos)}] {path.name}"
            if vid in seen:
                msg = f"{path}: video id {vid!r} already used by {seen[vid]}; rename one of them"
                summary.failed.append((str(path), msg))
                log(f"{tag}: FAILED {msg}")
                bar.update(1)
                continue
            seen[vid] = path
            target = out_dir / f"{vid}.safetensors"
            if target.exists():
                summary.skipped.append(vid)
                log(f"{tag}: skipped, {target.name} exists")
                bar.update(1)
                continue
            lock = _claim(out_dir, vid)
            if lock is None:
                summary.skipped.append(vid)
                log(f"{tag}: skipped, another lmac extract is writing {target.name}")
                bar.update(1)
                continue
            t0 = time.perf_counter()
            try:
                arrays, meta = extract_video(path, extractors, settings, flow)
                meta["extract_s"] = round(time.perf_counter() - t0, 3)
                write_native_video(out_dir, vid, arrays, meta)
            except Exception as e:  # one bad file must not stop a folder run
                msg = str(e).splitlines()[0] if str(e) else type(e).__name__
                if not msg.startswith(str(path)):
                    msg = f"{path}: {type(e).__name__}: {msg}"
                summary.failed.append((str(path), msg))
                log(f"{tag}: FAILED {msg}")
            else:
                dt = time.perf_counter() - t0
                n = meta["n_segments"]
                silent = " (no audio: zeros, marked silent)" if meta.get("silent") else ""
                log(f"{tag}: {n} segments -> {target.name} in {dt:.1f} s ({n / dt:.2f} seg/s){silent}")
                summary.written.append(vid)
                summary.segments += int(n)
                summary.video_s += float(meta.get("duration_s") or 0.0)
            finally:
                lock.unlink(missing_ok=True)
            bar.update(1)
    finally:
        torch.set_grad_enabled(grad_was)
        bar.close()
    return summary
