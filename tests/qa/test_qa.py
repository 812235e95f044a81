"""QA generation on real scans: real metrics, simulated artifacts read from their records, grounded answers."""

from __future__ import annotations

import numpy as np
import pytest

from mmrqa.artifacts import simulate
from mmrqa.data import load_sample
from mmrqa.errors import InvalidArgumentError
from mmrqa.metrics import ARTIFACT_INDICATORS, CATALOGUE, compute_metrics
from mmrqa.qa import (
    PHRASINGS,
    QUESTION_TYPES,
    Labels,
    Question,
    UngroundedAnswerError,
    check_grounding,
    format_value,
    make_conversations,
    parse_answer,
    quality_from_severity,
    quality_word,
)
from mmrqa.qa.bank import truth
from mmrqa.render import render_slices


@pytest.fixture(scope="module")
def clean():
    volume = load_sample("t1")
    _, images = render_slices(volume, 2)
    return images, compute_metrics(volume), Labels(1)


@pytest.fixture(scope="module")
def corrupted():
    volume, record = simulate(load_sample("t1"), "ghosting", "moderate", seed=7)
    _, images = render_slices(volume, 2)
    return images, compute_metrics(volume), Labels.from_record(record)


def answers_by_type(examples):
    return {e["question_type"]: e["messages"][1]["content"][0]["text"] for e in examples}


def test_severity_to_quality_rule_and_words():
    assert [quality_from_severity(s) for s in ("none", "mild", "moderate", "severe")] == [1, 2, 3, 3]
    assert [quality_word(q) for q in (1, 2, 3)] == ["good", "medium", "bad"]
    with pytest.raises(InvalidArgumentError):
        quality_word(4)
    with pytest.raises(InvalidArgumentError):
        Labels(1, "none", "mild")
    with pytest.raises(InvalidArgumentError):
        Labels(2, "wobble", "mild")


def test_labels_come_from_the_artifact_record(corrupted):
    _, _, labels = corrupted
    assert labels == Labels(3, "ghosting", "moderate")


def test_conversation_format_is_trl_vlm(clean):
    images, report, labels = clean
    examples = make_conversations(images, report, labels, seed=0, question_types=["rating"])
    assert len(examples) == 1
    example = examples[0]
    assert set(example) == {"images", "messages"} and example["images"] == images
    user, assistant = example["messages"]
    assert user["role"] == "user" and assistant["role"] == "assistant"
    assert user["content"][:2] == [{"type": "image"}, {"type": "image"}] and user["content"][2]["type"] == "text"
    assert user["content"][2]["text"].startswith("Signal metrics: ")
    assert assistant["content"] == [{"type": "text", "text": assistant["content"][0]["text"]}]


def test_every_question_type_is_generated_and_grounded(clean, corrupted):
    images, report, labels = corrupted
    examples = make_conversations(images, report, labels, seed=1, comparison=clean, with_meta=True)
    assert [e["question_type"] for e in examples] == list(QUESTION_TYPES)
    answers = answers_by_type(examples)
    assert parse_answer("rating", answers["rating"]) == "bad"
    assert parse_answer("presence", answers["presence"]) is True
    assert parse_answer("artifact_type", answers["artifact_type"]) == "ghosting"
    assert parse_answer("usability", answers["usability"]) == "repeat"
    assert parse_answer("comparison", answers["comparison"]) == "first"  # the ghosted scan is the first one
    comparison = next(e for e in examples if e["question_type"] == "comparison")
    assert (
        len(comparison["images"]) == 4
        and "Second image. Signal metrics" in comparison["messages"][0]["content"][-1]["text"]
    )
    report_answer = parse_answer("report", answers["report"])
    assert report_answer["quality"] == "bad" and report_answer["artifact"] == "ghosting"
    assert report_answer["metrics"]  # cites metrics, each with its real value
    values = {k: format_value(v) for k, v in report.values.items() if np.isfinite(v)}
    assert all(values[m] == v for m, v in report_answer["metrics"].items())


def test_metric_answer_states_value_range_and_verdict(clean):
    images, report, labels = clean
    for seed in range(6):
        (example,) = make_conversations(
            images, report, labels, seed=seed, question_types=["metric_value"], with_meta=True
        )
        name = example["question_target"]
        low, high = CATALOGUE[name].reference_range
        value = report.values[name]
        stated = parse_answer("metric_value", example["messages"][1]["content"][0]["text"])
        assert stated["value"] == format_value(value)
        assert stated["acceptable"] == (low <= value <= high)


