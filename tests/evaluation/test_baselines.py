"""Majority and signal-only baselines: fit/predict/save/load, agreement with scikit-learn, better than majority."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mmrqa.errors import InvalidArgumentError, ModelLoadError
from mmrqa.evaluation import MajorityBaseline, SignalClassifier, evaluate_predictions

FEATURES = ("snr", "cnr", "efc", "fber", "cjv")


def synthetic_dataset(n: int, seed: int) -> tuple[list[dict[str, float]], dict[str, list]]:
    """Metrics whose distribution shifts with the label, as real IQMs do (noise lowers SNR, raises EFC...).

    Classes are imbalanced (60% clean) so that the majority class is a non-trivial baseline.
    """
    rng = np.random.default_rng(seed)
    kinds = rng.choice(["none", "noise", "motion"], size=n, p=[0.6, 0.2, 0.2])
    rows, quality = [], []
    for kind in kinds:
        snr = rng.normal({"none": 20, "noise": 8, "motion": 15}[kind], 3)
        efc = rng.normal({"none": 0.45, "noise": 0.6, "motion": 0.55}[kind], 0.04)
        cjv = rng.normal({"none": 0.4, "noise": 0.7, "motion": 0.5}[kind], 0.08)
        rows.append(
            {"snr": snr, "cnr": snr / 4 + rng.normal(0, 1), "efc": efc, "fber": rng.lognormal(6, 1), "cjv": cjv}
        )
        quality.append(1 if kind == "none" else int(rng.choice([2, 3])))
    return rows, {"artifact": list(kinds), "quality": quality}


def test_majority_baseline_predicts_the_most_frequent_label():
    baseline = MajorityBaseline().fit({"rating": ["good", "bad", "good", None], "quality": [1, 3, 3]})
    assert baseline.predict({"rating": 2, "quality": 3}) == {"rating": ["good", "good"], "quality": [3, 3, 3]}
    with pytest.raises(InvalidArgumentError):
        baseline.predict({"severity": 1})
    with pytest.raises(InvalidArgumentError):
        MajorityBaseline().fit({"rating": [None]})


def test_signal_classifier_beats_majority_on_held_out_synthetic_metrics():
    train_x, train_y = synthetic_dataset(300, seed=0)
    test_x, test_y = synthetic_dataset(200, seed=1)
    clf = SignalClassifier().fit(train_x, train_y)
    majority = MajorityBaseline().fit(train_y).predict({k: len(test_x) for k in test_y})
    pred = clf.predict(test_x)
    acc = np.mean(np.array(pred["artifact"]) == np.array(test_y["artifact"]))
    acc_majority = np.mean(np.array(majority["artifact"]) == np.array(test_y["artifact"]))
    assert acc > acc_majority + 0.15
    scores = evaluate_predictions({"quality": pred["quality"]}, {"quality": test_y["quality"]}, n_resamples=1)
    assert scores["quality"]["srcc"] > 0.5


def test_matches_scikit_learn_logistic_regression():
    linear_model = pytest.importorskip("sklearn.linear_model")
    x, y = synthetic_dataset(200, seed=3)
    clf = SignalClassifier(C=0.5).fit(x, {"artifact": y["artifact"]})
    z = clf._standardise(clf._matrix(x))
    ref = linear_model.LogisticRegression(C=0.5, tol=1e-10, max_iter=5000).fit(z, y["artifact"])
    assert clf.classes("artifact") == list(ref.classes_)
    head = clf.heads_["artifact"]
    np.testing.assert_allclose(head.coef, ref.coef_, atol=2e-4)
    np.testing.assert_allclose(clf.predict_proba(x)["artifact"], ref.predict_proba(z), atol=1e-5)


def test_save_load_round_trip_is_plain_json(tmp_path):
    x, y = synthetic_dataset(120, seed=4)
    clf = SignalClassifier(class_weight="balanced").fit(x, y)
    path = clf.save(tmp_path / "signal.json")
    data = json.loads(path.read_text())  # JSON, not pickle
    assert data["format"] == "mmrqa-signal-classifier" and data["features"] == sorted(FEATURES)
    loaded = SignalClassifier.load(path)
    assert loaded.predict(x) == clf.predict(x)
    np.testing.assert_array_equal(loaded.predict_proba(x)["quality"], clf.predict_proba(x)["quality"])
    label, prob = loaded.predict_one(x[0])["quality"]
    assert label in (1, 2, 3) and isinstance(label, int) and 0 < prob <= 1


def test_missing_metric_is_imputed_not_crashing():
    x, y = synthetic_dataset(100, seed=5)
    clf = SignalClassifier().fit(x, y)
    partial = {"snr": 6.0, "efc": 0.65, "cjv": 0.75, "cnr": float("nan")}  # noise-like; fber absent, cnr NaN
    label, _ = clf.predict_one(partial)["artifact"]
    assert label == "noise" and type(label) is str


def test_single_class_target_predicts_it():
    x, _ = synthetic_dataset(30, seed=6)
    clf = SignalClassifier().fit(x, {"severity": ["none"] * 30})
    assert set(clf.predict(x)["severity"]) == {"none"}


@pytest.mark.parametrize("content", ["not json", '{"format": "other"}', '{"format": "mmrqa-signal-classifier"}'])
def test_damaged_file_raises_model_load_error_naming_it(tmp_path, content):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ModelLoadError, match="bad.json"):
        SignalClassifier.load(path)


def test_missing_file_raises_model_load_error(tmp_path):
    with pytest.raises(ModelLoadError, match="nope.json"):
        SignalClassifier.load(tmp_path / "nope.json")


@pytest.mark.parametrize("kwargs", [{"C": 0}, {"C": -1.0}, {"C": float("inf")}, {"class_weight": "auto"}])
def test_invalid_arguments_rejected(kwargs):
    with pytest.raises(InvalidArgumentError):
        SignalClassifier(**kwargs)


def test_fit_rejects_mismatched_or_empty_input():
    x, y = synthetic_dataset(10, seed=7)
    with pytest.raises(InvalidArgumentError):
        SignalClassifier().fit(x, {"artifact": y["artifact"][:5]})
    with pytest.raises(InvalidArgumentError):
        SignalClassifier().fit([], {})
    with pytest.raises(InvalidArgumentError):
        SignalClassifier().predict(x)  # not fitted
