"""Loading scans: ``load_volume(path) -> Volume`` for every supported format, and ``find_scans`` for folders.

Formats (one module each): NIfTI-1/2 and MGH/MGZ (:mod:`.nifti`), DICOM file / series folder / enhanced
multi-frame (:mod:`.dicom`), MetaImage ``.mha``/``.mhd`` (:mod:`.metaimage`), fastMRI HDF5 (:mod:`.fastmri`) and 2D
images PNG/JPEG/TIFF (:mod:`.image2d`). Dispatch is by extension (a folder is a DICOM series; a file without a
known extension is tried as DICOM when it carries the ``DICM`` magic).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable
from pathlib import Path

from mmrqa.errors import ScanNotFoundError, UnsupportedFormatError
from mmrqa.io.common import DEFAULT_MAX_BYTES, check_path, finalize, max_bytes_budget
from mmrqa.io.dicom import is_dicom_file, scans_in_folder
from mmrqa.io.summary import format_summary, summarize
from mmrqa.volume import Volume

__all__ = ["load_volume", "find_scans", "summarize", "format_summary", "SUPPORTED_EXTENSIONS", "DEFAULT_MAX_BYTES"]

#: extension -> reader module (longest match wins, so ``.nii.gz`` beats ``.gz``).
_READERS = {
    ".nii": "nifti",
    ".nii.gz": "nifti",
    ".mgh": "nifti",
    ".mgz": "nifti",
    ".par": "nifti",
    ".rec": "nifti",
    ".dcm": "dicom",
    ".dicom": "dicom",
    ".ima": "dicom",
    ".mha": "metaimage",
    ".mhd": "metaimage",
    ".h5": "fastmri",
    ".hdf5": "fastmri",
    ".png": "image2d",
    ".jpg": "image2d",
    ".jpeg": "image2d",
    ".tif": "image2d",
    ".tiff": "image2d",
}
SUPPORTED_EXTENSIONS = tuple(_READERS)
#: Files next to scans that are never scans themselves (BIDS sidecars, MetaImage raw data, notes).
SIDECAR_EXTENSIONS = (".json", ".tsv", ".bval", ".bvec", ".txt", ".raw", ".zraw", ".md", ".csv")


def load_volume(
    path: str | os.PathLike,
    *,
    canonical: bool = True,
    volume_index: int | None = None,
    series_uid: str | None = None,
    max_bytes: int | None = None,
) -> Volume:
    """Load a scan file or DICOM series folder as a :class:`~mmrqa.volume.Volume`.

    Args:
        path: a file in a supported format, or a folder holding one DICOM series.
        canonical: reorient to the closest RAS+ orientation (affine and spacing kept consistent); False returns
            the array as stored (MRQy-compatible metrics need it). Formats without orientation ignore it.
        volume_index: which volume of a 4D scan (fMRI, DWI, multi-echo) to return; 4D without it is an error.
        series_uid: SeriesInstanceUID to pick when a DICOM folder holds several series.
        max_bytes: memory budget for the float32 output; larger scans are refused from their header before any
            voxel is read. Defaults to ``$MMRQA_MAX_SCAN_BYTES`` or 2 GiB.

    Raises:
        MMRQAError: a subclass naming the file and the problem (missing, corrupt, unsupported, too large,
            4D without ``volume_index``, constant or all-NaN content...).
    """
    path = check_path(path)
    budget = max_bytes_budget(max_bytes)
    reader = importlib.import_module(f"mmrqa.io.{_reader_name(path)}")
    decoded = reader.read(path, max_bytes=budget, volume_index=volume_index, series_uid=series_uid)
    return finalize(path, decoded, canonical=canonical, volume_index=volume_index)


def _extension(path: Path) -> str:
    name = path.name.lower()
    matches = [ext for ext in _READERS if name.endswith(ext)]
    return max(matches, key=len) if matches else ""


def _reader_name(path: Path) -> str:
    if path.is_dir():
        return "dicom"
    ext = _extension(path)
    if ext:
        return _READERS[ext]
    if is_dicom_file(path):
        return "dicom"
    raise UnsupportedFormatError(
        f"{path}: unsupported file type {''.join(path.suffixes) or '(no extension)'}; supported: "
        f"{', '.join(SUPPORTED_EXTENSIONS)} and DICOM series folders"
    )


def is_scan_file(path: Path) -> bool:
    """True for a non-hidden, non-sidecar file with a scan extension or the DICOM magic; the ``.rec`` data file of a
    PAR/REC pair is not a scan of its own (its ``.par`` is)."""
    name = path.name.lower()
    if name.startswith(".") or name.endswith(SIDECAR_EXTENSIONS):
        return False
    if name.endswith(".rec") and any(path.with_name(path.name[:-4] + ext).is_file() for ext in (".PAR", ".par")):
        return False
    if _extension(path):
        return True
    return is_dicom_file(path)


def find_scans(paths: Iterable[str | os.PathLike] | str | os.PathLike) -> list[Path]:
    """Expand files and folders into the scans they hold, sorted.

    Folders are walked recursively, skipping hidden entries and sidecars (.json, .tsv, .bval, .bvec, .txt...), so
    a BIDS dataset yields its images. A folder whose files are DICOM images of one series is one scan and is
    returned as the folder; a folder of unrelated single-file series yields each file. A file given explicitly is returned as is (``load_volume`` judges it).

    Raises:
        ScanNotFoundError: a path does not exist, or a folder given holds no scan.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    found: set[Path] = set()
    for raw in paths:
        path = check_path(raw) if not Path(raw).is_dir() else Path(raw)
        if path.is_dir():
            scans = _walk(path)
            if not scans:
                raise ScanNotFoundError(f"{path}: folder holds no scan (no file of a supported format)")
            found.update(scans)
        else:
            found.add(path)
    return sorted(found)


def _walk(folder: Path) -> list[Path]:
    scans: list[Path] = []
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return scans
    files = [e for e in entries if not e.name.startswith(".") and e.is_file()]
    dicom = [f for f in files if _reader_name_or_none(f) == "dicom"]
    if dicom:
        scans.extend(scans_in_folder(folder))
    scans.extend(f for f in files if is_scan_file(f) and f not in dicom)
    for sub in entries:
        if not sub.name.startswith(".") and sub.is_dir() and not sub.is_symlink():
            scans.extend(_walk(sub))
    return scans


def _reader_name_or_none(path: Path) -> str | None:
    if not is_scan_file(path):
        return None
    ext = _extension(path)
    return _READERS[ext] if ext else "dicom"
