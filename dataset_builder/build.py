"""Orchestration of a build: discover scans, run the per-scan jobs (cached, parallel), split by subject, write.

``build_dataset(source, input, output, config)``:

1. :func:`dataset_builder.sources.discover` lists the scans (:class:`ScanTask`) in (subject, scan) order;
2. each scan gets a cache key (file content + settings); cached scans are read back, the others are mapped with an
   engine (:mod:`dataset_builder.parallel`, ``config.num_proc`` processes) over :func:`dataset_builder.scan.run_job`,
   with a progress bar; each finished scan is cached at once; a bad scan is reported (``error: ...``) and skipped;
3. subjects are assigned to splits (:mod:`dataset_builder.splits`), each split's rows follow scan order
   (so the dataset does not depend on ``num_proc`` or on what came from the cache);
4. the Hub layout and the card are written atomically (:mod:`dataset_builder.layout`,
   :mod:`dataset_builder.dataset_card`).

Memory stays bounded whatever the cohort: with the cache on (the default), a finished scan's rows are dropped once
cached and only a small summary is kept (:func:`dataset_builder.dataset_card.scan_summary`); the shards are written by
reading the scans back from the cache one at a time. Without a cache the rows stay in memory until written.
"""

from __future__ import annotations

import io
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dataset_builder.cache import ScanCache, scan_key
from dataset_builder.config import BuildConfig
from dataset_builder.dataset_card import render_card, scan_summary
from dataset_builder.layout import SplitParts, write_hub_layout
from dataset_builder.parallel import Engine, map_with_processes
from dataset_builder.scan import ScanJob, run_job
from dataset_builder.schema import features, rows_to_table
from dataset_builder.sources import ScanTask, discover
from dataset_builder.splits import SPLITS, assign_splits
from mmrqa.console import progress, report_error
from mmrqa.data import cache_dir
from mmrqa.errors import InvalidScanError, OutputError

# pyarrow (~0.3 s) is imported in the functions that build tables, so importing the builder stays light.

logger = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    """``$MMRQA_CACHE/dataset_builder`` (``~/.cache/mmrqa/dataset_builder`` by default)."""
    return cache_dir() / "dataset_builder"


@dataclass
class BuildSummary:
    """What a build did: scans computed / read from the cache / failed, rows and subjects per split, files."""

    output: Path
    scans: int = 0
    computed: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    subjects: dict[str, list[str]] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def examples(self) -> int:
        return sum(self.rows.values())

    def describe(self) -> str:
        splits = ", ".join(f"{k} {v}" for k, v in self.rows.items())
        return (
            f"{self.scans} scan(s): {len(self.computed)} computed, {len(self.cached)} from cache, "
            f"{len(self.failed)} failed; {self.examples} examples ({splits}) in {self.seconds:.1f} s -> {self.output}"
        )


def _canonical(table):
    """The table as read back from Parquet: computed and cached scans then have identical Arrow buffers (and byte
    counts in the card), so a resumed build equals an uninterrupted one."""
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return pq.read_table(io.BytesIO(buffer.getvalue()))


def _run_jobs(jobs: list[ScanJob], pending: list[int], engine: Engine, config, cache, show_progress):
    """Map the pending jobs; yields ``(job index, table or None, error or None)`` as they finish."""
    results = engine(run_job, [jobs[i] for i in pending], config.num_proc)
    for j, outcome in progress(results, total=len(pending), desc="scans", enabled=show_progress):
        index = pending[j]
        if outcome.error is not None:
            yield index, None, outcome.error
            continue
        table = _canonical(rows_to_table(outcome.rows))
        cache.put(jobs[index].key, table)
        logger.info("scan %s: %d rows in %.2f s", jobs[index].task.scan, table.num_rows, outcome.seconds)
        yield index, table, None


@dataclass
class ScanRows:
    """A finished scan: how to load its rows (from the cache, or the table itself when there is no cache) and the
    :func:`dataset_builder.dataset_card.scan_summary` of them."""

    load: Callable[[], Any]
    summary: dict[str, Any]


def _finished(table, key: str, cache: ScanCache) -> ScanRows:
    table = table.cast(features().arrow_schema)
    if cache.directory is None:
        return ScanRows(lambda: table, scan_summary(table))

    def load():
        cached = cache.get(key)
        if cached is None:
            raise OutputError(f"the scan cache entry {cache.path(key)} vanished while the dataset was being written")
        return cached.cast(features().arrow_schema)

    return ScanRows(load, scan_summary(table))


