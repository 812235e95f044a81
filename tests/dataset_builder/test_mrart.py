"""A build from a synthetic MR-ART tree of real scans: splits, labels = expert scores, grounding, card round trip."""

from __future__ import annotations

import json

import pytest
from datasets import load_dataset

from mmrqa.artifacts import ArtifactRecord, replay
from mmrqa.io import load_volume
from mmrqa.qa import QUESTION_TYPES, Labels, Question, check_grounding, quality_from_severity


@pytest.fixture(scope="module")
def dataset(mrart):
    return load_dataset(str(mrart.output))


def test_every_scored_scan_is_built_and_the_unscored_one_skipped(mrart, dataset):
    assert mrart.errors == [] and mrart.summary.failed == []
    scans = {s for split in dataset.values() for s in split["scan"]}
    assert {s.split("/")[-1] for s in scans} == set(mrart.scores)  # the unscored scan and the missing one are absent
    assert mrart.summary.scans == len(mrart.scores) and len(mrart.summary.computed) == len(mrart.scores)


def test_splits_are_subject_disjoint_and_follow_the_ratios(mrart, dataset):
    assert set(dataset) == {"train", "validation", "test"}
    subjects = {name: set(split["subject"]) for name, split in dataset.items()}
    assert not subjects["train"] & subjects["validation"]
    assert not subjects["train"] & subjects["test"]
    assert not subjects["validation"] & subjects["test"]
    assert [len(subjects[s]) for s in ("train", "validation", "test")] == [3, 1, 1]  # 5 subjects at 0.6/0.2/0.2


def test_quality_labels_equal_the_expert_scores(mrart, dataset):
    seen = {}
    for split in dataset.values():
        for row in split.select_columns(["scan", "variant", "quality", "label_source", "artifact", "severity"]):
            name = row["scan"].split("/")[-1]
            if row["variant"] == "original":
                assert row["label_source"] == "expert"
                assert row["quality"] == mrart.scores[name]
                expected_artifact = "none" if row["quality"] == 1 else ("motion" if "headmotion" in name else None)
                assert row["artifact"] == expected_artifact
                seen[name] = row["quality"]
            else:  # simulated copies exist only for scans scored 1, labelled from their record
                assert mrart.scores[name] == 1 and row["label_source"] == "simulated"
                assert row["quality"] == quality_from_severity(row["severity"])
    assert seen == mrart.scores


def test_rows_have_images_conversations_and_metrics(mrart, dataset):
    train = dataset["train"]
    row = train[0]
    assert row["images"][0].mode == "L" and row["images"][0].size[0] > 8
    user, assistant = row["messages"]
    assert user["role"] == "user" and assistant["role"] == "assistant"
    assert [p["type"] for p in user["content"]] == ["image"] * len(row["images"]) + ["text"]
    assert "Signal metrics:" in user["content"][-1]["text"]  # signal-enhanced by default
    metrics = json.loads(row["metrics"])
    assert {"snr_total", "efc", "cjv"} <= set(metrics) and all(
        v is None or isinstance(v, float) for v in metrics.values()
    )
    assert set(train["question_type"]) == set(QUESTION_TYPES)
    comparison = train.filter(lambda r: r["question_type"] == "comparison")
    assert len(comparison) > 0 and all(len(im) == 2 for im in comparison["images"])


def test_every_answer_passes_the_grounding_check(dataset, helpers):
    checked = 0
    for split in dataset.values():
        table = split.remove_columns("images").to_list()
        variants = {(r["scan"], r["variant"]): r for r in table}
        for row in table:
            labels = Labels(row["quality"], row["artifact"], row["severity"])
            question = Question(
                row["question_type"], row["messages"][0]["content"][-1]["text"], row["question_target"]
            )
            other = None
            if row["partner_variant"] is not None:
                partner = variants[(row["scan"], row["partner_variant"])]
                other = (
                    helpers.report_of(partner["metrics"]),
                    Labels(partner["quality"], partner["artifact"], partner["severity"]),
                )
            answer = row["messages"][1]["content"][0]["text"]
            result = check_grounding(answer, helpers.report_of(row["metrics"]), labels, question=question, other=other)
            assert result, (answer, result.problems)
            checked += 1
    assert checked == sum(len(s) for s in dataset.values())


def test_artifact_record_replays_the_simulated_scan(mrart, dataset):
    row = next(r for r in dataset["train"].remove_columns("images") if r["artifact_record"])
    record = ArtifactRecord.from_json(row["artifact_record"])
    assert (record.kind, record.severity) == (row["artifact"], row["severity"])
    clean = load_volume(mrart.root / f"{row['scan']}.nii.gz")
    from mmrqa.metrics import compute_metrics

    values = compute_metrics(replay(clean, record)).values
    stored = json.loads(row["metrics"])
    assert all((stored[k] is None) or stored[k] == values[k] for k in stored)


def test_card_round_trips_and_describes_the_build(mrart, dataset):
    from huggingface_hub import DatasetCard

    from dataset_builder.dataset_card import render_card
    from mmrqa.metrics import CATALOGUE

    text = (mrart.output / "README.md").read_text(encoding="utf-8")
    card = DatasetCard(text)
    assert DatasetCard(str(card)).data.to_dict() == card.data.to_dict()
    meta = card.data.to_dict()
    assert meta["license"] == "cc-by-4.0" and "image-text-to-text" in meta["task_categories"] and "mri" in meta["tags"]
    assert meta["configs"][0]["data_files"] == [
        {"split": s, "path": f"data/{s}-*"} for s in ("train", "validation", "test")
    ]
    info_splits = {s["name"]: s["num_examples"] for s in meta["dataset_info"]["splits"]}
    assert info_splits == {name: len(split) for name, split in dataset.items()}
    for needle in ["mr-art", "scores.tsv", "| motion |", "python -m dataset_builder", "artifacts_per_scan: 1"]:
        assert needle in card.text
    assert all(f"`{q}`" in card.text for q in QUESTION_TYPES)
    assert all(f"`{name}`" in card.text for name, info in CATALOGUE.items() if info.profile == "default")
    # rendering again from the same tables gives the same metadata, and that metadata survives str() -> parse
    import pyarrow.parquet as pq

    from dataset_builder.dataset_card import scan_summary

    tables = {s: pq.read_table(next((mrart.output / "data").glob(f"{s}-*.parquet"))) for s in dataset}
    summaries = {s: [scan_summary(t)] for s, t in tables.items()}
    rendered = render_card(
        mrart.config,
        summaries,
        source="mr-art",
        command="x",
        sources=[{"source": "mr-art", "scans": 1, "subjects": 1}],
    )
    again = rendered.data.to_dict()
    assert DatasetCard(str(rendered)).data.to_dict() == again
    for info in (again, meta):  # Arrow byte counts depend on chunking; everything else must match
        info["dataset_info"].pop("dataset_size")
        for split in info["dataset_info"]["splits"]:
            split.pop("num_bytes")
    assert again == meta
