"""--rewriter with a tiny local causal LM: its gibberish fails the grounding check and the templates are kept."""

from __future__ import annotations

import shutil

import pytest

from dataset_builder.build import build_dataset
from dataset_builder.config import BuildConfig
from mmrqa.data import sample_path

pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory) -> str:
    """A 2-layer Qwen2 LM with random weights and a byte-level BPE tokenizer (as in tests/qa/test_rewrite.py)."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from mmrqa.modeling.tiny import _train_tokenizer

    tokenizer = _train_tokenizer()
    tokenizer.chat_template = None
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    directory = tmp_path_factory.mktemp("tiny-lm")
    Qwen2ForCausalLM(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return str(directory)


@pytest.mark.slow
def test_rewriter_fallback_keeps_grounded_template_answers(tiny_lm, tmp_path, caplog):
    import logging

    from datasets import load_dataset

    (tmp_path / "in").mkdir()
    shutil.copy(sample_path("t1"), tmp_path / "in" / "t1.nii")
    config = BuildConfig(artifacts_per_scan=0, n_slices=1, question_types=("rating", "metric_value", "report"))
    plain = build_dataset("folder", tmp_path / "in", tmp_path / "plain", config, cache_dir=False)
    with caplog.at_level(logging.INFO, logger="mmrqa.qa.rewrite"):
        rewritten = build_dataset(
            "folder",
            tmp_path / "in",
            tmp_path / "rewritten",
            config.replace(rewriter=tiny_lm),
            cache_dir=tmp_path / "c",
        )
    assert sum("not grounded" in r.getMessage() for r in caplog.records) == 3  # the model answered, and was refused
    assert plain.examples == rewritten.examples == 3
    answers = [load_dataset(str(tmp_path / d))["train"]["messages"] for d in ("plain", "rewritten")]
    assert answers[0] == answers[1]  # every gibberish rewrite was refused by the grounding check
    assert "rewriter" in (tmp_path / "rewritten" / "README.md").read_text()
