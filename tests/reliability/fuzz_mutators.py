"""Mutations of seed scans: byte-level damage and format-aware header/payload changes.

Every mutator is ``mutate(seed, rng) -> Seed`` and deterministic given ``rng`` (a ``random.Random``), so a case is
replayed from ``(seed name, mutator name, integer seed)``. Byte-level mutators (bit flips, "interesting" bytes and
integers, truncation, chunk deletion/duplication) act on a random file of the seed; for gzip files they act either
on the compressed stream (gzip damage) or on the content, recompressed (so the parser sees it). Structured
mutators rewrite one header field of the format to a hostile value (huge or negative dimensions, unknown data
types, NaN/Inf scaling, offsets beyond the file, DICOM Rows/Columns/BitsAllocated/NumberOfFrames/transfer syntax,
MetaImage DimSize/ElementType/ElementDataFile, HDF5 shapes and dtypes, PNG/TIFF sizes) or rebuild the payload with
NaN/Inf/extreme values and unusual dtypes.
"""

from __future__ import annotations

import gzip
import io
import random
import struct
import zlib
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
from fuzz_corpus import ISMRMRD_HEADER, Seed

Mutator = Callable[[Seed, random.Random], Seed]

INTERESTING_BYTES = (0x00, 0x01, 0x7F, 0x80, 0xFF, 0x20, 0x3F)
INTERESTING_INTS = (0, 1, -1, 2, 255, 256, 32767, -32768, 65535, 2**31 - 1, -(2**31), 2**20, 10**6)
INTERESTING_FLOATS = (0.0, -0.0, -1.0, 1e-45, 1e38, -1e38, 3.4e38, float("nan"), float("inf"), float("-inf"))
#: Bytes of a file's start treated as header (where mutations hurt most).
HEADER_REGION = 1024


# ----------------------------------------------------------------------------- helpers


def _pick_file(seed: Seed, rng: random.Random) -> str:
    return rng.choice(sorted(seed.files))


def _with_file(seed: Seed, rel: str, payload: bytes) -> Seed:
    return replace(seed, files={**seed.files, rel: payload})


def _is_gzip(payload: bytes) -> bool:
    return payload[:2] == b"\x1f\x8b"


def _position(rng: random.Random, size: int) -> int:
    """A byte position, biased to the header region half of the time."""
    if size <= 1:
        return 0
    return rng.randrange(min(size, HEADER_REGION)) if rng.random() < 0.5 else rng.randrange(size)


def _bytes_mutator(damage: Callable[[bytearray, random.Random], bytes]) -> Mutator:
    """Lift a bytes -> bytes damage to a seed; gzip files are damaged outside or inside the compression."""

    def mutate(seed: Seed, rng: random.Random) -> Seed:
        rel = _pick_file(seed, rng)
        payload = seed.files[rel]
        if _is_gzip(payload) and rng.random() < 0.5:
            try:
                inner = gzip.decompress(payload)
            except (OSError, EOFError, zlib.error):  # already damaged by an earlier mutation
                inner = None
            if inner is not None:
                return _with_file(seed, rel, gzip.compress(damage(bytearray(inner), rng), mtime=0))
        return _with_file(seed, rel, damage(bytearray(payload), rng))

    mutate.__name__ = damage.__name__
    return mutate


# ----------------------------------------------------------------------------- byte-level damage


def bit_flips(buf: bytearray, rng: random.Random) -> bytes:
    for _ in range(rng.randint(1, 16)):
        pos = _position(rng, len(buf))
        buf[pos] ^= 1 << rng.randrange(8)
    return bytes(buf)


def interesting_bytes(buf: bytearray, rng: random.Random) -> bytes:
    for _ in range(rng.randint(1, 8)):
        buf[_position(rng, len(buf))] = rng.choice(INTERESTING_BYTES)
    return bytes(buf)


def interesting_int(buf: bytearray, rng: random.Random) -> bytes:
    fmt = rng.choice(("<h", ">h", "<i", ">i", "<q", ">q", "<f", ">f", "<d", ">d"))
    value: Any = rng.choice(INTERESTING_FLOATS if fmt[1] in "fd" else INTERESTING_INTS)
    if fmt[1] in "hiq":
        bits = {"h": 16, "i": 32, "q": 64}[fmt[1]]
        value = max(-(2 ** (bits - 1)), min(2 ** (bits - 1) - 1, int(value)))
    packed = struct.pack(fmt, value)
    pos = _position(rng, max(1, len(buf) - len(packed)))
    buf[pos : pos + len(packed)] = packed
    return bytes(buf)


