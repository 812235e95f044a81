"""Measure a scan file: load it the way its metric profile expects, then :func:`mmrqa.metrics.compute_metrics`.

The per-scan work of ``mmrqa metrics`` (run in engine workers) and of the metric benchmarks.
"""

from __future__ import annotations

import os

from mmrqa.io import load_volume
from mmrqa.metrics import compute_metrics
from mmrqa.metrics.report import MetricReport


def measure_file(path: str | os.PathLike, profile: str = "default", volume_index: int | None = None) -> MetricReport:
    """Load ``path`` (as stored for the ``mrqy`` profile, reoriented to RAS+ otherwise; volume ``volume_index`` of a
    4D file) and compute its metrics; the report's ``meta["path"]`` is ``str(path)``.

    Raises:
        MMRQAError: the scan cannot be read or measured (the message names the file).
    """
    volume = load_volume(path, canonical=(profile != "mrqy"), volume_index=volume_index)
    report = compute_metrics(volume, profile=profile)
    report.meta["path"] = str(path)
    return report
