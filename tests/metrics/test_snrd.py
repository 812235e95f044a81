"""Dietrich SNR (``snrd``) against analytic phantoms, MRIQC 24.0.2's rule for a zero-filled background, real scans."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, stats

from mmrqa.metrics import compute_metrics
from mmrqa.metrics.anatomical import DIETRICH, MAD_NORMAL, MRIQC_SCALE, describe, snrd

SIGMA = 10.0
SIGNAL = 400.0


def _rayleigh_mad(sigma: float) -> float:
    """Median absolute deviation of a Rayleigh(sigma) variable, from its CDF (no sampling)."""
    cdf = stats.rayleigh(scale=sigma).cdf
    med = sigma * math.sqrt(2 * math.log(2))
    return optimize.brentq(lambda d: cdf(med + d) - cdf(max(med - d, 0.0)) - 0.5, 1e-9, 10 * sigma)


def _samples(seed: int = 0, n: int = 400_000, zero_fraction: float = 0.0):
    rng = np.random.default_rng(seed)
    tissue = np.hypot(SIGNAL + rng.normal(0, SIGMA, n), rng.normal(0, SIGMA, n))  # Rician
    air = np.hypot(rng.normal(0, SIGMA, n), rng.normal(0, SIGMA, n))  # Rayleigh
    air[: int(zero_fraction * n)] = 0.0  # zero-filled part of the background
    return tissue.astype(np.float32), air.astype(np.float32)


def test_rayleigh_air_uses_the_mad_as_dietrich():
    tissue, air = _samples()
    expected = DIETRICH * stats.rice(SIGNAL / SIGMA, scale=SIGMA).median() / (MAD_NORMAL * _rayleigh_mad(SIGMA))
    assert snrd(tissue, air, scale=SIGNAL) == pytest.approx(expected, rel=0.01)


def test_zero_filled_air_falls_back_to_the_std_as_mriqc():
    """70% of the air is exactly 0 (MAD 0): MRIQC 24.0.2 divides by the air's standard deviation instead."""
    p = 0.3  # fraction of air voxels that keep their Rayleigh noise
    tissue, air = _samples(zero_fraction=1 - p)
    assert describe(air).mad == 0.0
    mean = p * SIGMA * math.sqrt(math.pi / 2)  # mixture of a point mass at 0 and Rayleigh(sigma)
    std = math.sqrt(p * 2 * SIGMA**2 - mean**2)
    expected = DIETRICH * stats.rice(SIGNAL / SIGMA, scale=SIGMA).median() / std
    value = snrd(tissue, air, scale=SIGNAL)
    assert math.isfinite(value) and value == pytest.approx(expected, rel=0.01)


def _mriqc_rule(median: float, mad_air: float, sd_air: float) -> float:
    """MRIQC 24.0.2 ``snr_dietrich`` as documented there (its -1 for 'undefined' written as NaN)."""
    if mad_air > 1.0:
        return DIETRICH * median / mad_air
    return DIETRICH * median / sd_air if sd_air > 1e-3 else math.nan


@pytest.mark.parametrize("air_scale", [5.0, 0.9, 1.1, 1e-4, 0.0])
def test_equals_mriqc_on_mriqc_scale_and_is_scale_free(air_scale):
    rng = np.random.default_rng(1)
    tissue = rng.normal(MRIQC_SCALE, 30, 5000)
    air = np.abs(rng.normal(0, air_scale, 5000))
    air[:2600] = 0.0 if air_scale < 1 else air[:2600]  # small noise: zero-filled majority, MAD 0
    t, a = describe(tissue), describe(air)
    want = _mriqc_rule(t.median, a.mad, a.std)
    got = snrd(t, a, scale=MRIQC_SCALE)
    assert (math.isnan(want) and math.isnan(got)) or got == pytest.approx(want, rel=3e-7)
    scaled = snrd(tissue * 0.01, air * 0.01, scale=MRIQC_SCALE * 0.01)  # same image in other units
    assert (math.isnan(want) and math.isnan(scaled)) or scaled == pytest.approx(want, rel=1e-5)


def test_undefined_without_air_or_tissue():
    assert math.isnan(snrd(np.ones(10), np.zeros(100), scale=1.0))
    assert math.isnan(snrd(np.ones(10), np.array([]), scale=1.0))
    assert math.isnan(snrd(np.array([]), np.ones(10), scale=1.0))


def test_real_scan_with_zero_filled_background_has_a_snrd():
    """pydicom-data's MR2_UNCR.dcm: its background is zeros with a few quantised steps (air MAD 0, std > 0)."""
    from mmrqa.data import load_sample

    values = compute_metrics(load_sample("dicom_mr2")).values
    assert values["summary_air_stdv"] > 0
    for name in ("dark", "mid", "bright"):
        assert math.isfinite(values[f"snrd_{name}"]) and values[f"snrd_{name}"] > 0