def truncate(buf: bytearray, rng: random.Random) -> bytes:
    return bytes(buf[: _position(rng, len(buf))])


def delete_chunk(buf: bytearray, rng: random.Random) -> bytes:
    start = _position(rng, len(buf))
    del buf[start : start + rng.randint(1, 512)]
    return bytes(buf) or b"\x00"


def duplicate_chunk(buf: bytearray, rng: random.Random) -> bytes:
    start = _position(rng, len(buf))
    chunk = buf[start : start + rng.randint(1, 512)]
    at = _position(rng, len(buf))
    return bytes(buf[:at] + chunk + buf[at:])


def random_overwrite(buf: bytearray, rng: random.Random) -> bytes:
    start = _position(rng, len(buf))
    n = rng.randint(1, 64)
    buf[start : start + n] = bytes(rng.getrandbits(8) for _ in range(n))
    return bytes(buf)


def gzip_damage(seed: Seed, rng: random.Random) -> Seed:
    """Damage the gzip container itself: header flags, CRC/size trailer, a cut stream or trailing garbage."""
    rel = _pick_file(seed, rng)
    payload = bytearray(seed.files[rel])
    if not _is_gzip(payload):
        payload = bytearray(gzip.compress(bytes(payload), mtime=0))
    kind = rng.choice(("flags", "crc", "size", "cut", "garbage", "member"))
    if kind == "flags":
        payload[3] = rng.choice((0x04, 0x08, 0x10, 0xFF))
    elif kind == "crc":
        payload[-8:-4] = rng.getrandbits(32).to_bytes(4, "little")
    elif kind == "size":
        payload[-4:] = rng.choice((0, 1, 2**32 - 1)).to_bytes(4, "little")
    elif kind == "cut":
        payload = payload[: rng.randrange(10, len(payload))]
    elif kind == "garbage":
        payload += bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 64)))
    else:  # a second member holding a bomb-like run of zeros
        payload += gzip.compress(b"\x00" * rng.choice((1, 10**6, 8 * 10**6)), mtime=0)
    return _with_file(seed, rel, bytes(payload))


def wrong_extension(seed: Seed, rng: random.Random) -> Seed:
    """The same bytes under another format's extension (a .nii named .dcm, a PNG named .mha...)."""
    if seed.main not in seed.files:
        return seed
    ext = rng.choice((".nii", ".nii.gz", ".mgz", ".dcm", ".mha", ".h5", ".png", ".jpg", ".tiff", ""))
    new_main = "renamed" + ext
    files = {k: v for k, v in seed.files.items() if k != seed.main}
    files[new_main] = seed.files[seed.main]
    return replace(seed, files=files, main=new_main)


# ----------------------------------------------------------------------------- NIfTI / MGH headers


def _header_field(seed: Seed, rng: random.Random, header_dtype: np.dtype, values: dict[str, tuple]) -> Seed:
    rel = seed.main
    payload = seed.files[rel]
    compressed = _is_gzip(payload)
    buf = bytearray(gzip.decompress(payload) if compressed else payload)
    name = rng.choice(sorted(values))
    base, offset = header_dtype.fields[name][:2]
    big = seed.family == "mgh" or struct.unpack("<i", bytes(buf[:4]))[0] not in (348, 540)
    item = base.base if base.subdtype else base
    item = item.newbyteorder(">" if big else "<")
    count = int(np.prod(base.shape)) if base.subdtype else 1
    index = rng.randrange(count)
    value = rng.choice(values[name])
    if item.kind in "iu":
        info = np.iinfo(item)
        value = int(max(info.min, min(info.max, value)))
    elif item.kind == "S":
        value = bytes(value)
    packed = np.array([value], dtype=item).tobytes()
    at = offset + index * item.itemsize
    buf[at : at + len(packed)] = packed
    out = bytes(buf)
    return _with_file(seed, rel, gzip.compress(out, mtime=0) if compressed else out)


