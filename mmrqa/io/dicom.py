"""DICOM via pydicom: a single image, a folder holding one series, or an enhanced multi-frame object.

Geometry follows DICOM PS3.3 C.7.6.2 (Image Plane): voxel (i, j) of a frame lies at
``IPP + i * Δc * row_cosine + j * Δr * column_cosine`` in patient LPS mm, where ``IPP`` is ImagePositionPatient,
the cosines come from ImageOrientationPatient and ``(Δr, Δc)`` is PixelSpacing. The returned array is indexed
``[column, row, slice]`` (i, j, k) so the affine above holds, then converted to RAS+ by negating x and y.
Slices are ordered by their position along the slice normal ``row_cosine × column_cosine`` (never by file name or
InstanceNumber, which exporters do not keep in spatial order). Stored values become
``RescaleSlope * stored + RescaleIntercept`` (PS3.3 C.11.1, modality LUT), per frame for enhanced objects
(Pixel Value Transformation functional group, C.7.6.16.2.9). Images sharing a position (echoes, time points)
form a 4D series: pick one with ``volume_index``.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mmrqa.errors import (
    AmbiguousSeriesError,
    CorruptScanError,
    InvalidArgumentError,
    InvalidScanError,
    MMRQAError,
    ScanNotFoundError,
)
from mmrqa.io.common import Decoded, check_budget, spatial_shape

# pydicom (~0.5 s) is imported where a file is read, so ``mmrqa metrics`` on NIfTI never loads it.

logger = logging.getLogger(__name__)

EXTENSIONS = (".dcm", ".dicom", ".ima")
#: Slice positions closer than this (mm) along the normal are the same slice.
POSITION_TOLERANCE_MM = 1e-3
#: LPS (DICOM patient space) to RAS+ (NIfTI world space): negate x and y.
LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


@dataclass
class Frame:
    """One 2D image of a series: where it lies and how to scale it."""

    index: int  # frame number in a multi-frame object, or position in the file list
    position: np.ndarray | None
    orientation: np.ndarray | None
    slope: float = 1.0
    intercept: float = 0.0
    order: tuple = ()  # tie-break among images at the same position (acquisition, echo, instance)


def is_dicom_file(path: Path) -> bool:
    """True when the file carries the DICOM Part 10 preamble magic ``DICM`` at byte 128."""
    try:
        with open(path, "rb") as handle:
            handle.seek(128)
            return handle.read(4) == b"DICM"
    except OSError:
        return False


def read(
    path: Path, *, max_bytes: int, volume_index: int | None = None, series_uid: str | None = None, **_: Any
) -> Decoded:
    """Decode a DICOM file or series folder (see the module docstring for the geometry)."""
    if path.is_dir():
        return _read_folder(path, max_bytes=max_bytes, volume_index=volume_index, series_uid=series_uid)
    return _read_file(path, max_bytes=max_bytes, volume_index=volume_index)


def _dcmread(path: Path, *, header_only: bool) -> Any:
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        with _BoundedReader(path) as handle:
            ds = pydicom.dcmread(handle, stop_before_pixels=header_only)
            _decode_elements(ds)
        return ds
    except InvalidDicomError as exc:
        if not is_dicom_file(path) and path.suffix.lower() not in EXTENSIONS:
            raise CorruptScanError(f"{path}: not a DICOM file ({exc})") from exc
        raise CorruptScanError(f"{path}: not a readable DICOM file ({exc})") from exc
    except Exception as exc:  # pydicom raises many types (struct.error, EOFError, ...) on damaged files
        raise CorruptScanError(f"{path}: damaged DICOM file ({type(exc).__name__}: {exc})") from exc


class _BoundedReader(io.BufferedReader):
    """A file whose ``read(n)`` never asks for more bytes than remain.

    A damaged element length (e.g. 0xFFFFFFF0) makes pydicom call ``read(length)``; on a plain file that allocates
    the whole length up front, gigabytes for a file of kilobytes. Clamping to the bytes left keeps memory bounded
    by the file size, and pydicom then reports the short read as a damaged file.
    """

    def __init__(self, path: Path) -> None:
        super().__init__(io.FileIO(str(path), "rb"))
        self._size = os.fstat(self.fileno()).st_size

    def read(self, size: int | None = -1) -> bytes:
        if size is not None and size > 0:
            size = min(size, max(self._size - self.tell(), 0))
        return super().read(size)


def _decode_elements(ds: Any) -> None:
    """Convert every element now (pydicom decodes values lazily), so that a damaged value (unknown VR, bad
    length) fails here, inside the reader's error handling, instead of later on first access."""
    ds.walk(lambda dataset, element: None)
    file_meta = getattr(ds, "file_meta", None)
    if file_meta:
        file_meta.walk(lambda dataset, element: None)


