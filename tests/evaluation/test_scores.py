"""Scores on a hand-made set of predictions and references: every expected number is worked out by hand here."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mmrqa.errors import InvalidArgumentError, MMRQAError
from mmrqa.evaluation import (
    ARTIFACT_LABELS,
    RATING_LABELS,
    bootstrap_ci,
    classification_scores,
    evaluate_predictions,
    flatten_scores,
    grounding_scores,
    quality_scores,
    value_scores,
)

RATING_REF = ["good", "good", "medium", "bad", "bad", "medium"]
RATING_PRED = ["good", "medium", "medium", "bad", None, "excellent"]  # None and an unknown label: both wrong


def test_rating_accuracy_and_macro_f1_by_hand():
    scores = classification_scores(RATING_PRED, RATING_REF, RATING_LABELS, n_resamples=10)
    # matches at 0, 2, 3 -> 3/6
    assert scores["accuracy"] == pytest.approx(3 / 6)
    # good: TP 1, predicted 1, actual 2 -> 2/3; medium: TP 1, predicted 2, actual 2 -> 1/2; bad: TP 1, 1, 2 -> 2/3
    assert scores["macro_f1"] == pytest.approx((2 / 3 + 1 / 2 + 2 / 3) / 3)
    assert scores["n"] == 6 and scores["n_invalid"] == 2


def test_macro_f1_agrees_with_scikit_learn():
    metrics = pytest.importorskip("sklearn.metrics")
    pred = ["<invalid>" if p not in RATING_LABELS else p for p in RATING_PRED]
    expected = metrics.f1_score(RATING_REF, pred, labels=list(RATING_LABELS), average="macro")
    assert classification_scores(RATING_PRED, RATING_REF, RATING_LABELS, n_resamples=1)["macro_f1"] == pytest.approx(
        expected
    )


def test_presence_is_case_and_space_insensitive():
    scores = classification_scores(["Yes", " no ", None, "yes"], ["yes", "no", "yes", "no"], ("yes", "no"))
    assert scores["accuracy"] == pytest.approx(2 / 4)
    # yes: TP 1, predicted 2, actual 2 -> 1/2; no: TP 1, predicted 1, actual 2 -> 2/3
    assert scores["macro_f1"] == pytest.approx((1 / 2 + 2 / 3) / 2)


def test_all_unparseable_scores_zero_not_nan():
    scores = classification_scores([None, None, None], ["motion", "none", "blur"], ARTIFACT_LABELS)
    assert scores["accuracy"] == 0.0 and scores["macro_f1"] == 0.0 and scores["n_invalid"] == 3


def test_quality_srcc_and_plcc_by_hand():
    ref = [1, 1, 2, 3, 3]
    pred = [1, 2, 2, None, 3]  # the None (true 3) is scored as the worst answer, 1
    scores = quality_scores(pred, ref, n_resamples=10)
    # pred [1,2,2,1,3] (mean 1.8), ref mean 2: sum dp*dr = 0.8-0.2+0-0.8+1.2 = 1.0, sum dp^2 = 2.8, sum dr^2 = 4
    assert scores["plcc"] == pytest.approx(1.0 / math.sqrt(2.8 * 4))
    # ranks pred [1.5,3.5,3.5,1.5,5], ref [1.5,1.5,3,4.5,4.5]: covariance sum 2.25, each variance sum 9
    assert scores["srcc"] == pytest.approx(2.25 / 9)
    assert scores["n_invalid"] == 1


def test_refusing_to_answer_never_helps_correlation():
    ref = [1, 2, 3, 1, 2, 3]
    honest = quality_scores([1, 2, 2, 2, 2, 3], ref, n_resamples=1)
    refusing = quality_scores([1, 2, None, None, 2, 3], ref, n_resamples=1)
    assert refusing["srcc"] < honest["srcc"] and refusing["plcc"] < honest["plcc"]


def test_constant_prediction_has_undefined_correlation():
    scores = quality_scores([2, 2, 2], [1, 2, 3], n_resamples=20)
    assert math.isnan(scores["srcc"]) and math.isnan(scores["plcc"])


def test_metric_value_errors_by_hand():
    scores = value_scores([10.05, 0.5, None, 90.0], [10.0, 0.5, 2.0, 100.0], rtol=0.01, n_resamples=10)
    assert scores["mae"] == pytest.approx((0.05 + 0 + 10) / 3)
    assert scores["median_ae"] == pytest.approx(0.05)
    assert scores["mean_relative_error"] == pytest.approx((0.005 + 0 + 0.1) / 3)
    assert scores["within_tolerance"] == pytest.approx(2 / 4)  # 10.05 and 0.5 are within 1%; the None is wrong
    assert scores["valid_rate"] == pytest.approx(3 / 4)


def test_grounding_rate_pools_numbers():
    scores = grounding_scores([2, 0, 3], [2, 1, 4], n_resamples=10)
    assert scores["rate"] == pytest.approx(5 / 7) and scores["n_numbers"] == 7


def test_evaluate_predictions_gathers_every_type():
    results = evaluate_predictions(
        {"rating": RATING_PRED, "quality": [1, 2, 2, None, 3], "metric_value": [10.05, None]},
        {"rating": RATING_REF, "quality": [1, 1, 2, 3, 3], "metric_value": [10.0, 2.0]},
        grounding=([2, 0, 3], [2, 1, 4]),
        n_resamples=50,
    )
    assert set(results) == {"rating", "quality", "metric_value", "grounding"}
    flat = flatten_scores(results)
    assert flat["rating/accuracy"] == pytest.approx(0.5)
    assert flat["quality/srcc"] == pytest.approx(0.25)
    assert flat["grounding/rate"] == pytest.approx(5 / 7)
    assert flat["rating/accuracy_ci_low"] <= 0.5 <= flat["rating/accuracy_ci_high"]


@pytest.mark.parametrize(
    "call",
    [
        lambda: classification_scores(["good"], ["good", "bad"], RATING_LABELS),  # lengths differ
        lambda: classification_scores(["good"], ["great"], RATING_LABELS),  # invalid reference
        lambda: quality_scores([1], [4]),  # quality out of 1..3
        lambda: value_scores([1.0], [float("nan")]),  # non-finite reference
        lambda: grounding_scores([3], [2]),  # more matches than numbers
        lambda: evaluate_predictions({"colour": ["red"]}, {"colour": ["red"]}),  # unknown question type
        lambda: evaluate_predictions({"rating": ["good"]}, {}),  # keys differ
        lambda: bootstrap_ci(lambda i: 0.0, 3, n_resamples=0),
        lambda: bootstrap_ci(lambda i: 0.0, 3, confidence=1.5),
    ],
)
def test_invalid_input_raises_mmrqa_error(call):
    with pytest.raises(MMRQAError):
        call()


def _noisy_ratings(n: int, seed: int) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    ref = list(rng.choice(RATING_LABELS, size=n))
    pred = [r if rng.random() < 0.7 else rng.choice([*RATING_LABELS, None]) for r in ref]
    return pred, ref


def test_bootstrap_ci_is_deterministic_and_contains_the_estimate():
    pred, ref = _noisy_ratings(200, seed=1)
    a = classification_scores(pred, ref, RATING_LABELS, n_resamples=300, seed=7)
    b = classification_scores(pred, ref, RATING_LABELS, n_resamples=300, seed=7)
    c = classification_scores(pred, ref, RATING_LABELS, n_resamples=300, seed=8)
    assert a["ci"] == b["ci"]
    assert a["ci"] != c["ci"]
    for name in ("accuracy", "macro_f1"):
        low, high = a["ci"][name]
        assert low < a[name] < high
        assert high - low < 0.2  # n=200: the 95% interval of a proportion near 0.75 is about +-0.06


def test_bootstrap_ci_narrows_with_more_data():
    small = classification_scores(*_noisy_ratings(50, seed=2), RATING_LABELS, n_resamples=300)
    large = classification_scores(*_noisy_ratings(800, seed=2), RATING_LABELS, n_resamples=300)
    width = lambda s: s["ci"]["accuracy"][1] - s["ci"]["accuracy"][0]  # noqa: E731
    assert width(large) < width(small) / 2


def test_zero_resamples_skips_intervals():
    results = evaluate_predictions({"rating": ["good"]}, {"rating": ["good"]}, n_resamples=0)
    assert all(math.isnan(v) for v in results["rating"]["ci"]["accuracy"])


def test_artifact_labels_match_the_simulator():
    artifacts = pytest.importorskip("mmrqa.artifacts")
    if not hasattr(artifacts, "KINDS"):
        pytest.skip("mmrqa.artifacts.KINDS is not there yet")
    assert ARTIFACT_LABELS == (*artifacts.KINDS, "none")


def test_invalid_argument_error_is_a_value_error():
    with pytest.raises(InvalidArgumentError):
        quality_scores([1, 2], [1])
