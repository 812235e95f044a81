"""``write_report``: scans (or a metrics table) in, a static report folder out.

Layout of the folder::

    index.html              the group page
    assets/plotly.min.js    plotly.js, once (every page loads it from here)
    assets/report.js|css    the report's own script and style
    scans/<id>.html         one page per scan
    scans/<id>/             its pictures and its cached record (entry.json)

The per-scan work runs on the local engine (``workers`` processes) with a progress bar; scans whose record is still
valid (:func:`mmrqa.report.scan.cached_record`) are not redone, so running the report again after more scans
arrived only does the new ones, and rewrites the pages (the cohort's statistics change with every scan). A scan
that fails is listed with its error on the group page and has its own page; the rest of the report is written.
``index.html`` is written last; every file is renamed into place (atomic), ``index.html`` and the records also fsynced.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from mmrqa.errors import InvalidArgumentError, MMRQAError, OutputError
from mmrqa.fileio import write_text_atomic
from mmrqa.report.cohort import Cohort, CohortScan, meta_groups, metric_order, read_metrics_table
from mmrqa.report.naming import folder_of, scan_ids
from mmrqa.report.scan import ENTRY, READABLE, ScanTask, cached_record, process_scan, write_quick

logger = logging.getLogger(__name__)

ASSETS = ("report.js", "report.css")


@dataclass
class ReportResult:
    """What :func:`write_report` did."""

    index: Path
    scans: int
    failed: list[tuple[str, str]] = field(default_factory=list)
    reused: int = 0
    done: int = 0
    seconds: float = 0.0
    flagged: int = 0


def _resolve(path: str, table: Path) -> str:
    """A table's path as written, or relative to the table's folder when that is where the file is."""
    if os.path.exists(path) or os.path.isabs(path):
        return path
    beside = table.parent / path
    return str(beside) if beside.exists() else path


def _tasks(
    inputs: Sequence[str | os.PathLike], metrics_table: str | os.PathLike | None, folder: Path, model: str | None
) -> tuple[list[ScanTask], dict[str, dict[str, str]], list[str], list[tuple[str, str]]]:
    """(tasks, table groups by source, table metric columns, inputs that could not be expanded with their error)."""
    from mmrqa.io import find_scans

    sources: list[str] = []
    values: dict[str, dict[str, float]] = {}
    groups: dict[str, dict[str, str]] = {}
    metrics: list[str] = []
    if metrics_table is not None:
        rows, metrics, group_columns = read_metrics_table(metrics_table)
        for row in rows:
            source = _resolve(row["path"], Path(metrics_table))
            if source in values:
                continue
            sources.append(source)
            values[source] = {m: row[m] for m in metrics}
            groups[source] = {g: row[g] for g in group_columns if g in row}
    bad: list[tuple[str, str]] = []
    known = {os.path.abspath(s) for s in sources}
    for raw in inputs:
        try:
            found = find_scans([raw])
        except MMRQAError as exc:
            bad.append((str(raw), str(exc)))
            continue
        for path in found:
            if os.path.abspath(path) not in known:
                known.add(os.path.abspath(path))
                sources.append(str(path))
    ids, names = scan_ids(sources)
    tasks = [
        ScanTask(src, ids[k], names[k], str(folder / "scans" / ids[k]), values.get(src), model)
        for k, src in enumerate(sources)
    ]
    return tasks, groups, metrics, bad


def _run(
    tasks: list[ScanTask], workers: int, progress: bool | None, on_error: Callable[[str], None] | None
) -> tuple[dict[str, dict[str, Any]], int]:
    """Records by scan id (cached ones reused), and how many were reused."""
    from mmrqa.console import progress as progress_bar
    from mmrqa.engines import get_engine

    records: dict[str, dict[str, Any]] = {}
    todo = []
    for task in tasks:
        cached = cached_record(task)
        if cached is not None:
            records[task.id] = cached
        else:
            todo.append(task)
    reused = len(records)
    if todo:
        with get_engine("local", workers=workers) as engine:
            results = engine.map(process_scan, todo)
            for record in progress_bar(results, total=len(todo), desc="report", enabled=progress):
                records[record["id"]] = record
                if record.get("error") and on_error is not None:
                    on_error(record["error"])
    return records, reused


def _cohort(
    tasks: list[ScanTask], records: dict[str, dict[str, Any]], table_groups: dict[str, dict[str, str]],
    table_metrics: list[str],
) -> Cohort:  # fmt: skip
    scans = []
    names: list[str] = list(table_metrics)
    for task in tasks:
        record = records[task.id]
        values = {k: (float("nan") if v is None else float(v)) for k, v in (record.get("values") or {}).items()}
        names += [m for m in values if m not in names]
        groups = dict(table_groups.get(task.source, {}))
        groups.update({k: v for k, v in meta_groups(record.get("meta") or {}).items() if k not in groups})
        folder = folder_of(task.name)
        if folder and "folder" not in groups:
            groups["folder"] = folder
        images = record.get("images") or {}
        scans.append(
            CohortScan(
                id=task.id,
                name=task.name,
                source=task.source,
                values=values,
                groups=groups,
                verdict=record.get("verdict"),
                error=record.get("error"),
                page=f"scans/{task.id}.html",
                thumb=f"scans/{task.id}/{images['thumb']}" if "thumb" in images else None,
            )
        )
    return Cohort(scans, metric_order(names))


def _copy_assets(folder: Path) -> None:
    """plotly.js (from the installed plotly wheel, copied only when it changed) and the report's script and style."""
    import plotly
    from plotly.offline import get_plotlyjs

    assets = folder / "assets"
    plotly_js = assets / "plotly.min.js"
    stamp = assets / "plotly.version"
    if not (plotly_js.is_file() and stamp.is_file() and stamp.read_text() == plotly.__version__):
        write_quick(plotly_js, get_plotlyjs().encode("utf-8"))
        write_quick(stamp, plotly.__version__.encode("utf-8"))
    package = resources.files("mmrqa.report") / "assets"
    for name in ASSETS:
        write_quick(assets / name, (package / name).read_bytes())


