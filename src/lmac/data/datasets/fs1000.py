"""FS1000 (Xia et al., "Skating-Mixer", AAAI 2023), laid out as the MCMoE / MLAVL releases lay it out.

Labels: `train_fs1000_new.txt` / `val_fs1000_new.txt` (also the `_fs800` names, or train.txt /
test.txt), no header, one line per video: `id TES PCS SS TR PE CO IN factor`, whitespace-separated.
PCS is the factored total; its target is PCS / factor, the sum of the five components (each out of
10). Ranges: TES 130, PCS 60, components 10. The release's "val" file is its test split.

Features (`--features` = the folder holding the per-modality folders, one `<id>.npy` each):
- `output_feature_fs1000_new/`: video, TimeSformer, (T, views, 768), averaged over the views -> rgb;
- `i3d_avg_clip8_5s_fs1000/`: flow, I3D, (T, 1024);
- `ast_feature_fs1000_new/`: audio, AST, (T, 768).
The modalities of one video can differ in length by a segment or two; peers crop audio and flow with
the video's length and break on this. We align all of them to the shortest and say so (the store's
`notes`). Peers test on a centre crop of 95 segments: `--test-crop 95` does that; the default scores
the full length.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from lmac.data.datasets._files import find_split_file
from lmac.data.datasets.base import DatasetSpec
from lmac.data.features import (FeatureDataError, FeatureStore, _visible, check_video_arrays, read_plain_npy,
                                register_layout)
from lmac.data.labels import LabelFormatError, LabelRecord, read_headerless
from lmac.data.taskspec import TaskSpec

COLUMNS = ("tes", "pcs", "ss", "tr", "pe", "co", "in", "factor")
COMPONENTS = {"ss": "skating skills", "tr": "transitions", "pe": "performance", "co": "composition",
              "in": "interpretation"}
FOLDERS = {"rgb": "output_feature_fs1000_new", "flow": "i3d_avg_clip8_5s_fs1000", "audio": "ast_feature_fs1000_new"}
FILES = {"train": ("train_fs1000_new.txt", "train_fs800.txt", "train.txt"),
         "test": ("val_fs1000_new.txt", "val_fs800.txt", "test.txt")}
CLIP_NUM = 95  # the peers' crop, in segments


def _pcs_over_factor(path, lineno, v: dict) -> dict:
    if v["factor"] <= 0:
        raise LabelFormatError(f"{path}:{lineno}: factor must be > 0, got {v['factor']:g}")
    return {**v, "pcs_factored": v["pcs"], "pcs": v["pcs"] / v["factor"]}


def read_fs1000_labels(path) -> list[LabelRecord]:
    """`id TES PCS SS TR PE CO IN factor` per line; scores: tes, pcs (= PCS / factor), pcs_factored,
    the five components, factor."""
    return read_headerless(path, COLUMNS, "FS1000 lines are 'id TES PCS SS TR PE CO IN factor'", "FS1000",
                           finish=_pcs_over_factor)


def _read(root, split):
    return read_fs1000_labels(find_split_file(root, split, FILES, ("FS1000", "fs1000")))


class FS1000Store(FeatureStore):
    """The release's per-modality folders. Videos are those with a video (rgb) file; flow and audio are
    used when their folder exists, and a video must then have them too."""

    layout = "fs1000"

    def __init__(self, root):
        self.root = Path(root)
        self.folders = {m: self.root / f for m, f in FOLDERS.items() if (self.root / f).is_dir()}
        if "rgb" not in self.folders:
            raise FeatureDataError(f"{self.root}: no {FOLDERS['rgb']}/ folder (FS1000 video features)")
        self.modalities = tuple(self.folders)
        self._files = {m: {p.stem: p for p in _visible(d, "*.npy")} for m, d in self.folders.items()}
        if not self._files["rgb"]:
            raise FeatureDataError(f"{self.folders['rgb']}: no .npy files")
        self.aligned: dict[str, dict] = {}  # video -> lengths, where the modalities differed
        first = next(iter(self._files["rgb"]))
        self.dims = {m: int(a.shape[1]) for m, a in self.load(first).items()}
        self.aligned.pop(first, None)

    def ids(self) -> list[str]:
        return list(self._files["rgb"])

    def __contains__(self, video_id: str) -> bool:
        return video_id in self._files["rgb"]

    def load(self, video_id: str) -> dict[str, np.ndarray]:
        arrays = {}
        for m, files in self._files.items():
            path = files.get(video_id)
            if path is None:
                raise FeatureDataError(f"{self.folders[m]}: no file {video_id}.npy ({m} of video {video_id})")
            a = read_plain_npy(path)
            if m == "rgb" and a.ndim == 3:  # (T, views, 768): the views averaged, as the peers do
                a = a.mean(1)
            arrays[m] = a
        lengths = {m: int(a.shape[0]) for m, a in arrays.items() if a.ndim >= 1}
        if len(set(lengths.values())) > 1:  # off by a segment or two between extractors: align to the shortest
            T = min(lengths.values())
            self.aligned[video_id] = lengths
            arrays = {m: a[:T] for m, a in arrays.items()}
        return check_video_arrays(arrays, f"{self.root} video {video_id}", getattr(self, "dims", None) or None)

    def notes(self) -> list[str]:
        if not self.aligned:
            return []
        (vid, lengths), n = next(iter(self.aligned.items())), len(self.aligned)
        return [f"{n} FS1000 video(s) have modalities of different lengths (e.g. {vid}: {lengths}); each was cut to "
                f"its shortest modality"]


def _detect(root: Path) -> bool:
    return (root / FOLDERS["rgb"]).is_dir()


register_layout("fs1000", _detect, FS1000Store)

# recipe: Fis-V's (skating), not tuned on FS1000; window: the peers' 95 segments
SPEC = DatasetSpec(
    name="fs1000", title="FS1000 (Skating-Mixer; MCMoE / MLAVL feature release): TES, PCS and its five components",
    tasks=(TaskSpec("fs1000_tes", "fs1000", "FS1000", "tes", 130.0, CLIP_NUM, 9e-5, 0.2, ""),
           TaskSpec("fs1000_pcs", "fs1000", "FS1000", "pcs", 60.0, CLIP_NUM, 9e-5, 0.2, ""))
    + tuple(TaskSpec(f"fs1000_{c}", "fs1000", "FS1000", c, 10.0, CLIP_NUM, 9e-5, 0.2, "") for c in COMPONENTS)
    # all seven scores from one model
    + (TaskSpec("fs1000_all", "fs1000", "FS1000", "tes", 130.0, CLIP_NUM, 9e-5, 0.2, "",
                extra_scores=(("pcs", 60.0),) + tuple((c, 10.0) for c in COMPONENTS)),),
    read_split=_read, labels_hint="the folder with train_fs1000_new.txt and val_fs1000_new.txt",
    labels_in_features=True, layout="fs1000",
).register()
