"""One verdict, one story (``mmrqa.pipeline.consistency``): whatever the model answers to the separate questions, the
model-mode assessment never shows a rating and a usability, artifact list or report that contradict each other, and
says in every form what it changed. The model is a stub: ``generate`` answers from a script per question type."""

from __future__ import annotations

import copy
import json
from types import SimpleNamespace

import numpy as np
import pytest

import mmrqa.pipeline.core as core
from mmrqa.data import load_sample
from mmrqa.pipeline import MMRQAPipeline
from mmrqa.pipeline.consistency import WRITTEN_NOTE, implied_quality
from mmrqa.pipeline.interpret import classify_question
from mmrqa.qa.answers import format_value
from mmrqa.qa.labels import quality_from_word
from mmrqa.qa.questions.usability import USABILITY_WORDS


@pytest.fixture(scope="module")
def prepared():
    pipe = MMRQAPipeline(SimpleNamespace(name="stub"))
    return pipe.prepare(load_sample("t1"), slices=3)


def _assess(prepared, monkeypatch, script: dict[str, list[str] | str]):
    """The assessment of the prepared scan by a stub model answering ``script[type]`` (one text, or one per slice
    in slice order) to each question."""
    calls: dict[str, int] = {}

    def fake_generate(loaded, prompts, **kwargs):
        texts = []
        for _, user in prompts:
            qtype = classify_question(user["content"][-1]["text"]).type
            replies = script.get(qtype, "")
            replies = [replies] if isinstance(replies, str) else replies
            k = calls.get(qtype, 0)
            calls[qtype] = k + 1
            texts.append(replies[k % len(replies)])
        return texts, 0

    monkeypatch.setattr(core, "generate", fake_generate)
    return MMRQAPipeline(SimpleNamespace(name="stub")).complete(copy.deepcopy(prepared))


def _forms(result) -> list[str]:
    return [result.to_text(), result.to_markdown(), result.trust_markdown(), result.to_json()]


def _check_one_story(result) -> None:
    """The invariants a user may rely on, read from the assessment's fields and its text form."""
    assert result.rating is not None
    assert result.usability == ("repeat" if result.rating == "bad" else "usable"), (result.rating, result.usability)
    quality = quality_from_word(result.rating)
    assert all(implied_quality(a) <= quality for a in result.artifacts), (result.rating, result.artifacts)
    if quality > 1:
        assert "none detected" not in result.artifact_text()
    if result.report:
        first = result.report.splitlines()[0]
        assert f"Overall quality: {result.rating} ({USABILITY_WORDS[result.usability]})" in first, result.report
        assert "Artifact: none" not in result.report or not result.artifacts
    for line in result.report.splitlines():  # every number a report cites is this scan's
        if line.startswith("Evidence:"):
            for name, value in _cited(line):
                assert format_value(result.metrics[name]) == value, line


def _cited(line: str) -> list[tuple[str, str]]:
    import re

    return re.findall(r"([a-z][\w]*) = (-?\d+(?:\.\d+)?)", line)


def test_a_bad_rating_is_never_usable_and_the_report_says_what_the_verdict_says(prepared, monkeypatch):
    result = _assess(
        prepared,
        monkeypatch,
        {
            "rating": "The overall image quality is bad.",
            "artifact_type": "This scan shows motion.",
            "severity": "The motion is severe.",
            "usability": "The scan is usable for diagnosis.",
            "report": "Overall quality: bad (usable for diagnosis).\nArtifact: motion, severe.\nEvidence: efc = 98.7.",
        },
    )
    assert result.rating == "bad" and result.usability == "repeat"
    assert result.sources["usability"] == "model"  # it follows the model's own rating
    assert "usability follows the rating: the answers said 'usable for diagnosis' on 3 of 3 slices" in result.notes[0]
    # the model's reports said "usable" and cited an efc that is not the scan's: the report states the verdict instead
    assert result.report.startswith("Overall quality: bad (repeat the scan).\nArtifact: motion, severe.\n")
    assert result.report.endswith(WRITTEN_NOTE) and "efc = 98.7" not in result.report
    assert "measured " + format_value(result.metrics["efc"]) in result.notes[-1]
    _check_one_story(result)
    for form in _forms(result):
        assert "usability follows the rating" in form and "report is written from the verdict" in form, form
    assert json.loads(result.to_json())["notes"] == result.notes
    said = [a.answer for a in result.answers if a.question_type == "usability"]
    assert said == ["The scan is usable for diagnosis."] * 3  # the model's own answers are kept


