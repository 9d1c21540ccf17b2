"""How sure is "model A beats model B"? A paired bootstrap over the test videos.

Each resample draws every task's test videos with replacement -- the same draw for both models, so
what they share (which videos are hard) cancels -- and recomputes the Fisher-z average of Spearman's
rho over the tasks for A and for B. The spread of A - B over resamples is the standard error that one
draw of test videos produces by itself.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from lmac.evaluation.metrics import fisher_z_mean, spearman

# predictions.csv column of each protocol
COLUMN = {"last": "pred_last", "val": "pred_best_val", "best": "pred_best_test"}


def read_predictions(path: Path, column: str, truth: str = "true_score") -> dict[str, tuple[float, float]]:
    """{video_id: (true score, predicted score)} from a run's predictions.csv (`truth`: a multi-score run's
    columns are true_<score>, pred_last_<score>, ...)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no predictions.csv (has that run finished?)")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    for c in (column, truth):
        if not rows or c not in rows[0]:
            raise ValueError(f"{path}: no column {c!r}")
    return {r["video_id"]: (float(r[truth]), float(r[column])) for r in rows if r[column] != ""}


def paired_arrays(run_a: Path, run_b: Path, column: str) -> np.ndarray:
    """(N, 3) rows of (true, A's prediction, B's prediction) over the test videos two runs share."""
    pa = read_predictions(Path(run_a) / "predictions.csv", column)
    pb = read_predictions(Path(run_b) / "predictions.csv", column)
    if set(pa) != set(pb):
        raise ValueError(f"{run_a} and {run_b} were tested on different videos")
    return np.array([[pa[i][0], pa[i][1], pb[i][1]] for i in sorted(pa)])


def paired_bootstrap(per_task: list[np.ndarray], resamples: int = 1000, rng=None) -> dict:
    """A - B on the Fisher-z average over tasks, and its bootstrap standard error. `per_task`: one (N, 3)
    array (true, A, B) per task."""
    rng = rng if rng is not None else np.random.default_rng(0)

    def z(col, idx):
        return fisher_z_mean(spearman(x[i, col], x[i, 0]) for x, i in zip(per_task, idx))

    full = [np.arange(len(x)) for x in per_task]
    diffs = []
    for _ in range(resamples):
        idx = [rng.integers(0, len(x), len(x)) for x in per_task]
        diffs.append(z(1, idx) - z(2, idx))
    return {"rho_a": z(1, full), "rho_b": z(2, full), "diff": z(1, full) - z(2, full),
            "diff_se": float(np.std(diffs)), "test_videos": [len(x) for x in per_task]}
