"""LOGO (Zhang et al., "LOGO: A Long-Form Video Dataset for Group Action Quality Assessment", CVPR
2023): artistic swimming, RGB only.

- `anno_dict.pkl`: {(event, idx): [type, score, _, end_frames, per_frame_action]}, a pickle read
  through lmac's restricted unpickler (builtin containers, tuple keys and numpy arrays only);
- `train_split3.pkl` / `test_split3.pkl`: lists of those keys (also train_split.pkl / test_split.pkl);
- `logo_feats/<event>_<idx>.npy`: Video Swin features, (T, 1024).
The score's range is 100 (targets = score / 100, as the peers divide it).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from lmac.data.datasets._files import find_split_file
from lmac.data.datasets.base import DatasetSpec
from lmac.data.features import SingleModalityFileStore, read_plain_npy, register_layout
from lmac.data.labels import LabelFormatError, LabelRecord
from lmac.data.safe_pickle import UnsafePickleError, safe_unpickle_bytes
from lmac.data.taskspec import TaskSpec

FILES = {"train": ("train_split3.pkl", "train_split.pkl"), "test": ("test_split3.pkl", "test_split.pkl")}


def _unpickle(path: Path):
    if not path.is_file():
        raise LabelFormatError(f"{path}: file not found")
    try:
        return safe_unpickle_bytes(path.read_bytes(), str(path))
    except UnsafePickleError:
        raise
    except Exception as e:  # truncated or not a pickle
        raise LabelFormatError(f"{path}: not a readable pickle ({type(e).__name__}: {e})") from None


def video_id(key) -> str:
    event, idx = key
    return f"{event}_{int(idx)}" if isinstance(idx, (int, np.integer)) else f"{event}_{idx}"


def read_logo_split(anno_path: Path, split_path: Path) -> list[LabelRecord]:
    anno = _unpickle(anno_path)
    if not isinstance(anno, dict):
        raise LabelFormatError(f"{anno_path}: expected a dict {{(event, idx): [type, score, ...]}}, got {type(anno).__name__}")
    keys = _unpickle(split_path)
    if not isinstance(keys, (list, tuple)):
        raise LabelFormatError(f"{split_path}: expected a list of (event, idx) keys, got {type(keys).__name__}")
    rows, seen = [], set()
    for n, key in enumerate(keys):
        if not (isinstance(key, tuple) and len(key) == 2):
            raise LabelFormatError(f"{split_path}: entry {n} is {key!r}, not an (event, idx) key")
        if key not in anno:
            raise LabelFormatError(f"{split_path}: key {key!r} (entry {n}) is not in {anno_path.name}")
        value = anno[key]
        try:
            score = float(value[1])
        except (TypeError, ValueError, IndexError):
            raise LabelFormatError(f"{anno_path}: {key!r} has no numeric score at position 1: {value!r:.80}") from None
        if not np.isfinite(score):
            raise LabelFormatError(f"{anno_path}: {key!r} has a non-finite score {score}")
        vid = video_id(key)
        if vid in seen:
            raise LabelFormatError(f"{split_path}: {key!r} appears twice")
        seen.add(vid)
        rows.append(LabelRecord(vid, "LOGO", {"score": score}))
    return rows


def _read(root, split):
    return read_logo_split(root / "anno_dict.pkl" if (root / "anno_dict.pkl").is_file() else
                           find_split_file(root, split, {split: ("anno_dict.pkl",)}, ("LOGO",)),
                           find_split_file(root, split, FILES, ("LOGO",)))


class LogoStore(SingleModalityFileStore):
    layout = "logo"

    def __init__(self, root):
        root = Path(root)
        super().__init__(root, root / "logo_feats" if (root / "logo_feats").is_dir() else root,
                         "logo_feats/<event>_<idx>.npy")

    def read(self, path: Path) -> np.ndarray:
        return read_plain_npy(path)


register_layout("logo", lambda root: (root / "logo_feats").is_dir(), LogoStore)

SPEC = DatasetSpec(
    name="logo", title="LOGO (CVPR 2023): artistic swimming, group routines, RGB only; score / 100",
    tasks=(TaskSpec("logo", "logo", "LOGO", "score", 100.0, 128, 9e-5, 0.2, ""),),
    read_split=_read, labels_hint="the LOGO folder (anno_dict.pkl, train_split3.pkl, test_split3.pkl)",
    labels_in_features=True, layout="logo",
).register()