def _read_file(path: Path, *, max_bytes: int, volume_index: int | None) -> Decoded:
    header = _dcmread(path, header_only=True)
    if "Rows" not in header or "Columns" not in header:
        raise CorruptScanError(f"{path}: DICOM file without an image (no Rows/Columns, no pixel data)")
    n_frames = int(_float(header.get("NumberOfFrames")) or 1)
    check_budget(path, (int(header.Columns), int(header.Rows), n_frames), max_bytes)
    ds = _dcmread(path, header_only=False)
    if not any(tag in ds for tag in ("PixelData", "FloatPixelData", "DoubleFloatPixelData")):
        raise CorruptScanError(f"{path}: DICOM file has no pixel data")
    pixels = _pixels(path, ds)
    if pixels.ndim == 2:
        pixels = pixels[np.newaxis]
    frames = _frames_of(ds, pixels.shape[0])
    meta = _meta(ds, path, "dicom_enhanced" if n_frames > 1 else "dicom")
    return _assemble(path, frames, lambda chosen: pixels[[f.index for f in chosen]], ds, meta, volume_index, max_bytes)


def _group_series(folder: Path) -> dict[str, list[tuple[Path, Any]]]:
    """The DICOM images directly in ``folder`` grouped by SeriesInstanceUID (header reads only)."""
    series: dict[str, list[tuple[Path, Any]]] = {}
    for file, ds in _series_headers(folder):
        series.setdefault(str(ds.get("SeriesInstanceUID", "unknown")), []).append((file, ds))
    return series


def scans_in_folder(folder: Path) -> list[Path]:
    """How a folder of DICOM files splits into scans: the folder when it holds one series (or a series of several
    files among others, which ``load_volume`` then asks to choose), else each single-file series (e.g. enhanced
    multi-frame files, or unrelated single slices collected in one folder) on its own."""
    try:
        series = _group_series(folder)
    except MMRQAError:
        return [folder]
    if len(series) == 1 or any(len(members) > 1 for members in series.values()):
        return [folder]
    return sorted(members[0][0] for members in series.values())


def _read_folder(path: Path, *, max_bytes: int, volume_index: int | None, series_uid: str | None) -> Decoded:
    series = _group_series(path)
    if series_uid is not None:
        if series_uid not in series:
            raise InvalidArgumentError(f"{path}: no series {series_uid!r}; it holds {_list_series(series)}")
        members = series[series_uid]
    elif len(series) > 1:
        raise AmbiguousSeriesError(
            f"{path}: holds {len(series)} DICOM series, choose one with series_uid (--series-uid): "
            + _list_series(series)
        )
    else:
        members = next(iter(series.values()))
    if len(members) == 1:
        return _read_file(members[0][0], max_bytes=max_bytes, volume_index=volume_index)
    if any((_float(ds.get("NumberOfFrames")) or 1) > 1 for _, ds in members):
        raise InvalidScanError(f"{path}: series mixes several multi-frame files; load each file on its own")
    shapes = {(int(ds.Rows), int(ds.Columns)) for _, ds in members}
    if len(shapes) > 1:
        raise InvalidScanError(f"{path}: images of one series differ in size {sorted(shapes)}")
    frames = [_frame(i, ds) for i, (_, ds) in enumerate(members)]

    def load(chosen: list[Frame]) -> np.ndarray:
        out = []
        for frame in chosen:
            file = members[frame.index][0]
            pixels = _pixels(file, _dcmread(file, header_only=False))
            if pixels.shape != next(iter(shapes)):  # the full read disagrees with the header read earlier
                raise CorruptScanError(
                    f"{file}: pixel data of shape {pixels.shape} does not match the series' "
                    f"{'x'.join(map(str, next(iter(shapes))))} images"
                )
            out.append(pixels)
        return np.stack(out)

    meta = _meta(members[0][1], path, "dicom_series")
    meta["n_files"] = len(members)
    return _assemble(path, frames, load, members[0][1], meta, volume_index, max_bytes)


def _series_headers(folder: Path) -> list[tuple[Path, Any]]:
    """Headers of the DICOM images directly in ``folder`` (hidden files and non-DICOM files are skipped)."""
    headers = []
    for file in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
        if not (is_dicom_file(file) or file.suffix.lower() in EXTENSIONS):
            continue
        try:
            ds = _dcmread(file, header_only=True)
        except CorruptScanError as exc:
            logger.warning("skipping %s", exc)
            continue
        if "Rows" in ds and "Columns" in ds:
            headers.append((file, ds))
    if not headers:
        raise ScanNotFoundError(f"{folder}: folder holds no scan (no DICOM image, and not a file of a known format)")
    return headers


