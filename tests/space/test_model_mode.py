"""The Space with an image model: ``MMRQA_MODEL`` pointing at a tiny (random) LLaVA-OneVision built in the test."""

from __future__ import annotations

import os

import pytest

from .conftest import import_app

pytestmark = pytest.mark.slow


def test_model_mode_assesses_and_answers_about_the_current_slice(tmp_path, scans, monkeypatch):
    pytest.importorskip("torch")
    from mmrqa.modeling import build_tiny_model

    build_tiny_model(tmp_path / "tiny", seed=0)
    monkeypatch.setenv("MMRQA_MODEL", str(tmp_path / "tiny"))
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    app = import_app("mmrqa_space_app_model_test")
    pipe, notice = app.get_pipeline()
    assert pipe.loaded is not None and "MMRQA_MODEL" in notice and "Metrics-only" not in notice
    pipe.max_new_tokens = 8  # a random model never stops on its own: keep the test short
    session, *_ = app.load_scan(str(scans["nifti"]))
    session, rating_md, _, _, assessment, files, _ = app.assess(session)
    assert assessment["mode"] == "model" and assessment["model"] and "**Mode:** model" in rating_md
    assert len(assessment["answers"]) >= 4 * len(assessment["slices"])  # the standard questions on each slice
    assert all(os.path.exists(f) for f in files)
    history, box, _ = app.ask("Is this scan usable for diagnosis, or should it be repeated?", [], session, "axial", 7)
    assert box == "" and history[0]["content"].startswith("[axial slice 7]")
    assert isinstance(history[1]["content"], str) and "metrics-only" not in history[1]["content"]
    app.demo.close()
