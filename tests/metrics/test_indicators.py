"""Analytic phantoms for the artifact indicators (noise_local, motion_index, truncation, spike_energy, ...): known
answers."""

from __future__ import annotations

import numpy as np
import pytest

from mmrqa.metrics import ARTIFACT_INDICATORS, CATALOGUE, compute_metrics
from mmrqa.metrics.indicators import inu_cv, local_noise, motion_index, noise_local, pe_axis_of
from mmrqa.metrics.spectral import pe_correlation, pe_detail_loss, spike_energy, truncation, truncation_cliff
from mmrqa.volume import Volume


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


def test_motion_index_is_zero_for_rician_air_and_reads_excess_air_signal_whatever_the_noise():
    rng = np.random.default_rng(0)
    clean = np.zeros((96, 96, 8))
    clean[24:72] = 500.0  # the head: a slab; the rest is air
    head = clean > 0
    for sigma in (5.0, 25.0):
        noisy = np.hypot(clean + rng.normal(0, sigma, clean.shape), rng.normal(0, sigma, clean.shape))
        local_sigma, median = local_noise(noisy, head)
        assert motion_index(noisy[~head], median, noise_sigma=local_sigma) == pytest.approx(0.0, abs=0.1)
        smeared = noisy + np.where(head, 0.0, 0.04 * 500.0)  # 4% of the head's signal smeared into the air
        # the air's Rayleigh floor stays estimated from the head's local noise, so the excess reads ~4 points; the
        # air's own median would rise with the smear and hide most of it
        assert motion_index(smeared[~head], median, noise_sigma=local_sigma) == pytest.approx(4.0, abs=0.3)
        assert motion_index(smeared[~head], median) < 2.0


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


def test_truncation_ignores_a_constant_frame_but_not_a_cut_inside_it():
    """A clean scan padded with a zero frame (ITK's BrainT1SliceBorder20.png) read as 95-98% truncated: the frame
    makes the object a small box in a large field, whose spectrum falls a decade at once near the centre. The frame
    is cropped first; a real cut still rings inside it."""
    from mmrqa.metrics.spectral import padding_box, slab_line_powers, truncation_from_lines

    rng = np.random.default_rng(0)
    clean = smooth_object()
    data = np.hypot(clean + rng.normal(0, 5.0, clean.shape), rng.normal(0, 5.0, clean.shape))
    framed = np.pad(data, ((20, 20), (20, 20), (0, 0)))
    # uncropped, the frame's cliff lies at 2-3 lines of 84: in the lowest MIN_KEPT of k-space, where none is sought
    assert truncation_from_lines(*slab_line_powers(framed)) == 0.0
    assert padding_box(framed) == (slice(20, 148), slice(20, 148))
    assert padding_box(data) is None  # noise in the air: no edge is exactly constant
    assert truncation(framed) == 0.0
    k = np.fft.fft2(data, axes=(0, 1))
    f = np.abs(np.fft.fftfreq(128))
    cut = np.abs(np.fft.ifft2(k * ((f[:, None] <= 0.25) & (f[None, :] <= 0.25))[:, :, None], axes=(0, 1)))
    assert truncation(np.pad(cut, ((20, 20), (20, 20), (0, 0)))) == pytest.approx(50.0, abs=3.0)
    assert compute_metrics(Volume(framed.astype(np.float32), (1.0, 1.0, 1.0), np.eye(4), {})).values[
        "truncation"
    ] == pytest.approx(0.0)


def test_truncation_cliff_ignores_smooth_decay():
    freq = np.arange(65)
    assert truncation_cliff(np.exp(-freq / 4.0)) == 0.0  # steep but smooth: 0.11 decades per line
    stepped = np.exp(-freq / 20.0)
    stepped[40:] *= 1e-4
    assert truncation_cliff(stepped) == pytest.approx(1 - 39.5 / 64)


def test_truncation_cliff_is_not_sought_in_the_lowest_five_percent():
    freq = np.arange(129)
    envelope = np.exp(-freq / 30.0)
    envelope[3:] *= 1e-2  # a smooth object's envelope: its energy in the first lines, the rest far below
    assert truncation_cliff(envelope) == 0.0  # a cut keeping 2% of k-space would be no acquisition
    cut = np.exp(-freq / 30.0)
    cut[16:] *= 1e-2  # 12% kept, as a severe simulated truncation: still read
    assert truncation_cliff(cut) == pytest.approx(1 - 15.5 / 128)


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
    for name in ("noise_local", "truncation", "spike_energy", "pe_correlation", "pe_detail_loss", "inu_cv"):
        assert np.isfinite(values[name]), name
    assert values["truncation"] == 0.0
    assert 0.5 < values["noise_local"] < 10


