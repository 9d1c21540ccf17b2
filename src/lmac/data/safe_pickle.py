"""Reading pickled `.npy` files without running code.

The PAMFN feature package stores each modality as `np.save(dict)`: an object array whose payload
is a pickle. Plain `np.load(..., allow_pickle=True)` would execute whatever that pickle names, so a
crafted file could run a shell command. We parse the `.npy` header ourselves and unpickle with an
allow-list that admits only numpy arrays, dtypes, numpy scalars and builtin containers.

Allow-listing numpy's own reconstructors is not enough: `numpy.dtype.__setstate__` trusts the state
it is given, so a crafted dtype (an object field, its "has objects" flag cleared) lets
`_frombuffer` or `ndarray.__setstate__` turn raw bytes into object pointers, and touching the
result crashes the interpreter or worse. So no numpy callable ever sees pickle data: the
unpickler builds inert Python placeholders (`_DtypeSpec`, `_ArraySpec`, `_ScalarSpec`) that only
record their arguments and state, and `_materialize` then builds fresh arrays from validated
plain dtypes (bool, integer, float, complex, fixed-width strings; object arrays only from a list
of items) with `np.frombuffer(...).copy()`.
"""
from __future__ import annotations

import io
import math
import os
import pickle
from pathlib import Path

import numpy as np


class UnsafePickleError(pickle.UnpicklingError, ValueError):
    """The pickle referenced something outside the allow-list; nothing was executed.

    Also a ValueError, so callers (and the CLI) that handle bad data handle this too."""


class _Refused(Exception):
    """Raised by the placeholders for content that is well-formed pickle but not admissible."""


# numpy's array/scalar reconstructors, under the module names numpy 1.x (numpy.core) and 2.x
# (numpy._core) write.
_NUMPY_MODULES = {"numpy.core", "numpy._core"}
_BUILTINS = {"dict", "list", "tuple", "set", "frozenset", "str", "bytes", "bytearray", "int", "float", "complex", "bool"}
_PLAIN_KINDS = set("biufcSU")  # bool, int, uint, float, complex, bytes, str: no pointers inside


# ----------------------------------------------------------------------------- inert placeholders
class _NdarrayToken:
    """Stands for `numpy.ndarray` in a pickle; only `_reconstruct` accepts it, and it cannot be called."""

    def __new__(cls, *args, **kwargs):
        raise _Refused("a direct call of numpy.ndarray (arrays may only come from numpy's reconstructors)")


class _DtypeSpec:
    """`numpy.dtype(obj, align, copy)` plus the state BUILD gives it; resolved later, validated."""

    def __init__(self, obj=None, align=False, copy=False):
        self.obj, self.state = obj, None

    def __setstate__(self, state):
        self.state = state


class _ArraySpec:
    """An ndarray under construction: from `_reconstruct` + BUILD state, or from protocol 5's `_frombuffer`."""

    def __init__(self):
        self.state = None

    def __setstate__(self, state):
        self.state = state


class _ScalarSpec:
    def __init__(self, dtype, data=None):
        self.dtype, self.data = dtype, data


def _reconstruct(subtype, shape=None, typecode=None):
    if subtype is not _NdarrayToken:
        raise _Refused(f"_reconstruct of {getattr(subtype, '__name__', type(subtype).__name__)}, not numpy.ndarray")
    return _ArraySpec()


def _frombuffer(buf, dtype, shape, order):
    spec = _ArraySpec()
    spec.state = ("frombuffer", shape, dtype, order == "F", buf)
    return spec


def _codecs_encode(obj, encoding="utf-8", errors="strict"):
    """Stand-in for `_codecs.encode`, which protocol-2 pickles use to spell `bytes` as
    `_codecs.encode(str, 'latin1')`. Only that use is admitted: str in, latin-1 codec, bytes out."""
    if not isinstance(obj, str) or str(encoding).lower().replace("_", "-") not in ("latin1", "latin-1", "iso-8859-1"):
        raise _Refused(f"_codecs.encode({type(obj).__name__}, {encoding!r}); only latin-1 bytes are allowed")
    return obj.encode("latin-1")


