"""Video Swin Transformer B RGB features (`vst`): torchvision's `swin3d_b`, pooled over space-time.

Checkpoints accepted (all mapped onto torchvision's module names, then loaded strictly):
- torchvision's own files (`swin3d_b_1k-24f7c7c6.pth`, `swin3d_b_22k-7c6ae6fa.pth`);
- the original Video Swin Transformer / mmaction2 checkpoints, e.g.
  `swin_base_patch244_window877_kinetics600_22k.pth` (what the public features used): a
  `state_dict` with `backbone.*` and `cls_head.*` keys.

Key mapping (mmaction2 -> torchvision); the classifier (`cls_head.*` / `head.*`) is dropped:
    backbone.patch_embed.{proj,norm}.*            -> patch_embed.{proj,norm}.*
    backbone.layers.{i}.blocks.{j}.norm1.*        -> features.{2i}.{j}.norm1.*
    backbone.layers.{i}.blocks.{j}.attn.*         -> features.{2i}.{j}.attn.*  (qkv, proj, bias table)
    backbone.layers.{i}.blocks.{j}.mlp.fc1.*      -> features.{2i}.{j}.mlp.0.*
    backbone.layers.{i}.blocks.{j}.mlp.fc2.*      -> features.{2i}.{j}.mlp.3.*
    backbone.layers.{i}.downsample.{reduction,norm}.* -> features.{2i+1}.{reduction,norm}.*
    backbone.norm.* (mmaction2 1.x: backbone.norm3.*) -> norm.*
Both implementations merge 2x2 patches in the same order (x[0::2,0::2], x[1::2,0::2], x[0::2,1::2],
x[1::2,1::2]), so the merging weights need no permutation. `relative_position_index` is a buffer
computed from the window size: it may be absent, and when present must equal ours.

Input: uint8 (B, 32, 224, 224, 3) -> ImageNet mean/std -> (B, 3, 32, 224, 224) -> last stage
(B, 16, 7, 7, 1024) -> LayerNorm -> mean over space-time -> (B, 1024).
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import torch

from lmac.features import EXTRACTORS
from lmac.features.base import CLIP_LEN, FPS, Extractor
from lmac.features.weights import (
    WeightsError,
    WeightsSpec,
    load_strict,
    read_checkpoint,
    register_weights,
    sha256_file,
    strip_prefixes,
)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

SWIN_K600 = register_weights(
    WeightsSpec(
        name="swin3d_b.k600_in22k_videoswin",
        extractor="vst",
        description="Video Swin B, ImageNet-22k + Kinetics-600 (the public PAMFN/GDLT features' backbone)",
        layout="mmaction2-swin",
        source="user-file",
        url="https://github.com/SwinTransformer/Video-Swin-Transformer (README: Kinetics-600 Swin-B, "
        "swin_base_patch244_window877_kinetics600_22k.pth)",
        license="Apache-2.0",
        provenance="Liu et al., Video Swin Transformer, CVPR 2022",
        input_contract={"frames": 32, "size": 224, "resize_short": 256, "mean": IMAGENET_MEAN, "std": IMAGENET_STD},
    )
)
SWIN_TV_K400 = register_weights(
    WeightsSpec(
        name="swin3d_b.k400_in22k_torchvision",
        extractor="vst",
        description="torchvision Swin3D_B_Weights.KINETICS400_IMAGENET22K_V1 (K400 + IN22k, not the paper's K600)",
        layout="torchvision",
        source="user-file",
        url="https://download.pytorch.org/models/swin3d_b_22k-7c6ae6fa.pth",
        license="Apache-2.0",
        provenance="ported from Video Swin Transformer by torchvision",
        input_contract={"frames": 32, "size": 224, "resize_short": 256, "mean": IMAGENET_MEAN, "std": IMAGENET_STD},
    )
)

_BLOCK = re.compile(r"^layers\.(\d+)\.blocks\.(\d+)\.(.+)$")
_DOWN = re.compile(r"^layers\.(\d+)\.downsample\.(.+)$")


def _map_mmaction_key(k: str) -> str | None:
    """One mmaction2 / Video-Swin key (without `backbone.`) -> torchvision key; None to drop."""
    m = _BLOCK.match(k)
    if m:
        i, j, rest = int(m[1]), int(m[2]), m[3]
        rest = rest.replace("mlp.fc1.", "mlp.0.").replace("mlp.fc2.", "mlp.3.")
        return f"features.{2 * i}.{j}.{rest}"
    m = _DOWN.match(k)
    if m:
        return f"features.{2 * int(m[1]) + 1}.{m[2]}"
    if k.startswith(("patch_embed.", "norm.")):
        return k
    m = re.match(r"^norm\d+\.(.+)$", k)  # mmaction2 1.x names the output norm norm3
    if m:
        return f"norm.{m[1]}"
    return k  # left as is: load_strict reports it as unexpected


def swin_checkpoint_filter(sd: dict, source: str) -> tuple[dict, str]:
    """Any supported layout -> torchvision `SwinTransformer3d` keys (classifier dropped), and the layout name."""
    sd = strip_prefixes(sd, ("module.", "_orig_mod."))
    keys = list(sd)
    if any(k.startswith("backbone.") for k in keys):
        out = {}
        for k, v in sd.items():
            if k.startswith(("cls_head.", "head.")):
                continue
            if not k.startswith("backbone."):
                out[k] = v  # reported as unexpected
                continue
            out[_map_mmaction_key(k[len("backbone.") :])] = v
        return out, "mmaction2-swin"
    if any(k.startswith("layers.") for k in keys):  # Video Swin backbone saved on its own
        return {_map_mmaction_key(k): v for k, v in sd.items() if not k.startswith(("cls_head.", "head."))}, "videoswin-backbone"
    if any(k.startswith("features.") for k in keys):
        return {k: v for k, v in sd.items() if not k.startswith("head.")}, "torchvision"
    raise WeightsError(
        f"{source}: not a Video Swin checkpoint in a known layout (expected torchvision 'features.0.0.*' or "
        f"mmaction2 'backbone.layers.0.blocks.0.*' keys; found {', '.join(keys[:3])})"
    )


class SwinBackbone(torch.nn.Module):
    """torchvision SwinTransformer3d without its classifier: (B, 3, T, H, W) -> (B, C) pooled."""

    def __init__(self, embed_dim=128, depths=(2, 2, 18, 2), num_heads=(4, 8, 16, 32), window_size=(8, 7, 7),
                 patch_size=(2, 4, 4), init: bool = True):
        super().__init__()
        from torchvision.models.video.swin_transformer import ShiftedWindowAttention3d, SwinTransformer3d

        kw = dict(
            patch_size=list(patch_size), embed_dim=embed_dim, depths=list(depths), num_heads=list(num_heads),
            window_size=list(window_size), stochastic_depth_prob=0.0, num_classes=1,
        )
        if init:
            net = SwinTransformer3d(**kw)
        else:
            # Weights will be loaded: skip the random init (~15 s for Swin-B on a CPU) by building on
            # the meta device, then recompute the one derived buffer from a small reference layer.
            with torch.device("meta"):
                net = SwinTransformer3d(**kw)
            net = net.to_empty(device="cpu")
            ref = ShiftedWindowAttention3d(8, list(window_size), [0, 0, 0], 1).relative_position_index
            for mod in net.modules():
                if isinstance(mod, ShiftedWindowAttention3d):
                    mod.relative_position_index.copy_(ref)
        self.patch_embed, self.features, self.norm = net.patch_embed, net.features, net.norm
        self.num_features = net.num_features

    def forward(self, x):
        x = self.patch_embed(x)  # (B, T', H', W', C)
        x = self.features(x)  # (B, T'/1, H'/8, W'/8, 8C)
        x = self.norm(x)
        return x.mean(dim=(1, 2, 3))  # (B, 8C): average over space-time


class VSTExtractor(Extractor):
    name = "vst"
    modality = "rgb"
    input = "rgb"

    def __init__(self, weights=None, **arch):
        super().__init__()
        self.model = SwinBackbone(init=weights is None, **arch).eval()
        self.dim = self.model.num_features
        self.layout = None
        self.register_norm()
        if weights is not None:
            self.load_weights(weights)

    def register_norm(self):
        self.mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1, 1) * 255.0
        self.std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1, 1) * 255.0

    def load_weights(self, path):
        path = Path(path)
        sd, layout = swin_checkpoint_filter(read_checkpoint(path), str(path))
        load_strict(self.model, sd, str(path), derived=("num_batches_tracked", "relative_position_index"))
        self.layout = layout
        self.weights_path = path
        self.weights_sha256 = sha256_file(path)
        self.weights_spec = SWIN_K600.name if layout != "torchvision" else SWIN_TV_K400.name
        return self

    def to(self, device):
        self.model.to(device)
        self.mean, self.std = self.mean.to(device), self.std.to(device)
        return super().to(device)

    @torch.inference_mode()
    def __call__(self, batch: np.ndarray) -> np.ndarray:
        # (B, T, H, W, 3) uint8 -> (B, 3, T, H, W) normalised
        x = torch.from_numpy(np.ascontiguousarray(batch)).to(self.device).permute(0, 4, 1, 2, 3).float()
        x = (x - self.mean) / self.std
        return self.model(x).float().cpu().numpy()

    def settings(self):
        return {"input": "ImageNet mean/std", "pool": "mean over space-time after the final LayerNorm",
                "checkpoint_layout": self.layout}


@EXTRACTORS.register(
    "vst", modality="rgb", dim=1024, fps=FPS, clip_len=CLIP_LEN, sample_rate=None, input="rgb",
    weights=[SWIN_K600.name, SWIN_TV_K400.name], needs_weights=True,
)
def create_vst(weights=None, **arch):
    if weights is None:
        raise WeightsError(
            "vst needs a checkpoint: pass --weights vst=PATH (swin_base_patch244_window877_kinetics600_22k.pth "
            "or torchvision's swin3d_b_22k-7c6ae6fa.pth; see docs/extraction.md)"
        )
    return VSTExtractor(weights, **arch)
