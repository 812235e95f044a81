"""Side-by-side tables and Hub ``model-index`` entries from the results of several systems.

A *result* is what ``evaluate_predictions`` returns (question type -> scores with ``ci``). Systems are e.g. the
MMRQA adapter, the base model zero-shot, the signal-only classifier and the majority class, all scored on the same
split. Only measured numbers appear; a score a system did not produce is shown as "n/a", never filled in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from mmrqa.evaluation.suite import HEADLINE_SCORES

Result = Mapping[str, Mapping[str, Any]]


def _score(result: Result, qtype: str, name: str) -> tuple[float, tuple[float, float] | None]:
    scores = result.get(qtype)
    if not scores or name not in scores:
        return math.nan, None
    ci = scores.get("ci", {}).get(name)
    return float(scores[name]), (float(ci[0]), float(ci[1])) if ci is not None else None


def _cell(value: float, ci: tuple[float, float] | None, digits: int) -> str:
    if not math.isfinite(value):
        return "n/a"
    text = f"{value:.{digits}f}"
    if ci is not None and all(math.isfinite(c) for c in ci):
        text += f" [{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]"
    return text


def comparison_table(
    results: Mapping[str, Result],
    *,
    scores: tuple[tuple[str, str, str, bool], ...] = HEADLINE_SCORES,
    digits: int = 3,
    with_ci: bool = True,
    note: str | None = None,
) -> str:
    """A markdown table: one row per system, one column per headline score ("value [CI low, CI high]").

    Columns that no system has are dropped. ``note`` (e.g. "tiny demo model, random weights: not a real result")
    is printed under the table so that a number cannot be read without its caveat.
    """
    columns = [s for s in scores if any(s[0] in r and s[1] in r[s[0]] for r in results.values())]
    header = "| System | " + " | ".join(f"{label} {'↑' if up else '↓'}" for _, _, label, up in columns) + " |"
    lines = [header, "|" + "---|" * (len(columns) + 1)]
    for system, result in results.items():
        cells = []
        for qtype, name, _, _ in columns:
            value, ci = _score(result, qtype, name)
            cells.append(_cell(value, ci if with_ci else None, digits))
        lines.append(f"| {system} | " + " | ".join(cells) + " |")
    ns = sorted({int(s["n"]) for r in results.values() for s in r.values() if "n" in s})
    foot = [f"Intervals: 95% percentile bootstrap over examples. n per question type: {', '.join(map(str, ns))}."]
    if note:
        foot.append(note)
    return "\n".join(lines) + "\n\n" + "\n".join(foot) + "\n"


def parse_rate_table(rates: Mapping[str, Mapping[str, float]], digits: int = 3) -> str:
    """A markdown table of the parse rate (share of readable answers) of each system per question type."""
    types = list(dict.fromkeys(t for r in rates.values() for t in r))
    if not types:
        return ""
    lines = ["| Parse rate | " + " | ".join(types) + " |", "|" + "---|" * (len(types) + 1)]
    for system, rate in rates.items():
        cells = [f"{rate[t]:.{digits}f}" if t in rate else "n/a" for t in types]
        lines.append(f"| {system} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _metric_type(qtype: str, name: str) -> str:
    return {"accuracy": "accuracy", "macro_f1": "f1", "srcc": "spearmanr", "plcc": "pearsonr", "mae": "mae"}.get(
        name, f"{qtype}_{name}"
    )


def eval_results(
    result: Result,
    *,
    dataset_name: str,
    dataset_type: str,
    split: str = "test",
    task_type: str = "image-text-to-text",
    task_name: str = "MRI quality assessment",
    scores: tuple[tuple[str, str, str, bool], ...] = HEADLINE_SCORES,
) -> list[dict[str, Any]]:
    """The ``results`` list of one model-index entry: task, dataset and the measured headline metrics."""
    metrics = []
    for qtype, name, label, _ in scores:
        value, _ci = _score(result, qtype, name)
        if math.isfinite(value):
            metrics.append({"type": _metric_type(qtype, name), "value": round(value, 4), "name": label})
    return [
        {
            "task": {"type": task_type, "name": task_name},
            "dataset": {"name": dataset_name, "type": dataset_type, "split": split},
            "metrics": metrics,
        }
    ]


def model_index(results: Mapping[str, Result], **kwargs: Any) -> list[dict[str, Any]]:
    """Hub ``model-index`` (a list of ``{"name", "results"}``), one entry per system; kwargs as ``eval_results``."""
    return [{"name": system, "results": eval_results(result, **kwargs)} for system, result in results.items()]
