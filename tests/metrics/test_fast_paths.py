"""The fast paths of the metrics equal their slow definitions (scipy / scikit-image / per-slice loops)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from scipy import ndimage

from mmrqa.metrics import _default_slices, _inu, compute_metrics
from mmrqa.metrics.anatomical import prepare
from mmrqa.metrics.masks import convex_hull_masks, dilate, erode, fill_holes_per_slice, open_box3
from mmrqa.metrics.median import median3x3
from mmrqa.metrics.mrqy import mrqy_int_slices, mrqy_slice
from mmrqa.volume import Volume


def _anatomical() -> np.ndarray:
    import nibabel as nib
    from nibabel.testing import data_path

    return np.asarray(nib.load(os.path.join(data_path, "anatomical.nii")).dataobj).astype(np.float32)


@pytest.mark.parametrize("high", [3, 60000])
def test_median3x3_equals_scipy(high):
    rng = np.random.default_rng(high)
    for shape in [(1, 1, 1), (2, 5, 3), (17, 9, 4), (40, 33, 2)]:
        vol = rng.integers(0, high, shape).astype(np.float32)  # many ties when high = 3
        assert np.array_equal(median3x3(vol), ndimage.median_filter(vol, size=(3, 3, 1), mode="nearest"))


def test_morphology_equals_scipy():
    rng = np.random.default_rng(0)
    for _ in range(25):
        shape = tuple(int(s) for s in rng.integers(1, 12, 3))
        mask = rng.random(shape) < rng.random()
        for n in (1, 3):
            assert np.array_equal(dilate(mask, n), ndimage.binary_dilation(mask, iterations=n))
            assert np.array_equal(erode(mask, n), ndimage.binary_erosion(mask, iterations=n, border_value=0))
        assert np.array_equal(open_box3(mask), ndimage.binary_opening(mask, structure=np.ones((3, 3, 3), bool)))
        filled = mask.copy()
        for z in range(shape[2]):
            filled[:, :, z] = ndimage.binary_fill_holes(mask[:, :, z])
        assert np.array_equal(fill_holes_per_slice(mask), filled)


def test_batched_hulls_equal_scikit_image_slice_by_slice():
    pytest.importorskip("skimage")
    from skimage.morphology import convex_hull_image

    rng = np.random.default_rng(1)
    stack = rng.random((12, 31, 27)) < np.linspace(0, 0.05, 12)[:, None, None]
    stack[4] = False  # an empty slice between non-empty ones
    hulls = convex_hull_masks(stack)
    for k in range(stack.shape[0]):
        expected = convex_hull_image(stack[k]) if stack[k].any() else np.zeros_like(stack[k])
        assert np.array_equal(hulls[k], expected), k


def test_batched_integer_mrqy_equals_slice_by_slice():
    data = _anatomical()
    batched = mrqy_int_slices(np.moveaxis(data, 2, 0), np.dtype(np.uint16))
    single = [mrqy_slice(data[:, :, z], np.dtype(np.uint16)) for z in range(data.shape[2])]
    assert sum(r is not None for r in batched) > 10
    for got, want in zip(batched, single, strict=True):
        assert (got is None) == (want is None)
        if got is not None:
            for name, value in want.items():
                assert got[name] == pytest.approx(value, rel=1e-12, nan_ok=True), name


def test_per_slice_statistics_equal_the_loop():
    data = _anatomical()
    regions = prepare(data)
    per = _default_slices(data, regions)
    for z in range(data.shape[2]):
        head, air = regions.head[:, :, z], regions.air[:, :, z]
        img = data[:, :, z].astype(np.float64)
        if head.any():
            assert per["fg_mean"][z] == pytest.approx(img[head].mean(), rel=1e-12)
            # deviations are taken in float32 (summed in float64): each carries a relative rounding of ~6e-8
            assert per["fg_std"][z] == pytest.approx(img[head].std(), rel=1e-7)
        else:
            assert np.isnan(per["fg_mean"][z]) and np.isnan(per["fg_std"][z])
        if air.any():
            assert per["air_mean"][z] == pytest.approx(img[air].mean(), rel=1e-12)


def test_inu_on_the_coarse_grid_tracks_the_full_resolution_field():
    from mmrqa.metrics import indicators

    rng = np.random.default_rng(2)
    shape = (128, 128, 64)
    x = np.linspace(-1, 1, shape[0])[:, None, None]
    mask = np.zeros(shape, dtype=bool)
    mask[16:112, 16:112, 8:56] = True
    for amplitude in (0.1, 0.3):
        data = (1000 * (1 + amplitude * x) * np.ones(shape) + rng.normal(0, 20, shape)).astype(np.float32)
        full = indicators.inu_range(data, mask, (1.0, 1.0, 1.0))
        coarse = _inu(data, mask, (1.0, 1.0, 1.0))
        assert coarse == pytest.approx(full, rel=0.1), amplitude


def test_mrqy_profile_starts_without_scipy():
    code = (
        "import sys, numpy as np\n"
        "from mmrqa.metrics import compute_metrics\n"
        "from mmrqa.volume import Volume\n"
        "d = np.zeros((40, 40, 3), np.float32); d[10:30, 10:30] = 100; d += np.arange(40)[:, None, None] % 7\n"
        "compute_metrics(Volume(d), profile='mrqy')\n"
        "assert not [m for m in sys.modules if m.startswith(('scipy', 'skimage'))], 'scipy imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_default_profile_values_are_finite_on_a_real_scan():
    report = compute_metrics(Volume(_anatomical()))
    for name in ("psnr", "efc", "qi_1", "inu_range", "snr_bright", "cjv"):
        assert np.isfinite(report.values[name]), name


def test_median_of_squares_equals_numpy():
    from mmrqa.metrics.anatomical import median_of_squares

    rng = np.random.default_rng(3)
    for n in (1, 2, 11, 1000):
        for dtype in (np.float32, np.float64, np.int16):
            x = rng.normal(0, 100, n).astype(dtype)
            assert median_of_squares(x) == float(np.median(np.abs(x.astype(np.float64)) ** 2))
    assert median_of_squares(np.array([-32768, 5], dtype=np.int16)) == (32768.0**2 + 25.0) / 2


@pytest.mark.parametrize("n", [1, 2, 7, 1000, 250_001])
def test_order_statistics_equal_numpy(n):
    from mmrqa.metrics.quantiles import median, order_statistics, percentiles

    rng = np.random.default_rng(n)
    x = rng.rayleigh(3.0, n)
    x[: n // 3] = np.round(x[: n // 3])  # ties
    ranks = sorted({0, n // 20, (n - 1) // 2, n // 2, n - 1})
    assert np.array_equal(order_statistics(x, ranks), np.partition(x, ranks)[ranks])
    assert median(x) == np.median(x)
    qs = [0, 5, 50, 95, 99.95, 100]
    assert np.array_equal(percentiles(x, qs), np.percentile(x, qs))
    assert median(x.astype(np.float32)) == pytest.approx(float(np.median(x.astype(np.float32))), rel=1e-7)


def test_region_statistics_equal_numpy():
    from mmrqa.metrics.anatomical import MAD_NORMAL, describe

    x = _anatomical().ravel()
    stats = describe(x)
    assert stats.median == float(np.median(x)) and stats.n == x.size
    assert [stats.p05, stats.p95] == pytest.approx(np.percentile(x.astype(np.float64), [5, 95]), rel=1e-12)
    assert stats.std == pytest.approx(float(x.astype(np.float64).std()), rel=1e-7)
    assert stats.mad == pytest.approx(MAD_NORMAL * float(np.median(np.abs(x - np.median(x)))), rel=1e-7)


def test_largest_component_on_the_pooled_grid():
    from mmrqa.metrics.masks import largest_component

    mask = np.zeros((40, 41, 9), dtype=bool)
    mask[5:25, 5:25, 1:8] = True  # the object
    mask[30:33, 30:33, 2:4] = True  # a separate speck, 5 voxels away
    mask[26, 10, 4] = True  # a voxel one voxel beyond the object's face: joins it through a shared cell
    kept = largest_component(mask)
    assert kept[5:25, 5:25, 1:8].all() and not kept[30:33, 30:33].any()
    assert kept.sum() == 20 * 20 * 7 + 1
    labels, _ = ndimage.label(mask)
    assert np.array_equal(kept & (labels == labels[10, 10, 4]), labels == labels[10, 10, 4])
