"""Stage localisation: do LMAC-Net's stages find the elements the judges scored?

None of the peers measure this, yet the paper's claim of interpretable stages rests on it. Where
element times are known (the synthetic data's and the worlds' `truth.json`), each test video's stages
are compared with its elements:
- a stage's **span** is its attention's centre +- one standard deviation, in segments (at least one
  segment wide); a segment t covers [t, t + 1);
- **hit rate**: the share of elements that some stage's centre falls inside;
- **tIoU**: per element, the best temporal IoU with any stage's span, averaged over elements.
Both are also given for a **chance** layout: the same number of stages, of the same widths, at the
centres of K equal parts of the video, so a figure can be read against what evenly spread stages get.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def stage_spans(attn: np.ndarray) -> np.ndarray:
    """attn (K, T) over a video's real segments (rows sum to 1) -> spans (K, 2) [start, end) in segments."""
    attn = np.asarray(attn, dtype=np.float64)
    t = np.arange(attn.shape[-1]) + 0.5
    centre = (attn * t).sum(-1)
    std = np.sqrt(np.clip((attn * (t - centre[:, None]) ** 2).sum(-1), 0, None))
    half = np.maximum(std, 0.5)
    return np.stack([centre - half, centre + half], -1)


def _iou(a, b) -> float:
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union > 0 else 0.0


def _score(spans: np.ndarray, elements: list) -> tuple[int, float]:
    """(elements hit by some stage centre, summed best tIoU) for one video."""
    centres = spans.mean(-1)
    hits, tiou = 0, 0.0
    for start, end in elements:
        hits += bool(np.any((centres >= start) & (centres < end)))
        tiou += max(_iou(s, (start, end)) for s in spans)
    return hits, tiou


def chance_spans(spans: np.ndarray, length: int) -> np.ndarray:
    """The same stages' widths, centred on K equal parts of the video."""
    K = len(spans)
    half = (spans[:, 1] - spans[:, 0]) / 2
    centres = (np.arange(K) + 0.5) * length / K
    return np.stack([centres - half, centres + half], -1)


def localisation(spans: dict, lengths: dict, elements: dict) -> dict | None:
    """spans {video: (K, 2)}, lengths {video: T}, elements {video: [(start, end), ...]} -> the figures over
    every element of the videos in both (None when no video has elements)."""
    n = hits = h0 = 0
    tiou = t0 = 0.0
    for vid, sp in spans.items():
        els = elements.get(vid)
        if not els:
            continue
        a, b = _score(np.asarray(sp), els)
        c, d = _score(chance_spans(np.asarray(sp), lengths[vid]), els)
        n, hits, tiou, h0, t0 = n + len(els), hits + a, tiou + b, h0 + c, t0 + d
    if n == 0:
        return None
    return {"hit_rate": hits / n, "tiou": tiou / n, "chance_hit_rate": h0 / n, "chance_tiou": t0 / n, "elements": n}


def truth_elements(labels_root) -> dict:
    """{video: [(start, end), ...]} in segments from a synthetic folder's truth.json; {} when there is none."""
    if labels_root is None:
        return {}
    path = Path(labels_root) / "truth.json"
    if not path.is_file():
        return {}
    try:
        truth = json.loads(path.read_text())
        return {vid: [(int(e["start"]), int(e["end"])) for e in t.get("elements", [])] for vid, t in truth.items()}
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
        return {}  # not a truth file we know: no localisation figures, training goes on
