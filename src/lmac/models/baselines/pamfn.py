"""PAMFN (Zeng & Zheng, "Multimodal Action Quality Assessment", IEEE TIP 2024), written from its
paper and from reading its authors' code (qinghuannn/PAMFN, models/pamfn.py), run as they run it.

Stage 1 (`pamfn_branch`): one branch per modality. A 1x1-conv embedding (D -> 512 -> d, batch norm,
ReLU, dropout 0.3), then three residual temporal-conv blocks (two k=3 convs with batch norm and
GELU, added to the input) with average pooling by 2 after the first two and global pooling after
the third, and a sigmoid head; MSE. It exposes four levels of features: the embedding (length T),
after block 1 (T/2), after block 2 (T/4) and the global one (1).

Stage 2 (`pamfn`): the three trained branches feed a progressive fusion of three blocks, one per
level. Each block keeps a mixed-modality trunk `c` (conv + shortcut over the previous block's
output), a modality-specific decoder `s` (at each time step, `c` attends over the modalities'
features of the next level), and an adaptive fusion module `f`: K fusion nets, each a weighted sum
of the modalities (weights from a small net per modality, softmaxed over modalities) followed by a
residual conv, and a policy that picks, per time step, with a hard Gumbel-softmax, how many of the
K nets the attention over them may see (a prefix mask; the gradient goes straight through). Block
output: [c, s, f]. RGB and flow branches are frozen (their features detached); audio is fine-tuned.

Where we differ from the authors' code, and why:
- Evaluation is deterministic: the policy takes the arg-max instead of sampling (the authors sample
  at test time too, so their test predictions vary from run to run).
- Every layer is masked, and pooling averages only real segments (an odd length keeps its last
  segment): a padded batch gives each video the score it gets alone, as the authors' batch-1
  evaluation does; videos of 1-3 segments still score.
- The multi-head attention's LayerNorm, created but never used by the authors, is left out
  (3 x 2 x 512 parameters), and so are the stage-1 heads' gradients (frozen: never in the loss).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from lmac.models._builder import MODELS, config_from_kwargs, masked_mean


# ----------------------------------------------------------------------------- masked helpers
def _zero_pad(x: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    """x (B, C, T) with padded positions set to 0, so a k=3 conv at a video's end sees the zeros it
    would see alone (conv padding)."""
    return x * m.unsqueeze(1).to(x.dtype)


def _pool2(x: torch.Tensor, m: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Average pooling by 2 over real segments only: (B, C, T) -> (B, C, ceil(T/2)), and its mask."""
    if x.shape[-1] % 2:
        x, m = F.pad(x, (0, 1)), F.pad(m, (0, 1))
    mf = m.to(x.dtype)
    s = (x * mf.unsqueeze(1)).unflatten(-1, (-1, 2)).sum(-1)
    c = mf.unflatten(-1, (-1, 2)).sum(-1)
    return s / c.clamp_min(1).unsqueeze(1), c > 0


