"""AQA metrics as the field reports them.

- Spearman's rho per class: Pearson's r of the average ranks (ties share their mean rank), the
  definition scipy.stats.spearmanr uses; computed with numpy because importing scipy.stats costs
  about 1.5 s in every process (each torchrun rank, each `lmac` call). tests/test_metrics.py checks
  it against scipy.
- Averages across classes are Fisher-z averages: tanh(mean(atanh(rho_i))).
- MSE in score points (never in normalised units), relative L2 as in the AQA literature:
  mean(((|y - y_hat|) / (y_max - y_min))^2), with the range of the class's true scores.
"""
from __future__ import annotations

import math

import numpy as np


def average_ranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks of a 1-D array; tied values get the mean of the ranks they span."""
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)  # rank of the last copy of each distinct value
    return (ends - (counts - 1) / 2.0)[inverse]


def spearman(pred, true) -> float:
    pred, true = np.asarray(pred, dtype=float), np.asarray(true, dtype=float)
    if pred.shape != true.shape or pred.ndim != 1:
        raise ValueError(f"spearman needs two 1-D arrays of equal length, got {pred.shape} and {true.shape}")
    if len(pred) < 2 or np.ptp(pred) == 0 or np.ptp(true) == 0:
        return 0.0  # undefined (constant predictions): report no correlation rather than NaN
    rp, rt = average_ranks(pred), average_ranks(true)
    rp, rt = rp - rp.mean(), rt - rt.mean()
    return float(np.dot(rp, rt) / math.sqrt(np.dot(rp, rp) * np.dot(rt, rt)))


def fisher_z_mean(rhos) -> float:
    rhos = np.clip(np.asarray(list(rhos), dtype=float), -0.999999, 0.999999)
    if rhos.size == 0:
        raise ValueError("fisher_z_mean of no correlations")
    return float(np.tanh(np.mean(np.arctanh(rhos))))


def mse_points(pred, true) -> float:
    pred, true = np.asarray(pred, dtype=float), np.asarray(true, dtype=float)
    return float(np.mean((pred - true) ** 2))


def relative_l2(pred, true, lo: float | None = None, hi: float | None = None) -> float:
    pred, true = np.asarray(pred, dtype=float), np.asarray(true, dtype=float)
    lo = float(true.min()) if lo is None else lo
    hi = float(true.max()) if hi is None else hi
    if hi <= lo:
        return math.nan
    return float(np.mean((np.abs(pred - true) / (hi - lo)) ** 2))


def evaluate_predictions(pred, true) -> dict:
    return {"srcc": spearman(pred, true), "mse": mse_points(pred, true), "rl2": relative_l2(pred, true)}