_NUMPY_GLOBALS = {
    ("multiarray", "_reconstruct"): _reconstruct,  # ndarray.__reduce__, protocols 0-4
    ("multiarray", "scalar"): _ScalarSpec,  # numpy scalars (np.float32(1.0))
    ("numeric", "_frombuffer"): _frombuffer,  # ndarray.__reduce_ex__ with protocol 5
}
_ALLOWED = {
    ("numpy", "ndarray"): _NdarrayToken,
    ("numpy", "dtype"): _DtypeSpec,
    ("_codecs", "encode"): _codecs_encode,
}


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file, source: str):
        # latin1: numpy arrays pickled by Python 2 carry their raw bytes in py2 `str` objects.
        super().__init__(file, encoding="latin1")
        self.source = source

    def find_class(self, module: str, name: str):
        parent, _, leaf = module.rpartition(".")
        if parent in _NUMPY_MODULES and (leaf, name) in _NUMPY_GLOBALS:
            return _NUMPY_GLOBALS[(leaf, name)]
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        if module in ("builtins", "__builtin__") and name in _BUILTINS:
            import builtins

            return getattr(builtins, name)
        if (module, name) == ("collections", "OrderedDict"):
            import collections

            return collections.OrderedDict
        raise UnsafePickleError(
            f"{self.source}: refusing to unpickle '{module}.{name}' (only numpy arrays and builtin containers "
            f"are allowed; this file may be malicious or not a feature package); nothing was executed"
        )

    def persistent_load(self, pid):
        raise UnsafePickleError(f"{self.source}: refusing a pickle persistent id; nothing was executed")


# ----------------------------------------------------------------------------- materialization
def _as_bytes(data) -> bytes:
    if isinstance(data, str):  # Python 2 `str` read with encoding="latin1"
        return data.encode("latin-1")
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    if isinstance(data, pickle.PickleBuffer):
        return bytes(data.raw())
    raise _Refused(f"array data of type {type(data).__name__}")


def _shape(shape) -> tuple[int, ...]:
    if not isinstance(shape, tuple) or not all(type(n) is int and n >= 0 for n in shape) or len(shape) > 32:
        raise _Refused(f"array shape {shape!r}")
    return shape


def _resolve_dtype(spec) -> np.dtype:
    if not isinstance(spec, _DtypeSpec):
        raise _Refused(f"dtype given as {type(spec).__name__}")
    obj, state = spec.obj, spec.state
    if isinstance(obj, bytes):
        obj = obj.decode("latin-1")
    if not isinstance(obj, str) or len(obj) > 16:
        raise _Refused(f"dtype spec {obj!r}")
    try:
        dt = np.dtype(obj)  # a short type code such as 'f4', 'i8', 'U5', 'O8'
    except TypeError:
        raise _Refused(f"dtype spec {obj!r}") from None
    if dt.fields is not None or dt.subdtype is not None or (dt.kind not in _PLAIN_KINDS and dt.kind != "O"):
        raise _Refused(f"dtype {dt} (only plain numeric, string and object dtypes are allowed)")
    if state is not None:
        # numpy's dtype state: (version, byteorder, subarray, names, fields, elsize, alignment, flags[, metadata])
        if not isinstance(state, tuple) or len(state) < 2:
            raise _Refused(f"dtype state {state!r}")
        if any(x is not None for x in state[2:5]):
            raise _Refused("structured or sub-array dtype (only plain dtypes are allowed)")
        order = state[1]
        if order not in ("<", ">", "|", "="):
            raise _Refused(f"dtype byte order {order!r}")
        if order in "<>" and dt.itemsize > 1:
            dt = dt.newbyteorder(order)
        if dt.kind in "SU" and len(state) > 5 and type(state[5]) is int and state[5] > 0:
            size = state[5] // (4 if dt.kind == "U" else 1)
            dt = np.dtype(f"{dt.byteorder if dt.byteorder in '<>' else ''}{dt.kind}{size}")
    return dt


