"""The verdict does not depend on the orientation the loader chose: the classifier reads a scan in its stored
(acquisition) axis order, so a coronal or sagittal acquisition's ghosts and k-space lines stay in-plane."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest

from mmrqa.classifier import scan_features
from mmrqa.classifier.features import decimate
from mmrqa.io import load_volume
from mmrqa.volume import Volume, acquisition_order

#: a coronal acquisition: stored axes are L, S, A (slices along the anterior axis), 1 x 1 x 3 mm
CORONAL = np.array([[-1.0, 0, 0, 60], [0, 0, 3.0, -80], [0, 1.0, 0, -40], [0, 0, 0, 1]])


@pytest.fixture
def coronal_file(tmp_path):
    rng = np.random.default_rng(0)
    x, y, z = np.meshgrid(np.linspace(-1, 1, 80), np.linspace(-1, 1, 72), np.linspace(-1, 1, 20), indexing="ij")
    head = (x**2 + y**2 + (z / 1.2) ** 2 < 0.7).astype(np.float32) * (800 + 200 * x)
    data = np.abs(head + rng.normal(0, 20, head.shape) + 1j * rng.normal(0, 20, head.shape)).astype(np.float32)
    path = tmp_path / "coronal.nii.gz"
    nib.save(nib.Nifti1Image(data, CORONAL), path)
    return path, data


def test_loading_records_the_stored_axes_and_acquisition_order_undoes_them(coronal_file):
    path, stored = coronal_file
    canonical = load_volume(path)
    assert canonical.shape == (80, 20, 72)  # RAS+: the 3 mm slice axis moved to the middle
    assert canonical.meta["stored_axes"] == [0, 2, 1]
    back = acquisition_order(canonical)
    assert back.shape == stored.shape and back.spacing == pytest.approx((1.0, 1.0, 3.0))
    assert "stored_axes" not in back.meta
    # the stored voxels up to flips (which no feature sees), each at its world position
    flips = [tuple(slice(None, None, -1) if f else slice(None) for f in fl) for fl in np.ndindex(2, 2, 2)]
    assert any(np.array_equal(back.data, stored[f]) for f in flips)
    for voxel in [(5, 7, 3), (60, 40, 15)]:
        world = back.affine @ [*voxel, 1]
        index = np.round(np.linalg.solve(canonical.affine, world)[:3]).astype(int)
        assert back.data[voxel] == canonical.data[tuple(index)]


def test_volume_without_stored_axes_is_kept_as_it_is():
    volume = Volume(np.ones((8, 9, 10), np.float32))
    assert acquisition_order(volume) is volume


def test_features_are_the_same_for_the_canonical_and_the_stored_load(coronal_file):
    path, _ = coronal_file
    canonical, stored = load_volume(path), load_volume(path, canonical=False)
    assert decimate(canonical).shape == decimate(stored).shape == (80, 72, 20)
    a, b = scan_features(canonical), scan_features(stored)
    assert a.keys() == b.keys()
    for name in a:
        assert a[name] == pytest.approx(b[name], rel=1e-3, abs=1e-6, nan_ok=True), name


def test_metrics_are_measured_on_the_acquired_slices(coronal_file):
    """The default profile measures the acquired plane: per-slice values over the 20 stored (coronal) slices, and
    every value the same for the canonical and the stored load (the in-plane measures would otherwise read the 3 mm
    slice axis as a phase-encoding axis)."""
    from mmrqa.metrics import compute_metrics

    path, _ = coronal_file
    canonical, stored = compute_metrics(load_volume(path)), compute_metrics(load_volume(path, canonical=False))
    assert canonical.meta["shape"] == stored.meta["shape"] == (80, 72, 20)
    assert len(canonical.slice_indices) == 20
    for name, value in canonical.values.items():
        assert value == pytest.approx(stored.values[name], rel=1e-4, abs=1e-6, nan_ok=True), name
