"""Writing the Hub layout: ``data/<split>-XXXXX-of-YYYYY.parquet`` + ``README.md``, every file atomically.

A split is given as a :class:`SplitParts`: its row and byte counts and an ordered list of parts (one per scan), each
loaded only while its rows are written, so memory holds at most one shard (``MAX_SHARD_BYTES``) and one scan
whatever the size of the cohort. The shard count is ``ceil(bytes / MAX_SHARD_BYTES)`` and every shard but the last
holds ``ceil(rows / count)`` rows, as ``datasets``' ``push_to_hub`` cuts a split.

Each shard is written to a temp file in ``data/``; once all are written they are renamed (so a full disk or a
read-only folder leaves the earlier build whole); the card is written last (through
:func:`mmrqa.cli.common.write_text_atomic`), then shards of an earlier build that the new one does not have are
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

from mmrqa.cli.common import write_text_atomic
from mmrqa.errors import OutputError

#: a shard holds at most this many bytes of Arrow data (``datasets``' default for ``push_to_hub``).
MAX_SHARD_BYTES = 500 * 1024 * 1024
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


def shard_tables(split: SplitParts, count: int, schema) -> Iterator[Any]:
    """The split's rows cut into ``count`` shards of ``ceil(rows / count)`` rows (the last ones may be short or
    empty), loading one part at a time."""
    import pyarrow as pa

    per_shard = max(1, math.ceil(split.num_rows / count))
    buffer: list[Any] = []
    filled = made = 0
    for load in split.parts:
        table = load()
        start = 0
        while start < table.num_rows:
            take = min(per_shard - filled, table.num_rows - start)
            buffer.append(table.slice(start, take))
            filled, start = filled + take, start + take
            if filled == per_shard:
                yield pa.concat_tables(buffer)
                buffer, filled, made = [], 0, made + 1
    if buffer:
        yield pa.concat_tables(buffer)
        made += 1
    for _ in range(made, count):
        yield schema.empty_table()


def shard_names(split: str, n: int) -> list[str]:
    return [f"{split}-{i:05d}-of-{n:05d}.parquet" for i in range(n)]


def _write_parquet_staged(table, path: Path, staged: list[tuple[str, Path]]) -> None:
    """Write ``table`` to a temp file next to ``path``; ``staged`` gets ``(temp, path)`` to be renamed later."""
    import pyarrow.parquet as pq

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    staged.append((tmp, path))
    pq.write_table(table, tmp)


def write_hub_layout(
    output_dir: str | os.PathLike,
    splits: dict[str, SplitParts],
    card_text: str,
    schema,
    max_shard_bytes: int = MAX_SHARD_BYTES,
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
            for name, table in zip(shard_names(split, n), shard_tables(parts, n, schema), strict=True):
                _write_parquet_staged(table, data_dir / name, staged)
                written.append(data_dir / name)
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
