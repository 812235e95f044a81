"""Streaming shards: the same rows as cutting the whole split at once, one part loaded at a time, written in bounded
row groups."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dataset_builder.layout import SplitParts, shard_names, shard_slices, write_hub_layout

SCHEMA = pa.schema([("subject", pa.string()), ("value", pa.int64())])


def _part(start: int, n: int) -> pa.Table:
    return pa.table(
        {"subject": [f"sub-{i:03d}" for i in range(start, start + n)], "value": list(range(start, start + n))}
    )


@pytest.mark.parametrize("sizes,count", [([5, 3, 4], 1), ([5, 3, 4], 3), ([5, 3, 4], 5), ([1] * 9, 4), ([7], 4)])
def test_shards_equal_slices_of_the_concatenated_split(sizes, count):
    starts = [sum(sizes[:i]) for i in range(len(sizes))]
    parts = [_part(s, n) for s, n in zip(starts, sizes, strict=True)]
    whole = pa.concat_tables(parts)
    per_shard = -(-whole.num_rows // count)
    loaded = []

    def loader(table):
        def load():
            loaded.append(table.num_rows)
            return table

        return load

    split = SplitParts([loader(p) for p in parts], whole.num_rows, int(whole.nbytes))
    shards: dict[int, list] = {}
    for shard, rows in shard_slices(split, count):
        shards.setdefault(shard, []).extend(rows.to_pylist())
    assert sorted(shards) == list(range(len(shards))) and len(shards) <= count
    for i in range(count):
        assert shards.get(i, []) == whole.slice(i * per_shard, per_shard).to_pylist()
    assert loaded == sizes  # each part loaded once, in order


def test_layout_cuts_by_bytes_and_names_the_shards(tmp_path):
    parts = [_part(10 * i, 10) for i in range(6)]
    whole = pa.concat_tables(parts)
    split = SplitParts([lambda p=p: p for p in parts], whole.num_rows, int(whole.nbytes))
    files = write_hub_layout(tmp_path, {"train": split}, "card", SCHEMA, max_shard_bytes=int(whole.nbytes) // 3 + 1)
    names = [f.name for f in files[:-1]]
    assert names == shard_names("train", 3) and files[-1].name == "README.md"
    back = pa.concat_tables([pq.read_table(f) for f in files[:-1]])
    assert back.to_pylist() == whole.to_pylist()


def test_a_shard_is_streamed_in_bounded_row_groups_and_small_shards_are_one_group(tmp_path):
    parts = [_part(10 * i, 10) for i in range(6)]
    whole = pa.concat_tables(parts)
    split = SplitParts([lambda p=p: p for p in parts], whole.num_rows, int(whole.nbytes))
    streamed = write_hub_layout(tmp_path / "a", {"train": split}, "card", SCHEMA, row_group_bytes=2 * parts[0].nbytes)
    one_go = write_hub_layout(tmp_path / "b", {"train": split}, "card", SCHEMA)
    assert pq.ParquetFile(streamed[0]).num_row_groups == 3  # 60 rows in groups of two parts
    assert pq.read_table(streamed[0]).to_pylist() == whole.to_pylist()
    assert pq.ParquetFile(one_go[0]).num_row_groups == 1
    reference = tmp_path / "whole.parquet"
    pq.write_table(whole, reference)
    assert one_go[0].read_bytes() == reference.read_bytes()  # the same file as writing the whole shard at once


def test_a_cached_build_reads_its_rows_back_from_the_cache(mrart, tmp_path):
    import shutil

    from dataset_builder.build import BuildSummary, process_scans
    from dataset_builder.cache import ScanCache
    from dataset_builder.sources import discover
    from mmrqa.errors import OutputError

    cache_dir = tmp_path / "cache"
    shutil.copytree(mrart.cache, cache_dir)
    tasks = discover("mr-art", mrart.root)
    done = process_scans(tasks, mrart.config, ScanCache(cache_dir), BuildSummary(tmp_path), on_error=lambda _: None)
    assert done and all(part.summary["rows"] > 0 for part in done.values())
    first = next(iter(done.values()))
    assert first.load().num_rows == first.summary["rows"]
    shutil.rmtree(cache_dir)  # the rows are not held in memory: they come from the cache when written
    with pytest.raises(OutputError, match="vanished"):
        first.load()
