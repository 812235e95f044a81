"""NIfTI-1/2 (``.nii``, ``.nii.gz``), FreeSurfer MGH/MGZ and Philips PAR/REC (``.par`` header beside its ``.rec``
data, either file given) via nibabel.

Voxel values are ``scl_slope * stored + scl_inter`` (nibabel's array proxy applies the scaling; a slope of 0 or NaN
means "unscaled", NIfTI-1 standard, section ``scl_slope``). The affine is the sform when set, else the qform
(nibabel's choice). The NIfTI ``dim_info`` byte gives the phase-encoding axis when the scanner export filled it.
PAR/REC: the values nibabel's default ``dv`` scaling gives (the displayed values of the console); the affine is
nibabel's, from the PAR's angulation and off-centre; a PAR/REC is always MR (``modality`` "MR"), with its repetition
time from the header; dynamics, echoes or b-values make it 4D (choose one with ``volume_index``).
"""

from __future__ import annotations

import logging
import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from mmrqa.errors import CorruptScanError
from mmrqa.io.common import Decoded, check_budget, spatial_shape, squeeze_trailing

# nibabel (~0.7 s) is imported where a file is read.

logger = logging.getLogger(__name__)

EXTENSIONS = (".nii", ".nii.gz", ".mgh", ".mgz", ".par", ".rec")

# Errors nibabel and its decompressors raise on damaged files (nibabel's own HeaderDataError, MGHError and
# OrientationError derive from Exception, not from ValueError; struct.error and OverflowError come from headers).
_DECODE_ERRORS = (
    OSError,
    EOFError,
    ValueError,
    zlib.error,
    MemoryError,
    IndexError,
    TypeError,
    KeyError,
    ArithmeticError,
    struct.error,
)


#: nibabel's PAR parser meets a damaged text header with these too (a regular expression that did not match)
_PARREC_ERRORS = (AttributeError,)


def read(path: Path, *, max_bytes: int, volume_index: int | None = None, **_: Any) -> Decoded:
    """Decode a NIfTI or MGH file, checking the memory budget from the header before reading voxels."""
    import nibabel as nib
    from nibabel.filebasedimages import ImageFileError
    from nibabel.freesurfer.mghformat import MGHError
    from nibabel.parrec import PARRECError
    from nibabel.spatialimages import HeaderDataError

    parrec = _is_parrec(path)
    if parrec:
        _check_pair(path)
    try:
        img = nib.load(str(path))
        shape = tuple(int(n) for n in img.shape)
    except (ImageFileError, HeaderDataError, MGHError, PARRECError, *_DECODE_ERRORS, *_PARREC_ERRORS) as exc:
        kind = "PAR/REC" if parrec else "NIfTI/MGH"
        raise CorruptScanError(f"{path}: not a readable {kind} file ({_reason(exc)})") from exc
    out_shape = spatial_shape(path, shape, volume_index)
    check_budget(path, out_shape, max_bytes)
    meta = _meta(path, img)
    try:
        if len(squeeze_trailing(shape)) == 4:  # spatial_shape validated volume_index: read only that volume
            index = (slice(None),) * 3 + (volume_index,) + (0,) * (len(shape) - 4)
            data = np.asarray(img.dataobj[index])
            meta["volume_index"] = int(volume_index)
        else:
            data = np.asarray(img.dataobj)
    except (HeaderDataError, PARRECError, *_DECODE_ERRORS) as exc:
        raise CorruptScanError(
            f"{path}: voxel data cannot be read, the file is truncated or damaged ({_reason(exc)})"
        ) from exc
    if np.iscomplexobj(data):
        data = np.abs(data)
    data = data.astype(np.float32, copy=False)
    return Decoded(data=data, affine=np.asarray(img.affine, dtype=np.float64), meta=meta)


def _is_parrec(path: Path) -> bool:
    return path.name.lower().endswith((".par", ".rec"))


def _check_pair(path: Path) -> None:
    """A PAR/REC scan is two files: the other one must be beside the one given (any case of its extension)."""
    wanted = ".rec" if path.name.lower().endswith(".par") else ".par"
    stem = path.name[: -len(wanted)].lower()
    if not any(p.name.lower() == stem + wanted for p in path.parent.iterdir()):
        raise CorruptScanError(
            f"{path}: a PAR/REC scan needs both files; its {wanted.upper()} file is not beside it in {path.parent}"
        )


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) < 200 else text[:200] + "..."


def _meta(path: Path, img: Any) -> dict[str, Any]:
    name = path.name.lower()
    fmt = "mgh" if name.endswith((".mgh", ".mgz")) else "nifti2" if type(img).__name__ == "Nifti2Image" else "nifti"
    fmt = "parrec" if _is_parrec(path) else fmt
    meta: dict[str, Any] = {"format": fmt, "source": str(path), "stored_shape": tuple(int(n) for n in img.shape)}
    header = img.header
    if fmt == "parrec":
        meta["modality"] = "MR"  # a Philips MR console export, whatever it holds
        tr = np.asarray(header.general_info.get("repetition_time", []), dtype=float).ravel()
        if tr.size and tr[0] > 0:
            meta["repetition_time"] = float(tr[0])
    elif fmt.startswith("nifti"):
        try:
            _, phase_dim, _ = header.get_dim_info()
        except Exception:  # a malformed dim_info byte only loses this hint
            phase_dim = None
        if phase_dim is not None and 0 <= phase_dim <= 2:
            meta["phase_encoding_axis"] = int(phase_dim)
        descrip = header["descrip"].tobytes().rstrip(b"\x00").decode("latin-1").strip()
        if descrip:
            meta["description"] = descrip
        if len(img.shape) > 3 and img.shape[3] > 1:
            tr = float(header.get_zooms()[3])
            if tr > 0 and header.get_xyzt_units()[1] in ("sec", "msec"):
                meta["repetition_time"] = tr * (1000.0 if header.get_xyzt_units()[1] == "sec" else 1.0)
    else:
        for key, name_ in (("tr", "repetition_time"), ("te", "echo_time"), ("flip_angle", "flip_angle")):
            try:
                value = float(header[key])
            except (KeyError, ValueError, TypeError):
                continue
            if value > 0:
                meta[name_] = value
    return meta