_DIMS = (0, -1, 1, 2, 3, 4, 5, 7, 8, 32767, -32768, 2**31 - 1, 2**40)
_DATATYPES = (0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 768, 1024, 1280, 1536, 1792, 2048, 2304, 9999, -1)
NIFTI_VALUES: dict[str, tuple] = {
    "sizeof_hdr": (0, 347, 349, 540, 348, -1),
    "dim": _DIMS,
    "datatype": _DATATYPES,
    "bitpix": (0, 1, 7, 8, 16, 32, 64, 128, -8),
    "pixdim": INTERESTING_FLOATS,
    "vox_offset": (0.0, -1.0, 351.0, 353.0, 1e20, 2**31, float("nan"), float("inf"), 10**6),
    "scl_slope": INTERESTING_FLOATS,
    "scl_inter": INTERESTING_FLOATS,
    "qform_code": (0, 1, 2, 3, 4, 99, -1),
    "sform_code": (0, 1, 2, 3, 4, 99, -1),
    "quatern_b": INTERESTING_FLOATS,
    "srow_x": INTERESTING_FLOATS,
    "dim_info": (0, 1, 2, 3, 0x3F, 0xFF),
    "magic": (b"n+1\x00", b"ni1\x00", b"n+2\x00", b"\x00\x00\x00\x00", b"zzzz"),
}
MGH_VALUES: dict[str, tuple] = {
    "version": (0, 1, 2, -1),
    "dims": _DIMS,
    "type": (0, 1, 3, 4, 5, 6, 99, -1),
    "goodRASFlag": (0, 1, -1),
    "delta": INTERESTING_FLOATS,
    "Mdc": INTERESTING_FLOATS,
    "tr": INTERESTING_FLOATS,
}


def nifti_header(seed: Seed, rng: random.Random) -> Seed:
    import nibabel as nib

    header = nib.Nifti2Header if seed.family == "nifti2" else nib.Nifti1Header
    values = {k: v for k, v in NIFTI_VALUES.items() if k in header.template_dtype.fields}
    if seed.family == "nifti2":
        values["magic"] = (b"n+2\x00\r\n\x1a\n", b"n+1\x00\x00\x00\x00\x00", b"zzzzzzzz")
        values["sizeof_hdr"] = (0, 348, 539, 541, -1)
    return _header_field(seed, rng, header.template_dtype, values)


def mgh_header(seed: Seed, rng: random.Random) -> Seed:
    from nibabel.freesurfer.mghformat import MGHHeader

    return _header_field(seed, rng, MGHHeader.template_dtype, MGH_VALUES)


def nifti_payload(seed: Seed, rng: random.Random) -> Seed:
    """Rewrite the voxels with an unusual dtype and NaN/Inf/extreme values, keeping the geometry."""
    import nibabel as nib

    rel = seed.main
    raw = seed.files[rel]
    compressed = _is_gzip(raw)
    img = nib.Nifti1Image.from_bytes(gzip.decompress(raw) if compressed else raw)
    data = np.asarray(img.dataobj, dtype=np.float64)
    data = _hostile_values(data, rng)
    dtype = rng.choice((np.float32, np.float64, np.int8, np.uint8, np.int16, np.uint16, np.int64, np.complex64))
    with np.errstate(all="ignore"):
        cast = data.astype(dtype) if np.dtype(dtype).kind in "fc" else np.nan_to_num(data).astype(dtype)
    payload = bytearray(nib.Nifti1Image(cast, img.affine, dtype=cast.dtype).to_bytes())
    if rng.random() < 0.3:  # scl_slope / scl_inter written raw (nibabel refuses to set 0 or Inf itself)
        payload[112:120] = struct.pack("<ff", rng.choice(INTERESTING_FLOATS), rng.choice(INTERESTING_FLOATS))
    payload = bytes(payload)
    return _with_file(seed, rel, gzip.compress(payload, mtime=0) if compressed else payload)


def _hostile_values(data: np.ndarray, rng: random.Random) -> np.ndarray:
    data = data.copy()
    flat = data.reshape(-1)
    if flat.size == 0:
        return data
    kind = rng.choice(("all_nan", "some_nan", "some_inf", "huge", "tiny", "negative", "constant", "one_voxel"))
    if kind == "all_nan":
        flat[:] = np.nan
    elif kind == "some_nan":
        flat[:: rng.randint(2, 50)] = np.nan
    elif kind == "some_inf":
        flat[:: rng.randint(2, 500)] = rng.choice((np.inf, -np.inf))
    elif kind == "huge":  # the float32 limit, or a large but plausible scale (raw scanner units)
        flat *= rng.choice((3.4e38, 1e9)) / max(float(np.nanmax(np.abs(flat))), 1.0)
    elif kind == "tiny":
        flat *= 1e-42
    elif kind == "negative":
        flat *= -1.0
    elif kind == "constant":
        flat[:] = rng.choice((0.0, 1.0, 1e30))
    else:
        flat[:] = 0.0
        flat[rng.randrange(flat.size)] = 1.0
    return data


