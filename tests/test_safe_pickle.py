"""The restricted unpickler for PAMFN's pickled-dict .npy files: loads real data, runs no code."""
from __future__ import annotations

import collections
import os
import pickle
import pickletools
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from lmac.data.safe_pickle import UnsafePickleError, load_npy_safe, safe_unpickle_bytes


def save_pickled_npy(path, obj, protocol):
    """What np.save(obj) writes for a non-array object, with a chosen pickle protocol."""
    arr = np.empty((), dtype=object)
    arr[()] = obj
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "|O", "fortran_order": False, "shape": ()})
        pickle.dump(arr, f, protocol=protocol)


def sample_dict():
    rng = np.random.default_rng(0)
    return {
        "Ball_001": rng.standard_normal((5, 3, 12)).astype(np.float32),  # (T, k, D) like PAMFN rgb
        "Ball_002": rng.standard_normal((4, 10)),  # float64 (T, D)
        "half": rng.standard_normal((2, 6)).astype(np.float16),
        "big_endian": np.arange(6, dtype=">f8").reshape(2, 3),
        "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        "ints": np.arange(4, dtype=np.int16),
        "flags": np.array([True, False]),
        "cplx": np.ones(2, np.complex64),
        "names": np.array(["ab", "cde"]),
        "raw": np.array([b"x", b"yz"]),
        "empty": np.zeros((0, 7), np.float32),
        "scalar": np.float64(2.5),
        "int_scalar": np.int64(7),
        "nested": collections.OrderedDict(a=[np.ones(2), (1, "two", None)], b={3.0, 4.0}),
        "objects": np.array([np.ones(2), None], dtype=object),
        np.str_("numpy_key"): 1,
    }


def assert_same(a, b):
    assert type(a) is type(b), (a, b)
    if isinstance(a, np.ndarray):
        assert b.dtype == a.dtype.newbyteorder("=") and a.shape == b.shape  # native order, as numpy unpickles
        if a.dtype == object:
            for x, y in zip(a.ravel(), b.ravel()):
                assert_same(x, y)
        else:
            assert np.array_equal(a, b)
            assert b.flags.writeable
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    else:
        assert a == b
        if isinstance(a, np.generic):
            assert a.dtype == b.dtype


def test_np_save_dict_loads(tmp_path):
    data = sample_dict()
    path = tmp_path / "Ball_rgb_VST.npy"
    np.save(path, data, allow_pickle=True)
    assert_same(data, load_npy_safe(path))


@pytest.mark.parametrize("protocol", [0, 1, 2, 3, 4, 5])
def test_all_pickle_protocols_load(tmp_path, protocol):
    data = sample_dict()
    path = tmp_path / f"p{protocol}.npy"
    save_pickled_npy(path, data, protocol)
    ops = {op.name for op, _, _ in pickletools.genops(path.read_bytes()[128:])}
    raw = path.read_bytes()
    if protocol == 2:
        assert b"_codecs" in raw  # protocol 2 spells bytes as _codecs.encode(str, 'latin1')
    if protocol == 5:
        assert b"_frombuffer" in raw  # protocol 5 rebuilds arrays with numpy's _frombuffer
    if protocol >= 4:
        assert "STACK_GLOBAL" in ops
    out = load_npy_safe(path)
    assert_same(data, out)
    assert out["fortran"].flags.f_contiguous


def test_plain_arrays_load_without_pickle(tmp_path):
    arr = np.arange(12, dtype=np.float32).reshape(3, 4)
    np.save(tmp_path / "a.npy", arr)
    assert_same(arr, load_npy_safe(tmp_path / "a.npy"))


