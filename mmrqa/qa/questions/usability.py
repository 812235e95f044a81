"""The usability question: usable for diagnosis, or repeat the scan? (Bad quality means repeat, ``labels.is_usable``.)"""

from __future__ import annotations

import re

from mmrqa.qa.questions.base import QuestionType, ScoredField

USABILITY = ScoredField("usability", "Usability", "classification", ("usable", "repeat"))
#: how reports and pages say each usability value
USABILITY_WORDS = {"usable": "usable for diagnosis", "repeat": "repeat the scan"}


def parse(text: str) -> str | None:
    """``usable`` | ``repeat``."""
    if re.search(r"\bno need to (repeat|rescan)|\bneed not be repeated|\bdoes not need to be repeated", text, re.I):
        return "usable"
    if re.search(
        r"\b(not usable|unusable|not diagnostic|non-diagnostic|repeat\w*|rescan\w*|re-scan|reacquir\w*)\b", text, re.I
    ):
        return "repeat"
    return "usable" if re.search(r"\b(usable|diagnostic|acceptable for diagnosis)\b", text, re.I) else None


def truth(question, report, labels, catalogue, indicators, other) -> str:
    return "usable" if labels.usable else "repeat"


def render(question, expected, report, catalogue, pick) -> str:
    if expected == "usable":
        return pick("The scan is usable for diagnosis.", "Usable for diagnosis.")
    return pick("Repeat the scan: it is not usable for diagnosis.", "The scan should be repeated.")


QUESTION = QuestionType(
    name="usability",
    phrasings=(
        "Is this scan usable for diagnosis, or should it be repeated?",
        "Would you accept this image for diagnosis or repeat the acquisition?",
        "Can a radiologist read this scan, or does it need to be repeated?",
        "Usable for diagnosis or repeat the scan?",
    ),
    truth=truth,
    render=render,
    parse=parse,
    fields=(USABILITY,),
)
