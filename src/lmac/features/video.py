"""Decoding with PyAV: 25-fps resampling, 32-frame segments, 16-kHz mono audio chunks.

The contract every extractor relies on (the public features were made the same way):

- video frames are resampled to `fps` (25) by timestamp: output frame k shows the source frame on
  screen at time t0 + k / fps (frames are dropped or repeated; variable frame rates work too);
- the resampled frames are cut into non-overlapping `seg_len` (32) frame segments; the leftover
  frames (fewer than one segment) are trimmed evenly from both ends;
- each frame is resized so its short side is `resize` (256) and centre-cropped to `crop` x `crop`
  (224), after applying the container's rotation (display matrix), as a player would show it;
- audio is resampled to 16 kHz mono float in [-1, 1]; chunk i covers exactly the time of video
  segment i (seg_len / fps = 1.28 s = 20480 samples), zero-padded where the audio track is shorter.

Only one segment of decoded frames is held at a time, so several-minute videos are fine. Audio of
a whole video is small (16 kHz float: 3.8 MB per minute) and is decoded in one pass.

Every failure raises `VideoDecodeError` whose message starts with the file name and says what to do.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

AUDIO_RATE = 16000


class VideoDecodeError(ValueError):
    """A video that cannot be used; the message names the file and the fix."""


@dataclass
class VideoProbe:
    """What decoding will do with one file (computed from packet timestamps, no frame decoded)."""

    path: str
    source_fps: float
    n_source_frames: int
    width: int  # as displayed (after rotation)
    height: int
    rotation: int  # degrees counter-clockwise applied to decoded frames
    duration_s: float
    fps: float
    seg_len: int
    n_frames: int  # frames after resampling to `fps`
    n_segments: int
    skip_start: int  # resampled frames trimmed at the start (the rest of the leftover at the end)
    has_audio: bool
    audio_rate: int | None = None
    t0: float = 0.0  # first video timestamp, seconds
    times: list = field(default_factory=list, repr=False)  # sorted source frame pts (stream units)
    time_base: float = 0.0
    synthetic_pts: bool = False  # the file has no timestamps: frames are numbered in decode order

    def summary(self) -> dict:
        d = asdict(self)
        d.pop("times")
        return d


def _open(path: Path):
    import av

    if not path.exists():
        raise VideoDecodeError(f"{path}: file not found")
    if path.is_dir():
        raise VideoDecodeError(f"{path}: is a folder, not a video file")
    try:
        return av.open(str(path), metadata_errors="ignore")
    except av.error.FFmpegError as e:
        raise VideoDecodeError(
            f"{path}: cannot open as a video ({_ffmsg(e)}); the file is unreadable, truncated or not a media file"
        ) from None


def _ffmsg(e) -> str:
    return getattr(e, "strerror", None) or str(e)


def _first_frame_rotation(path: Path) -> int:
    """Rotation in degrees counter-clockwise to apply to decoded frames (display matrix), from the
    first decoded frame; PyAV reports the container's display matrix there."""
    import av

    container = _open(path)
    try:
        for frame in container.decode(container.streams.video[0]):
            return int(round((frame.rotation or 0) / 90.0)) * 90 % 360
    except av.error.FFmpegError as e:
        raise VideoDecodeError(f"{path}: cannot decode the first video frame ({_ffmsg(e)}); the file is damaged") from None
    finally:
        container.close()
    raise VideoDecodeError(f"{path}: no video frame could be decoded; the file is empty, damaged or truncated")


