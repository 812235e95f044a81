"""Quality correlations when the model's answers cannot be parsed at all."""

import math

from mmrqa.evaluation.scores import quality_scores


def test_all_unparseable_quality_is_not_a_perfect_negative_correlation():
    scores = quality_scores([None, "garbage", None, None], [1, 2, 3, 1], n_resamples=20)
    assert math.isnan(scores["srcc"]) and math.isnan(scores["plcc"])
    assert scores["n_invalid"] == 4 and scores["n"] == 4


def test_partly_unparseable_quality_still_counts_the_refusals_as_wrong():
    full = quality_scores([1, 2, 3, 1, 2], [1, 2, 3, 1, 2], n_resamples=20)
    partial = quality_scores([1, 2, 3, None, 2], [1, 2, 3, 1, 2], n_resamples=20)
    assert full["srcc"] == 1.0 and partial["srcc"] < full["srcc"] and partial["n_invalid"] == 1