def _gap(x: torch.Tensor, m: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Global average over real segments: (B, C, T) -> (B, C, 1)."""
    out = masked_mean(x.transpose(1, 2), m).unsqueeze(-1)
    return out, torch.ones(x.shape[0], 1, dtype=torch.bool, device=x.device)


def _pool(x, m, gap: bool):
    return _gap(x, m) if gap else _pool2(x, m)


class _ConvBNAct(nn.Sequential):
    def __init__(self, cin, cout, k, act):
        super().__init__(nn.Conv1d(cin, cout, k, 1, k // 2), nn.BatchNorm1d(cout), act())


class _MaskedSeq(nn.Module):
    """Conv-BN-activation layers, re-zeroing padded positions after each one."""

    def __init__(self, *layers):
        super().__init__()
        self.layers = nn.ModuleList(layers)

    def forward(self, x, m):
        for layer in self.layers:
            x = _zero_pad(layer(x), m)
        return x


# ----------------------------------------------------------------------------- stage 1: one branch
@dataclass
class PAMFNBranchConfig:
    hidden: int = 256  # d (the authors' model_dim)
    embed_hidden: int = 512  # the embedding's inner width (hard-coded by the authors)
    embed_dropout: float = 0.3
    dropout: float = 0.5  # before the head (drop_rate: 0.5 in the SGD / VST-I3D-AST configs)


class _ResBlock(nn.Module):
    """x + (conv-BN-GELU)^2 (x): no activation after the sum, as the authors write it."""

    def __init__(self, d):
        super().__init__()
        self.body = _MaskedSeq(_ConvBNAct(d, d, 3, nn.GELU), _ConvBNAct(d, d, 3, nn.GELU))

    def forward(self, x, m):
        return x + self.body(x, m)


class PAMFNBranch(nn.Module):
    """One modality: embedding, three residual blocks with pooling, sigmoid head. `levels()` gives
    the four levels of features (and their masks) that stage 2 fuses."""

    def __init__(self, dims: dict[str, int], config: PAMFNBranchConfig):
        super().__init__()
        if len(dims) != 1:
            raise ValueError(f"pamfn_branch models one modality; got {list(dims)} (train it with --modalities M)")
        self.modalities = tuple(dims)
        self.config = config
        (din,) = dims.values()
        d = config.hidden
        self.embed = _MaskedSeq(_ConvBNAct(din, config.embed_hidden, 1, nn.ReLU), _ConvBNAct(config.embed_hidden, d, 1, nn.ReLU))
        self.embed_drop = nn.Dropout(config.embed_dropout)
        self.blocks = nn.ModuleList([_ResBlock(d) for _ in range(3)])
        self.head = nn.Sequential(nn.Dropout(config.dropout), nn.Conv1d(d, 1, 1))

    def levels(self, x: torch.Tensor, mask: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """x (B, T, D) -> [(features (B, d, T_l), mask (B, T_l))] for T_l = T, T/2, T/4, 1."""
        m = mask
        h = _zero_pad(self.embed_drop(self.embed(_zero_pad(x.transpose(1, 2), m), m)), m)
        out = [(h, m)]
        for i, block in enumerate(self.blocks):
            h = _zero_pad(block(h, m), m)
            h, m = _pool(h, m, gap=i == 2)
            out.append((h, m))
        return out

    def forward(self, feats: dict[str, torch.Tensor], mask: torch.Tensor) -> dict:
        top, _ = self.levels(feats[self.modalities[0]], mask)[-1]
        return {"score": torch.sigmoid(self.head(top)).flatten()}

    def compute_loss(self, out: dict, target: torch.Tensor, mask: torch.Tensor) -> dict:
        mse = F.mse_loss(out["score"], target)
        return {"total": mse, "mse": mse}


# ----------------------------------------------------------------------------- stage 2: fusion
class _Attention(nn.Module):
    """The authors' multi-head attention: Q, K, V projections, no output projection, scores
    *negated* (-QK^T / sqrt(d_head)), an additive mask, dropout on the weights."""

    def __init__(self, d: int, heads: int, dropout: float = 0.1):
        super().__init__()
        if d % heads:
            raise ValueError(f"hidden {d} is not divisible by {heads} heads")
        self.h = heads
        self.q, self.k, self.v = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
        self.drop = nn.Dropout(dropout)

    def forward(self, q, k, v, mask=None):  # q (N, 1, d), k/v (N, S, d), mask (N, 1, S) additive
        n, d = q.shape[0], q.shape[-1]
        split = lambda x: x.view(n, -1, self.h, d // self.h).transpose(1, 2)  # noqa: E731
        q, k, v = split(self.q(q)), split(self.k(k)), split(self.v(v))
        scores = -(q @ k.transpose(-1, -2)) / math.sqrt(d // self.h)
        if mask is not None:
            scores = scores + mask.unsqueeze(1)
        w = self.drop(scores.softmax(-1))
        return (w @ v).transpose(1, 2).reshape(n, -1, d)


def _per_step(x: torch.Tensor) -> torch.Tensor:
    """(B, C, t) -> (B*t, 1, C): one attention query per time step."""
    return x.permute(0, 2, 1).reshape(-1, 1, x.shape[1])


class _ModalityDecoder(nn.Module):
    """MS_Fusion: at each time step the trunk attends over the modalities' features."""

    def __init__(self, d, heads):
        super().__init__()
        self.proj = nn.Conv1d(d, d, 1)
        self.attn = _Attention(d, heads)

    def forward(self, feats: list, c: torch.Tensor) -> torch.Tensor:
        b, d, t = c.shape
        kv = torch.stack([f.permute(0, 2, 1) for f in feats], 2).reshape(b * t, len(feats), d)
        return self.attn(_per_step(self.proj(c)), kv, kv).view(b, t, d).permute(0, 2, 1)


class _AdaptiveFusion(nn.Module):
    """CM_Fusion: K fusion nets (modality-weighted sums + residual conv) and a Gumbel-softmax policy
    choosing, per time step, how many of them the attention may use."""

    def __init__(self, d, n_mod, K, heads, gap):
        super().__init__()
        self.K, self.gap = K, gap
        self.weights = nn.ModuleList([nn.ModuleDict({"a": _ConvBNAct(d, d, 1, nn.ReLU), "b": nn.Conv1d(d, K, 1)})
                                      for _ in range(n_mod)])
        self.ffn = nn.ModuleList([_MaskedSeq(_ConvBNAct(d, d, 3, nn.ReLU), _ConvBNAct(d, d, 3, nn.ReLU)) for _ in range(K)])
        self.query = nn.Conv1d(2 * d, d, 1)
        self.policy = nn.Conv1d(n_mod * d, K, 1)
        self.attn = _Attention(d, heads)

    def forward(self, feats: list, m: torch.Tensor, c: torch.Tensor, s: torch.Tensor, tau: torch.Tensor):
        w = torch.stack([net["b"](_zero_pad(net["a"](f), m)) for net, f in zip(self.weights, feats)], 1)  # (B, M, K, T)
        w = w.softmax(1)
        nets = []
        for k, ffn in enumerate(self.ffn):
            nf = _zero_pad(sum(w[:, i, k].unsqueeze(1) * f for i, f in enumerate(feats)), m)
            nets.append(_pool(ffn(nf, m) + nf, m, self.gap)[0])  # (B, d, t)
        logit, _ = _pool(self.policy(torch.cat(feats, 1)), m, self.gap)  # (B, K, t)
        if self.training:
            onehot = F.gumbel_softmax(logit, tau=tau, hard=True, dim=1)
        else:  # ours: deterministic evaluation (the authors sample here at test time too)
            onehot = F.one_hot(logit.argmax(1), self.K).permute(0, 2, 1).to(logit.dtype)
        chosen = onehot.argmax(1, keepdim=True)  # (B, 1, t)
        blocked = torch.arange(self.K, device=logit.device).view(1, -1, 1) > chosen
        mask = blocked.to(logit.dtype) * -1e9 + onehot - onehot.detach()  # straight-through to the policy
        b, d, t = c.shape
        kv = torch.stack(nets, 2).permute(0, 3, 2, 1).reshape(b * t, self.K, d)
        q = _per_step(-self.query(torch.cat([c, s], 1)))
        out = self.attn(q, kv, kv, mask.permute(0, 2, 1).reshape(b * t, 1, self.K))
        return out.view(b, t, d).permute(0, 2, 1), onehot


class _FusionBlock(nn.Module):
    def __init__(self, d, n_mod, K, ms_heads, cm_heads, gap):
        super().__init__()
        # the trunk reads the previous block's [c, s, f] (3d channels, whatever the number of modalities)
        self.trunk = _MaskedSeq(_ConvBNAct(3 * d, d, 3, nn.ReLU), _ConvBNAct(d, d, 3, nn.ReLU))
        self.shortcut = _ConvBNAct(3 * d, d, 1, nn.ReLU)
        self.decoder = _ModalityDecoder(d, ms_heads)
        self.fusion = _AdaptiveFusion(d, n_mod, K, cm_heads, gap)

    def forward(self, x, xm, f_level, s_level, tau):
        c = _zero_pad(self.trunk(x, xm) + self.shortcut(x), xm)
        s = self.decoder([f for f, _ in s_level], c)
        f, choice = self.fusion([f for f, _ in f_level], f_level[0][1], c, s, tau)
        return _zero_pad(torch.cat([c, s, f], 1), xm), choice


@dataclass
class PAMFNConfig:
    hidden: int = 256  # d: must match the branches
    embed_hidden: int = 512
    K: int = 10  # fusion nets (RG, VST/I3D/AST features: 10)
    ms_heads: int = 1
    cm_heads: int = 1
    fc_reduction: int = 2  # the head's width is hidden / fc_reduction (fc_r)
    fc_dropout: float = 0.0
    feature_dropout: float = 0.5  # on the branches' features (feat_drop)
    tau_init: float = 10.0  # the Gumbel-softmax temperature, learned
    branch_dropout: float = 0.5  # stage 1's head dropout (drop_rate)
    frozen: str = "rgb,flow"  # branches not trained in stage 2 (their features detached)
    stage1_epochs: int = 0  # epochs of each stage-1 branch run; 0 = the run's --epochs
    head_lr_scale: float = 0.1  # the fusion head's lr relative to the rest (reduce_fc_lr)

    def __post_init__(self):
        for name in ("hidden", "embed_hidden", "K", "ms_heads", "cm_heads", "fc_reduction"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.hidden % self.ms_heads or self.hidden % self.cm_heads:
            raise ValueError(f"hidden {self.hidden} is not divisible by ms_heads {self.ms_heads} and cm_heads {self.cm_heads}")

    def branch_config(self) -> dict:
        return {"hidden": self.hidden, "embed_hidden": self.embed_hidden, "dropout": self.branch_dropout}


class PAMFN(nn.Module):
    def __init__(self, dims: dict[str, int], config: PAMFNConfig):
        super().__init__()
        self.modalities = tuple(dims)
        self.config = config
        d, n = config.hidden, len(dims)
        bcfg = PAMFNBranchConfig(**config.branch_config())
        self.branches = nn.ModuleDict({mod: PAMFNBranch({mod: dim}, bcfg) for mod, dim in dims.items()})
        self.frozen = tuple(m for m in (x.strip() for x in config.frozen.split(",")) if m in dims)
        for mod, branch in self.branches.items():
            for p in (branch.parameters() if mod in self.frozen else branch.head.parameters()):
                p.requires_grad_(False)  # frozen branches, and every stage-1 head (stage 2 never uses it)
        self.register_buffer("c0", torch.zeros(1, 3 * d, 1), persistent=False)  # the authors' constant trunk input
        self.blocks = nn.ModuleList([_FusionBlock(d, n, config.K, config.ms_heads, config.cm_heads, gap=i == 2)
                                     for i in range(3)])
        self.tau = nn.Parameter(torch.tensor(float(config.tau_init)))
        self.feat_drop = nn.Dropout(config.feature_dropout)
        h = d // config.fc_reduction
        self.head = nn.Sequential(nn.Dropout(config.fc_dropout), nn.Conv1d(3 * d, h, 1), nn.BatchNorm1d(h), nn.ReLU(),
                                  nn.Dropout(0.5), nn.Conv1d(h, 1, 1))

    def load_branches(self, states: dict[str, dict], source: str = "") -> None:
        """Stage 1's trained branches, {modality: state_dict of a pamfn_branch run}."""
        for mod, state in states.items():
            missing, unexpected = self.branches[mod].load_state_dict(state, strict=False)
            if missing or unexpected:
                raise ValueError(f"{source}: the {mod} branch does not fit this PAMFN (missing {missing[:3]}, "
                                 f"unexpected {unexpected[:3]})")

    def lr_scales(self) -> dict[str, float]:
        """Parameter-name prefix -> lr multiplier (the authors' reduce_fc_lr)."""
        return {"head.": self.config.head_lr_scale}

    def forward(self, feats: dict[str, torch.Tensor], mask: torch.Tensor) -> dict:
        levels = []
        for mod in self.modalities:
            lv = self.branches[mod].levels(feats[mod], mask)
            if mod in self.frozen:
                lv = [(f.detach(), m) for f, m in lv]
            levels.append([(self.feat_drop(f), m) for f, m in lv])
        by_level = [[lv[i] for lv in levels] for i in range(4)]  # level i: [(f, mask) per modality]
        xm = by_level[1][0][1]
        x = _zero_pad(self.c0.expand(mask.shape[0], -1, xm.shape[1]), xm)
        choices = []
        for i, block in enumerate(self.blocks):
            x, choice = block(x, xm, by_level[i], by_level[i + 1], self.tau)
            choices.append(choice)
            if i < 2:
                x, xm = _pool(x, xm, gap=i == 1)
        return {"score": torch.sigmoid(self.head(x)).flatten(), "fusion_choice": choices}

    def compute_loss(self, out: dict, target: torch.Tensor, mask: torch.Tensor) -> dict:
        mse = F.mse_loss(out["score"], target)
        return {"total": mse, "mse": mse}


# Recipes (the authors' RG configs for VST / I3D / AST features): stage 1 SGD (momentum 0.9, weight
# decay 1e-4) at lr 1e-2 with cosine decay; stage 2 AdamW at lr 5e-4 (weight decay 0.01: the
# authors' AdamW is built without their configured decay, so PyTorch's default applies), cosine,
# gradient clipping at 2, no warm-up.
BRANCH_RECIPE = {"optimizer": "sgd", "lr": 1e-2, "weight_decay": 1e-4, "warmup_epochs": 0, "grad_clip": 2.0}
FUSION_RECIPE = {"optimizer": "adamw", "lr": 5e-4, "weight_decay": 0.01, "warmup_epochs": 0, "grad_clip": 2.0}


@MODELS.register("pamfn_branch", modalities=None, single_modality=True, config=PAMFNBranchConfig, recipe=BRANCH_RECIPE,
                 batch_coupled="BatchNorm statistics",
                 doc="PAMFN stage 1: one modality's temporal-conv branch (trained by `pamfn` itself)")
def pamfn_branch(dims, **kwargs):
    return PAMFNBranch(dims, config_from_kwargs(PAMFNBranchConfig, kwargs, "pamfn_branch"))


def _pretrain_branches(cfg, out_dir, train_fn, resume: bool, log) -> dict:
    """Stage 1 of `lmac train --model pamfn`: one pamfn_branch run per modality, each its own run
    folder under OUT/stage1/<modality> (resumable like any run). Returns {modality: state_dict} of
    the checkpoint stage 2 starts from: best_val when there is a validation split, else last (the
    authors pick the best moving-average *test* epoch)."""
    import dataclasses
    from pathlib import Path

    from lmac.training.run import stage_checkpoint

    pcfg = config_from_kwargs(PAMFNConfig, dict(cfg.model_args), "pamfn")
    which = "best_val" if cfg.val_fraction > 0 else "last"
    states = {}
    for mod in cfg.modalities:
        sub = dataclasses.replace(cfg, model="pamfn_branch", modalities=[mod], model_args=pcfg.branch_config(),
                                  epochs=pcfg.stage1_epochs or cfg.epochs, dropout=None, **BRANCH_RECIPE)
        states[mod] = stage_checkpoint(sub, Path(out_dir) / "stage1" / mod, train_fn, log,
                                       f"pamfn stage 1: {mod} branch", which)
    log(f"pamfn stage 2: fusion over {', '.join(cfg.modalities)} ({', '.join(states)} branches from stage 1, "
        f"{which} checkpoints)")
    return states


@MODELS.register("pamfn", modalities=None, config=PAMFNConfig, recipe=FUSION_RECIPE, pretrain=_pretrain_branches,
                 pretrain_reseeds=True,
                 batch_coupled="BatchNorm statistics and the Gumbel-softmax policy's noise",
                 doc="PAMFN (TIP 2024): per-modality conv branches (stage 1), then progressive adaptive fusion")
def pamfn(dims, **kwargs):
    return PAMFN(dims, config_from_kwargs(PAMFNConfig, kwargs, "pamfn"))