def _prune(folder: Path, keep: set[str]) -> None:
    """Remove the pages and folders of scans no longer in the cohort (only folders this report made)."""
    scans = folder / "scans"
    if not scans.is_dir():
        return
    for entry in scans.iterdir():
        if entry.is_dir() and entry.name not in keep and (entry / ENTRY).is_file():
            shutil.rmtree(entry, ignore_errors=True)
        elif entry.suffix == ".html" and entry.stem not in keep:
            entry.unlink(missing_ok=True)


def _settings(model: str | None, metrics_table, title: str | None, group_by: str | None) -> dict[str, Any]:
    from mmrqa import __version__

    return {
        "title": title or "MMRQA cohort report",
        "mode": f"model {model}" if model else "metrics-only (signal classifier)",
        "metrics_source": f"read from {metrics_table}" if metrics_table else "measured by this report",
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "version": __version__,
        "group_by": group_by,
    }


def write_report(
    inputs: Sequence[str | os.PathLike] = (),
    output: str | os.PathLike = "qc_report",
    *,
    metrics_table: str | os.PathLike | None = None,
    model: str | None = None,
    workers: int = 1,
    group_by: str | None = None,
    title: str | None = None,
    progress: bool | None = None,
    on_error: Callable[[str], None] | None = None,
) -> ReportResult:
    """Write a static QC report of a cohort into ``output`` (see the module docstring).

    Args:
        inputs: scan files and folders (as ``mmrqa metrics``), measured here.
        output: the report's folder (created; an earlier report there is updated in place).
        metrics_table: an ``mmrqa metrics`` table whose values are used instead of measuring again; its scan files
            are read for the pictures and the verdict when they exist (the metrics-only verdict measures the scan once
            more on the signal classifier's grid of at most 128 voxels a side, whose per-slice features a table lacks).
        model: an MMRQA adapter (folder or Hub id) for the verdicts; default: metrics-only signal classifier.
        workers: local worker processes.
        group_by: the grouping column shown first (default: the first one that splits the cohort).
        title: the group page's title.
        progress: progress bar on stderr (default: on an interactive terminal).
        on_error: called with each failed scan's or input's message as it happens (the CLI prints it).

    Returns:
        A :class:`ReportResult`.

    Raises:
        InvalidArgumentError: nothing to report, or invalid arguments.
        OutputError: the folder cannot be written.
    """
    started = time.perf_counter()
    if workers < 1:
        raise InvalidArgumentError(f"--workers must be at least 1, got {workers}")
    if not inputs and metrics_table is None:
        raise InvalidArgumentError("nothing to report: give scans or folders, or --metrics TABLE")
    folder = Path(output)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder}: exists and is not a folder")
    tasks, table_groups, table_metrics, bad = _tasks(inputs, metrics_table, folder, model)
    for _source, message in bad:
        if on_error is not None:
            on_error(message)
    if not tasks:
        raise InvalidArgumentError("nothing to report: no scan found in the inputs")
    records, reused = _run(tasks, workers, progress, on_error)
    cohort = _cohort(tasks, records, table_groups, table_metrics)
    from mmrqa.report.pages import group_page
    from mmrqa.report.scan_page import scan_page

    _copy_assets(folder)
    position = {scan.id: k for k, scan in enumerate(cohort.measured)}
    for k, (task, scan) in enumerate(zip(tasks, cohort.scans, strict=True)):
        prev = cohort.scans[k - 1] if k > 0 else None
        nxt = cohort.scans[k + 1] if k + 1 < len(cohort.scans) else None
        html = scan_page(
            cohort,
            scan,
            position.get(scan.id),
            records[task.id],
            prev,
            nxt,
            metrics_from_table=task.values is not None,
        )
        write_quick(folder / "scans" / f"{task.id}.html", html.encode("utf-8"))
    _prune(folder, {t.id for t in tasks})
    index = folder / "index.html"
    settings = _settings(model, metrics_table, title, group_by)
    settings["input_errors"] = bad
    write_text_atomic(index, group_page(cohort, settings))
    os.chmod(index, READABLE)
    failed = [(s.source, s.error) for s in cohort.scans if s.error] + bad
    return ReportResult(
        index=index,
        scans=len(tasks),
        failed=failed,  # type: ignore[arg-type]
        reused=reused,
        done=len(tasks) - reused,
        seconds=time.perf_counter() - started,
        flagged=int(cohort.outliers.flags.sum()),
    )
