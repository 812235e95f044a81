"""Robust z-scores, the multivariate flag and the embedding, on data whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from mmrqa.metrics.cohort import MAD_NORMAL, MEAN_AD_NORMAL
from mmrqa.report.outliers import MIN_SCANS_MULTIVARIATE, Z_FLAG, find_outliers, robust_z


def test_robust_z_matches_the_definition():
    x = np.array([1.0, 2.0, 3.0, 4.0, 100.0])
    # median 3, |x - 3| = 2 1 0 1 97 -> MAD 1
    assert robust_z(x) == pytest.approx((x - 3.0) / MAD_NORMAL)


def test_robust_z_ignores_nan_and_keeps_it():
    z = robust_z(np.array([1.0, np.nan, 2.0, 3.0, 4.0, 5.0]))
    assert np.isnan(z[1]) and z[3] == 0.0


def test_too_few_values_are_not_judged():
    assert np.isnan(robust_z(np.array([1.0, 2.0, 30.0]))).all()


def test_mad_zero_falls_back_to_mean_absolute_deviation():
    x = np.array([5.0, 5.0, 5.0, 5.0, 9.0])
    z = robust_z(x)
    assert z[:4] == pytest.approx(0.0) and z[4] == pytest.approx(4.0 / (MEAN_AD_NORMAL * 0.8))


def test_constant_metric_has_zero_z():
    assert np.all(robust_z(np.full(6, 2.5)) == 0.0)


def test_planted_outliers_are_flagged_and_clean_scans_are_not():
    rng = np.random.default_rng(0)
    values = rng.normal(0.0, 1.0, size=(60, 8))
    values[:, 1] = values[:, 0] * 2 + rng.normal(0, 0.1, 60)  # correlated metrics, as real ones are
    values[7] += 12.0  # far out on every metric
    values[23, 3] += 9.0  # far out on one metric
    result = find_outliers(values)
    assert result.metric_flags[23, 3] and abs(result.z[23, 3]) > Z_FLAG
    assert result.flags[7] and result.flags[23]
    assert result.flags.sum() <= 4  # 1 - ALPHA quantile: a Gaussian cohort gives very few false alarms
    assert result.embedding.shape == (60, 2)
    assert "MinCovDet" in result.method


def test_small_cohort_uses_rms_z():
    values = np.arange(5 * 3, dtype=float).reshape(5, 3)
    values[2, 0] = 1000
    result = find_outliers(values)
    assert len(values) < MIN_SCANS_MULTIVARIATE and "root mean square" in result.method
    assert result.flags[2] and result.flags.sum() == 1


def test_joint_mask_leaves_metrics_out_of_the_multivariate_score():
    rng = np.random.default_rng(1)
    values = rng.normal(size=(40, 3))
    values[5, 2] = 50.0
    assert find_outliers(values).flags[5]
    out = find_outliers(values, joint=np.array([True, True, False]))
    assert not out.flags[5] and out.metric_flags[5, 2]


def test_no_varying_metric_flags_nothing():
    result = find_outliers(np.ones((20, 4)))
    assert not result.flags.any() and not result.metric_flags.any()
