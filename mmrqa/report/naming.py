"""Names of the scans in a report: a readable name (the path below the cohort's common folder) and a stable id that
is safe as a file name (a slug of the name plus a hash of the full path, so two scans never share a page)."""

from __future__ import annotations

import hashlib
import os
import re

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
#: the slug part of an id is at most this long (the hash keeps ids unique).
SLUG_LENGTH = 48


def _common_folder(paths: list[str]) -> str:
    folders = [os.path.dirname(os.path.abspath(p)) for p in paths]
    if not folders:
        return ""
    try:
        return os.path.commonpath(folders)
    except ValueError:  # different drives
        return ""


def scan_ids(paths: list[str]) -> tuple[list[str], list[str]]:
    """(ids, display names) of ``paths``, in the same order."""
    root = _common_folder(paths)
    ids, names = [], []
    for path in paths:
        full = os.path.abspath(path)
        name = os.path.relpath(full, root) if root else full
        name = name.replace(os.sep, "/")
        slug = _UNSAFE.sub("_", name).strip("._")[-SLUG_LENGTH:] or "scan"
        digest = hashlib.sha1(full.encode("utf-8")).hexdigest()[:8]
        ids.append(f"{slug}-{digest}")
        names.append(name)
    return ids, names


def folder_of(name: str) -> str | None:
    """The folder part of a display name (None for a scan directly in the common folder)."""
    folder = name.rsplit("/", 1)[0] if "/" in name else ""
    return folder or None
