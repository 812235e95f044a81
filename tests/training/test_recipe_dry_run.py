"""The GPU recipes' CPU dry run (``benchmarks/recipe_dry_run.py``), on the tiny model: every GPU recipe runs two
optimizer steps through ``train_sft.py`` with its own settings (the real-size run is in benchmarks/RESULTS.md)."""

from __future__ import annotations

import pytest

pytest.importorskip("trl")


@pytest.mark.slow
def test_every_gpu_recipe_takes_two_steps_on_the_tiny_model(repo_script, tmp_path):
    module = repo_script("benchmarks/recipe_dry_run.py")
    report = module.main(["--tiny", "--workdir", str(tmp_path), "--json", str(tmp_path / "r.json")])
    assert [r["recipe"] for r in report["runs"]] == list(module.GPU_RECIPES)
    for run in report["runs"]:
        assert run["exit_status"] == 0 and run["steps"] == 2 and len(run["losses"]) == 2, run
        assert run["lora_b_changed"] and run["settings"]["gradient_checkpointing"], run
        assert run["settings"]["dtype"] == "torch.bfloat16" and run["settings"]["warmup_steps"] == 0.03
    assert (tmp_path / "r.json").is_file()
