"""Baselines: the majority class, and the signal classifier's recipe fitted on a dataset's metrics (the evaluation's
signal-only baseline, :func:`mmrqa.classifier.model.fit_baseline`)."""

from __future__ import annotations

import numpy as np
import pytest

from mmrqa.errors import InvalidArgumentError
from mmrqa.evaluation import MajorityBaseline


def synthetic_dataset(n: int, seed: int) -> tuple[list[dict[str, float]], dict[str, list]]:
    """Metrics whose distribution shifts with the label, as real indicators do (noise raises noise_local, blur lowers
    sharpness), with imbalanced classes (50% clean) so that the majority class is a non-trivial baseline."""
    rng = np.random.default_rng(seed)
    kinds = rng.choice(["none", "noise", "blur"], size=n, p=[0.5, 0.25, 0.25])
    rows, severity = [], []
    for kind in kinds:
        sev = "none" if kind == "none" else str(rng.choice(["moderate", "severe"]))
        gain = {"none": 0.0, "moderate": 1.0, "severe": 2.0}[sev]
        rows.append(
            {
                "noise_local": rng.normal(5 + (6 * gain if kind == "noise" else 0), 1.5),
                "sharpness": rng.normal(0.3 - (0.08 * gain if kind == "blur" else 0), 0.03),
                "efc": rng.normal(0.5, 0.05),
            }
        )
        severity.append(sev)
    return rows, {"artifact": list(kinds), "severity": severity}


def test_majority_baseline_predicts_the_most_frequent_label():
    baseline = MajorityBaseline().fit({"rating": ["good", "bad", "good", None], "quality": [1, 3, 3]})
    assert baseline.predict({"rating": 2, "quality": 3}) == {"rating": ["good", "good"], "quality": [3, 3, 3]}
    with pytest.raises(InvalidArgumentError):
        baseline.predict({"severity": 1})
    with pytest.raises(InvalidArgumentError):
        MajorityBaseline().fit({"rating": [None]})


def test_signal_baseline_beats_majority_on_held_out_synthetic_metrics():
    pytest.importorskip("sklearn")
    from mmrqa.classifier import decide
    from mmrqa.classifier.model import fit_baseline

    train_x, train_y = synthetic_dataset(300, seed=0)
    test_x, test_y = synthetic_dataset(200, seed=1)
    model = fit_baseline(train_x, train_y)
    verdicts = [decide(model, row) for row in test_x]
    assert all(v.in_domain for v in verdicts)
    kind = [v.artifact if v.artifact is not None else "?" for v in verdicts]
    accuracy = np.mean([k == t for k, t in zip(kind, test_y["artifact"], strict=True)])
    majority = np.mean([t == "none" for t in test_y["artifact"]])
    assert accuracy > majority + 0.2


def test_signal_baseline_needs_two_classes():
    pytest.importorskip("sklearn")
    from mmrqa.classifier.model import fit_baseline

    rows, labels = synthetic_dataset(30, seed=0)
    with pytest.raises(InvalidArgumentError, match="fewer than two classes"):
        fit_baseline(rows, {"artifact": ["none"] * 30, "severity": ["none"] * 30})
    assert len(rows) == len(labels["artifact"])
