"""Hand-crafted descriptors computed without learned weights, for the `offline` preset.

They run on a fresh machine with nothing downloaded. They are not the public features: a model
trained on them only applies to features made the same way (the manifest records which).

`flow-hof` (104-d per segment), from dense optical flow (DIS by default) at the crop size:
  - [0:80]   histogram of flow orientations weighted by magnitude: 2 temporal halves x 5 regions
             (whole frame, 2x2 grid) x 8 orientation bins, each the mean magnitude per pixel and
             frame falling in the bin, log1p-compressed;
  - [80:96]  per temporal quarter: mean, std and 95th percentile of the magnitude (log1p) and the
             fraction of pixels moving more than 1 px/frame;
  - [96:104] per temporal quarter: mean dx and dy (global motion, e.g. camera pans), sign-kept
             log1p.
`audio-stats` (149-d per 1.28-s chunk), 16 kHz, 25-ms Hann windows, 10-ms hop, 512-point FFT:
  - [0:64]    mean log-mel energy, 64 HTK mel bands 20-8000 Hz;
  - [64:128]  std of the same;
  - [128:140] mean chroma (12 pitch classes, 55-5000 Hz, each frame normalised to sum 1);
  - [140:143] onset strength (half-wave rectified log-mel flux, mean over bands): mean, std, max;
  - [143:145] frame RMS in dB (floor -100): mean, std, divided by 100;
  - [145:147] spectral centroid / 8000 Hz: mean, std;
  - [147]     zero-crossing rate (mean);
  - [148]     fraction of silent frames (RMS below -60 dB).
"""
from __future__ import annotations

import numpy as np

from lmac.features import EXTRACTORS
from lmac.features.base import CLIP_LEN, FPS, SAMPLE_RATE, Extractor

FLOW_HOF_DIM = 104
AUDIO_STATS_DIM = 149


def _slog(x):
    return np.sign(x) * np.log1p(np.abs(x))