def test_same_seed_same_conversations_and_phrasings_vary(clean):
    images, report, labels = clean
    first = make_conversations(images, report, labels, seed=5)
    assert first == make_conversations(images, report, labels, seed=5)
    questions = {
        make_conversations(images, report, labels, seed=s, question_types=["rating"])[0]["messages"][0]["content"][-1][
            "text"
        ]
        for s in range(30)
    }
    assert len(questions) >= 3 and all(len(p) >= 4 for p in PHRASINGS.values())


def test_signal_enhanced_flag_removes_the_metric_summary(clean):
    images, report, labels = clean
    (example,) = make_conversations(images, report, labels, seed=0, question_types=["rating"], signal_enhanced=False)
    text = example["messages"][0]["content"][-1]["text"]
    assert "Signal metrics" not in text and text in PHRASINGS["rating"]


def test_grounding_rejects_wrong_numbers_and_labels(corrupted):
    _, report, labels = corrupted
    name = "efc"
    value = format_value(report.values[name])
    question = Question("metric_value", f"What is the {name}?", name)
    expected = truth(question, report, labels, CATALOGUE, ARTIFACT_INDICATORS)
    verdict = "acceptable" if expected["acceptable"] else "not acceptable"
    assert check_grounding(f"{name} = {value}: {verdict}.", report, labels, question=question)
    off = format_value(report.values[name] * 1.5 + 1)
    result = check_grounding(f"{name} = {off}: {verdict}.", report, labels, question=question)
    assert not result and any(off in p for p in result.problems)
    flipped = "acceptable" if not expected["acceptable"] else "not acceptable"
    assert not check_grounding(f"{name} = {value}: {flipped}.", report, labels, question=question)
    rating = Question("rating", "Rate it.")
    assert check_grounding("The quality is bad.", report, labels, question=rating)
    assert not check_grounding("The quality is good.", report, labels, question=rating)
    assert not check_grounding("Mild ghosting.", report, labels, question=Question("severity", "?", "ghosting"))
    assert not check_grounding("The quality is good.", report, labels)  # without a question: quality words checked


def test_make_conversations_refuses_an_ungrounded_answer(clean, monkeypatch):
    import mmrqa.qa.conversations as conversations

    images, report, labels = clean
    monkeypatch.setattr(conversations, "render_answer", lambda *a, **k: "The overall image quality is bad.")
    with pytest.raises(UngroundedAnswerError, match="not grounded"):
        make_conversations(images, report, labels, question_types=["rating"])


def test_unknown_labels_skip_the_questions_they_cannot_answer(clean):
    images, report, _ = clean
    expert_only = Labels(2, artifact=None, severity=None)  # an MR-ART score without an artifact type
    examples = make_conversations(images, report, expert_only, seed=0, with_meta=True)
    assert {e["question_type"] for e in examples} == {"rating", "metric_value", "usability", "report"}


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("rating", "I would say the quality is poor.", "bad"),
        ("rating", "good or bad, hard to say", None),
        ("presence", "no", False),
        ("presence", "Yes, motion.", True),
        ("artifact_type", "Gibbs ringing near edges", "ringing"),
        ("artifact_type", "intensity inhomogeneity", "bias_field"),
        ("artifact_type", "None: the scan shows no artifact.", "none"),
        ("severity", "The noise is slight", "mild"),
        ("usability", "There is no need to repeat it; usable.", "usable"),
        ("usability", "Please rescan.", "repeat"),
        ("comparison", "The second one.", "second"),
        ("metric_value", "snr = 12.3 (the acceptable range is 3.00 to 100: acceptable)", None),
    ],
)
def test_parse_answer(kind, text, expected):
    parsed = parse_answer(kind, text)
    if kind == "metric_value":
        assert parsed == {"value": "12.3", "acceptable": True, "range": ("3.00", "100")}
    else:
        assert parsed == expected


@pytest.mark.parametrize("garbage", ["", "   ", None, 42, "\x00\x01 ??", "é" * 1000, "quality: artifact:"])
def test_parse_answer_never_raises_on_malformed_output(garbage):
    for kind in QUESTION_TYPES:
        value = parse_answer(kind, garbage)
        assert value is None or kind in ("presence", "severity", "artifact_type", "report")
    assert parse_answer("no-such-type", "good") is None


def test_format_value_three_significant_digits():
    assert [format_value(v) for v in (0.45678, 45.678, 12345.6, -1.0, 0.0, 0.000123456)] == [
        "0.457",
        "45.7",
        "12346",
        "-1.00",
        "0",
        "0.000123",
    ]
