"""The mrqy profile against MRQy 0.0.3's own results, and its fast parts against their slow definitions."""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from mmrqa.metrics import compute_metrics
from mmrqa.metrics.masks import convex_hull_mask, mrqy_slice_mask_int
from mmrqa.metrics.median import _check_networks, median5x5
from mmrqa.metrics.mrqy import MRQY_MEASURES
from mmrqa.volume import Volume

REPO = Path(__file__).resolve().parents[2]


def _tcia() -> Path | None:
    env = os.environ.get("MMRQA_TCIA_DIR")
    path = Path(env) if env else REPO.parent / "shared" / "data" / "tcia"
    return path if (path / "mrqy-0.0.3-results.tsv").is_file() else None


TCIA = _tcia()
needs_tcia = pytest.mark.skipif(TCIA is None, reason="shared TCIA scans absent")


@needs_tcia
@pytest.mark.parametrize("patient", ["C3N-01342", "C3N-01871", "C3N-01876", "C3N-02631", "C3N-02679"])
def test_matches_mrqy_003_on_tcia(patient):
    from mmrqa.io import load_volume

    with open(TCIA / "mrqy-0.0.3-results.tsv") as fh:
        ref = {row["Patient"]: row for row in csv.DictReader(fh, delimiter="\t")}[patient]
    report = compute_metrics(load_volume(TCIA / f"{patient}_T2w.nii.gz", canonical=False), profile="mrqy")
    for name in MRQY_MEASURES:
        assert report.values[name] == pytest.approx(float(ref[name]), rel=1e-6), name
    for name in ("NUM", "ROWS", "COLS"):
        assert report.values[name] == float(ref[name])
    # the NIfTI copies store pixdim as float32 (0.875 where the .mha had 0.87499...): MRQy itself prints 0.88 on them
    for name in ("VRX", "VRY", "VRZ"):
        assert report.values[name] == pytest.approx(float(ref[name]), abs=0.0100001)


def test_median_networks_sort_by_the_01_principle():
    assert _check_networks()


@pytest.mark.parametrize("dtype", [np.uint16, np.int32, np.float64])
def test_median5x5_equals_scipy(dtype):
    rng = np.random.default_rng(1)
    for shape in [(5, 5), (7, 12), (64, 33)]:
        img = rng.integers(0, 6, shape).astype(dtype)  # many ties
        assert np.array_equal(median5x5(img), ndimage.median_filter(img, size=5, mode="nearest"))


def test_convex_hull_and_mask_equal_scikit_image():
    skimage = pytest.importorskip("skimage")
    from skimage.morphology import convex_hull_image

    rng = np.random.default_rng(0)
    for _ in range(20):
        mask = np.zeros((40, 50), dtype=bool)
        pts = rng.integers(0, [40, 50], (rng.integers(1, 6), 2))
        mask[pts[:, 0], pts[:, 1]] = True
        assert np.array_equal(convex_hull_mask(mask), convex_hull_image(mask))
    del skimage


def test_slice_mask_equals_mrqy_recipe_on_a_real_slice():
    pytest.importorskip("skimage")
    import nibabel as nib
    from nibabel.testing import data_path
    from skimage import exposure
    from skimage.filters import threshold_otsu
    from skimage.morphology import convex_hull_image

    data = np.asarray(nib.load(os.path.join(data_path, "anatomical.nii")).dataobj)
    for z in range(1, data.shape[2], 4):
        img = data[:, :, z].astype(np.int64)
        h = exposure.equalize_hist(img) * 255
        w1 = np.sum(img > threshold_otsu(img)) / img.size
        w2 = np.sum(h > threshold_otsu(h)) / img.size
        new = w1 * img + w2 * h
        assert np.array_equal(mrqy_slice_mask_int(img), convex_hull_image(new > threshold_otsu(new)))


def test_fber_wraps_like_uint16_and_slice_zero_is_skipped():
    rng = np.random.default_rng(3)
    data = rng.integers(0, 20, (48, 48, 3)).astype(np.float32)
    data[12:36, 12:36, :] += 300.0
    data[:, :, 0] = rng.integers(0, 1000, (48, 48))  # MRQy ignores slice 0
    report = compute_metrics(Volume(data), profile="mrqy")
    assert list(report.slice_indices) == [1, 2]
    fg = data[12:36, 12:36, 1].astype(np.uint16)
    wrapped = np.median(fg**2)  # uint16 wrap-around, MRQy's defect
    assert wrapped != np.median(fg.astype(np.float64) ** 2)
    assert report.per_slice["FBER"][0] > 0 and math.isfinite(report.values["FBER"])
