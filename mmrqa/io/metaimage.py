"""MetaImage (ITK/VTK ``.mha`` with inline data, ``.mhd`` with a separate ``.raw``), raw or zlib-compressed.

The text header is ``Key = Value`` lines ending with ``ElementDataFile`` (``LOCAL`` for inline data). Voxels are
stored x fastest. Geometry is in ITK's LPS world: ``TransformMatrix`` holds the direction cosine of array axis
``i`` in its ``i``-th triple (ITK ``MetaImageIO``), ``Offset`` is the world position of voxel 0 and
``ElementSpacing`` the voxel size. Dimensions are read from the header and checked against the memory budget
before any voxel is read; zlib streams are inflated with a bound on the output size (no decompression bomb).
Parsed here rather than through SimpleITK so that a damaged file yields a precise error instead of a C++ exception.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

import numpy as np

from mmrqa.errors import CorruptScanError, UnsupportedFormatError
from mmrqa.io.common import Decoded, check_budget, spatial_shape

EXTENSIONS = (".mha", ".mhd")
#: MetaImage element types -> numpy dtypes (byte order applied later).
ELEMENT_TYPES = {
    "MET_CHAR": "i1",
    "MET_UCHAR": "u1",
    "MET_SHORT": "i2",
    "MET_USHORT": "u2",
    "MET_INT": "i4",
    "MET_UINT": "u4",
    "MET_LONG": "i4",
    "MET_ULONG": "u4",
    "MET_LONG_LONG": "i8",
    "MET_ULONG_LONG": "u8",
    "MET_FLOAT": "f4",
    "MET_DOUBLE": "f8",
}
#: Longest header we accept before ElementDataFile (real headers are < 2 KiB).
MAX_HEADER_BYTES = 64 * 1024
LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


def read(path: Path, *, max_bytes: int, volume_index: int | None = None, **_: Any) -> Decoded:
    """Decode a MetaImage file, checking the budget from ``DimSize`` before reading voxel data."""
    header, data_offset = _read_header(path)
    try:
        dims = [int(v) for v in header["DimSize"].split()]
        ndims = int(header.get("NDims", len(dims)))
        dtype = np.dtype(ELEMENT_TYPES[header["ElementType"].upper()])
    except KeyError as exc:
        raise CorruptScanError(f"{path}: MetaImage header lacks or misstates {exc}") from exc
    except ValueError as exc:
        raise CorruptScanError(f"{path}: MetaImage header has a malformed DimSize/NDims ({exc})") from exc
    if len(dims) != ndims or not dims or min(dims) < 1:
        raise CorruptScanError(f"{path}: MetaImage DimSize {dims} does not match NDims {ndims}")
    if header.get("ElementNumberOfChannels", "1").strip() != "1":
        raise UnsupportedFormatError(f"{path}: vector MetaImage (ElementNumberOfChannels > 1) is not a scalar scan")
    shape_xyz = tuple(dims)
    check_budget(path, spatial_shape(path, shape_xyz, volume_index), max_bytes)
    msb = header.get("BinaryDataByteOrderMSB", header.get("ElementByteOrderMSB", "False")).lower() == "true"
    dtype = dtype.newbyteorder(">" if msb else "<")
    payload = _payload(path, header, data_offset, int(np.prod(shape_xyz)) * dtype.itemsize)
    data = np.frombuffer(payload, dtype=dtype).reshape(shape_xyz[::-1]).transpose()
    meta = {"format": "metaimage", "source": str(path), "compressed": _is_true(header.get("CompressedData"))}
    if "Modality" in header:
        meta["modality"] = header["Modality"].replace("MET_MOD_", "")
    return Decoded(data=data.astype(np.float32), affine=_affine(path, header, len(dims)), meta=meta)


def _read_header(path: Path) -> tuple[dict[str, str], int]:
    """Parse ``Key = Value`` lines up to ElementDataFile; return the header and the byte offset after it."""
    header: dict[str, str] = {}
    offset = 0
    with open(path, "rb") as handle:
        while offset < MAX_HEADER_BYTES:
            line = handle.readline(4096)
            if not line:
                break
            offset += len(line)
            text = line.decode("latin-1").strip()
            if "=" not in text:
                raise CorruptScanError(f"{path}: not a MetaImage header (line {text[:40]!r} is not 'Key = Value')")
            key, value = (part.strip() for part in text.split("=", 1))
            header[key] = value
            if key == "ElementDataFile":
                return header, offset
    raise CorruptScanError(f"{path}: MetaImage header without ElementDataFile")


def _payload(path: Path, header: dict[str, str], offset: int, expected: int) -> bytes:
    source = header["ElementDataFile"]
    if source.upper() == "LOCAL":
        data_path, start = path, offset
    elif source.upper().startswith("LIST") or "%" in source or " " in source.strip():
        raise UnsupportedFormatError(f"{path}: multi-file MetaImage data ({source!r}) is not supported")
    else:
        data_path, start = _data_file(path, source), 0
    try:
        header_size = int(header.get("HeaderSize", "0"))
    except ValueError as exc:
        raise CorruptScanError(f"{path}: MetaImage HeaderSize {header.get('HeaderSize')!r} is not an integer") from exc
    try:
        with open(data_path, "rb") as handle:
            if header_size == -1 and not _is_true(header.get("CompressedData")):
                handle.seek(-min(expected, data_path.stat().st_size), 2)  # data at the end of the file
            else:
                handle.seek(start + max(header_size, 0))
            raw = handle.read()
    except OSError as exc:
        raise CorruptScanError(f"{path}: cannot read MetaImage data file {data_path} ({exc.strerror or exc})") from exc
    if _is_true(header.get("CompressedData")):
        try:
            inflater = zlib.decompressobj()
            raw = inflater.decompress(raw, expected + 1)
        except zlib.error as exc:
            raise CorruptScanError(f"{path}: MetaImage zlib data is damaged ({exc})") from exc
    if len(raw) < expected:
        raise CorruptScanError(f"{path}: MetaImage data is truncated ({len(raw)} of {expected} bytes)")
    return raw[:expected]


def _data_file(path: Path, source: str) -> Path:
    """The raw data file named by ElementDataFile, which must lie in the header's folder.

    An absolute path or a ``..`` component would let a header read any file the process can read (e.g. a
    ``.mhd`` uploaded to a public Space naming ``/etc/passwd``), so both are refused.
    """
    if "\x00" in source:
        raise CorruptScanError(f"{path}: MetaImage ElementDataFile {source!r} holds a NUL byte (damaged header)")
    relative = Path(source)
    if relative.is_absolute() or ".." in relative.parts or not relative.name:
        raise CorruptScanError(
            f"{path}: MetaImage ElementDataFile {source!r} points outside the header's folder; "
            "only a data file next to the header is read"
        )
    return path.parent / relative


def _affine(path: Path, header: dict[str, str], ndims: int) -> np.ndarray:
    def numbers(*keys: str, default: list[float]) -> np.ndarray:
        for key in keys:
            if key in header:
                try:
                    return np.array([float(v) for v in header[key].split()], dtype=np.float64)
                except ValueError as exc:
                    raise CorruptScanError(f"{path}: MetaImage {key} is not numeric") from exc
        return np.array(default, dtype=np.float64)

    n = min(ndims, 3)
    spacing = numbers("ElementSpacing", "ElementSize", default=[1.0] * n)[:n]
    origin = numbers("Offset", "Origin", "Position", default=[0.0] * n)[:n]
    matrix = numbers("TransformMatrix", "Rotation", "Orientation", default=list(np.eye(n).ravel()))
    if matrix.size != ndims * ndims or spacing.size != n or origin.size != n:
        raise CorruptScanError(f"{path}: MetaImage geometry does not match NDims {ndims}")
    directions = matrix.reshape(ndims, ndims)[:n, :n]  # row i = direction of array axis i
    lps = np.eye(4)
    lps[:n, :n] = directions.T * spacing
    lps[:n, 3] = origin
    return LPS_TO_RAS @ lps


def _is_true(value: str | None) -> bool:
    return str(value or "").strip().lower() == "true"
