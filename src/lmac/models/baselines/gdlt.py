"""GDLT: Likert scoring with grade decoupling (Xu et al., CVPR 2022), RGB only.

Segment features -> 1x1 projection (Linear-BN-ReLU-Linear-BN, as GDLT's `in_proj`) -> transformer
encoder -> transformer decoder whose targets are G learnable grade queries -> one logit per grade
query -> sigmoid, normalised to sum 1 -> Likert score = sum_g weight_g * grade_g with fixed grade
values linspace(0, 1, G). Loss: MSE + alpha * hardest-triplet loss on the decoded grade queries
(cosine distance, label = grade index), so the G queries stay distinct.

Differences from the released code, both about padding (GDLT samples a fixed 68 clips, never pads):
the BatchNorms compute their statistics over real segments only, and the encoder/decoder mask padded
keys. Defaults are the released run command for RG (hidden 256, 1 head, 1 encoder and 2 decoder
layers, FFN 3*hidden, 4 queries, dropout 0.3, alpha 1, margin 1).

Shapes: B batch, T segments, D input width, H hidden width, G grade queries.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from lmac.models._builder import MODELS, config_from_kwargs


class MaskedBatchNorm1d(nn.BatchNorm1d):
    """BatchNorm over (B, T, C) features whose statistics count only real segments (mask True)."""

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        # x (B, T, C), mask (B, T)
        if not self.training:
            return F.batch_norm(x.reshape(-1, x.shape[-1]), self.running_mean, self.running_var, self.weight, self.bias,
                                False, 0.0, self.eps).reshape(x.shape)
        real = x[mask]  # (N, C), N = number of real segments in the batch
        out = F.batch_norm(real, self.running_mean, self.running_var, self.weight, self.bias, True, self.momentum, self.eps)
        y = torch.zeros_like(x)
        y[mask] = out
        return y


@dataclass
class GDLTConfig:
    hidden: int = 256  # H
    num_heads: int = 1  # released default (the run command does not set it)
    num_encoder_layers: int = 1
    num_decoder_layers: int = 2
    ffn_mult: int = 3  # dim_feedforward = 3 * H
    num_queries: int = 4  # G grade queries
    dropout: float = 0.3
    triplet_weight: float = 1.0  # alpha
    triplet_margin: float = 1.0
    mse_weight: float = 1.0
    num_scores: int = 1  # scores predicted at once, each with its own Likert weights over the shared grade queries [ours]
    sum_head: bool = False  # [ours] add a summing path: (1/sum_ref_len) sum_t MLP(encoder output t) (`gdlt_sum`)
    sum_ref_len: int = 64  # segments; a constant, so the summing path grows with the number of moments it fires on


class GDLT(nn.Module):
    """`fuse`: every modality's features of a segment concatenated before the projection (early fusion,
    `gdlt_mm` [ours]): its per-segment ReLU layer can compare what flow and audio show at the same moment."""

    def __init__(self, dims: dict[str, int], config: GDLTConfig, fuse: bool = False):
        super().__init__()
        if not fuse and list(dims) != ["rgb"]:
            raise ValueError(f"GDLT takes RGB features only, got {list(dims)}")
        self.config = config
        self.modalities = tuple(dims)
        D, H = sum(dims.values()), config.hidden
        self.proj1 = nn.Linear(D, D // 2)  # GDLT: Conv1d(k=1) == per-segment Linear
        self.bn1 = MaskedBatchNorm1d(D // 2)
        self.proj2 = nn.Linear(D // 2, H)
        self.bn2 = MaskedBatchNorm1d(H)
        enc = nn.TransformerEncoderLayer(H, config.num_heads, config.ffn_mult * H, config.dropout, batch_first=True)
        self.encoder = nn.TransformerEncoder(enc, config.num_encoder_layers, norm=nn.LayerNorm(H), enable_nested_tensor=False)
        dec = nn.TransformerDecoderLayer(H, config.num_heads, config.ffn_mult * H, config.dropout, batch_first=True)
        self.decoder = nn.TransformerDecoder(dec, config.num_decoder_layers, norm=nn.LayerNorm(H))
        self.queries = nn.Embedding(config.num_queries, H)  # grade prototypes
        # row g (of score s) scores query g (GDLT takes the diagonal); one block of G rows per score
        self.regressor = nn.Linear(H, config.num_queries * config.num_scores)
        self.register_buffer("grades", torch.linspace(0, 1, config.num_queries), persistent=False)  # (G,)
        if config.sum_head:
            self.sum_mlp = nn.Sequential(nn.Linear(H, H // 2), nn.ReLU(), nn.Linear(H // 2, config.num_scores))
        for p in self.parameters():  # GDLT: Xavier for every matrix
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)
        if config.sum_head:  # starts as GDLT: the summing path adds nothing until it learns to
            nn.init.zeros_(self.sum_mlp[-1].weight)
            nn.init.zeros_(self.sum_mlp[-1].bias)

    def forward(self, feats: dict[str, torch.Tensor], mask: torch.Tensor) -> dict:
        mask = mask.bool()
        missing = [m for m in self.modalities if m not in feats]
        if missing:
            raise KeyError(f"GDLT needs features {list(self.modalities)}; missing {missing}")
        x = torch.cat([feats[m] for m in self.modalities], -1) if len(self.modalities) > 1 else feats[self.modalities[0]]
        x = self.bn2(self.proj2(F.relu(self.bn1(self.proj1(x), mask))), mask)  # (B, T, H)
        memory = self.encoder(x, src_key_padding_mask=~mask)  # (B, T, H)
        q = self.queries.weight.unsqueeze(0).expand(x.shape[0], -1, -1)  # (B, G, H)
        embed = self.decoder(q, memory, memory_key_padding_mask=~mask)  # (B, G, H)
        G, S = self.config.num_queries, self.config.num_scores
        W, b = self.regressor.weight.view(S, G, -1), self.regressor.bias.view(S, G)
        logits = (embed.unsqueeze(1) * W).sum(-1) + b  # (B, S, G): diag of regressor(embed), per score
        w = torch.sigmoid(logits)
        w = w / w.sum(-1, keepdim=True)  # (B, S, G) Likert weights, sum 1
        score = (w * self.grades).sum(-1)  # (B, S)
        if self.config.sum_head:  # a sum over real segments, not a mean: it can count what it fires on
            per_segment = self.sum_mlp(memory) * mask.unsqueeze(-1).to(memory.dtype)  # (B, T, S)
            score = score + per_segment.sum(1) / self.config.sum_ref_len
        if S == 1:
            score, w = score[:, 0], w[:, 0]  # (B,), (B, G)
        return {"score": score, "grade_weights": w, "embed": embed}

    def compute_loss(self, out: dict, target: torch.Tensor, mask: torch.Tensor) -> dict:
        c = self.config
        mse = c.mse_weight * F.mse_loss(out["score"], target.to(out["score"].dtype))
        triplet = c.triplet_weight * hardest_triplet_loss(out["embed"], c.triplet_margin) if c.triplet_weight else mse.new_zeros(())
        return {"total": mse + triplet, "mse": mse, "triplet": triplet}


def hardest_triplet_loss(embed: torch.Tensor, margin: float) -> torch.Tensor:
    """Batch-hard triplet loss on the decoded queries, cosine distance, label = query index (GDLT).

    embed (B, G, H) -> the B*G vectors; for each anchor: hardest positive (same query index, other
    video) and hardest negative (other query index); mean of max(0, d_ap - d_an + margin)."""
    B, G, H = embed.shape
    z = F.normalize(embed.reshape(B * G, H), dim=-1)  # (N, H), N = B*G
    dist = 1 - z @ z.T  # (N, N) cosine distance
    labels = torch.arange(G, device=embed.device).repeat(B)  # (N,)
    same = labels[:, None] == labels[None, :]  # (N, N)
    not_self = ~torch.eye(B * G, dtype=torch.bool, device=embed.device)
    hardest_pos = (dist * (same & not_self)).max(1).values  # (N,); 0 when B == 1
    hardest_neg = dist.masked_fill(same, float("inf")).min(1).values  # (N,)
    return F.relu(hardest_pos - hardest_neg + margin).mean()


@MODELS.register("gdlt", modalities=("rgb",), doc="GDLT (CVPR 2022): grade queries + Likert head, MSE + triplet",
                 batch_coupled="BatchNorm statistics and the batch-hard triplet loss", config=GDLTConfig,
                 uncoupled_args={"triplet_weight": 0.0})
def gdlt(dims, **kwargs):
    return GDLT(dims, config_from_kwargs(GDLTConfig, kwargs, "gdlt"))


@MODELS.register("gdlt_mm", modalities=None, doc="GDLT over every modality, concatenated per segment (early fusion) [ours]",
                 batch_coupled="BatchNorm statistics and the batch-hard triplet loss", config=GDLTConfig,
                 uncoupled_args={"triplet_weight": 0.0})
def gdlt_mm(dims, **kwargs):
    return GDLT(dims, config_from_kwargs(GDLTConfig, kwargs, "gdlt_mm"), fuse=True)


@MODELS.register("gdlt_sum", modalities=("rgb",), doc="GDLT plus a summing path over segments (judges add element scores) [ours]",
                 batch_coupled="BatchNorm statistics and the batch-hard triplet loss", config=GDLTConfig,
                 uncoupled_args={"triplet_weight": 0.0})
def gdlt_sum(dims, **kwargs):
    return GDLT(dims, config_from_kwargs(GDLTConfig, {"sum_head": True, **kwargs}, "gdlt_sum"))
