"""Score a whole evaluation split at once: every scored field, with intervals, as one JSON-ready dict.

The fields and how each is scored come from the question-type registry (:data:`mmrqa.qa.SCORED_FIELDS`): a
classification by accuracy and macro-F1, the quality level by Spearman and Pearson correlation, a value by its
absolute error.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from mmrqa.errors import InvalidArgumentError
from mmrqa.evaluation.scores import (
    CLASSIFICATION_LABELS,
    classification_scores,
    grounding_scores,
    quality_scores,
    value_scores,
)
from mmrqa.qa.questions import SCORED_FIELDS

#: the keys ``evaluate_predictions`` scores (the registry's scored fields, e.g. ``artifact`` for ``artifact_type``).
QUESTION_TYPES: tuple[str, ...] = tuple(field.name for field in SCORED_FIELDS)
_KINDS = {field.name: field.kind for field in SCORED_FIELDS}


#: the two headline scores of each kind of field: (score, label after the field's title, higher is better).
_HEADLINES = {
    "classification": (("accuracy", "accuracy", True), ("macro_f1", "macro-F1", True)),
    "ordinal": (("srcc", "SRCC", True), ("plcc", "PLCC", True)),
    "value": (("mae", "MAE", False), ("within_tolerance", "within 1%", True)),
}

# Headline score of each question type, in the order tables show them: (question type, score, label, higher better).
HEADLINE_SCORES: tuple[tuple[str, str, str, bool], ...] = (
    *((f.name, score, f"{f.title} {label}", up) for f in SCORED_FIELDS for score, label, up in _HEADLINES[f.kind]),
    ("grounding", "rate", "Grounding rate", True),
)


def evaluate_predictions(
    predictions: Mapping[str, Sequence[Any]],
    references: Mapping[str, Sequence[Any]],
    *,
    grounding: tuple[Sequence[int], Sequence[int]] | None = None,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    rtol: float = 0.01,
    clusters: Mapping[str, Sequence[Any]] | None = None,
    grounding_clusters: Sequence[Any] | None = None,
) -> dict[str, dict[str, Any]]:
    """Score parsed answers per question type.

    Args:
        predictions: scored field -> parsed predictions (None for an unparseable answer). Fields
            (``QUESTION_TYPES``): ``rating`` (good/medium/bad), ``presence`` (yes/no), ``artifact`` (a registered
            kind or none), ``severity`` (none/mild/moderate/severe), ``usability`` (usable/repeat), ``comparison``
            (first/second), ``quality`` (1-3), ``metric_value`` (a number). Any subset.
        references: the same keys, with the true values.
        grounding: optional ``(matched, totals)`` counts of grounded numbers per generated text
            (see ``mmrqa.evaluation.grounding_counts``).
        n_resamples, confidence, seed: the bootstrap (``n_resamples=0`` skips the intervals).
        rtol: relative tolerance for ``metric_value``'s ``within_tolerance``.
        clusters: optional scored field -> one cluster id per example (e.g. its subject): the bootstrap then
            resamples clusters, not examples (:func:`mmrqa.evaluation.scores.bootstrap_ci`), and each field's scores
            carry ``n_clusters``. ``grounding_clusters``: the same for the generated texts of ``grounding``.

    Returns:
        question type -> scores (``n``, ``n_invalid``, the scores and ``ci``: score -> [low, high]).
    """
    unknown = (set(predictions) | set(references)) - set(QUESTION_TYPES)
    if unknown:
        raise InvalidArgumentError(f"unknown question types {sorted(unknown)}; expected some of {QUESTION_TYPES}")
    if set(predictions) != set(references):
        raise InvalidArgumentError(
            f"predictions cover {sorted(predictions)} but references cover {sorted(references)}; they must match"
        )
    if clusters is not None and set(clusters) != set(predictions):
        raise InvalidArgumentError(f"clusters cover {sorted(clusters)} but predictions cover {sorted(predictions)}")
    boot: dict[str, Any] = dict(n_resamples=max(n_resamples, 1), confidence=confidence, seed=seed)
    results: dict[str, dict[str, Any]] = {}
    for qtype in QUESTION_TYPES:
        if qtype not in predictions:
            continue
        pred, ref = list(predictions[qtype]), list(references[qtype])
        boot["clusters"] = None if clusters is None else list(clusters[qtype])
        if _KINDS[qtype] == "classification":
            results[qtype] = classification_scores(pred, ref, CLASSIFICATION_LABELS[qtype], **boot)
        elif _KINDS[qtype] == "ordinal":
            results[qtype] = quality_scores(pred, ref, **boot)
        else:
            results[qtype] = value_scores(pred, ref, rtol=rtol, **boot)
        if clusters is not None:
            results[qtype]["n_clusters"] = len(set(clusters[qtype]))
    if grounding is not None:
        boot["clusters"] = grounding_clusters
        results["grounding"] = grounding_scores(*grounding, **boot)
    if n_resamples == 0:
        for scores in results.values():
            scores["ci"] = {name: (math.nan, math.nan) for name in scores["ci"]}
    return results


def flatten_scores(results: Mapping[str, Mapping[str, Any]]) -> dict[str, float]:
    """``{"rating/accuracy": 0.8, "rating/accuracy_ci_low": ..., ...}``: one flat dict for logs and JSON rows."""
    flat: dict[str, float] = {}
    for qtype, scores in results.items():
        for name, value in scores.items():
            if name == "ci":
                for score, (low, high) in value.items():
                    flat[f"{qtype}/{score}_ci_low"] = float(low)
                    flat[f"{qtype}/{score}_ci_high"] = float(high)
            elif isinstance(value, int | float):
                flat[f"{qtype}/{name}"] = float(value)
    return flat
