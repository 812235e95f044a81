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
    """A 2-layer Qwen2 causal LM with random weights and a byte-level BPE tokenizer, saved to a folder."""
    from mmrqa.modeling.tiny import build_tiny_text_model

    return str(build_tiny_text_model(tmp_path_factory.mktemp("tiny-lm")))


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
