"""The `evaluate` module loads offline by path and gives exactly the numbers of the library functions."""

from __future__ import annotations

import math

import pytest

from mmrqa.evaluation import METRIC_MODULE, evaluate_predictions, flatten_scores

evaluate = pytest.importorskip("evaluate")

PRED = {
    "rating": ["good", "medium", "medium", "bad", None, "excellent"],
    "artifact": ["motion", "none", None, "blur"],
    "quality": [1, 2, 2, None, 3],
    "metric_value": [10.05, 0.5, None, 90.0],
}
REF = {
    "rating": ["good", "good", "medium", "bad", "bad", "medium"],
    "artifact": ["motion", "noise", "none", "blur"],
    "quality": [1, 1, 2, 3, 3],
    "metric_value": [10.0, 0.5, 2.0, 100.0],
}


def _as_rows(pred: dict, ref: dict) -> tuple[list, list, list]:
    predictions, references, types = [], [], []
    for qtype in pred:
        for p, r in zip(pred[qtype], ref[qtype], strict=True):
            predictions.append(None if p is None else str(p))
            references.append(str(r))
            types.append(qtype)
    return predictions, references, types


@pytest.fixture(scope="module")
def metric():
    return evaluate.load(str(METRIC_MODULE))


def test_loads_offline_and_matches_the_functions(metric):
    predictions, references, types = _as_rows(PRED, REF)
    got = metric.compute(predictions=predictions, references=references, question_types=types, n_resamples=200)
    expected = flatten_scores(evaluate_predictions(PRED, REF, n_resamples=200))
    assert set(got) == set(expected)
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, nan_ok=True), key
    assert got["rating/accuracy"] == pytest.approx(0.5)
    assert got["artifact/accuracy"] == pytest.approx(2 / 4)
    assert got["quality/srcc"] == pytest.approx(0.25)
    assert got["metric_value/mae"] == pytest.approx(10.05 / 3)


def test_add_batch_accumulates(metric):
    predictions, references, types = _as_rows(PRED, REF)
    half = len(predictions) // 2
    metric.add_batch(predictions=predictions[:half], references=references[:half], question_types=types[:half])
    metric.add_batch(predictions=predictions[half:], references=references[half:], question_types=types[half:])
    got = metric.compute(n_resamples=0)
    assert got["rating/macro_f1"] == pytest.approx((2 / 3 + 1 / 2 + 2 / 3) / 3)
    assert math.isnan(got["rating/accuracy_ci_low"])


def test_unparseable_number_counts_as_invalid(metric):
    got = metric.compute(
        predictions=["about ten", "3"],
        references=["10", "2"],
        question_types=["metric_value", "quality"],
        n_resamples=0,
    )
    assert got["metric_value/valid_rate"] == 0.0 and got["metric_value/within_tolerance"] == 0.0
