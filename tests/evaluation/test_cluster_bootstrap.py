"""The bootstrap intervals of the evaluation table: over scans (clusters), not over the correlated rows of a scan."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mmrqa.evaluation import bootstrap_ci, classification_scores, evaluate_predictions
from mmrqa.evaluation.scores import cluster_members


def _scans(n_scans: int, rows_per_scan: int = 20) -> tuple[list[str], list[str], list[str]]:
    """Predictions right for every row of the even scans and wrong for every row of the odd ones: the rows of one
    scan are perfectly correlated, as the questions about one scan of a model that misreads it."""
    pred, ref, clusters = [], [], []
    for scan in range(n_scans):
        for _ in range(rows_per_scan):
            ref.append("good")
            pred.append("good" if scan % 2 == 0 else "bad")
            clusters.append(f"scan-{scan}")
    return pred, ref, clusters


def _interval(n_scans: int, clustered: bool = True) -> tuple[float, tuple[float, float]]:
    pred, ref, clusters = _scans(n_scans)
    scores = classification_scores(
        pred, ref, ("good", "medium", "bad"), n_resamples=500, clusters=clusters if clustered else None
    )
    return scores["accuracy"], scores["ci"]["accuracy"]


def test_the_interval_contains_the_point_estimate_and_narrows_with_more_scans():
    widths = []
    for n_scans in (6, 24, 96):
        accuracy, (low, high) = _interval(n_scans)
        assert accuracy == pytest.approx(0.5)
        assert low <= accuracy <= high
        widths.append(high - low)
    assert widths[0] > widths[1] > widths[2] > 0


def test_the_cluster_bootstrap_resamples_scans_not_rows():
    """10 scans of 20 rows, half of them all wrong: the accuracy is as uncertain as 10 coin flips (a scan-level
    interval of about [0.2, 0.8]), not as 200 (a row bootstrap says about [0.43, 0.57])."""
    _, (low, high) = _interval(10)
    assert low <= 0.25 and high >= 0.75, (low, high)
    _, (row_low, row_high) = _interval(10, clustered=False)
    assert row_high - row_low < 0.2  # what resampling rows would (wrongly) claim


def test_every_resample_keeps_a_scans_rows_together():
    clusters = [c for c in "aabbbcdddd"]
    seen = []

    def record(indices: np.ndarray) -> float:
        seen.append(np.bincount(indices, minlength=len(clusters)))
        return 0.0

    bootstrap_ci(record, len(clusters), n_resamples=50, clusters=clusters)
    members = cluster_members(clusters, len(clusters))
    for counts in seen:
        for rows in members:  # a drawn scan brings all its rows, each as often as the scan was drawn
            assert len(set(counts[rows])) == 1
        assert sum(counts[rows[0]] for rows in members) == len(members)  # as many scans drawn as there are


def test_one_scan_gives_no_interval_and_the_suite_counts_scans():
    pred, ref, _ = _scans(2)
    scores = evaluate_predictions({"rating": pred}, {"rating": ref}, clusters={"rating": ["one"] * len(ref)})
    assert scores["rating"]["n_clusters"] == 1 and scores["rating"]["n"] == len(ref)
    assert all(math.isnan(v) for v in scores["rating"]["ci"]["accuracy"])  # nothing to resample: no interval


def test_the_same_seed_gives_the_same_interval():
    pred, ref, clusters = _scans(8)
    labels = ("good", "medium", "bad")
    first = classification_scores(pred, ref, labels, n_resamples=200, clusters=clusters, seed=3)
    assert first == classification_scores(pred, ref, labels, n_resamples=200, clusters=clusters, seed=3)


def test_auto_resamples_subjects_and_falls_back_to_volumes_for_a_single_subject():
    from mmrqa.evaluation.driver import examples

    def rows(subjects):
        text = [{"type": "text", "text": "Is there an artifact in this image?"}]
        for subject in subjects:
            for variant in ("original", "noise-mild-0"):
                for _ in range(2):
                    yield {
                        "images": [],
                        "messages": [
                            {"role": "user", "content": text},
                            {"role": "assistant", "content": [{"type": "text", "text": "No."}]},
                        ],
                        "subject": subject,
                        "scan": subject,
                        "variant": variant,
                        "question_type": "presence",
                    }

    two = examples(list(rows(["a", "b"])), cluster_by="auto")
    assert [ex.cluster for ex in two] == ["a"] * 4 + ["b"] * 4
    one = examples(list(rows(["a"])), cluster_by="auto")
    assert [ex.cluster for ex in one] == ["a/a/original"] * 2 + ["a/a/noise-mild-0"] * 2
    assert len({ex.cluster for ex in examples(list(rows(["a"])), cluster_by="row")}) == 4
