"""The report question: a three-line QC report (quality and usability, artifact, the metrics behind the verdict).

The report's text is :func:`mmrqa.qa.answers.report_text`; its quality is scored like the rating's quality level.
The grounding check accepts any metric of the example as evidence, each with its own value.
"""

from __future__ import annotations

import re
from typing import Any

from mmrqa.qa.answers import evidence_metrics, format_value, metric_values, report_text
from mmrqa.qa.parse import ARTIFACT_SYNONYMS, NUMBER, SEVERITY_SYNONYMS, mentions, single
from mmrqa.qa.questions import rating, usability
from mmrqa.qa.questions.base import QuestionType

_LABEL_KEYS = ("quality", "usable", "artifact", "severity")


def parse(text: str) -> dict[str, Any] | None:
    """``{"quality", "usable", "artifact", "severity", "metrics": {name: str}}``; None without a quality line."""
    quality = re.search(r"quality\s*:\s*([A-Za-z]+)", text, re.I)
    artifact_line = re.search(r"artifact\s*:\s*([^\n]*)", text, re.I)
    if not quality:
        return None
    line = artifact_line.group(1) if artifact_line else ""
    artifact = "none" if re.match(r"\s*none\b", line, re.I) else single(mentions(line, ARTIFACT_SYNONYMS))
    severity = "none" if artifact == "none" else single(mentions(line, SEVERITY_SYNONYMS))
    metrics = dict(re.findall(rf"([A-Za-z][\w\-]*)\s*=\s*({NUMBER})", text))
    quality_line = text[quality.start() : text.find("\n", quality.start()) % (len(text) + 1)]
    usable = usability.parse(quality_line)
    return {
        "quality": rating.parse(quality.group(1)),
        "usable": usable == "usable" if usable else None,
        "artifact": artifact,
        "severity": severity,
        "metrics": metrics,
    }


def truth(question, report, labels, catalogue, indicators, other) -> dict[str, Any]:
    values = metric_values(report)
    cited = evidence_metrics(values, labels, catalogue, indicators)
    return {
        "quality": labels.quality_word,
        "usable": labels.usable,
        "artifact": labels.artifact,
        "severity": labels.severity,
        "metrics": {m: format_value(values[m]) for m in cited},
    }


def render(question, expected, report, catalogue, pick) -> str:
    return report_text(expected, metric_values(report), catalogue)


def compare(stated: dict[str, Any], expected: dict[str, Any], report: Any) -> list[str]:
    problems = [
        f"{key} stated {stated[key]!r}, true {expected[key]!r}"
        for key in _LABEL_KEYS
        if expected[key] is not None and stated[key] != expected[key]
    ]
    if not stated["metrics"]:
        problems.append("the report cites no metric")
    values = {m: format_value(v) for m, v in metric_values(report).items()}  # any metric of the example may be cited
    problems += [f"{m} = {v} is not that metric's value" for m, v in stated["metrics"].items() if values.get(m) != v]
    return problems


def score(parsed: Any) -> dict[str, Any]:
    return {"quality": rating.quality_level((parsed or {}).get("quality"))}


QUESTION = QuestionType(
    name="report",
    phrasings=(
        "Write a short quality report for this MRI scan, citing the metrics behind your verdict.",
        "Summarise the image quality of this scan with the supporting quality metrics.",
        "Give a brief quality-control report of this image, with the evidence from the signal metrics.",
        "Produce a short QC report: overall quality, artifact, and the metrics that support it.",
    ),
    truth=truth,
    render=render,
    parse=parse,
    score=score,
    fields=(rating.QUALITY,),
    compare=compare,
)