# ----------------------------------------------------------------------------- DICOM


_TRANSFER_SYNTAXES = (
    "1.2.840.10008.1.2",  # implicit VR little endian
    "1.2.840.10008.1.2.2",  # explicit VR big endian (retired)
    "1.2.840.10008.1.2.1.99",  # deflated
    "1.2.840.10008.1.2.4.50",  # JPEG baseline
    "1.2.840.10008.1.2.4.90",  # JPEG 2000
    "1.2.840.10008.1.2.5",  # RLE
    "1.2.3.4.5.6",  # unknown
)
DICOM_VALUES: dict[str, tuple] = {
    "Rows": (0, 1, 2, 63, 65, 65535),
    "Columns": (0, 1, 2, 63, 65, 65535),
    "BitsAllocated": (0, 1, 8, 12, 24, 32, 64, 65535),
    "BitsStored": (0, 1, 8, 17, 64),
    "HighBit": (0, 7, 15, 31, 99),
    "PixelRepresentation": (0, 1, 2),
    "SamplesPerPixel": (0, 2, 3, 4),
    "PlanarConfiguration": (0, 1, 7),
    "PhotometricInterpretation": ("RGB", "PALETTE COLOR", "YBR_FULL", "MONOCHROME1", "XYZ"),
    "NumberOfFrames": ("0", "-1", "abc", "11", "1000000000", "2147483647", "1e9"),
    "RescaleSlope": ("nan", "inf", "-inf", "0", "1e38", "abc"),
    "RescaleIntercept": ("nan", "inf", "1e38", "abc"),
    "PixelSpacing": (["0", "0"], ["nan", "1"], ["inf", "inf"], ["-1", "-1"], ["1"], ["a", "b"]),
    "ImagePositionPatient": (["nan", "0", "0"], ["1", "2"], ["1e308", "0", "0"], ["a", "b", "c"]),
    "ImageOrientationPatient": (["0"] * 6, ["1", "0", "0", "1", "0", "0"], ["nan"] * 6, ["1", "0", "0"]),
    "SliceThickness": ("0", "-5", "nan", "inf"),
    "SpacingBetweenSlices": ("0", "-5", "nan"),
    "InPlanePhaseEncodingDirection": ("ROW", "COL", "OTHER"),
}


def dicom_element(seed: Seed, rng: random.Random) -> Seed:
    """Set one image element of one file to a hostile value (validation off, as a careless writer would)."""
    import pydicom
    from pydicom import config
    from pydicom.uid import UID

    rel = _pick_file(seed, rng)
    ds = pydicom.dcmread(io.BytesIO(seed.files[rel]))
    keyword = rng.choice(sorted(DICOM_VALUES) + ["TransferSyntaxUID", "delete", "PerFrame"])
    saved = config.settings.writing_validation_mode
    config.settings.writing_validation_mode = config.IGNORE
    try:
        if keyword == "TransferSyntaxUID":
            ds.file_meta.TransferSyntaxUID = UID(rng.choice(_TRANSFER_SYNTAXES))
        elif keyword == "delete":
            for kw in rng.sample(("Rows", "Columns", "BitsAllocated", "PixelData", "ImagePositionPatient"), 2):
                if kw in ds:
                    delattr(ds, kw)
        elif keyword == "PerFrame":
            _damage_functional_groups(ds, rng)
        else:
            _set_element(ds, keyword, rng.choice(DICOM_VALUES[keyword]))
        buffer = io.BytesIO()
        ds.save_as(buffer, implicit_vr=False, little_endian=True)
    except Exception:  # a value pydicom itself cannot encode: damage the raw bytes instead
        return _bytes_mutator(interesting_int)(seed, rng)
    finally:
        config.settings.writing_validation_mode = saved
    return _with_file(seed, rel, buffer.getvalue())


