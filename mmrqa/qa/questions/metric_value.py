"""The metric-value question: what is a metric's value, and is it within its acceptable range?

The metric asked about is drawn from the example's signal summary (:func:`mmrqa.qa.answers.summary_metrics`); the
range is the catalogue's reference range. Scored as the absolute error of the value read out.
"""

from __future__ import annotations

import re
from typing import Any

from mmrqa.metrics.catalogue import is_acceptable, reference_range
from mmrqa.qa.answers import format_value, metric_sentence, metric_values, summary_metrics
from mmrqa.qa.parse import NUMBER
from mmrqa.qa.questions.base import QuestionType, ScoredField

METRIC_VALUE = ScoredField("metric_value", "Metric value", "value")


def choose_target(labels, report, rng, other, catalogue, indicators) -> str | None:
    names = summary_metrics(metric_values(report), catalogue, indicators)
    return str(rng.choice(names)) if names else None


def _acceptable(text: str) -> bool | None:
    if re.search(r"\b(not acceptable|unacceptable|outside|out of range|not within)\b", text, re.I):
        return False
    return True if re.search(r"\b(acceptable|within|in range)\b", text, re.I) else None


def _range(text: str) -> tuple[str | None, str | None] | None:
    both = re.search(rf"({NUMBER})\s*(?:to|and|–)\s*({NUMBER})", text)
    if both:
        return both.group(1), both.group(2)
    low = re.search(rf"at least\s*({NUMBER})", text, re.I)
    high = re.search(rf"at most\s*({NUMBER})", text, re.I)
    if low or high:
        return (low.group(1) if low else None), (high.group(1) if high else None)
    return None


def parse(text: str) -> dict[str, Any] | None:
    """``{"value": str, "acceptable": bool | None, "range": (low, high) | None}``; None without a number."""
    numbers = re.findall(NUMBER, text)
    if not numbers:
        return None
    return {"value": numbers[0], "acceptable": _acceptable(text), "range": _range(text)}


def truth(question, report, labels, catalogue, indicators, other) -> dict[str, Any] | None:
    values = metric_values(report)
    if question.target not in values:
        return None
    bounds = reference_range(catalogue, question.target)
    value = values[question.target]
    return {
        "value": format_value(value),
        "acceptable": None if bounds is None else is_acceptable(value, bounds),
        "range": None if bounds is None else tuple(None if b is None else format_value(b) for b in bounds),
    }


def render(question, expected, report, catalogue, pick) -> str:
    return metric_sentence(question.target, metric_values(report)[question.target], catalogue) + "."


def compare(stated: dict[str, Any], expected: dict[str, Any], report: Any) -> list[str]:
    problems = []
    if stated["value"] != expected["value"]:
        problems.append(f"value {stated['value']} differs from the metric's {expected['value']}")
    if expected["acceptable"] is not None and stated["acceptable"] != expected["acceptable"]:
        problems.append(f"acceptability stated {stated['acceptable']}, true {expected['acceptable']}")
    if stated["range"] is not None and expected["range"] is not None and stated["range"] != expected["range"]:
        problems.append(f"reference range {stated['range']} differs from {expected['range']}")
    return problems


def score(parsed: Any) -> dict[str, Any]:
    try:
        return {"metric_value": float(parsed["value"])}
    except (TypeError, KeyError, ValueError):
        return {"metric_value": None}


QUESTION = QuestionType(
    name="metric_value",
    phrasings=(
        "What is the {metric} of this scan, and is it within the acceptable range?",
        "Report the {metric} value of this image and say whether it is acceptable.",
        "Give the {metric} measured on this scan. Is it acceptable?",
        "What {metric} does this MRI have, and does it fall in the acceptable range?",
    ),
    truth=truth,
    render=render,
    parse=parse,
    score=score,
    fields=(METRIC_VALUE,),
    target="metric",
    choose_target=choose_target,
    compare=compare,
    from_labels=False,
)
