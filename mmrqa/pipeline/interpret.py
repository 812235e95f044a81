"""From questions to prompts and from the model's answers to an assessment's fields.

Questions are those of the training data (:data:`mmrqa.qa.bank.PHRASINGS`, first phrasing of each type), so that
the model is asked exactly what it was taught to answer. Answers are read back with
:func:`mmrqa.qa.bank.parse_answer`, which returns None for malformed or ambiguous text instead of raising, and is
given no answer about another artifact or metric than the question's (:func:`answers_another_target`); such an answer
is kept verbatim and counts as no vote.

Aggregation over slices (the volume-level verdict): the rating is the majority of the slices' votes, a tie going
to the *worse* rating (a QC screen should rather send a scan for review than pass it); an artifact is detected when
any slice names it (in the artifact-type or the report answer), its severity is the majority of the stated
severities, ties to the more severe; usability is the majority, ties to "repeat", and follows the rating (bad ->
repeat, else usable) when no slice answered it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from mmrqa.artifacts.registry import KINDS, SEVERITIES, artifact_words, kind_from_words
from mmrqa.qa.bank import PHRASINGS, Question, parse_answer
from mmrqa.qa.labels import QUALITY_WORDS
from mmrqa.qa.parse import ARTIFACT_SYNONYMS, NUMBER, mentions
from mmrqa.qa.questions import question_type

RATING_ORDER = tuple(QUALITY_WORDS.values())  # good, medium, bad: best first
SEVERITY_ORDER = SEVERITIES


def standard_question(question_type: str, target: str | None = None) -> Question:
    """The first phrasing of a question type of the bank, its placeholder filled with ``target``."""
    text = PHRASINGS[question_type][0].format(artifact=artifact_words(target or ""), metric=target or "")
    return Question(question_type, text, target)


@lru_cache(maxsize=1)
def _phrasing_patterns() -> list[tuple[str, re.Pattern]]:
    patterns = []
    for qtype, phrasings in PHRASINGS.items():
        for template in phrasings:
            parts = re.split(r"\{(?:artifact|metric)\}", template)
            body = r"(?P<target>.+?)".join(re.escape(p) for p in parts)
            patterns.append((qtype, re.compile(rf"\s*{body}\s*$", re.I | re.S)))
    return patterns


def classify_question(text: str) -> Question:
    """The :class:`Question` a text asks: its type (and target) when it is a phrasing of the bank, possibly after
    a signal summary line; type None for a free question."""
    last = (text or "").strip().splitlines()[-1] if (text or "").strip() else ""
    for qtype, pattern in _phrasing_patterns():
        match = pattern.match(last)
        if match:
            target = match.groupdict().get("target")
            if target and question_type(qtype).target == "artifact":
                target = kind_from_words(target)
            return Question(qtype, last, target.strip() if target else None)
    return Question(None, last)  # type: ignore[arg-type]


def parse(question: Question, answer: str) -> Any:
    """``parse_answer`` for a typed question (JSON-friendly: tuples become lists); None for a free question, and for
    an answer about another target than the question's (:func:`answers_another_target`: "The motion is moderate." is
    no severity of ghosting, "truncation = 0 %" no value of pe_correlation)."""
    if question.type is None or answers_another_target(question, answer):
        return None
    value = parse_answer(question.type, answer)
    if isinstance(value, dict) and isinstance(value.get("range"), tuple):
        value = {**value, "range": list(value["range"])}
    return value


def answers_another_target(question: Question, answer: Any) -> bool:
    """Whether the answer to a question about one artifact kind or metric (severity, comparison, metric value) names
    others of its kind and never the question's own: then it answers another question, and reading its severity or
    number as the target's would credit (or blame) the target with what was said of something else."""
    if not question.target or not isinstance(answer, str) or question.type is None:
        return False
    family = question_type(question.type).target
    if family == "artifact":
        named, target = {label for _, label in mentions(answer, ARTIFACT_SYNONYMS)}, question.target
    elif family == "metric":
        named = {m.lower() for m in re.findall(rf"([A-Za-z][\w\-]*)\s*=\s*{NUMBER}", answer)}
        target = question.target.lower()
    else:
        return False
    return bool(named) and target not in named


def _majority(votes: Sequence[str], order: Sequence[str], worse_wins: bool = True) -> str | None:
    counts = Counter(v for v in votes if v in order)
    if not counts:
        return None
    top = max(counts.values())
    tied = [v for v in order if counts.get(v) == top]
    return tied[-1] if worse_wins else tied[0]


def volume_rating(votes: Sequence[str | None]) -> str | None:
    """Majority of the slice ratings; a tie goes to the worse rating; None when no slice gave a readable rating."""
    return _majority([v for v in votes if v], RATING_ORDER)


def volume_usability(votes: Sequence[str | None], rating: str | None) -> str | None:
    """Majority of the usability answers (tie -> "repeat"); without any, "repeat" for a bad rating."""
    found = _majority([v for v in votes if v], ("usable", "repeat"))
    if found is not None:
        return found
    return None if rating is None else ("repeat" if rating == "bad" else "usable")


def named_artifacts(type_answers: Sequence[Any], reports: Sequence[Any]) -> Counter:
    """Artifact kind -> number of slices whose artifact-type or report answer names it."""
    counts: Counter = Counter()
    for typed, report in zip(type_answers, reports, strict=True):
        kinds = {typed} if typed in KINDS else set()
        if isinstance(report, dict) and report.get("artifact") in KINDS:
            kinds.add(report["artifact"])
        counts.update(kinds)
    return counts


def volume_severity(stated: Sequence[str | None]) -> str | None:
    """Majority of the stated severities other than "none", ties to the more severe; None when none is stated."""
    return _majority([s for s in stated if s and s != "none"], SEVERITY_ORDER)
