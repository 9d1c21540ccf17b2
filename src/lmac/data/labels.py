"""Parsers for the public label files.

RG (ACTION-NET release): a header `Video_Name Difficulty_Score Execution_Score Total_Score Penalty
Video_length`, columns found by name, separated by any mix of tabs and spaces; the apparatus is
the id prefix (`Ball_001` -> `Ball`).
Fis-V (MS-LSTM release): `id TES PCS falls`, *no header*. Several peers skip its first line as if
it were a header and silently lose a video; we never skip a data line.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

SHIPPED_DATASETS = ("rg", "fisv")
SHIPPED_SPLITS = ("train", "test")


class LabelFormatError(ValueError):
    """A label file that cannot be parsed; the message names file and line."""


@dataclass(frozen=True)
class LabelRecord:
    video_id: str
    cls: str  # apparatus for RG (Ball/Clubs/Hoop/Ribbon), "FISV" for Fis-V
    scores: dict = field(default_factory=dict)  # column name (lower case) -> float
    elements: tuple = ()  # annotated elements, where the dataset has them (FineFS): ({name, start_s, end_s, ...}, ...)


RG_COLUMNS = {
    "video_name": "video_id",
    "difficulty_score": "difficulty",
    "execution_score": "execution",
    "total_score": "total",
    "penalty": "penalty",
    "video_length": "length",
}
FISV_COLUMNS = ("tes", "pcs", "falls")


def _float(path, lineno, name, text) -> float:
    try:
        value = float(text)
    except ValueError:
        raise LabelFormatError(f"{path}:{lineno}: column '{name}' is not a number: {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise LabelFormatError(f"{path}:{lineno}: column '{name}' is not finite: {text!r}")
    return value


def _check_unique(path, records):
    seen = {}
    for lineno, rec in records:
        if rec.video_id in seen:
            raise LabelFormatError(
                f"{path}:{lineno}: video id '{rec.video_id}' already appears on line {seen[rec.video_id]}"
            )
        seen[rec.video_id] = lineno
    return [rec for _, rec in records]


def read_rg_labels(path: str | os.PathLike) -> list[LabelRecord]:
    path = Path(path)
    lines = _read_lines(path)
    if not lines:
        raise LabelFormatError(f"{path}:1: empty label file (RG files start with a Video_Name ... header)")
    header_no, header = lines[0]
    names = [h.strip().lower() for h in header.split()]
    if "video_name" not in names or "total_score" not in names:
        raise LabelFormatError(
            f"{path}:{header_no}: RG label files need a header with Video_Name and Total_Score, got {header.strip()!r}"
        )
    col_index = {RG_COLUMNS.get(n, n): i for i, n in enumerate(names)}
    out = []
    for lineno, line in lines[1:]:
        parts = line.split()
        if len(parts) != len(names):
            raise LabelFormatError(f"{path}:{lineno}: expected {len(names)} columns, got {len(parts)}: {line.strip()!r}")
        vid = parts[col_index["video_id"]]
        if "_" not in vid or vid.startswith("_"):
            raise LabelFormatError(f"{path}:{lineno}: RG video id {vid!r} has no apparatus prefix like 'Ball_'")
        scores = {
            key: _float(path, lineno, names[i], parts[i]) for key, i in col_index.items() if key != "video_id"
        }
        out.append((lineno, LabelRecord(vid, vid.split("_", 1)[0], scores)))
    if not out:
        raise LabelFormatError(f"{path}:{header_no}: RG label file has a header but no data rows")
    return _check_unique(path, out)


def read_headerless(path, columns: tuple[str, ...], layout: str, cls: str, finish=None) -> list[LabelRecord]:
    """Label files without a header, one video per line: `id` then `columns`, whitespace-separated, every
    value a finite number (Fis-V, FS1000). `layout` names the line format in errors; `finish(path, lineno,
    scores)` may check and derive scores. Every line is data (no line is skipped as a header)."""
    path = Path(path)
    lines = _read_lines(path)
    if not lines:
        raise LabelFormatError(f"{path}:1: empty label file ({layout})")
    out = []
    for lineno, line in lines:
        parts = line.split()
        if len(parts) != len(columns) + 1:
            raise LabelFormatError(f"{path}:{lineno}: {layout} ({len(columns) + 1} columns, no header), got "
                                   f"{len(parts)}: {line.strip()!r}")
        scores = {name: _float(path, lineno, name, text) for name, text in zip(columns, parts[1:])}
        if finish is not None:
            scores = finish(path, lineno, scores)
        out.append((lineno, LabelRecord(parts[0], cls, scores)))
    return _check_unique(path, out)


def read_fisv_labels(path: str | os.PathLike) -> list[LabelRecord]:
    return read_headerless(path, FISV_COLUMNS, "Fis-V lines are 'id TES PCS falls'", "FISV")


def read_labels(path: str | os.PathLike, fmt: str = "auto") -> list[LabelRecord]:
    """`fmt`: rg, fisv, or auto (a first line starting with Video_Name means RG)."""
    path = Path(path)
    if fmt == "auto":
        lines = _read_lines(path)
        first = lines[0][1].split() if lines else [""]
        fmt = "rg" if first[0].lower() == "video_name" else "fisv"
    if fmt == "rg":
        return read_rg_labels(path)
    if fmt == "fisv":
        return read_fisv_labels(path)
    raise ValueError(f"unknown label format {fmt!r}; use rg, fisv or auto")


def _read_lines(path: Path) -> list[tuple[int, str]]:
    if not path.is_file():
        raise LabelFormatError(f"{path}: label file not found")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise LabelFormatError(f"{path}: not a text file ({e.reason})") from None
    # read_text already turned \r\n and \r into \n; split on \n only so that line numbers match what
    # an editor shows (str.splitlines would also split on \f, \v, \x1c... and shift them).
    return [(i + 1, line) for i, line in enumerate(text.split("\n")) if line.strip()]


def shipped_labels(dataset: str, split: str) -> Path:
    """Path of a label file shipped inside the package: `shipped_labels("rg", "train")`.

    The files are byte-identical copies of the public releases; see `lmac/resources/labels/SOURCES.md`."""
    dataset, split = dataset.lower(), split.lower()
    if dataset not in SHIPPED_DATASETS:
        raise ValueError(f"no shipped labels for dataset {dataset!r}; valid: {', '.join(SHIPPED_DATASETS)}")
    if split not in SHIPPED_SPLITS:
        raise ValueError(f"no shipped labels for split {split!r}; valid: {', '.join(SHIPPED_SPLITS)}")
    from importlib import resources

    res = resources.files("lmac").joinpath("resources", "labels", dataset, f"{split}.txt")
    if isinstance(res, Path):
        return res
    # Installed from a zip: extract once for the life of the process.
    return _extracted(res)


_EXTRACTED: dict[str, Path] = {}


def _extracted(res) -> Path:
    import atexit
    import contextlib
    from importlib import resources

    key = str(res)
    if key not in _EXTRACTED:
        stack = contextlib.ExitStack()
        atexit.register(stack.close)
        _EXTRACTED[key] = Path(stack.enter_context(resources.as_file(res)))
    return _EXTRACTED[key]
