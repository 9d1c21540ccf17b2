"""Audio Spectrogram Transformer features (`ast`), Hugging Face `transformers.ASTModel`.

Per 1.28-s chunk (20480 samples at 16 kHz): the chunk minus its mean -> 128-bin Kaldi fbank
(25-ms Hann window, 10-ms shift, pre-emphasis 0.97, per-frame DC removal, 512-point FFT, Kaldi mel
scale 20 Hz..8 kHz, natural log) = 126 frames, zero-padded to the model's `max_length` (1024 for
the AudioSet checkpoint), normalised as (fbank + 4.2677393) / (4.5689974 * 2) -> ASTModel ->
pooled output, the mean of the CLS and distillation tokens (what AST's classifier reads): 768-d.
`kaldi_fbank` is ours (torchaudio is not a dependency); a test checks it against transformers'
`ASTFeatureExtractor`.

Weights (never downloaded here):
- a local Hugging Face directory (`config.json` + weights), e.g. a snapshot of
  `MIT/ast-finetuned-audioset-10-10-0.4593`, loaded with `local_files_only=True`;
- a single file: an HF-layout state dict (`.safetensors`/`.bin`, ASTModel or
  ASTForAudioClassification keys) or the original AST repository's `audioset_10_10_0.4593.pth`
  (`module.v.*` keys, mapped here). A `config.json` beside the file is used when present, else the
  AudioSet base configuration (transformers' `ASTConfig()` defaults).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from lmac.features import EXTRACTORS
from lmac.features.base import CLIP_LEN, FPS, SAMPLE_RATE, Extractor
from lmac.features.weights import (
    WeightsError,
    WeightsSpec,
    load_strict,
    read_checkpoint,
    register_weights,
    sha256_file,
    strip_prefixes,
)

AST_MEAN = -4.2677393
AST_STD = 4.5689974
_EPS = float(np.finfo(np.float32).eps)

AST_AUDIOSET = register_weights(
    WeightsSpec(
        name="ast_base.audioset_10_10_0.4593",
        extractor="ast",
        description="AST base, ImageNet + AudioSet (mAP 0.4593), the public PAMFN audio features' backbone",
        layout="hf-directory | hf-state-dict | ast-original",
        source="user-dir",
        url="https://huggingface.co/MIT/ast-finetuned-audioset-10-10-0.4593 (or audioset_10_10_0.4593.pth "
        "from github.com/YuanGongND/ast)",
        license="BSD-3-Clause",
        provenance="Gong et al., AST: Audio Spectrogram Transformer, Interspeech 2021",
        input_contract={"sample_rate": SAMPLE_RATE, "mel_bins": 128, "frame_shift_ms": 10, "max_length": 1024,
                        "norm": [AST_MEAN, AST_STD * 2]},
    )
)


def _kaldi_mel(f):
    return 1127.0 * np.log(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def kaldi_mel_banks(n_mels=128, n_fft=512, sr=SAMPLE_RATE, low=20.0, high=0.0) -> np.ndarray:
    """(n_mels, n_fft // 2 + 1) Kaldi triangular filters (triangles in mel space; Nyquist bin 0)."""
    nyq = sr / 2
    high = nyq + high if high <= 0 else high
    n_bins = n_fft // 2
    lo_mel, hi_mel = _kaldi_mel(low), _kaldi_mel(high)
    delta = (hi_mel - lo_mel) / (n_mels + 1)
    mel = _kaldi_mel(sr / n_fft * np.arange(n_bins))
    left = lo_mel + delta * np.arange(n_mels)[:, None]
    center, right = left + delta, left + 2 * delta
    up = (mel[None, :] - left) / (center - left)
    down = (right - mel[None, :]) / (right - center)
    banks = np.maximum(0.0, np.minimum(up, down))
    return np.pad(banks, ((0, 0), (0, 1))).astype(np.float32)


_BANKS: dict = {}


def kaldi_fbank(wav: np.ndarray, sr: int = SAMPLE_RATE, n_mels: int = 128, frame_len_ms: float = 25.0,
                frame_shift_ms: float = 10.0, preemph: float = 0.97) -> np.ndarray:
    """Kaldi-compatible log mel filterbank (snip_edges, no dither, no energy): (frames, n_mels)."""
    wav = np.asarray(wav, np.float64)
    win = int(sr * frame_len_ms / 1000)
    hop = int(sr * frame_shift_ms / 1000)
    n_fft = 1 << (win - 1).bit_length()
    if len(wav) < win:
        return np.zeros((0, n_mels), np.float32)
    n = 1 + (len(wav) - win) // hop
    frames = wav[np.arange(win)[None, :] + hop * np.arange(n)[:, None]]  # (n, win)
    frames = frames - frames.mean(axis=1, keepdims=True)  # per-frame DC removal
    prev = np.concatenate([frames[:, :1], frames[:, :-1]], axis=1)
    frames = frames - preemph * prev  # first sample: x0 - c * x0, as Kaldi
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(win) / (win - 1))  # symmetric Hann
    spec = np.abs(np.fft.rfft(frames * window, n=n_fft)) ** 2  # (n, n_fft/2 + 1)
    key = (n_mels, n_fft, sr)
    if key not in _BANKS:
        _BANKS[key] = kaldi_mel_banks(n_mels, n_fft, sr).astype(np.float64)
    mel = spec @ _BANKS[key].T
    return np.log(np.maximum(mel, _EPS)).astype(np.float32)


