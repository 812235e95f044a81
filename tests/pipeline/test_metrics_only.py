"""Metrics-only mode (signal-only classifier) and ``mmrqa assess`` without a model: real scans, bad files."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mmrqa.artifacts import simulate
from mmrqa.cli import main
from mmrqa.data import load_sample, sample_path
from mmrqa.pipeline import MMRQAPipeline


@pytest.fixture(scope="module")
def pipe():
    return MMRQAPipeline.metrics_only()


def test_metrics_only_gives_a_rating_and_says_which_mode(pipe):
    result = pipe(sample_path("t1"))
    assert result.mode == "metrics-only" and result.model is None
    assert result.in_domain is True and 0.5 <= result.confidence <= 1
    assert result.rating in ("good", "medium") and result.usability == "usable"
    assert "Metrics-only mode" in result.report and "Metrics-only mode" in result.to_text()
    assert result.metrics["efc"] == pytest.approx(0.956, abs=1e-3)
    assert "meaning" in result.metric_info["efc"]  # described; not judged: the field is cropped to the head
    assert result.metric_info["efc"]["acceptable"] is None and result.metric_info["efc"]["light"] == "grey"
    assert set(result.timings) == {"loading", "metrics", "rendering", "classification"}


def test_text_report_keeps_the_metric_columns_aligned(pipe):
    """Every metric's value, range and light start in the same column, also for the longest names
    (``pe_correlation``, ``pe_detail_loss``)."""
    text = pipe(sample_path("epi")).to_text()
    rows = text.split("Metrics (value, acceptable range, verdict):\n", 1)[1].splitlines()
    rows = [r for r in rows if r.startswith("  ") and not r.startswith("  judged with")]
    names = [r.split()[0] for r in rows]
    assert "pe_correlation" in names and "pe_detail_loss" in names
    value_starts = {len(r) - len(r[2:].lstrip()[len(name) :].lstrip()) for r, name in zip(rows, names, strict=True)}
    assert len(value_starts) == 1, rows


def test_severe_noise_is_not_rated_good_on_a_real_epi(pipe):
    clean = load_sample("epi")
    noisy, _ = simulate(clean, "noise", "severe", 0)
    result = pipe(noisy)
    assert result.rating != "good" and result.in_domain is True


def test_assess_many_turns_a_bad_scan_into_an_error_entry(pipe, tmp_path):
    bad = tmp_path / "broken.nii.gz"
    bad.write_bytes(b"not a nifti at all")
    results = pipe.assess_many([sample_path("t1"), bad, tmp_path / "missing.nii"], progress=False)
    assert [r.ok for r in results] == [True, False, False]
    assert str(bad) in results[1].source and results[1].error and results[1].rating is None


def test_cli_assess_reports_good_scans_and_fails_bad_ones(tmp_path, capsys):
    bad = tmp_path / "broken.dcm"
    bad.write_bytes(b"DICM" * 10)
    code = main(["assess", str(sample_path("t1")), str(bad), str(sample_path("epi"))])
    out, err = capsys.readouterr()
    assert code == 2
    assert out.count("Mode:      metrics-only") == 2 and "S0_10slices" in out and "anatomical.nii" in out
    assert err.startswith("error: ") and "broken.dcm" in err and "Traceback" not in err


@pytest.mark.parametrize("fmt", ["json", "markdown"])
def test_cli_assess_formats_and_output_file(tmp_path, capsys, fmt):
    out_file = tmp_path / f"report.{fmt}"
    assert main(["assess", str(sample_path("t1")), "--format", fmt, "-o", str(out_file)]) == 0
    assert capsys.readouterr().out == ""
    text = out_file.read_text()
    if fmt == "json":
        record = json.loads(text.splitlines()[0])
        assert record["mode"] == "metrics-only" and record["rating"] in ("good", "medium", "bad")
    else:
        assert text.startswith("### ") and "| Metric | Value |" in text


def test_cli_question_without_model_is_an_error(capsys):
    assert main(["assess", str(sample_path("t1")), "--question", "Is it sharp?"]) == 2
    assert "--question needs --model" in capsys.readouterr().err


def test_assess_without_model_does_not_import_torch():
    code = (
        "import sys; from mmrqa.cli import main; from mmrqa.data import sample_path;"
        "rc = main(['assess', str(sample_path('t1'))]);"
        "assert rc == 0 and 'torch' not in sys.modules and 'transformers' not in sys.modules, sorted(sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_cli_assess_takes_one_volume_of_a_4d_scan(tmp_path, capsys):
    """A 4D scan (nibabel's real EPI time series) is refused with the way out in the message, and assessed with
    --volume-index; the pipeline takes the same argument."""
    import importlib.resources

    epi4d = str(importlib.resources.files("nibabel.tests") / "data" / "example4d.nii.gz")
    assert main(["assess", epi4d]) == 2
    assert "choose one, 0 to 1, with --volume-index" in capsys.readouterr().err
    out = tmp_path / "a.json"
    assert main(["assess", "--volume-index", "1", "--format", "json", "-o", str(out), epi4d]) == 0
    assessed = json.loads(out.read_text().splitlines()[0])
    assert assessed["rating"] in ("good", "medium", "bad") and assessed["in_domain"] is True
    direct = MMRQAPipeline.metrics_only()(epi4d, volume_index=1)
    assert direct.rating == assessed["rating"] and direct.confidence == assessed["confidence"]


def test_a_scan_rated_clean_whose_lights_show_red_says_why_the_verdict_stands(pipe):
    """The real 1024x1024 shoulder DICOM is rated good while three of its metrics are outside the ranges for its kind
    of scan: the report names them, so that the report and the lights tell one story; a scan without a red light
    gets no such sentence."""
    from mmrqa.pipeline.metrics_only import REPORT_NOTE

    shoulder = pipe(load_sample("dicom_mr2"))
    red = [name for name, info in shoulder.metric_info.items() if info["light"] == "red"]
    assert shoulder.rating == "good" and red  # the case this is for
    line = next(x for x in shoulder.report.splitlines() if x.startswith("Outside the reference ranges"))
    assert all(f"{name} = " in line for name in red) and "look at the images if in doubt" in line
    assert shoulder.report.endswith(REPORT_NOTE)
    t1 = pipe(load_sample("t1"))
    assert t1.rating == "good" and not any(info["light"] == "red" for info in t1.metric_info.values())
    assert "not read as an artifact" not in t1.report


def test_red_lights_against_a_cohort_are_named_as_outside_the_cohort():
    from mmrqa.pipeline.metrics_only import unexplained_lights

    lights = {
        "efc": {"light": "red", "unit": "fraction", "z": 12.0},
        "cjv": {"light": "amber", "unit": "ratio", "z": 4.0},
        "snr_mid": {"light": "green", "unit": "ratio", "z": 0.1},
    }
    text = unexplained_lights(lights, {"efc": 0.61, "cjv": 0.5, "snr_mid": 9.0})
    assert text.startswith("\nOutside your cohort's range but not read as an artifact: efc = 0.610 fraction.")
    assert "cjv" not in text and unexplained_lights({}, {"efc": 0.61}) == ""
