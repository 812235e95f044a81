"""Evaluation of MMRQA answers and the baselines they are compared with.

- ``evaluate_predictions``: scores per question type (accuracy, macro-F1, SRCC/PLCC, absolute error, grounding
  rate) with seeded bootstrap intervals; the functions behind it live in ``scores``.
- ``MajorityBaseline`` (the signal-only baseline is :mod:`mmrqa.classifier`).
- ``comparison_table`` (markdown) and ``model_index`` (Hub model-index entries) for several systems.
- ``METRIC_MODULE``: path of the ``evaluate`` module, ``evaluate.load(str(METRIC_MODULE))`` works offline.
- ``grounding_counts`` (:mod:`.grounding_rate`): how many numbers of generated texts are grounded in the metrics.
- :func:`mmrqa.evaluation.driver.evaluate_model` (the driver of ``mmrqa evaluate``): a model and the baselines on a
  dataset split, side by side.

This package sits above the pipeline (floor 4): it runs the pipeline's model; the pipeline never imports it.
"""

from __future__ import annotations

from pathlib import Path

from mmrqa.evaluation.baselines import MajorityBaseline
from mmrqa.evaluation.grounding_rate import grounding_counts
from mmrqa.evaluation.reporting import comparison_table, eval_results, model_index, parse_rate_table
from mmrqa.evaluation.scores import (
    ARTIFACT_LABELS,
    CLASSIFICATION_LABELS,
    PRESENCE_LABELS,
    RATING_LABELS,
    SEVERITY_LABELS,
    bootstrap_ci,
    classification_scores,
    grounding_scores,
    quality_scores,
    value_scores,
)
from mmrqa.evaluation.suite import HEADLINE_SCORES, QUESTION_TYPES, evaluate_predictions, flatten_scores

METRIC_MODULE = Path(__file__).parent / "mmrqa_qa"

__all__ = [
    "ARTIFACT_LABELS",
    "CLASSIFICATION_LABELS",
    "HEADLINE_SCORES",
    "METRIC_MODULE",
    "PRESENCE_LABELS",
    "QUESTION_TYPES",
    "RATING_LABELS",
    "SEVERITY_LABELS",
    "MajorityBaseline",
    "bootstrap_ci",
    "classification_scores",
    "comparison_table",
    "eval_results",
    "evaluate_predictions",
    "flatten_scores",
    "grounding_counts",
    "grounding_scores",
    "model_index",
    "parse_rate_table",
    "quality_scores",
    "value_scores",
]
