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


def save_model(path, model: torch.nn.Module, meta: dict) -> None:
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    with atomic_path(path) as tmp:
        save_file(state, str(tmp), metadata={"lmac": json.dumps(meta, sort_keys=True)})


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


def load_model_state(path, model: torch.nn.Module, device="cpu") -> None:
    apply_model_state(load_file(str(path), device=str(device)), model, path)


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
        raise ValueError(f"{path}: unreadable trainer state ({type(e).__name__}: {e})") from None
