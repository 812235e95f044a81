"""Helpers shared by the subcommands: per-input error handling, output files and progress."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TypeVar

from mmrqa.errors import MMRQAError, OutputError

T = TypeVar("T")
R = TypeVar("R")


def report_error(message: str) -> None:
    """Print one failure the way every command does: `error: ...` on stderr."""
    print(f"error: {message}", file=sys.stderr, flush=True)


def map_inputs(inputs: Iterable[T], func: Callable[[T], R]) -> Iterator[tuple[T, R | None]]:
    """Apply ``func`` to each input, reporting an ``MMRQAError`` and moving on to the next one.

    Yields ``(input, result)``; ``result`` is None for an input that failed (already reported).
    """
    for item in inputs:
        try:
            yield item, func(item)
        except MMRQAError as exc:
            report_error(str(exc))
            yield item, None


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` through a temp file and a rename: a kill leaves the old file or the new one."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: str | os.PathLike, payload: bytes) -> None:
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc


def progress(iterable: Iterable[T], total: int | None = None, desc: str = "", enabled: bool | None = None):
    """A tqdm progress bar on stderr, shown only for several items on an interactive terminal unless forced."""
    from tqdm.auto import tqdm

    if enabled is None:
        enabled = (total or 0) > 1 and sys.stderr.isatty()
    return tqdm(iterable, total=total, desc=desc, disable=not enabled, file=sys.stderr, leave=False)
