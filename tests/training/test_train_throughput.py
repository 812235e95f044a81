"""The GPU throughput benchmark's code path, on the tiny config on CPU (``--smoke``)."""

from __future__ import annotations

import pytest

pytest.importorskip("peft")


@pytest.mark.slow
def test_smoke_run_reports_both_settings(repo_script, tmp_path):
    module = repo_script("benchmarks/train_throughput.py")
    report = module.main(["--smoke", "--steps", "1", "--warmup", "0", "--json", str(tmp_path / "r.json")])
    names = [r["setting"] for r in report["results"]]
    assert names == ["a-stock", "b-recipe"] and (tmp_path / "r.json").is_file()
    for r in report["results"]:
        assert r["samples_per_s"] > 0 and r["tokens_per_s"] > 0 and r["seq_len"] > 16
    assert report["speedup_samples"] > 0
