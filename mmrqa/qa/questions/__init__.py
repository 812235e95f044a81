"""The question-type registry: every question type MMRQA asks, one module each, registered once here.

A type's module holds everything about it (:class:`~mmrqa.qa.questions.base.QuestionType`): its phrasings, how its
target is chosen, its truth from the labels and metrics, its template answer, its answer parser, its grounding
comparison and what the evaluation scores. Everything else iterates :data:`QUESTIONS`: the question bank
(:mod:`mmrqa.qa.bank`: ``ask``, ``truth``, ``render_answer``, ``parse_answer``), the conversations, the grounding
check, the pipeline's question recognition, ``mmrqa evaluate`` (its scored fields, the signal-only baseline, the parse
rate), the ``evaluate`` module, the dataset builder's config and the generated docs.

Adding a question type: write ``mmrqa/qa/questions/<name>.py`` with its ``QUESTION``, add it to ``QUESTIONS`` below,
add its tests (the registry tests then cover it: phrasings, its parser reading its own answers, its score), and
regenerate the docs (``python -m mmrqa.docs README.md``). Before this registry a new type touched nine files (bank,
parse, answers, conversations, grounding, the evaluation suite, the ``evaluate`` module, the evaluation run, the
Space); now none besides the new module and this list.
"""

from __future__ import annotations

from mmrqa.errors import InvalidArgumentError
from mmrqa.qa.questions import (
    artifact_type,
    comparison,
    metric_value,
    presence,
    rating,
    report,
    severity,
    usability,
)
from mmrqa.qa.questions.base import FIELD_KINDS, Question, QuestionType, ScoredField

#: the registered question types, in the order a conversation asks them (the order is part of the dataset's bytes:
#: each type draws from the same seeded generator in turn).
QUESTIONS: tuple[QuestionType, ...] = (
    rating.QUESTION,
    presence.QUESTION,
    artifact_type.QUESTION,
    severity.QUESTION,
    metric_value.QUESTION,
    usability.QUESTION,
    report.QUESTION,
    comparison.QUESTION,
)

QUESTION_TYPES: tuple[str, ...] = tuple(q.name for q in QUESTIONS)
PHRASINGS: dict[str, tuple[str, ...]] = {q.name: q.phrasings for q in QUESTIONS}
_BY_NAME = {q.name: q for q in QUESTIONS}


def _scored_fields() -> tuple[ScoredField, ...]:
    fields: dict[str, ScoredField] = {}
    for kind in FIELD_KINDS:  # classifications first, then quality levels, then values: the order tables show
        for question in QUESTIONS:
            for field in question.fields:
                if field.kind == kind:
                    fields.setdefault(field.name, field)
    return tuple(fields.values())


#: every field the evaluation scores, each once (``quality`` is filled by the rating and the report).
SCORED_FIELDS: tuple[ScoredField, ...] = _scored_fields()


def question_type(name: str) -> QuestionType:
    """The registered type ``name``; raises ``InvalidArgumentError`` for an unknown one."""
    if name not in _BY_NAME:
        raise InvalidArgumentError(f"unknown question type {name!r}: expected one of {QUESTION_TYPES}")
    return _BY_NAME[name]


__all__ = [
    "PHRASINGS",
    "QUESTIONS",
    "QUESTION_TYPES",
    "SCORED_FIELDS",
    "Question",
    "QuestionType",
    "ScoredField",
    "question_type",
]
