"""Checks and geometry shared by every reader: paths, memory budget, dimensionality, orientation, values.

A reader decodes its format into a :class:`Decoded` (an array in the stored voxel order, the voxel-to-world affine
when the header has one, and metadata); :func:`finalize` turns it into a :class:`~mmrqa.volume.Volume`, reorienting
to RAS+ when asked and refusing content that cannot be assessed. Keeping these steps here means every format fails
the same way for the same problem.
"""

from __future__ import annotations

import errno
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mmrqa.errors import (
    CorruptScanError,
    DimensionalityError,
    InvalidArgumentError,
    InvalidScanError,
    ScanNotFoundError,
    ScanTooLargeError,
)
from mmrqa.volume import Volume, in_layout_of

# nibabel (~0.7 s) is imported where an orientation is computed, so readers that do not need it start fast.

logger = logging.getLogger(__name__)

#: Default memory budget: 2 GiB of float32 output (a 812^3 volume), overridable by ``MMRQA_MAX_SCAN_BYTES``.
DEFAULT_MAX_BYTES = 2 * 1024**3
MAX_BYTES_ENV = "MMRQA_MAX_SCAN_BYTES"
#: Bytes per output voxel: volumes are returned as float32.
OUTPUT_ITEMSIZE = 4


@dataclass
class Decoded:
    """What a format reader returns before the common checks.

    Attributes:
        data: array in the stored voxel order, 3 dims (X, Y, Z) or 4 (X, Y, Z, volumes).
        affine: 4x4 voxel-to-world RAS+ matrix in mm, or None when the format carries no orientation.
        spacing: voxel size used when ``affine`` is None.
        meta: format-specific metadata (``format`` is required); ``phase_encoding_axis`` refers to ``data``'s axes.
    """

    data: np.ndarray
    affine: np.ndarray | None = None
    spacing: tuple[float, float, float] = (1.0, 1.0, 1.0)
    meta: dict[str, Any] = field(default_factory=dict)


def check_path(path: str | os.PathLike) -> Path:
    """Return ``path`` as a Path after refusing missing paths, dangling or looping symlinks and empty files."""
    path = Path(path).expanduser()
    try:
        st = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ScanNotFoundError(f"{path}: symbolic link loop (the link never reaches a file)") from exc
        if path.is_symlink():
            raise ScanNotFoundError(f"{path}: dangling symbolic link (its target does not exist)") from exc
        raise ScanNotFoundError(f"{path}: no such file or folder") from exc
    if not path.is_dir() and st.st_size == 0:
        raise CorruptScanError(f"{path}: empty file (0 bytes)")
    return path


def byte_limit(value: int | None, env: str, default: int, what: str) -> int:
    """A size limit in bytes: ``value``, else the environment variable ``env``, else ``default``; must be positive."""
    if value is None:
        text = os.environ.get(env, "").strip()
        if not text:
            return default
        try:
            value = int(float(text))
        except ValueError as exc:
            raise InvalidArgumentError(f"{env}={text!r} is not a number of bytes") from exc
    if value <= 0:
        raise InvalidArgumentError(f"{what} must be positive, got {value}")
    return int(value)


def max_bytes_budget(max_bytes: int | None = None) -> int:
    """The memory budget in bytes: the argument, else ``$MMRQA_MAX_SCAN_BYTES``, else 2 GiB."""
    return byte_limit(max_bytes, MAX_BYTES_ENV, DEFAULT_MAX_BYTES, "max_bytes")


def check_budget(path: Path, shape: tuple[int, ...], max_bytes: int, *, what: str = "scan") -> None:
    """Refuse, from header dimensions alone, a scan whose float32 output would exceed ``max_bytes``."""
    if any(int(n) < 0 for n in shape):
        raise CorruptScanError(f"{path}: header gives a negative dimension {tuple(shape)}")
    needed = int(np.prod([int(n) for n in shape], dtype=np.float64)) * OUTPUT_ITEMSIZE
    if needed > max_bytes:
        raise ScanTooLargeError(
            f"{path}: {what} of shape {tuple(int(n) for n in shape)} needs {needed / 2**20:.0f} MiB as float32, "
            f"over the memory budget of {max_bytes / 2**20:.0f} MiB (raise max_bytes or ${MAX_BYTES_ENV})"
        )


