"""One dataset over any feature store: windowed sequences for training, full ones for testing.

Training takes one random window of `window` segments with the same start for every modality
(zero-padded with a False mask when the video is shorter); testing returns the whole sequence.
Targets are scores divided by the task's score range. The window start is a pure function of
(seed, epoch, index), so runs are repeatable, resumable and identical under data sharding.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from lmac.data.features import FeatureDataError, FeatureStore
from lmac.data.labels import LabelRecord
from lmac.data.tasks import TaskSpec


@dataclass
class Sample:
    video_id: str
    feats: dict  # modality -> (T, D) float32 tensor
    score: float | list  # points; one per score of a multi-score task
    parts: list | None = None  # a task with parts: the parts' targets (what the model is trained on)


class FeatureSequenceDataset(torch.utils.data.Dataset):
    def __init__(
        self,
        store: FeatureStore,
        labels: list[LabelRecord],
        task: TaskSpec,
        train: bool,
        window: int | None = None,
        modalities: tuple[str, ...] | None = None,
        seed: int = 0,
        crop: int | None = None,
    ):
        if crop is not None and crop < 1:
            raise ValueError(f"crop must be >= 1 segments, got {crop}")
        self.crop = None if train else crop  # evaluation only: a centre crop of this many segments
        self.task = task
        self.train = train
        self.window = window or task.window
        self.seed = seed
        self.epoch = 0
        self.modalities = tuple(modalities or store.modalities)
        self.feature_info = dict(getattr(store, "info", {}) or {})  # provenance from the store's manifest
        absent = [m for m in self.modalities if m not in store.modalities]
        if absent:
            raise FeatureDataError(f"features have modalities {list(store.modalities)}; {absent} requested")
        rows = [r for r in labels if r.cls == task.cls]
        if not rows:
            raise FeatureDataError(f"no label rows of class {task.cls!r} for task {task.name}")
        absent = [k for k in task.label_keys if k not in rows[0].scores]
        if absent:
            raise FeatureDataError(f"labels have no {', '.join(map(repr, absent))} column (have {sorted(rows[0].scores)})")
        have = set(store.ids())
        missing = [r.video_id for r in rows if r.video_id not in have]
        if missing:
            shown = ", ".join(missing[:10]) + (f", ... ({len(missing)} in all)" if len(missing) > 10 else "")
            raise FeatureDataError(f"{len(missing)} labelled video(s) have no features in {store.describe()}: {shown}")
        self.samples: list[Sample] = []
        for r in rows:
            arrays = store.load(r.video_id)
            feats = {m: torch.from_numpy(np.ascontiguousarray(arrays[m])) for m in self.modalities}
            score = float(r.scores[task.score_key]) if task.n_scores == 1 else [float(r.scores[k]) for k in task.score_keys]
            self.samples.append(Sample(r.video_id, feats, score, task.part_target(r.scores) if task.parts else None))
        self.dims = {m: int(self.samples[0].feats[m].shape[1]) for m in self.modalities}

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.samples)

    def window_start(self, index: int, length: int) -> int:
        if length <= self.window:
            return 0
        rng = np.random.default_rng([self.seed, self.epoch, index])
        return int(rng.integers(0, length - self.window + 1))

    def __getitem__(self, index: int) -> dict:
        s = self.samples[index]
        length = next(iter(s.feats.values())).shape[0]
        if self.train:
            start = self.window_start(index, length)
            feats = {m: x[start : start + self.window] for m, x in s.feats.items()}
        elif self.crop is not None and length > self.crop:  # centre crop, as the FS1000 peers test
            start = (length - self.crop) // 2
            feats = {m: x[start : start + self.crop] for m, x in s.feats.items()}
        else:
            feats = dict(s.feats)
        return {
            "video_id": s.video_id,
            "feats": feats,
            "score": s.score,
            "target": s.parts if s.parts is not None else self.task.to_target(s.score) if self.task.n_scores == 1 else
            self.task.to_target(np.asarray(s.score)).tolist(),
            "pad_to": self.window if self.train else None,
        }


def collate_sequences(batch: list[dict]) -> dict:
    """Pad to the longest sequence (or the training window) with zeros; mask True = real segment."""
    lengths = [next(iter(b["feats"].values())).shape[0] for b in batch]
    T = max(lengths + [b["pad_to"] or 0 for b in batch])
    mods = list(batch[0]["feats"])
    feats = {}
    for m in mods:
        D = batch[0]["feats"][m].shape[1]
        x = torch.zeros(len(batch), T, D, dtype=torch.float32)
        for i, b in enumerate(batch):
            x[i, : lengths[i]] = b["feats"][m]
        feats[m] = x  # (B, T, D)
    mask = torch.arange(T)[None, :] < torch.tensor(lengths)[:, None]  # (B, T)
    return {
        "video_id": [b["video_id"] for b in batch],
        "feats": feats,
        "mask": mask,
        "score": torch.tensor([b["score"] for b in batch], dtype=torch.float32),
        "target": torch.tensor([b["target"] for b in batch], dtype=torch.float32),
    }
