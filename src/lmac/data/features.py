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
    if not arrays:
        raise FeatureDataError(f"{source}: no modalities")
    for mod, arr in arrays.items():
        arr = np.asarray(arr)
        # Checked before averaging: mean() over an object array would call arbitrary __add__.
        if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
            raise FeatureDataError(f"{source}: {mod} features have non-numeric dtype {arr.dtype}")
        if arr.ndim == 3 and arr.shape[1] > 0:
            # (T, k, D): k crops/clips per segment, averaged as the public loaders do (in float32 at least).
            arr = arr.mean(axis=1, dtype=np.promote_types(arr.dtype, np.float32))
        if arr.ndim != 2:
            raise FeatureDataError(f"{source}: {mod} features must be (T, D) or (T, k, D), got shape {arr.shape}")
        if arr.shape[0] == 0 or arr.shape[1] == 0:
            raise FeatureDataError(f"{source}: {mod} features are empty, shape {arr.shape}")
        with np.errstate(over="ignore"):  # float64 values beyond float32's range become inf, caught below
            arr = arr.astype(np.float32, copy=False)
        if not np.isfinite(arr).all():
            bad = int((~np.isfinite(arr)).any(axis=1).sum())
            raise FeatureDataError(f"{source}: {mod} features contain NaN/Inf in {bad} of {len(arr)} segments")
        if dims is not None and mod in dims and arr.shape[1] != dims[mod]:
            raise FeatureDataError(f"{source}: {mod} features have dim {arr.shape[1]}, expected {dims[mod]}")
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


def _visible(folder: Path, pattern: str) -> list[Path]:
    """Files matching `pattern`, skipping hidden ones: atomic writers leave `.name.XXXX.tmp` temp files
    (pathlib's glob, unlike the shell's, matches names starting with a dot)."""
    return sorted(p for p in folder.glob(pattern) if not p.name.startswith(".") and p.is_file())


class _FilePerVideoStore(FeatureStore):
    """A store with one file per video; subclasses fill `_files` = {video_id: path}."""

    _files: dict

    def ids(self) -> list[str]:
        return list(self._files)

    def __contains__(self, video_id: str) -> bool:
        return video_id in self._files


class SingleModalityFileStore(_FilePerVideoStore):
    """One file per video holding one modality's (T, D) array (the FineFS and LOGO releases): a subclass
    gives the file suffix and `read(path)`."""

    modalities = ("rgb",)
    suffix = ".npy"

    def __init__(self, root, folder: Path, what: str):
        self.root, self.folder = Path(root), Path(folder)
        self._files = {p.stem: p for p in _visible(self.folder, "*" + self.suffix)}
        if not self._files:
            raise FeatureDataError(f"{self.folder}: no {what} files")
        self.dims = {self.modalities[0]: int(self.load(next(iter(self._files)))[self.modalities[0]].shape[1])}

    def read(self, path: Path) -> np.ndarray:
        raise NotImplementedError

    def load(self, video_id: str) -> dict[str, np.ndarray]:
        path = self._files.get(video_id)
        if path is None:
            raise FeatureDataError(f"{self.folder}: no file {video_id}{self.suffix}")
        return check_video_arrays({self.modalities[0]: self.read(path)}, str(path), getattr(self, "dims", None) or None)


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


class NativeStore(_FilePerVideoStore):
    layout = "native"

    def __init__(self, root):
        self.root = Path(root)
        if not self.root.is_dir():
            raise FeatureDataError(f"{self.root}: native feature folder not found")
        self.info: dict = {}
        manifest = self.root / MANIFEST
        files = _visible(self.root, "*.safetensors")
        self._files = {p.stem: p for p in files}
        if manifest.exists():
            try:
                m = json.loads(manifest.read_text(encoding="utf-8"))
            except (json.JSONDecodeError, UnicodeDecodeError) as e:
                raise FeatureDataError(f"{manifest}: not valid JSON ({e})") from None
            if not isinstance(m, dict) or m.get("format") != NATIVE_FORMAT:
                fmt = m.get("format") if isinstance(m, dict) else None
                raise FeatureDataError(f"{manifest}: format is {fmt!r}, expected {NATIVE_FORMAT!r}")
            try:
                self.dims = {str(k): int(v) for k, v in m["modalities"].items()}
            except (KeyError, AttributeError, TypeError, ValueError):
                raise FeatureDataError(
                    f"{manifest}: 'modalities' must map modality names to feature dims, got {m.get('modalities')!r}"
                ) from None
            if not self.dims or any(d <= 0 for d in self.dims.values()):
                raise FeatureDataError(f"{manifest}: 'modalities' must list at least one positive dim, got {self.dims}")
            self.info = m.get("info", {})
        elif files:
            from safetensors import safe_open

            try:
                with safe_open(str(files[0]), framework="numpy") as f:
                    shapes = {k: f.get_slice(k).get_shape() for k in f.keys()}
            except Exception as e:
                raise FeatureDataError(f"{files[0]}: unreadable safetensors file ({e})") from None
            bad = {k: s for k, s in shapes.items() if len(s) != 2}
            if bad or not shapes:
                raise FeatureDataError(f"{files[0]}: tensors must be (T, D) per modality, got shapes {shapes}")
            self.dims = {k: int(s[1]) for k, s in shapes.items()}
        else:
            raise FeatureDataError(f"{self.root}: no {MANIFEST} and no .safetensors files; not a native feature folder")
        self.modalities = tuple(m for m in MODALITIES if m in self.dims) + tuple(
            m for m in self.dims if m not in MODALITIES
        )


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
        path = self._files.get(video_id)
        if path is None:
            raise FeatureDataError(f"{self.root}: no features for video {video_id!r}")
        try:
            return read_native_meta(path)
        except Exception as e:
            raise FeatureDataError(f"{path}: unreadable metadata ({e})") from None


