"""Writing the Hub layout: ``data/<split>-XXXXX-of-YYYYY.parquet`` + ``README.md``, every file atomically.

Each shard is written to a temp file in ``data/``; once all are written they are renamed (so a full disk or a
read-only folder leaves the earlier build whole); the card is written last (through
:func:`mmrqa.cli.common.write_text_atomic`), then shards of an earlier build that the new one does not have are
removed, so a kill at any point leaves complete files only. ``datasets.load_dataset(DIR)`` reads the result offline.
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path
from typing import Any

from mmrqa.cli.common import write_text_atomic
from mmrqa.errors import OutputError

#: a shard holds at most this many bytes of Arrow data (``datasets``' default for ``push_to_hub``).
MAX_SHARD_BYTES = 500 * 1024 * 1024
DATA_DIR = "data"


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
    output_dir: str | os.PathLike, split_tables: dict[str, Any], card_text: str, max_shard_bytes: int = MAX_SHARD_BYTES
) -> list[Path]:
    """Write the splits (pyarrow Tables) and the card; returns the files written (shards, then README.md)."""
    output = Path(output_dir)
    data_dir = output / DATA_DIR
    written: list[Path] = []
    staged: list[tuple[str, Path]] = []
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        for split, table in split_tables.items():  # every shard written before any is renamed: a full disk or a
            n = max(1, math.ceil(table.nbytes / max_shard_bytes))  # read-only folder leaves the old build whole
            per_shard = math.ceil(table.num_rows / n)
            for i, name in enumerate(shard_names(split, n)):
                _write_parquet_staged(table.slice(i * per_shard, per_shard), data_dir / name, staged)
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
