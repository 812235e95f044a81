"""Uploaded scans leave a server soon after use: :class:`UploadSweeper` deletes them after a grace period.

A web front end (the Space) receives uploads into a cache folder of its toolkit. A stranger's scan should stay on
the server only ``$MMRQA_UPLOAD_GRACE_S`` (default 60) seconds after the request that read it; the scan lives on in
the session's memory only. Toolkits store uploads by content hash, so two users sending the same bytes share one
path: a file goes only when no request is reading it and it was neither read nor uploaded again during the grace
period. Files outside the upload folder (e.g. bundled examples served from an installed package) and those the
``keep`` test accepts (copies of bundled examples cached in the same folder) are never deleted.

Nothing here imports a UI toolkit: the front end passes its upload folder.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

logger = logging.getLogger(__name__)

GRACE_ENV = "MMRQA_UPLOAD_GRACE_S"
DEFAULT_GRACE_S = 60.0


def upload_grace() -> float:
    """Seconds an upload stays after its last use: ``$MMRQA_UPLOAD_GRACE_S`` (default 60; invalid values too)."""
    try:
        return max(0.0, float(os.environ.get(GRACE_ENV, str(DEFAULT_GRACE_S))))
    except ValueError:
        return DEFAULT_GRACE_S


class UploadSweeper:
    """Deletes uploaded files once no request reads them and their grace period is over.

    Args:
        folder: the upload folder, or a function returning it (read at each use: toolkits may set it late).
        keep: files for which it returns True are never deleted.
        grace: seconds after the last use (default :func:`upload_grace`, read at each use).
    """

    def __init__(
        self,
        folder: Path | Callable[[], Path],
        keep: Callable[[Path], bool] = lambda path: False,
        grace: float | None = None,
    ) -> None:
        self._folder = folder
        self._keep = keep
        self._grace = grace
        self._lock = threading.Lock()
        self._in_use: dict[Path, int] = {}
        self._done: dict[Path, float] = {}

    @property
    def grace(self) -> float:
        return upload_grace() if self._grace is None else self._grace

    def folder(self) -> Path:
        return Path(self._folder() if callable(self._folder) else self._folder).resolve()

    @contextlib.contextmanager
    def reading(self, file: str | os.PathLike) -> Iterator[Path]:
        """Mark ``file`` as being read for the duration of the block, then schedule its deletion."""
        path = Path(file).resolve()
        self._step(path, +1)
        try:
            yield path
        finally:
            self._step(path, -1)
            self.discard(path)

    def _step(self, path: Path, step: int) -> None:
        with self._lock:
            self._in_use[path] = self._in_use.get(path, 0) + step
            if self._in_use[path] <= 0:
                del self._in_use[path]

    def discard(self, path: Path) -> None:
        """Schedule the deletion of an upload (and of its folder once empty) when its grace period is over."""
        if self.folder() not in path.parents or self._keep(path):
            return
        with self._lock:
            self._done[path] = time.monotonic()
        timer = threading.Timer(self.grace + 0.1, self.sweep)
        timer.daemon = True
        timer.start()

    def sweep(self) -> None:
        """Delete the uploads whose grace period is over (see the module docstring)."""
        grace, now = self.grace, time.monotonic()
        with self._lock:
            for path, done in list(self._done.items()):
                try:
                    uploaded_ago = time.time() - path.stat().st_ctime  # an upload renames a new file into the path
                except OSError:
                    del self._done[path]
                    continue
                if path in self._in_use or now - done < grace or uploaded_ago < grace:
                    continue
                path.unlink(missing_ok=True)
                with contextlib.suppress(OSError):
                    path.parent.rmdir()
                del self._done[path]
                logger.debug("deleted upload %s", path.name)