def _list_series(series: dict[str, list]) -> str:
    parts = []
    for uid, members in sorted(series.items()):
        desc = str(members[0][1].get("SeriesDescription", "") or "").strip()
        parts.append(f"{uid} ({desc + ', ' if desc else ''}{len(members)} files)")
    return "; ".join(parts)


def _pixels(path: Path, ds: Any) -> np.ndarray:
    try:
        arr = ds.pixel_array
    except Exception as exc:  # truncated data, missing decoder plugin, inconsistent header
        raise CorruptScanError(f"{path}: pixel data cannot be decoded ({exc})") from exc
    if int(ds.get("SamplesPerPixel", 1)) == 3 and arr.shape[-1] == 3:
        arr = arr.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return np.asarray(arr, dtype=np.float32)


def _frames_of(ds: Any, n_frames: int) -> list[Frame]:
    """Per-frame geometry of a single-frame image or an enhanced multi-frame object."""
    if "PerFrameFunctionalGroupsSequence" not in ds and "SharedFunctionalGroupsSequence" not in ds:
        return [_frame(i, ds) if n_frames == 1 else Frame(i, None, None, *_rescale(ds), (i,)) for i in range(n_frames)]
    frames = []
    for i in range(n_frames):
        groups = _FunctionalGroups(ds, i)
        pos = groups.get("PlanePositionSequence", "ImagePositionPatient")
        ori = groups.get("PlaneOrientationSequence", "ImageOrientationPatient")
        slope = _float(groups.get("PixelValueTransformationSequence", "RescaleSlope"))
        intercept = _float(groups.get("PixelValueTransformationSequence", "RescaleIntercept"))
        if slope is None:
            slope, intercept = _rescale(ds)
        frames.append(Frame(i, _vector(pos, 3), _vector(ori, 6), slope or 1.0, intercept or 0.0, (i,)))
    return frames


class _FunctionalGroups:
    """Looks a nested attribute up in a frame's per-frame group, then in the shared group."""

    def __init__(self, ds: Any, frame: int) -> None:
        per_frame = ds.get("PerFrameFunctionalGroupsSequence")
        shared = ds.get("SharedFunctionalGroupsSequence")
        self.items = [s[0] for s in ((per_frame[frame : frame + 1] if per_frame else None), shared) if s]

    def get(self, sequence: str, keyword: str) -> Any:
        for item in self.items:
            seq = item.get(sequence)
            if seq and keyword in seq[0]:
                return seq[0].get(keyword)
        return None


def _frame(index: int, ds: Any) -> Frame:
    order = tuple(int(_float(ds.get(k)) or 0) for k in ("AcquisitionNumber", "EchoNumbers", "InstanceNumber"))
    return Frame(
        index,
        _vector(ds.get("ImagePositionPatient"), 3),
        _vector(ds.get("ImageOrientationPatient"), 6),
        *_rescale(ds),
        order,
    )


def _rescale(ds: Any) -> tuple[float, float]:
    slope = _float(ds.get("RescaleSlope"))
    intercept = _float(ds.get("RescaleIntercept"))
    return (1.0 if slope in (None, 0.0) else slope), (intercept or 0.0)