class _RunsCommand:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _assert_refused(path, marker=None):
    with pytest.raises(UnsafePickleError) as err:
        load_npy_safe(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: refusing"), msg
    assert "\n" not in msg
    assert isinstance(err.value, ValueError)  # handled like any bad data file (the CLI prints one line)
    if marker is not None:
        assert not marker.exists(), "the pickled command ran"
    return msg


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_malicious_pickle_is_refused_and_runs_nothing(tmp_path, protocol):
    marker = tmp_path / "MARKER"
    payload = {"Ball_001": np.ones((3, 4), np.float32), "Ball_002": _RunsCommand(marker)}
    obj = np.empty((), dtype=object)
    obj[()] = payload
    path = tmp_path / "Ball_rgb_VST.npy"
    if protocol == 4:  # exactly what a malicious np.save of a dict writes
        np.save(path, obj, allow_pickle=True)
    else:
        save_pickled_npy(path, payload, protocol)
    # The file really is dangerous: plain pickle would run the command (checked in a child process).
    msg = _assert_refused(path, marker)
    assert "system" in msg
    code = f"import numpy as np; np.load({str(path)!r}, allow_pickle=True)"
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    assert marker.exists(), "control: np.load(allow_pickle=True) should have run the command"


@pytest.mark.parametrize(
    "module,name",
    [("builtins", "eval"), ("builtins", "getattr"), ("subprocess", "Popen"), ("numpy", "load"),
     ("numpy", "dtypes"), ("numpy.core.foo.multiarray", "_reconstruct"), ("numpy.matrix", "matrix"),
     ("numpy.lib.npyio", "load"), ("copyreg", "_reconstructor"), ("torch", "load")],
)
def test_globals_outside_the_allow_list_are_refused(module, name):
    data = f"c{module}\n{name}\n.".encode()
    with pytest.raises(UnsafePickleError, match=re.escape(f"SRC: refusing to unpickle '{module}.{name}'")):
        safe_unpickle_bytes(data, "SRC")


def test_refuses_codecs_encode_other_than_latin1():
    data = b"c_codecs\nencode\n(Vabc\nVrot13\ntR."
    with pytest.raises(UnsafePickleError, match="latin-1"):
        safe_unpickle_bytes(data, "SRC")


def test_refuses_direct_ndarray_call_and_subclasses():
    # ndarray(shape, dtype('O'), buffer) would make object pointers out of raw bytes.
    data = b"cnumpy\nndarray\n((I1\ntcnumpy\ndtype\n(VO8\ntRC\x08AAAAAAAAtR."
    with pytest.raises(UnsafePickleError, match="numpy.ndarray"):
        safe_unpickle_bytes(data, "SRC")
    # numpy's array reconstructor with anything but ndarray as the class (here dict).
    data = b"cnumpy._core.multiarray\n_reconstruct\n(cbuiltins\ndict\n(I0\ntC\x01btR."
    with pytest.raises(UnsafePickleError, match="_reconstruct of dict"):
        safe_unpickle_bytes(data, "SRC")


def test_refuses_structured_and_inconsistent_arrays():
    with pytest.raises(UnsafePickleError, match="dtype"):
        safe_unpickle_bytes(pickle.dumps(np.zeros(2, [("a", "f4")]), 3), "SRC")
    with pytest.raises(UnsafePickleError, match="bytes for shape"):  # shape claims more data than given
        safe_unpickle_bytes(pickle.dumps(np.arange(4.0), 3).replace(b"K\x04\x85", b"K\x08\x85"), "SRC")
    loop = []
    loop.append(loop)
    with pytest.raises(UnsafePickleError, match="self-referencing"):
        safe_unpickle_bytes(pickle.dumps(loop, 3), "SRC")


CRAFTED_DTYPE_ATTACK = textwrap.dedent(
    """
    import pickle, sys
    import numpy as np
    from numpy._core.numeric import _frombuffer  # numpy >= 2

    class ObjectFieldDtype:  # a dtype with an object field whose "has objects" flag is cleared
        def __reduce__(self):
            return (np.dtype, ("V8", False, True), (3, "|", None, ("a",), {"a": (np.dtype("O"), 0)}, 8, 1, 0))

    class ObjectDtypeNoFlags:  # dtype('O') with its flags cleared
        def __reduce__(self):
            return (np.dtype, ("O8", False, True), (3, "|", None, None, None, -1, -1, 0))

    class Pointers:
        def __init__(self, dtype):
            self.dtype = dtype
        def __reduce__(self):  # raw bytes reinterpreted as PyObject pointers
            return (_frombuffer, (b"\\x41" * 8, self.dtype, (1,), "C"))

    import importlib.util  # the module alone: importing lmac.data would pull in torch
    spec = importlib.util.spec_from_file_location("safe_pickle", sys.argv[1])
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    UnsafePickleError, safe_unpickle_bytes = mod.UnsafePickleError, mod.safe_unpickle_bytes
    for dtype in (ObjectFieldDtype(), ObjectDtypeNoFlags()):
        for protocol in (2, 3, 4, 5):
            data = pickle.dumps({"Ball_001": Pointers(dtype)}, protocol)
            try:
                out = safe_unpickle_bytes(data, "SRC")
            except UnsafePickleError as e:
                assert str(e).startswith("SRC: refusing"), e
                continue
            print(repr(out))  # dereferences the pointers: crashes if the attack got through
            sys.exit("crafted dtype was accepted")
    print("refused")
    """
)


def test_crafted_dtype_state_cannot_forge_object_pointers():
    # numpy's dtype.__setstate__ trusts the flags in the pickle; allow-listing numpy.dtype and
    # _frombuffer naively lets a file forge object pointers (a segfault, or worse). Run in a child
    # process so that a regression crashes the child, not the test session.
    if not hasattr(np, "_core"):
        pytest.skip("numpy < 2")
    import lmac.data.safe_pickle as module

    proc = subprocess.run(
        [sys.executable, "-c", CRAFTED_DTYPE_ATTACK, module.__file__], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stdout.strip() == "refused"


def test_truncated_pickle_payload(tmp_path):
    path = tmp_path / "Ball_rgb_VST.npy"
    np.save(path, sample_dict(), allow_pickle=True)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=re.escape(f"{path}: corrupt pickled .npy payload")):
        load_npy_safe(path)


def test_corrupt_header_and_not_npy(tmp_path):
    path = tmp_path / "x.npy"
    path.write_bytes(b"\x93NUMPY\x01\x00\x10\x00{'descr': '<f4")
    with pytest.raises(ValueError, match=re.escape(f"{path}: not a readable .npy file")):
        load_npy_safe(path)
    path.write_bytes(b"hello, not numpy at all")
    with pytest.raises(ValueError, match=re.escape(f"{path}: not a readable .npy file")):
        load_npy_safe(path)
    np.save(path, np.arange(100.0))
    path.write_bytes(path.read_bytes()[:200])  # plain array cut short
    with pytest.raises(ValueError, match=re.escape(f"{path}: not a readable .npy file")):
        load_npy_safe(path)
    with pytest.raises(ValueError, match=re.escape(str(tmp_path / "missing.npy"))):
        load_npy_safe(tmp_path / "missing.npy")
