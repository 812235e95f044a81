"""Answer parsing and slice aggregation (no model needed): standard, malformed and adversarial answers."""

from __future__ import annotations

import json

import pytest

from mmrqa.pipeline import ArtifactFinding, Assessment, SliceAnswer
from mmrqa.pipeline.core import MMRQAPipeline
from mmrqa.pipeline.interpret import (
    classify_question,
    named_artifacts,
    parse,
    standard_question,
    volume_rating,
    volume_severity,
    volume_usability,
)
from mmrqa.qa.bank import PHRASINGS, Question

MALFORMED = [
    "",
    "   ",
    "\x00\x01garbage",
    "m blural\ufffdhas\u0744ise\ufffd :s~",
    "good bad medium",
    "Quality:",
    "}{" * 50,
]


@pytest.mark.parametrize("qtype", list(PHRASINGS))
def test_every_phrasing_of_the_bank_is_recognised_even_after_a_signal_summary(qtype):
    for template in PHRASINGS[qtype]:
        text = template.format(artifact="bias field", metric="efc")
        question = classify_question(f"Signal metrics: efc=0.5, snr_total=7.88.\n{text}")
        assert question.type == qtype
        if qtype in ("severity", "comparison"):
            assert question.target == "bias_field"


def test_free_question_has_no_type_and_is_not_parsed():
    question = classify_question("What colour is the scanner?")
    assert question.type is None and parse(question, "Blue.") is None


@pytest.mark.parametrize("text", MALFORMED)
@pytest.mark.parametrize("qtype", ["rating", "artifact_type", "usability", "report", "severity", "metric_value"])
def test_malformed_model_output_never_crashes_and_gives_no_vote(qtype, text):
    question = standard_question(
        qtype, "noise" if qtype == "severity" else ("efc" if qtype == "metric_value" else None)
    )
    value = parse(question, text)
    assert value is None or qtype in ("severity", "artifact_type", "metric_value")  # e.g. "none" read from "no..."


def test_well_formed_answers_become_fields():
    report = "Overall quality: bad (repeat the scan).\nArtifact: ghosting, moderate.\nEvidence: gsr = 3.10 %."
    assert parse(standard_question("rating"), "I would rate this scan as medium quality.") == "medium"
    assert parse(standard_question("artifact_type"), "The main artifact is bias field.") == "bias_field"
    assert parse(standard_question("usability"), "Repeat the scan: it is not usable for diagnosis.") == "repeat"
    parsed = parse(standard_question("report"), report)
    assert parsed["quality"] == "bad" and parsed["artifact"] == "ghosting" and parsed["severity"] == "moderate"
    assert parsed["metrics"] == {"gsr": "3.10"}
    metric = parse(standard_question("metric_value", "efc"), "efc = 0.523 (the acceptable range is 0 to 0.700)")
    assert metric["value"] == "0.523" and metric["range"] == ["0", "0.700"]


def test_volume_rating_is_the_majority_and_ties_go_to_the_worse_rating():
    assert volume_rating(["good", "good", "bad"]) == "good"
    assert volume_rating(["good", "medium", None]) == "medium"
    assert volume_rating(["good", "bad"]) == "bad"
    assert volume_rating([None, None]) is None


def test_usability_majority_tie_and_fallback_to_rating():
    assert volume_usability(["usable", "repeat"], "good") == "repeat"
    assert volume_usability(["usable", "usable", "repeat"], "bad") == "usable"
    assert volume_usability([None], "bad") == "repeat"
    assert volume_usability([None], "medium") == "usable"
    assert volume_usability([], None) is None


def test_artifacts_named_by_type_or_report_and_severity_majority():
    counts = named_artifacts(["noise", "none", None], [None, {"artifact": "noise"}, {"artifact": "blur"}])
    assert counts == {"noise": 2, "blur": 1}
    assert volume_severity(["mild", "severe", None, "none"]) == "severe"
    assert volume_severity(["mild", "mild", "severe"]) == "mild"
    assert volume_severity(["none", None]) is None


