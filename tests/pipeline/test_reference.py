"""The assessment's lights: the ranges that fit the scan by default, the user's cohort with ``--reference``; the
report cites its drivers with the lights the table shows."""

from __future__ import annotations

import json

import pytest

from mmrqa.cli import main
from mmrqa.data import sample_path
from mmrqa.pipeline import MMRQAPipeline


@pytest.fixture(scope="module")
def t1_result():
    return MMRQAPipeline.metrics_only()(sample_path("t1"))


def test_lights_use_the_ranges_that_fit_the_scan(t1_result):
    result = t1_result
    assert result.scan_context["background"] == "none" and result.scan_context["dims"] == "3d"
    assert result.reference.startswith("ranges for a 3D scan of unknown anatomy")
    efc = result.metric_info["efc"]  # the field is cropped to the head: EFC has no background to judge
    assert efc["light"] == "grey" and efc["reference_range"] is None and "no air" in efc["range_basis"]
    lights = [info["light"] for info in result.metric_info.values()]
    assert lights.count("red") == 0 and lights.count("amber") == 0  # was 11 of 27 "out" with fixed ranges
    assert "judged with ranges for a 3D scan" in result.to_text()
    assert "Metrics judged with ranges for a 3D scan" in result.to_markdown()


def test_report_drivers_and_lights_tell_one_story(t1_result):
    result = t1_result
    assert result.drivers and all(name in result.metric_info for name in result.drivers)
    for name in result.drivers:  # a good verdict is driven by metrics in range, cited with their light
        assert result.metric_info[name]["light"] == "green"
        assert f"{name} = " in result.report
    assert "efc" not in result.report  # nothing out of the scan's ranges is cited against a good verdict


def _cohort_table(path, efc_values):
    rows = ["path\tefc\tsnr_total"] + [f"s{i}.nii\t{v}\t{10 + i % 3}" for i, v in enumerate(efc_values)]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_cli_reference_judges_against_the_cohort(tmp_path, capsys):
    table = _cohort_table(tmp_path / "cohort.tsv", [0.50, 0.52, 0.48, 0.51, 0.49, 0.50] * 3)
    assert main(["assess", str(sample_path("t1")), "--reference", str(table), "--format", "json"]) == 0
    record = json.loads(capsys.readouterr().out.splitlines()[0])
    assert record["reference"].startswith("cohort cohort.tsv (18 scans): robust z-scores")
    efc = record["metric_info"]["efc"]
    assert efc["light"] == "red" and efc["z"] > 10 and "cohort cohort.tsv" in efc["range_basis"]
    assert record["metric_info"]["fg_cv"]["light"] == "grey"  # not in the cohort table: not judged
    assert main(["assess", str(sample_path("t1")), "--reference", str(table)]) == 0
    out = capsys.readouterr().out
    assert "judged with cohort cohort.tsv" in out and "widened for 18 scans" in out
    efc_line = next(line for line in out.splitlines() if line.strip().startswith("efc "))
    assert "far outside the cohort's range (z +" in efc_line  # not "just outside": a cohort's amber band is wide


def test_cli_reference_errors_are_clear(tmp_path, capsys):
    assert main(["assess", str(sample_path("t1")), "--reference", str(tmp_path / "none.tsv")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "none.tsv" in err and "Traceback" not in err


def test_an_answer_about_a_metric_not_judged_here_says_why(t1_result):
    from mmrqa.data import load_sample
    from mmrqa.metrics import compute_metrics
    from mmrqa.pipeline.metrics_only import signal_answer

    pipe = MMRQAPipeline.metrics_only()
    question = "What is the efc of this scan, and is it within the acceptable range?"
    report = compute_metrics(load_sample("t1"))
    answer = signal_answer(question, report, t1_result.signal_estimate, pipe.catalogue_of(t1_result))
    assert answer.startswith("efc = 0.956") and "no acceptable range applies to this scan: no air" in answer
    assert "not acceptable" in signal_answer(question, report, t1_result.signal_estimate)  # the fixed catalogue's
