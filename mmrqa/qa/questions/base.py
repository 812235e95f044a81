"""What the question-type registry holds for each type: :class:`QuestionType`, and the :class:`Question` asked."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: how the evaluation scores a field: accuracy and macro-F1 over ``labels``, Spearman/Pearson over ordered levels,
#: or the absolute error of a number.
FIELD_KINDS = ("classification", "ordinal", "value")


@dataclass(frozen=True)
class Question:
    """One question asked of an example.

    Attributes:
        type: a registered question type (``mmrqa.qa.QUESTION_TYPES``).
        text: the phrasing shown to the model (placeholders filled).
        target: the artifact kind (``severity``, ``comparison``) or metric name (``metric_value``) it is about.
    """

    type: str
    text: str
    target: str | None = None


@dataclass(frozen=True)
class ScoredField:
    """One value the evaluation scores (``mmrqa.evaluation.evaluate_predictions`` keys its results by ``name``).

    Attributes:
        name: the key, e.g. ``artifact`` (several question types may fill the same field: ``quality``).
        title: how tables name it (``Artifact type``).
        kind: one of ``FIELD_KINDS``.
        labels: the valid values of a classification (an answer outside them counts as wrong).
    """

    name: str
    title: str
    kind: str
    labels: tuple = ()

    def __post_init__(self) -> None:
        if self.kind not in FIELD_KINDS:
            raise ValueError(f"scored field {self.name!r}: kind must be one of {FIELD_KINDS}, got {self.kind!r}")


@dataclass(frozen=True)
class QuestionType:
    """Everything about one question type, in one place.

    Attributes:
        name: the identifier (``artifact_type``).
        phrasings: the wordings of the question; ``{artifact}`` / ``{metric}`` stand for the target.
        truth: ``(question, report, labels, catalogue, indicators, other) -> value`` true for the example (as
            ``parse`` returns it), or None when the labels do not determine it (the question is then not asked).
            ``report`` has the example's metric ``values``; ``other`` is the comparison partner's labels.
        render: ``(question, expected, report, catalogue, pick) -> str``: the template answer stating ``expected``;
            ``pick(*options)`` chooses one wording with the conversation's seeded generator.
        parse: ``text -> value``: what a free-text answer states, None when malformed or ambiguous.
        fields: the :class:`ScoredField` s the evaluation scores for this type.
        score: ``parsed value -> {field name: value}`` for every field (None where unreadable); by default the
            parsed value is the value of the one field.
        target: ``"artifact"`` or ``"metric"`` when the question is about one (its placeholder), else None.
        choose_target: ``(labels, report, rng, other, catalogue, indicators) -> str | None``: the target of a
            generated question (None: skip the question); required when ``target`` is set.
        images: images shown with the question (2 for a comparison of two examples).
        compare: ``(stated, expected, report) -> problems``: the grounding check's comparison (None: equality).
        from_labels: the truth follows from the example's labels (and metrics) alone, so a classifier of the labels
            (the signal-only baseline) can answer it.
    """

    name: str
    phrasings: tuple[str, ...]
    truth: Callable[..., Any]
    render: Callable[..., str]
    parse: Callable[[str], Any]
    fields: tuple[ScoredField, ...]
    score: Callable[[Any], dict[str, Any]] | None = None
    target: str | None = None
    choose_target: Callable[..., str | None] | None = None
    images: int = 1
    compare: Callable[[Any, Any, Any], list[str]] | None = None
    from_labels: bool = True

    def __post_init__(self) -> None:
        if self.score is None:
            if len(self.fields) != 1:
                raise ValueError(f"question type {self.name!r} scores several fields: it needs a score function")
            name = self.fields[0].name
            object.__setattr__(self, "score", lambda parsed: {name: parsed})
        if not self.phrasings:
            raise ValueError(f"question type {self.name!r} has no phrasing")
        if (self.target is None) != (self.choose_target is None):
            raise ValueError(f"question type {self.name!r}: a target needs choose_target and vice versa")
        if self.target not in (None, "artifact", "metric"):
            raise ValueError(f"question type {self.name!r}: target must be 'artifact', 'metric' or None")
