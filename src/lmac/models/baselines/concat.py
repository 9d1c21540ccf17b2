"""Concatenated features + regressor: the first row of the paper's ablation chain.

Each modality is projected, averaged over the (masked) time axis, concatenated and regressed
with an MLP. It has no notion of *when* something happens, which is exactly what the query
encoder of LMAC-Net adds.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from lmac.models._builder import MODELS, config_from_kwargs, masked_mean


@dataclass
class ConcatConfig:
    hidden: int = 256
    dropout: float = 0.1
    sigmoid: bool = True  # targets are scores / score_range, in [0, 1]


class ConcatRegressor(nn.Module):
    def __init__(self, dims: dict[str, int], config: ConcatConfig):
        super().__init__()
        self.modalities = tuple(dims)
        self.config = config
        self.proj = nn.ModuleDict({m: nn.Sequential(nn.LayerNorm(d), nn.Linear(d, config.hidden)) for m, d in dims.items()})
        self.head = nn.Sequential(
            nn.GELU(),
            nn.Dropout(config.dropout),
            nn.Linear(config.hidden * len(dims), config.hidden),
            nn.GELU(),
            nn.Dropout(config.dropout),
            nn.Linear(config.hidden, 1),
        )

    def forward(self, feats: dict[str, torch.Tensor], mask: torch.Tensor) -> dict:
        pooled = [masked_mean(self.proj[m](feats[m]), mask) for m in self.modalities]  # each (B, H)
        s = self.head(torch.cat(pooled, dim=-1)).squeeze(-1)  # (B,)
        return {"score": torch.sigmoid(s) if self.config.sigmoid else s}

    def compute_loss(self, out: dict, target: torch.Tensor, mask: torch.Tensor) -> dict:
        mse = F.mse_loss(out["score"], target)
        return {"total": mse, "mse": mse}


def _build(modalities):
    def entry(dims, **kwargs):
        return ConcatRegressor(dims, config_from_kwargs(ConcatConfig, kwargs, "concat"))

    return entry


MODELS.register("concat", modalities=None, doc="concatenated pooled features + MLP")(_build(None))
MODELS.register("concat_rgb", modalities=("rgb",), doc="RGB-only pooled features + MLP")(_build(("rgb",)))
