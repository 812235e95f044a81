"""``mmrqa report --model``: the verdicts of the cohort report come from the model (here the tiny LoRA adapter of
this folder's fixtures), with its answers per slice on the scan page."""

from __future__ import annotations

import json


def test_report_verdicts_come_from_the_model(tiny_adapter_dir, tmp_path):
    from mmrqa.data import sample_path
    from mmrqa.report import write_report

    result = write_report([sample_path("t1")], tmp_path / "r", model=str(tiny_adapter_dir), progress=False)
    assert not result.failed and result.done == 1
    page = next((tmp_path / "r" / "scans").glob("*.html")).read_text()
    assert "Model answers per slice" in page and "model (" in page
    record = json.loads(next((tmp_path / "r" / "scans").glob("*/entry.json")).read_text())
    assert record["verdict"]["mode"].startswith("model") and record["assessment"]["answers"]
