import math

import numpy as np
import pytest

from lmac.evaluation.metrics import fisher_z_mean, mse_points, relative_l2, spearman


def test_spearman_hand_computed():
    # ranks of pred: [1,2,3,4]; ranks of true: [1,3,2,4]; d = [0,-1,1,0]; rho = 1 - 6*2/(4*15) = 0.8
    assert spearman([1, 2, 3, 4], [10, 30, 20, 40]) == pytest.approx(0.8)
    assert spearman([4, 3, 2, 1], [1, 2, 3, 4]) == pytest.approx(-1.0)


def test_spearman_matches_scipy_with_and_without_ties():
    from scipy import stats

    rng = np.random.default_rng(0)
    for n in (2, 3, 10, 200):
        for ties in (False, True):
            a, b = rng.normal(size=n), rng.normal(size=n)
            if ties:
                a, b = np.round(a), np.round(b * 2) / 2
            if np.ptp(a) == 0 or np.ptp(b) == 0:
                continue
            assert spearman(a, b) == pytest.approx(stats.spearmanr(a, b).statistic, abs=1e-12), (n, ties)


def test_spearman_constant_prediction_is_zero_not_nan():
    assert spearman([1, 1, 1], [1, 2, 3]) == 0.0


def test_spearman_shape_mismatch():
    with pytest.raises(ValueError, match="equal length"):
        spearman([1, 2], [1, 2, 3])


def test_fisher_z_mean_hand_computed():
    rhos = [0.5, 0.8]
    expected = math.tanh((math.atanh(0.5) + math.atanh(0.8)) / 2)
    assert fisher_z_mean(rhos) == pytest.approx(expected)
    assert fisher_z_mean(rhos) != pytest.approx(0.65)  # not the plain mean
    assert fisher_z_mean([0.7]) == pytest.approx(0.7)


def test_mse_and_relative_l2():
    pred, true = np.array([10.0, 12.0, 15.0]), np.array([11.0, 12.0, 13.0])
    assert mse_points(pred, true) == pytest.approx((1 + 0 + 4) / 3)
    # range of true = 2: ((1/2)^2 + 0 + (2/2)^2) / 3
    assert relative_l2(pred, true) == pytest.approx((0.25 + 0 + 1.0) / 3)
    assert relative_l2(pred, true, lo=0, hi=25) == pytest.approx((1 / 625 + 0 + 4 / 625) / 3)