def probe_video(path, fps: float = 25.0, seg_len: int = 32) -> VideoProbe:
    """Read packet timestamps (no decoding) and plan the resampling and segmenting."""
    import av

    path = Path(path)
    container = _open(path)
    try:
        if not container.streams.video:
            kinds = sorted({s.type for s in container.streams}) or ["none"]
            raise VideoDecodeError(f"{path}: has no video stream (streams: {', '.join(kinds)}); give a video file")
        vs = container.streams.video[0]
        has_audio = bool(container.streams.audio)
        audio_rate = container.streams.audio[0].rate if has_audio else None
        tb = float(vs.time_base) if vs.time_base else 0.0
        pts = []
        n_nopts = 0
        try:
            for pkt in container.demux(vs):
                if pkt.size == 0:
                    continue
                if pkt.pts is None:
                    n_nopts += 1
                else:
                    pts.append(int(pkt.pts))
        except av.error.FFmpegError as e:
            raise VideoDecodeError(f"{path}: damaged or truncated while reading packets ({_ffmsg(e)})") from None
        rate = float(vs.average_rate or vs.guessed_rate or 0) or None
        synthetic = bool(n_nopts or not tb)
        if synthetic:
            # Raw streams without timestamps: assume a constant rate.
            if not rate:
                raise VideoDecodeError(f"{path}: video stream has neither timestamps nor a frame rate; remux it (ffmpeg -i IN -c copy OUT.mp4)")
            n = len(pts) + n_nopts
            tb = 1.0 / (rate * 1000)
            pts = [int(round(i * 1000)) for i in range(n)]
        pts = sorted(set(pts))
        if not pts:
            raise VideoDecodeError(f"{path}: video stream holds no frames; the file is empty or truncated")
        times = np.asarray(pts, dtype=np.float64) * tb
        if len(times) > 1:
            frame_dur = float(np.median(np.diff(times)))
        else:
            frame_dur = 1.0 / (rate or fps)
        if frame_dur <= 0 or not math.isfinite(frame_dur):
            raise VideoDecodeError(f"{path}: video timestamps are invalid; remux it (ffmpeg -i IN -c copy OUT.mp4)")
        t0 = float(times[0])
        span = float(times[-1] - t0 + frame_dur)
        n_frames = int(math.floor(span * fps + 1e-6))
        source_fps = 1.0 / frame_dur
        n_segments = n_frames // seg_len
        leftover = n_frames - n_segments * seg_len
        cc = vs.codec_context
        width, height = int(cc.width or 0), int(cc.height or 0)
    finally:
        container.close()
    rotation = _first_frame_rotation(path)
    if rotation % 180:
        width, height = height, width
    return VideoProbe(
        path=str(path), source_fps=round(source_fps, 4), n_source_frames=len(pts), width=width, height=height,
        rotation=rotation, duration_s=round(span, 4), fps=fps, seg_len=seg_len, n_frames=n_frames,
        n_segments=n_segments, skip_start=leftover // 2, has_audio=has_audio, audio_rate=audio_rate, t0=t0,
        times=pts, time_base=tb, synthetic_pts=synthetic,
    )


def require_segments(probe: VideoProbe) -> None:
    if probe.n_segments < 1:
        need = probe.seg_len / probe.fps
        raise VideoDecodeError(
            f"{probe.path}: too short: {probe.duration_s:.2f} s gives {probe.n_frames} frames at {probe.fps:g} fps, "
            f"fewer than one {probe.seg_len}-frame segment ({need:.2f} s); use a longer clip"
        )


def resize_crop(img: np.ndarray, resize: int, crop: int) -> np.ndarray:
    """(H, W, 3) uint8 -> short side `resize` -> centre crop `crop` x `crop` (uint8)."""
    import cv2

    h, w = img.shape[:2]
    s = resize / min(h, w)
    nh, nw = max(crop, int(round(h * s))), max(crop, int(round(w * s)))
    if (nh, nw) != (h, w):
        interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
        img = cv2.resize(img, (nw, nh), interpolation=interp)
    y, x = (nh - crop) // 2, (nw - crop) // 2
    return np.ascontiguousarray(img[y : y + crop, x : x + crop])