def _vector(value: Any, n: int) -> np.ndarray | None:
    try:
        vec = np.array([float(v) for v in value], dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return vec if vec.shape == (n,) and np.all(np.isfinite(vec)) else None


def _float(value: Any) -> float | None:
    try:
        if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
            value = value[0]
        return float(value)
    except (TypeError, ValueError, IndexError):
        return None


def _assemble(
    path: Path,
    frames: list[Frame],
    load: Callable[[list[Frame]], np.ndarray],
    ds: Any,
    meta: dict[str, Any],
    volume_index: int | None,
    max_bytes: int,
) -> Decoded:
    """Order frames in space, group repeats at one position into volumes, load the chosen ones and rescale."""
    geometric = all(f.position is not None and f.orientation is not None for f in frames)
    if geometric:
        orientation = frames[0].orientation
        if any(not np.allclose(f.orientation, orientation, atol=1e-4) for f in frames):
            raise InvalidScanError(f"{path}: images of the series have different orientations")
        normal = np.cross(orientation[:3], orientation[3:])
        groups = _group_by_position(frames, normal)
    else:
        if len(frames) > 1:
            logger.warning("%s: no ImagePositionPatient/ImageOrientationPatient; keeping stored order", path)
        groups = [[f] for f in sorted(frames, key=lambda f: f.order)]
    counts = {len(g) for g in groups}
    if len(counts) > 1:
        raise InvalidScanError(f"{path}: slice positions hold different numbers of images {sorted(counts)}")
    n_volumes = counts.pop()
    rows, cols = int(ds.Rows), int(ds.Columns)
    shape = (cols, rows, len(groups), n_volumes) if n_volumes > 1 else (cols, rows, len(groups))
    check_budget(path, spatial_shape(path, shape, volume_index), max_bytes)
    chosen = [g[volume_index if n_volumes > 1 else 0] for g in groups]
    if n_volumes > 1:
        meta["volume_index"] = int(volume_index)  # type: ignore[arg-type]
    pixels = load(chosen)
    slopes = np.array([f.slope for f in chosen], dtype=np.float32)[:, None, None]
    intercepts = np.array([f.intercept for f in chosen], dtype=np.float32)[:, None, None]
    data = (pixels * slopes + intercepts).transpose(2, 1, 0)  # (slice, row, col) -> (col, row, slice)
    pixel_spacing = _pixel_spacing(ds)
    affine = _affine(chosen, pixel_spacing, _slice_step(ds)) if geometric else None
    spacing = (pixel_spacing[1], pixel_spacing[0], _slice_step(ds))
    return Decoded(data=np.ascontiguousarray(data, dtype=np.float32), affine=affine, spacing=spacing, meta=meta)


def _group_by_position(frames: list[Frame], normal: np.ndarray) -> list[list[Frame]]:
    keyed = sorted(frames, key=lambda f: (float(f.position @ normal), f.order))
    groups: list[list[Frame]] = []
    last = None
    for frame in keyed:
        where = float(frame.position @ normal)
        if last is None or abs(where - last) > POSITION_TOLERANCE_MM:
            groups.append([])
        groups[-1].append(frame)
        last = where
    return groups


def _pixel_spacing(ds: Any) -> tuple[float, float]:
    """(row spacing, column spacing) in mm: PixelSpacing, from the shared functional group if enhanced."""
    value = ds.get("PixelSpacing") or _FunctionalGroups(ds, 0).get("PixelMeasuresSequence", "PixelSpacing")
    vec = _vector(value, 2)
    return (float(vec[0]), float(vec[1])) if vec is not None and np.all(vec > 0) else (1.0, 1.0)


def _slice_step(ds: Any) -> float:
    groups = _FunctionalGroups(ds, 0)
    for key in ("SpacingBetweenSlices", "SliceThickness"):
        value = _float(ds.get(key)) or _float(groups.get("PixelMeasuresSequence", key))
        if value and value > 0:
            return value
    return 1.0


def _affine(chosen: list[Frame], pixel_spacing: tuple[float, float], fallback_step: float) -> np.ndarray:
    """RAS+ voxel-to-world matrix of the (column, row, slice) array (PS3.3 C.7.6.2.1.1, extended to 3D)."""
    row_cos, col_cos = chosen[0].orientation[:3], chosen[0].orientation[3:]
    if len(chosen) > 1:
        step = (chosen[-1].position - chosen[0].position) / (len(chosen) - 1)
    else:
        step = np.cross(row_cos, col_cos) * fallback_step
    lps = np.eye(4)
    lps[:3, 0] = row_cos * pixel_spacing[1]
    lps[:3, 1] = col_cos * pixel_spacing[0]
    lps[:3, 2] = step
    lps[:3, 3] = chosen[0].position
    return LPS_TO_RAS @ lps


def _meta(ds: Any, path: Path, fmt: str) -> dict[str, Any]:
    groups = _FunctionalGroups(ds, 0)
    meta: dict[str, Any] = {"format": fmt, "source": str(path)}
    text = {
        "modality": "Modality",
        "series_description": "SeriesDescription",
        "manufacturer": "Manufacturer",
        "series_uid": "SeriesInstanceUID",
        "body_part": "BodyPartExamined",  # these three tell the anatomy (mmrqa.metrics.context)
        "study_description": "StudyDescription",
        "protocol_name": "ProtocolName",
    }
    for key, keyword in text.items():
        value = str(ds.get(keyword, "") or "").strip()
        if value:
            meta[key] = value
    numbers = {
        "field_strength": _float(ds.get("MagneticFieldStrength")),
        "repetition_time": _float(ds.get("RepetitionTime"))
        or _float(groups.get("MRTimingAndRelatedParametersSequence", "RepetitionTime")),
        "echo_time": _float(ds.get("EchoTime")) or _float(groups.get("MREchoSequence", "EffectiveEchoTime")),
    }
    meta.update({k: v for k, v in numbers.items() if v})
    image_type = ds.get("ImageType")
    if image_type:  # e.g. ORIGINAL\PRIMARY\T1: may name the contrast
        meta["image_type"] = "\\".join(str(v) for v in image_type) if not isinstance(image_type, str) else image_type
    direction = ds.get("InPlanePhaseEncodingDirection") or groups.get(
        "MRFOVGeometrySequence", "InPlanePhaseEncodingDirection"
    )
    if str(direction or "").upper() in ("ROW", "COL"):
        meta["phase_encoding_axis"] = 0 if str(direction).upper() == "ROW" else 1  # array is (column, row, slice)
    return meta
