"""The Space's example chat questions are questions the model is trained to answer, asked the way it was trained:
the slice, the signal summary, then the question (the model is a stub that records its prompts)."""

from __future__ import annotations

from types import SimpleNamespace

import mmrqa.pipeline.core as core
from mmrqa.data import sample_path
from mmrqa.pipeline import MMRQAPipeline
from mmrqa.pipeline.interpret import classify_question, parse
from mmrqa.qa.answers import default_catalogue, metric_values, signal_summary, summary_metrics
from mmrqa.scan_session import CHAT_EXAMPLE_TYPES, ScanSession, chat_examples


def test_every_example_targets_what_the_prompt_shows(monkeypatch):
    session = ScanSession.open(sample_path("t1"))
    catalogue, indicators = default_catalogue()
    shown = summary_metrics(metric_values(session.report), catalogue, indicators)
    prompts = []

    def stub_generate(loaded, batch, **kwargs):
        prompts.extend(batch)
        return ["The pe_correlation is 1."] * len(batch), 0

    monkeypatch.setattr(core, "generate", stub_generate)
    pipe = MMRQAPipeline(SimpleNamespace(name="stub"))
    examples = chat_examples()
    assert [classify_question(q).type for q in examples] == list(CHAT_EXAMPLE_TYPES)
    for question in examples:
        asked = classify_question(question)
        if asked.type == "metric_value":  # the model only ever states the metrics of the summary in its prompt
            assert asked.target in shown, (asked.target, shown)
        index, _, _ = session.answer(pipe, question, "axial", 12)
        images, user = prompts[-1]
        assert index == 12 and len(images) == 1 and images[0].size == session.render("axial", 12).size
        assert user["content"][-1]["text"] == signal_summary(session.report, catalogue, indicators) + "\n" + question
    assert len(prompts) == len(examples)


def test_an_off_topic_answer_to_an_example_does_not_count_as_parsed():
    by_type = {classify_question(q).type: classify_question(q) for q in chat_examples()}
    assert parse(by_type["severity"], "The motion is moderate.") is None
    assert parse(by_type["severity"], "The ghosting is moderate.") == "moderate"
    assert parse(by_type["metric_value"], "truncation = 0 % (the acceptable range is 0 to 5.00: acceptable).") is None