def flow_hof(flow: np.ndarray, bins: int = 8) -> np.ndarray:
    """(T, H, W, 2) flow in pixels -> (104,) descriptor."""
    t, h, w, _ = flow.shape
    dx, dy = flow[..., 0], flow[..., 1]
    mag = np.sqrt(dx * dx + dy * dy)
    ang = np.mod(np.arctan2(dy, dx), 2 * np.pi)
    b = np.minimum((ang / (2 * np.pi) * bins).astype(np.int64), bins - 1)
    regions = [(slice(0, h), slice(0, w))]
    for i in range(2):
        for j in range(2):
            regions.append((slice(i * h // 2, (i + 1) * h // 2), slice(j * w // 2, (j + 1) * w // 2)))
    hof = []
    for half in np.array_split(np.arange(t), 2):
        for ys, xs in regions:
            m = mag[half][:, ys, xs].reshape(-1)
            bb = b[half][:, ys, xs].reshape(-1)
            hist = np.bincount(bb, weights=m, minlength=bins) / max(len(m), 1)
            hof.append(np.log1p(hist))
    stats, glob = [], []
    for q in np.array_split(np.arange(t), 4):
        m = mag[q].reshape(-1)
        stats += [np.log1p(m.mean()), np.log1p(m.std()), np.log1p(np.percentile(m, 95)), float((m > 1.0).mean())]
        glob += [_slog(dx[q].mean()), _slog(dy[q].mean())]
    out = np.concatenate([np.concatenate(hof), np.asarray(stats), np.asarray(glob)]).astype(np.float32)
    assert out.shape == (FLOW_HOF_DIM,)
    return out


def _hz_to_mel(f):
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def _mel_to_hz(m):
    return 700.0 * (10 ** (np.asarray(m, dtype=np.float64) / 2595.0) - 1.0)


def mel_filters(n_mels: int, n_fft: int, sr: int, fmin: float, fmax: float) -> np.ndarray:
    """(n_mels, n_fft // 2 + 1) triangular HTK-mel filters (peak 1)."""
    freqs = np.linspace(0, sr / 2, n_fft // 2 + 1)
    pts = _mel_to_hz(np.linspace(_hz_to_mel(fmin), _hz_to_mel(fmax), n_mels + 2))
    fb = np.zeros((n_mels, len(freqs)))
    for i in range(n_mels):
        lo, c, hi = pts[i], pts[i + 1], pts[i + 2]
        fb[i] = np.clip(np.minimum((freqs - lo) / (c - lo), (hi - freqs) / (hi - c)), 0, None)
    return fb.astype(np.float32)


def chroma_filters(n_fft: int, sr: int, fmin: float = 55.0, fmax: float = 5000.0) -> np.ndarray:
    """(12, n_fft // 2 + 1) 0/1 map of FFT bins to pitch classes (C = 0)."""
    freqs = np.linspace(0, sr / 2, n_fft // 2 + 1)
    fb = np.zeros((12, len(freqs)), np.float32)
    ok = (freqs >= fmin) & (freqs <= fmax)
    midi = 69 + 12 * np.log2(np.where(ok, freqs, 1.0) / 440.0)
    pc = np.mod(np.round(midi).astype(np.int64), 12)
    fb[pc[ok], np.nonzero(ok)[0]] = 1.0
    return fb


class AudioStats:
    def __init__(self, sr: int = SAMPLE_RATE, n_fft: int = 512, win: int = 400, hop: int = 160, n_mels: int = 64):
        self.sr, self.n_fft, self.win, self.hop = sr, n_fft, win, hop
        self.window = np.hanning(win + 2)[1:-1].astype(np.float32)  # periodic-free Hann, no zero ends
        self.mel = mel_filters(n_mels, n_fft, sr, 20.0, sr / 2)
        self.chroma = chroma_filters(n_fft, sr)
        self.freqs = np.linspace(0, sr / 2, n_fft // 2 + 1).astype(np.float32)

    def __call__(self, wav: np.ndarray) -> np.ndarray:
        wav = np.asarray(wav, np.float32)
        if len(wav) < self.win:
            wav = np.pad(wav, (0, self.win - len(wav)))
        n = 1 + (len(wav) - self.win) // self.hop
        idx = np.arange(self.win)[None, :] + self.hop * np.arange(n)[:, None]
        frames = wav[idx]  # (n, win)
        spec = np.abs(np.fft.rfft(frames * self.window, n=self.n_fft)) ** 2  # (n, F)
        logmel = np.log(spec @ self.mel.T + 1e-10)  # (n, 64)
        chroma = spec @ self.chroma.T
        chroma = chroma / np.maximum(chroma.sum(1, keepdims=True), 1e-10)
        flux = np.maximum(np.diff(logmel, axis=0), 0).mean(1) if n > 1 else np.zeros(1)
        rms_db = 10 * np.log10(np.maximum((frames**2).mean(1), 1e-10))
        rms_db = np.maximum(rms_db, -100.0)
        power = spec.sum(1)
        centroid = (spec @ self.freqs) / np.maximum(power, 1e-10) / (self.sr / 2)
        zcr = (np.abs(np.diff(np.signbit(frames).astype(np.int8), axis=1)).sum(1)) / self.win
        out = np.concatenate(
            [
                logmel.mean(0), logmel.std(0), chroma.mean(0),
                [flux.mean(), flux.std(), flux.max()],
                [rms_db.mean() / 100, rms_db.std() / 100],
                [centroid.mean(), centroid.std()],
                [zcr.mean()],
                [float((rms_db < -60).mean())],
            ]
        ).astype(np.float32)
        assert out.shape == (AUDIO_STATS_DIM,)
        return out


class FlowHofExtractor(Extractor):
    name = "flow-hof"
    modality = "flow"
    input = "flow"
    dim = FLOW_HOF_DIM

    def __call__(self, batch):
        return np.stack([flow_hof(np.asarray(f, np.float32)) for f in batch])

    def settings(self):
        return {"descriptor": "HOF 2 halves x 5 regions x 8 bins + magnitude stats + global motion", "version": 1}


class AudioStatsExtractor(Extractor):
    name = "audio-stats"
    modality = "audio"
    input = "audio"
    dim = AUDIO_STATS_DIM

    def __init__(self):
        super().__init__()
        self.fn = AudioStats()

    def __call__(self, batch):
        return np.stack([self.fn(w) for w in batch])

    def settings(self):
        return {"descriptor": "log-mel 64 mean/std, chroma 12, onset 3, rms 2, centroid 2, zcr, silence", "version": 1}


@EXTRACTORS.register(
    "flow-hof", modality="flow", dim=FLOW_HOF_DIM, fps=FPS, clip_len=CLIP_LEN, sample_rate=None, input="flow",
    weights=[], needs_weights=False,
)
def create_flow_hof(weights=None):
    if weights is not None:
        raise ValueError("flow-hof has no weights; drop --weights flow-hof=...")
    return FlowHofExtractor()


@EXTRACTORS.register(
    "audio-stats", modality="audio", dim=AUDIO_STATS_DIM, fps=FPS, clip_len=CLIP_LEN, sample_rate=SAMPLE_RATE,
    input="audio", weights=[], needs_weights=False,
)
def create_audio_stats(weights=None):
    if weights is not None:
        raise ValueError("audio-stats has no weights; drop --weights audio-stats=...")
    return AudioStatsExtractor()
