"""The model registry and factory.

Contract every registered model follows (so training/evaluation code is shared):
- built as `create_model(name, dims, **kwargs)`, where `dims` maps the modalities the data offers
  to their feature widths, e.g. {"rgb": 1024, "flow": 1024, "audio": 768}. A model uses the subset
  it is registered for (`modalities` in the registry info; None = all offered) and raises if one
  it needs is missing. kwargs set config fields; None values are dropped (= model default).
- `forward(feats, mask)`: feats {modality: (B, T, D) float}, mask (B, T) bool, True = real segment.
  Returns a dict with at least `score` (B,) in normalised target units; interpretable models add
  `stage_scores` (B, K), `stage_weights` (B, K), `attn` {modality: (B, K, T)}, `centers`
  {modality: (B, K)} (1-based segment units).
- `compute_loss(out, target, mask)` -> dict of scalar tensors: `total` plus each weighted term
  (e.g. `mse`, `rank`, `sparsity`, `consistency`), so every term can be logged per epoch.
- `config` attribute: a dataclass whose `asdict` rebuilds the model with `create_model(name, dims, **config)`.
"""
from __future__ import annotations

from dataclasses import MISSING, fields

import torch

from lmac.models.dropout import use_fast_dropout
from lmac.registry import Registry

MODELS = Registry("model")


def create_model(name: str, dims: dict[str, int], **kwargs) -> torch.nn.Module:
    entry = MODELS.get(name)
    info = MODELS.info(name)
    wanted = info.get("modalities")
    if wanted is not None:
        missing = [m for m in wanted if m not in dims]
        if missing:
            raise ValueError(f"model '{name}' needs modalities {list(wanted)}; the features have only {list(dims)}")
        dims = {m: dims[m] for m in wanted}
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    model = use_fast_dropout(entry(dims=dict(dims), **kwargs))  # the same dropout, drawn cheaper on a CPU
    model.registry_name = name
    return model


def list_models(pattern: str = "*", members: bool = False) -> list[str]:
    """The models `lmac train --model` builds; with `members`, also those only an ensemble holds (pooled_ridge)."""
    return [n for n in MODELS.names(pattern) if members or not MODELS.info(n).get("member_only")]


def count_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def config_from_kwargs(cls, kwargs: dict, model_name: str):
    """Build a config dataclass, rejecting unknown keys with a message naming them."""
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(kwargs) - names)
    if unknown:
        raise TypeError(f"model '{model_name}' has no option(s) {unknown}; options: {sorted(names)}")
    return cls(**kwargs)


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over time of x (B, T, D) counting only mask==True segments -> (B, D)."""
    m = mask.to(x.dtype).unsqueeze(-1)  # (B, T, 1)
    return (x * m).sum(1) / m.sum(1).clamp_min(1.0)


def center_gap_per_video(out: dict) -> torch.Tensor | None:
    """Mean |c[m,k] - c[m',k]| over queries k and modality pairs, per video (B,), in segments.

    None when the model reports no attention centres or sees a single modality."""
    centers = out.get("centers")
    if not centers or len(centers) < 2:
        return None
    mods = list(centers)
    gaps = [(centers[a] - centers[b]).abs().mean(-1) for i, a in enumerate(mods) for b in mods[i + 1 :]]
    return torch.stack(gaps, 0).mean(0)  # (B,)


def field_kind(f) -> str:
    """A config field's type name (int, float, bool, str, ...), also from string annotations."""
    t = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    return t.replace(" ", "").split("|")[0]


def check_model_args(name: str, args: dict, source: str = "command line") -> dict:
    """`args` (model options from --set or a config file) checked against model `name`'s config
    dataclass: unknown keys and wrong types are one-line errors naming the valid keys; returns the
    values with ints widened to floats where the option is a float."""
    cls = MODELS.info(name).get("config")
    if cls is None:
        return dict(args)
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(args) - set(known))
    if unknown:
        raise ValueError(f"{source}: model '{name}' has no option(s) {', '.join(unknown)}; "
                         f"valid: {', '.join(sorted(known))}")
    out = {}
    for k, v in args.items():
        kind = field_kind(known[k])
        default = known[k].default if known[k].default is not MISSING else None
        ok = {"bool": isinstance(v, bool), "int": isinstance(v, int) and not isinstance(v, bool),
              "float": isinstance(v, (int, float)) and not isinstance(v, bool), "str": isinstance(v, str)}.get(kind, True)
        if not ok:
            want = {"bool": "true or false", "int": "an integer", "float": "a number", "str": "a string"}[kind]
            raise ValueError(f"{source}: model option '{k}' of '{name}' must be {want} (default {default!r}), got {v!r}")
        out[k] = float(v) if kind == "float" else v
    try:
        cls(**out)  # the config's own checks (allowed values, d_model divisible by num_heads, ...)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{source}: model '{name}': {e}") from None
    return out
