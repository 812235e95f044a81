"""NIfTI-1/2 and MGH/MGZ loading on nibabel's real T1 (anatomical.nii) and EPI (example4d.nii.gz)."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest

from mmrqa.errors import DimensionalityError, InvalidArgumentError
from mmrqa.io import load_volume


def _world(affine, ijk):
    return (affine @ np.c_[ijk, np.ones(len(ijk))].T).T[:, :3]


def test_anatomical_canonical_is_ras_and_keeps_world_positions(anatomical):
    raw = nib.load(anatomical)
    assert nib.aff2axcodes(raw.affine) == ("L", "A", "S")
    vol = load_volume(anatomical)
    assert vol.shape == (33, 41, 25)
    assert vol.meta["format"] == "nifti" and vol.meta["orientation"] == "RAS"
    assert vol.spacing == (2.0, 2.0, 2.0)
    stored = np.asarray(raw.dataobj, dtype=np.float32)
    np.testing.assert_array_equal(vol.data, stored[::-1])  # LAS -> RAS flips x only
    # The same voxel value sits at the same world position in both arrays.
    ijk = np.array([[3, 5, 7], [30, 2, 20]])
    flipped = ijk.copy()
    flipped[:, 0] = 32 - ijk[:, 0]
    np.testing.assert_allclose(_world(vol.affine, flipped), _world(raw.affine, ijk))


def test_not_canonical_keeps_stored_array(anatomical):
    vol = load_volume(anatomical, canonical=False)
    raw = nib.load(anatomical)
    np.testing.assert_array_equal(vol.data, np.asarray(raw.dataobj, dtype=np.float32))
    np.testing.assert_allclose(vol.affine, raw.affine)
    assert vol.meta["orientation"] == "LAS"


def test_permuted_and_flipped_copy_loads_equal_to_original(anatomical, tmp_path):
    raw = nib.load(anatomical)
    data = np.asarray(raw.dataobj)
    # Swap the first two axes and flip the new second axis; adjust the affine so the world is unchanged.
    new_data = np.flip(data.transpose(1, 0, 2), axis=1)
    perm = np.array([[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], dtype=float)
    flip = np.diag([1.0, -1.0, 1.0, 1.0])
    flip[1, 3] = new_data.shape[1] - 1
    new_affine = raw.affine @ perm @ flip
    path = tmp_path / "permuted.nii.gz"
    nib.save(nib.Nifti1Image(new_data, new_affine), path)
    vol = load_volume(path)
    ref = load_volume(anatomical)
    np.testing.assert_array_equal(vol.data, ref.data)
    np.testing.assert_allclose(vol.affine, ref.affine, atol=1e-6)


def test_scl_slope_and_inter_are_applied(anatomical, tmp_path):
    data = np.asarray(nib.load(anatomical).dataobj).astype(np.int16)
    img = nib.Nifti1Image(data, np.eye(4))
    img.header.set_slope_inter(2.5, 10.0)
    path = tmp_path / "scaled.nii"
    nib.save(img, path)
    vol = load_volume(path, canonical=False)
    np.testing.assert_allclose(vol.data, data * 2.5 + 10.0)


def test_nifti2(anatomical, tmp_path):
    raw = nib.load(anatomical)
    path = tmp_path / "t1.nii.gz"
    nib.save(nib.Nifti2Image(np.asarray(raw.dataobj), raw.affine), path)
    vol = load_volume(path)
    assert vol.meta["format"] == "nifti2"
    np.testing.assert_array_equal(vol.data, load_volume(anatomical).data)


def test_mgz_from_anatomical(anatomical, tmp_path):
    raw = nib.load(anatomical)
    path = tmp_path / "t1.mgz"
    nib.save(nib.MGHImage(np.asarray(raw.dataobj).astype(np.float32), raw.affine), path)
    vol = load_volume(path)
    assert vol.meta["format"] == "mgh"
    np.testing.assert_array_equal(vol.data, load_volume(anatomical).data)
    np.testing.assert_allclose(vol.affine, load_volume(anatomical).affine, atol=1e-4)


def test_4d_needs_volume_index(example4d):
    with pytest.raises(DimensionalityError, match=r"example4d.nii.gz.*\(128, 96, 24, 2\)"):
        load_volume(example4d)
    vol = load_volume(example4d, volume_index=1, canonical=False)
    expected = np.asarray(nib.load(example4d).dataobj[..., 1], dtype=np.float32)
    np.testing.assert_array_equal(vol.data, expected)
    assert vol.meta["volume_index"] == 1
    with pytest.raises(InvalidArgumentError, match="out of range"):
        load_volume(example4d, volume_index=2)


def test_trailing_singleton_dim_is_3d(tmp_path, anatomical):
    data = np.asarray(nib.load(anatomical).dataobj)[..., np.newaxis]
    path = tmp_path / "t1_4d1.nii.gz"
    nib.save(nib.Nifti1Image(data, np.eye(4)), path)
    assert load_volume(path).shape == (33, 41, 25)


@pytest.mark.parametrize(("phase_dim", "swap", "expected"), [(1, False, 1), (0, False, 0), (0, True, 1)])
def test_phase_encoding_axis_from_dim_info(anatomical, tmp_path, phase_dim, swap, expected):
    raw = nib.load(anatomical)
    data, affine = np.asarray(raw.dataobj), raw.affine
    if swap:  # stored (y, x, z): canonical reorientation moves stored axis 0 to axis 1
        data = data.transpose(1, 0, 2)
        affine = affine[:, [1, 0, 2, 3]]
    img = nib.Nifti1Image(data, affine)
    img.header.set_dim_info(freq=1 - phase_dim, phase=phase_dim, slice=2)
    path = tmp_path / "pe.nii.gz"
    nib.save(img, path)
    assert load_volume(path).meta["phase_encoding_axis"] == expected
    assert load_volume(path, canonical=False).meta["phase_encoding_axis"] == phase_dim


def test_real_clinical_tcia_t2w_if_present():
    from mmrqa.data import tcia_dir

    folder = tcia_dir()
    if folder is None or not any(folder.glob("*_T2w.nii.gz")):
        pytest.skip("shared TCIA data not present")
    path = sorted(folder.glob("*_T2w.nii.gz"))[0]
    vol = load_volume(path)
    stored = load_volume(path, canonical=False)
    assert vol.meta["orientation"] == "RAS" and vol.data.size == stored.data.size
    assert sorted(vol.shape[:2]) == sorted(stored.shape[:2]) and max(vol.shape) >= 256
    assert np.isclose(vol.data.sum(dtype=np.float64), stored.data.sum(dtype=np.float64), rtol=1e-6)
