"""The grounding check: an answer may only state numbers from the example's metrics and labels that are true.

Numbers: every number in the answer must equal, at the precision it is printed with (its number of decimals), a
metric value of the example (or of the other example in a comparison) or a reference bound of one of those metrics
in the catalogue. Labels: the answer, parsed back with :func:`mmrqa.qa.bank.parse_answer`, must state exactly the
truth of :func:`mmrqa.qa.bank.truth` for its question, compared as its question type says (for reports, every cited
metric must carry its own value).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from mmrqa.errors import MMRQAError
from mmrqa.metrics.catalogue import reference_range
from mmrqa.qa.answers import default_catalogue, metric_values
from mmrqa.qa.bank import parse_answer, truth
from mmrqa.qa.labels import QUALITY_SYNONYMS, Labels
from mmrqa.qa.parse import NUMBER, mentions
from mmrqa.qa.questions import Question, question_type


@dataclass
class GroundingResult:
    """``ok`` when grounded; otherwise ``problems`` says what is not. Truthy exactly when ``ok``."""

    ok: bool
    problems: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.ok


def _decimals(token: str) -> int:
    return len(token.split(".")[1]) if "." in token else 0


def allowed_numbers(reports: list[Any], catalogue: dict[str, Any]) -> list[float]:
    """Metric values of the reports and the reference bounds of those metrics."""
    numbers: list[float] = []
    for report in reports:
        for name, value in metric_values(report).items():
            numbers.append(value)
            numbers += [b for b in (reference_range(catalogue, name) or ()) if b is not None]
    return numbers


def ungrounded_numbers(answer: str, numbers: list[float]) -> list[str]:
    """Number tokens of ``answer`` that no allowed number prints as (at the token's own precision)."""
    bad = []
    for token in re.findall(NUMBER, answer):
        decimals, stated = _decimals(token), float(token)
        if not any(f"{value:.{decimals}f}" == f"{stated:.{decimals}f}" for value in numbers):
            bad.append(token)
    return bad


def _compare(kind: str, stated: Any, expected: Any, report: Any) -> list[str]:
    if stated is None:
        return [f"the answer does not state a {kind} value that can be read back"]
    compare = question_type(kind).compare
    if compare is not None:
        return compare(stated, expected, report)
    return [] if stated == expected else [f"{kind} stated {stated!r}, true {expected!r}"]


def check_grounding(
    answer: str,
    report: Any,
    labels: Labels,
    *,
    question: Question | None = None,
    other: tuple[Any, Labels] | None = None,
    catalogue: dict[str, Any] | None = None,
    indicators: dict[str, str] | None = None,
) -> GroundingResult:
    """Check ``answer`` against the example's metrics (``report.values``) and ``labels``.

    Args:
        answer: the text to check.
        report: the example's MetricReport (anything with a ``values`` dict of floats).
        labels: the example's ground truth.
        question: the question answered; without it only the numbers and any quality word are checked.
        other: ``(report, labels)`` of the second image of a comparison.
        catalogue, indicators: metric catalogue and artifact indicators (default: :mod:`mmrqa.metrics`).
    """
    if catalogue is None or indicators is None:
        catalogue, indicators = default_catalogue()
    if not isinstance(answer, str) or not answer.strip():
        return GroundingResult(False, ["empty answer"])
    reports = [report] + ([other[0]] if other is not None else [])
    problems = [
        f"number {t} is not in the metrics" for t in ungrounded_numbers(answer, allowed_numbers(reports, catalogue))
    ]
    if question is None:
        stated = {label for _, label in mentions(answer, QUALITY_SYNONYMS)}
        problems += [
            f"quality {word!r} is not the true {labels.quality_word!r}" for word in stated - {labels.quality_word}
        ]
        return GroundingResult(not problems, problems)
    expected = truth(question, report, labels, catalogue, indicators, other[1] if other else None)
    if expected is None:
        return GroundingResult(
            False, problems + [f"the labels do not determine the answer to a {question.type} question"]
        )
    problems += _compare(question.type, parse_answer(question.type, answer), expected, report)
    return GroundingResult(not problems, problems)


class UngroundedAnswerError(MMRQAError):
    """A generated answer states a number or label that the example's metrics and labels do not support."""
