"""A cohort as the group view sees it: one row per scan (metric values, grouping labels, verdict, error) and the
outlier flags computed over all of them.

Two ways in: the scans a report measured itself (:mod:`mmrqa.report.scan`), or a metrics table written by
``mmrqa metrics`` (TSV, CSV or JSON lines; first column ``path``), read by :func:`read_metrics_table`. In a table,
the numeric columns are metrics, except columns that are not in the catalogue and hold at most ``MAX_GROUPS``
distinct values (field strength, a site number): those, and every text column (site, scanner, protocol), are
*grouping* columns. Scans also get groups from their files' metadata (format, modality, manufacturer, field
strength, series description) and their parent folder.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from mmrqa.errors import InvalidArgumentError, ScanNotFoundError
from mmrqa.report.outliers import OutlierResult, find_outliers

#: a numeric column outside the catalogue with at most this many distinct values is a grouping column.
MAX_GROUPS = 12
#: metadata of a loaded scan offered as grouping columns (``Volume.meta`` keys).
META_GROUPS = ("format", "modality", "manufacturer", "field_strength", "series_description")
#: text that means "no value" in a metrics table (``mmrqa metrics`` writes ``n/a``).
MISSING = ("", "n/a", "na", "nan", "none", "null")
NO_GROUP = "(all scans)"
#: catalogue units that scale with the scanner's arbitrary intensity unit.
INTENSITY_UNITS = ("a.u.", "a.u.^2")


@dataclass
class CohortScan:
    """One scan of the group view.

    Attributes:
        id: stable identifier (file-name safe), also the name of its page.
        name: what the report calls it (path relative to the cohort's common folder).
        source: the path as given.
        values: metric name -> value (NaN when undefined); empty when the scan could not be measured.
        groups: grouping column -> label.
        verdict: the assessment's conclusions (``rating``, ``usability``, ``artifacts``, ``mode``) or None.
        error: why the scan (or part of its page) could not be made, or None.
        page: its page, relative to the report's folder (None: no page).
        thumb: its thumbnail, relative to the report's folder (None: no image).
    """

    id: str
    name: str
    source: str
    values: dict[str, float] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)
    verdict: dict[str, Any] | None = None
    error: str | None = None
    page: str | None = None
    thumb: str | None = None


@dataclass
class Cohort:
    """The scans of a report and what the group view computes over them."""

    scans: list[CohortScan]
    metrics: list[str]

    @cached_property
    def measured(self) -> list[CohortScan]:
        """The scans that have metric values (the points of the plots)."""
        return [s for s in self.scans if s.values]

    @cached_property
    def matrix(self) -> np.ndarray:
        """Measured scans x metrics (NaN where missing)."""
        return np.array(
            [[_number(s.values.get(m)) for m in self.metrics] for s in self.measured], dtype=np.float64
        ).reshape(len(self.measured), len(self.metrics))

    @cached_property
    def joint_metrics(self) -> list[str]:
        """The metrics of the multivariate score and the embedding: all but those in the scanner's arbitrary
        intensity unit (``a.u.``), whose shifts between scanners are not faults."""
        from mmrqa.metrics import CATALOGUE

        return [m for m in self.metrics if getattr(CATALOGUE.get(m), "unit", "") not in INTENSITY_UNITS]

    @cached_property
    def outliers(self) -> OutlierResult:
        joint = np.array([m in self.joint_metrics for m in self.metrics], dtype=bool)
        return find_outliers(self.matrix, joint)

    @cached_property
    def group_columns(self) -> list[str]:
        """Grouping columns that tell at least two scans apart, table columns first, then metadata and folder."""
        seen: dict[str, set[str]] = {}
        for scan in self.scans:
            for key, label in scan.groups.items():
                seen.setdefault(key, set()).add(label)
        splits = [key for key, labels in seen.items() if len(labels) > 1 or len(labels) < len(self.scans)]
        return [key for key in splits if len(seen[key]) > 1 or any(key not in s.groups for s in self.scans)]

    def groups(self, column: str | None) -> tuple[np.ndarray, list[str]]:
        """(group code of each measured scan, group labels), labels sorted; None or an unknown column: one group."""
        if not column or column not in self.group_columns:
            return np.zeros(len(self.measured), dtype=int), [NO_GROUP]
        raw = [s.groups.get(column) or "unknown" for s in self.measured]
        labels = sorted(set(raw), key=_natural)
        index = {label: k for k, label in enumerate(labels)}
        return np.array([index[r] for r in raw], dtype=int), labels

    def default_group(self) -> str | None:
        """The first grouping column that splits the measured scans into 2..MAX_GROUPS groups, else None."""
        for column in self.group_columns:
            if 2 <= len(self.groups(column)[1]) <= MAX_GROUPS:
                return column
        return None


def _natural(label: str) -> tuple:
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)


def _number(value: Any) -> float:
    if value is None:
        return math.nan
    try:
        out = float(value)
    except (TypeError, ValueError):
        return math.nan
    return out if math.isfinite(out) else math.nan


def _parse_cell(text: str) -> float | str | None:
    text = text.strip()
    if text.lower() in MISSING:
        return None
    try:
        return float(text)
    except ValueError:
        return text


def metric_order(names: list[str]) -> list[str]:
    """Catalogue order first, then the unknown names in their given order."""
    from mmrqa.metrics import CATALOGUE

    order = {name: k for k, name in enumerate(CATALOGUE)}
    return sorted(names, key=lambda n: (order.get(n, len(order)), names.index(n)))


def _rows_of_text(text: str, name: str) -> list[dict[str, Any]]:
    """Rows (column -> raw value) of a TSV, CSV or JSON-lines metrics table."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise InvalidArgumentError(f"{name}: the metrics table is empty")
    if lines[0].lstrip().startswith("{"):
        rows = []
        for k, line in enumerate(lines, 1):
            try:
                record = json.loads(line)
            except ValueError as exc:
                raise InvalidArgumentError(f"{name}: line {k} is not JSON ({exc.msg})") from exc
            meta = record.get("meta") or {}
            row = {"path": meta.get("path") or meta.get("source") or record.get("path") or f"row {k}"}
            row.update({k2: v for k2, v in meta.items() if k2 not in ("path", "source") and _groupable(v)})
            row.update(record.get("values") or {k2: v for k2, v in record.items() if k2 not in ("meta", "path")})
            rows.append(row)
        return rows
    delimiter = "\t" if "\t" in lines[0] else ","
    reader = csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter)
    header = next(reader)
    if len(header) < 2:
        raise InvalidArgumentError(f"{name}: expected a header row of tab- or comma-separated columns")
    rows = []
    for k, cells in enumerate(reader, 2):
        if len(cells) != len(header):
            raise InvalidArgumentError(f"{name}: line {k} has {len(cells)} cells for {len(header)} columns")
        rows.append({col: _parse_cell(cell) for col, cell in zip(header, cells, strict=True)})
    return rows


