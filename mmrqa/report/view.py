"""The group view independent of any page: the table of scans with their verdicts and flags, the figures, a summary.

The static report (:mod:`mmrqa.report.pages`) renders it as HTML; the Space's cohort tab shows it with Gradio
(``gr.Plot`` takes the plotly figures as they are, ``gr.Dataframe`` the rows).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from mmrqa.report.cohort import Cohort, cohort_from_table
from mmrqa.report.outliers import Z_FLAG

FLAGGED_SHOWN = 4


def flagged_metrics(cohort: Cohort, k: int) -> list[tuple[str, float]]:
    """(metric, robust z) of each metric flagged on measured scan ``k``: the scale-free ones first (raw intensities
    in the scanner's arbitrary unit differ between scanners without a fault), each part largest |z| first."""
    z = cohort.outliers.z[k]
    joint = set(cohort.joint_metrics)
    flagged = [(cohort.metrics[j], float(z[j])) for j in np.flatnonzero(cohort.outliers.metric_flags[k])]
    return sorted(flagged, key=lambda item: (item[0] not in joint, -abs(item[1])))


def scan_rows(cohort: Cohort) -> list[dict[str, Any]]:
    """One dict per scan (in cohort order): number, name, groups, verdict, outlier score and flag, flagged metrics."""
    out = cohort.outliers
    position = {id(s): k for k, s in enumerate(cohort.measured)}
    rows = []
    for n, scan in enumerate(cohort.scans, 1):
        k = position.get(id(scan))
        verdict = scan.verdict or {}
        flagged = flagged_metrics(cohort, k) if k is not None else []
        shown = ", ".join(f"{m} ({z:+.1f})" for m, z in flagged[:FLAGGED_SHOWN])
        rows.append(
            {
                "n": n,
                "scan": scan,
                "groups": {c: scan.groups.get(c, "") for c in cohort.group_columns},
                "rating": verdict.get("rating") or ("error" if scan.error else "n/a"),
                "usability": verdict.get("usability", ""),
                "artifacts": verdict.get("artifacts", ""),
                "confidence": verdict.get("confidence"),
                "score": None if k is None else round(float(out.score[k]), 2),
                "flagged": bool(k is not None and out.flags[k]),
                "metric_flags": len(flagged),
                "flagged_text": shown + (" ..." if len(flagged) > FLAGGED_SHOWN else ""),
                "error": scan.error or "",
            }
        )
    return rows


@dataclass
class CohortView:
    """The group view of a cohort, grouped by ``group_by`` (None: one group)."""

    cohort: Cohort
    group_by: str | None

    @property
    def metrics(self) -> list[str]:
        return self.cohort.metrics

    def strip(self, metric: str):
        """The plotly strip plot of one metric."""
        from mmrqa.report.figures import strip_figure

        return strip_figure(self.cohort, metric, self.group_by)

    def embedding(self):
        """The plotly 2D embedding."""
        from mmrqa.report.figures import embedding_figure

        return embedding_figure(self.cohort, self.group_by)

    def table(self) -> tuple[list[str], list[list[Any]]]:
        """(header, rows) of the scan table, most suspicious first (multivariate score, descending)."""
        columns = self.cohort.group_columns
        rated = any(scan.verdict for scan in self.cohort.scans)  # a table alone has no verdicts
        header = ["scan", *columns, *(["rating"] if rated else []), "outlier score", "flagged", "metrics flagged"]
        header += ["error"]
        rows = []
        for row in scan_rows(self.cohort):
            rows.append(
                [
                    row["scan"].name,
                    *(row["groups"][c] for c in columns),
                    *([row["rating"]] if rated else []),
                    math.nan if row["score"] is None else row["score"],
                    "yes" if row["flagged"] else "",
                    f"{row['metric_flags']} {row['flagged_text']}".strip(),
                    row["error"],
                ]
            )
        score = header.index("outlier score")
        rows.sort(key=lambda r: -(r[score] if r[score] == r[score] else -math.inf))
        return header, rows

    def summary(self) -> str:
        """A markdown paragraph: counts, flags and how they are computed."""
        out = self.cohort.outliers
        return (
            f"**{len(self.cohort.scans)}** scans, **{len(self.cohort.measured)}** with metrics; "
            f"**{int(out.flags.sum())}** flagged over all metrics ({out.method}, above {out.threshold:.2f}); "
            f"**{int(out.metric_flags.any(axis=1).sum())}** with at least one metric at |robust z| > {Z_FLAG}."
        )


def cohort_view(table: str | os.PathLike, group_by: str | None = None) -> CohortView:
    """The group view of an ``mmrqa metrics`` table (TSV, CSV or JSON lines).

    Args:
        table: the table's path.
        group_by: a grouping column of the table (None or "": the first column that splits the cohort; an unknown
            name: no grouping).

    Raises:
        ScanNotFoundError, InvalidArgumentError: as :func:`mmrqa.report.read_metrics_table`.
    """
    cohort = cohort_from_table(table)
    if not group_by:
        group_by = cohort.default_group()
    elif group_by not in cohort.group_columns:
        group_by = None
    return CohortView(cohort, group_by)