def process_scans(
    tasks: list[ScanTask],
    config: BuildConfig,
    cache: ScanCache,
    summary: BuildSummary,
    *,
    engine: Engine | None = None,
    show_progress: bool | None = None,
    on_error: Callable[[str], None] = report_error,
) -> dict[int, ScanRows]:
    """Every task that succeeded, by task index (its rows not held when cached); fills ``summary``."""
    settings = config.scan_settings()
    jobs = [ScanJob(t, settings, scan_key(t, settings)) for t in tasks]
    done: dict[int, ScanRows] = {}
    for i, job in enumerate(jobs):
        table = cache.get(job.key)
        if table is not None:
            done[i] = _finished(table, job.key, cache)
            summary.cached.append(job.task.scan)
    pending = [i for i in range(len(jobs)) if i not in done]
    for index, table, error in _run_jobs(jobs, pending, engine or map_with_processes, config, cache, show_progress):
        if error is not None:
            on_error(error)
            summary.failed.append(tasks[index].scan)
        else:
            done[index] = _finished(table, jobs[index].key, cache)
            summary.computed.append(tasks[index].scan)
    return done


def split_parts(tasks: list[ScanTask], done: dict[int, ScanRows], config: BuildConfig) -> dict[str, list[ScanRows]]:
    """The finished scans of each split, in task order (subject-level assignment)."""
    assignment = assign_splits((tasks[i].subject for i in done), config.split_ratios, config.seed)
    by_split: dict[str, list[ScanRows]] = {name: [] for name in SPLITS}
    for i in sorted(done):
        by_split[assignment[tasks[i].subject]].append(done[i])
    return {name: parts for name, parts in by_split.items() if parts}


def _source_rows(tasks: list[ScanTask], done: dict[int, Any], source: str) -> list[dict[str, Any]]:
    kept = [tasks[i] for i in done]
    return [{"source": source, "scans": len(kept), "subjects": len({t.subject for t in kept})}]


def build_dataset(
    source: str,
    input_path: str | os.PathLike,
    output_dir: str | os.PathLike,
    config: BuildConfig | None = None,
    *,
    cache_dir: str | os.PathLike | None | bool = True,
    engine: Engine | None = None,
    command: str | None = None,
    repo_id: str | None = None,
    show_progress: bool | None = None,
    on_error: Callable[[str], None] = report_error,
) -> BuildSummary:
    """Build the dataset of ``input_path`` (a ``source`` kind) into ``output_dir`` (Hub layout + card).

    Args:
        source: ``folder``, ``bids``, ``mr-art`` or ``fastmri``.
        config: build settings (defaults of :class:`BuildConfig`).
        cache_dir: folder of the scan cache; True for :func:`default_cache_dir`, False/None to disable it.
        engine: how jobs are mapped (default: :func:`dataset_builder.parallel.map_with_processes`).
        command: the command line recorded in the card.
        repo_id: the Hub id shown in the card's loading example.
        on_error: called with the message of each scan that failed (default: ``error: ...`` on stderr).

    Raises:
        MMRQAError: no scan found, none could be processed, a bad setting, or the output cannot be written.
    """
    start = time.perf_counter()
    config = config or BuildConfig()
    tasks = discover(source, input_path)
    cache = ScanCache(default_cache_dir() if cache_dir is True else (cache_dir or None))
    summary = BuildSummary(Path(output_dir), scans=len(tasks))
    done = process_scans(tasks, config, cache, summary, engine=engine, show_progress=show_progress, on_error=on_error)
    if not done:
        raise InvalidScanError(f"{input_path}: none of the {len(tasks)} scan(s) could be processed; nothing written")
    splits = split_parts(tasks, done, config)
    summaries = {name: [part.summary for part in parts] for name, parts in splits.items()}
    card = render_card(
        config,
        summaries,
        source=source,
        command=command or f"python -m dataset_builder --source {source} --input {input_path} --output {output_dir}",
        sources=_source_rows(tasks, done, source),
        failed=summary.failed,
        repo_id=repo_id,
    )
    layout = {
        name: SplitParts(
            [part.load for part in parts],
            sum(part.summary["rows"] for part in parts),
            sum(part.summary["num_bytes"] for part in parts),
        )
        for name, parts in splits.items()
    }
    summary.files = write_hub_layout(output_dir, layout, str(card), features().arrow_schema)
    summary.rows = {name: parts.num_rows for name, parts in layout.items()}
    summary.subjects = {
        name: sorted(set().union(*(part["subjects"] for part in parts))) for name, parts in summaries.items()
    }
    summary.seconds = time.perf_counter() - start
    return summary