def test_pe_correlation_rises_with_a_copy_shifted_along_the_phase_encoding_axis():
    clean = smooth_object((128, 128, 4)) + 10.0
    assert abs(pe_correlation(clean)) < 1e-6  # a disk correlates with itself equally along both axes
    values = [pe_correlation(clean + a * np.roll(clean, 64, axis=1)) for a in (0.02, 0.05, 0.1, 0.2)]
    assert 0 < values[0] and all(a < b for a, b in zip(values[:-1], values[1:], strict=True))
    # the same copy along the readout axis reads as the opposite; naming axis 0 as PE swaps the roles
    assert pe_correlation(clean + 0.1 * np.roll(clean, 64, axis=0)) == pytest.approx(-values[2], rel=1e-6)
    assert pe_correlation(clean + 0.1 * np.roll(clean, 64, axis=0), pe_axis=0) == pytest.approx(values[2], rel=1e-6)


def test_pe_detail_loss_is_one_when_isotropic_and_rises_with_pe_blur():
    from scipy import ndimage

    rng = np.random.default_rng(0)
    data = smooth_object((128, 128, 4)) + rng.normal(0, 20.0, (128, 128, 4))
    assert pe_detail_loss(data) == pytest.approx(1.0, abs=0.05)
    values = [pe_detail_loss(ndimage.gaussian_filter1d(data, s, axis=1)) for s in (0.5, 1.0, 2.0)]
    assert 1.05 < values[0] < values[1] < values[2]
    assert pe_detail_loss(ndimage.gaussian_filter1d(data, 1.0, axis=0)) < 0.95  # readout blur: the other way


def test_inu_cv_reads_a_linear_bias_field():
    rng = np.random.default_rng(0)
    x, y = np.meshgrid(np.arange(128) - 64.0, np.arange(128) - 64.0, indexing="ij")
    disk = (x**2 + y**2 < 50.0**2)[:, :, None].repeat(6, axis=2)
    data = np.where(disk, 1000.0, 0.0) + rng.normal(0, 20.0, disk.shape)
    assert inu_cv(data, disk) < 0.01
    values = {}
    for gain in (0.2, 0.4):
        field = (1 + gain * x / 50.0)[:, :, None]  # over a disk x/R has rms 1/2: the field's CV is gain / 2
        values[gain] = inu_cv(data * field, disk)
        # near the edge the normalised convolution averages the field over the inner side only, pulling it toward
        # the centre: a disk of radius ~3 sigma keeps ~80% of the field's spread
        assert 0.7 * gain / 2 < values[gain] < gain / 2
    assert values[0.4] / values[0.2] == pytest.approx(2.0, rel=0.05)  # proportional to the field's strength


def test_pe_axis_of_falls_back_to_axis_1():
    assert pe_axis_of(0, (64, 64, 10)) == 0
    assert pe_axis_of(2, (64, 64, 10)) == 2
    assert pe_axis_of(2, (64, 64, 1)) == 1  # a singleton slice axis cannot be phase-encoded
    assert pe_axis_of(None, (64, 64, 10)) == 1
    assert pe_axis_of("j", (64, 64, 10)) == 1


def test_spectral_indicators_follow_the_phase_encoding_axis_through_the_slice_axis():
    """PE along array axis 2: the same values as the volume with axes 1 and 2 swapped and PE along axis 1."""
    rng = np.random.default_rng(3)
    data = smooth_object((64, 48, 40)) + rng.normal(0, 5.0, (64, 48, 40))
    data = data + 0.1 * np.roll(data, 20, axis=2)  # a replica along the PE axis
    swapped = np.ascontiguousarray(np.swapaxes(data, 1, 2))
    assert pe_correlation(data, pe_axis=2) == pytest.approx(pe_correlation(swapped, pe_axis=1), rel=1e-5)
    assert pe_detail_loss(data, pe_axis=2) == pytest.approx(pe_detail_loss(swapped, pe_axis=1), rel=1e-5)
    assert pe_correlation(data, pe_axis=2) > pe_correlation(data, pe_axis=0)


def test_shared_line_powers_equal_one_dimensional_transforms():
    from mmrqa.metrics.spectral import line_powers, slice_power

    rng = np.random.default_rng(4)
    for shape in ((33, 40, 3), (32, 41, 2)):  # odd and even lengths on both axes
        data = rng.normal(100.0, 20.0, shape).astype(np.float32)
        along0, along1 = line_powers(slice_power(data), shape[1])
        for axis, lines in ((0, along0), (1, along1)):
            direct = np.abs(np.fft.rfft(data.astype(np.float64), axis=axis)) ** 2
            expected = direct.sum(axis=1 - axis)  # over the lines of the other in-plane axis: (frequency, slice)
            np.testing.assert_allclose(lines, expected, rtol=1e-4)
