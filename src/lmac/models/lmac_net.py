"""LMAC-Net: per-modality query decoders, attention centres, two-level scoring, and its losses.

One file, read top to bottom: the parts in the order a forward pass uses them, then the loss terms,
then `LMACConfig`, then `LMACNet`, then the registry entries (full model, the paper's ablation
chain, single-modality variants).

Method: "Attention-Driven Multimodal Alignment for Long-term Action Quality Assessment"
(Wang, Li, Shen; arXiv 2507.21945). No official code exists; the query decoder and the attention
losses follow the Temporal Parsing Transformer (TPT, Bai et al., ECCV 2022), whose equations the
paper's match. Every choice the paper leaves open is a field of `LMACConfig`; see docs/model.md.

Notation used in the shape comments:
    B batch, T segments (time), D input feature width of a modality, K queries (= stages),
    L decoder layers, d model width, M modalities.
Times are 1-based segment indices: t = 1..T, so an attention centre of 1.0 is the first segment.
`mask` is (B, T) bool, True = a real segment; every video must have at least one.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from lmac.models._builder import MODELS, center_gap_per_video, config_from_kwargs
from lmac.models.stacked_decode import stacked_decode


# ----------------------------------------------------------------------------------------------
# Parts of one modality's query decoder, in order of use


def sinusoidal_positions(T: int, d: int, device=None, dtype=torch.float32) -> torch.Tensor:
    """Fixed sine/cosine encoding of segment t = 1..T (Vaswani et al.) -> (T, d). Used only when
    config.pos_encoding == "sine"; depends on t alone, so appending padding changes nothing."""
    t = torch.arange(1, T + 1, device=device, dtype=torch.float32)[:, None]  # (T, 1)
    freq = torch.exp(torch.arange(0, d, 2, device=device, dtype=torch.float32) * (-math.log(10000.0) / d))  # (d/2,)
    pe = torch.zeros(T, d, device=device)
    pe[:, 0::2] = torch.sin(t * freq)
    pe[:, 1::2] = torch.cos(t * freq[: d // 2])
    return pe.to(dtype)


class TemporalCrossAttention(nn.Module):
    """K query vectors attend over the T segments with TPT's scaled dot product.

    alpha[k, t] = softmax_t( (k_t . q~_k) / (d * tau) ), tau a learnable temperature. TPT divides by
    d (not sqrt d) and by tau (init 0.07). Padding gets -inf logits, hence exactly zero weight.
    """

    def __init__(self, in_dim: int, config: "LMACConfig"):
        super().__init__()
        d = config.d_model
        self.d = d
        # segment features -> keys. No bias: it adds q.b to every logit of a row, which softmax ignores, so its
        # gradient is zero in exact arithmetic and Adam would turn float noise into random steps of it
        self.key = nn.Linear(in_dim, d, bias=False)
        self.value = nn.Linear(in_dim, d)  # segment features -> values
        if config.value_mlp:  # [ours] a per-segment nonlinearity before pooling, as the concat baseline has
            self.value = nn.Sequential(nn.Linear(in_dim, d), nn.GELU(), nn.Dropout(config.dropout), nn.Linear(d, d))
        self.query = nn.Linear(d, d)  # W_q, applied to (p + q)
        # tau is kept as log(tau): always positive, and weight decay (if a loop applies it to 0-d
        # tensors by mistake) pulls tau towards 1 rather than through zero. Init tau = tau_init.
        log_tau = torch.tensor(math.log(config.tau_init))
        if config.learn_tau:
            self.log_tau = nn.Parameter(log_tau)
        else:
            self.register_buffer("log_tau", log_tau)

        self.pos_encoding = config.pos_encoding

    # Both products below are reordered for speed, exactly (up to float rounding): K (5) queries against T
    # (70-130) segments of width D (768-1024) and d = 256. Keys: q . k_t with k = x W_k^T is (q W_k) x_t, which
    # costs K*d*D + K*D*T multiply-adds instead of T*D*d. Linear values: alpha (x W_v^T + b) is
    # (alpha x) W_v^T + b, since each row of alpha sums to 1. Together about a tenth of the FLOPs of `lmac`.

    def logits(self, x: torch.Tensor, p_plus_q: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(B, K, T) attention logits, padding at -inf."""
        q = self.query(p_plus_q)  # (B, K, d)
        logits = (q @ self.key.weight) @ x.transpose(1, 2)  # (B, K, T) = q . (W_k x_t)
        if self.pos_encoding == "sine":  # optional (not in the paper): keys also say *when*, as DETR
            logits = logits + q @ sinusoidal_positions(x.shape[1], self.d, x.device, q.dtype).T  # keys + (T, d)
        logits = logits / (self.d * self.log_tau.exp())
        return logits.masked_fill(~mask[:, None, :], float("-inf"))  # padding -> -inf

    def read(self, alpha: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """(B, K, d): the attention-weighted values, sum_t alpha[k, t] v(x_t)."""
        if isinstance(self.value, nn.Linear):
            return F.linear(alpha @ x, self.value.weight, self.value.bias)  # rows of alpha sum to 1
        return alpha @ self.value(x)  # a per-segment MLP: values first

    def forward(self, x: torch.Tensor, p_plus_q: torch.Tensor, mask: torch.Tensor):
        alpha = self.logits(x, p_plus_q, mask).softmax(dim=-1)  # (B, K, T), rows sum to 1 over real segments
        return self.read(alpha, x), alpha  # (B, K, d), (B, K, T)


class FeedForward(nn.Module):
    """Position-wise MLP applied to each query feature (ReLU, as TPT)."""

    def __init__(self, config: "LMACConfig"):
        super().__init__()
        self.fc1 = nn.Linear(config.d_model, config.d_ffn)
        self.fc2 = nn.Linear(config.d_ffn, config.d_model)
        self.drop = nn.Dropout(config.dropout)

    def forward(self, p: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.drop(F.relu(self.fc1(p))))  # (B, K, d)


class QueryDecoderLayer(nn.Module):
    """One decoder layer: cross-attention over time, FFN, optional self-attention across queries.

    p = LN(p + Drop(alpha^T V));  p = LN(p + Drop(FFN(p)));  [p = LN(p + Drop(MHSA(p + q, p + q, p)))]
    """

    def __init__(self, in_dim: int, config: "LMACConfig", self_attn: bool):
        super().__init__()
        self.cross = TemporalCrossAttention(in_dim, config)
        self.norm1 = nn.LayerNorm(config.d_model)
        self.ffn = FeedForward(config)
        self.norm2 = nn.LayerNorm(config.d_model)
        self.drop = nn.Dropout(config.dropout)
        self.self_attn = None
        if self_attn:  # TPT: only the first layer has it (config.self_attn_layers)
            self.self_attn = nn.MultiheadAttention(config.d_model, config.num_heads, dropout=config.dropout, batch_first=True)
            self.norm3 = nn.LayerNorm(config.d_model)

    def forward(self, x, p, q, mask):
        # x (B, T, D) segment features, p (B, K, d) running query features, q (B, K, d) query embeddings
        attended, alpha = self.cross(x, p + q, mask)  # (B, K, d), (B, K, T)
        return self.update(p, q, attended), alpha

    def update(self, p, q, attended):
        """Everything after the cross-attention: residual + LN, FFN, optional query self-attention."""
        p = self.norm1(p + self.drop(attended))
        p = self.norm2(p + self.drop(self.ffn(p)))
        if self.self_attn is not None:
            qk = p + q  # queries keep their identity (positional role) in self-attention, as TPT
            mixed = self.self_attn(qk, qk, p, need_weights=False)[0]  # (B, K, d)
            p = self.norm3(p + self.drop(mixed))
        return p


class QueryDecoder(nn.Module):
    """One modality's branch: K learnable queries, p starts at zero, L layers. Own weights per modality."""

    def __init__(self, in_dim: int, config: "LMACConfig"):
        super().__init__()
        self.queries = nn.Embedding(config.num_queries, config.d_model)  # q_k
        # optional LayerNorm of the input segment features (as the concat baseline does) [ours]
        self.input_norm = nn.LayerNorm(in_dim) if config.input_norm else nn.Identity()
        sa = {"first": lambda i: i == 0, "all": lambda i: True, "none": lambda i: False}[config.self_attn_layers]
        self.layers = nn.ModuleList(QueryDecoderLayer(in_dim, config, self_attn=sa(i)) for i in range(config.num_layers))

    def start(self, x: torch.Tensor):
        """(normalised input, query embeddings q (B, K, d), query features p = 0 (B, K, d))."""
        q = self.queries.weight.unsqueeze(0).expand(x.shape[0], -1, -1)
        return self.input_norm(x), q, torch.zeros_like(q)

    def forward(self, x: torch.Tensor, mask: torch.Tensor):
        x, q, p = self.start(x)
        alphas = []
        for layer in self.layers:
            p, alpha = layer(x, p, q, mask)
            alphas.append(alpha)
        return p, torch.stack(alphas, dim=1)  # (B, K, d), (B, L, K, T)


def attention_centers(alpha: torch.Tensor) -> torch.Tensor:
    """c_k = sum_t t * alpha[k, t] with t = 1..T (1-based segments). alpha (..., T) -> (...,).

    Padded segments carry zero attention, so they do not move the centre."""
    t = torch.arange(1, alpha.shape[-1] + 1, device=alpha.device, dtype=alpha.dtype)  # (T,)
    return (alpha * t).sum(-1)


class StageHead(nn.Module):
    """Stage score s_k = sigma(Linear(f_k)) from the fused per-stage feature f_k (B, K, M*d).

    `shared`: one Linear for every stage (the stage identity lives in the queries);
    `per_stage`: stage k has its own weight row and bias;
    `mlp`: a 2-layer MLP (width d, GELU) shared by the stages before that Linear, so a stage score can
    depend on an *interaction* of the modalities at the stage's moment (|energy - intensity|, execution x
    amplitude), which a Linear over the concatenated features, being additive across modalities, cannot."""

    def __init__(self, in_dim: int, config: "LMACConfig"):
        super().__init__()
        self.per_stage = config.stage_head == "per_stage"
        self.mlp = None
        if config.stage_head == "mlp":
            self.mlp = nn.Sequential(nn.Dropout(config.dropout), nn.Linear(in_dim, config.d_model), nn.GELU())
            in_dim = config.d_model
        self.sigmoid = config.stage_sigmoid
        rows = config.num_queries if self.per_stage else 1
        S = config.num_scores  # several scores: one weight row per score (a multi-score task)
        self.weight = nn.Parameter(torch.empty((rows, in_dim) if S == 1 else (rows, S, in_dim)))  # (K or 1, [S,] M*d)
        self.bias = nn.Parameter(torch.zeros((rows,) if S == 1 else (rows, S)))  # (K or 1, [S])
        nn.init.uniform_(self.weight, -1 / math.sqrt(in_dim), 1 / math.sqrt(in_dim))  # nn.Linear's default range
        self.drop = nn.Dropout(config.dropout)

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        if self.mlp is not None:
            f = self.mlp(f)
        f = self.drop(f)
        if self.weight.dim() == 3:  # (B, K, S)
            f = f.unsqueeze(2)
        s = (f * self.weight).sum(-1) + self.bias  # (B, K[, S]): row broadcast when shared
        return torch.sigmoid(s) if self.sigmoid else s


def sum_present(layers: nn.ModuleDict, feats: dict, modalities: tuple, present: torch.Tensor | None):
    """sum over the modalities a video has of layers[m](feats[m]): per-segment features (B, T, H) from every
    modality present; a missing modality adds nothing, and so does one hidden for a video (`present` (B, M))."""
    h = 0.0
    for i, m in enumerate(modalities):
        if m not in feats:
            continue
        hm = layers[m](feats[m])  # (B, T, H)
        if present is not None:
            hm = hm * present[:, i, None, None].to(hm.dtype)
        h = h + hm
    return h


class SegmentSum(nn.Module):
    """The summing path [ours]: c = (1/sum_ref_len) sum over real segments t of MLP(x_t), x_t every present
    modality's features at segment t. Per modality LayerNorm + Linear, summed over the modalities a video has
    (a hidden or missing one adds nothing), ReLU, Linear; the last layer starts at zero, so the model starts as
    LMAC-Net without it. A sum, not a mean: it can count what it fires on; and a per-segment nonlinearity over
    all modalities can compare them at one moment, which the stage head (additive across modalities) cannot."""

    def __init__(self, dims: dict[str, int], config: "LMACConfig"):
        super().__init__()
        H = config.sum_hidden
        self.proj = nn.ModuleDict({m: nn.Sequential(nn.LayerNorm(D), nn.Linear(D, H)) for m, D in dims.items()})
        self.drop = nn.Dropout(config.dropout)
        self.out = nn.Linear(H, config.num_scores)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        self.ref_len = config.sum_ref_len

    def forward(self, feats: dict, mask: torch.Tensor, modalities: tuple, present: torch.Tensor | None) -> torch.Tensor:
        h = sum_present(self.proj, feats, modalities, present)  # (B, T, H)
        c = self.out(self.drop(F.relu(h)))  # (B, T, S)
        c = (c * mask.unsqueeze(-1).to(c.dtype)).sum(1) / self.ref_len  # (B, S): padding adds nothing
        return c.squeeze(-1) if c.shape[-1] == 1 else c  # (B,) or (B, S)


class AgreementPath(nn.Module):
    """The agreement path [ours]: how well the modalities agree at the moments that matter, e.g. whether the
    movement's energy (flow) matches the music's intensity (audio) where an element happens -- which judges
    reward as artistry, and which neither modality shows alone.

    For each pair of modalities (m, n), each side is projected (LayerNorm + Linear) to a shared space of
    `agree_dim` dims: a_t = P(x_m,t), b_t = Q(x_n,t). The mismatch |a_t - b_t| is read where a gate says the
    moment matters: g_t = sigmoid(MLP(every present modality at t)), and the path adds
    sum_t g_t v.|a_t - b_t| / sum_t g_t (a gated mean: judges average such deductions over the elements) to
    the score. v starts at zero, so the model starts as LMAC-Net without it.
    What the shared space means comes from the routines themselves: `align_loss` asks a_t and b_t to agree at
    every real segment, relative to their spread (mean (a - b)^2 / (var a + var b) / 2, per dim; 1 - corr when
    the scales match), so |a - b| measures a departure from how the two modalities usually go together,
    learned from every segment and not only from the scores of 160 videos. A pair with a hidden or missing
    modality adds nothing, for that video."""

    def __init__(self, dims: dict[str, int], config: "LMACConfig"):
        super().__init__()
        k, H = config.agree_dim, config.agree_hidden
        self.k = k  # the width of each pair's |a - b|
        self.pairs = list(itertools.combinations(dims, 2))
        if not self.pairs:
            raise ValueError("agree_head needs at least two modalities")
        self.proj = nn.ModuleDict({f"{m}__{n}__{side}": nn.Sequential(nn.LayerNorm(dims[x]), nn.Linear(dims[x], k))
                                   for m, n in self.pairs for side, x in ((0, m), (1, n))})
        self.gate_in = nn.ModuleDict({m: nn.Sequential(nn.LayerNorm(D), nn.Linear(D, H)) for m, D in dims.items()})
        self.gate_out = nn.Linear(H, 1)
        nn.init.zeros_(self.gate_out.weight)  # every moment counts the same until the gate learns otherwise
        nn.init.zeros_(self.gate_out.bias)
        self.drop = nn.Dropout(config.dropout)
        self.out = nn.Linear(k * len(self.pairs), config.num_scores, bias=False)
        nn.init.zeros_(self.out.weight)

    def forward(self, feats: dict, mask: torch.Tensor, modalities: tuple,
                present: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """-> (score term (B,) or (B, S), alignment loss ()). Pairs with a modality the batch lacks are skipped."""
        B, T = mask.shape
        real = mask.to(next(iter(feats.values())).dtype)  # (B, T)

        def has(m):  # (B,) 1 where video b has modality m
            if m not in feats:
                return real.new_zeros(B)
            return real.new_ones(B) if present is None else present[:, modalities.index(m)].to(real.dtype)

        h = sum_present(self.gate_in, feats, modalities, present)  # (B, T, H)
        gate = torch.sigmoid(self.gate_out(F.relu(h))).squeeze(-1) * real  # (B, T)
        diffs, align, n_pairs = [], real.new_zeros(()), 0
        for m, n in self.pairs:
            both = has(m) * has(n)  # (B,)
            if m not in feats or n not in feats:
                diffs.append(real.new_zeros(B, T, self.k))
                continue
            a, b = self.proj[f"{m}__{n}__0"](feats[m]), self.proj[f"{m}__{n}__1"](feats[n])  # (B, T, k)
            diffs.append((a - b).abs() * both[:, None, None])
            w = (real * both[:, None]).unsqueeze(-1)  # (B, T, 1): real segments of videos with both
            cnt = w.sum()
            if cnt > 1:
                mean_a, mean_b = (a * w).sum((0, 1)) / cnt, (b * w).sum((0, 1)) / cnt  # (k,)
                var_a = (((a - mean_a) ** 2) * w).sum((0, 1)) / cnt
                var_b = (((b - mean_b) ** 2) * w).sum((0, 1)) / cnt
                mse = (((a - b) ** 2) * w).sum((0, 1)) / cnt
                align = align + (mse / (var_a + var_b + 1e-6)).mean()
                n_pairs += 1
        g = self.out(self.drop(torch.cat(diffs, -1)))  # (B, T, S)
        term = (gate.unsqueeze(-1) * g).sum(1) / gate.sum(1, keepdim=True).clamp_min(1e-6)  # (B, S): gated mean
        term = term.squeeze(-1) if term.shape[-1] == 1 else term
        return term, align / max(n_pairs, 1)


# ----------------------------------------------------------------------------------------------
# Loss terms on attention maps / centres. Pure functions so they can be tested with golden values.
# `lengths` (B,) is each video's number of real segments T_b (mask.sum(1)).


def rank_loss(centers: torch.Tensor, lengths: torch.Tensor, margin: float, normalize: bool) -> torch.Tensor:
    """Temporal order of the queries in one modality, with boundary terms (TPT).

    centers (B, K), per video:  sum_{k<K} max(0, c_k - c_{k+1} + m) + max(0, 1 - c_1 + m)
    + max(0, c_K - T_b + m), divided by T_b when `normalize`; mean over the batch."""
    lengths = lengths.to(centers.dtype)
    order = F.relu(centers[:, :-1] - centers[:, 1:] + margin).sum(-1)  # (B,)
    first = F.relu(1.0 - centers[:, 0] + margin)  # (B,)
    last = F.relu(centers[:, -1] - lengths + margin)  # (B,)
    per_video = order + first + last
    if normalize:
        per_video = per_video / lengths
    return per_video.mean()


def sparsity_loss(alpha: torch.Tensor, centers: torch.Tensor, lengths: torch.Tensor, normalize: bool) -> torch.Tensor:
    """Compactness of each query's attention: sum_t |t - c_k| alpha[k, t] (an L1 spread, in segments).

    alpha (B, K, T), centers (B, K); divided by T_b when `normalize`; mean over batch and queries."""
    t = torch.arange(1, alpha.shape[-1] + 1, device=alpha.device, dtype=alpha.dtype)  # (T,)
    spread = ((t - centers.unsqueeze(-1)).abs() * alpha).sum(-1)  # (B, K); padding has alpha = 0
    if normalize:
        spread = spread / lengths.to(spread.dtype).unsqueeze(-1)
    return spread.mean()


def consistency_loss(centers: dict[str, torch.Tensor], lengths: torch.Tensor, normalize: bool) -> torch.Tensor:
    """Cross-modal alignment: sum over queries k and modality pairs (m, m') of (c[m,k] - c[m',k])^2.

    centers {modality: (B, K)}; divided by T_b^2 when `normalize`; mean over the batch.
    Zero (a tensor) with fewer than two modalities."""
    first = next(iter(centers.values()))
    per_video = first.new_zeros(first.shape[0])  # (B,)
    for a, b in itertools.combinations(list(centers), 2):
        per_video = per_video + (centers[a] - centers[b]).pow(2).sum(-1)
    if normalize:
        per_video = per_video / lengths.to(per_video.dtype).pow(2)
    return per_video.mean()


def mean_center_gap(out: dict, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Mean |c[m,k] - c[m',k]| over videos, queries and modality pairs, in segments (a 0-d tensor).

    0 for a single modality. `mask` is accepted for a uniform signature; the centres in `out` were
    computed with padding masked already. Use it to report how well the modalities align."""
    per_video = center_gap_per_video(out)  # (B,) or None for one modality
    if per_video is None:
        return next(iter(out["centers"].values())).new_zeros(())
    return per_video.mean().detach()


# ----------------------------------------------------------------------------------------------
# Config. [paper] = stated by the paper, [TPT] = taken from TPT, [open] = our choice (docs/model.md).


@dataclass
class LMACConfig:
    # --- query encoder
    num_queries: int = 5  # K queries = stages [paper]
    num_scores: int = 1  # scores predicted at once (multi-score tasks: Fis-V TES + PCS, FS1000's seven) [ours]
    num_layers: int = 2  # L decoder layers [paper, ambiguous]
    d_model: int = 256  # width d [open: 256 or 512]; 256 lands near the paper's 8.95 M params / 0.419 GFLOPs, 512 gives ~18 M
    d_ffn: int = 1536  # FFN hidden width [open, not stated]; 6*d puts the total at 8.81 M for dims 1024/1024/768 (4*d: 7.24 M)
    num_heads: int = 8  # heads of the self-attention across queries [paper]
    self_attn_layers: str = "first"  # which layers have query self-attention: first|all|none [open; TPT: first]
    tau_init: float = 0.07  # initial temperature of the cross-attention [TPT]
    learn_tau: bool = True  # tau is learnable [TPT]
    dropout: float = 0.1  # [paper: 0.1 RG, 0.2 Fis-V]
    attention: str = "separate"  # separate: each modality attends on its own (the paper); joint: one shared
    # attention map per query from the modalities' averaged logits, so all modalities are read at the same moments [ours]
    joint_weights: str = "equal"  # joint attention: the modalities' logits averaged with equal weights, or
    # "learned" weights per layer (a softmax over modalities): the model can learn which modalities say where to
    # look, e.g. RGB alone where flow and audio bursts are irrelevant [ours]
    value_mlp: bool = False  # values from a per-segment 2-layer MLP instead of a linear projection [ours]
    input_norm: bool = False  # LayerNorm on each modality's input features before its decoder [ours]
    pos_encoding: str = "none"  # none|sine: add a sinusoidal encoding of t to the keys [ours; neither the paper
    # nor TPT has one, so queries find their stage by content alone -- see docs/model.md]
    # --- scoring
    stage_head: str = "shared"  # stage score Linear shared across k, per_stage, or mlp (modalities interact) [open; mlp ours]
    stage_sigmoid: bool = True  # sigmoid on stage scores, since targets are in [0, 1] [open]
    sum_head: bool = False  # [ours] add a summing path: (1/sum_ref_len) sum_t MLP(every modality at segment t),
    # so the score can count elements and add their values (judges add: RG's D, skating's TES), and compare the
    # modalities at the moment an element happens (|energy - intensity|); spread evenly over the stages
    sum_hidden: int = 128  # hidden width of the summing path's per-segment MLP
    sum_ref_len: int = 64  # segments; a constant, so the summing path grows with the number of moments it fires on
    agree_head: bool = False  # [ours] add the agreement path (AgreementPath): a gated mean over segments of how far
    # each pair of modalities departs, in a learned shared space, from how they usually go together
    agree_dim: int = 8  # dims of each pair's shared space
    agree_hidden: int = 64  # hidden width of the agreement path's gate
    align_weight: float = 0.1  # weight of its self-supervised alignment loss (logged as `align`)
    # --- losses: total = mse_weight * MSE + aux_weight * (rank_w * rank + sparsity_w * sparsity + consistency_w * consistency)
    mse_weight: float = 1.0  # lambda1 [paper: default 1]
    aux_weight: float = 1.0  # lambda2 [paper: default 1]
    rank_weight: float = 1.0  # ranking loss on the attention centres [paper]; 0 switches it off
    sparsity_weight: float = 0.05  # [open; TPT's weight 0.05]
    consistency_weight: float = 1.0  # cross-modal centre consistency [paper]
    rank_margin: float = 2.0  # hinge margin in segments [open: TPT used 2 to 3.2]; 2 stays feasible for short videos
    loss_layers: str = "last"  # attention used by rank/sparsity/consistency: last|all (TPT: all, summed) [open]
    normalize_by_length: bool = True  # divide rank & sparsity by T_b and consistency by T_b^2 [open, ours]
    # --- missing modalities [ours]
    modality_dropout: float = 0.0  # per training video, each modality is hidden with this probability (one always
    # stays); a learned placeholder stands in for a hidden modality's stage features, so the model can score a video
    # with no sound or no flow. 0: no placeholder, and a missing modality is an error
    # --- per-modality pretraining [ours; PAMFN's stage 1 for LMAC-Net, issue 17]
    pretrain_epochs: int = 0  # > 0: before training, the same model is trained on each modality alone for this many
    # epochs (run folders OUT/stage1/<modality>, resumable) and each modality's decoder starts from that run's last
    # checkpoint; the stage head, stage weights and placeholders start fresh. 0: off

    def __post_init__(self):
        if self.self_attn_layers not in ("first", "all", "none"):
            raise ValueError(f"self_attn_layers must be first|all|none, got {self.self_attn_layers!r}")
        if self.stage_head not in ("shared", "per_stage", "mlp"):
            raise ValueError(f"stage_head must be shared|per_stage|mlp, got {self.stage_head!r}")
        if self.attention not in ("separate", "joint"):
            raise ValueError(f"attention must be separate|joint, got {self.attention!r}")
        if self.joint_weights not in ("equal", "learned"):
            raise ValueError(f"joint_weights must be equal|learned, got {self.joint_weights!r}")
        if self.pos_encoding not in ("none", "sine"):
            raise ValueError(f"pos_encoding must be none|sine, got {self.pos_encoding!r}")
        if self.loss_layers not in ("last", "all"):
            raise ValueError(f"loss_layers must be last|all, got {self.loss_layers!r}")
        if self.d_model % self.num_heads:
            raise ValueError(f"d_model {self.d_model} is not divisible by num_heads {self.num_heads}")
        if self.num_queries < 1 or self.num_layers < 1 or self.num_scores < 1:
            raise ValueError("num_queries and num_layers must be >= 1")
        if not 0.0 <= self.modality_dropout < 1.0:
            raise ValueError(f"modality_dropout must be in [0, 1), got {self.modality_dropout}")
        if not isinstance(self.pretrain_epochs, int) or self.pretrain_epochs < 0:
            raise ValueError(f"pretrain_epochs must be a whole number >= 0, got {self.pretrain_epochs!r}")


# ----------------------------------------------------------------------------------------------
# The model


class LMACNet(nn.Module):
    # scoring (eval mode, autograd off) runs the modalities' decoders as one batched computation
    # (models/stacked_decode.py): the same result to float rounding, about half the time at batch 1. False: the
    # per-modality modules, as in training (benchmarks/bench_model.py measures both)
    stacked_scoring: bool = True

    def __init__(self, dims: dict[str, int], config: LMACConfig):
        super().__init__()
        if not 1 <= len(dims) <= 3:
            raise ValueError(f"LMAC-Net takes 1 to 3 modalities, got {list(dims)}")
        self.config = config
        self.modalities = tuple(dims)
        self.decoders = nn.ModuleDict({m: QueryDecoder(D, config) for m, D in dims.items()})
        self.stage_head = StageHead(config.d_model * len(dims), config)
        self.stage_logits = nn.Parameter(torch.zeros(config.num_queries))  # w; softmax(w) weighs the stages
        self.sum_head = SegmentSum(dims, config) if config.sum_head else None
        self.agree_head = AgreementPath(dims, config) if config.agree_head else None
        # what stands in for a missing modality's stage features (only with modality dropout)
        self.placeholders = nn.Parameter(torch.zeros(len(dims), config.num_queries, config.d_model)) \
            if config.modality_dropout > 0 and len(dims) > 1 else None
        # joint attention's modality weights per layer, softmax(joint_gate[layer]) over the modalities present
        self.joint_gate = nn.Parameter(torch.zeros(config.num_layers, len(dims))) \
            if config.attention == "joint" and config.joint_weights == "learned" and len(dims) > 1 else None
        self._init_weights()

    @property
    def accepts_missing_modalities(self) -> bool:
        return self.placeholders is not None

    def load_branches(self, states: dict[str, dict], source: str = "") -> None:
        """Per-modality pretraining's decoders, {modality: state_dict of a run of this model on that modality alone}."""
        for m, state in states.items():
            prefix = f"decoders.{m}."
            mine = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
            missing, unexpected = self.decoders[m].load_state_dict(mine, strict=False)
            if missing or unexpected:
                raise ValueError(f"{source}: the {m} decoder does not fit this model (missing {missing[:3]}, "
                                 f"unexpected {unexpected[:3]}); was it pretrained with other options?")

    def train(self, mode: bool = True):
        # the stacked weights live from one train()/eval() call to the next: optimisers that update in place
        # without bumping the parameters' version counters (torch's fused AdamW) then cannot leave them stale
        self.__dict__.pop("_stacked_cache", None)
        return super().train(mode)

    def _presence(self, feats: dict, batch: int, device) -> torch.Tensor | None:
        """(B, M) bool: which modalities each video has. Absent keys are missing for every video; in
        training, modality dropout hides more (never all of a video's). None when all are present."""
        present = torch.tensor([m in feats for m in self.modalities], device=device).expand(batch, -1).clone()
        if self.training and self.placeholders is not None:
            drop = torch.rand(present.shape, device=device) < self.config.modality_dropout
            keep = present & ~drop
            none_left = ~keep.any(1)  # such videos keep one of their modalities, drawn at random
            pick = torch.multinomial(present[none_left].float(), 1).squeeze(1) if none_left.any() else None
            if pick is not None:
                keep[none_left.nonzero().squeeze(1), pick] = True
            return keep  # even when all are kept: the placeholders stay in the graph (DDP needs every gradient)
        return None if bool(present.all()) else present

    def _init_weights(self):
        # TPT: Xavier-uniform for every matrix of the decoders (queries included), zero biases.
        for name, p in self.decoders.named_parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)
            elif name.endswith("bias"):
                nn.init.zeros_(p)

    def get_num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def optim_groups(self, weight_decay: float) -> list[dict]:
        """AdamW groups, nanoGPT's rule: decay matrices only (not biases, LayerNorm, tau, stage logits)."""
        params = [p for p in self.parameters() if p.requires_grad]
        return [
            {"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
            {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
        ]

    def forward(self, feats: dict[str, torch.Tensor], mask: torch.Tensor) -> dict:
        mask = mask.bool()
        missing = [m for m in self.modalities if m not in feats]
        if missing and (self.placeholders is None or len(missing) == len(self.modalities)):
            hint = ("" if self.placeholders is not None else
                    "; a model trained with modality dropout (--set modality_dropout=0.3) scores videos without them")
            raise KeyError(f"LMAC-Net needs features {list(self.modalities)}; missing {missing}{hint}")
        have = [m for m in self.modalities if m in feats]
        present = self._presence(feats, mask.shape[0], mask.device)
        p, attn_layers, attn, centers = {}, {}, {}, {}
        if self.stacked_scoring and not self.training and not torch.is_grad_enabled():  # scoring: one batched computation
            p, attn_layers = stacked_decode(self, feats, mask, have)
        elif self.config.attention == "joint":
            p, attn_layers = self._joint_decode(feats, mask, have, present)
        else:
            for m in have:
                p[m], attn_layers[m] = self.decoders[m](feats[m], mask)  # (B, K, d), (B, L, K, T)
        for m in have:
            attn[m] = attn_layers[m][:, -1]  # (B, K, T): last layer, what users see
            centers[m] = attention_centers(attn[m])  # (B, K)
        if present is not None:  # hidden or missing modalities: their placeholder instead
            for i, m in enumerate(self.modalities):
                stand_in = self.placeholders[i].expand(mask.shape[0], -1, -1)
                p[m] = torch.where(present[:, i, None, None], p[m], stand_in) if m in p else stand_in
        f = torch.cat([p[m] for m in self.modalities], dim=-1)  # (B, K, M*d): fused per-stage features
        stage_scores = self.stage_head(f)  # (B, K)
        if self.sum_head is not None:  # the summing path, spread evenly over the stages (their weights sum to 1)
            total = self.sum_head(feats, mask, self.modalities, present)  # (B,) or (B, S)
            stage_scores = stage_scores + total.unsqueeze(1)
        align = None
        if self.agree_head is not None:  # the agreement path, spread evenly over the stages like the summing path
            agree, align = self.agree_head(feats, mask, self.modalities, present)  # (B,) or (B, S), ()
            stage_scores = stage_scores + agree.unsqueeze(1)
        stage_weights = self.stage_logits.softmax(0).expand(stage_scores.shape[:2])  # (B, K), rows sum to 1
        if stage_scores.dim() == 3:  # several scores: (B, K, S) -> (B, S)
            score = (stage_weights.unsqueeze(-1) * stage_scores).sum(1)
        else:
            score = (stage_weights * stage_scores).sum(-1)  # (B,)
        return {
            "score": score,
            "stage_scores": stage_scores,
            "stage_weights": stage_weights,
            "attn": attn,
            "centers": centers,
            "attn_layers": attn_layers,
            **({"align": align} if align is not None else {}),
        }

    def _joint_decode(self, feats: dict[str, torch.Tensor], mask: torch.Tensor, have: list[str],
                      present: torch.Tensor | None = None):
        """Every modality's query k looks at the same moments: per layer, the modalities' attention
        logits are averaged (a product of their attention distributions) and one softmax is shared.
        Each modality keeps its own keys, values, queries and weights. With `present` (B, M), a video's
        average runs over the modalities it has."""
        dec = self.decoders
        x, q, p = {}, {}, {}
        for m in have:
            x[m], q[m], p[m] = dec[m].start(feats[m])
        idx = [self.modalities.index(m) for m in have]
        dtype = x[have[0]].dtype
        w = None
        if present is not None:
            w = present[:, idx].to(dtype)  # (B, M')
            w = (w / w.sum(1, keepdim=True)).T[:, :, None, None]  # (M', B, 1, 1), rows sum to 1
        alphas = []
        for i in range(self.config.num_layers):
            logits = torch.stack([dec[m].layers[i].cross.logits(x[m], p[m] + q[m], mask) for m in have])  # (M', B, K, T)
            if self.joint_gate is not None:  # learned weights, renormalised over the modalities each video has
                pres = present[:, idx].to(dtype) if present is not None else logits.new_ones(logits.shape[1], len(idx))
                g = pres * self.joint_gate[i, idx].softmax(0)  # (B, M')
                w = (g / g.sum(1, keepdim=True)).T[:, :, None, None]
            if w is None:
                alpha = logits.mean(0).softmax(-1)  # (B, K, T)
            else:  # a weighted sum; padding's -inf (times a weight 0, or in a gradient) would give NaN, so it is
                pad = ~mask[None, :, None, :]  # set to 0 for the sum and to -inf after it
                alpha = (w * logits.masked_fill(pad, 0.0)).sum(0).masked_fill(pad[0], float("-inf")).softmax(-1)
            for m in have:
                p[m] = dec[m].layers[i].update(p[m], q[m], dec[m].layers[i].cross.read(alpha, x[m]))
            alphas.append(alpha)
        a = torch.stack(alphas, dim=1)  # (B, L, K, T)
        return p, {m: a for m in have}

    def compute_loss(self, out: dict, target: torch.Tensor, mask: torch.Tensor) -> dict:
        """Weighted terms and their sum. Terms switched off (weight 0) are exact zeros, so every
        variant logs the same keys: total, mse, rank, sparsity, consistency (and align with `agree_head`)."""
        c = self.config
        score = out["score"]
        zero = score.new_zeros(())
        lengths = mask.sum(1).clamp_min(1)  # (B,) T_b, real segments per video
        mse = c.mse_weight * F.mse_loss(score, target.to(score.dtype))
        # attention maps the losses use: the last layer, or each layer (summed, as TPT)
        n_layers = next(iter(out["attn_layers"].values())).shape[1]
        layers = [n_layers - 1] if c.loss_layers == "last" else list(range(n_layers))
        rank, sparsity, consistency = zero, zero, zero
        for i in layers:
            alpha = {m: a[:, i] for m, a in out["attn_layers"].items()}  # each (B, K, T)
            cent = {m: attention_centers(a) for m, a in alpha.items()}  # each (B, K)
            if c.rank_weight:
                rank = rank + sum(rank_loss(cent[m], lengths, c.rank_margin, c.normalize_by_length) for m in cent)
            if c.sparsity_weight:
                sparsity = sparsity + sum(sparsity_loss(alpha[m], cent[m], lengths, c.normalize_by_length) for m in cent)
            if c.consistency_weight and len(cent) > 1:
                consistency = consistency + consistency_loss(cent, lengths, c.normalize_by_length)
        rank = c.aux_weight * c.rank_weight * rank
        sparsity = c.aux_weight * c.sparsity_weight * sparsity
        consistency = c.aux_weight * c.consistency_weight * consistency
        total = mse + rank + sparsity + consistency
        terms = {"mse": mse, "rank": rank, "sparsity": sparsity, "consistency": consistency}
        if "align" in out:  # the agreement path's self-supervised term (agree_head only)
            terms["align"] = c.align_weight * out["align"]
            total = total + terms["align"]
        return {"total": total, **terms}


# ----------------------------------------------------------------------------------------------
# Registry: the full model, the paper's ablation chain (concat -> +query -> +rank -> +sparsity ->
# +consistency = lmac; `concat` lives in baselines/concat.py) and single-modality LMAC-Net.

# Our variant (docs/model.md, "lmac_aligned"): every modality read at the same moments (joint attention),
# a nonlinearity per segment before pooling (value MLP), positions so queries can find their stage, and the
# attention losses at a tenth of the MSE (with targets in [0, 1] the ranking term otherwise starts ~10x the MSE).
_ALIGNED = dict(attention="joint", value_mlp=True, pos_encoding="sine", aux_weight=0.1)

_PRESETS = {
    "lmac": ({}, None, "LMAC-Net: query encoder + MSE, ranking, sparsity, consistency"),
    "lmac_query": (dict(rank_weight=0.0, sparsity_weight=0.0, consistency_weight=0.0), None, "ablation: query encoder + MSE only"),
    "lmac_rank": (dict(sparsity_weight=0.0, consistency_weight=0.0), None, "ablation: + ranking loss"),
    "lmac_sparse": (dict(consistency_weight=0.0), None, "ablation: + sparsity loss (no consistency)"),
    "lmac_joint": (dict(attention="joint"), None, "LMAC-Net with one attention map shared by the modalities [ours]"),
    "lmac_aligned": (_ALIGNED, None, "LMAC-Net + joint attention, value MLP, sine positions, aux losses x0.1 [ours]"),
    # the default model of `lmac train` (issue 17; chosen on the development worlds' validation splits,
    # benchmarks/results/worlds/README.md)
    "lmac_aligned_md": ({**_ALIGNED, "modality_dropout": 0.3}, None,
                        "lmac_aligned + modality dropout 0.3: scores videos with a modality missing [ours; the default]"),
    "lmac_aligned_rgb": (_ALIGNED, ("rgb",), "lmac_aligned on RGB only (joint attention is a no-op with one modality)"),
    "lmac_rgb": ({}, ("rgb",), "single-modality LMAC-Net, RGB"),
    "lmac_flow": ({}, ("flow",), "single-modality LMAC-Net, optical flow"),
    "lmac_audio": ({}, ("audio",), "single-modality LMAC-Net, audio"),
}


def pretrain_decoders(cfg, out_dir, train_fn, resume: bool, log, name: str | None = None,
                      model_args: dict | None = None, only: frozenset | None = None) -> dict:
    """Per-modality pretraining (`pretrain_epochs`), as PAMFN's stage 1 but for LMAC-Net: model `name` (the run's
    own, or an ensemble member's) trained on each of the run's modalities alone, one resumable run folder each under
    OUT/. Returns {modality: state_dict of its last checkpoint} ({} when `pretrain_epochs` is 0). The last checkpoint,
    not a best one: nothing is picked on a validation or test split. `only`: pretrain just these modalities (the
    ensemble's `pretrain_gate`); the others' decoders start untrained."""
    import dataclasses
    from pathlib import Path

    from lmac.training.run import stage_checkpoint

    name = name or cfg.model
    args = dict(cfg.model_args if model_args is None else model_args)
    epochs = _config(name, args).pretrain_epochs
    if not epochs:
        return {}
    wanted = MODELS.info(name).get("modalities")
    states = {}
    for mod in [m for m in cfg.modalities if (wanted is None or m in wanted) and (only is None or m in only)]:
        sub = dataclasses.replace(cfg, model=name, modalities=[mod], model_args={**args, "pretrain_epochs": 0},
                                  epochs=epochs)
        states[mod] = stage_checkpoint(sub, Path(out_dir) / mod, train_fn, log,
                                       f"{name} pretraining: {mod} alone, {epochs} epochs")
    if states:
        log(f"{name}: the {', '.join(states)} decoders start from their pretraining runs (last checkpoints)")
    else:
        log(f"{name}: no decoder pretrained (none of its modalities is in the gated read)")
    return states


def _pretrain_own(cfg, out_dir, train_fn, resume: bool, log, fitted: dict | None = None) -> dict:
    from pathlib import Path

    return pretrain_decoders(cfg, Path(out_dir) / "stage1", train_fn, resume, log)


def _config(name: str, kwargs: dict) -> LMACConfig:
    """A registry name's config: its preset, then the options given."""
    return config_from_kwargs(LMACConfig, {**_PRESETS[name][0], **kwargs}, name)


def _entry(name: str):
    def entry(dims, **kwargs):
        return LMACNet(dims, _config(name, kwargs))

    entry.__name__ = name
    return entry


for _name, (_, _mods, _doc) in _PRESETS.items():
    MODELS.register(_name, modalities=_mods, doc=_doc, interpretable=True, config=LMACConfig,
                    pretrain=_pretrain_own)(_entry(_name))
