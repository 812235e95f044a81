"""MetaImage, fastMRI HDF5 and 2D images, written from real scans (nibabel anatomical.nii, pydicom MR_small)."""

from __future__ import annotations

import h5py
import nibabel as nib
import numpy as np
import pydicom
import pytest
from PIL import Image

from mmrqa.io import load_volume
from mmrqa.io.fastmri import ifft2c


@pytest.fixture(scope="module")
def t2_slice(mr_small) -> np.ndarray:
    """A real 64x64 T2w slice as a (rows, cols) picture."""
    return pydicom.dcmread(mr_small).pixel_array.astype(np.float32)


@pytest.mark.parametrize("name", ["t1.mha", "t1.mhd"])
def test_metaimage_written_by_simpleitk(anatomical, tmp_path, name):
    sitk = pytest.importorskip("SimpleITK")
    raw = nib.load(anatomical)
    stored = np.asarray(raw.dataobj).astype(np.int16)
    image = sitk.GetImageFromArray(np.ascontiguousarray(stored.transpose(2, 1, 0)))  # ITK arrays are (z, y, x)
    image.SetSpacing((2.0, 2.0, 3.0))
    image.SetOrigin((5.0, -7.0, 11.0))
    image.SetDirection((1, 0, 0, 0, -1, 0, 0, 0, 1))
    path = tmp_path / name
    sitk.WriteImage(image, str(path), useCompression=name.endswith(".mha"))
    assert (b"CompressedData = True" in path.read_bytes()[:600]) == name.endswith(".mha")
    vol = load_volume(path, canonical=False)
    np.testing.assert_array_equal(vol.data, stored.astype(np.float32))
    assert vol.spacing == (2.0, 2.0, 3.0)
    # ITK's LPS world -> RAS: voxel (i, j, k) at (-(5 + 2i), -(-7 - 2j), 11 + 3k).
    np.testing.assert_allclose(vol.affine @ [1, 2, 3, 1], [-(5 + 2), 7 + 4, 11 + 9, 1])
    # Canonical: ITK direction y=-1 (P->A flipped) and LPS->RAS give an "LAS"-like store; canonical is RAS.
    canonical = load_volume(path)
    assert canonical.meta["orientation"] == "RAS"
    np.testing.assert_allclose(
        canonical.affine @ [*np.argwhere(canonical.data == canonical.data.max())[0], 1],
        vol.affine @ [*np.argwhere(vol.data == vol.data.max())[0], 1],
    )


def test_metaimage_handwritten_big_endian_header(anatomical, tmp_path):
    stored = np.asarray(nib.load(anatomical).dataobj).astype(">i2")
    header = (
        "ObjectType = Image\nNDims = 3\nDimSize = 33 41 25\nElementType = MET_SHORT\n"
        "BinaryDataByteOrderMSB = True\nElementSpacing = 2 2 2\nElementDataFile = t1.raw\n"
    )
    (tmp_path / "t1.mhd").write_text(header)
    (tmp_path / "t1.raw").write_bytes(stored.transpose(2, 1, 0).tobytes())
    vol = load_volume(tmp_path / "t1.mhd", canonical=False)
    np.testing.assert_array_equal(vol.data, stored.astype(np.float32))


def _kspace(images: np.ndarray, n_coils: int) -> np.ndarray:
    """Multi-coil k-space of real slices: smooth complex coil sensitivities, forward centred FFT."""
    rows, cols = images.shape[1:]
    yy, xx = np.mgrid[0:rows, 0:cols] / max(rows, cols)
    coils = []
    for c in range(n_coils):
        angle = 2 * np.pi * c / n_coils
        sens = np.exp(-((xx - 0.5 - 0.4 * np.cos(angle)) ** 2 + (yy - 0.5 - 0.4 * np.sin(angle)) ** 2))
        coils.append(sens * np.exp(1j * angle))
    coils = np.array(coils)
    coils /= np.sqrt((np.abs(coils) ** 2).sum(axis=0))  # RSS of sensitivities = 1: RSS image = original
    axes = (-2, -1)
    x = images[:, None] * coils[None]
    return np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(x, axes=axes), axes=axes, norm="ortho"), axes=axes)


