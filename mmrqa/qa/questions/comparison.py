"""The comparison question: of two images, which shows the stronger artifact (the first or the second)?

Asked about an artifact one of the two examples has; the truth compares the two severities (a tie is not asked).
"""

from __future__ import annotations

import re

from mmrqa.artifacts.registry import SEVERITIES, artifact_words
from mmrqa.qa.questions.base import QuestionType, ScoredField

COMPARISON = ScoredField("comparison", "Comparison", "classification", ("first", "second"))
_RANK = {severity: rank for rank, severity in enumerate(SEVERITIES)}


def choose_target(labels, report, rng, other, catalogue, indicators) -> str | None:
    if other is None:
        return None
    kinds = sorted({a for a in (labels.artifact, other.artifact) if a not in (None, "none")})
    return str(rng.choice(kinds)) if kinds else None


def winner(target: str, labels, other) -> str | None:
    """ "first" or "second": which example shows more of ``target`` (None on a tie or unknown severity)."""
    ranks = []
    for lab in (labels, other):
        if lab.artifact == target and lab.severity is not None:
            ranks.append(_RANK[lab.severity])
        elif lab.artifact is None or (lab.artifact == target and lab.severity is None):
            return None
        else:
            ranks.append(0)
    if ranks[0] == ranks[1]:
        return None
    return "first" if ranks[0] > ranks[1] else "second"


def parse(text: str) -> str | None:
    """``first`` | ``second``: whichever the answer names first."""
    found = sorted(
        [(m.start(), "first") for m in re.finditer(r"\b(first|image 1|1st)\b", text, re.I)]
        + [(m.start(), "second") for m in re.finditer(r"\b(second|image 2|2nd)\b", text, re.I)]
    )
    return found[0][1] if found else None


def truth(question, report, labels, catalogue, indicators, other) -> str | None:
    return None if other is None else winner(question.target, labels, other)


def render(question, expected, report, catalogue, pick) -> str:
    return pick(f"The {expected} image shows stronger {artifact_words(question.target)}.", f"The {expected} one.")


QUESTION = QuestionType(
    name="comparison",
    phrasings=(
        "Which of the two images shows stronger {artifact}: the first or the second?",
        "Compare the two scans. Which one has more {artifact} artifact, the first or the second?",
        "Between the first and the second image, which is more affected by {artifact}?",
        "Look at both images. Which shows the more severe {artifact}: first or second?",
    ),
    truth=truth,
    render=render,
    parse=parse,
    fields=(COMPARISON,),
    target="artifact",
    choose_target=choose_target,
    images=2,
    from_labels=False,
)
