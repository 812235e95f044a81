"""mmrqa.presentation: traffic lights against reference ranges (analytic cases) and table rows of a real scan."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mmrqa.metrics import CATALOGUE, MetricInfo, compute_metrics
from mmrqa.presentation import light_counts, metric_rows, slice_series, traffic_light

CAT = {
    "snr": MetricInfo("snr", "signal to noise", "s/n", "ratio", True, "ref", (3.0, math.inf)),
    "efc": MetricInfo("efc", "entropy", "H", "fraction", False, "ref", (0.0, 0.7)),
    "zero": MetricInfo("zero", "offset", "x", "a.u.", False, "ref", (-math.inf, 0.0)),
    "raw": MetricInfo("raw", "mean", "m", "a.u.", None, "ref", None),
}


@pytest.mark.parametrize(
    ("name", "value", "light"),
    [
        ("snr", 3.0, "green"),  # bounds are inside
        ("snr", 50.0, "green"),
        ("snr", 2.25, "amber"),  # 0.75 below 3: 25% of |3|
        ("snr", 2.2, "red"),
        ("efc", 0.7, "green"),
        ("efc", 0.87, "amber"),  # 0.17 over: within 25% of the width 0.7 (0.175)
        ("efc", 0.9, "red"),
        ("efc", -0.1, "amber"),
        ("zero", 0.25, "amber"),  # bound 0: scale 1
        ("zero", 0.3, "red"),
        ("raw", 5.0, "grey"),
        ("snr", float("nan"), "grey"),
        ("snr", None, "grey"),
        ("unknown", 1.0, "grey"),
    ],
)
def test_traffic_light(name, value, light):
    assert traffic_light(name, value, CAT) == light


def test_rows_of_a_real_scan_follow_the_catalogue(scans):
    from mmrqa.io import load_volume

    report = compute_metrics(load_volume(scans["nifti"]))
    rows = metric_rows(report.values, with_range_only=True)
    assert rows and all(CATALOGUE[r.name].reference_range is not None for r in rows)
    order = list(CATALOGUE)
    assert [order.index(r.name) for r in rows] == sorted(order.index(r.name) for r in rows)
    efc = next(r for r in rows if r.name == "efc")
    assert efc.value == report.values["efc"] and efc.better == "lower" and efc.meaning == CATALOGUE["efc"].meaning
    assert efc.light == traffic_light("efc", report.values["efc"])
    assert "0.700" in efc.acceptable
    counts = light_counts(rows)
    assert sum(counts.values()) == len(rows) and set(counts) == {"green", "amber", "red", "grey"}
    everything = metric_rows(report.values)
    assert len(everything) == len(report.values)
    assert everything[0].to_dict()["name"] == everything[0].name


def test_slice_series_derives_slice_snr(scans):
    from mmrqa.io import load_volume

    report = compute_metrics(load_volume(scans["epi"]))
    series = slice_series(report.per_slice, report.slice_indices)
    assert list(series)[0] == "slice_snr" and set(report.per_slice) <= set(series)
    snr, meaning = series["slice_snr"]
    np.testing.assert_allclose(snr, report.per_slice["fg_mean"] / report.per_slice["fg_std"])
    assert "SNR" in meaning and len(snr) == 10  # one value per axial slice of the 128x128x10 EPI
