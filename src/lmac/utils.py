"""Small shared helpers: atomic writes, device choice, the CPU's model name."""
from __future__ import annotations

import json
import os
import platform
import tempfile
from pathlib import Path


def _file_mode() -> int:
    """The mode a plain open() would give a new file (0666 less the umask): temp files are created 0600,
    and a renamed temp file would otherwise keep that, unreadable to colleagues on a shared machine."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


LOW_DISK = 64 << 20  # bytes: a failed write with less free than this next to it is taken for a full disk


def disk_full_error(path, err: BaseException) -> OSError | None:
    """A one-line error naming `path` when writing it failed because its disk is full (ENOSPC, or a writer's own
    error, such as torch.save's "unexpected pos", with under LOW_DISK free there); None for other failures."""
    import errno
    import shutil

    try:
        free = shutil.disk_usage(Path(path).parent).free
    except OSError:
        free = None
    if getattr(err, "errno", None) not in (errno.ENOSPC, errno.EDQUOT) and (free is None or free >= LOW_DISK):
        return None
    left = f", {free / 2**20:.0f} MiB free" if free is not None else ""
    return OSError(errno.ENOSPC, f"{path}: could not be written, its disk is full{left}; the previous version, if "
                                 f"any, is unchanged: free some space or write elsewhere and rerun (an interrupted "
                                 f"training resumes from its last checkpoint)")


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write to a temp file in the same folder, then os.replace: a reader never sees half a file."""
    with atomic_path(path, suffix=".tmp") as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def atomic_path(path: str | os.PathLike, suffix: str | None = None):
    """Context manager yielding a hidden temp path next to `path`; renamed onto it on success, removed on failure
    (a full disk is reported as such, naming `path`). The temp name ends in `suffix`, by default `path`'s own (for
    writers that pick a format from it: safetensors.save_file, matplotlib.savefig)."""
    import contextlib

    @contextlib.contextmanager
    def _cm():
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=suffix or p.suffix or ".tmp")
        os.close(fd)
        try:
            yield Path(tmp)
            os.chmod(tmp, _file_mode())
            os.replace(tmp, p)
        except Exception as e:
            if os.path.exists(tmp):
                os.unlink(tmp)  # before measuring what is free
            full = disk_full_error(p, e)
            if full is not None:
                raise full from e
            raise
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    return _cm()


def cpu_model() -> str:
    """The CPU's model name: the same code and data can train to other figures in the third decimal on another
    CPU, so a run folder says which one trained it (Linux's /proc/cpuinfo; elsewhere what `platform` knows)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def resolve_device(name: str = "auto"):
    """`auto` picks CUDA when present, else CPU. Explicit `cuda` without a GPU is a clear error."""
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError("--device cuda was requested but no CUDA device is available; use --device cpu or auto")
    return torch.device(name)
