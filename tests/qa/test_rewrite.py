"""The optional LLM rewriter: a tiny random causal LM (gibberish) must be caught by the grounding fallback."""

from __future__ import annotations

import logging

import pytest

from mmrqa.data import load_sample
from mmrqa.errors import ModelLoadError
from mmrqa.metrics import compute_metrics
from mmrqa.qa import Labels, Question, make_conversations
from mmrqa.qa import rewrite as rewrite_module
from mmrqa.render import render_slices

pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory) -> str:
    """A 2-layer Qwen2 causal LM with random weights and a byte-level BPE tokenizer, saved to a folder."""
    from mmrqa.modeling.tiny import build_tiny_text_model

    return str(build_tiny_text_model(tmp_path_factory.mktemp("tiny-lm")))


@pytest.fixture(scope="module")
def example():
    volume = load_sample("t1")
    _, images = render_slices(volume, 1)
    return images, compute_metrics(volume), Labels(1)


@pytest.mark.slow
def test_gibberish_rewrites_fall_back_to_the_templates(tiny_lm, example, caplog):
    images, report, labels = example
    kinds = ["rating", "metric_value", "report"]
    templates = make_conversations(images, report, labels, seed=2, question_types=kinds)
    with caplog.at_level(logging.INFO, logger="mmrqa.qa.rewrite"):
        rewritten = make_conversations(images, report, labels, seed=2, question_types=kinds, rewriter=tiny_lm)
    assert rewritten == templates
    assert sum("not grounded" in r.getMessage() for r in caplog.records) == len(kinds)  # the model did answer


def test_a_grounded_rewrite_is_kept_and_a_wrong_one_is_not(example, monkeypatch):
    _, report, labels = example
    replies = iter(["This scan looks good overall.", "This scan looks bad overall."])

    class FakeGenerator:
        tokenizer = None

        def __call__(self, prompt, **kwargs):
            assert "Keep every number" in prompt
            return [{"generated_text": next(replies)}]

    monkeypatch.setattr(rewrite_module, "_generator", lambda model_id: FakeGenerator())
    context = {"question": Question("rating", "Rate it."), "report": report, "labels": labels}
    template = "The overall image quality is good."
    assert rewrite_module.rewrite(template, context, "fake") == "This scan looks good overall."
    assert rewrite_module.rewrite(template, context, "fake") == template


def test_unloadable_rewriter_is_a_model_load_error(tmp_path, example):
    _, report, labels = example
    context = {"question": Question("rating", "Rate it."), "report": report, "labels": labels}
    with pytest.raises(ModelLoadError, match="no-model-here"):
        rewrite_module.rewrite("The overall image quality is good.", context, str(tmp_path / "no-model-here"))
