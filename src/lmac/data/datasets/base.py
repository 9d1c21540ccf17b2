"""What a dataset module registers: `DatasetSpec`."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from lmac.data.labels import LabelRecord
from lmac.data.taskspec import TaskSpec
from lmac.registry import Registry

DATASETS = Registry("dataset")
SPLITS = ("train", "test")


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    title: str  # one line: what it is and where it comes from
    tasks: tuple[TaskSpec, ...]
    # (labels root or None for the labels shipped with lmac, split "train"|"test") -> rows
    read_split: Callable[[Path | None, str], list[LabelRecord]]
    labels_hint: str  # what --labels points at, for error messages and --help
    shipped: bool = False  # labels ship with lmac: --labels may be left out
    labels_in_features: bool = False  # the release keeps labels beside the features: --labels defaults to --features
    layout: str | None = None  # the feature layout its releases use (`--format`), None: any generic layout
    # seconds of video one feature step covers, for datasets whose labels time their elements in seconds
    # (FineFS): the stage-localisation figures need the elements in feature steps. None: no element times
    segment_s: float | None = None

    def test_elements(self, root) -> dict:
        """{video: [(start, end), ...]} in feature steps for the test split's annotated elements ({} without)."""
        if self.segment_s is None:
            return {}
        return {r.video_id: [(e["start_s"] / self.segment_s, e["end_s"] / self.segment_s) for e in r.elements]
                for r in self.records(root, "test") if r.elements}

    def records(self, root, split: str) -> list[LabelRecord]:
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        if root is None and not self.shipped:
            raise FileNotFoundError(f"{self.name}: its labels do not ship with lmac; pass --labels ({self.labels_hint})")
        return self.read_split(Path(root) if root is not None else None, split)

    def register(self) -> "DatasetSpec":
        DATASETS.register(self.name, spec=self)(lambda: self)
        return self


def get_dataset(name: str) -> DatasetSpec:
    return DATASETS.info(name)["spec"]
