"""Grounding rate on real metrics of a real scan, with the dataset checker's matching rule."""

from __future__ import annotations

import pytest

from mmrqa.evaluation import evaluate_predictions, grounding_counts

pytest.importorskip("mmrqa.qa.grounding")
metrics = pytest.importorskip("mmrqa.metrics")


@pytest.fixture(scope="module")
def report():
    from mmrqa.data import load_sample

    return metrics.compute_metrics(load_sample("t1"))


def test_counts_grounded_and_invented_numbers(report):
    from mmrqa.qa.answers import format_value

    names = sorted(n for n, v in report.values.items() if v == v and abs(v) > 1e-3)[:2]
    a, b = (format_value(report.values[n]) for n in names)
    texts = [
        f"The {names[0]} is {a} and the {names[1]} is {b}.",  # 2 of 2 grounded
        f"The {names[0]} is {a}, and 123456.789 is invented.",  # 1 of 2
        "No numbers here.",  # 0 of 0
        None,  # an unparseable / missing generation states nothing
    ]
    matched, totals = grounding_counts(texts, [report] * 4)
    assert (matched, totals) == ([2, 1, 0, 0], [2, 2, 0, 0])
    rate = evaluate_predictions({}, {}, grounding=(matched, totals), n_resamples=50)["grounding"]["rate"]
    assert rate == pytest.approx(3 / 4)


def test_rounding_must_match_printed_precision(report):
    name = next(n for n, v in report.values.items() if v == v and 1 < abs(v) < 1e4)
    value = report.values[name]
    good, bad = f"{value:.2f}", f"{value + 0.5:.2f}"
    assert grounding_counts([f"{name} {good}", f"{name} {bad}"], [report, report]) == ([1, 0], [1, 1])
