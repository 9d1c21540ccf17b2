"""musicnn (Pons & Serra, "musicnn: pre-trained convolutional neural networks for music audio tagging",
ISMIR 2019 LBD) in PyTorch, loading the authors' TensorFlow-1 checkpoints from the `musicnn` PyPI wheel
without TensorFlow (lmac.features.tf_checkpoint reads the bundle).

Architecture (`MTT_musicnn`, `MSD_musicnn`), on a 3-s log-mel patch (187 frames x 96 bands):
- input batch norm (one channel);
- front end, musically motivated: two *timbral* convs spanning 7 frames x 38 / 67 bands (40% / 70% of the
  bands; 204 filters each, time padded by 3, valid in frequency) and three *temporal* convs spanning 128 /
  64 / 32 frames x 1 band (51 filters each, "same" padding); each is ReLU, batch norm, then a max over
  frequency -> (T, 561) together;
- mid end: three 1-D convs over time (7 frames, 64 filters, ReLU, batch norm), the 2nd and 3rd residual;
  the front end's and the three convs' outputs are concatenated -> (T, 753);
- back end: max and mean over time -> 1506 (interleaved per channel: max, mean), batch norm, dense 200 +
  ReLU + batch norm (the *penultimate* embedding), dense 50 -> sigmoid tag probabilities.
TF layers are built in that order, so `conv2d`, `conv2d_1`, ... and `batch_normalization`, `_1`, ... name
them in turn. Batch norm uses TF's epsilon 1e-3.

Preprocessing as the original (`musicnn/extractor.py`, librosa 0.7 defaults): 16-kHz mono, STFT with a
512-point periodic Hann window and hop 256, power spectrogram, 96 Slaney mel bands (0-8000 Hz, area
normalised), cast to float16, then log10(10000 x + 1).

As an lmac audio extractor (`musicnn`), each 1.28-s segment gets the 3-s patch centred on it and yields
the 200-d penultimate embedding (`layer="penultimate"`, the default) or the 1506-d pooled features.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lmac.features import EXTRACTORS
from lmac.features.base import SAMPLE_RATE, Extractor
from lmac.features.weights import WeightsError, WeightsSpec, package_file, register_weights, sha256_file

SR, N_FFT, HOP, N_MELS = 16000, 512, 256, 96
N_FRAMES = 187  # 3 s: the patch the models were trained on
PATCH_SAMPLES = (N_FRAMES - 1) * HOP + N_FFT  # 48128 samples give exactly 187 frames without centring
BN_EPS = 1e-3
MTT_LABELS = (
    "guitar", "classical", "slow", "techno", "strings", "drums", "electronic", "rock", "fast", "piano", "ambient",
    "beat", "violin", "vocal", "synth", "female", "indian", "opera", "male", "singing", "vocals", "no vocals",
    "harpsichord", "loud", "quiet", "flute", "woman", "male vocal", "no vocal", "pop", "soft", "sitar", "solo", "man",
    "classic", "choir", "voice", "new age", "dance", "male voice", "female vocal", "beats", "harp", "cello",
    "no voice", "weird", "country", "metal", "female voice", "choral",
)
MSD_LABELS = (
    "rock", "pop", "alternative", "indie", "electronic", "female vocalists", "dance", "00s", "alternative rock", "jazz",
    "beautiful", "metal", "chillout", "male vocalists", "classic rock", "soul", "indie rock", "Mellow", "electronica",
    "80s", "folk", "90s", "chill", "instrumental", "punk", "oldies", "blues", "hard rock", "ambient", "acoustic",
    "experimental", "female vocalist", "guitar", "Hip-Hop", "70s", "party", "country", "easy listening", "sexy",
    "catchy", "funk", "electro", "heavy metal", "Progressive rock", "60s", "rnb", "indie pop", "sad", "House", "happy",
)


# ----------------------------------------------------------------------------------------------
# Preprocessing


def _hz_to_mel(f):
    """Slaney's mel scale (librosa's default, htk=False): linear below 1 kHz, logarithmic above."""
    f = np.asarray(f, dtype=np.float64)
    f_sp, min_log_hz, logstep = 200.0 / 3, 1000.0, math.log(6.4) / 27.0
    return np.where(f >= min_log_hz, min_log_hz / f_sp + np.log(np.maximum(f, 1e-10) / min_log_hz) / logstep, f / f_sp)


def _mel_to_hz(m):
    m = np.asarray(m, dtype=np.float64)
    f_sp, min_log_hz, logstep = 200.0 / 3, 1000.0, math.log(6.4) / 27.0
    min_log_mel = min_log_hz / f_sp
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), f_sp * m)


def mel_filterbank(sr: int = SR, n_fft: int = N_FFT, n_mels: int = N_MELS) -> np.ndarray:
    """(n_mels, n_fft // 2 + 1) triangular filters on Slaney's mel scale, area-normalised (librosa's
    `filters.mel` defaults: fmin 0, fmax sr / 2, htk False, norm "slaney")."""
    fft_freqs = np.linspace(0, sr / 2, n_fft // 2 + 1)
    mel_f = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(sr / 2), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2 : n_mels + 2] - mel_f[:n_mels]))[:, None]
    return weights.astype(np.float32)


_MEL = None


def log_mel_patches(audio: np.ndarray) -> np.ndarray:
    """(B, PATCH_SAMPLES) 16-kHz audio -> (B, 187, 96) log-mel patches, as the original preprocessing."""
    global _MEL
    if _MEL is None:
        _MEL = mel_filterbank()
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim != 2 or audio.shape[1] < N_FFT:
        raise ValueError(f"musicnn: audio patches must be (B, >= {N_FFT}) samples, got {audio.shape}")
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)  # periodic Hann
    n = 1 + (audio.shape[1] - N_FFT) // HOP
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(n)[:, None]
    frames = audio[:, idx] * window  # (B, n, N_FFT)
    power = np.abs(np.fft.rfft(frames, axis=-1)) ** 2
    mel = (power @ _MEL.T).astype(np.float16)  # the original stores its spectrograms in float16
    return np.log10(10000.0 * mel.astype(np.float32) + 1.0)


# ----------------------------------------------------------------------------------------------
# The network


def _bn(channels: int) -> nn.BatchNorm1d:
    return nn.BatchNorm1d(channels, eps=BN_EPS)


class MusiCNN(nn.Module):
    def __init__(self, n_mels: int = N_MELS, num_classes: int = 50, front_filters: float = 1.6, mid_filters: int = 64,
                 backend_units: int = 200):
        super().__init__()
        timbral, temporal = int(front_filters * 128), int(front_filters * 32)
        self.input_bn = nn.BatchNorm2d(1, eps=BN_EPS)
        self.timbral = nn.ModuleList(nn.Conv2d(1, timbral, (7, int(r * n_mels))) for r in (0.4, 0.7))
        # the front end's batch norm comes before the max over frequency (a negative scale would turn it into a min)
        self.timbral_bn = nn.ModuleList(nn.BatchNorm2d(timbral, eps=BN_EPS) for _ in range(2))
        self.temporal = nn.ModuleList(nn.Conv2d(1, temporal, (k, 1)) for k in (128, 64, 32))
        self.temporal_bn = nn.ModuleList(nn.BatchNorm2d(temporal, eps=BN_EPS) for _ in range(3))
        front = 2 * timbral + 3 * temporal
        self.mid = nn.ModuleList(nn.Conv1d(c, mid_filters, 7) for c in (front, mid_filters, mid_filters))
        self.mid_bn = nn.ModuleList(_bn(mid_filters) for _ in range(3))
        pooled = 2 * (front + 3 * mid_filters)
        self.pool_bn = _bn(pooled)
        self.dense = nn.Linear(pooled, backend_units)
        self.dense_bn = _bn(backend_units)
        self.classifier = nn.Linear(backend_units, num_classes)
        self.front_dim, self.pooled_dim, self.embed_dim = front, pooled, backend_units

    def forward(self, logmel: torch.Tensor) -> dict:
        """(B, T, n_mels) log-mel -> {"logits" (B, C), "penultimate" (B, 200), "pooled" (B, 1506),
        "frontend" (B, 561, T)}."""
        x = self.input_bn(logmel.unsqueeze(1))  # (B, 1, T, F)
        padded = F.pad(x, (0, 0, 3, 3))  # time only: "same" in time, valid in frequency (max-pooled after)
        feats = [self._conv_relu_bn_fmax(conv, bn, padded) for conv, bn in zip(self.timbral, self.timbral_bn)]
        for conv, bn in zip(self.temporal, self.temporal_bn):
            k = conv.kernel_size[0]  # TF "same": the extra pad goes after
            feats.append(self._conv_relu_bn_fmax(conv, bn, F.pad(x, (0, 0, (k - 1) // 2, k // 2))))
        front = torch.cat(feats, dim=1)  # (B, 561, T)
        levels = [front]
        h = front
        for i, (conv, bn) in enumerate(zip(self.mid, self.mid_bn)):
            y = bn(F.relu(conv(F.pad(h, (3, 3)))))
            h = y if i == 0 else y + h
            levels.append(h)
        mid = torch.cat(levels, dim=1)  # (B, 753, T)
        pooled = torch.stack([mid.amax(dim=2), mid.mean(dim=2)], dim=2).flatten(1)  # (B, 1506): max, mean per channel
        penultimate = self.dense_bn(F.relu(self.dense(self.pool_bn(pooled))))
        return {"logits": self.classifier(penultimate), "penultimate": penultimate, "pooled": pooled, "frontend": front}

    @staticmethod
    def _conv_relu_bn_fmax(conv: nn.Conv2d, bn: nn.BatchNorm2d, x: torch.Tensor) -> torch.Tensor:
        """max over frequency of bn(relu(conv(x))) -> (B, C, T). In evaluation, ReLU and batch norm act per
        channel and are monotone: the max of a channel with a positive scale is the image of the max, with a
        negative scale of the min. Reducing first runs them on a frequency-th of the values."""
        y = conv(x)  # (B, C, T, F)
        if bn.training:
            return bn(F.relu(y)).amax(dim=3)
        flip = (bn.weight < 0)[None, :, None]
        z = F.relu(torch.where(flip, y.amin(dim=3), y.amax(dim=3))).unsqueeze(3)
        return bn(z).squeeze(3)

    def load_tf(self, w: dict, source: str = "checkpoint") -> None:
        """Load the variables of a musicnn TF checkpoint (lmac.features.tf_checkpoint.read_checkpoint)."""

        def t(name):
            if name not in w:
                raise WeightsError(f"{source}: no variable {name!r}; is this a musicnn checkpoint?")
            return torch.from_numpy(np.ascontiguousarray(w[name]))

        def conv(module, name):
            k = t(f"{name}/kernel")  # TF (kh, kw, in, out)
            k = k.permute(3, 2, 0, 1) if module.weight.dim() == 4 else k[:, :, 0, :].permute(2, 1, 0)
            if tuple(k.shape) != tuple(module.weight.shape):
                raise WeightsError(f"{source}: {name}/kernel has shape {tuple(w[name + '/kernel'].shape)}, "
                                   f"which does not fit {tuple(module.weight.shape)}")
            module.weight.data.copy_(k)
            module.bias.data.copy_(t(f"{name}/bias"))

        def bn(module, name):
            for ours, theirs in (("weight", "gamma"), ("bias", "beta"), ("running_mean", "moving_mean"),
                                 ("running_var", "moving_variance")):
                value = t(f"{name}/{theirs}")
                if value.shape != getattr(module, ours).shape:
                    raise WeightsError(f"{source}: {name}/{theirs} has shape {tuple(value.shape)}, expected "
                                       f"{tuple(getattr(module, ours).shape)}")
                getattr(module, ours).data.copy_(value)

        convs = [*self.timbral, *self.temporal]
        bns = [self.input_bn, *self.timbral_bn, *self.temporal_bn]
        for i, m in enumerate(convs):
            conv(m, "conv2d" if i == 0 else f"conv2d_{i}")
        for j, m in enumerate(self.mid):  # 1-D convs stored as (7, width, 1, out) 2-D kernels
            name = f"conv2d_{len(convs) + j}"
            k = t(f"{name}/kernel")[:, :, 0, :].permute(2, 1, 0)  # (out, in, 7)
            if tuple(k.shape) != tuple(m.weight.shape):
                raise WeightsError(f"{source}: {name}/kernel does not fit {tuple(m.weight.shape)}")
            m.weight.data.copy_(k)
            m.bias.data.copy_(t(f"{name}/bias"))
        for i, m in enumerate([*bns, *self.mid_bn, self.pool_bn, self.dense_bn]):
            bn(m, "batch_normalization" if i == 0 else f"batch_normalization_{i}")
        for m, name in ((self.dense, "dense"), (self.classifier, "dense_1")):
            k = t(f"{name}/kernel").T
            if tuple(k.shape) != tuple(m.weight.shape):
                raise WeightsError(f"{source}: {name}/kernel does not fit {tuple(m.weight.shape)}")
            m.weight.data.copy_(k)
            m.bias.data.copy_(t(f"{name}/bias"))


# ----------------------------------------------------------------------------------------------
# Weights and the extractor

MUSICNN_MTT = register_weights(WeightsSpec(
    name="musicnn.mtt", extractor="musicnn",
    description="musicnn trained on MagnaTagATune (50 tags), TF-1 checkpoint shipped in the PyPI wheel musicnn 0.1.0",
    layout="tf-bundle-musicnn", source="package:musicnn:musicnn/MTT_musicnn/.index",
    url="https://pypi.org/project/musicnn/0.1.0/ (pip install --no-deps musicnn==0.1.0)",
    sha256="b982614ad97e43cd7095b12d4495035418b22c090a49bf4431454274826d8e84",  # bundle_sha256 of .index + .data
    license="ISC (musicnn)", provenance="github.com/jordipons/musicnn, MTT_musicnn",
    input_contract={"sample_rate": SR, "n_fft": N_FFT, "hop": HOP, "n_mels": N_MELS, "patch_frames": N_FRAMES},
))
MUSICNN_MSD = register_weights(WeightsSpec(
    name="musicnn.msd", extractor="musicnn",
    description="musicnn trained on the Million Song Dataset (50 tags), from the PyPI wheel musicnn 0.1.0",
    layout="tf-bundle-musicnn", source="package:musicnn:musicnn/MSD_musicnn/.index",
    url="https://pypi.org/project/musicnn/0.1.0/ (pip install --no-deps musicnn==0.1.0)",
    sha256="257eca58eeba19aa59d881c2d50062c1ff9200f3e620ed832fc46383b121e0b8",
    license="ISC (musicnn)", provenance="github.com/jordipons/musicnn, MSD_musicnn",
    input_contract=MUSICNN_MTT.input_contract,
))


def checkpoint_prefix(spec: WeightsSpec = MUSICNN_MTT) -> str:
    """The packaged checkpoint's prefix: the path without `.index`, a string (musicnn's files are named
    `.index` inside a folder, so the prefix ends in a slash that a Path would drop)."""
    index = package_file(spec)
    if index is None:
        raise WeightsError("musicnn: the packaged checkpoints were not found; install them with "
                           "`pip install --no-deps musicnn==0.1.0` (never imported: it needs TensorFlow), "
                           "or use --preset offline-stats (a hand-made audio descriptor)")
    return str(index)[: -len(".index")]


def bundle_files(prefix: str) -> list[Path]:
    index = Path(prefix + ".index")
    return [index, *sorted(index.parent.glob(index.name[: -len("index")] + "data-*"))]


def bundle_sha256(prefix: str) -> str:
    """One SHA-256 over a bundle's index and data files, in that order."""
    import hashlib

    h = hashlib.sha256()
    for path in bundle_files(prefix):
        h.update(path.name.encode())
        h.update(bytes.fromhex(sha256_file(path)))
    return h.hexdigest()


