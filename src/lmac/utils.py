"""Small shared helpers: atomic writes, device choice."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def _file_mode() -> int:
    """The mode a plain open() would give a new file (0666 less the umask): temp files are created 0600,
    and a renamed temp file would otherwise keep that, unreadable to colleagues on a shared machine."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write to a temp file in the same folder, then os.replace: a reader never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _file_mode())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def atomic_path(path: str | os.PathLike):
    """Context manager yielding a temp path next to `path`; renamed onto it on success.

    For writers that want a filename (safetensors.save_file, matplotlib.savefig)."""
    import contextlib

    @contextlib.contextmanager
    def _cm():
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=p.suffix or ".tmp")
        os.close(fd)
        try:
            yield Path(tmp)
            os.chmod(tmp, _file_mode())
            os.replace(tmp, p)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    return _cm()


def resolve_device(name: str = "auto"):
    """`auto` picks CUDA when present, else CPU. Explicit `cuda` without a GPU is a clear error."""
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError("--device cuda was requested but no CUDA device is available; use --device cpu or auto")
    return torch.device(name)
