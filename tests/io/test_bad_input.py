"""Every kind of bad input gets an MMRQAError subclass whose message names the file and the problem."""

from __future__ import annotations

import gzip
import os

import nibabel as nib
import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

from mmrqa.errors import (
    CorruptScanError,
    DimensionalityError,
    InvalidArgumentError,
    InvalidScanError,
    MMRQAError,
    ScanNotFoundError,
    ScanTooLargeError,
    UnsupportedFormatError,
)
from mmrqa.io import find_scans, load_volume


def _raises(exc_type, path, match, **kwargs):
    with pytest.raises(exc_type) as info:
        load_volume(path, **kwargs)
    assert str(path.name) in str(info.value)
    assert match.lower() in str(info.value).lower(), str(info.value)
    return info.value


def test_missing_path(tmp_path):
    _raises(ScanNotFoundError, tmp_path / "nope.nii.gz", "no such file")


def test_empty_file(tmp_path):
    (tmp_path / "empty.nii.gz").touch()
    _raises(CorruptScanError, tmp_path / "empty.nii.gz", "empty file")


@pytest.mark.parametrize(
    "name",
    [
        "noise.nii.gz",
        "noise.nii",
        "noise.mgz",
        "noise.dcm",
        "noise.mha",
        "noise.h5",
        "noise.png",
        "noise.jpg",
        "noise.tiff",
    ],
)
def test_random_bytes_with_scan_extension(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    _raises(CorruptScanError, path, "")


def test_truncated_nii_gz(anatomical, tmp_path):
    whole = gzip.compress(anatomical.read_bytes())
    path = tmp_path / "truncated.nii.gz"
    path.write_bytes(whole[: len(whole) // 2])
    _raises(CorruptScanError, path, "truncated")


def test_truncated_dicom(tmp_path):
    path = tmp_path / "MR_truncated.dcm"
    path.write_bytes(open(get_testdata_file("MR_truncated.dcm"), "rb").read())
    _raises(CorruptScanError, path, "pixel data")


def test_dicom_without_pixel_data(mr_small, tmp_path):
    ds = pydicom.dcmread(mr_small)
    del ds.PixelData
    path = tmp_path / "nopixels.dcm"
    ds.save_as(path)
    _raises(CorruptScanError, path, "no pixel data")


def test_dicom_without_image_at_all(mr_small, tmp_path):
    ds = pydicom.dcmread(mr_small)
    for keyword in ("PixelData", "Rows", "Columns"):
        delattr(ds, keyword)
    path = tmp_path / "report.dcm"
    ds.save_as(path)
    _raises(CorruptScanError, path, "no pixel data")


def test_folder_with_no_scans(tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "readme.txt").write_text("hello")
    _raises(ScanNotFoundError, folder, "holds no scan")
    with pytest.raises(ScanNotFoundError, match="notes: folder holds no scan"):
        find_scans([folder])


def test_5d_array(tmp_path):
    path = tmp_path / "five.nii.gz"
    nib.save(nib.Nifti1Image(np.random.default_rng(0).random((4, 4, 4, 2, 3), dtype=np.float32), np.eye(4)), path)
    _raises(DimensionalityError, path, "(4, 4, 4, 2, 3)", volume_index=0)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_all_nonfinite(tmp_path, value):
    path = tmp_path / "nan.nii.gz"
    nib.save(nib.Nifti1Image(np.full((8, 8, 8), value, np.float32), np.eye(4)), path)
    _raises(InvalidScanError, path, "all nan or inf")


def test_some_nan_are_zeroed_and_counted(tmp_path):
    data = np.random.default_rng(0).random((8, 8, 8), dtype=np.float32)
    data[0, 0, :3] = np.nan
    path = tmp_path / "somenan.nii.gz"
    nib.save(nib.Nifti1Image(data, np.eye(4)), path)
    vol = load_volume(path)
    assert vol.meta["nonfinite_voxels"] == 3 and np.isfinite(vol.data).all() and vol.data[0, 0, 0] == 0


def test_constant_image(tmp_path):
    path = tmp_path / "flat.nii.gz"
    nib.save(nib.Nifti1Image(np.full((8, 8, 8), 7, np.int16), np.eye(4)), path)
    _raises(InvalidScanError, path, "constant image")


def test_1x1x1_volume(tmp_path):
    path = tmp_path / "dot.nii"
    nib.save(nib.Nifti1Image(np.ones((1, 1, 1), np.float32), np.eye(4)), path)
    _raises(InvalidScanError, path, "too small")


def test_unsupported_extension(tmp_path):
    path = tmp_path / "scan.xyz"
    path.write_bytes(b"not a scan at all")
    _raises(UnsupportedFormatError, path, "unsupported file type .xyz")


def test_symlink_loop(tmp_path):
    a, b = tmp_path / "a.nii.gz", tmp_path / "b.nii.gz"
    os.symlink(b, a)
    os.symlink(a, b)
    _raises(ScanNotFoundError, a, "symbolic link loop")


def test_dangling_symlink(tmp_path):
    link = tmp_path / "gone.nii.gz"
    os.symlink(tmp_path / "missing.nii.gz", link)
    _raises(ScanNotFoundError, link, "dangling")


def test_too_large_is_refused_from_the_header(tmp_path, monkeypatch):
    """A header claiming 4096^3 voxels with only a few bytes of data: refused for size, never read."""
    header = nib.Nifti1Header()
    header.set_data_shape((4096, 4096, 4096))
    header.set_data_dtype(np.uint8)
    path = tmp_path / "huge.nii"
    path.write_bytes(header.binaryblock + b"\x00" * 4 + b"\x01" * 100)
    error = _raises(ScanTooLargeError, path, "over the memory budget")
    assert "(4096, 4096, 4096)" in str(error)
    small = tmp_path / "small.nii.gz"
    nib.save(nib.Nifti1Image(np.random.default_rng(0).random((32, 32, 32), dtype=np.float32), np.eye(4)), small)
    _raises(ScanTooLargeError, small, "over the memory budget", max_bytes=32**3 * 4 - 1)
    assert load_volume(small, max_bytes=32**3 * 4).shape == (32, 32, 32)
    monkeypatch.setenv("MMRQA_MAX_SCAN_BYTES", "1000")
    _raises(ScanTooLargeError, small, "over the memory budget")
    monkeypatch.setenv("MMRQA_MAX_SCAN_BYTES", "lots")
    with pytest.raises(InvalidArgumentError, match="MMRQA_MAX_SCAN_BYTES"):
        load_volume(small)


@pytest.mark.parametrize("kind", ["dicom", "png", "mha"])
def test_too_large_other_formats(mr_small, tmp_path, kind):
    from PIL import Image

    if kind == "dicom":
        path = mr_small
    elif kind == "png":
        path = tmp_path / "big.png"
        Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64), np.uint8)).save(path)
    else:
        path = tmp_path / "huge.mha"
        path.write_text("NDims = 3\nDimSize = 5000 5000 5000\nElementType = MET_UCHAR\nElementDataFile = LOCAL\n")
    with pytest.raises(ScanTooLargeError, match=path.name):
        load_volume(path, max_bytes=1000)


def test_every_failure_is_an_mmrqa_error(tmp_path):
    """Nothing escapes as a library exception: a half-written HDF5 and a damaged zlib MetaImage."""
    h5 = tmp_path / "cut.h5"
    import h5py

    with h5py.File(h5, "w") as f:
        f.create_dataset("reconstruction_rss", data=np.ones((2, 32, 32), np.float32))
    h5.write_bytes(h5.read_bytes()[:1000])
    mha = tmp_path / "bad.mha"
    mha.write_bytes(
        b"NDims = 2\nDimSize = 8 8\nElementType = MET_UCHAR\nCompressedData = True\n"
        b"ElementDataFile = LOCAL\n" + b"garbage-not-zlib"
    )
    for path in (h5, mha):
        with pytest.raises(MMRQAError, match=path.name):
            load_volume(path)