def ast_input(wav: np.ndarray, max_length: int = 1024, n_mels: int = 128) -> np.ndarray:
    """One chunk -> normalised (max_length, n_mels) AST input (zero fbank padding before normalising)."""
    wav = np.asarray(wav, np.float32)
    fb = kaldi_fbank(wav - wav.mean(), n_mels=n_mels)
    if len(fb) < max_length:
        fb = np.pad(fb, ((0, max_length - len(fb)), (0, 0)))
    fb = fb[:max_length]
    return ((fb - AST_MEAN) / (AST_STD * 2)).astype(np.float32)


# ----------------------------------------------------------------------------- checkpoint layouts
# Three published layouts are normalised to one canonical naming (transformers >= 5):
#   layers.{i}.attention.{q,k,v,o}_proj, layers.{i}.layernorm_{before,after}, layers.{i}.mlp.fc{1,2},
#   layernorm, embeddings.{cls_token,distillation_token,position_embeddings,patch_embeddings.projection}
# then renamed to whatever the installed transformers' ASTModel uses (4.x: encoder.layer.{i}...).
_V4_TO_CANON = [
    ("attention.attention.query.", "attention.q_proj."),
    ("attention.attention.key.", "attention.k_proj."),
    ("attention.attention.value.", "attention.v_proj."),
    ("attention.output.dense.", "attention.o_proj."),
    ("intermediate.dense.", "mlp.fc1."),
    ("output.dense.", "mlp.fc2."),
]
_ORIG_TO_CANON = {"attn.proj": "attention.o_proj", "norm1": "layernorm_before", "norm2": "layernorm_after",
                  "mlp.fc1": "mlp.fc1", "mlp.fc2": "mlp.fc2"}


def _v4_to_canon(k: str) -> str:
    if k.startswith("encoder.layer."):
        k = "layers." + k[len("encoder.layer."):]
        for a, b in _V4_TO_CANON:
            if a in k:
                return k.replace(a, b, 1)
    return k


def _canon_to_v4(k: str) -> str:
    if k.startswith("layers."):
        k = "encoder.layer." + k[len("layers."):]
        for a, b in _V4_TO_CANON:
            if b in k:
                return k.replace(b, a, 1)
    return k


def map_original_ast(sd: dict) -> dict:
    """Original AST repo (`module.v.*`, timm ViT names) -> canonical keys; classifier dropped."""
    out = {}
    for k, v in strip_prefixes(sd, ("module.",)).items():
        if k.startswith("mlp_head.") or k.startswith("v.head"):
            continue
        if not k.startswith("v."):
            out[k] = v  # reported as unexpected
            continue
        k = k[2:]
        leaf = k.rsplit(".", 1)[-1]
        if k == "cls_token":
            out["embeddings.cls_token"] = v
        elif k == "dist_token":
            out["embeddings.distillation_token"] = v
        elif k == "pos_embed":
            out["embeddings.position_embeddings"] = v
        elif k.startswith("patch_embed.proj."):
            out["embeddings.patch_embeddings.projection." + leaf] = v
        elif k.startswith("norm."):
            out["layernorm." + leaf] = v
        elif k.startswith("blocks."):
            _, i, rest = k.split(".", 2)
            stem = rest.rsplit(".", 1)[0]
            if stem == "attn.qkv":
                q, kk, vv = torch.as_tensor(v).chunk(3, dim=0)  # rows: [q; k; v]
                out[f"layers.{i}.attention.q_proj.{leaf}"] = q
                out[f"layers.{i}.attention.k_proj.{leaf}"] = kk
                out[f"layers.{i}.attention.v_proj.{leaf}"] = vv
            elif stem in _ORIG_TO_CANON:
                out[f"layers.{i}.{_ORIG_TO_CANON[stem]}.{leaf}"] = v
            else:
                out[k] = v
        else:
            out[k] = v
    return out


