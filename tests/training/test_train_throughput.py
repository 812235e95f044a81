"""The GPU throughput benchmark's code path, on the tiny config on CPU (``--smoke``)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytest.importorskip("peft")
SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "train_throughput.py"


@pytest.mark.slow
def test_smoke_run_reports_both_settings(tmp_path):
    spec = importlib.util.spec_from_file_location("train_throughput", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("train_throughput", module)  # dataclasses look their module up there
    spec.loader.exec_module(module)
    report = module.main(["--smoke", "--steps", "1", "--warmup", "0", "--json", str(tmp_path / "r.json")])
    names = [r["setting"] for r in report["results"]]
    assert names == ["a-stock", "b-recipe"] and (tmp_path / "r.json").is_file()
    for r in report["results"]:
        assert r["samples_per_s"] > 0 and r["tokens_per_s"] > 0 and r["seq_len"] > 16
    assert report["speedup_samples"] > 0
