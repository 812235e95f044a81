"""fastMRI HDF5 (``.h5``): the ``reconstruction_rss`` magnitude images, else a reconstruction of ``kspace``.

fastMRI files (Zbontar et al. 2018, arXiv:1811.08839) hold ``kspace`` as complex
``(slices, coils, kx, ky)`` (multi-coil) or ``(slices, kx, ky)`` (single-coil) and, for the training and validation
sets, ``reconstruction_rss`` as ``(slices, rows, cols)``. Without it each coil image is the centred, orthonormal
2D inverse FFT ``fftshift(ifft2(ifftshift(k)))`` and the coils are combined by root sum of squares
``sqrt(sum_c |x_c|^2)`` (Roemer et al. 1990, MRM 16:192), then centre-cropped to the ``reconSpace`` matrix of the
``ismrmrd_header`` (removing readout oversampling), as the fastMRI reference code does. Voxel size comes from the
header's ``reconSpace`` field of view; field strength, TR/TE and vendor too when present. The phase-encoding
direction of fastMRI k-space is its last axis (the one undersampling masks act on), i.e. image columns.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np

from mmrqa.errors import CorruptScanError, InvalidScanError, ScanTooLargeError
from mmrqa.io.common import MAX_BYTES_ENV, Decoded, check_budget
from mmrqa.io.image2d import picture_to_xy

# h5py (~0.2 s) is imported where a file is read.

logger = logging.getLogger(__name__)

EXTENSIONS = (".h5", ".hdf5")
#: Bytes per k-space sample while reconstructing (the inverse FFT works in complex128).
KSPACE_WORK_ITEMSIZE = 16


def read(path: Path, *, max_bytes: int, **_: Any) -> Decoded:
    """Read ``reconstruction_rss`` or reconstruct ``kspace`` slice by slice (bounded memory)."""
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            header = _parse_header(handle)
            meta: dict[str, Any] = {"format": "fastmri", "source": str(path), **header.pop("meta")}
            meta.update({k: _plain(v) for k, v in handle.attrs.items() if k in ("acquisition", "patient_id")})
            if "reconstruction_rss" in handle:
                images = _read_rss(path, handle["reconstruction_rss"], max_bytes)
                meta["reconstruction"] = "reconstruction_rss"
            elif "kspace" in handle:
                images = _reconstruct(path, handle["kspace"], header.get("recon_size"), max_bytes)
                meta["reconstruction"] = "rss of kspace"
            else:
                raise InvalidScanError(f"{path}: HDF5 file has neither 'reconstruction_rss' nor 'kspace'")
    except (OSError, KeyError, ValueError, TypeError, RuntimeError, AttributeError, IndexError, OverflowError) as exc:
        # h5py reports HDF5 library failures on damaged files as RuntimeError (e.g. "bad heap free list")
        raise CorruptScanError(f"{path}: not a readable fastMRI HDF5 file ({exc})") from exc
    data = np.stack([picture_to_xy(image) for image in images], axis=2)
    meta["phase_encoding_axis"] = 0  # k-space columns -> image columns -> array X
    spacing = header.get("spacing", (1.0, 1.0, 1.0))
    return Decoded(data=data, affine=None, spacing=spacing, meta=meta)


def _read_rss(path: Path, dataset: Any, max_bytes: int) -> np.ndarray:
    if dataset.ndim != 3:
        raise InvalidScanError(f"{path}: reconstruction_rss has shape {dataset.shape}, expected (slices, rows, cols)")
    _check_not_empty(path, "reconstruction_rss", dataset.shape)
    check_budget(path, (dataset.shape[2], dataset.shape[1], dataset.shape[0]), max_bytes)
    return np.asarray(dataset[()], dtype=np.float32)


def _check_not_empty(path: Path, name: str, shape: tuple[int, ...]) -> None:
    if 0 in shape:
        raise InvalidScanError(f"{path}: {name} has shape {tuple(shape)}: it holds no image")


def _reconstruct(path: Path, kspace: Any, recon_size: tuple[int, int] | None, max_bytes: int) -> np.ndarray:
    if kspace.ndim not in (3, 4) or not np.issubdtype(kspace.dtype, np.complexfloating):
        raise InvalidScanError(f"{path}: kspace has shape {kspace.shape} and dtype {kspace.dtype}, expected complex")
    _check_not_empty(path, "kspace", kspace.shape)
    # One slice is read and transformed at a time: all its coils as complex128 (16 bytes a sample) must fit too.
    slice_bytes = int(np.prod(kspace.shape[1:], dtype=np.float64)) * KSPACE_WORK_ITEMSIZE
    if slice_bytes > max_bytes:
        raise ScanTooLargeError(
            f"{path}: a kspace slice of shape {tuple(kspace.shape[1:])} needs {slice_bytes / 2**20:.0f} MiB to "
            f"reconstruct, over the memory budget of {max_bytes / 2**20:.0f} MiB (raise max_bytes or ${MAX_BYTES_ENV})"
        )
    rows, cols = kspace.shape[-2:]
    if recon_size is not None:
        rows, cols = min(rows, recon_size[0]), min(cols, recon_size[1])
    check_budget(path, (cols, rows, kspace.shape[0]), max_bytes)
    images = []
    for index in range(kspace.shape[0]):
        k = np.asarray(kspace[index])
        if k.ndim == 2:
            k = k[np.newaxis]
        images.append(center_crop(rss(ifft2c(k)), (rows, cols)))
    return np.stack(images).astype(np.float32)


def ifft2c(kspace: np.ndarray) -> np.ndarray:
    """Centred orthonormal 2D inverse FFT over the last two axes."""
    axes = (-2, -1)
    return np.fft.fftshift(np.fft.ifft2(np.fft.ifftshift(kspace, axes=axes), axes=axes, norm="ortho"), axes=axes)


def rss(coil_images: np.ndarray) -> np.ndarray:
    """Root sum of squares over the coil axis (axis 0)."""
    return np.sqrt((np.abs(coil_images) ** 2).sum(axis=0))


def center_crop(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    top = (image.shape[0] - size[0]) // 2
    left = (image.shape[1] - size[1]) // 2
    return image[top : top + size[0], left : left + size[1]]


def _parse_header(handle: Any) -> dict[str, Any]:
    """Recon matrix, voxel size and scanner metadata from the ISMRMRD XML header, when there is one."""
    out: dict[str, Any] = {"meta": {}}
    if "ismrmrd_header" not in handle:
        return out
    try:
        root = ET.fromstring(bytes(np.asarray(handle["ismrmrd_header"][()]).tobytes()).rstrip(b"\x00"))
    except (ET.ParseError, ValueError) as exc:
        logger.warning("unreadable ismrmrd_header: %s", exc)
        return out

    def number(xpath: str) -> float | None:
        node = root.find(xpath)
        try:
            return float(node.text) if node is not None and node.text else None
        except ValueError:
            return None

    matrix = [number(f".//{{*}}reconSpace/{{*}}matrixSize/{{*}}{a}") for a in "xyz"]
    fov = [number(f".//{{*}}reconSpace/{{*}}fieldOfView_mm/{{*}}{a}") for a in "xyz"]
    if matrix[0] and matrix[1]:
        out["recon_size"] = (int(matrix[0]), int(matrix[1]))  # (rows, cols) of the fastMRI image
        if fov[0] and fov[1]:
            out["spacing"] = (fov[1] / matrix[1], fov[0] / matrix[0], fov[2] or 1.0)
    fields = {
        "field_strength": number(".//{*}systemFieldStrength_T"),
        "repetition_time": number(".//{*}sequenceParameters/{*}TR"),
        "echo_time": number(".//{*}sequenceParameters/{*}TE"),
    }
    out["meta"].update({k: v for k, v in fields.items() if v})
    vendor = root.find(".//{*}systemVendor")
    if vendor is not None and vendor.text:
        out["meta"]["manufacturer"] = vendor.text.strip()
    return out


def _plain(value: Any) -> Any:
    return value.decode() if isinstance(value, bytes) else value.item() if isinstance(value, np.generic) else value
