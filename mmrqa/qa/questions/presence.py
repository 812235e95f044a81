"""The presence question: is there an artifact (yes or no)?"""

from __future__ import annotations

import re
from typing import Any

from mmrqa.qa.parse import NO_ARTIFACT
from mmrqa.qa.questions.base import QuestionType, ScoredField

PRESENCE = ScoredField("presence", "Artifact presence", "classification", ("yes", "no"))


def parse(text: str) -> bool | None:
    """True when the answer says an artifact is there, False when it says none is."""
    first = re.match(r"\W*(yes|no)\b", text, re.I)
    if first:
        return first.group(1).lower() == "yes"
    if NO_ARTIFACT.search(text):
        return False
    return (
        True if re.search(r"\bartifacts?\b.*\b(visible|present)\b|\bthere is an? \w* ?artifact", text, re.I) else None
    )


def truth(question, report, labels, catalogue, indicators, other) -> bool | None:
    return None if labels.artifact is None else labels.artifact != "none"


def render(question, expected, report, catalogue, pick) -> str:
    if expected:
        return pick("Yes, there is an artifact.", "Yes, an artifact is visible.")
    return pick("No, I see no artifact.", "No, the image is free of artifacts.")


def score(parsed: Any) -> dict[str, Any]:
    return {"presence": None if parsed is None else ("yes" if parsed else "no")}


QUESTION = QuestionType(
    name="presence",
    phrasings=(
        "Is there any artifact in this MRI scan? Answer yes or no.",
        "Does this MR image show an imaging artifact?",
        "Do you see an artifact in this scan (yes or no)?",
        "Is this image free of artifacts? Say yes if you see an artifact, no otherwise.",
    ),
    truth=truth,
    render=render,
    parse=parse,
    score=score,
    fields=(PRESENCE,),
)
