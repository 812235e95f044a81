"""The trust fields of an ``Assessment`` (confidence, in_domain with its reason, drivers) in every form: the dict and
JSON, text, Markdown, ``mmrqa assess`` and the Space's rating panel."""

from __future__ import annotations

import json

import pytest

from mmrqa.cli import main
from mmrqa.data import sample_path
from mmrqa.pipeline import ArtifactFinding, Assessment, MMRQAPipeline
from mmrqa.pipeline.assessment import LOW_CONFIDENCE


def _assessment(**kwargs) -> Assessment:
    base = dict(
        source="scan.nii.gz",
        metrics={"efc": 0.9, "snr": 12.0},
        metric_info={
            "efc": {"unit": "fraction", "reference_range": [0.0, 0.7], "acceptable": False, "light": "red"},
            "snr": {"unit": "ratio", "reference_range": [5.0, None], "acceptable": True, "light": "green"},
        },
        rating="bad",
        artifacts=[ArtifactFinding("noise", "moderate", 0, 0.8)],
        usability="repeat",
        report="Overall quality: bad.",
    )
    return Assessment(**{**base, **kwargs})


def test_new_fields_default_to_unknown_and_change_nothing():
    result = _assessment()
    data = result.to_dict()
    assert data["confidence"] is None and data["in_domain"] is None and data["domain_reason"] is None
    assert data["drivers"] == [] and data["rating"] == "bad"
    for out in (result.to_text(), result.to_markdown()):
        assert "Confidence" not in out and "Domain" not in out and "Drivers" not in out
    assert result.trust_markdown() == ""


def test_confidence_and_drivers_in_every_form():
    result = _assessment(confidence=0.91, in_domain=True, domain_reason="like the training scans", drivers=["efc"])
    data = json.loads(result.to_json())
    assert data["confidence"] == 0.91 and data["in_domain"] is True and data["drivers"] == ["efc"]
    text, markdown = result.to_text(), result.to_markdown()
    assert "Confidence: 0.91\n" in text and "Drivers:   efc 0.900 🔴 out of range" in text
    assert "- **Confidence:** 0.91\n" in markdown and "- **Drivers:** efc 0.900 🔴 out of range" in markdown
    assert "uncertain" not in text + markdown
    assert "| efc | 0.900 fraction | 0 to 0.700 | 🔴 out of range |" in markdown  # the table has the same light
    assert result.trust_markdown() == "- **Confidence:** 0.91\n- **Drivers:** efc 0.900 🔴 out of range\n"


def test_a_driver_that_is_a_classifier_feature_shows_its_value_against_clean_scans():
    """Self-referenced features (``line_jag_ratio``...) are not metrics: no range and no light, so the forms give
    their value beside the clean training views' median instead of '-' and 'not judged'."""
    estimate = {"driver_values": {"line_jag_ratio": {"value": 19.9, "clean_median": 1.4}}}
    result = _assessment(drivers=["efc", "line_jag_ratio"], signal_estimate=estimate)
    expected = "efc 0.900 🔴 out of range; line_jag_ratio 19.9 (clean scans' median 1.40)"
    for out in (result.to_text(), result.to_markdown(), result.trust_markdown()):
        assert expected in out


def test_shipped_classifier_gives_every_driver_a_value(tmp_path):
    """On a real scan with a simulated severe ringing, every driver the shipped classifier names has a finite
    value and a clean median, and the drivers line shows no '-'."""
    from mmrqa.artifacts import simulate
    from mmrqa.data import load_sample

    corrupted, _ = simulate(load_sample("t1"), "ringing", "severe", 0)
    result = MMRQAPipeline.metrics_only()(corrupted)
    values = result.signal_estimate["driver_values"]
    assert result.drivers and set(result.drivers) <= set(values)
    assert all(isinstance(v["value"], float) and isinstance(v["clean_median"], float) for v in values.values())
    drivers_line = next(line for line in result.to_text().splitlines() if line.startswith("Drivers"))
    assert " - " not in drivers_line and "not judged" not in drivers_line, drivers_line


def test_low_confidence_says_so():
    result = _assessment(confidence=LOW_CONFIDENCE - 0.2, drivers=["efc", "snr"])
    assert result.low_confidence
    for out in (result.to_text(), result.to_markdown(), result.trust_markdown()):
        assert "low: the verdict is uncertain" in out
        assert "efc 0.900 🔴 out of range; snr 12.0 🟢 in range" in out
    assert not _assessment(confidence=LOW_CONFIDENCE).low_confidence


def test_outside_the_domain_shows_the_reason_and_no_rating():
    result = _assessment(in_domain=False, domain_reason="a colour photograph, not an MRI", confidence=0.95)
    assert not result.rated and result.ok
    data = json.loads(result.to_json())
    assert data["in_domain"] is False and data["domain_reason"] == "a colour photograph, not an MRI"
    assert data["rating"] is None and data["usability"] is None and data["artifacts"] == [] and data["report"] is None
    for out in (result.to_text(), result.to_markdown(), result.trust_markdown()):
        assert "outside what the tool was trained on: a colour photograph, not an MRI" in out
        assert "bad" not in out and "noise" not in out and "repeat" not in out and "Confidence" not in out
    assert "not rated" in result.to_text() and "not rated" in result.to_markdown()
    assert "Overall quality" not in result.to_text() + result.to_markdown()
    assert result.rating == "bad"  # the object keeps what was computed; the forms withhold it
    # nor do its metrics get lights: the ranges of MR scans say nothing about a photograph
    assert "🔴" not in result.to_text() + result.to_markdown() and "🟢" not in result.to_text()
    assert "| efc | 0.900 fraction | 0 to 0.700 | ⚪ not judged |" in result.to_markdown()
    assert {info["light"] for info in data["metric_info"].values()} == {"grey"}
    assert _assessment().to_dict()["metric_info"]["efc"]["light"] == "red"  # inside the domain, unchanged


