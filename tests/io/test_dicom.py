"""DICOM loading: pydicom's MR_small, pydicom-data's MR2_UNCR and emri_small, and series folders made from them."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from pydicom.uid import generate_uid

from mmrqa.errors import AmbiguousSeriesError, DimensionalityError, InvalidArgumentError
from mmrqa.io import load_volume

SLICE_GAP = 1.2


def test_single_file_values_geometry_and_meta(mr_small):
    ds = pydicom.dcmread(mr_small)
    vol = load_volume(mr_small, canonical=False)
    assert vol.shape == (64, 64, 1)
    np.testing.assert_array_equal(vol.data[:, :, 0], ds.pixel_array.T.astype(np.float32))
    assert vol.spacing == pytest.approx((0.3125, 0.3125, 0.8))
    # Voxel (0, 0) sits at ImagePositionPatient, converted from LPS to RAS.
    ipp = np.array([float(v) for v in ds.ImagePositionPatient])
    np.testing.assert_allclose(vol.affine[:3, 3], ipp * [-1, -1, 1])
    assert vol.meta["orientation"] == "LPS"
    assert vol.meta["modality"] == "MR" and vol.meta["manufacturer"] == "TOSHIBA_MEC"
    assert vol.meta["repetition_time"] == 4000.0 and vol.meta["echo_time"] == 240.0
    canonical = load_volume(mr_small)
    assert canonical.meta["orientation"] == "RAS"
    np.testing.assert_array_equal(canonical.data, vol.data[::-1, ::-1])


def test_rescale_slope_intercept_and_phase_axis(mr2):
    ds = pydicom.dcmread(mr2)
    vol = load_volume(mr2)
    expected = ds.pixel_array.T.astype(np.float64) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    assert vol.shape == (1024, 1024, 1)  # a sagittal slice stays a slice
    np.testing.assert_allclose(vol.data[:, :, 0], expected, rtol=1e-6)
    assert vol.meta["phase_encoding_axis"] == 1  # InPlanePhaseEncodingDirection COL: along rows, array axis 1
    assert vol.meta["field_strength"] == 1.5


def test_enhanced_multiframe(emri_small):
    ds = pydicom.dcmread(emri_small)
    vol = load_volume(emri_small)
    assert vol.meta["format"] == "dicom_enhanced"
    assert vol.shape == (64, 64, 10)
    np.testing.assert_array_equal(vol.data, ds.pixel_array.transpose(2, 1, 0).astype(np.float32))
    assert vol.spacing[2] == pytest.approx(1.2)  # SpacingBetweenSlices
    assert vol.meta["field_strength"] == 3.0


def _write_series(folder, emri_small, *, order, uid=None, slope=1.0, echo=1, instance_offset=0):
    """Split emri_small's frames into single-frame files at z = k * 1.2 mm, written in ``order`` with
    file names and InstanceNumbers that do not follow the position."""
    src = pydicom.dcmread(emri_small)
    frames = src.pixel_array
    uid = uid or generate_uid()
    folder.mkdir(exist_ok=True)
    rng = np.random.default_rng(len(order) + echo)
    instances = rng.permutation(len(order)) + 1 + instance_offset
    for n, k in enumerate(order):
        ds = pydicom.dcmread(emri_small)
        ds.SOPClassUID = pydicom.uid.MRImageStorage
        ds.file_meta.MediaStorageSOPClassUID = pydicom.uid.MRImageStorage
        ds.SOPInstanceUID = generate_uid()
        ds.SeriesInstanceUID = uid
        del ds.NumberOfFrames
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [-10.0, 20.0, k * SLICE_GAP]
        ds.PixelSpacing = [0.9, 0.8]
        ds.InstanceNumber = int(instances[n])
        ds.EchoNumbers = echo
        ds.RescaleSlope = slope
        ds.RescaleIntercept = 0
        ds.PixelData = np.ascontiguousarray(frames[k]).tobytes()
        ds.save_as(folder / f"img_{rng.integers(1e6):07d}_{n}.dcm", enforce_file_format=True)
    return frames.astype(np.float32) * slope


def test_series_folder_sorted_by_position(emri_small, tmp_path):
    order = [7, 2, 9, 0, 4, 1, 8, 3, 6, 5]
    frames = _write_series(tmp_path / "series", emri_small, order=order, slope=2.0)
    vol = load_volume(tmp_path / "series", canonical=False)
    assert vol.meta["format"] == "dicom_series" and vol.meta["n_files"] == 10
    np.testing.assert_array_equal(vol.data, frames.transpose(2, 1, 0))
    assert vol.spacing == pytest.approx((0.8, 0.9, SLICE_GAP))
    np.testing.assert_allclose(vol.affine[:3, 3], [10.0, -20.0, 0.0])
    canonical = load_volume(tmp_path / "series")
    assert canonical.meta["orientation"] == "RAS"
    np.testing.assert_array_equal(canonical.data, vol.data[::-1, ::-1, :])


def test_several_series_are_listed_or_chosen(emri_small, tmp_path):
    uid_a, uid_b = generate_uid(), generate_uid()
    _write_series(tmp_path / "mixed", emri_small, order=[0, 1, 2], uid=uid_a)
    frames_b = _write_series(tmp_path / "mixed", emri_small, order=[3, 4, 5, 6], uid=uid_b, slope=3.0)
    with pytest.raises(AmbiguousSeriesError) as info:
        load_volume(tmp_path / "mixed")
    assert uid_a in str(info.value) and uid_b in str(info.value) and "mixed" in str(info.value)
    vol = load_volume(tmp_path / "mixed", series_uid=uid_b, canonical=False)
    np.testing.assert_array_equal(vol.data, frames_b[3:7].transpose(2, 1, 0))
    with pytest.raises(InvalidArgumentError, match="no series"):
        load_volume(tmp_path / "mixed", series_uid="1.2.3")


def test_two_echoes_per_position_is_4d(emri_small, tmp_path):
    uid = generate_uid()
    _write_series(tmp_path / "me", emri_small, order=[0, 1, 2], uid=uid, echo=1)
    echo2 = _write_series(tmp_path / "me", emri_small, order=[0, 1, 2], uid=uid, echo=2, slope=5.0)
    with pytest.raises(DimensionalityError, match=r"\(64, 64, 3, 2\)"):
        load_volume(tmp_path / "me")
    vol = load_volume(tmp_path / "me", volume_index=1, canonical=False)
    np.testing.assert_array_equal(vol.data, echo2[:3].transpose(2, 1, 0))