def _groupable(value: Any) -> bool:
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)


def read_metrics_table(path: str | os.PathLike) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    """Read an ``mmrqa metrics`` table (TSV, CSV or JSON lines).

    Returns:
        ``(rows, metric columns, grouping columns)``; each row maps ``path`` to the scan's path and every other
        column to a float (metrics, NaN when missing) or a string label (groups).

    Raises:
        ScanNotFoundError: the file does not exist.
        InvalidArgumentError: it is empty, has no ``path`` column or no numeric column, or a row is malformed.
    """
    path = Path(path)
    if not path.is_file():
        raise ScanNotFoundError(f"{path}: no such metrics table")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidArgumentError(f"{path}: cannot read the metrics table ({exc})") from exc
    rows = _rows_of_text(text, str(path))
    columns = list(dict.fromkeys(key for row in rows for key in row))
    first = columns[0]
    if "path" not in columns:
        if first in ("scan", "source", "file", "filename", "name"):
            for row in rows:
                row["path"] = row.pop(first)
        else:
            raise InvalidArgumentError(f"{path}: the metrics table has no 'path' column (first column: {first!r})")
    return _split_columns(rows, str(path))


def _split_columns(rows: list[dict[str, Any]], name: str) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    from mmrqa.metrics import CATALOGUE

    columns = [c for c in dict.fromkeys(key for row in rows for key in row) if c != "path"]
    metrics, groups = [], []
    for column in columns:
        cells = [row.get(column) for row in rows]
        present = [c for c in cells if c is not None]
        numeric = all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in present)
        if numeric and present and (column in CATALOGUE or len(set(present)) > MAX_GROUPS):
            metrics.append(column)
        elif present:
            groups.append(column)
    if not metrics:
        raise InvalidArgumentError(f"{name}: no numeric metric column in the table")
    out = []
    for row in rows:
        clean: dict[str, Any] = {"path": str(row.get("path"))}
        clean.update({m: _number(row.get(m)) for m in metrics})
        clean.update({g: _label(row.get(g)) for g in groups if row.get(g) is not None})
        out.append(clean)
    return out, metric_order(metrics), groups


def _label(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def meta_groups(meta: dict[str, Any]) -> dict[str, str]:
    """Grouping labels from a scan's metadata (:data:`META_GROUPS` that are present)."""
    return {key: _label(meta[key]) for key in META_GROUPS if meta.get(key) not in (None, "")}


def cohort_from_table(path: str | os.PathLike) -> Cohort:
    """A cohort straight from a metrics table: no images, no pages, no verdicts (the Space's cohort tab)."""
    from mmrqa.report.naming import folder_of, scan_ids

    rows, metrics, groups = read_metrics_table(path)
    ids, names = scan_ids([row["path"] for row in rows])
    scans = []
    for k, row in enumerate(rows):
        labels = {g: row[g] for g in groups if g in row}
        if folder_of(names[k]) and "folder" not in labels:  # as the report does: the folder below the common one
            labels["folder"] = folder_of(names[k])
        scans.append(CohortScan(ids[k], names[k], row["path"], {m: row[m] for m in metrics}, labels))
    return Cohort(scans, metrics)