# ----------------------------------------------------------------------------- PAMFN package
_PAMFN_FILE = re.compile(r"^(?P<prefix>[A-Za-z]+)_(?P<mod>rgb|flow|audio)_(?P<name>[^.]+)\.npy$")


def _pamfn_dir(root: Path) -> Path:
    for cand in (root, root / "features"):
        if cand.is_dir() and any(_PAMFN_FILE.match(p.name) for p in _visible(cand, "*.npy")):
            return cand
    raise FeatureDataError(f"{root}: no PAMFN files like Ball_rgb_VST.npy found (looked in it and in features/)")


class PamfnStore(FeatureStore):
    """PAMFN package. `prefixes` limits the classes read (e.g. ["Ball"]); `names` picks a feature
    name per modality when a package holds several (e.g. {"rgb": "VST"})."""

    layout = "pamfn"

    def __init__(self, root, prefixes=None, names: dict | None = None):
        self.root = _pamfn_dir(Path(root))
        if isinstance(prefixes, str):  # "Ball" or "Ball,Clubs", never a substring test
            prefixes = [p for p in prefixes.split(",") if p]
        prefixes = list(prefixes) if prefixes else None
        names = dict(names or {})
        found: dict[tuple[str, str], list[Path]] = {}
        available: dict[str, set] = {}  # modality -> feature names present (for error messages)
        for p in _visible(self.root, "*.npy"):
            m = _PAMFN_FILE.match(p.name)
            if m and (prefixes is None or m["prefix"] in prefixes):
                available.setdefault(m["mod"], set()).add(m["name"])
                if m["mod"] in names and m["name"] != names[m["mod"]]:
                    continue
                found.setdefault((m["prefix"], m["mod"]), []).append(p)
        if not found:
            raise FeatureDataError(f"{self.root}: no PAMFN files for classes {prefixes}")
        if prefixes is not None:
            absent = [c for c in prefixes if not any(k[0] == c for k in found)]
            if absent:
                have = sorted({m["prefix"] for p in _visible(self.root, "*.npy") if (m := _PAMFN_FILE.match(p.name))})
                raise FeatureDataError(f"{self.root}: no PAMFN files for classes {absent}; the package has {have}")
        for mod, name in names.items():
            if not any(k[1] == mod for k in found):
                raise FeatureDataError(
                    f"{self.root}: no {mod} files named {name!r}; {mod} names present: {sorted(available.get(mod, []))}"
                )
        for (prefix, mod), paths in found.items():
            if len(paths) > 1:
                raise FeatureDataError(
                    f"{self.root}: several {prefix} {mod} files ({', '.join(p.name for p in paths)}); "
                    f"choose one with --names {mod}=NAME (names={{'{mod}': NAME}} in Python)"
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
        # Videos that some modality file of their class lacks: kept out of ids(), and load() names the gap.
        self.incomplete: dict[str, list[str]] = {}
        for prefix in self.prefixes:
            keys = {mod: set(self._table(prefix, mod)) for mod in self.modalities}
            for vid in sorted(set().union(*keys.values())):
                if vid in self._owner or vid in self.incomplete:
                    other = self._owner.get(vid) or "another class"
                    raise FeatureDataError(
                        f"{self.root}: video {vid!r} appears in both {other} and {prefix} files; ids must be unique"
                    )
                missing = [m for m in self.modalities if vid not in keys[m]]
                if missing:
                    self.incomplete[vid] = missing
                else:
                    self._owner[vid] = prefix
        first = next(iter(sorted(self._owner)), None)
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

    def __contains__(self, video_id: str) -> bool:
        return video_id in self._owner

    def load(self, video_id: str) -> dict[str, np.ndarray]:
        prefix = self._owner.get(video_id)
        if prefix is None:
            if video_id in self.incomplete:
                raise FeatureDataError(
                    f"{self.root}: video {video_id!r} has no {'/'.join(self.incomplete[video_id])} features "
                    f"(missing from those files, present in the others)"
                )
            raise FeatureDataError(f"{self.root}: no features for video {video_id!r} in {self.prefixes}")
        arrays = {m: self._table(prefix, m)[video_id] for m in self.modalities}
        src = f"{self.root}/{prefix}_*.npy[{video_id}]"
        return check_video_arrays(arrays, src, getattr(self, "dims", None) or None)


# ----------------------------------------------------------------------------- GDLT package
def _gdlt_dir(root: Path) -> Path:
    for cand in (root / "swintx_avg_fps25_clip32", root):
        if cand.is_dir() and any(not _PAMFN_FILE.match(p.name) for p in _visible(cand, "*.npy")):
            return cand
    raise FeatureDataError(f"{root}: no per-video .npy files found (GDLT layout: <video>.npy of shape (T, D))")


class GdltStore(_FilePerVideoStore):
    layout = "gdlt"
    modalities = ("rgb",)

    def __init__(self, root):
        self.root = _gdlt_dir(Path(root))
        self._files = {p.stem: p for p in _visible(self.root, "*.npy") if not _PAMFN_FILE.match(p.name)}
        first = next(iter(self._files))
        self.dims = {"rgb": self.load(first)["rgb"].shape[1]}


    def load(self, video_id: str) -> dict[str, np.ndarray]:
        path = self._files.get(video_id)
        if path is None:
            raise FeatureDataError(f"{self.root}: no file {video_id}.npy")
        try:
            arr = np.load(path, allow_pickle=False)
        except ValueError as e:  # pickled object arrays (refused, never unpickled), truncated data
            raise FeatureDataError(f"{path}: not a readable plain numeric .npy array ({e})") from None
        except (OSError, EOFError) as e:
            raise FeatureDataError(f"{path}: unreadable .npy file ({e})") from None
        return check_video_arrays({"rgb": arr}, str(path), getattr(self, "dims", None) or None)


# ----------------------------------------------------------------------------- dataset layouts
# Layouts of one dataset's release (fs1000, finefs, logo), registered by its module in
# lmac.data.datasets: name -> (detect(root) -> bool, open(root) -> FeatureStore).
DATASET_LAYOUTS: dict = {}


def register_layout(name: str, detect, open_store) -> None:
    DATASET_LAYOUTS[name] = (detect, open_store)


def _dataset_layouts() -> dict:
    import lmac.data.datasets  # noqa: F401  (its modules register their layouts)

    return DATASET_LAYOUTS


def read_plain_npy(path: Path) -> np.ndarray:
    """A plain numeric .npy (never unpickled); a one-line FeatureDataError naming the file otherwise."""
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as e:  # pickled object arrays (refused, never unpickled), truncated data
        raise FeatureDataError(f"{path}: not a readable plain numeric .npy array ({e})") from None
    except (OSError, EOFError) as e:
        raise FeatureDataError(f"{path}: unreadable .npy file ({e})") from None


# ----------------------------------------------------------------------------- detection
def detect_layout(root) -> str:
    root = Path(root)
    if not root.exists():
        raise FeatureDataError(f"{root}: feature path not found")
    for name, (detect, _) in _dataset_layouts().items():
        if root.is_dir() and detect(root):
            return name
    if root.is_dir() and ((root / MANIFEST).exists() or _visible(root, "*.safetensors")):
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
        f"no per-video .npy, no FS1000 / FineFS / LOGO release folders); pass --format"
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
    if fmt in _dataset_layouts():
        return DATASET_LAYOUTS[fmt][1](root)
    raise ValueError(f"unknown feature format {fmt!r}; use auto, native, pamfn, gdlt or {', '.join(DATASET_LAYOUTS)}")


def convert_to_native(
    store: FeatureStore, out_dir, info: dict | None = None, progress: bool = True, ids=None
) -> int:
    """Write every video of `store` (or only `ids`) into the native layout; returns how many were written.

    Each video is written atomically; `features.json` is written last, so an interrupted conversion
    leaves no manifest behind (unless the folder already had one, with the same dims)."""
    from tqdm import tqdm

    out_dir = Path(out_dir)
    src_root = getattr(store, "root", None)
    if src_root is not None and out_dir.resolve() == Path(src_root).resolve():
        raise FeatureDataError(f"{out_dir}: the output folder is the source folder; choose another --out")
    if out_dir.is_dir() and ((out_dir / MANIFEST).exists() or _visible(out_dir, "*.safetensors")):
        # Adding videos to an existing native folder is fine; mixing feature dims is not.
        old = NativeStore(out_dir).dims
        if old != dict(store.dims):
            raise FeatureDataError(
                f"{out_dir}: the folder holds features with dims {old}, the source has {dict(store.dims)}; "
                f"convert into an empty folder"
            )
    out_dir.mkdir(parents=True, exist_ok=True)
    n = 0
    for vid in tqdm(store.ids() if ids is None else list(ids), desc="convert", disable=not progress, unit="video"):
        write_native_video(out_dir, vid, store.load(vid), {"converted_from": store.layout})
        n += 1
    # Written last: a folder whose conversion was interrupted has no manifest claiming it complete.
    write_native_manifest(out_dir, store.dims, {"converted_from": store.layout, **(info or {})})
    return n
