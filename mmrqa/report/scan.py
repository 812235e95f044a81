"""The work a report does per scan, in a worker process: load, measure (or take the table's values), assess,
draw, and keep the result on disk keyed by the file's identity so that a report made again skips finished scans.

:func:`process_scan` writes ``scans/<id>/`` (``axial.jpg``, ``coronal.jpg``, ``sagittal.jpg``, ``background.jpg``,
``thumb.jpg``) and returns a JSON-ready record, which is also saved as ``scans/<id>/entry.json``. The record's
``key`` hashes the file's identity (absolute path, size and modification time of the file, or of every file of a
DICOM folder), the report's settings (model, format version) and the table's values when the metrics come from a
table: :func:`cached_record` returns the saved record only while the key matches, so a changed, replaced or
re-measured scan is done again and an unchanged one is not. Failed scans are not cached (a rerun tries them again).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from mmrqa.errors import MMRQAError
from mmrqa.fileio import atomic_output

logger = logging.getLogger(__name__)

#: bump when the record or the pictures change shape: every cached scan is then redone.
RECORD_VERSION = 3
ENTRY = "entry.json"
#: the report's files are readable by everyone (a temp file is created 0600): a report is made to be shared or served.
READABLE = 0o644


@dataclass(frozen=True)
class ScanTask:
    """One scan to report: where it is, what it is called, where its files go, and the table's values if any."""

    source: str
    id: str
    name: str
    folder: str
    values: dict[str, float] | None = None
    model: str | None = None


def file_identity(path: str | os.PathLike) -> list:
    """(path, size, mtime_ns) of a file, or of each file of a folder (a DICOM series); [] when it does not exist."""
    path = Path(path).absolute()
    try:
        if path.is_dir():
            return [[str(p), p.stat().st_size, p.stat().st_mtime_ns] for p in sorted(path.rglob("*")) if p.is_file()]
        stat = path.stat()
    except OSError:
        return []
    return [[str(path), stat.st_size, stat.st_mtime_ns]]


