"""Safe handling of scans uploaded by strangers (the Gradio Space, any web front end).

An upload is either one scan file (any format of :mod:`mmrqa.io`) or a zip archive holding one scan: a DICOM series
(one file per slice), a MetaImage header with its raw data (``.mhd`` + ``.raw``), or a single file. The checks run
in the order that keeps a hostile upload cheapest:

1. the file's size, from ``stat`` before a byte is read, against ``max_bytes``
   (``$MMRQA_MAX_UPLOAD_BYTES``, default 512 MiB); an empty file is refused too;
2. for a zip, the central directory alone: too many entries, absolute paths, ``..`` components, drive letters,
   symbolic links, encrypted entries, a declared total size over ``max_unpacked_bytes`` or a compression ratio over
   ``max_ratio`` (a "zip bomb": deflate reaches ~1000:1 on constant data, while real images rarely exceed 20:1);
3. while extracting, the bytes actually written, so that a central directory that lies about sizes cannot get
   past the budget.

Archives are extracted into a fresh temporary folder that is removed when :func:`open_upload`'s ``with`` block
ends, whatever happens inside it. Error messages name the uploaded file by its own name, never the server's
temporary path.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any

from mmrqa.errors import CorruptScanError, MMRQAError, ScanTooLargeError, UnsupportedFormatError
from mmrqa.io import find_scans, load_volume
from mmrqa.io.common import byte_limit
from mmrqa.volume import Volume

logger = logging.getLogger(__name__)

MAX_UPLOAD_ENV = "MMRQA_MAX_UPLOAD_BYTES"
#: Default size limit of one upload: 512 MiB (a 512x512x300 int16 DICOM series is ~150 MiB).
DEFAULT_MAX_UPLOAD_BYTES = 512 * 1024**2
#: Default limit of the total extracted size of an archive: 1 GiB.
DEFAULT_MAX_UNPACKED_BYTES = 1024**3
#: At most this many entries in an archive (a DICOM series has one file per slice, rarely over 2000).
DEFAULT_MAX_ENTRIES = 4096
#: Highest accepted compression ratio of one entry (uncompressed / compressed size); see the module docstring.
DEFAULT_MAX_RATIO = 200.0
#: Entries smaller than this are never judged by their ratio (tiny files compress oddly).
RATIO_MIN_BYTES = 1024**2
_CHUNK = 1024**2
#: Archive members that are never part of a scan (macOS resource forks, Windows thumbnails).
_JUNK_PREFIXES = ("__MACOSX/",)
_JUNK_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}


class UnsafeArchiveError(MMRQAError):
    """An uploaded archive is refused: it could write outside its folder, exhaust memory or disk, or is encrypted."""


def max_upload_bytes(max_bytes: int | None = None) -> int:
    """The upload size limit in bytes: the argument, else ``$MMRQA_MAX_UPLOAD_BYTES``, else 512 MiB."""
    return byte_limit(max_bytes, MAX_UPLOAD_ENV, DEFAULT_MAX_UPLOAD_BYTES, "the upload size limit")


def _mib(n: float) -> str:
    return f"{n / 2**20:.1f} MiB"


def check_upload_size(path: str | os.PathLike, max_bytes: int | None = None, *, name: str | None = None) -> int:
    """Size of an uploaded file in bytes, after refusing a missing, empty or too large one (from ``stat`` only).

    Args:
        path: the uploaded file.
        max_bytes: size limit; ``None`` reads :func:`max_upload_bytes`.
        name: the name to show in messages (default: the file's name).

    Returns:
        The size in bytes.

    Raises:
        CorruptScanError: nothing was uploaded (missing path or empty file), or it is a folder.
        ScanTooLargeError: the file is larger than the limit.
    """
    path = Path(path)
    name = name or path.name
    limit = max_upload_bytes(max_bytes)
    try:
        st = path.stat()
    except OSError as exc:
        raise CorruptScanError(f"{name}: the upload did not arrive (no file on the server)") from exc
    if not stat.S_ISREG(st.st_mode):
        raise CorruptScanError(f"{name}: not a regular file; upload a scan file or a zip archive")
    if st.st_size == 0:
        raise CorruptScanError(f"{name}: empty file (0 bytes)")
    if st.st_size > limit:
        raise ScanTooLargeError(f"{name}: {_mib(st.st_size)} is over the upload limit of {_mib(limit)}")
    return int(st.st_size)


def is_zip(path: str | os.PathLike) -> bool:
    """True for a ``.zip`` name or a file starting with a zip signature (``PK\\x03\\x04`` or an empty archive's)."""
    path = Path(path)
    if path.suffix.lower() == ".zip":
        return True
    try:
        with open(path, "rb") as handle:
            head = handle.read(4)
    except OSError:
        return False
    return head in (b"PK\x03\x04", b"PK\x05\x06")


def _member_path(info: zipfile.ZipInfo, archive: str) -> PurePosixPath:
    """The relative path of a member, refusing absolute paths, drive letters and ``..`` components."""
    raw = info.filename.replace("\\", "/")
    parts = PurePosixPath(raw).parts
    if raw.startswith("/") or (parts and len(parts[0]) == 2 and parts[0][1] == ":"):
        raise UnsafeArchiveError(f"{archive}: entry {info.filename!r} has an absolute path; refused")
    if any(part == ".." for part in parts):
        raise UnsafeArchiveError(f"{archive}: entry {info.filename!r} points outside the archive (path traversal)")
    clean = [p for p in parts if p not in ("", ".")]
    if not clean:
        raise UnsafeArchiveError(f"{archive}: entry {info.filename!r} has an empty name")
    return PurePosixPath(*clean)


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    """Zip members made on Unix keep their mode in the upper 16 bits of ``external_attr``."""
    return stat.S_ISLNK(info.external_attr >> 16)


def _is_junk(relative: PurePosixPath) -> bool:
    text = str(relative)
    return text.startswith(_JUNK_PREFIXES) or relative.name in _JUNK_NAMES or relative.name.startswith("._")


def check_archive(
    members: list[zipfile.ZipInfo],
    archive: str,
    *,
    max_entries: int = DEFAULT_MAX_ENTRIES,
    max_unpacked_bytes: int = DEFAULT_MAX_UNPACKED_BYTES,
    max_ratio: float = DEFAULT_MAX_RATIO,
) -> list[tuple[zipfile.ZipInfo, PurePosixPath]]:
    """Judge an archive from its central directory alone; return the members to extract with their safe paths.

    Args:
        members: ``ZipFile.infolist()``.
        archive: the archive's name for messages.
        max_entries: most entries accepted (folders included).
        max_unpacked_bytes: most total declared uncompressed bytes.
        max_ratio: most uncompressed/compressed ratio of one entry of at least 1 MiB.

    Returns:
        ``(info, relative path)`` of every file to extract (folders and OS junk such as ``__MACOSX/`` skipped).

    Raises:
        UnsafeArchiveError: the first rule broken, naming the entry.
    """
    if len(members) > max_entries:
        raise UnsafeArchiveError(f"{archive}: {len(members)} entries, over the limit of {max_entries}")
    total = 0
    chosen = []
    for info in members:
        relative = _member_path(info, archive)
        if _is_symlink(info):
            raise UnsafeArchiveError(f"{archive}: entry {info.filename!r} is a symbolic link; refused")
        if info.flag_bits & 0x1:
            raise UnsafeArchiveError(f"{archive}: entry {info.filename!r} is encrypted; upload an unencrypted zip")
        if info.is_dir() or _is_junk(relative):
            continue
        total += info.file_size
        if total > max_unpacked_bytes:
            raise UnsafeArchiveError(
                f"{archive}: unpacks to more than {_mib(max_unpacked_bytes)} (limit); refused as a possible zip bomb"
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size >= RATIO_MIN_BYTES and ratio > max_ratio:
            raise UnsafeArchiveError(
                f"{archive}: entry {info.filename!r} is compressed {ratio:.0f}:1 (limit {max_ratio:.0f}:1); "
                "refused as a possible zip bomb"
            )
        chosen.append((info, relative))
    return chosen


def safe_extract(
    zip_path: str | os.PathLike,
    dest: str | os.PathLike,
    *,
    name: str | None = None,
    max_entries: int = DEFAULT_MAX_ENTRIES,
    max_unpacked_bytes: int = DEFAULT_MAX_UNPACKED_BYTES,
    max_ratio: float = DEFAULT_MAX_RATIO,
) -> list[Path]:
    """Extract a zip archive into ``dest`` after :func:`check_archive`, counting the bytes actually written.

    Returns:
        The extracted files.

    Raises:
        UnsafeArchiveError: a rule of :func:`check_archive` is broken, or the data outgrows its declared size.
        CorruptScanError: the file is not a readable zip archive.
    """
    name = name or Path(zip_path).name
    dest = Path(dest).resolve()
    written = 0
    files: list[Path] = []
    try:
        with zipfile.ZipFile(zip_path) as archive:
            members = check_archive(
                archive.infolist(),
                name,
                max_entries=max_entries,
                max_unpacked_bytes=max_unpacked_bytes,
                max_ratio=max_ratio,
            )
            for info, relative in members:
                target = dest.joinpath(*relative.parts)
                if dest not in target.resolve().parents:  # belt and braces after _member_path
                    raise UnsafeArchiveError(f"{name}: entry {info.filename!r} resolves outside the archive folder")
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(info) as source, open(target, "xb") as sink:
                    while chunk := source.read(_CHUNK):
                        written += len(chunk)
                        if written > max_unpacked_bytes:
                            raise UnsafeArchiveError(
                                f"{name}: unpacks to more than {_mib(max_unpacked_bytes)} (limit); refused"
                            )
                        sink.write(chunk)
                files.append(target)
    except FileExistsError as exc:
        raise UnsafeArchiveError(f"{name}: the archive holds the same entry twice ({exc.filename}); refused") from exc
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError, ValueError) as exc:
        raise CorruptScanError(f"{name}: not a readable zip archive ({exc})") from exc
    return files


def find_archive_scan(folder: Path, name: str) -> Path:
    """The one scan in an extracted archive: a DICOM series folder, a MetaImage header or a single scan file.

    Raises:
        UnsupportedFormatError: the archive holds no scan, or several (they are listed).
    """
    try:
        scans = find_scans(folder)
    except MMRQAError as exc:
        raise UnsupportedFormatError(f"{name}: the archive holds no scan in a supported format") from exc
    if len(scans) > 1:
        listed = ", ".join(_describe_scan(p, folder) for p in scans[:5])
        more = f" and {len(scans) - 5} more" if len(scans) > 5 else ""
        raise UnsupportedFormatError(f"{name}: the archive holds {len(scans)} scans ({listed}{more}); upload one")
    return scans[0]


def _describe_scan(scan: Path, folder: Path) -> str:
    relative = scan.relative_to(folder).as_posix()
    if scan.is_dir():
        return "a DICOM series at the top level" if relative == "." else f"a DICOM series in {relative}/"
    return relative


@contextmanager
def open_upload(
    path: str | os.PathLike,
    *,
    name: str | None = None,
    max_bytes: int | None = None,
    max_unpacked_bytes: int | None = None,
    tmp_root: str | os.PathLike | None = None,
) -> Iterator[Path]:
    """Context manager giving a path :func:`mmrqa.io.load_volume` can read, for an uploaded file or zip.

    Args:
        path: the uploaded file.
        name: the user's name for the file, shown in messages (default: ``path``'s name).
        max_bytes: upload size limit (see :func:`max_upload_bytes`).
        max_unpacked_bytes: extracted size limit of an archive (default: twice the upload limit, at most 1 GiB
            unless the upload limit is larger).
        tmp_root: parent of the temporary extraction folder (default: the system's temp folder).

    Yields:
        The scan path: the upload itself, or the scan inside the extracted archive (removed on exit).
    """
    name = name or Path(path).name
    size_limit = max_upload_bytes(max_bytes)
    check_upload_size(path, size_limit, name=name)
    if not is_zip(path):
        yield Path(path)
        return
    unpacked_limit = max_unpacked_bytes or max(DEFAULT_MAX_UNPACKED_BYTES, 2 * size_limit)
    folder = Path(tempfile.mkdtemp(prefix="mmrqa-upload-", dir=tmp_root))
    try:
        safe_extract(path, folder, name=name, max_unpacked_bytes=unpacked_limit)
        yield find_archive_scan(folder, name)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def load_upload(
    path: str | os.PathLike,
    *,
    name: str | None = None,
    max_bytes: int | None = None,
    tmp_root: str | os.PathLike | None = None,
    **load_kwargs: Any,
) -> Volume:
    """Load an uploaded scan or zip of one scan as a :class:`~mmrqa.volume.Volume`, with every check above.

    Args:
        path: the uploaded file.
        name: the user's name for the file (default: ``path``'s name); it becomes ``meta["source"]`` and names the
            file in error messages instead of the server's temporary path.
        max_bytes: upload size limit (see :func:`max_upload_bytes`).
        tmp_root: parent of the temporary extraction folder.
        **load_kwargs: passed to :func:`mmrqa.io.load_volume` (``canonical``, ``volume_index``...).

    Returns:
        The volume; ``meta["source"]`` is ``name`` (``name!inner/path`` for a scan inside an archive).

    Raises:
        MMRQAError: a subclass whose message names the upload and says what is wrong.
    """
    path = Path(path)
    name = name or path.name
    with open_upload(path, name=name, max_bytes=max_bytes, tmp_root=tmp_root) as scan:
        inner = _inner_name(path, scan)
        source = f"{name}!{inner}" if inner else name
        try:
            volume = load_volume(scan, **load_kwargs)
        except MMRQAError as exc:
            raise type(exc)(_rename(str(exc), scan, source)) from exc
    return volume.with_data(volume.data, source=source, upload_name=name)


def _inner_name(upload: Path, scan: Path) -> str:
    if scan == upload:
        return ""
    root = next((p for p in scan.parents if p.name.startswith("mmrqa-upload-")), None)
    return str(scan.relative_to(root)) if root is not None and scan != root else ""


def _rename(message: str, scan: Path, source: str) -> str:
    """Replace the server-side path of the scan (and its folder) by the user's name for it."""
    for candidate in (str(scan), str(scan.resolve())):
        message = message.replace(candidate, source)
    return message
