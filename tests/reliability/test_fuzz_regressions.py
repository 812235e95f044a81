"""Regression tests for the crashes the reader fuzzer found (benchmarks/RESULTS.md, "Reliability").

Each test builds the hostile file explicitly from a real sample and checks the fixed behaviour: an ``MMRQAError``
subclass whose message names the file and the problem, within the memory budget.
"""

from __future__ import annotations

import gzip
import io
import struct
import tracemalloc

import h5py
import nibabel as nib
import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.data import get_testdata_file

from mmrqa.errors import CorruptScanError, InvalidScanError, MMRQAError, ScanTooLargeError
from mmrqa.io import load_volume
from mmrqa.volume import Volume


def _anatomical() -> nib.Nifti1Image:
    import importlib.resources

    return nib.load(str(importlib.resources.files("nibabel.tests") / "data" / "anatomical.nii"))


def _raises(exc_type, path, match, **kwargs):
    with pytest.raises(exc_type) as info:
        load_volume(path, **kwargs)
    assert path.name in str(info.value)
    assert match.lower() in str(info.value).lower(), str(info.value)


def _peak_bytes(func) -> int:
    tracemalloc.start()
    try:
        func()
    except MMRQAError:
        pass
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


# ---------------------------------------------------------------------------------------------- DICOM


def test_dicom_huge_element_length_does_not_allocate_it(tmp_path):
    """A PixelData length of 0xFFFFFFF0 in an 8 KiB file made pydicom allocate 4 GiB (read(length) on a file)."""
    raw = bytearray(open(get_testdata_file("MR_small.dcm"), "rb").read())
    at = raw.index(b"\xe0\x7f\x10\x00OW\x00\x00") + 8
    raw[at : at + 4] = struct.pack("<I", 0xFFFFFFF0)
    path = tmp_path / "huge_length.dcm"
    path.write_bytes(bytes(raw))
    assert _peak_bytes(lambda: load_volume(path)) < 32 * 2**20
    # the read stops at the end of the file: the 64x64 image is all there (pydicom drops the excess bytes)
    original = load_volume(get_testdata_file("MR_small.dcm"))
    np.testing.assert_array_equal(load_volume(path).data, original.data)


def test_dicom_unknown_vr_is_a_corrupt_file(tmp_path):
    """An unknown VR ('MO') used to fail lazily, outside the reader, as NotImplementedError on first access."""
    raw = open(get_testdata_file("MR_small.dcm"), "rb").read()
    manufacturer = b"\x08\x00\x70\x00LO"
    assert manufacturer in raw
    path = tmp_path / "unknown_vr.dcm"
    path.write_bytes(raw.replace(manufacturer, b"\x08\x00\x70\x00MO", 1))
    _raises(CorruptScanError, path, "Unknown Value Representation")


def test_dicom_series_with_one_damaged_file_is_refused_clearly(tmp_path):
    folder = tmp_path / "series"
    folder.mkdir()
    for k in range(3):
        ds = pydicom.dcmread(get_testdata_file("MR_small.dcm"))
        ds.ImagePositionPatient = [0.0, 0.0, 5.0 * k]
        ds.save_as(folder / f"im{k}.dcm")
    raw = (folder / "im1.dcm").read_bytes()
    (folder / "im1.dcm").write_bytes(raw.replace(b"\x08\x00\x70\x00LO", b"\x08\x00\x70\x00MO", 1))
    volume = load_volume(folder)  # the damaged file is skipped with a warning, the other two slices load
    assert volume.shape[2] == 2


# ---------------------------------------------------------------------------------------------- NIfTI / MGH


def test_nifti_named_mgz_is_a_corrupt_file(tmp_path):
    """nibabel's MGHError (not a ValueError) escaped when a NIfTI was saved under a .mgz name."""
    path = tmp_path / "really_nifti.mgz"
    path.write_bytes(gzip.compress(_anatomical().to_bytes()))
    _raises(CorruptScanError, path, "NIfTI/MGH")


def test_nifti_unsupported_datatype_code(tmp_path):
    """Datatype 1536 (float128) raises nibabel's HeaderDataError, which escaped the reader."""
    raw = bytearray(_anatomical().to_bytes())
    raw[70:72] = struct.pack(">h", 1536)  # anatomical.nii is big-endian
    path = tmp_path / "float128.nii"
    path.write_bytes(bytes(raw))
    _raises(CorruptScanError, path, "not supported")


