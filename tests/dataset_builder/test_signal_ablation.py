"""Row 3 of the MMRQA table (a model trained without signal summaries) is only comparable if the dataset built with
``--no-signal-enhanced`` holds the same subjects, splits, questions and answers, the summary alone left out."""

from __future__ import annotations

import pytest


def test_a_build_without_summaries_differs_only_by_the_summary(tmp_path):
    pytest.importorskip("datasets")
    from datasets import load_dataset

    from dataset_builder import BuildConfig, build_dataset
    from mmrqa.data import sample_path
    from mmrqa.evaluation.driver import SIGNAL_LINE

    (tmp_path / "scans").mkdir()
    (tmp_path / "scans" / "dicom_t2.dcm").symlink_to(sample_path("dicom_t2"))
    config = BuildConfig(kinds=("noise", "blur"), artifacts_per_scan=2, n_slices=1, split_ratios=(1.0, 0.0, 0.0))
    build_dataset("folder", tmp_path / "scans", tmp_path / "with", config, cache_dir=False)
    plain = config.replace(signal_enhanced=False)
    build_dataset("folder", tmp_path / "scans", tmp_path / "without", plain, cache_dir=False)
    with_summary = load_dataset(str(tmp_path / "with"), split="train")
    without = load_dataset(str(tmp_path / "without"), split="train")
    assert with_summary.num_rows == without.num_rows > 0
    for a, b in zip(with_summary, without, strict=True):
        text_a, text_b = a["messages"][0]["content"][-1]["text"], b["messages"][0]["content"][-1]["text"]
        assert "Signal metrics:" in text_a and "Signal metrics:" not in text_b
        assert SIGNAL_LINE.sub("", text_a) == text_b and a["messages"][1] == b["messages"][1]
        assert (a["subject"], a["variant"], a["question_type"]) == (b["subject"], b["variant"], b["question_type"])
