"""The resumable output of ``mmrqa assess -o OUT`` (in this process or on an engine).

Reports are appended, one flushed record per finished scan, to a *partial file* next to the output
(``.OUT.partial``); when every scan has been tried the partial file is renamed over ``OUT`` (``os.replace``:
atomic), so ``OUT`` always holds a complete run, and an older ``OUT`` is kept until the new one is complete.

A run that is killed or pre-empted (SIGKILL, SIGTERM, Ctrl-C, a crashed node) leaves the partial file; rerunning the
same command reads the scans it already holds, drops a torn last record, and assesses only the others, appending them
after the finished ones, so the final file equals the one an uninterrupted run writes (records are in input order).
A run that fails to *write* (full disk, read-only folder) removes the partial file and leaves ``OUT`` as it was.
``--overwrite`` discards a partial file and starts afresh.

Records and how a finished scan is recognised (``source`` is the file the scan was read from):

- ``json``: one JSON object per line; a scan is done when a complete line holds its ``source``.
- ``text`` / ``markdown``: a record starts with ``== SOURCE`` / ``### SOURCE`` and records are separated by a
  blank line (what the command writes without resuming); the last record counts only if the file ends with a newline.

An input is done when a record's ``source`` is the input itself or a file under it (a DICOM series folder is read
from one of its files).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from mmrqa.errors import OutputError
from mmrqa.fileio import write_bytes_atomic

_HEADERS = {"text": "== ", "markdown": "### "}


def partial_path(output: str | os.PathLike) -> Path:
    """The partial file of ``output``: hidden, in the same folder (so the final rename is atomic)."""
    output = Path(output)
    return output.with_name(f".{output.name}.partial")


def finished_sources(text: str, fmt: str) -> tuple[list[str], int]:
    """Sources of the complete records of ``text`` and the length of ``text`` they span (a torn tail excluded)."""
    if fmt == "json":
        sources, end = [], 0
        for line in text.splitlines(keepends=True):
            if not line.endswith("\n"):
                break
            try:
                sources.append(json.loads(line)["source"])
            except (ValueError, KeyError, TypeError):
                break
            end += len(line)
        return sources, end
    header = _HEADERS[fmt]
    starts = [0] if text.startswith(header) else []
    starts += [k + 1 for k in _find_all(text, "\n" + header)]
    if not starts:
        return [], 0
    if not text.endswith("\n"):  # the last record was torn: keep the ones before it
        text = text[: max(0, starts.pop() - 1)]  # drop the blank separator line too
        if not starts:
            return [], 0
    sources = [text[s + len(header) : text.index("\n", s)] for s in starts]
    return sources, len(text)


def _find_all(text: str, needle: str) -> list[int]:
    found, k = [], text.find(needle)
    while k >= 0:
        found.append(k)
        k = text.find(needle, k + 1)
    return found


def is_done(path: str, sources: set[str]) -> bool:
    """Whether input ``path`` has a record: its own source, or a file under it (a folder input)."""
    prefix = path.rstrip("/") + "/"
    return path in sources or any(s.startswith(prefix) for s in sources)


class AssessOutput:
    """Where ``mmrqa assess`` writes its records: stdout (no ``output``), or a resumable partial file renamed over
    ``output`` by :meth:`commit`. Use as a context manager: the partial file is removed if writing failed."""

    def __init__(self, output: str | None, fmt: str, overwrite: bool = False) -> None:
        self.output = Path(output) if output is not None else None
        self.fmt = fmt
        self.sources: set[str] = set()
        self.records = 0
        self._handle = None
        if self.output is None:
            return
        self.partial = partial_path(self.output)
        try:
            self.output.parent.mkdir(parents=True, exist_ok=True)
            if overwrite:
                self.partial.unlink(missing_ok=True)
            self._resume()
            fd = os.open(self.partial, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            self._handle = os.fdopen(fd, "a", encoding="utf-8")
        except OSError as exc:
            raise OutputError(f"cannot write {self.output}: {exc.strerror or exc}") from exc

    def _resume(self) -> None:
        if not self.partial.exists():
            return
        raw = self.partial.read_bytes()
        text = raw.decode("utf-8", errors="replace")
        sources, end = finished_sources(text, self.fmt)
        if end != len(text):
            write_bytes_atomic(self.partial, text[:end].encode("utf-8"))  # a torn record is dropped, atomically
        self.sources, self.records = set(sources), len(sources)

    def todo(self, paths: list[str]) -> list[str]:
        """The inputs without a finished record."""
        return [p for p in paths if not is_done(p, self.sources)] if self.sources else list(paths)

    def write(self, text: str) -> None:
        """Append one rendered record (a blank line before it in text/markdown files, as a one-shot run writes)."""
        if self._handle is None:
            print(text, end="", flush=True)
            return
        separator = "\n" if self.records and self.fmt != "json" else ""
        self._handle.write(separator + text)
        self._handle.flush()
        self.records += 1

    def commit(self) -> None:
        """Every scan was tried: the partial file becomes ``output``."""
        if self._handle is None:
            return
        self._handle.close()
        self._handle = None
        os.replace(self.partial, self.output)

    def __enter__(self) -> AssessOutput:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        if exc_type is not None and issubclass(exc_type, OSError | OutputError) and self.output is not None:
            self.partial.unlink(missing_ok=True)  # a failed write: nothing trustworthy to resume from
