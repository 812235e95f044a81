"""Console helpers for every entry point (the ``mmrqa`` commands, the dataset builder, the engines): one
``error: ...`` line per failed input, exit codes without tracebacks, and a progress bar on stderr.

Floor 0: it imports only :mod:`mmrqa.errors` (and tqdm, inside :func:`progress`, to keep start-up fast).
Atomic file writes live in :mod:`mmrqa.fileio`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from mmrqa.errors import MMRQAError

__all__ = ["map_inputs", "progress", "report_error", "run_command"]

T = TypeVar("T")
R = TypeVar("R")


def report_error(message: str) -> None:
    """Print one failure the way every command does: `error: ...` on stderr."""
    print(f"error: {message}", file=sys.stderr, flush=True)


def run_command(body: Callable[[], int | None], interrupted: str = "interrupted") -> int:
    """Run a command's body as every entry point does: its exit code (None -> 0); an ``MMRQAError`` prints
    ``error: ...`` on stderr and exits 2, Ctrl-C prints ``error: <interrupted>`` and exits 130, never a traceback."""
    try:
        return int(body() or 0)
    except MMRQAError as exc:
        report_error(str(exc))
        return 2
    except KeyboardInterrupt:
        report_error(interrupted)
        return 130


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


def progress(iterable: Iterable[T], total: int | None = None, desc: str = "", enabled: bool | None = None):
    """A tqdm progress bar on stderr, shown only for several items on an interactive terminal unless forced."""
    from tqdm.auto import tqdm

    if enabled is None:
        enabled = (total or 0) > 1 and sys.stderr.isatty()
    return tqdm(iterable, total=total, desc=desc, disable=not enabled, file=sys.stderr, leave=False)
