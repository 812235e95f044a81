"""Score a whole evaluation split at once: every question type, with intervals, as one JSON-ready dict."""

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

QUESTION_TYPES = (*CLASSIFICATION_LABELS, "quality", "metric_value")

# Headline score of each question type, in the order tables show them: (question type, score, label, higher better).
HEADLINE_SCORES: tuple[tuple[str, str, str, bool], ...] = (
    ("rating", "accuracy", "Rating accuracy", True),
    ("rating", "macro_f1", "Rating macro-F1", True),
    ("presence", "accuracy", "Artifact presence accuracy", True),
    ("presence", "macro_f1", "Artifact presence macro-F1", True),
    ("artifact", "accuracy", "Artifact type accuracy", True),
    ("artifact", "macro_f1", "Artifact type macro-F1", True),
    ("severity", "accuracy", "Severity accuracy", True),
    ("severity", "macro_f1", "Severity macro-F1", True),
    ("quality", "srcc", "Quality SRCC", True),
    ("quality", "plcc", "Quality PLCC", True),
    ("metric_value", "mae", "Metric value MAE", False),
    ("metric_value", "within_tolerance", "Metric value within 1%", True),
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
) -> dict[str, dict[str, Any]]:
    """Score parsed answers per question type.

    Args:
        predictions: question type -> parsed predictions (None for an unparseable answer). Types: ``rating``
            (good/medium/bad), ``presence`` (yes/no), ``artifact`` (8 kinds or none), ``severity``
            (none/mild/moderate/severe), ``quality`` (1-3), ``metric_value`` (a number). Any subset.
        references: the same keys, with the true values.
        grounding: optional ``(matched, totals)`` counts of grounded numbers per generated text
            (see ``mmrqa.evaluation.grounding_counts``).
        n_resamples, confidence, seed: the bootstrap (``n_resamples=0`` skips the intervals).
        rtol: relative tolerance for ``metric_value``'s ``within_tolerance``.

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
    boot = dict(n_resamples=max(n_resamples, 1), confidence=confidence, seed=seed)
    results: dict[str, dict[str, Any]] = {}
    for qtype in QUESTION_TYPES:
        if qtype not in predictions:
            continue
        pred, ref = list(predictions[qtype]), list(references[qtype])
        if qtype in CLASSIFICATION_LABELS:
            results[qtype] = classification_scores(pred, ref, CLASSIFICATION_LABELS[qtype], **boot)
        elif qtype == "quality":
            results[qtype] = quality_scores(pred, ref, **boot)
        else:
            results[qtype] = value_scores(pred, ref, rtol=rtol, **boot)
    if grounding is not None:
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