def load_musicnn(prefix=None, spec: WeightsSpec = MUSICNN_MTT) -> MusiCNN:
    from lmac.features.tf_checkpoint import read_checkpoint

    prefix = str(prefix) if prefix is not None else checkpoint_prefix(spec)
    model = MusiCNN()
    model.load_tf(read_checkpoint(prefix), str(prefix))
    return model.eval()


class MusiCNNExtractor(Extractor):
    """Per 1.28-s segment, the 3-s log-mel patch centred on it through musicnn: the penultimate embedding
    (200-d) or the pooled features (1506-d)."""

    name = "musicnn"
    modality = "audio"
    input = "audio"
    context_samples = PATCH_SAMPLES  # the driver hands each segment this much audio, centred on it

    def __init__(self, weights=None, layer: str = "penultimate"):
        super().__init__()
        if layer not in ("penultimate", "pooled"):
            raise ValueError(f"musicnn layer must be penultimate or pooled, got {layer!r}")
        self.layer = layer
        prefix = (str(weights)[: -len(".index")] if str(weights).endswith(".index") else str(weights)) \
            if weights is not None else checkpoint_prefix()
        self.model = load_musicnn(prefix)
        self.dim = self.model.embed_dim if layer == "penultimate" else self.model.pooled_dim
        self.weights_path = Path(prefix + ".index")
        self.weights_sha256 = bundle_sha256(prefix)
        self.weights_spec = MUSICNN_MTT.name if weights is None else "user-file"
        if weights is None and self.weights_sha256 != MUSICNN_MTT.sha256:
            raise WeightsError(f"{prefix}.index: SHA-256 differs from the musicnn 0.1.0 wheel's MTT_musicnn "
                               "checkpoint; reinstall it (pip install --no-deps --force-reinstall musicnn==0.1.0)")

    def to(self, device):
        self.model.to(device)
        return super().to(device)

    @torch.inference_mode()
    def run(self, audio: np.ndarray) -> dict:
        x = torch.from_numpy(log_mel_patches(audio)).to(self.device)
        return self.model(x)

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        return self.run(batch)[self.layer].float().cpu().numpy()

    def tags(self, batch: np.ndarray) -> np.ndarray:
        """(B, 50) MagnaTagATune tag probabilities (the checkpoint's classifier)."""
        return torch.sigmoid(self.run(batch)["logits"]).float().cpu().numpy()

    def settings(self) -> dict:
        return {"layer": self.layer, "patch": f"{N_FRAMES} frames (3 s) centred on the segment",
                "mel": f"{N_MELS} Slaney bands, STFT {N_FFT}/{HOP}, log10(10000 x + 1)"}


@EXTRACTORS.register("musicnn", modality="audio", dim=200, fps=25, clip_len=32, sample_rate=SAMPLE_RATE,
                     input="audio", weights=[MUSICNN_MTT.name, MUSICNN_MSD.name], needs_weights=False)
def create_musicnn(weights=None):
    return MusiCNNExtractor(weights)
