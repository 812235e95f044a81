"""Crash-safe file output: every file MMRQA writes goes through a temp file in the target folder and a rename.

``os.replace`` is atomic on POSIX and Windows, so a process killed at any moment leaves either the old file or the new
one, never a torn mix. A failure to write (read-only folder, full disk) becomes an ``OutputError`` naming the file,
and the temp file is removed.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mmrqa.errors import OutputError


@contextmanager
def atomic_output(path: str | os.PathLike, *, suffix: str = ".tmp", what: str = "") -> Iterator[Path]:
    """Yield a temp path next to ``path`` for a writer to fill; on success it is renamed over ``path``.

    Args:
        path: the final file.
        suffix: the temp file's suffix, for writers that infer the format from it (``nib.save`` needs ``.nii.gz``).
        what: a word for the error message (e.g. "the scan cache").

    Raises:
        OutputError: the folder cannot be created or written, or the writer raised an ``OSError``.
    """
    path = Path(path)
    label = f"{what} {path}" if what else str(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
        os.close(fd)
    except OSError as exc:
        raise OutputError(f"cannot write {label}: {exc.strerror or exc}") from exc
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"cannot write {label}: {exc.strerror or exc}") from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: str | os.PathLike, payload: bytes) -> None:
    """Write ``payload`` to ``path`` atomically (flushed and fsynced before the rename)."""
    with atomic_output(path) as tmp, os.fdopen(os.open(tmp, os.O_WRONLY | os.O_TRUNC), "wb") as handle:
        handle.write(payload)
        handle.flush()
        os.fsync(handle.fileno())


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically: a kill leaves the old file or the new one."""
    write_bytes_atomic(path, text.encode("utf-8"))