def spatial_shape(path: Path, shape: tuple[int, ...], volume_index: int | None) -> tuple[int, ...]:
    """The shape of the 3D output for a stored ``shape`` (trailing singleton dims dropped), validating dims.

    4D input needs ``volume_index``; 5D and more is always refused (after dropping trailing singletons).
    """
    shape = squeeze_trailing(shape)
    if len(shape) > 4:
        raise DimensionalityError(f"{path}: {len(shape)}D data of shape {shape} is not supported (at most 4D)")
    if len(shape) == 4:
        if volume_index is None:
            raise DimensionalityError(
                f"{path}: 4D data of shape {shape} ({shape[3]} volumes); metrics and verdicts are of one 3D volume: "
                f"choose one, 0 to {shape[3] - 1}, with --volume-index (mmrqa metrics, assess, simulate, info) "
                "or volume_index (load_volume, MMRQAPipeline)"
            )
        if not -shape[3] <= volume_index < shape[3]:
            raise InvalidArgumentError(f"{path}: volume_index {volume_index} out of range for {shape[3]} volumes")
        return shape[:3]
    return tuple(shape) + (1,) * (3 - len(shape))


def squeeze_trailing(shape: tuple[int, ...]) -> tuple[int, ...]:
    """Drop singleton dims after the third (NIfTI often stores 3D as (X, Y, Z, 1))."""
    shape = tuple(int(n) for n in shape)
    while len(shape) > 3 and shape[-1] == 1:
        shape = shape[:-1]
    return shape


def select_volume(path: Path, data: np.ndarray, volume_index: int | None) -> np.ndarray:
    """Reduce stored data to 3D: drop trailing singletons, pick ``volume_index`` from 4D, refuse 5D+."""
    shape = spatial_shape(path, data.shape, volume_index)
    data = data.reshape(squeeze_trailing(data.shape)) if data.ndim > 3 else data
    if data.ndim == 4:
        data = data[..., volume_index]
    return data.reshape(shape)


def axcodes(affine: np.ndarray) -> str:
    """Orientation letters of the array axes (e.g. ``"RAS"``, ``"LAS"``) from a voxel-to-world affine."""
    import nibabel as nib

    return "".join(str(c) for c in nib.aff2axcodes(affine))


def spacing_from_affine(affine: np.ndarray) -> tuple[float, float, float]:
    """Voxel size along each array axis: the norms of the affine's first three columns."""
    return tuple(float(s) for s in np.sqrt((np.asarray(affine)[:3, :3] ** 2).sum(axis=0)))  # type: ignore[return-value]


