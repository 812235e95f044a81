"""Metric-grounded question answering about MRI quality: the question bank, grounded answers, their checker.

``make_conversations(images, report, labels)`` turns one example into TRL conversations; ``check_grounding``
verifies that an answer only states the example's metric values and true labels; ``parse_answer`` reads a model's
answer back into a structured value; ``rewrite`` optionally rewords answers with an LLM, keeping only grounded ones.
Quality words and the severity -> quality rule live in :mod:`mmrqa.qa.labels`. Question types are registered once,
one module each, in :mod:`mmrqa.qa.questions`; everything here iterates that registry.
"""

from __future__ import annotations

from mmrqa.qa.answers import format_value, signal_summary
from mmrqa.qa.bank import PHRASINGS, QUESTION_TYPES, Question, ask, parse_answer, render_answer, truth
from mmrqa.qa.conversations import make_conversations
from mmrqa.qa.grounding import GroundingResult, UngroundedAnswerError, check_grounding
from mmrqa.qa.labels import (
    QUALITY_WORDS,
    SEVERITY_TO_QUALITY,
    Labels,
    is_usable,
    quality_from_severity,
    quality_from_word,
    quality_word,
)
from mmrqa.qa.questions import QUESTIONS, SCORED_FIELDS, QuestionType, ScoredField, question_type

__all__ = [
    "PHRASINGS",
    "QUESTIONS",
    "SCORED_FIELDS",
    "QuestionType",
    "ScoredField",
    "question_type",
    "render_answer",
    "truth",
    "QUALITY_WORDS",
    "QUESTION_TYPES",
    "SEVERITY_TO_QUALITY",
    "GroundingResult",
    "Labels",
    "Question",
    "UngroundedAnswerError",
    "ask",
    "check_grounding",
    "format_value",
    "is_usable",
    "make_conversations",
    "parse_answer",
    "quality_from_severity",
    "quality_from_word",
    "quality_word",
    "signal_summary",
]
