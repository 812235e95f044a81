"""On-disk cache of finished scans, so that a build killed midway resumes without redoing them.

A scan's key is the SHA-256 of its file content (every file of a DICOM folder), its task (subject, labels, name),
the settings that determine its rows (``BuildConfig.scan_settings()``) and :data:`CACHE_VERSION`; its rows are stored
as one Parquet file ``<dir>/<key[:2]>/<key>.parquet`` with the dataset schema, written to a temp file and renamed,
so a kill leaves either no entry or a complete one. Changing the scan, its labels or a setting gives a new key;
moving the input folder or changing ``num_proc`` or the split ratios does not.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from mmrqa.fileio import atomic_output

# pyarrow (~0.3 s) is imported in the functions that read and write cache entries.

logger = logging.getLogger(__name__)

#: bump when the rows made from the same scan and settings change (a new column, a new question template...).
CACHE_VERSION = "1"
_CHUNK = 1 << 20


def content_hash(path: str | os.PathLike) -> str:
    """SHA-256 of a file, or of a folder's files (relative names and contents, in sorted order)."""
    path = Path(path)
    digest = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        if file != path:
            digest.update(file.relative_to(path).as_posix().encode() + b"\0")
        with file.open("rb") as handle:
            for chunk in iter(lambda h=handle: h.read(_CHUNK), b""):
                digest.update(chunk)
    return digest.hexdigest()


def scan_key(task: Any, settings: dict[str, Any]) -> str:
    """The cache key of a scan task under build settings (see the module doc)."""
    identity = {k: v for k, v in dataclasses.asdict(task).items() if k != "path"}
    payload = {"content": content_hash(task.path), "task": identity, "settings": settings, "version": CACHE_VERSION}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


class ScanCache:
    """Parquet files of finished scans under ``directory`` (None disables caching)."""

    def __init__(self, directory: str | os.PathLike | None) -> None:
        self.directory = Path(directory) if directory is not None else None

    def path(self, key: str) -> Path | None:
        return None if self.directory is None else self.directory / key[:2] / f"{key}.parquet"

    def has(self, key: str) -> bool:
        path = self.path(key)
        return path is not None and path.is_file()

    def put(self, key: str, table) -> None:
        """Store a scan's rows (a pyarrow Table) atomically."""
        path = self.path(key)
        if path is None:
            return
        import pyarrow.parquet as pq

        with atomic_output(path, what="the scan cache") as tmp:
            pq.write_table(table, tmp)

    def get(self, key: str):
        """The cached rows of a scan as a pyarrow Table, or None (missing or unreadable: then it is rebuilt)."""
        path = self.path(key)
        if path is None or not path.is_file():
            return None
        import pyarrow.parquet as pq

        try:
            return pq.read_table(path)
        except Exception as exc:  # noqa: BLE001 - a damaged entry is recomputed, never fatal
            logger.warning("cache entry %s is unreadable (%s); recomputing the scan", path, exc)
            return None