def _set_element(ds: Any, keyword: str, value: Any) -> None:
    from pydicom.datadict import dictionary_VR, tag_for_keyword
    from pydicom.dataelem import DataElement

    tag = tag_for_keyword(keyword)
    vr = dictionary_VR(tag)
    if vr in ("US", "SS", "UL", "SL") and isinstance(value, int):
        value = max(0, min(65535, value)) if vr == "US" else value
    if vr in ("IS", "DS") or isinstance(value, str) or isinstance(value, list):
        vr = "LO" if vr not in ("CS", "LO") and any(not _numeric(v) for v in _as_list(value)) else vr
        value = "\\".join(_as_list(value)) if isinstance(value, list) else str(value)
    ds[tag] = DataElement(tag, vr, value)


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _numeric(text: Any) -> bool:
    try:
        float(text)
    except (TypeError, ValueError):
        return False
    return True


def _damage_functional_groups(ds: Any, rng: random.Random) -> None:
    per_frame = ds.get("PerFrameFunctionalGroupsSequence")
    if not per_frame:
        ds.NumberOfFrames = str(rng.choice((2, 10, 64)))
        return
    action = rng.choice(("drop_items", "drop_position", "empty"))
    if action == "drop_items":
        del per_frame[rng.randrange(len(per_frame)) :]
    elif action == "drop_position":
        item = per_frame[rng.randrange(len(per_frame))]
        if "PlanePositionSequence" in item:
            del item.PlanePositionSequence
    else:
        ds.PerFrameFunctionalGroupsSequence = []


