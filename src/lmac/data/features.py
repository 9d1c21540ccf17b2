"""Feature stores: one interface over the three layouts users arrive with.

- PAMFN package: `{Ball,Clubs,Hoop,Ribbon,FISV}_{rgb,flow,audio}_{NAME}.npy`, each a pickled dict
  {video_id: array}; read through the restricted unpickler, never plain pickle.
- GDLT package: one `(T, D)` `.npy` per video (RGB only), e.g. `swintx_avg_fps25_clip32/Ball_001.npy`.
- Native layout (ours): a folder with `features.json` (format, modality dims, provenance) and one
  `<video_id>.safetensors` per video holding a `(T, D)` float32 tensor per modality. Safe (no pickle),
  memory-mapped and fast to load, and one file per video so extraction writes videos independently
  and atomically.

Every store returns `{modality: float32 array (T, D)}` per video with all modalities of one video
cropped together; dimensions always come from the data.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np

from lmac import MODALITIES
from lmac.data.safe_pickle import load_npy_safe
from lmac.utils import atomic_write_bytes, atomic_write_json

NATIVE_FORMAT = "lmac-native"
NATIVE_VERSION = 1
MANIFEST = "features.json"
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


class FeatureDataError(ValueError):
    """Feature data that cannot be used as is; the message names the file/video and the problem."""


def check_video_arrays(arrays: dict, source: str, dims: dict | None = None) -> dict[str, np.ndarray]:
    """Validate one video's modalities: 2-D after squeezing, finite, equal lengths, expected dims."""
    out = {}
    for mod, arr in arrays.items():
        arr = np.asarray(arr)
        if arr.ndim == 3:  # (T, k, D): k crops/clips per segment, averaged as the public loaders do
            arr = arr.mean(axis=1)
        if arr.ndim != 2:
            raise FeatureDataError(f"{source}: {mod} features must be (T, D) or (T, k, D), got shape {arr.shape}")
        if not np.issubdtype(arr.dtype, np.number):
            raise FeatureDataError(f"{source}: {mod} features have non-numeric dtype {arr.dtype}")
        arr = arr.astype(np.float32, copy=False)
        if not np.isfinite(arr).all():
            bad = int((~np.isfinite(arr)).any(axis=1).sum())
            raise FeatureDataError(f"{source}: {mod} features contain NaN/Inf in {bad} of {len(arr)} segments")
        if dims is not None and mod in dims and arr.shape[1] != dims[mod]:
            raise FeatureDataError(f"{source}: {mod} features have dim {arr.shape[1]}, expected {dims[mod]}")
        if len(arr) == 0:
            raise FeatureDataError(f"{source}: {mod} features have no segments")
        out[mod] = arr
    lengths = {m: a.shape[0] for m, a in out.items()}
    if len(set(lengths.values())) > 1:
        raise FeatureDataError(f"{source}: modalities have different lengths {lengths}; they must share T")
    return out


class FeatureStore:
    """Interface: `ids()`, `load(video_id)`, `modalities`, `dims`."""

    layout = "?"
    modalities: tuple[str, ...] = ()
    dims: dict[str, int] = {}

    def ids(self) -> list[str]:
        raise NotImplementedError

    def load(self, video_id: str) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def __contains__(self, video_id: str) -> bool:
        return video_id in set(self.ids())

    def describe(self) -> str:
        return f"{self.layout} store with {len(self.ids())} videos, dims {self.dims}"


# ----------------------------------------------------------------------------- native layout
def _video_file(root: Path, video_id: str) -> Path:
    if not _SAFE_ID.match(video_id):
        raise FeatureDataError(f"video id {video_id!r} cannot be a file name (letters, digits, _ . - only)")
    return root / f"{video_id}.safetensors"


def write_native_manifest(out_dir, dims: dict[str, int], info: dict | None = None) -> Path:
    """Write (atomically) the folder manifest. `info` records provenance: preset, extractors, weights."""
    out_dir = Path(out_dir)
    manifest = {"format": NATIVE_FORMAT, "version": NATIVE_VERSION, "modalities": dict(dims), "info": info or {}}
    path = out_dir / MANIFEST
    atomic_write_json(path, manifest)
    return path


def write_native_video(out_dir, video_id: str, arrays: dict, meta: dict | None = None) -> Path:
    """Write one video's features as `<video_id>.safetensors`, atomically (temp file + rename)."""
    from safetensors.numpy import save

    out_dir = Path(out_dir)
    checked = check_video_arrays(arrays, f"{out_dir}/{video_id}")
    tensors = {m: np.ascontiguousarray(a) for m, a in checked.items()}
    metadata = {"format": NATIVE_FORMAT, "video_id": video_id, "meta": json.dumps(meta or {}, sort_keys=True)}
    path = _video_file(out_dir, video_id)
    atomic_write_bytes(path, save(tensors, metadata=metadata))
    return path