def test_fastmri_reconstructs_rss_of_multicoil_kspace(t2_slice, tmp_path):
    images = np.stack([t2_slice, t2_slice[::-1]])
    kspace = _kspace(images, n_coils=4).astype(np.complex64)
    np.testing.assert_allclose(np.sqrt((np.abs(ifft2c(kspace[0])) ** 2).sum(0)), images[0], rtol=1e-3, atol=0.5)
    path = tmp_path / "file_brain.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("kspace", data=kspace)
        f.attrs["acquisition"] = "AXT2"
    vol = load_volume(path)
    assert vol.shape == (64, 64, 2) and vol.meta["reconstruction"] == "rss of kspace"
    assert vol.meta["acquisition"] == "AXT2" and vol.meta["phase_encoding_axis"] == 0
    np.testing.assert_allclose(vol.data[:, :, 0], images[0][::-1].T, rtol=1e-3, atol=0.5)
    np.testing.assert_allclose(vol.data[:, :, 1], images[1][::-1].T, rtol=1e-3, atol=0.5)


def test_fastmri_prefers_reconstruction_rss_and_reads_header(t2_slice, tmp_path):
    recon = np.stack([t2_slice, t2_slice * 2])
    header = (
        '<?xml version="1.0"?><ismrmrdHeader xmlns="http://www.ismrm.org/ISMRMRD">'
        "<acquisitionSystemInformation><systemVendor>SIEMENS</systemVendor>"
        "<systemFieldStrength_T>2.89362</systemFieldStrength_T></acquisitionSystemInformation>"
        "<encoding><reconSpace><matrixSize><x>64</x><y>64</y><z>1</z></matrixSize>"
        "<fieldOfView_mm><x>220</x><y>200</y><z>5</z></fieldOfView_mm></reconSpace></encoding>"
        "<sequenceParameters><TR>6000</TR><TE>113</TE></sequenceParameters></ismrmrdHeader>"
    )
    path = tmp_path / "file_brain_rss.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("kspace", data=np.zeros((2, 1, 64, 64), np.complex64))
        f.create_dataset("reconstruction_rss", data=recon)
        f.create_dataset("ismrmrd_header", data=np.bytes_(header))
    vol = load_volume(path)
    assert vol.meta["reconstruction"] == "reconstruction_rss"
    np.testing.assert_array_equal(vol.data[:, :, 1], (t2_slice * 2)[::-1].T)
    assert vol.spacing == pytest.approx((200 / 64, 220 / 64, 5.0))
    assert vol.meta["manufacturer"] == "SIEMENS" and vol.meta["field_strength"] == pytest.approx(2.89362)
    assert vol.meta["repetition_time"] == 6000 and vol.meta["echo_time"] == 113


def _uint8(picture: np.ndarray) -> np.ndarray:
    return np.round(255 * (picture - picture.min()) / np.ptp(picture)).astype(np.uint8)


@pytest.mark.parametrize("ext", ["png", "tiff"])
def test_lossless_gray_images_round_trip(t2_slice, tmp_path, ext):
    picture = _uint8(t2_slice)
    path = tmp_path / f"slice.{ext}"
    Image.fromarray(picture).save(path)
    vol = load_volume(path)
    assert vol.shape == (64, 64, 1) and vol.meta["format"] == ext and vol.spacing == (1.0, 1.0, 1.0)
    np.testing.assert_array_equal(vol.data[:, :, 0], picture[::-1].T)
    assert "orientation" not in vol.meta


def test_16bit_png_keeps_values(t2_slice, tmp_path):
    picture = t2_slice.astype(np.uint16)
    path = tmp_path / "slice16.png"
    Image.fromarray(picture).save(path)
    np.testing.assert_array_equal(load_volume(path).data[:, :, 0], picture[::-1].T)


def test_rgb_jpeg_becomes_luminance(t2_slice, tmp_path):
    gray = _uint8(t2_slice)
    rgb = np.stack([gray, gray, gray], axis=-1)
    path = tmp_path / "slice.jpg"
    Image.fromarray(rgb).save(path, quality=100)
    vol = load_volume(path)
    assert vol.meta["format"] == "jpeg"
    assert np.abs(vol.data[:, :, 0] - gray[::-1].T.astype(np.float32)).mean() < 2.0  # JPEG is lossy


def test_rgb_png_uses_bt601_weights(tmp_path):
    rgb = np.zeros((8, 8, 3), np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 200, 100, 50
    rgb[0, 0] = 0
    path = tmp_path / "rgb.png"
    Image.fromarray(rgb).save(path)
    assert load_volume(path).data.max() == pytest.approx(0.299 * 200 + 0.587 * 100 + 0.114 * 50, rel=1e-5)


def test_multipage_tiff_is_a_stack(t2_slice, tmp_path):
    pages = [Image.fromarray(_uint8(t2_slice)), Image.fromarray(_uint8(t2_slice.T))]
    path = tmp_path / "stack.tif"
    pages[0].save(path, save_all=True, append_images=pages[1:])
    vol = load_volume(path)
    assert vol.shape == (64, 64, 2)
    np.testing.assert_array_equal(vol.data[:, :, 1], _uint8(t2_slice.T)[::-1].T)
