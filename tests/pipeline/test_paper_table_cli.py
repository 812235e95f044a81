"""``mmrqa evaluate`` with every row of the MMRQA table, on the tiny model: the ablation models and the unseen
dataset are stand-ins (the same adapter, the same dataset): this checks the path, not what the tiny model says."""

from __future__ import annotations

import json
import shutil

import pytest

from mmrqa.cli import main

pytest.importorskip("torch")
pytest.importorskip("peft")


def test_evaluate_writes_every_row_into_the_card_and_the_results_file(tiny_adapter_dir, eval_dataset_dir, tmp_path):
    from mmrqa.evaluation.driver import SYSTEMS, UNSEEN
    from mmrqa.evaluation.reporting import RESULTS_BEGIN

    adapter = tmp_path / "adapter"
    shutil.copytree(tiny_adapter_dir, adapter)
    (adapter / "README.md").write_text("---\nlicense: apache-2.0\nmodel_name: tiny\n---\n# tiny\n")
    results_md = tmp_path / "RESULTS.md"
    results_md.write_text("# Results\n")
    out = tmp_path / "results.json"
    argv = ["evaluate", "--model", str(adapter), "--dataset", str(eval_dataset_dir), "-o", str(out)]
    argv += ["--no-summary-model", str(tiny_adapter_dir), "--limit", "14", "--bootstrap", "50", "--cluster-by", "scan"]
    argv += ["--max-new-tokens", "4", "--batch-size", "16", "--update-card", "--results-md", str(results_md)]
    argv += ["--not-computed", f"{UNSEEN}=the TCIA scans are absent"]
    assert main(argv) == 0
    results = json.loads(out.read_text())
    assert list(results["systems"]) == [s for s in SYSTEMS if s != UNSEEN]
    assert results["not_computed"] == {UNSEEN: "the TCIA scans are absent"}
    assert results["cluster_by"] == "scan" and results["n_clusters"] >= 2
    rows = [line for line in results["paper_table"].splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert [row.split(" | ")[1] for row in rows] == list(SYSTEMS)
    assert "not computed: the TCIA scans are absent" in rows[-1]
    assert "[" in rows[4]  # the signal-only classifier's intervals: several scans were resampled
    card = (adapter / "README.md").read_text()
    assert "## Evaluation against baselines" in card and results["paper_table"].strip() in card
    assert (
        results_md.read_text().count(RESULTS_BEGIN) == 1 and results["paper_table"].strip() in results_md.read_text()
    )

    # the unseen-anatomy row: the model zero-shot on another dataset (every split), with its own model-index entry
    argv = ["evaluate", "--model", str(adapter), "--dataset", str(eval_dataset_dir), "-o", str(out), "--limit", "7"]
    argv += ["--unseen-dataset", str(eval_dataset_dir), "--bootstrap", "20", "--max-new-tokens", "4"]
    assert main(argv) == 0
    results = json.loads(out.read_text())
    assert results["unseen"]["split"] == "all" and results["unseen"]["n_questions"] == 7
    assert results["model_index"][-1]["name"] == UNSEEN
    assert results["model_index"][-1]["results"][0]["dataset"]["split"] == "all"
    assert "trained without signal summaries" in results["not_computed"][SYSTEMS[2]]
    # the majority class of the train split on the unseen set, for reference in the caption
    assert results["unseen"]["majority"]["rating"]["n"] > 0
    assert "On that set the answers of row 6 (fitted on the train split) score rating" in results["paper_table"]


def test_a_held_out_dataset_is_scored_whole_with_the_baselines_fitted_on_the_training_data(
    tiny_adapter_dir, eval_dataset_dir, tmp_path
):
    """``--split all --baseline-dataset TRAIN`` (what ``make table`` does): every row of a held-out set is scored,
    the signal-only classifier and the majority class are fitted on TRAIN's train split, not on the held-out rows."""
    out = tmp_path / "results.json"
    argv = ["evaluate", "--model", str(tiny_adapter_dir), "--dataset", str(eval_dataset_dir), "--split", "all"]
    argv += ["-o", str(out), "--limit", "12", "--bootstrap", "20", "--max-new-tokens", "4", "--batch-size", "16"]
    assert main(argv) == 0
    alone = json.loads(out.read_text())
    assert alone["signal_classifier"] == "shipped default (no train split)"
    assert alone["majority_fitted_on"] == "the all split (no train split)"

    assert main([*argv, "--baseline-dataset", str(eval_dataset_dir)]) == 0
    results = json.loads(out.read_text())
    assert results["split"] == "all" and results["n_questions"] == 12
    assert results["signal_classifier"] == f"fitted on the train split of {eval_dataset_dir}"
    assert results["majority_fitted_on"] == f"the train split of {eval_dataset_dir}"
    assert results["subjects"] and len(results["subjects"]) == results["n_subjects"]
    own = results["majority_of_scored"]
    assert set(own["answers"]) == set(own["scores"]) and "rating" in own["answers"]
    assert f"fitted on the train split of `{eval_dataset_dir.name}`" in results["paper_table"]
    assert "the scored answers themselves" in results["paper_table"]


def test_a_bad_not_computed_row_is_a_clear_error(tmp_path, capsys):
    argv = ["evaluate", "--model", str(tmp_path), "--dataset", str(tmp_path), "--not-computed", "Row 9=gone"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --not-computed takes ROW=REASON") and "Traceback" not in err