def to_canonical(data: np.ndarray, affine: np.ndarray, meta: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Flip/permute array axes to the closest RAS+ orientation, updating the affine and ``phase_encoding_axis``.

    ``meta["stored_axes"]`` records where each stored axis went (stored axis i is now axis ``stored_axes[i]``), so
    that a consumer that needs the acquisition's slice axis (the signal classifier) can find it again
    (:func:`mmrqa.volume.acquisition_order`).

    Uses nibabel's orientation transforms (the same as ``nibabel.as_closest_canonical``): the world position of
    every voxel is unchanged, only the voxel order changes. A single slice whose normal is not the third axis
    (a sagittal DICOM image) is left as stored, so that 2D images stay (X, Y, 1).
    """
    from nibabel import orientations as ornt

    transform = ornt.io_orientation(affine)
    if np.array_equal(transform, [[0, 1], [1, 1], [2, 1]]):
        return data, affine
    if data.shape[2] == 1 and transform[2, 0] != 2:
        # A single oblique/sagittal/coronal slice stays a slice (X, Y, 1): only same-axis flips would be allowed,
        # and they would not make it RAS+ anyway, so keep the stored order (the affine stays exact).
        return data, affine
    new_data = ornt.apply_orientation(data, transform)
    new_affine = affine @ ornt.inv_ornt_aff(transform, data.shape)
    axis = meta.get("phase_encoding_axis")
    if axis is not None:
        meta["phase_encoding_axis"] = int(transform[int(axis), 0])
    stored_axes = [int(a) for a in transform[:, 0]]
    if stored_axes != [0, 1, 2]:
        meta["stored_axes"] = stored_axes
    return in_layout_of(data, new_data), new_affine  # one copy, in the stored memory order


def check_values(path: Path, data: np.ndarray, meta: dict[str, Any]) -> np.ndarray:
    """Refuse data that cannot be assessed; replace isolated NaN/Inf by 0 (counted in ``meta``)."""
    if sum(n >= 2 for n in data.shape) < 2:
        raise InvalidScanError(f"{path}: too small to assess: shape {data.shape} (needs at least 2x2 voxels)")
    finite = np.isfinite(data)
    if not finite.any():
        raise InvalidScanError(f"{path}: no finite voxel (all NaN or Inf)")
    n_bad = int(data.size - np.count_nonzero(finite))
    if n_bad:
        logger.warning("%s: %d NaN/Inf voxels set to 0", path, n_bad)
        data = np.where(finite, data, np.float32(0)).astype(np.float32)
        meta["nonfinite_voxels"] = n_bad
    low, high = float(data.min()), float(data.max())
    if low == high:
        raise InvalidScanError(f"{path}: constant image (every voxel is {low:g}); nothing to assess")
    return data


def check_spacing(path: Path, spacing: tuple[float, ...]) -> tuple[float, float, float]:
    """Refuse voxel sizes that are not finite and positive (a damaged header); every metric in mm needs them."""
    values = tuple(float(s) for s in spacing)
    if len(values) != 3 or not all(np.isfinite(v) and v > 0 for v in values):
        raise CorruptScanError(f"{path}: header gives an invalid voxel size {values} (must be finite and > 0 mm)")
    return values  # type: ignore[return-value]


def check_affine(path: Path, affine: np.ndarray) -> np.ndarray:
    """Refuse a voxel-to-world matrix that is not finite or whose 3x3 part is singular (no orientation exists)."""
    affine = np.asarray(affine, dtype=np.float64)
    if affine.shape != (4, 4) or not np.isfinite(affine).all():
        raise CorruptScanError(f"{path}: header gives a non-finite voxel-to-world matrix (damaged orientation)")
    linear = affine[:3, :3]
    norms = np.sqrt((linear**2).sum(axis=0))
    if not np.all(norms > 0) or abs(np.linalg.det(linear / norms)) < 1e-6:
        raise CorruptScanError(
            f"{path}: header gives a degenerate voxel-to-world matrix (zero voxel size or collinear axes)"
        )
    return affine


def finalize(path: Path, decoded: Decoded, *, canonical: bool, volume_index: int | None) -> Volume:
    """Common end of every reader: 3D selection, float32, value checks, optional RAS+ reorientation."""
    meta = dict(decoded.meta)
    meta.setdefault("source", str(path))
    data = np.asarray(decoded.data)
    if data.ndim > 3 and len(squeeze_trailing(data.shape)) == 4 and volume_index is not None:
        meta["volume_index"] = int(volume_index)
    data = select_volume(path, data, volume_index)
    data = check_values(path, np.asarray(data, dtype=np.float32), meta)
    if decoded.affine is None:
        spacing = check_spacing(path, decoded.spacing)
        affine = np.diag([*spacing, 1.0])
    else:
        affine = check_affine(path, decoded.affine)
        if canonical:
            data, affine = to_canonical(data, affine, meta)
        spacing = spacing_from_affine(affine)
        meta["orientation"] = axcodes(affine)
    return Volume(data=data, spacing=spacing, affine=affine, meta=meta)
