"""Writing the Hub layout: ``data/<split>-XXXXX-of-YYYYY.parquet`` + ``README.md``, every file atomically.

A split is given as a :class:`SplitParts`: its row and byte counts and an ordered list of parts (one per scan), each
loaded only while its rows are written. The shard count is ``ceil(bytes / MAX_SHARD_BYTES)`` and every shard but the
last holds ``ceil(rows / count)`` rows, as ``datasets``' ``push_to_hub`` cuts a split. A shard is streamed to its
Parquet file in row groups of at most ``ROW_GROUP_BYTES`` of Arrow data, so memory holds one row group and one scan
whatever the size of the cohort, not a whole 500 MB shard (measured, ``benchmarks/bench_builder_memory.py``: the
driver of a 2,000-scan build peaked at 1,025 MiB with whole shards, 285 MiB now, 263 MiB for 200 scans). A shard
under ``ROW_GROUP_BYTES`` is one row group, the same file as writing it in one go.

Each shard is written to a temp file in ``data/``; once all are written they are renamed (so a full disk or a
read-only folder leaves the earlier build whole); the card is written last (through
:func:`mmrqa.fileio.write_text_atomic`), then shards of an earlier build that the new one does not have are
removed, so a kill at any point leaves complete files only. ``datasets.load_dataset(DIR)`` reads the result offline.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mmrqa.errors import OutputError
from mmrqa.fileio import write_text_atomic

# pyarrow (~0.3 s) is imported in the functions that write shards.

#: a shard holds at most this many bytes of Arrow data (``datasets``' default for ``push_to_hub``).
MAX_SHARD_BYTES = 500 * 1024 * 1024
#: a shard is written in row groups of at most about this many bytes of Arrow data (what memory holds of it).
ROW_GROUP_BYTES = 16 * 1024 * 1024
DATA_DIR = "data"


@dataclass
class SplitParts:
    """One split: its parts (callables returning a pyarrow Table each, in row order), rows and Arrow bytes."""

    parts: list[Callable[[], Any]]
    num_rows: int
    nbytes: int

    @classmethod
    def of_table(cls, table) -> SplitParts:
        """A split already held as one table."""
        return cls([lambda: table], table.num_rows, int(table.nbytes))


def shard_slices(split: SplitParts, count: int) -> Iterator[tuple[int, Any]]:
    """``(shard index, rows)`` in row order: the split's rows cut into ``count`` shards of ``ceil(rows / count)``
    rows (the last ones may be short or empty), loading one part at a time."""
    per_shard = max(1, math.ceil(split.num_rows / count))
    row = 0
    for load in split.parts:
        table = load()
        start = 0
        while start < table.num_rows:
            shard = row // per_shard
            take = min((shard + 1) * per_shard - row, table.num_rows - start)
            yield shard, table.slice(start, take)
            start, row = start + take, row + take


def shard_names(split: str, n: int) -> list[str]:
    return [f"{split}-{i:05d}-of-{n:05d}.parquet" for i in range(n)]


def _stage(path: Path, staged: list[tuple[str, Path]]) -> str:
    """A temp file next to ``path``; ``staged`` gets ``(temp, path)`` to be renamed later."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    staged.append((tmp, path))
    return tmp


def _write_split(split: SplitParts, paths: list[Path], schema, staged: list[tuple[str, Path]], group_bytes: int):
    """Stream the split's shards to ``paths`` (staged temp files), one row group of <= ``group_bytes`` at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer, current, group, size = None, -1, [], 0

    def flush() -> None:
        nonlocal group, size
        if group:
            writer.write_table(pa.concat_tables(group))
        group, size = [], 0

    try:
        for shard, rows in shard_slices(split, len(paths)):
            if shard != current:
                flush()
                if writer is not None:
                    writer.close()
                writer, current = pq.ParquetWriter(_stage(paths[shard], staged), rows.schema), shard
            group.append(rows)
            size += rows.nbytes
            if size >= group_bytes:
                flush()
        flush()
    finally:
        if writer is not None:
            writer.close()
    for path in paths[current + 1 :]:  # shards left empty by the row count
        pq.write_table(schema.empty_table(), _stage(path, staged))


def write_hub_layout(
    output_dir: str | os.PathLike,
    splits: dict[str, SplitParts],
    card_text: str,
    schema,
    max_shard_bytes: int = MAX_SHARD_BYTES,
    row_group_bytes: int = ROW_GROUP_BYTES,
) -> list[Path]:
    """Write the splits and the card; returns the files written (shards, then README.md)."""
    output = Path(output_dir)
    data_dir = output / DATA_DIR
    written: list[Path] = []
    staged: list[tuple[str, Path]] = []
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        for split, parts in splits.items():  # every shard written before any is renamed: a full disk or a
            n = max(1, math.ceil(parts.nbytes / max_shard_bytes))  # read-only folder leaves the old build whole
            paths = [data_dir / name for name in shard_names(split, n)]
            _write_split(parts, paths, schema, staged, row_group_bytes)
            written.extend(paths)
        for tmp, path in staged:
            os.replace(tmp, path)
        write_text_atomic(output / "README.md", card_text)
        for stale in set(data_dir.glob("*.parquet")) - set(written):
            stale.unlink()
    except OSError as exc:
        raise OutputError(f"cannot write the dataset to {output}: {exc.strerror or exc}") from exc
    finally:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
    return [*written, output / "README.md"]
