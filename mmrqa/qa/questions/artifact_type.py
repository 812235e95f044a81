"""The artifact-type question: which registered artifact kind (or none) affects the scan.

The choices the phrasings list are the kinds of :mod:`mmrqa.artifacts.registry`, in its words and order.
"""

from __future__ import annotations

import re

from mmrqa.artifacts.registry import ARTIFACT_KINDS, KINDS, artifact_words
from mmrqa.qa.parse import ARTIFACT_SYNONYMS, NO_ARTIFACT, mentions, single
from mmrqa.qa.questions.base import QuestionType, ScoredField

ARTIFACT = ScoredField("artifact", "Artifact type", "classification", (*KINDS, "none"))
_CHOICES = ", ".join(kind.words for kind in ARTIFACT_KINDS)


def parse(text: str) -> str | None:
    """A registered kind, ``none``, or None when no kind or two different kinds are named."""
    found = mentions(text, ARTIFACT_SYNONYMS)
    if not found:
        return "none" if NO_ARTIFACT.search(text) or re.match(r"\W*none\b", text, re.I) else None
    return single(found)


def truth(question, report, labels, catalogue, indicators, other) -> str | None:
    return labels.artifact


def render(question, expected, report, catalogue, pick) -> str:
    if expected == "none":
        return pick("None: the scan shows no artifact.", "There is no artifact.")
    return pick(f"The main artifact is {artifact_words(expected)}.", f"This scan shows {artifact_words(expected)}.")


QUESTION = QuestionType(
    name="artifact_type",
    phrasings=(
        f"Which artifact, if any, affects this scan? Choose from {_CHOICES} or none.",
        "What kind of artifact does this MR image show (or none)?",
        f"Name the main artifact in this image: {_CHOICES}, or none.",
        "Identify the type of artifact present in this MRI slice, if there is one.",
    ),
    truth=truth,
    render=render,
    parse=parse,
    fields=(ARTIFACT,),
)
