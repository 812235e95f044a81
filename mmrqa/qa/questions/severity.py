"""The severity question: how severe is a named artifact (none, mild, moderate or severe)?

The generated question names the example's own artifact with probability ``OWN_ARTIFACT_PROBABILITY``, else a
registered kind drawn uniformly, so that "none" is a frequent true answer.
"""

from __future__ import annotations

import re

from mmrqa.artifacts.registry import KINDS, SEVERITIES, SEVERITY_SYNONYMS, artifact_words
from mmrqa.qa.parse import mentions, single
from mmrqa.qa.questions.base import QuestionType, ScoredField

SEVERITY = ScoredField("severity", "Severity", "classification", SEVERITIES)
#: probability that a severity question names the example's own artifact (else a kind drawn uniformly).
OWN_ARTIFACT_PROBABILITY = 0.6


def choose_target(labels, report, rng, other, catalogue, indicators) -> str:
    own = labels.artifact not in (None, "none") and rng.random() < OWN_ARTIFACT_PROBABILITY
    return labels.artifact if own else str(rng.choice(KINDS))


def parse(text: str) -> str | None:
    """A severity, ``none`` when the artifact is said to be absent, None when unreadable or ambiguous."""
    found = mentions(text, SEVERITY_SYNONYMS)
    if not found:
        none = re.search(r"\bno\b|\bnone\b|\bnot (present|visible)\b|\babsent\b", text, re.I)
        return "none" if none else None
    return single(found)


def truth(question, report, labels, catalogue, indicators, other) -> str | None:
    if labels.artifact == question.target:
        return labels.severity
    return None if labels.artifact is None else "none"


def render(question, expected, report, catalogue, pick) -> str:
    words = artifact_words(question.target)
    if expected == "none":
        return pick(f"None: there is no {words} artifact.", f"There is no {words} in this image.")
    return pick(f"The {words} is {expected}.", f"I would grade the {words} as {expected}.")


QUESTION = QuestionType(
    name="severity",
    phrasings=(
        "How severe is the {artifact} artifact in this scan: none, mild, moderate or severe?",
        "Grade the {artifact} in this image as none, mild, moderate or severe.",
        "What is the severity of {artifact} in this MR image?",
        "Rate the amount of {artifact} artifact: none, mild, moderate or severe.",
    ),
    truth=truth,
    render=render,
    parse=parse,
    fields=(SEVERITY,),
    target="artifact",
    choose_target=choose_target,
)
