"""Split files in a labels folder: train.txt / test.txt, or a release's own names."""
from __future__ import annotations

from pathlib import Path


def find_split_file(root: Path, split: str, names: dict[str, tuple[str, ...]], subdirs: tuple[str, ...] = ()) -> Path:
    """The first of `names[split]` found in root or one of its `subdirs`; a one-line error listing what
    was looked for otherwise."""
    for folder in (root, *(root / s for s in subdirs)):
        for name in names[split]:
            if (folder / name).is_file():
                return folder / name
    where = f" (also in {', '.join(s + '/' for s in subdirs)})" if subdirs else ""
    raise FileNotFoundError(f"{root}: no {split} label file: looked for {' or '.join(names[split])}{where}")


def train_test_file(root: Path | None, split: str, dataset: str) -> Path:
    """RG and Fis-V: the label file shipped with lmac when `root` is None, else train.txt / test.txt in root
    or its DATASET/ (as in the PAMFN package) or dataset/ subfolder."""
    if root is None:
        from lmac.data.labels import shipped_labels

        return shipped_labels(dataset, split)
    return find_split_file(root, split, {"train": ("train.txt",), "test": ("test.txt",)}, (dataset.upper(), dataset))
