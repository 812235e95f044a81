"""Analytic phantoms for the artifact indicators noise_local, truncation and spike_energy (known answers)."""

from __future__ import annotations

import numpy as np
import pytest

from mmrqa.metrics import ARTIFACT_INDICATORS, CATALOGUE, compute_metrics
from mmrqa.metrics.indicators import noise_local, spike_energy, truncation, truncation_cliff


def smooth_object(shape=(128, 128, 6)) -> np.ndarray:
    """A bright disk with a soft (1.5-voxel) edge on a dark plane: a smoothly decaying spectrum, like anatomy."""
    from scipy import ndimage

    x, y = np.meshgrid(np.arange(shape[0]) - shape[0] / 2, np.arange(shape[1]) - shape[1] / 2, indexing="ij")
    blob = ndimage.gaussian_filter(1000.0 * (x**2 + y**2 < 30.0**2), 1.5)
    return np.repeat(blob[:, :, None], shape[2], axis=2)


def test_noise_local_recovers_gaussian_sigma_within_5_percent():
    rng = np.random.default_rng(0)
    clean = np.full((96, 96, 8), 500.0)
    head = np.ones(clean.shape, dtype=bool)
    for sigma in (5.0, 25.0):
        value = noise_local(clean + rng.normal(0, sigma, clean.shape), head)
        assert value == pytest.approx(100 * sigma / 500.0, rel=0.05)


def test_truncation_reads_the_cut_fraction():
    rng = np.random.default_rng(0)
    clean = smooth_object()
    data = np.hypot(clean + rng.normal(0, 5.0, clean.shape), rng.normal(0, 5.0, clean.shape))  # Rician magnitude
    assert truncation(data) == 0.0  # fully sampled: no cliff
    for kept in (0.9, 0.5, 0.25):
        k = np.fft.fft2(data, axes=(0, 1))
        f = np.abs(np.fft.fftfreq(128))
        mask = (f[:, None] <= kept / 2) & (f[None, :] <= kept / 2)
        cut = np.abs(np.fft.ifft2(k * mask[:, :, None], axes=(0, 1)))
        assert truncation(cut) == pytest.approx(100 * (1 - kept), abs=3.0)


def test_truncation_cliff_ignores_smooth_decay():
    freq = np.arange(65)
    assert truncation_cliff(np.exp(-freq / 4.0)) == 0.0  # steep but smooth: 0.11 decades per line
    stepped = np.exp(-freq / 20.0)
    stepped[40:] *= 1e-4
    assert truncation_cliff(stepped) == pytest.approx(1 - 39.5 / 64)


def test_spike_energy_estimates_the_spike_share():
    rng = np.random.default_rng(1)
    data = smooth_object((128, 128, 1)) + rng.normal(0, 2.0, (128, 128, 1))
    base = spike_energy(data)
    x = np.arange(128)
    for share in (0.05, 0.2):
        wave = np.cos(2 * np.pi * (30 * x[:, None] + 17 * x[None, :]) / 128)[:, :, None]
        amplitude = share * np.sqrt(np.mean(data**2)) * np.sqrt(2)  # energy share of a real cosine: a^2/2
        value = spike_energy(data + amplitude * wave)
        # the excess over the local spectrum is counted, so the estimate is a little low
        assert np.hypot(base, 100 * share) == pytest.approx(value, rel=0.25)


def test_indicators_are_catalogued_with_a_direction_and_range():
    for kind, name in ARTIFACT_INDICATORS.items():
        info = CATALOGUE[name]
        assert info.higher_is_better is not None, kind
        assert info.reference_range is not None and info.range_basis, kind


def test_new_indicators_are_finite_on_a_real_scan():
    from mmrqa.data import load_sample

    values = compute_metrics(load_sample("t1")).values
    for name in ("noise_local", "truncation", "spike_energy"):
        assert np.isfinite(values[name]), name
    assert values["truncation"] == 0.0
    assert 0.5 < values["noise_local"] < 10
