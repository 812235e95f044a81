"""The ``Volume``: the one in-memory form of a scan that every other module consumes."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np


@dataclass(frozen=True, eq=False)
class Volume:
    """A scan as a 3D float32 array in a canonical orientation.

    Attributes:
        data: float32 array of 3 dims (X, Y, Z); a 2D image is (X, Y, 1). For formats whose header gives
            an orientation (NIfTI, MGH, DICOM, MetaImage) the axes are RAS+ (closest canonical).
        spacing: voxel size in mm along each array axis.
        affine: 4x4 voxel-to-world (RAS+, mm) matrix of ``data``.
        meta: format, source path and, when known, modality, series description, manufacturer,
            field strength, repetition/echo time, phase-encoding axis (``phase_encoding_axis``: 0, 1 or 2) and, when
            loading permuted the stored axes, where each went (``stored_axes``, see :func:`acquisition_order`).
    """

    data: np.ndarray
    spacing: tuple[float, float, float] = (1.0, 1.0, 1.0)
    affine: np.ndarray = field(default_factory=lambda: np.eye(4))
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        data = np.asarray(self.data)
        if data.ndim == 2:
            data = data[:, :, np.newaxis]
        if data.ndim != 3:
            raise ValueError(f"Volume data must have 2 or 3 dims, got shape {data.shape}")
        if data.dtype != np.float32:
            data = data.astype(np.float32)
        object.__setattr__(self, "data", data)
        object.__setattr__(self, "spacing", tuple(float(s) for s in self.spacing))
        object.__setattr__(self, "affine", np.asarray(self.affine, dtype=np.float64))

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.data.shape)  # type: ignore[return-value]

    @property
    def is_2d(self) -> bool:
        return self.data.shape[2] == 1

    def with_data(self, data: np.ndarray, **meta_updates: Any) -> Volume:
        """A copy with new voxel values (same geometry), e.g. after simulating an artifact."""
        if np.shape(data) != self.data.shape:
            raise ValueError(f"new data shape {np.shape(data)} differs from the volume's {self.data.shape}")
        return replace(self, data=np.asarray(data, dtype=np.float32), meta={**self.meta, **meta_updates})


def acquisition_order(volume: Volume) -> Volume:
    """``volume`` with its array axes back in the order the file stored them (a copy; the same object when they
    already are): the acquisition's slices along axis 2 for DICOM and scanner-exported NIfTI, whatever the plane.

    Loading reorients to RAS+, which puts a coronal or sagittal acquisition's slice axis first or second; an analysis
    whose notion of "in-plane" and "slice" must match the acquisition (phase-encoded ghosts and k-space lines lie in
    the acquired plane) undoes that permutation here. Flips are not undone: they change no magnitude, spectrum or
    per-slice statistic. Uses ``meta["stored_axes"]`` (written by the readers' reorientation); without it the volume
    is returned as it is.
    """
    stored_axes = volume.meta.get("stored_axes")
    if stored_axes is None or list(stored_axes) == [0, 1, 2]:
        return volume
    axes = [int(a) for a in stored_axes]
    if sorted(axes) != [0, 1, 2]:
        raise ValueError(f"meta['stored_axes'] must be a permutation of 0, 1, 2; got {stored_axes}")
    affine = volume.affine.copy()
    affine[:, :3] = volume.affine[:, axes]
    meta = {k: v for k, v in volume.meta.items() if k != "stored_axes"}
    pe_axis = meta.get("phase_encoding_axis")
    if pe_axis in (0, 1, 2):
        meta["phase_encoding_axis"] = axes.index(int(pe_axis))
    data = in_layout_of(volume.data, np.transpose(volume.data, axes))
    return Volume(data, tuple(volume.spacing[a] for a in axes), affine, meta)


def in_layout_of(source: np.ndarray, array: np.ndarray) -> np.ndarray:
    """``array`` (a reordered view of ``source``) as one contiguous copy in ``source``'s memory layout: Fortran for
    NIfTI/MGH, C for DICOM, so that an axis reordering keeps the layout the readers chose and consumers see one."""
    fortran = source.flags.f_contiguous and not source.flags.c_contiguous
    return np.asfortranarray(array) if fortran else np.ascontiguousarray(array)
