"""space/app.py is importable: importing it chooses no model and builds no app; build_app() does both, once."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from .conftest import APP_PATH

pytest.importorskip("gradio")


def test_import_loads_nothing_and_build_app_chooses_the_model_once(tmp_path, monkeypatch):
    monkeypatch.delenv("MMRQA_MODEL", raising=False)
    monkeypatch.setenv("MMRQA_DEMO_ADAPTER", str(tmp_path / "no-adapter"))
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    spec = importlib.util.spec_from_file_location("mmrqa_space_app_import_test", APP_PATH)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    assert not hasattr(module, "demo") and module.get_pipeline.cache_info().currsize == 0
    assert module.files.cache_info().currsize == 0  # no temp folder either
    demo = module.build_app()
    try:
        assert module.get_pipeline.cache_info().currsize == 1 and module.get_pipeline()[0].loaded is None
        names = {d.get("api_name") for d in demo.config["dependencies"]}
        assert {"load_scan", "load_sample", "show_slice", "change_plane", "assess", "ask", "show_cohort"} <= names
    finally:
        demo.close()
