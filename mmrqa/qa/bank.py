"""The question bank: ask a question of a registered type, know its truth, answer it, read an answer back.

Every function here dispatches to the type's entry in the registry (:mod:`mmrqa.qa.questions`), which holds the
phrasings, truth, template answer and parser of each type. Placeholders of the phrasings: ``{artifact}`` (an
artifact kind in words, e.g. "bias field") and ``{metric}`` (a metric name). The comparison questions refer to
"the first" and "the second" image, in the order the images are given.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from mmrqa.artifacts.registry import artifact_words
from mmrqa.errors import InvalidArgumentError
from mmrqa.qa.labels import Labels
from mmrqa.qa.questions import PHRASINGS, QUESTION_TYPES, Question, question_type

logger = logging.getLogger(__name__)

__all__ = ["PHRASINGS", "QUESTION_TYPES", "Question", "ask", "parse_answer", "render_answer", "truth"]


def ask(name: str, rng: np.random.Generator, target: str | None = None) -> Question:
    """A :class:`Question` of type ``name`` with a phrasing drawn uniformly by ``rng``."""
    qtype = question_type(name)
    if qtype.target is not None and not target:
        raise InvalidArgumentError(f"a {name!r} question needs a target (artifact kind or metric name)")
    template = qtype.phrasings[int(rng.integers(len(qtype.phrasings)))]
    return Question(name, template.format(artifact=artifact_words(target or ""), metric=target or ""), target)


def truth(question: Question, report: Any, labels: Labels, catalogue, indicators, other: Labels | None = None):
    """The structured answer (as :func:`parse_answer` returns it) that is true for this example; None when the
    labels do not determine it (then the question must not be asked)."""
    return question_type(question.type).truth(question, report, labels, catalogue, indicators, other)


def render_answer(question: Question, expected: Any, report: Any, catalogue, rng: np.random.Generator) -> str:
    """The template answer stating ``expected`` (from :func:`truth`), in one of a few wordings drawn by ``rng``."""
    pick = lambda *options: options[int(rng.integers(len(options)))]  # noqa: E731
    return question_type(question.type).render(question, expected, report, catalogue, pick)


def parse_answer(name: str, text: Any) -> Any:
    """The structured value stated by ``text`` for a question of type ``name``, or None if it states none.

    rating -> "good" | "medium" | "bad"; presence -> bool; artifact_type -> kind | "none"; severity -> "none" |
    "mild" | "moderate" | "severe"; usability -> "usable" | "repeat"; comparison -> "first" | "second";
    metric_value -> {"value": str, "acceptable": bool | None, "range": (low, high) | None};
    report -> {"quality", "usable", "artifact", "severity", "metrics": {name: str}}. Never raises, whatever the input.
    """
    if name not in QUESTION_TYPES or not isinstance(text, str) or not text.strip():
        return None
    try:
        return question_type(name).parse(text)
    except Exception:  # noqa: BLE001 - malformed model output must never crash a caller
        logger.debug("could not parse %r answer %r", name, text, exc_info=True)
        return None