def iter_segments(probe: VideoProbe, resize: int = 256, crop: int = 224) -> Iterator[np.ndarray]:
    """Yield one (seg_len, crop, crop, 3) uint8 RGB array per segment, in order."""
    import av

    require_segments(probe)
    path = Path(probe.path)
    times = np.asarray(probe.times, dtype=np.int64)
    tsec = times * probe.time_base
    keep = np.arange(probe.skip_start, probe.skip_start + probe.n_segments * probe.seg_len)
    # Source frame shown at output time t_k: the last one with timestamp <= t_k (a small tolerance
    # keeps 25 -> 25 fps an identity despite rounding in the time base).
    tk = probe.t0 + keep / probe.fps + 1e-4 / probe.fps
    src = np.clip(np.searchsorted(tsec, tk, side="right") - 1, 0, len(times) - 1)
    wanted: dict[int, list[int]] = {}
    for out_i, s in enumerate(src):
        wanted.setdefault(int(times[s]), []).append(out_i)
    last_needed = int(times[src.max()])

    # Scale in swscale while converting to RGB (stored orientation), then rotate for display.
    w, h = (probe.height, probe.width) if probe.rotation % 180 else (probe.width, probe.height)
    sc = resize / min(w, h)
    dw, dh = max(crop, int(round(w * sc))), max(crop, int(round(h * sc)))
    k = probe.rotation // 90

    seg = np.empty((probe.seg_len, crop, crop, 3), np.uint8)
    filled = 0
    next_seg = 0
    container = _open(path)
    try:
        vs = container.streams.video[0]
        vs.thread_type = "AUTO"
        pending: dict[int, np.ndarray] = {}
        fallback_idx = 0
        use_index = probe.synthetic_pts
        try:
            for frame in container.decode(vs):
                key = fallback_idx * 1000 if use_index else frame.pts
                fallback_idx += 1
                if key is None or key not in wanted:
                    if key is not None and key > last_needed:
                        break
                    continue
                img = frame.reformat(width=dw, height=dh, format="rgb24").to_ndarray()
                if k:
                    img = np.rot90(img, k)
                img = resize_crop(img, resize, crop)
                for out_i in wanted[key]:
                    pending[out_i] = img
                # Emit complete segments in order.
                while True:
                    base = next_seg * probe.seg_len
                    while filled < probe.seg_len and (base + filled) in pending:
                        seg[filled] = pending.pop(base + filled)
                        filled += 1
                    if filled < probe.seg_len:
                        break
                    yield seg.copy()
                    next_seg += 1
                    filled = 0
                    if next_seg == probe.n_segments:
                        return
                if key >= last_needed:
                    break
        except av.error.FFmpegError as e:
            raise VideoDecodeError(
                f"{path}: decoding failed at segment {next_seg + 1}/{probe.n_segments} ({_ffmsg(e)}); "
                f"the file is damaged or truncated"
            ) from None
    finally:
        container.close()
    if next_seg < probe.n_segments:
        raise VideoDecodeError(
            f"{path}: decoded only {next_seg} of {probe.n_segments} segments; the file is damaged or truncated "
            f"(re-encode it, e.g. ffmpeg -i IN -c:v libx264 OUT.mp4)"
        )


def load_audio(path, rate: int = AUDIO_RATE) -> tuple[np.ndarray, float]:
    """Whole first audio track as 16-kHz mono float32 in [-1, 1], and its start time in seconds."""
    import av

    path = Path(path)
    container = _open(path)
    try:
        if not container.streams.audio:
            raise VideoDecodeError(
                f"{path}: has no audio stream; pass --allow-silent to write zero audio features marked silent"
            )
        st = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        parts = []
        start = None
        try:
            for frame in container.decode(st):
                if start is None and frame.pts is not None and frame.time_base is not None:
                    start = float(frame.pts * frame.time_base)
                for out in resampler.resample(frame):
                    parts.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                parts.append(out.to_ndarray().reshape(-1))
        except av.error.FFmpegError as e:
            raise VideoDecodeError(f"{path}: audio decoding failed ({_ffmsg(e)}); the file is damaged or truncated") from None
    finally:
        container.close()
    wav = np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)
    return np.clip(wav, -1.0, 1.0), float(start or 0.0)


def audio_chunks(wav: np.ndarray, audio_start: float, probe: VideoProbe, rate: int = AUDIO_RATE,
                 samples: int | None = None) -> np.ndarray:
    """(n_segments, samples) chunks, chunk i covering the time of video segment i; zero-padded.
    `samples` longer than a segment (an extractor that hears context, e.g. musicnn's 3 s) centres
    each chunk on its segment."""
    seg = int(round(probe.seg_len / probe.fps * rate))
    n = samples or seg
    out = np.zeros((probe.n_segments, n), np.float32)
    for i in range(probe.n_segments):
        t = probe.t0 + (probe.skip_start + i * probe.seg_len) / probe.fps - audio_start
        a = int(round(t * rate)) - (n - seg) // 2
        lo, hi = max(a, 0), min(a + n, len(wav))
        if hi > lo:
            out[i, lo - a : hi - a] = wav[lo:hi]
    return out