def ast_checkpoint_filter(sd: dict, source: str, model_keys) -> tuple[dict, str]:
    """Any supported layout -> the installed ASTModel's keys, and the layout's name."""
    sd = strip_prefixes(sd, ("module.", "_orig_mod."))
    keys = list(sd)
    if any(k.startswith("v.") for k in keys):
        canon, layout = map_original_ast(sd), "ast-original"
    elif any(k.startswith("audio_spectrogram_transformer.") for k in keys):
        pre = "audio_spectrogram_transformer."
        canon = {_v4_to_canon(k[len(pre):]): v for k, v in sd.items() if k.startswith(pre)}
        canon.update({k: v for k, v in sd.items() if not k.startswith((pre, "classifier."))})
        layout = "hf-classification"
    elif any(k.startswith("embeddings.") for k in keys):
        canon, layout = {_v4_to_canon(k): v for k, v in sd.items()}, "hf-model"
    else:
        raise WeightsError(
            f"{source}: not an AST checkpoint in a known layout (expected HF 'embeddings.*' / "
            f"'audio_spectrogram_transformer.*' or original 'module.v.*' keys; found {', '.join(keys[:3])})"
        )
    if any(k.startswith("encoder.layer.") for k in model_keys):
        canon = {_canon_to_v4(k): v for k, v in canon.items()}
    return canon, layout


def _require_transformers():
    try:
        import transformers  # noqa: F401
    except ImportError:
        raise RuntimeError("the ast extractor needs transformers: pip install 'lmac[extract]'") from None


class ASTExtractor(Extractor):
    name = "ast"
    modality = "audio"
    input = "audio"

    def __init__(self, weights, pooling: str = "cls_dist"):
        super().__init__()
        _require_transformers()
        from transformers import ASTConfig, ASTModel

        path = Path(weights)
        if not path.exists():
            raise WeightsError(f"{path}: AST weights not found (give a Hugging Face model folder or a checkpoint file)")
        if pooling not in ("cls_dist", "mean"):
            raise ValueError(f"ast pooling must be cls_dist or mean, got {pooling!r}")
        self.pooling = pooling
        if path.is_dir():
            if not (path / "config.json").exists():
                raise WeightsError(f"{path}: no config.json; expected a Hugging Face AST model folder (save_pretrained)")
            try:
                model, info = ASTModel.from_pretrained(str(path), local_files_only=True, output_loading_info=True)
            except Exception as e:
                raise WeightsError(f"{path}: cannot load the AST folder ({type(e).__name__}: {str(e).splitlines()[0]})") from None
            # transformers would initialise missing weights randomly with a warning: refuse instead.
            # Unexpected keys (a classifier head saved with ASTForAudioClassification) are dropped.
            bad = list(info.get("missing_keys", [])) + [str(m) for m in info.get("mismatched_keys", [])]
            if bad:
                raise WeightsError(f"{path}: AST weights do not match config.json: {len(bad)} missing/mismatched (e.g. {', '.join(map(str, bad[:3]))})")
            self.layout = "hf-directory"
        else:
            cfg_file = path.parent / "config.json"
            config = ASTConfig.from_json_file(str(cfg_file)) if cfg_file.exists() else ASTConfig()
            model = ASTModel(config)
            sd, self.layout = ast_checkpoint_filter(read_checkpoint(path), str(path), model.state_dict().keys())
            load_strict(model, sd, str(path), derived=("num_batches_tracked", "position_ids"))
        self.model = model.eval()
        cfg = model.config
        self.max_length, self.n_mels = int(cfg.max_length), int(cfg.num_mel_bins)
        self.dim = int(cfg.hidden_size)
        self.weights_path = path
        self.weights_sha256 = sha256_file(path)
        self.weights_spec = AST_AUDIOSET.name

    def to(self, device):
        self.model.to(device)
        return super().to(device)

    @torch.inference_mode()
    def __call__(self, batch: np.ndarray) -> np.ndarray:
        x = np.stack([ast_input(w, self.max_length, self.n_mels) for w in batch])  # (B, max_length, mels)
        out = self.model(input_values=torch.from_numpy(x).to(self.device))
        if self.pooling == "cls_dist":
            feats = out.pooler_output  # (B, hidden): (CLS + distillation) / 2
        else:
            feats = out.last_hidden_state[:, 2:].mean(dim=1)  # mean over patch tokens
        return feats.float().cpu().numpy()

    def settings(self):
        return {"fbank": "kaldi 128 mel, 25 ms Hann, 10 ms shift, chunk mean removed", "max_length": self.max_length,
                "norm": "(fbank + 4.2677393) / (4.5689974 * 2)", "pooling": self.pooling,
                "checkpoint_layout": self.layout}


@EXTRACTORS.register(
    "ast", modality="audio", dim=768, fps=FPS, clip_len=CLIP_LEN, sample_rate=SAMPLE_RATE, input="audio",
    weights=[AST_AUDIOSET.name], needs_weights=True,
)
def create_ast(weights=None, pooling: str = "cls_dist"):
    if weights is None:
        raise WeightsError(
            "ast needs weights: pass --weights ast=DIR (a local copy of MIT/ast-finetuned-audioset-10-10-0.4593) "
            "or ast=audioset_10_10_0.4593.pth; see docs/extraction.md"
        )
    return ASTExtractor(weights, pooling=pooling)