def read_native_meta(path) -> dict:
    """Per-video metadata written by `write_native_video` (e.g. extraction settings, `silent`)."""
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as f:
        md = f.metadata() or {}
    return json.loads(md.get("meta", "{}"))


class NativeStore(FeatureStore):
    layout = "native"

    def __init__(self, root):
        self.root = Path(root)
        if not self.root.is_dir():
            raise FeatureDataError(f"{self.root}: native feature folder not found")
        self.info: dict = {}
        manifest = self.root / MANIFEST
        files = sorted(self.root.glob("*.safetensors"))
        self._files = {p.stem: p for p in files}
        if manifest.exists():
            try:
                m = json.loads(manifest.read_text())
            except json.JSONDecodeError as e:
                raise FeatureDataError(f"{manifest}: not valid JSON ({e})") from None
            if m.get("format") != NATIVE_FORMAT:
                raise FeatureDataError(f"{manifest}: format is {m.get('format')!r}, expected {NATIVE_FORMAT!r}")
            self.dims = {k: int(v) for k, v in m["modalities"].items()}
            self.info = m.get("info", {})
        elif files:
            from safetensors import safe_open

            with safe_open(str(files[0]), framework="numpy") as f:
                self.dims = {k: int(f.get_slice(k).get_shape()[1]) for k in f.keys()}
        else:
            raise FeatureDataError(f"{self.root}: no {MANIFEST} and no .safetensors files; not a native feature folder")
        self.modalities = tuple(m for m in MODALITIES if m in self.dims) + tuple(
            m for m in self.dims if m not in MODALITIES
        )

    def ids(self) -> list[str]:
        return list(self._files)

    def load(self, video_id: str) -> dict[str, np.ndarray]:
        from safetensors.numpy import load_file

        path = self._files.get(video_id)
        if path is None:
            raise FeatureDataError(f"{self.root}: no features for video {video_id!r}")
        try:
            arrays = load_file(str(path))
        except Exception as e:
            raise FeatureDataError(f"{path}: unreadable safetensors file ({e})") from None
        missing = [m for m in self.modalities if m not in arrays]
        if missing:
            raise FeatureDataError(f"{path}: missing modalities {missing}")
        return check_video_arrays({m: arrays[m] for m in self.modalities}, str(path), self.dims)

    def meta(self, video_id: str) -> dict:
        return read_native_meta(self._files[video_id])


# ----------------------------------------------------------------------------- PAMFN package
_PAMFN_FILE = re.compile(r"^(?P<prefix>[A-Za-z]+)_(?P<mod>rgb|flow|audio)_(?P<name>[^.]+)\.npy$")


def _pamfn_dir(root: Path) -> Path:
    for cand in (root, root / "features"):
        if cand.is_dir() and any(_PAMFN_FILE.match(p.name) for p in cand.iterdir()):
            return cand
    raise FeatureDataError(f"{root}: no PAMFN files like Ball_rgb_VST.npy found (looked in it and in features/)")


class PamfnStore(FeatureStore):
    """PAMFN package. `prefixes` limits the classes read (e.g. ["Ball"]); `names` picks a feature
    name per modality when a package holds several (e.g. {"rgb": "VST"})."""

    layout = "pamfn"

    def __init__(self, root, prefixes=None, names: dict | None = None):
        self.root = _pamfn_dir(Path(root))
        found: dict[tuple[str, str], list[Path]] = {}
        for p in sorted(self.root.iterdir()):
            m = _PAMFN_FILE.match(p.name)
            if m and (prefixes is None or m["prefix"] in prefixes):
                if names and m["mod"] in names and m["name"] != names[m["mod"]]:
                    continue
                found.setdefault((m["prefix"], m["mod"]), []).append(p)
        if not found:
            raise FeatureDataError(f"{self.root}: no PAMFN files for classes {prefixes}")
        for (prefix, mod), paths in found.items():
            if len(paths) > 1:
                raise FeatureDataError(
                    f"{self.root}: several {prefix} {mod} files ({', '.join(p.name for p in paths)}); "
                    f"choose one with names={{'{mod}': NAME}}"
                )
        self.files = {key: paths[0] for key, paths in found.items()}
        self.prefixes = sorted({k[0] for k in self.files})
        mods = {k[1] for k in self.files}
        for prefix in self.prefixes:
            have = {k[1] for k in self.files if k[0] == prefix}
            if have != mods:
                raise FeatureDataError(f"{self.root}: class {prefix} has modalities {sorted(have)}, others {sorted(mods)}")
        self.modalities = tuple(m for m in MODALITIES if m in mods)
        self._data: dict[tuple[str, str], dict] = {}
        self._owner: dict[str, str] = {}
        for prefix in self.prefixes:
            ids = None
            for mod in self.modalities:
                keys = set(self._table(prefix, mod))
                ids = keys if ids is None else ids & keys
            for vid in ids:
                self._owner[vid] = prefix
        first = next(iter(self._owner), None)
        if first is None:
            raise FeatureDataError(f"{self.root}: PAMFN files hold no video present in every modality")
        self.dims = {m: a.shape[1] for m, a in self.load(first).items()}

    def _table(self, prefix: str, mod: str) -> dict:
        key = (prefix, mod)
        if key not in self._data:
            path = self.files[key]
            obj = load_npy_safe(path)
            if not isinstance(obj, dict):
                raise FeatureDataError(f"{path}: expected a pickled dict {{video_id: array}}, got {type(obj).__name__}")
            self._data[key] = {str(k): v for k, v in obj.items()}
        return self._data[key]

    def ids(self) -> list[str]:
        return sorted(self._owner)

    def load(self, video_id: str) -> dict[str, np.ndarray]:
        prefix = self._owner.get(video_id)
        if prefix is None:
            raise FeatureDataError(f"{self.root}: no features for video {video_id!r} in {self.prefixes}")
        arrays = {m: self._table(prefix, m)[video_id] for m in self.modalities}
        src = f"{self.root}/{prefix}_*.npy[{video_id}]"
        return check_video_arrays(arrays, src, getattr(self, "dims", None) or None)


