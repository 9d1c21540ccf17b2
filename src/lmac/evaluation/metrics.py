"""AQA metrics as the field reports them.

- Spearman's rho per class (scipy.stats.spearmanr).
- Averages across classes are Fisher-z averages: tanh(mean(atanh(rho_i))).
- MSE in score points (never in normalised units), relative L2 as in the AQA literature:
  mean(((|y - y_hat|) / (y_max - y_min))^2), with the range of the class's true scores.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats


def spearman(pred, true) -> float:
    pred, true = np.asarray(pred, dtype=float), np.asarray(true, dtype=float)
    if pred.shape != true.shape or pred.ndim != 1:
        raise ValueError(f"spearman needs two 1-D arrays of equal length, got {pred.shape} and {true.shape}")
    if len(pred) < 2 or np.ptp(pred) == 0 or np.ptp(true) == 0:
        return 0.0  # undefined (constant predictions): report no correlation rather than NaN
    return float(stats.spearmanr(pred, true).statistic)


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
