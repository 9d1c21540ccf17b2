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
