"""What grounded answers share: numbers in words, the signal summary, metric sentences and the QC report text.

Each question type's truth and template answer are registered with it (:mod:`mmrqa.qa.questions`) and built from
these pieces. Every number an answer prints comes from :func:`format_value` of a metric value or of a catalogue
reference bound, so :mod:`mmrqa.qa.grounding` can find it again at the printed precision. Every label comes from
:class:`Labels`.

Ranges: every function takes the catalogue it judges with. The training data is built with the catalogue's fixed
ranges (the dataset does not record each scan's context, and the evaluation re-derives the grounded numbers from the
catalogue alone); the pipeline's metrics-only report and answers pass the ranges that fit the scan
(:func:`mmrqa.metrics.ranges.catalogue_for`), where a metric not judged on that scan is said to be so.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mmrqa.artifacts.registry import artifact_words
from mmrqa.metrics import ARTIFACT_INDICATORS, CATALOGUE
from mmrqa.metrics.catalogue import is_acceptable, reference_range
from mmrqa.qa.labels import Labels

SIGNIFICANT_DIGITS = 3
#: at most this many metrics in the signal summary of a user turn, and in the evidence of a report.
MAX_SUMMARY_METRICS = 8
MAX_EVIDENCE_METRICS = 3


def format_value(value: float) -> str:
    """A metric value with 3 significant digits in fixed notation (``0.457``, ``45.7``, ``12346``): readable,
    and exactly reproducible from the value, which the grounding check relies on."""
    value = float(value)
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    decimals = min(max(0, SIGNIFICANT_DIGITS - 1 - math.floor(math.log10(abs(value)))), 8)
    text = f"{value:.{decimals}f}"
    return "0" if float(text) == 0 else text


def default_catalogue() -> tuple[dict[str, Any], dict[str, str]]:
    """``(CATALOGUE, ARTIFACT_INDICATORS)`` of :mod:`mmrqa.metrics`."""
    return CATALOGUE, ARTIFACT_INDICATORS


def describe_range(bounds: tuple[float | None, float | None]) -> str:
    low, high = bounds
    if low is not None and high is not None:
        return f"the acceptable range is {format_value(low)} to {format_value(high)}"
    if low is not None:
        return f"it is acceptable when at least {format_value(low)}"
    return f"it is acceptable when at most {format_value(high)}"  # type: ignore[arg-type]


def metric_values(report: Any) -> dict[str, float]:
    """The finite per-volume values of a MetricReport."""
    return {k: float(v) for k, v in report.values.items() if v is not None and np.isfinite(v)}


def summary_metrics(values: dict[str, float], catalogue: dict[str, Any], indicators: dict[str, str]) -> list[str]:
    """Metrics of the compact signal summary: the artifact indicators, then others with a reference range."""
    names = [m for m in dict.fromkeys(indicators.values()) if m in values]
    names += [m for m in catalogue if m in values and m not in names and reference_range(catalogue, m)]
    return names[:MAX_SUMMARY_METRICS]


def signal_summary(report: Any, catalogue: dict[str, Any], indicators: dict[str, str]) -> str:
    """``Signal metrics: EFC=0.523, SNR=12.3, ...`` (the MMRQA fusion: numbers the model reads beside the image)."""
    values = metric_values(report)
    parts = [f"{m}={format_value(values[m])}" for m in summary_metrics(values, catalogue, indicators)]
    return "Signal metrics: " + ", ".join(parts) + "." if parts else ""


def evidence_metrics(values: dict[str, float], labels: Labels, catalogue, indicators) -> list[str]:
    """Metrics a report cites: the indicator of the labelled artifact, then the metrics that agree with the verdict
    (inside their reference range for a good scan, outside it otherwise), else the first summary metrics."""
    names = []
    if labels.artifact not in (None, "none") and indicators.get(labels.artifact) in values:
        names.append(indicators[labels.artifact])
    good = labels.quality == 1  # a good verdict is supported by metrics in range, a poor one by those out of it
    for name in summary_metrics(values, catalogue, indicators):
        bounds = reference_range(catalogue, name)
        if bounds and is_acceptable(values[name], bounds) == good and name not in names:
            names.append(name)
    for name in summary_metrics(values, catalogue, indicators):
        if len(names) >= 2:
            break
        if name not in names:
            names.append(name)
    return names[:MAX_EVIDENCE_METRICS]


def metric_sentence(name: str, value: float, catalogue: dict[str, Any]) -> str:
    """``EFC = 0.523 (the acceptable range is 0.3 to 0.6: not acceptable)``."""
    unit = getattr(catalogue.get(name), "unit", "") or ""
    unit = "" if unit in ("", "1", "ratio", "fraction", "z", "a.u.", "unitless", "dimensionless") else f" {unit}"
    text = f"{name} = {format_value(value)}{unit}"
    bounds = reference_range(catalogue, name)
    if bounds is None:
        why = getattr(catalogue.get(name), "not_judged", "")  # a range that does not apply to this scan
        return f"{text} (no acceptable range applies to this scan: {why})" if why else text
    verdict = "acceptable" if is_acceptable(value, bounds) else "not acceptable"
    return f"{text} ({describe_range(bounds)}: {verdict})"


def report_text(expected: dict[str, Any], values: dict[str, float], catalogue) -> str:
    """A three-line QC report: overall quality and usability, artifact, and the metrics behind the verdict."""
    usability = "usable for diagnosis" if expected["usable"] else "repeat the scan"
    lines = [f"Overall quality: {expected['quality']} ({usability})."]
    if expected["artifact"] == "none":
        lines.append("Artifact: none.")
    elif expected["artifact"] is not None:
        severity = f", {expected['severity']}" if expected["severity"] else ""
        lines.append(f"Artifact: {artifact_words(expected['artifact'])}{severity}.")
    if expected["metrics"]:
        lines.append(
            "Evidence: " + "; ".join(metric_sentence(m, values[m], catalogue) for m in expected["metrics"]) + "."
        )
    return "\n".join(lines)
