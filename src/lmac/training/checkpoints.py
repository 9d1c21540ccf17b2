"""Checkpoints: safetensors for model weights (with the config that rebuilds the model in the
header), `torch.save` of plain tensors/numbers for trainer state, read back with
`weights_only=True`. Every write is atomic."""
from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from lmac.utils import atomic_path


def save_model(path, model: torch.nn.Module | dict, meta: dict) -> None:
    """Weights + the metadata that rebuilds the model. `modalities` records the model's modality order
    explicitly: models concatenate their branches in that order, and a JSON object's key order is not
    something to rely on (checkpoints written before this had their dims sorted: audio, flow, rgb).
    `model` may also be a copy of its state dict taken earlier; `meta["modalities"]` then gives the order."""
    if not isinstance(model, dict):
        meta = {**meta, "modalities": list(model.modalities)}
        model = model.state_dict()
    state = {k: v.detach().contiguous().cpu() for k, v in model.items()}
    with atomic_path(path) as tmp:
        save_file(state, str(tmp), metadata={"lmac": json.dumps(meta)})


def modality_order(meta: dict, fallback=None) -> list[str]:
    """The order the model was built with: `meta["modalities"]`; for checkpoints written before it was
    recorded, `fallback` (the run's config) or the canonical rgb, flow, audio (the order every lmac
    feature store yields), then any others in stored order."""
    dims = meta["dims"]
    order = meta.get("modalities") or fallback or []
    order = [m for m in order if m in dims]
    if not order or set(order) != set(dims):
        from lmac import MODALITIES

        order = [m for m in MODALITIES if m in dims] + [m for m in dims if m not in MODALITIES]
    return order


def config_modalities(run_dir) -> list | None:
    """The modalities a run's config.yaml names (the order for checkpoints that did not record theirs)."""
    try:
        import yaml

        return (yaml.safe_load((Path(run_dir) / "config.yaml").read_text()) or {}).get("modalities")
    except Exception:  # unreadable or not YAML: fall back to the canonical order
        return None


def rebuild_model(path, fallback_order=None, device="cpu") -> tuple[torch.nn.Module, dict]:
    """(model in eval mode with the checkpoint's weights, metadata) from an lmac checkpoint."""
    from lmac.models import create_model

    meta = read_model_meta(path)
    dims = {m: int(meta["dims"][m]) for m in modality_order(meta, fallback_order)}
    try:
        model = create_model(meta["model"], dims, **meta["model_config"])
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"{path}: cannot rebuild model {meta.get('model')!r} ({e})") from None
    load_model_state(path, model, device="cpu")
    return model.to(device).eval(), {**meta, "dims": dims}


def read_model_meta(path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: checkpoint not found")
    try:
        with safe_open(str(path), framework="pt") as f:
            md = f.metadata() or {}
    except Exception as e:
        raise ValueError(f"{path}: not a safetensors checkpoint ({e})") from None
    if "lmac" not in md:
        raise ValueError(f"{path}: safetensors file has no lmac metadata (not written by lmac train)")
    return json.loads(md["lmac"])


def read_model_state(path, device="cpu") -> dict:
    """The tensors of a safetensors checkpoint; a truncated, empty or foreign file is one line naming it."""
    try:
        return load_file(str(path), device=str(device))
    except Exception as e:
        raise ValueError(f"{path}: unreadable checkpoint ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}); "
                         f"it may have been cut short: retrain, or resume from another copy") from None


def load_model_state(path, model: torch.nn.Module, device="cpu") -> None:
    apply_model_state(read_model_state(path, device), model, path)


def apply_model_state(state: dict, model: torch.nn.Module, source) -> None:
    """Load `state` into `model`; every tensor must match, else an error naming `source`."""
    missing, unexpected = model.load_state_dict(state, strict=False)
    # LMAC-Net checkpoints written before the key bias was removed hold one; softmax ignores it (it adds a
    # constant to a row of logits), so leaving it out loads the same function
    unexpected = [k for k in unexpected if not k.endswith(".cross.key.bias")]
    if missing or unexpected:
        raise ValueError(f"{source}: checkpoint does not match the model (missing {missing}, unexpected {unexpected})")


def save_trainer_state(path, state: dict) -> None:
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_trainer_state(path) -> dict:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        raise ValueError(f"{path}: unreadable trainer state ({type(e).__name__}: {first[:120]}); it may have been cut "
                         f"short: the run cannot be resumed from it (its checkpoints/*.safetensors still score)") from None
