"""A model verdict is always a verdict: a field the model's answers leave unstated comes from the signal classifier,
and the assessment says so in ``sources`` and in every form (no model needed: the answers are given)."""

from __future__ import annotations

import json

import pytest

from mmrqa.data import load_sample
from mmrqa.pipeline import Assessment, SliceAnswer
from mmrqa.pipeline.core import MMRQAPipeline
from mmrqa.pipeline.interpret import parse, standard_question

NOTE = "from the signal classifier: the model gave no readable answer"


@pytest.fixture(scope="module")
def scan():
    volume = load_sample("t1")
    prepared, volume, _, _ = MMRQAPipeline(None).prepare(volume, slices=2)
    return prepared, volume


@pytest.fixture(scope="module")
def signal_verdict(scan):
    """What the metrics-only pipeline concludes on the same scan."""
    _, volume = scan
    return MMRQAPipeline.metrics_only()(volume)


def _model_assessment(scan, texts: dict[str, list[str]]) -> Assessment:
    """A model-mode assessment of ``scan`` whose standard questions got ``texts`` (per type, one per slice)."""
    prepared, volume = scan
    result = Assessment(**{**prepared.__dict__, "mode": "model", "model": "test"})
    answers = []
    for qtype, replies in texts.items():
        question = standard_question(qtype)
        for index, text in zip(result.slices, replies, strict=True):
            answers.append(SliceAnswer(index, question.text, qtype, text, parse(question, text)))
    result.answers = answers
    named = {a.parsed: 1 for a in answers if a.question_type == "artifact_type" and a.parsed not in (None, "none")}
    pipe = MMRQAPipeline(None)
    pipe._aggregate(result, answers, named)
    pipe._fall_back_to_signal(result, volume)
    return result


def test_unreadable_answers_fall_back_to_the_signal_classifier_and_say_so(scan, signal_verdict):
    garbage = ["m blural\ufffdhas :s~", "}{}{"]
    result = _model_assessment(scan, {t: garbage for t in ("rating", "artifact_type", "usability", "report")})
    assert result.sources == {"rating": "signal", "usability": "signal", "artifacts": "signal"}
    assert result.rating == signal_verdict.rating and result.usability == signal_verdict.usability
    assert [a.kind for a in result.artifacts] == [a.kind for a in signal_verdict.artifacts]
    assert result.signal_estimate == signal_verdict.signal_estimate
    assert json.loads(result.to_json())["sources"] == result.sources
    for form in (result.to_text(), result.to_markdown(), result.trust_markdown()):
        assert f"rating, usability, artifacts {NOTE}" in form, form
    assert "votes: slice" in result.to_text() and "unreadable" in result.to_text()
    assert result.report == "" and "**Report**" not in result.to_markdown()  # no garbage shown as the report


def test_each_field_keeps_its_own_source(scan, signal_verdict):
    result = _model_assessment(
        scan,
        {"rating": ["The overall image quality is bad.", "xx"], "artifact_type": ["??", "!!"], "usability": ["", ""]},
    )
    # the rating is the model's; usability follows it (no usability answer parsed); artifacts come from the signal
    assert result.rating == "bad" and result.usability == "repeat"
    assert result.sources == {"rating": "model", "usability": "model", "artifacts": "signal"}
    assert [a.kind for a in result.artifacts] == [a.kind for a in signal_verdict.artifacts]
    assert f"Signal fallback: artifacts {NOTE}" in result.to_text()
    assert f"- **Signal fallback:** artifacts {NOTE}" in result.to_markdown()


def test_readable_answers_are_the_models_and_the_classifier_is_not_run(scan):
    result = _model_assessment(
        scan,
        {
            "rating": ["I would rate this scan as good quality."] * 2,
            "artifact_type": ["None: the scan shows no artifact."] * 2,
            "usability": ["Usable for diagnosis."] * 2,
        },
    )
    assert (result.rating, result.usability, result.artifacts) == ("good", "usable", [])
    assert result.sources == {"rating": "model", "usability": "model", "artifacts": "model"}
    assert result.signal_estimate is None and NOTE not in result.to_markdown() and not result.trust_markdown()


def test_questions_that_ask_no_rating_still_give_a_rating(scan, signal_verdict):
    result = _model_assessment(scan, {"usability": ["The scan should be repeated.", "Repeat it."]})
    assert result.rating == signal_verdict.rating and result.sources["rating"] == "signal"
    assert result.usability == "repeat" and result.sources["usability"] == "model"


def test_metrics_only_mode_names_the_signal_classifier_as_the_source_without_the_note(signal_verdict):
    assert signal_verdict.sources == {"rating": "signal", "usability": "signal", "artifacts": "signal"}
    assert NOTE not in signal_verdict.to_text()


def test_a_scan_the_classifier_cannot_rate_keeps_only_the_models_fields(scan, monkeypatch):
    from mmrqa.classifier import Verdict

    out = Verdict(in_domain=False, domain_reason="not an MR image")
    monkeypatch.setattr(MMRQAPipeline, "_signal_verdict", lambda self, result, volume: out)
    result = _model_assessment(scan, {"rating": ["xx", "yy"], "artifact_type": ["The main artifact is noise.", "??"]})
    assert result.rating is None and [a.kind for a in result.artifacts] == ["noise"]
    assert result.sources == {"artifacts": "model"} and "Signal fallback" not in result.to_text()
