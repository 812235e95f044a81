"""The default profile's shortcuts (bounding boxes, sampled PSNR/INU, reused statistics) against direct formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mmrqa.metrics import _default_slices, psnr
from mmrqa.metrics.anatomical import describe, fber, median_of_squares, prepare
from mmrqa.metrics.masks import air_mask, bounding_box, dilate, head_mask
from mmrqa.metrics.quantiles import median


def _ball_in_noise(shape=(48, 56, 40), centre=(20, 30, 24), radius=9, seed=0, z_scale=1.0) -> np.ndarray:
    """A bright ball (with a dark core; an ellipsoid ``z_scale`` times longer along z) in Rayleigh air.

    Its head box covers only some slices and rows.
    """
    rng = np.random.default_rng(seed)
    grid = np.indices(shape)
    scale = (1.0, 1.0, z_scale)
    r = np.sqrt(sum(((g - c) / k) ** 2 for g, c, k in zip(grid, centre, scale, strict=True)))
    obj = np.where(r < radius, 100.0, 0.0) - np.where(r < 3, 60.0, 0.0)
    noisy = np.hypot(obj + rng.normal(0, 4, shape), rng.normal(0, 4, shape))
    return noisy.astype(np.float32)


def test_bounding_box_and_boxed_air_mask():
    data = _ball_in_noise()
    head = head_mask(data)
    box = bounding_box(head)
    rows = np.flatnonzero(head.any(axis=(1, 2)))
    assert box[0] == slice(rows[0], rows[-1] + 1)
    assert head[box].sum() == head.sum()
    assert bounding_box(np.zeros((4, 4, 4), bool)) is None
    assert np.array_equal(air_mask(head), ~dilate(head, 3))  # the boxed dilation is exact
    grown = bounding_box(head, 100)
    assert all(b.start == 0 and b.stop == n for b, n in zip(grown, head.shape, strict=True))


def test_per_slice_statistics_with_air_only_slices_equal_the_loop():
    data = _ball_in_noise()
    regions = prepare(data)
    assert regions.box[2] != slice(0, data.shape[2])  # some slices lie wholly in the air
    per = _default_slices(regions.data, regions)
    for z in range(data.shape[2]):
        head, air, img = regions.head[:, :, z], regions.air[:, :, z], data[:, :, z].astype(np.float64)
        if head.any():
            assert per["fg_mean"][z] == pytest.approx(img[head].mean(), rel=1e-12)
            assert per["fg_std"][z] == pytest.approx(img[head].std(), rel=1e-7)
        else:
            assert np.isnan(per["fg_mean"][z]) and np.isnan(per["fg_std"][z])
        assert per["air_mean"][z] == pytest.approx(img[air].mean(), rel=1e-12)


def test_psnr_every_slice_is_the_definition_and_sampling_stays_close():
    from scipy import ndimage

    from mmrqa.metrics import PSNR_SAMPLED_FROM

    # a ball (a slab of 18 slices: every slice) and an ellipsoid of ~190 slices (sampled)
    for shape, centre, radius, z_scale in (
        ((48, 56, 40), (20, 30, 24), 9, 1.0),
        ((40, 40, 200), (20, 20, 100), 17, 5.6),
    ):
        data = _ball_in_noise(shape, centre, radius, seed=1, z_scale=z_scale)
        regions = prepare(data)
        smooth = ndimage.median_filter(data, size=(3, 3, 1), mode="nearest")
        diff = (data[regions.head] - smooth[regions.head]).astype(np.float64)
        want = 20 * math.log10(regions.top / math.sqrt(np.mean(diff**2)))
        assert psnr(data, regions.head, regions.top, step=1) == pytest.approx(want)
        slab = np.flatnonzero(regions.head.any(axis=(0, 1))).size
        if slab < PSNR_SAMPLED_FROM:
            assert psnr(data, regions.head, regions.top) == pytest.approx(want)
        else:
            assert psnr(data, regions.head, regions.top) == pytest.approx(want, abs=0.2)
            assert psnr(data, regions.head, regions.top) != psnr(data, regions.head, regions.top, step=1)


def test_fber_and_moments_from_described_statistics():
    data = _ball_in_noise(seed=2)
    regions = prepare(data)
    head, air = regions.head_values, regions.air_values
    want = median_of_squares(head) / median_of_squares(air)
    assert fber(head, air, describe(head), describe(air)) == want
    signed = air - np.float32(5)  # negative values: the statistics' middle cannot be squared, the fallback is exact
    assert fber(head, signed, describe(head), describe(signed)) == median_of_squares(head) / median_of_squares(signed)
    stats = describe(head)
    assert stats.std == pytest.approx(head.astype(np.float64).std(), rel=1e-7)
    assert stats.mad == pytest.approx(1.4826 * np.median(np.abs(head - np.median(head))), rel=1e-6)


def test_median_in_place_partitions_its_argument_only_when_asked():
    x = np.random.default_rng(3).normal(size=1001).astype(np.float32)
    kept = x.copy()
    assert median(x) == float(np.median(kept)) and np.array_equal(x, kept)
    assert median(x, copy=False) == float(np.median(kept)) and not np.array_equal(x, kept)
