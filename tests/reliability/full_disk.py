"""A file wrapper that behaves like a file on a nearly full disk (shared by the write-failure tests)."""

from __future__ import annotations

import errno
import os


class FullDisk:
    """Wraps an open file: ``left`` bytes are written, then a write past them fails with ENOSPC (the bytes that
    still fitted are written and flushed first, as a real disk would leave them)."""

    def __init__(self, handle, left: int) -> None:
        self.handle, self.left = handle, left

    def write(self, data):
        if len(data) > self.left:
            self.handle.write(data[: self.left])
            self.handle.flush()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.left -= len(data)
        return self.handle.write(data)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.handle.close()

    def __getattr__(self, name):
        return getattr(self.handle, name)
