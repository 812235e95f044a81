"""A reference cohort: robust z-scores (median / MAD) per metric, its table, its catalogue and its lights."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mmrqa.errors import InvalidArgumentError, ScanNotFoundError
from mmrqa.metrics.catalogue import reference_range
from mmrqa.metrics.cohort import MIN_COHORT, Z_LIMIT, CohortReference, cohort_light, z_limits
from mmrqa.presentation import describe_metric


def _cohort(**columns) -> CohortReference:
    n = len(next(iter(columns.values())))
    return CohortReference.from_values([{k: v[i] for k, v in columns.items()} for i in range(n)], "test")


def test_robust_z_is_the_modified_z_score():
    values = [0.50, 0.52, 0.48, 0.51, 0.49, 0.50, 0.95]  # one bad scan in the cohort does not move it
    cohort = _cohort(efc=values)
    mad = float(np.median(np.abs(np.array(values) - 0.50)))
    assert cohort.median["efc"] == 0.50 and cohort.spread["efc"] == pytest.approx(1.4826 * mad)
    assert cohort.z("efc", 0.60) == pytest.approx(0.6745 * (0.60 - 0.50) / mad, rel=1e-4)  # Iglewicz & Hoaglin
    assert math.isnan(cohort.z("efc", float("nan"))) and math.isnan(cohort.z("unknown", 1.0))


def test_constant_cohort_falls_back_to_the_mean_deviation_then_flags_any_change():
    cohort = _cohort(truncation=[0, 0, 0, 0, 0, 4.0], qi_1=[0.0] * 6)
    assert cohort.spread["truncation"] == pytest.approx(1.2533 * 4.0 / 6)
    assert cohort.z("qi_1", 0.0) == 0.0 and cohort.z("qi_1", 0.01) == math.inf


def test_too_few_values_are_not_judged():
    cohort = _cohort(efc=[0.5] * MIN_COHORT, gsr=[0.1] * (MIN_COHORT - 1) + [float("nan")])
    assert "gsr" not in cohort.median and "efc" in cohort.median
    with pytest.raises(InvalidArgumentError, match="at least 5"):
        _cohort(efc=[0.5, 0.6])


def test_bounds_and_lights_follow_the_metric_direction():
    ramp = np.linspace(-1.0, 1.0, 30)  # 30 scans: limits close to 3.5 and 5
    cohort = _cohort(snr_total=list(10 + ramp), efc=list(0.5 + 0.02 * ramp), wm2max=[0.6] * 29 + [0.7])
    amber, red = cohort.limits("efc")
    assert 3.5 < amber < 4.1 and 5.0 < red < 6.6
    catalogue = cohort.catalogue()
    low, high = reference_range(catalogue, "snr_total")
    assert "snr_total" in cohort.log and "efc" not in cohort.log  # a ratio on the log scale, a fraction not
    assert high is None and low == pytest.approx(
        math.exp(cohort.median["snr_total"] - amber * cohort.spread["snr_total"])
    )
    assert reference_range(catalogue, "efc")[0] is None  # lower EFC is better: flagged only above
    assert reference_range(catalogue, "fg_cv") is None and "not judged" in catalogue["fg_cv"].range_basis
    assert "cohort test" in catalogue["efc"].range_basis and "for 30 scans" in catalogue["efc"].range_basis
    assert describe_metric("snr_total", 30.0, catalogue, cohort)["light"] == "green"  # better than the cohort
    assert describe_metric("snr_total", 1.0, catalogue, cohort)["light"] == "red"
    about = describe_metric("efc", 0.5 + 0.5 * (amber + red) * cohort.spread["efc"], catalogue, cohort)
    assert about["light"] == "amber" and amber < about["z"] <= red
    assert (
        cohort_light(-4.0, None) == "amber" and cohort_light(float("nan")) == "grey" and cohort_light(2.0) == "green"
    )


def test_a_small_cohort_widens_the_limits():
    """Student's t prediction limits at the tail probabilities of 3.5 and 5 SD: wide for 5 scans, 3.5 / 5 for many."""
    assert z_limits(5) == pytest.approx((11.5, 62.3), abs=0.1)
    assert z_limits(12) == pytest.approx((5.11, 10.68), abs=0.02)
    assert z_limits(100_000) == pytest.approx((Z_LIMIT, 5.0), abs=0.01)
    assert z_limits(1) == (math.inf, math.inf)
    assert all(a < b for a, b in (z_limits(n) for n in (5, 8, 20, 50)))
    six = _cohort(efc=[0.50, 0.52, 0.48, 0.51, 0.49, 0.50])  # z 13.5: red for a spread known exactly, amber for 6
    z = six.z("efc", 0.70)
    assert cohort_light(z, False) == "red" and six.light("efc", 0.70, False) == "amber"
    assert "widened for 6 scans" in six.rule()


def test_table_is_read_and_bad_tables_are_refused(tmp_path):
    table = tmp_path / "cohort.tsv"
    rows = ["path\tefc\tgsr"] + [f"scan{i}.nii\t{0.5 + 0.01 * i}\tn/a" for i in range(6)]
    table.write_text("\n".join(rows) + "\n")
    cohort = CohortReference.from_table(table)
    assert cohort.n == {"efc": 6} and cohort.source == "cohort.tsv (6 scans)"
    csv_table = tmp_path / "cohort.csv"
    csv_table.write_text(table.read_text().replace("\t", ","))
    assert CohortReference.from_table(csv_table).median == cohort.median
    with pytest.raises(ScanNotFoundError, match="mmrqa metrics"):
        CohortReference.from_table(tmp_path / "missing.tsv")
    other = tmp_path / "other.tsv"
    other.write_text("subject\tefc\n" + "a\t0.5\n" * 6)
    with pytest.raises(InvalidArgumentError, match="first column should be 'path'"):
        CohortReference.from_table(other)


def test_ratios_are_judged_on_the_log_scale_so_their_range_stays_positive():
    """FBER over orders of magnitude (five TCIA pelvic scans' values): on the linear scale median - 3.5 SD fell far
    below 0 ("acceptable from -43,395"); on the log scale the range is a factor around the median."""
    fber = [16129.0, 31506.25, 4658.06, 26732.25, 2359.18]
    cohort = _cohort(fber=fber, noise_rel=[0.71, 0.52, 1.31, 0.59, 1.90])
    assert cohort.log == frozenset({"fber"})  # a percentage keeps the linear scale
    assert cohort.typical("fber") == pytest.approx(16129.0)
    low, high = cohort.bounds("fber", True)
    assert 0 < low < min(fber) and high == math.inf
    assert cohort.z("fber", 16129.0) == 0.0 and cohort.z("fber", 0.0) == -math.inf
    assert cohort.light("fber", 0.0, True) == "red" and cohort.light("fber", 1e9, True) == "green"
    assert cohort.z("fber", 2 * 16129.0) == pytest.approx(math.log(2) / cohort.spread["fber"])
    assert "of its logarithm" in cohort.catalogue()["fber"].range_basis
    mixed = _cohort(cnr=[1.0, 2.0, -0.5, 1.5, 1.2])  # a non-positive value in the cohort: the linear scale
    assert "cnr" not in mixed.log