def _array_from_state(spec: _ArraySpec, convert) -> np.ndarray:
    state = spec.state
    if isinstance(state, tuple) and len(state) == 4:  # old pickles: no version number
        state = (1, *state)
    if not isinstance(state, tuple) or len(state) != 5:
        raise _Refused("ndarray without a valid state")
    _, shape, dtype, fortran, data = state
    shape = _shape(shape)
    dt = _resolve_dtype(dtype)
    order = "F" if fortran else "C"
    n = math.prod(shape)
    if dt.kind == "O":
        if not isinstance(data, list) or len(data) != n:
            raise _Refused("object array whose items are not a list of the right length")
        out = np.empty(n, dtype=object)
        for i, item in enumerate(data):
            out[i] = convert(item)
        return out.reshape(shape, order=order)
    raw = _as_bytes(data)
    if len(raw) != n * dt.itemsize:
        raise _Refused(f"array data of {len(raw)} bytes for shape {shape} of {dt}")
    arr = np.frombuffer(raw, dtype=dt, count=n).reshape(shape, order=order)
    # A fresh, writable copy in native byte order (as numpy's own unpickling returns it).
    return arr.astype(dt.newbyteorder("="), order="K", copy=True)


def _scalar_from_spec(spec: _ScalarSpec):
    dt = _resolve_dtype(spec.dtype)
    if dt.kind == "O":
        raise _Refused("numpy object scalar")
    raw = _as_bytes(spec.data)
    if len(raw) != dt.itemsize:
        raise _Refused(f"scalar data of {len(raw)} bytes for {dt}")
    return np.frombuffer(raw, dtype=dt, count=1).astype(dt.newbyteorder("="))[0]


def _materialize(obj):
    """Replace every placeholder in the unpickled structure by a freshly built, validated object."""
    done: dict[int, object] = {}
    active: set[int] = set()

    def convert(x):
        if x is None or isinstance(x, (bool, int, float, complex, str, bytes, bytearray)):
            return x
        key = id(x)
        if key in done:
            return done[key]
        if key in active:
            raise _Refused("self-referencing structure")
        active.add(key)
        if isinstance(x, _ArraySpec):
            out = _array_from_state(x, convert)
        elif isinstance(x, _ScalarSpec):
            out = _scalar_from_spec(x)
        elif isinstance(x, _DtypeSpec):
            out = _resolve_dtype(x)
        elif type(x) is list:
            out = [convert(v) for v in x]
        elif type(x) is tuple:
            out = tuple(convert(v) for v in x)
        elif type(x) in (set, frozenset):
            out = type(x)(convert(v) for v in x)
        elif isinstance(x, dict) and type(x).__module__ in ("builtins", "collections"):
            out = type(x)((convert(k), convert(v)) for k, v in x.items())
        else:
            raise _Refused(f"object of type {type(x).__name__}")
        active.discard(key)
        done[key] = out
        return out

    return convert(obj)


def safe_unpickle_bytes(data: bytes, source: str = "<bytes>"):
    """Unpickle `data` admitting only numpy arrays/scalars/dtypes and builtin containers.

    Raises UnsafePickleError (naming `source`) for anything else; nothing outside the allow-list runs."""
    try:
        raw = _RestrictedUnpickler(io.BytesIO(data), source).load()
        return _materialize(raw)
    except _Refused as e:
        raise UnsafePickleError(
            f"{source}: refusing pickled content: {e} (this file may be malicious or not a feature package); "
            f"nothing was executed"
        ) from None


def load_npy_safe(path: str | os.PathLike):
    """Load a `.npy` file. Plain arrays are read normally; object arrays go through the allow-list.

    Returns the array, or for a 0-d object array (what `np.save(dict)` writes) the object inside."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            if version not in ((1, 0), (2, 0), (3, 0)):
                raise ValueError(f"unsupported .npy format version {version}")
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