def dicom_pixeldata(seed: Seed, rng: random.Random) -> Seed:
    """Cut, pad or replace the pixel data (odd length, empty, float pixel data with NaN)."""
    import pydicom

    rel = _pick_file(seed, rng)
    ds = pydicom.dcmread(io.BytesIO(seed.files[rel]))
    data = bytes(ds.PixelData)
    action = rng.choice(("cut", "odd", "empty", "pad", "nan_float"))
    if action == "cut":
        ds.PixelData = data[: rng.randrange(len(data)) // 2 * 2]
    elif action == "odd":
        ds.PixelData = data[:-1]
    elif action == "empty":
        ds.PixelData = b""
    elif action == "pad":
        ds.PixelData = data + b"\x00" * rng.choice((2, 8192))
    else:
        del ds.PixelData
        values = np.full(int(ds.Rows) * int(ds.Columns) * int(ds.get("NumberOfFrames", 1)), np.nan, np.float32)
        values[:: rng.randint(2, 9)] = 1.0
        ds.FloatPixelData = values.tobytes()
        ds.BitsAllocated = 32
    buffer = io.BytesIO()
    ds.save_as(buffer)
    return _with_file(seed, rel, buffer.getvalue())


# ----------------------------------------------------------------------------- MetaImage

MHA_VALUES: dict[str, tuple] = {
    "NDims": ("0", "1", "2", "4", "5", "x", "-3"),
    "DimSize": ("0 0 0", "-1 41 25", "100000 100000 100000", "33 41", "a b c", "2147483647 2 1", "33 41 25 1 1"),
    "ElementType": ("MET_FOO", "MET_FLOAT", "MET_DOUBLE", "MET_UCHAR", "MET_ULONG_LONG", ""),
    "ElementSpacing": ("0 0 0", "nan nan nan", "1", "-2 -2 -2", "inf 1 1"),
    "TransformMatrix": ("nan 0 0 0 1 0 0 0 1", "0 0 0 0 0 0 0 0 0", "1 0", "a b c d e f g h i"),
    "Offset": ("nan nan nan", "1e308 1e308 1e308", "0"),
    "CompressedData": ("True", "False", "maybe"),
    "CompressedDataSize": ("0", "-1", "99999999999"),
    "HeaderSize": ("-1", "-5", "999999999", "abc"),
    "BinaryDataByteOrderMSB": ("True", "False"),
    "ElementNumberOfChannels": ("0", "3", "x"),
    "ElementDataFile": ("/etc/passwd", "../outside.raw", "missing.raw", "LIST", "im%03d.raw 1 3 1", "LOCAL", "."),
}


def metaimage_header(seed: Seed, rng: random.Random) -> Seed:
    rel = seed.main
    raw = seed.files[rel]
    end = raw.find(b"ElementDataFile")
    end = raw.find(b"\n", end) + 1 if end >= 0 else 0
    lines = raw[:end].decode("latin-1").splitlines()
    key = rng.choice(sorted(MHA_VALUES))
    value = rng.choice(MHA_VALUES[key])
    new_line = f"{key} = {value}"
    for i, line in enumerate(lines):
        if line.split("=", 1)[0].strip() == key:
            lines[i] = new_line
            break
    else:
        lines.insert(max(0, len(lines) - 1), new_line)
    header = ("\n".join(lines) + "\n").encode("latin-1")
    return _with_file(seed, rel, header + raw[end:])


def metaimage_payload(seed: Seed, rng: random.Random) -> Seed:
    """Replace the voxel payload: a zlib bomb, a damaged zlib stream, NaN floats or a short raw block."""
    rel = seed.main
    raw = seed.files[rel]
    start = raw.find(b"\n", raw.find(b"ElementDataFile")) + 1
    header = raw[:start].decode("latin-1")
    action = rng.choice(("zlib_bomb", "zlib_damage", "nan_float", "short"))
    n = 33 * 41 * 25
    if action == "zlib_bomb":
        payload = zlib.compress(b"\x00" * (64 * 2**20))
        header = _mha_set(header, "CompressedData", "True")
    elif action == "zlib_damage":
        payload = bytearray(zlib.compress(bytes(n * 2)))
        payload[rng.randrange(len(payload))] ^= 0xFF
        payload = bytes(payload)
        header = _mha_set(header, "CompressedData", "True")
    elif action == "nan_float":
        values = np.full(n, np.nan, np.float32)
        values[:: rng.randint(2, 9)] = rng.choice((1.0, 3.4e38, -np.inf))
        payload = values.tobytes()
        header = _mha_set(_mha_set(header, "ElementType", "MET_FLOAT"), "CompressedData", "False")
    else:
        payload = bytes(rng.randrange(0, 2 * n))
        header = _mha_set(header, "CompressedData", "False")
    if "ElementDataFile = LOCAL" not in header:
        data_name = header.split("ElementDataFile =", 1)[1].strip()
        return replace(seed, files={**seed.files, rel: header.encode("latin-1"), data_name: payload})
    return _with_file(seed, rel, header.encode("latin-1") + payload)


def _mha_set(header: str, key: str, value: str) -> str:
    lines = [line for line in header.splitlines() if line.split("=", 1)[0].strip() != key]
    lines.insert(len(lines) - 1, f"{key} = {value}")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- fastMRI HDF5


def fastmri_rebuild(seed: Seed, rng: random.Random) -> Seed:
    """A fastMRI-like file with hostile shapes, dtypes, values or ISMRMRD header."""
    import h5py

    rel = seed.main
    shapes = ((0, 64, 64), (3, 0, 64), (1, 64), (2, 1, 1, 64, 64), (1, 100000, 64, 64), (10**6, 64, 64), (3, 64, 64))
    dtypes = (np.complex64, np.complex128, np.float32, np.int16, np.uint8, "S4", np.bool_)
    headers = (
        ISMRMRD_HEADER.format(rows=64, cols=64, fov=200.0),
        ISMRMRD_HEADER.format(rows=-5, cols=64, fov=200.0),
        ISMRMRD_HEADER.format(rows=100000, cols=100000, fov="nan"),
        ISMRMRD_HEADER.format(rows=0, cols=0, fov=0),
        '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]><x>&d;</x>',
        "<not xml",
        "\xff\xfe garbage",
    )
    key = rng.choice(("kspace", "reconstruction_rss", "both", "neither"))
    shape = rng.choice(shapes)
    dtype = rng.choice(dtypes)
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as handle:
        for name in ("kspace", "reconstruction_rss") if key == "both" else (key,):
            if name == "neither":
                handle.create_dataset("something_else", data=np.zeros(4))
                continue
            big = int(np.prod(shape, dtype=np.float64)) > 10**6
            if big:  # declared, never written: the file stays tiny, reading it would allocate the lot
                handle.create_dataset(name, shape=shape, dtype=dtype, chunks=tuple(max(1, min(s, 8)) for s in shape))
            else:
                handle.create_dataset(name, data=_h5_values(shape, dtype, rng))
        if rng.random() < 0.8:
            text = rng.choice(headers).encode("utf-8", "surrogateescape")
            handle.create_dataset("ismrmrd_header", data=text if rng.random() < 0.8 else np.arange(3))
    return _with_file(seed, rel, buffer.getvalue())


def _h5_values(shape: tuple, dtype: Any, rng: random.Random) -> np.ndarray:
    gen = np.random.default_rng(rng.getrandbits(32))
    if np.dtype(dtype).kind == "S":
        return np.full(shape, b"ab", dtype=dtype)
    values = gen.normal(size=shape) + 10.0
    if rng.random() < 0.4:
        values = _hostile_values(values, rng)
    if np.dtype(dtype).kind == "c":
        return (values + 1j * values).astype(dtype)
    with np.errstate(all="ignore"):
        return np.nan_to_num(values).astype(dtype) if np.dtype(dtype).kind in "iub" else values.astype(dtype)


# ----------------------------------------------------------------------------- PNG / JPEG / TIFF


def image_rebuild(seed: Seed, rng: random.Random) -> Seed:
    """Re-save the picture in an unusual mode, or declare a huge size in the PNG header (CRC fixed)."""
    from PIL import Image

    rel = seed.main
    ext = rel.rsplit(".", 1)[1].lower()
    if ext == "png" and rng.random() < 0.5:
        return _with_file(seed, rel, _png_resize_header(seed.files[rel], rng))
    image = Image.open(io.BytesIO(seed.files[rel]))
    base = np.asarray(image.convert("F"), dtype=np.float32)
    if ext in ("tif", "tiff"):
        mode = rng.choice(("F", "I", "I;16", "1", "L", "P", "RGB", "RGBA", "LA", "CMYK"))
    elif ext == "png":
        mode = rng.choice(("1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"))
    else:
        mode = rng.choice(("L", "RGB", "CMYK"))
    if mode == "F":
        out = Image.fromarray(_hostile_values(base.astype(np.float64), rng).astype(np.float32), mode="F")
    elif mode in ("I", "I;16"):
        out = Image.fromarray(base.astype(np.int32)).convert(mode)
    else:
        out = Image.fromarray(base.astype(np.uint8)).convert(mode)
    buffer = io.BytesIO()
    out.save(buffer, format=image.format)
    return _with_file(seed, rel, buffer.getvalue())


def _png_resize_header(png: bytes, rng: random.Random) -> bytes:
    """Set IHDR width/height (and bit depth/colour type) to hostile values and fix the chunk CRC."""
    width, height = rng.choice(((0, 64), (64, 0), (2**31 - 1, 2**31 - 1), (100000, 100000), (65, 63), (1, 1)))
    depth = rng.choice((1, 8, 16, 3, 0)) if rng.random() < 0.3 else png[24]
    colour = rng.choice((0, 2, 3, 4, 6, 7)) if rng.random() < 0.3 else png[25]
    body = b"IHDR" + struct.pack(">IIBB", width, height, depth, colour) + png[26:29]
    return png[:12] + body + struct.pack(">I", zlib.crc32(body)) + png[33:]


# ----------------------------------------------------------------------------- registry

GENERIC: dict[str, Mutator] = {
    f.__name__: _bytes_mutator(f)
    for f in (bit_flips, interesting_bytes, interesting_int, truncate, delete_chunk, duplicate_chunk, random_overwrite)
}
GENERIC["gzip_damage"] = gzip_damage
GENERIC["wrong_extension"] = wrong_extension

STRUCTURED: dict[str, dict[str, Mutator]] = {
    "nifti1": {"nifti_header": nifti_header, "nifti_payload": nifti_payload},
    "nifti2": {"nifti_header": nifti_header},
    "mgh": {"mgh_header": mgh_header},
    "dicom": {"dicom_element": dicom_element, "dicom_pixeldata": dicom_pixeldata},
    "metaimage": {"metaimage_header": metaimage_header, "metaimage_payload": metaimage_payload},
    "fastmri": {"fastmri_rebuild": fastmri_rebuild},
    "image": {"image_rebuild": image_rebuild},
}


def mutators_for(seed: Seed) -> dict[str, Mutator]:
    """Every mutator that applies to ``seed`` (generic and the ones of its family)."""
    return {**GENERIC, **STRUCTURED.get(seed.family, {})}


def mutate(seed: Seed, mutator: str, case_seed: int) -> Seed:
    """Apply one named mutator, then (one time in four) a second random byte-level one."""
    rng = random.Random(case_seed)
    out = mutators_for(seed)[mutator](seed, rng)
    if rng.random() < 0.25:
        out = GENERIC[rng.choice(sorted(set(GENERIC) - {"wrong_extension"}))](out, rng)
    return out