@pytest.mark.parametrize("value", [float("nan"), 0.0])
def test_nifti_degenerate_affine(tmp_path, value):
    """A NaN or zero sform made nibabel's orientation code fail (SVD did not converge / cannot drop coordinates)."""
    img = _anatomical()
    out = nib.Nifti1Image(np.asarray(img.dataobj), img.affine)
    out.set_qform(None, code=0)
    raw = bytearray(out.to_bytes())  # little-endian; nibabel refuses to set such an sform itself
    raw[254:256] = struct.pack("<h", 1)  # sform_code: scanner
    for row in range(3):  # srow_x/y/z[0]: the first column of the affine
        raw[280 + 16 * row : 284 + 16 * row] = struct.pack("<f", value)
    path = tmp_path / "bad_affine.nii"
    path.write_bytes(bytes(raw))
    _raises(CorruptScanError, path, "voxel-to-world")


# ---------------------------------------------------------------------------------------------- MetaImage


def _mha(tmp_path, **fields: str):
    header = {
        "ObjectType": "Image",
        "NDims": "3",
        "DimSize": "8 8 2",
        "ElementType": "MET_USHORT",
        "ElementSpacing": "1 1 1",
        "TransformMatrix": "1 0 0 0 1 0 0 0 1",
        **fields,
    }
    header.setdefault("ElementDataFile", "LOCAL")
    text = "".join(f"{k} = {v}\n" for k, v in header.items() if k != "ElementDataFile")
    text += f"ElementDataFile = {header['ElementDataFile']}\n"
    payload = np.arange(128, dtype="<u2").tobytes()
    path = tmp_path / "scan.mhd"
    if header["ElementDataFile"] == "LOCAL":
        path = tmp_path / "scan.mha"
        path.write_bytes(text.encode() + payload)
    else:
        path.write_bytes(text.encode())
    return path, payload


@pytest.mark.parametrize("source", ["/etc/passwd", "../outside.raw", "sub/../../outside.raw"])
def test_metaimage_data_file_outside_the_folder_is_refused(tmp_path, source):
    """ElementDataFile could name any readable file (path traversal): a public Space would leak server files."""
    (tmp_path / "outside.raw").write_bytes(b"\x01\x00" * 128)
    inner = tmp_path / "upload"
    inner.mkdir()
    path, _ = _mha(inner, ElementDataFile=source)
    _raises(CorruptScanError, path, "outside the header's folder")


def test_metaimage_data_file_with_a_nul_byte(tmp_path):
    """Found by the 10,000-case run: open() raised ValueError('embedded null byte') outside the reader's checks."""
    path, _ = _mha(tmp_path, ElementDataFile="scan\x00.raw")
    _raises(CorruptScanError, path, "NUL byte")


def test_metaimage_data_file_next_to_the_header_still_loads(tmp_path):
    path, payload = _mha(tmp_path, ElementDataFile="scan.raw")
    (tmp_path / "scan.raw").write_bytes(payload)
    assert load_volume(path).shape == (8, 8, 2)


def test_metaimage_nan_direction_matrix(tmp_path):
    path, _ = _mha(tmp_path, TransformMatrix="nan 0 0 0 1 0 0 0 1")
    _raises(CorruptScanError, path, "non-finite voxel-to-world")


def test_metaimage_non_integer_header_size(tmp_path):
    path, _ = _mha(tmp_path, HeaderSize="abc")
    _raises(CorruptScanError, path, "HeaderSize")


# ---------------------------------------------------------------------------------------------- fastMRI


def _h5(tmp_path, name: str, **datasets) -> object:
    path = tmp_path / name
    with h5py.File(path, "w") as handle:
        for key, spec in datasets.items():
            if isinstance(spec, tuple):  # declared, never written: a tiny file claiming a huge dataset
                handle.create_dataset(key, shape=spec[0], dtype=spec[1], chunks=(1,) * len(spec[0]))
            else:
                handle.create_dataset(key, data=spec)
    return path


def test_fastmri_many_coils_refused_before_reading(tmp_path):
    """The budget counted slices x rows x cols but not coils: 100,000 declared coils meant a 3 GiB slice read."""
    path = _h5(tmp_path, "coils.h5", kspace=((1, 100_000, 64, 64), np.complex64))
    _raises(ScanTooLargeError, path, "kspace slice")
    assert _peak_bytes(lambda: load_volume(path)) < 32 * 2**20


@pytest.mark.parametrize("key", ["kspace", "reconstruction_rss"])
def test_fastmri_without_slices(tmp_path, key):
    """Zero slices reached np.stack([]) (ValueError) after the reader's error handling."""
    dtype = np.complex64 if key == "kspace" else np.float32
    path = _h5(tmp_path, "empty.h5", **{key: np.zeros((0, 64, 64), dtype=dtype)})
    _raises(InvalidScanError, path, "holds no image")


def test_fastmri_damaged_hdf5_structure(tmp_path):
    """HDF5 library errors surface as RuntimeError in h5py (e.g. 'bad heap free list'): now a corrupt file."""
    good = _h5(tmp_path, "good.h5", reconstruction_rss=np.ones((2, 16, 16), np.float32))
    raw = bytearray(good.read_bytes())
    heap = raw.index(b"HEAP")  # the root group's local heap: damage its free-list offset
    raw[heap + 16 : heap + 24] = b"\xf0" * 8
    path = tmp_path / "damaged.h5"
    path.write_bytes(bytes(raw))
    with pytest.raises(MMRQAError) as info:
        load_volume(path)
    assert "damaged.h5" in str(info.value)