# ----------------------------------------------------------------------------- GDLT package
def _gdlt_dir(root: Path) -> Path:
    for cand in (root / "swintx_avg_fps25_clip32", root):
        if cand.is_dir() and any(p.suffix == ".npy" and not _PAMFN_FILE.match(p.name) for p in cand.iterdir()):
            return cand
    raise FeatureDataError(f"{root}: no per-video .npy files found (GDLT layout: <video>.npy of shape (T, D))")


class GdltStore(FeatureStore):
    layout = "gdlt"
    modalities = ("rgb",)

    def __init__(self, root):
        self.root = _gdlt_dir(Path(root))
        self._files = {p.stem: p for p in sorted(self.root.glob("*.npy"))}
        first = next(iter(self._files))
        self.dims = {"rgb": self.load(first)["rgb"].shape[1]}

    def ids(self) -> list[str]:
        return list(self._files)

    def load(self, video_id: str) -> dict[str, np.ndarray]:
        path = self._files.get(video_id)
        if path is None:
            raise FeatureDataError(f"{self.root}: no file {video_id}.npy")
        try:
            arr = np.load(path, allow_pickle=False)
        except ValueError as e:
            raise FeatureDataError(f"{path}: not a plain numeric .npy array ({e})") from None
        except (OSError, EOFError) as e:
            raise FeatureDataError(f"{path}: unreadable .npy file ({e})") from None
        return check_video_arrays({"rgb": arr}, str(path), getattr(self, "dims", None) or None)


# ----------------------------------------------------------------------------- detection
def detect_layout(root) -> str:
    root = Path(root)
    if not root.exists():
        raise FeatureDataError(f"{root}: feature path not found")
    if (root / MANIFEST).exists() or any(root.glob("*.safetensors")):
        return "native"
    try:
        _pamfn_dir(root)
        return "pamfn"
    except FeatureDataError:
        pass
    try:
        _gdlt_dir(root)
        return "gdlt"
    except FeatureDataError:
        pass
    raise FeatureDataError(
        f"{root}: cannot tell the feature layout (no {MANIFEST}/.safetensors, no PAMFN *_rgb_*.npy, "
        f"no per-video .npy); pass --format"
    )


def open_feature_store(root, fmt: str = "auto", prefixes=None, names: dict | None = None) -> FeatureStore:
    """Open a feature folder in any supported layout. `prefixes` selects PAMFN classes."""
    fmt = detect_layout(root) if fmt == "auto" else fmt
    if fmt == "native":
        return NativeStore(root)
    if fmt == "pamfn":
        return PamfnStore(root, prefixes=prefixes, names=names)
    if fmt == "gdlt":
        return GdltStore(root)
    raise ValueError(f"unknown feature format {fmt!r}; use auto, native, pamfn or gdlt")


def convert_to_native(store: FeatureStore, out_dir, info: dict | None = None, progress: bool = True) -> int:
    """Write every video of `store` into the native layout; returns how many were written."""
    from tqdm import tqdm

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_native_manifest(out_dir, store.dims, {"converted_from": store.layout, **(info or {})})
    n = 0
    for vid in tqdm(store.ids(), desc="convert", disable=not progress, unit="video"):
        write_native_video(out_dir, vid, store.load(vid), {"converted_from": store.layout})
        n += 1
    return n