def test_aggregate_builds_the_verdict_from_slice_answers():
    result = Assessment(source="x", mode="model", slices=[3, 5, 7])
    rating_q, sev_q = standard_question("rating"), standard_question("severity", "noise")
    answers = [
        SliceAnswer(3, rating_q.text, "rating", "good.", "good"),
        SliceAnswer(5, rating_q.text, "rating", "bad.", "bad"),
        SliceAnswer(7, rating_q.text, "rating", "xx", None),
        SliceAnswer(5, sev_q.text, "severity", "The noise is severe.", "severe"),
        SliceAnswer(
            5,
            "r",
            "report",
            "Overall quality: bad.\nArtifact: noise, mild.",
            {"artifact": "noise", "severity": "mild"},
        ),
    ]
    MMRQAPipeline._aggregate(result, answers, {"noise": 2})
    assert result.slice_votes == {3: "good", 5: "bad", 7: None}
    assert result.rating == "bad" and result.usability == "repeat"
    assert result.artifacts == [ArtifactFinding("noise", "severe", 2)]
    assert result.report.startswith("Overall quality: bad")


def test_assessment_serialisations_are_json_and_readable():
    result = Assessment(
        source="scan.nii.gz",
        mode="model",
        model="tiny",
        metrics={"efc": 0.9, "gsr": float("nan")},
        metric_info={"efc": {"unit": "fraction", "reference_range": [0.0, 0.7], "acceptable": False}},
        rating="medium",
        slice_votes={4: "medium", 9: None},
        artifacts=[ArtifactFinding("bias_field", "mild", 1)],
        usability="usable",
        report="Overall quality: medium.",
        answers=[SliceAnswer(4, "Is the fat suppressed?", None, "Yes | mostly.")],
    )
    data = json.loads(result.to_json())
    assert data["metrics"]["gsr"] is None and data["slice_votes"] == {"4": "medium", "9": None}
    assert data["artifacts"][0] == {"kind": "bias_field", "severity": "mild", "votes": 1, "probability": None}
    text, markdown = result.to_text(), result.to_markdown()
    for out in (text, markdown):
        assert "medium" in out and "bias field (mild)" in out and "efc" in out and "out of range" in out
        assert "Is the fat suppressed?" in out
    assert "| efc | 0.900 fraction | 0 to 0.700 | out of range |" in markdown
    failed = Assessment.failed("bad.nii", "damaged file")
    assert not failed.ok and "damaged file" in failed.to_text() and json.loads(failed.to_json())["error"]


def test_an_answer_about_another_target_is_no_answer():
    """A severity, comparison or metric-value answer that names other artifacts or metrics and never the question's
    own is not read as the target's (the demo model answered "The motion is moderate." to the ghosting question)."""
    ghosting = standard_question("severity", "ghosting")
    assert parse(ghosting, "The motion is moderate.") is None
    assert parse(ghosting, "The ghosting is moderate.") == "moderate"
    assert parse(ghosting, "None: there is no ghosting artifact.") == "none"
    assert parse(ghosting, "Moderate.") == "moderate"  # names nothing else: an answer
    assert parse(ghosting, "Mild ghosting, and some noise.") == "mild"  # names the target among others
    metric = standard_question("metric_value", "pe_correlation")
    assert parse(metric, "truncation = 0 % (the acceptable range is 0 to 5.00: acceptable).") is None
    assert (
        parse(metric, "pe_correlation = 3.56 % (the acceptable range is -20.0 to 10.0: acceptable).")["value"]
        == "3.56"
    )
    assert parse(metric, "It is 3.56 %, acceptable.")["value"] == "3.56"
    blur = Question("comparison", "Which of the two images shows stronger blur: the first or the second?", "blur")
    assert parse(blur, "The second image shows stronger noise.") is None
    assert (
        parse(blur, "The second image shows stronger blur.") == "second" and parse(blur, "The first one.") == "first"
    )
