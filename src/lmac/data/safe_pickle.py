"""Reading pickled `.npy` files without running code.

The PAMFN feature package stores each modality as `np.save(dict)`: an object array whose payload
is a pickle. Plain `np.load(..., allow_pickle=True)` would execute whatever that pickle names, so a
crafted file could run a shell command. We parse the `.npy` header ourselves and unpickle with an
allow-list that admits only numpy arrays, dtypes and builtin containers.
"""
from __future__ import annotations

import io
import os
import pickle
from pathlib import Path

import numpy as np


class UnsafePickleError(pickle.UnpicklingError):
    """The pickle referenced something outside the allow-list; nothing was executed."""


_NUMPY_GLOBALS = {
    ("multiarray", "_reconstruct"),
    ("multiarray", "scalar"),
    ("numeric", "_frombuffer"),
}
_ALLOWED = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("builtins", "dict"),
    ("builtins", "list"),
    ("builtins", "tuple"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "str"),
    ("builtins", "bytes"),
    ("builtins", "bytearray"),
    ("builtins", "int"),
    ("builtins", "float"),
    ("builtins", "complex"),
    ("builtins", "bool"),
    ("collections", "OrderedDict"),
    ("__builtin__", "dict"),
    ("__builtin__", "list"),
    ("__builtin__", "tuple"),
}


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file, source: str):
        super().__init__(file, encoding="latin1")
        self.source = source

    def find_class(self, module: str, name: str):
        # numpy moved numpy.core -> numpy._core in 2.0; accept both spellings of the same functions.
        if module.startswith(("numpy.core.", "numpy._core.")):
            leaf = module.rsplit(".", 1)[1]
            if (leaf, name) in _NUMPY_GLOBALS:
                import importlib

                core = "numpy._core" if hasattr(np, "_core") else "numpy.core"
                return getattr(importlib.import_module(f"{core}.{leaf}"), name)
        if (module, name) in _ALLOWED:
            if module in ("builtins", "__builtin__"):
                import builtins

                return getattr(builtins, name)
            if module == "collections":
                import collections

                return getattr(collections, name)
            return getattr(np, name)
        if module == "numpy" and name.startswith("dtypes"):
            return getattr(np, name)
        raise UnsafePickleError(
            f"{self.source}: refusing to unpickle '{module}.{name}' (only numpy arrays and builtin containers "
            f"are allowed; this file may be malicious or not a feature package)"
        )


def safe_unpickle_bytes(data: bytes, source: str = "<bytes>"):
    return _RestrictedUnpickler(io.BytesIO(data), source).load()


def load_npy_safe(path: str | os.PathLike):
    """Load a `.npy` file. Plain arrays are read normally; object arrays go through the allow-list.

    Returns the array, or for a 0-d object array (what `np.save(dict)` writes) the object inside."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
            else:
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
            if not dtype.hasobject:
                f.seek(0)
                return np.load(f, allow_pickle=False)
            payload = f.read()
    except UnsafePickleError:
        raise
    except (ValueError, OSError, EOFError) as e:
        raise ValueError(f"{path}: not a readable .npy file ({e})") from None
    try:
        obj = safe_unpickle_bytes(payload, str(path))
    except UnsafePickleError:
        raise
    except Exception as e:  # truncated or corrupt pickle
        raise ValueError(f"{path}: corrupt pickled .npy payload ({type(e).__name__}: {e})") from None
    if isinstance(obj, np.ndarray) and obj.dtype == object and obj.shape == ():
        return obj.item()
    return obj
