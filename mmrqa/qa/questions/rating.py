"""The rating question: the overall quality as good, medium or bad (MR-ART's scale, :mod:`mmrqa.qa.labels`).

Scored twice: as a class (accuracy, macro-F1) and as the quality level 1-3 (Spearman and Pearson correlation).
"""

from __future__ import annotations

from typing import Any

from mmrqa.qa.labels import QUALITY_SYNONYMS, QUALITY_WORDS, quality_from_word
from mmrqa.qa.parse import mentions, single
from mmrqa.qa.questions.base import QuestionType, ScoredField

RATING = ScoredField("rating", "Rating", "classification", tuple(QUALITY_WORDS.values()))
QUALITY = ScoredField("quality", "Quality", "ordinal", tuple(QUALITY_WORDS))


def parse(text: str) -> str | None:
    """``good`` | ``medium`` | ``bad``: the one quality word (or synonym) the text names."""
    return single(mentions(text, QUALITY_SYNONYMS))


def quality_level(word: Any) -> int | None:
    """1-3 for a quality word, None for anything else."""
    return quality_from_word(word) if word in QUALITY_WORDS.values() else None


def truth(question, report, labels, catalogue, indicators, other) -> str:
    return labels.quality_word


def render(question, expected, report, catalogue, pick) -> str:
    return pick(f"The overall image quality is {expected}.", f"I would rate this scan as {expected} quality.")


def score(parsed: Any) -> dict[str, Any]:
    return {"rating": parsed, "quality": quality_level(parsed)}


QUESTION = QuestionType(
    name="rating",
    phrasings=(
        "Rate the overall image quality of this MRI scan as good, medium or bad.",
        "How would you grade the quality of this MR image: good, medium or bad?",
        "What is the overall quality of this scan (good / medium / bad)?",
        "Assess this MRI slice. Is its quality good, medium or bad?",
        "Give an overall quality rating for this image: good, medium or bad.",
    ),
    truth=truth,
    render=render,
    parse=parse,
    score=score,
    fields=(RATING, QUALITY),
)