def task_key(task: ScanTask) -> str:
    """The cache key of a task (see the module docstring)."""
    values = None if task.values is None else {k: _json_number(v) for k, v in sorted(task.values.items())}
    payload = {
        "version": RECORD_VERSION,
        "identity": file_identity(task.source),
        "model": task.model,
        "values": values,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()


def _json_number(value: Any) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def cached_record(task: ScanTask) -> dict[str, Any] | None:
    """The saved record of ``task`` if it is still valid (same key, every picture present), else None."""
    folder = Path(task.folder)
    try:
        record = json.loads((folder / ENTRY).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if record.get("key") != task_key(task) or record.get("error"):
        return None
    if not all((folder / name).is_file() for name in record.get("images", {}).values()):
        return None
    return record


@lru_cache(maxsize=2)
def _pipeline(model: str | None):
    """One pipeline per worker process and model: metrics-only (signal classifier) or the given adapter."""
    from mmrqa.pipeline import MMRQAPipeline

    return MMRQAPipeline.metrics_only() if model is None else MMRQAPipeline.from_pretrained(model)


def _prepared_from_values(pipe, volume, source: str, values: dict[str, float]):
    """What ``MMRQAPipeline.prepare`` returns, with the table's metrics instead of measuring again (the lights judged
    by the pipeline itself, against the ranges that fit the scan; without the metrics' geometry, the scan's context
    comes from its shape, spacing and metadata)."""
    from mmrqa.pipeline.assessment import Assessment
    from mmrqa.pipeline.core import DEFAULT_SLICES
    from mmrqa.render import PLANES, render_slices

    result = Assessment(source=source, mode=pipe.mode, metrics=dict(values))
    pipe.judge_metrics(result, volume, None)  # the pipeline's own rule (a report of None: no mask geometry)
    indices, images = [], []
    if pipe.loaded is not None:  # the model looks at slices; the signal classifier does not
        min_fg = 0.0 if volume.shape[PLANES["axial"]] == 1 else 0.05
        indices, images = render_slices(volume, DEFAULT_SLICES, "axial", min_foreground=min_fg)
    result.slices = indices
    return result, volume, None, images


def _measure_and_assess(task: ScanTask, volume) -> tuple[dict[str, float], Any, dict[str, Any] | None]:
    """(metric values, assessment, per-slice profile or None) of a loaded scan."""
    from mmrqa.presentation import slice_series

    pipe = _pipeline(task.model)
    if task.values is None:
        prepared = pipe.prepare(volume)
        report = prepared[2]
        values = {k: float(v) for k, v in report.values.items()}
        series = slice_series(report.per_slice, report.slice_indices)
        profile = _profile_figure(series, report.slice_indices) if series else None
    else:
        values = dict(task.values)
        prepared = _prepared_from_values(pipe, volume, task.source, values)
        profile = None
    assessment = pipe.complete(prepared)
    return values, assessment, profile


def _profile_figure(series, slice_indices) -> str:
    """The per-slice profile as plotly JSON (built here, in the worker: it depends on this scan only)."""
    from mmrqa.report.figures import figure_dict, slice_profile_figure

    return json.dumps(figure_dict(slice_profile_figure(series, slice_indices)), allow_nan=False)


def _compact(assessment: dict[str, Any]) -> dict[str, Any]:
    """The assessment without its per-metric catalogue descriptions (the page takes those from the catalogue), but
    with each metric's traffic light, which the drivers are shown with: ~10 KiB less per scan."""
    info = assessment.pop("metric_info", None) or {}
    assessment["lights"] = {name: entry.get("light") for name, entry in info.items() if entry.get("light")}
    return assessment


def _verdict(assessment) -> dict[str, Any]:
    """The conclusions shown in the group table (withheld outside the domain, as every form of an Assessment does)."""
    mode = assessment.mode + (f" ({assessment.model})" if assessment.model else "")
    if not assessment.rated:
        return {"rating": "not rated", "usability": "", "artifacts": "", "mode": mode, "confidence": None}
    return {
        "rating": assessment.rating or "undetermined",
        "usability": assessment.usability or "",
        "artifacts": assessment.artifact_text(),
        "mode": mode,
        "confidence": assessment.confidence,
    }


def write_quick(path: Path, payload: bytes) -> None:
    """Atomic (temp file + rename) but not fsynced: everything the report writes can be made again. ``entry.json``,
    the record that vouches for a scan's pictures, is written after them; a record lost or torn by a power cut
    fails to parse and the scan is simply redone. Skipping 7,000 fsyncs keeps a 1,000-scan report within a minute on
    a busy disk (each took ~10 ms here)."""
    try:
        if path.stat().st_size == len(payload) and path.read_bytes() == payload:
            return  # unchanged (a rerun): a rename over an existing file costs ~5 ms on a busy overlay disk
    except OSError:
        pass
    with atomic_output(path) as tmp:
        tmp.write_bytes(payload)
        os.chmod(tmp, READABLE)


def _draw(volume, folder: Path) -> tuple[dict[str, str], dict[str, Any]]:
    from mmrqa.render import window_levels
    from mmrqa.report import images as draw

    window = window_levels(volume)
    files = {}
    mosaics, thumb = draw.plane_mosaics(volume, window)
    for plane, image in mosaics.items():
        files[plane] = f"{plane}.jpg"
        write_quick(folder / files[plane], draw.jpeg(image))
    background, varies = draw.background_view(volume)
    files["background"] = "background.jpg"
    write_quick(folder / files["background"], draw.jpeg(background))
    files["thumb"] = "thumb.jpg"
    write_quick(folder / files["thumb"], draw.jpeg(thumb))
    return files, {"background_varies": varies, "window": [float(w) for w in window]}


def process_scan(task: ScanTask) -> dict[str, Any]:
    """Do one scan (see the module docstring); never raises an ``MMRQAError``: a failure is the record's ``error``.

    A scan whose file cannot be read keeps the table's values (when there are some), so it still counts in the
    group view, with its error shown."""
    from mmrqa.io import load_volume, summarize

    folder = Path(task.folder)
    record: dict[str, Any] = {
        "key": task_key(task),
        "id": task.id,
        "name": task.name,
        "source": task.source,
        "values": {k: _json_number(v) for k, v in (task.values or {}).items()},
        "meta": {},
        "summary": None,
        "verdict": None,
        "assessment": None,
        "profile": None,
        "images": {},
        "error": None,
    }
    try:
        volume = load_volume(task.source)
        record["meta"] = {k: v for k, v in summarize(volume).items() if isinstance(v, (str, int, float))}
        record["summary"] = summarize(volume)
        values, assessment, profile = _measure_and_assess(task, volume)
        record["values"] = {k: _json_number(v) for k, v in values.items()}
        record["assessment"] = _compact(assessment.to_dict())
        record["verdict"] = _verdict(assessment)
        record["profile"] = profile
        record["images"], record["display"] = _draw(volume, folder)
    except MMRQAError as exc:
        message = str(exc)
        record["error"] = message if task.source in message else f"{task.source}: {message}"
        return record
    except Exception as exc:  # noqa: BLE001 - one unreadable scan must not lose a 1,000-scan report
        logger.exception("unexpected failure on %s", task.source)
        record["error"] = f"{task.source}: unexpected {type(exc).__name__}: {exc}"
        return record
    write_quick(folder / ENTRY, json.dumps(record).encode("utf-8"))  # last: it vouches for the pictures
    return record