def test_a_named_severe_artifact_lowers_a_good_rating(prepared, monkeypatch):
    result = _assess(
        prepared,
        monkeypatch,
        {
            "rating": "The overall image quality is good.",
            "artifact_type": ["No artifact.", "This scan shows ghosting.", "No artifact."],
            "severity": "The ghosting is moderate.",
            "usability": "The scan is usable for diagnosis.",
        },
    )
    assert result.rating == "bad" and result.usability == "repeat"
    assert result.slice_votes == dict.fromkeys(result.slices, "good")  # the votes stay what the model said
    assert result.notes[0].startswith("rating lowered from good to bad: the model named a moderate ghosting artifact")
    assert "Rating:    bad (votes:" in result.to_text()
    _check_one_story(result)


def test_a_degraded_rating_without_an_artifact_is_not_shown_beside_none_detected(prepared, monkeypatch):
    result = _assess(
        prepared,
        monkeypatch,
        {
            "rating": "The overall image quality is medium.",
            "artifact_type": "No artifact.",
            "usability": "Repeat the scan: it is not usable for diagnosis.",
            "report": "Overall quality: medium (usable for diagnosis).\nArtifact: none.",
        },
    )
    assert result.rating == "medium" and result.usability == "usable" and result.artifacts == []
    assert result.artifact_text().startswith("none identified (a medium rating means a visible artifact")
    assert "Artifacts: none identified" in result.to_text()
    assert any("rated medium but no artifact was named" in n for n in result.notes)
    assert result.report == "Overall quality: medium (usable for diagnosis).\nArtifact: none."  # agrees: kept
    _check_one_story(result)


def test_consistent_answers_are_left_alone_and_the_agreeing_report_is_chosen(prepared, monkeypatch):
    efc = format_value(prepared[0].metrics["efc"])
    reports = [
        f"Overall quality: medium (usable for diagnosis).\nArtifact: ringing, mild.\nEvidence: efc = {efc}.",
        "Overall quality: bad (repeat the scan).\nArtifact: ringing, mild.",  # the middle slice's: disagrees
        "Overall quality: medium (usable for diagnosis).\nArtifact: ringing, mild.\nEvidence: efc = 12.5.",
    ]
    script = {
        "rating": "The overall image quality is medium.",
        "artifact_type": "This scan shows ringing.",
        "severity": "The ringing is mild.",
        "usability": "The scan is usable for diagnosis.",
        "report": reports,
    }
    result = _assess(prepared, monkeypatch, script)
    assert (result.rating, result.usability, result.notes) == ("medium", "usable", [])
    assert result.report == reports[0]  # the only one that states the verdict with the scan's own efc
    assert "Consistency" not in result.to_text()
    _check_one_story(result)


def test_any_mix_of_answers_tells_one_story(prepared, monkeypatch):
    """Random answers (parsable or not, on each slice) never leave a contradiction, with the signal classifier filling
    what the model leaves unstated."""
    rng = np.random.default_rng(0)
    options = {
        "rating": [f"The overall image quality is {w}." for w in ("good", "medium", "bad")] + ["?!"],
        "artifact_type": ["No artifact.", "This scan shows motion.", "This scan shows noise.", "..."],
        "severity": [f"The artifact is {s}." for s in ("none", "mild", "moderate", "severe")] + [""],
        "usability": ["The scan is usable for diagnosis.", "The scan should be repeated.", "hmm"],
        "report": [
            f"Overall quality: {q} ({u}).\nArtifact: {a}."
            for q in ("good", "bad")
            for u in USABILITY_WORDS.values()
            for a in ("none", "motion, mild")
        ]
        + ["garbage"],
    }
    for _ in range(12):
        script = {t: [str(rng.choice(o)) for _ in range(3)] for t, o in options.items()}
        result = _assess(prepared, monkeypatch, script)
        _check_one_story(result)


def test_the_cohort_report_page_shows_the_notes(prepared, monkeypatch):
    from mmrqa.report.scan import _verdict
    from mmrqa.report.scan_page import _assessment_rows

    result = _assess(
        prepared,
        monkeypatch,
        {"rating": "The overall image quality is bad.", "usability": "The scan is usable for diagnosis."},
    )
    rows = dict(_assessment_rows(result.to_dict(), _verdict(result)))
    assert "usability follows the rating" in rows["Consistency"] and "repeat the scan" in rows["Usability"]
