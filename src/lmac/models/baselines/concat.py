"""Concatenated features + regressor: the first row of the paper's ablation chain.

The modalities of each segment are normalised, concatenated and passed through a per-segment MLP
(so the regressor can relate modalities at the same moment), averaged over the masked time axis
and regressed. It has no notion of *which* moments matter, which is what LMAC-Net's query
encoder adds.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from lmac.models._builder import MODELS, config_from_kwargs, masked_mean


@dataclass
class ConcatConfig:
    hidden: int = 256
    dropout: float = 0.1
    sigmoid: bool = True  # targets are scores / score_range, in [0, 1]
    num_scores: int = 1  # scores predicted at once (multi-score tasks) [ours]


class ConcatRegressor(nn.Module):
    def __init__(self, dims: dict[str, int], config: ConcatConfig):
        super().__init__()
        self.modalities = tuple(dims)
        self.config = config
        h = config.hidden
        self.norm = nn.ModuleDict({m: nn.LayerNorm(d) for m, d in dims.items()})
        self.segment_mlp = nn.Sequential(
            nn.Linear(sum(dims.values()), h), nn.GELU(), nn.Dropout(config.dropout), nn.Linear(h, h), nn.GELU()
        )
        self.head = nn.Sequential(nn.Dropout(config.dropout), nn.Linear(h, h), nn.GELU(), nn.Linear(h, config.num_scores))

    def forward(self, feats: dict[str, torch.Tensor], mask: torch.Tensor) -> dict:
        x = torch.cat([self.norm[m](feats[m]) for m in self.modalities], dim=-1)  # (B, T, sum D)
        pooled = masked_mean(self.segment_mlp(x), mask)  # (B, H)
        s = self.head(pooled)  # (B, S)
        s = s.squeeze(-1) if s.shape[-1] == 1 else s  # (B,) for one score
        return {"score": torch.sigmoid(s) if self.config.sigmoid else s}

    def compute_loss(self, out: dict, target: torch.Tensor, mask: torch.Tensor) -> dict:
        mse = F.mse_loss(out["score"], target)
        return {"total": mse, "mse": mse}


def _entry(dims, **kwargs):
    return ConcatRegressor(dims, config_from_kwargs(ConcatConfig, kwargs, "concat"))


MODELS.register("concat", modalities=None, doc="concatenated per-segment features + MLP, pooled over time",
                config=ConcatConfig)(_entry)
MODELS.register("concat_rgb", modalities=("rgb",), doc="the same on RGB only", config=ConcatConfig)(_entry)
