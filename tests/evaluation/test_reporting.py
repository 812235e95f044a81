"""Comparison table and Hub model-index entries from several systems' results."""

from __future__ import annotations

import pytest

from mmrqa.evaluation import MajorityBaseline, comparison_table, evaluate_predictions, model_index

REF = {"rating": ["good", "good", "bad", "medium", "good"], "quality": [1, 1, 3, 2, 1]}


def _results() -> dict:
    model = {"rating": ["good", "medium", "bad", "medium", "good"], "quality": [1, 2, 3, 2, 1]}
    majority = MajorityBaseline().fit(REF).predict({k: len(v) for k, v in REF.items()})
    return {
        "MMRQA (tiny demo model)": evaluate_predictions(model, REF, n_resamples=100),
        "Majority class": evaluate_predictions(majority, REF, n_resamples=100),
    }


def test_comparison_table_shows_measured_numbers_and_na():
    table = comparison_table(_results(), note="Tiny demo model with random weights: not a real result.")
    lines = table.splitlines()
    assert lines[0].startswith("| System | Rating accuracy ↑ | Rating macro-F1 ↑ | Quality SRCC ↑ | Quality PLCC ↑")
    assert "Artifact" not in lines[0]  # no system scored artifacts: no empty columns
    model_row = next(line for line in lines if line.startswith("| MMRQA"))
    assert "| 0.800 [" in model_row  # rating accuracy 4/5
    majority_row = next(line for line in lines if line.startswith("| Majority"))
    assert "| 0.600 [" in majority_row  # 3 of 5 are "good"
    assert majority_row.count("n/a") == 2  # a constant prediction has no SRCC/PLCC
    assert "not a real result" in table


def test_model_index_round_trips_through_huggingface_hub():
    repocard_data = pytest.importorskip("huggingface_hub.repocard_data")
    index = model_index(_results(), dataset_name="MMRQA synthetic artifacts", dataset_type="local/mmrqa-test")
    assert [entry["name"] for entry in index] == ["MMRQA (tiny demo model)", "Majority class"]
    name, results = repocard_data.model_index_to_eval_results(index[:1])
    assert name == "MMRQA (tiny demo model)"
    by_name = {r.metric_name: r for r in results}
    assert by_name["Rating accuracy"].metric_value == pytest.approx(0.8)
    assert by_name["Rating accuracy"].metric_type == "accuracy"
    assert by_name["Quality SRCC"].metric_type == "spearmanr"
    assert all(r.dataset_split == "test" and r.task_type == "image-text-to-text" for r in results)
    majority = index[1]["results"][0]["metrics"]
    assert "Quality SRCC" not in {m["name"] for m in majority}  # undefined numbers are left out, not invented
    card_data = repocard_data.ModelCardData(model_name=name, eval_results=results)
    assert card_data.to_dict()["model-index"][0]["results"][0]["metrics"][0]["value"] == pytest.approx(0.8)