def test_fastmri_nan_field_of_view(tmp_path):
    """A NaN field of view in the ISMRMRD header gave a NaN voxel size."""
    from fuzz_corpus import ISMRMRD_HEADER

    header = ISMRMRD_HEADER.format(rows=16, cols=16, fov="nan").encode()
    path = _h5(
        tmp_path,
        "nanfov.h5",
        reconstruction_rss=np.arange(512, dtype=np.float32).reshape(2, 16, 16),
        ismrmrd_header=header,
    )
    _raises(CorruptScanError, path, "voxel size")


# ---------------------------------------------------------------------------------------------- images


def test_tiff_without_image_width(tmp_path):
    """Pillow raises KeyError/TypeError (not OSError) for a TIFF missing a required tag."""
    buffer = io.BytesIO()
    Image.fromarray(np.arange(256, dtype=np.uint16).reshape(16, 16)).save(buffer, format="TIFF")
    raw = bytearray(buffer.getvalue())
    ifd = struct.unpack("<I", raw[4:8])[0]
    for k in range(struct.unpack("<H", raw[ifd : ifd + 2])[0]):
        entry = ifd + 2 + 12 * k
        if struct.unpack("<H", raw[entry : entry + 2])[0] == 256:  # ImageWidth -> an unknown private tag
            raw[entry : entry + 2] = struct.pack("<H", 65000)
    path = tmp_path / "no_width.tiff"
    path.write_bytes(bytes(raw))
    _raises(CorruptScanError, path, "image")


# ---------------------------------------------------------------------------------------------- metrics


def test_metrics_refuse_intensities_near_the_float32_limit():
    """Values near 3.4e38 overflowed histogram ranges (IndexError / 'too many bins') inside the metrics."""
    from mmrqa.metrics import compute_metrics

    data = np.random.default_rng(0).uniform(-3.3e38, 3.3e38, size=(32, 32, 4)).astype(np.float32)
    for profile in ("default", "mrqy"):
        with pytest.raises(InvalidScanError, match="not MR magnitudes"):
            compute_metrics(Volume(data, meta={"source": "huge.nii"}), profile=profile)


def test_metrics_of_a_nearly_constant_scan():
    """Two intensities one float32 step apart: np.histogram in float32 had no 512 distinct bin edges."""
    from mmrqa.metrics import compute_metrics

    data = np.full((32, 32, 4), 1000.0, dtype=np.float32)
    data[8:24, 8:24, :] = np.nextafter(np.float32(1000.0), np.float32(2000.0))
    try:
        report = compute_metrics(Volume(data), profile="default")
    except InvalidScanError:
        return
    assert all(isinstance(v, float) for v in report.values.values())


def test_metrics_with_one_huge_bright_region():
    """A bit flip in an MGZ made a constant 2.6e13 head region: 512 float64 bins of a 1.0-wide range collapsed."""
    from mmrqa.metrics import compute_metrics

    data = np.random.default_rng(0).normal(10.0, 1.0, size=(32, 32, 8)).astype(np.float32)
    data[8:24, 8:24, 2:6] = 2.5551297e13
    report = compute_metrics(Volume(data), profile="default")
    assert all(isinstance(v, float) for v in report.values.values())


def test_dicom_series_file_whose_pixels_disagree_with_its_header(tmp_path):
    """A series file whose pixel data decodes to another shape than its Rows/Columns crashed np.stack."""
    folder = tmp_path / "series"
    folder.mkdir()
    for k in range(3):
        ds = pydicom.dcmread(get_testdata_file("MR_small.dcm"))
        ds.ImagePositionPatient = [0.0, 0.0, 5.0 * k]
        if k == 1:  # twice the pixel bytes: pydicom decodes two 64x64 frames from a single-frame header
            ds.PixelData = bytes(ds.PixelData) * 2
        ds.save_as(folder / f"im{k}.dcm")
    with pytest.raises(CorruptScanError, match="does not match the series' 64x64 images") as info:
        load_volume(folder)
    assert "im1.dcm" in str(info.value)


def test_efc_of_values_whose_float32_squares_underflow_is_computed_not_a_crash():
    """Fuzz case nifti1/nifti_header/4043408893: a scl_slope of ~1e-25 left voxels whose squares are 0 in float32."""
    import math

    from mmrqa.metrics.anatomical import efc

    data = np.linspace(1e-25, 3e-25, 1000, dtype=np.float32)
    value = efc(data)
    assert math.isfinite(value)
    assert value == efc(data.astype(np.float64))  # the float64 path, where the squares do not underflow