@pytest.fixture
def trusting_pipeline(monkeypatch):
    """The metrics-only pipeline with the trust fields filled as the classifier will fill them."""
    original = MMRQAPipeline._fill_from_signal

    def fill(self, result, volume):
        original(self, result, volume)
        result.confidence, result.in_domain, result.drivers = 0.42, True, ["efc"]

    monkeypatch.setattr(MMRQAPipeline, "_fill_from_signal", fill)


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_cli_assess_shows_confidence_and_drivers(trusting_pipeline, capsys, fmt):
    assert main(["assess", str(sample_path("t1")), "--format", fmt]) == 0
    out = capsys.readouterr().out
    if fmt == "json":
        record = json.loads(out.splitlines()[0])
        assert record["confidence"] == 0.42 and record["in_domain"] is True and record["drivers"] == ["efc"]
    else:
        assert "0.42 (low: the verdict is uncertain" in out and "Drivers" in out and "efc" in out


def test_cli_assess_outside_the_domain(monkeypatch, capsys):
    def fill(self, result, volume):
        result.rating, result.in_domain, result.domain_reason = "good", False, "a segmentation mask (2 values)"

    monkeypatch.setattr(MMRQAPipeline, "_fill_from_signal", fill)
    assert main(["assess", str(sample_path("t1"))]) == 0
    out = capsys.readouterr().out
    assert "Domain:    outside what the tool was trained on: a segmentation mask (2 values)" in out
    assert "Rating:    not rated" in out and "good" not in out


def test_metric_info_carries_the_light_of_each_metric():
    result = MMRQAPipeline.metrics_only()(sample_path("t1"))
    lights = {info.get("light") for info in result.metric_info.values()}
    assert lights <= {"green", "amber", "red", "grey"} and "green" in lights


def test_a_bad_rating_whose_drivers_are_all_in_range_says_the_lights_disagree():
    all_green = {"snr": {"unit": "ratio", "reference_range": [5.0, None], "acceptable": True, "light": "green"}}
    result = _assessment(drivers=["snr"], metrics={"snr": 12.0}, metric_info=all_green)
    assert "(no metric is outside this scan's ranges: the lights do not support this rating)" in result.to_text()
    assert "do not support" not in _assessment(drivers=["efc"]).to_text()  # efc is red: one story
    # a metric outside its range that did not drive the verdict still supports the rating: it is named instead
    text = _assessment(drivers=["snr"]).to_text()
    assert (
        "(no driver lies outside this scan's ranges; these metrics do: efc)" in text and "do not support" not in text
    )


def test_an_amber_light_reads_as_outside_the_range():
    """Amber is a value just *outside* the range (within a quarter of its width), which the report's evidence calls
    not acceptable: the light's words must not say "near the limit" as if it were inside."""
    info = {"efc": {"unit": "fraction", "reference_range": [0.0, 0.7], "acceptable": False, "light": "amber"}}
    text = _assessment(drivers=["efc"], metrics={"efc": 0.75}, metric_info=info).to_text()
    assert "efc 0.750 🟠 just outside the range" in text and "near the limit" not in text


def test_an_artifact_of_unsettled_kind_is_never_shown_as_none_detected():
    """The classifier can find an artifact without settling its kind (bad rating, no kind named): every form says
    so with the candidates instead of "none detected" beside a bad rating."""
    from mmrqa.presentation import artifact_table, verdict_markdown
    from mmrqa.report.scan import _verdict

    estimate = {"uncertain": True, "severity": "moderate", "candidates": [["bias_field", 0.47], ["motion", 0.25]]}
    result = _assessment(artifacts=[], signal_estimate=estimate, sources={"artifacts": "signal"})
    words = "an artifact of uncertain kind (moderate; candidates: bias field 0.47, motion 0.25)"
    assert f"Artifacts: {words}\n" in result.to_text()
    assert f"- **Artifacts:** {words}" in result.to_markdown()
    assert words in verdict_markdown(result) and artifact_table(result)[0][0] == words
    assert _verdict(result)["artifacts"] == words
    for clean in (
        _assessment(artifacts=[], rating="good"),
        _assessment(artifacts=[], rating="good", signal_estimate={**estimate, "uncertain": False}),
    ):
        assert "Artifacts: none detected\n" in clean.to_text()
    # a bad rating with no artifact listed is never shown beside "none detected" either (mmrqa.pipeline.consistency)
    unnamed = "Artifacts: none identified (a bad rating means a visible artifact: its kind is not determined)\n"
    assert unnamed in _assessment(artifacts=[]).to_text()
    model_said_none = _assessment(artifacts=[], signal_estimate=estimate, sources={"artifacts": "model"})
    assert unnamed in model_said_none.to_text()  # the model's answer is the model's: no classifier candidates


def test_artifact_votes_are_shown_only_where_slices_voted():
    """Votes are the slices whose model answers named the artifact: a count in model mode, blank in metrics-only
    mode (where a 0 would read as "no slice saw it")."""
    from mmrqa.presentation import artifact_table

    finding = [ArtifactFinding("noise", "moderate", 2, 0.8)]
    assert artifact_table(_assessment(mode="model", artifacts=finding))[0][3] == 2
    assert artifact_table(_assessment(mode="metrics-only", artifacts=finding))[0][3] == ""
