"""The MMRQA paper's table: every row in order, a row that could not be computed says why, and the writers put the
table where a reader finds it (the model card's evaluation section, the marked section of RESULTS.md)."""

from __future__ import annotations

import pytest

from mmrqa.evaluation import evaluate_predictions
from mmrqa.evaluation.driver import MAJORITY, MODEL, SIGNAL, SYSTEMS, TRAINED_WITHOUT, UNSEEN
from mmrqa.evaluation.reporting import RESULTS_BEGIN, RESULTS_END, paper_table, write_results_section

REF = {
    "rating": ["good", "bad", "medium", "good", "bad", "good"],
    "presence": ["no", "yes", "yes", "no", "yes", "no"],
    "usability": ["usable", "repeat", "usable", "usable", "repeat", "usable"],
}
CLUSTERS = {k: ["s1", "s1", "s2", "s2", "s3", "s3"] for k in REF}


def _result() -> dict:
    model = {"rating": ["good", "bad", None, "good", "bad", "medium"], "presence": REF["presence"]}
    model["usability"] = REF["usability"]
    majority = {k: [v[0]] * len(v) for k, v in REF.items()}
    systems = {
        MODEL: evaluate_predictions(model, REF, n_resamples=100, clusters=CLUSTERS),
        SIGNAL: evaluate_predictions(
            {"rating": REF["rating"]},
            {"rating": REF["rating"]},
            n_resamples=100,
            clusters={"rating": CLUSTERS["rating"]},
        ),
        MAJORITY: evaluate_predictions(majority, REF, n_resamples=100, clusters=CLUSTERS),
    }
    return {
        "dataset": "/somewhere/demo_dataset",
        "split": "test",
        "n_questions": 18,
        "n_clusters": 3,
        "cluster_by": "subject",
        "n_resamples": 100,
        "systems": systems,
        "parse_rate": {MODEL: {"rating": 5 / 6, "presence": 1.0, "usability": 1.0}},
        "not_computed": {TRAINED_WITHOUT: "no model trained without summaries was given", UNSEEN: "TCIA absent"},
        "table": "| System | ... |",
    }


def test_the_table_has_every_row_in_the_papers_order_and_says_why_a_row_is_missing():
    table = paper_table(_result(), SYSTEMS)
    lines = [line for line in table.splitlines() if line.startswith("| ")]
    header, rows = lines[0], lines[1:]
    for title in ("Rating accuracy", "Artifact presence accuracy", "Artifact type accuracy", "Severity accuracy"):
        assert title in header
    assert "Usability accuracy" in header and "Parse rate: rating" in header and "Parse rate: usability" in header
    assert "Comparison" not in header  # no system scored comparison questions: no empty column
    assert [row.split(" | ")[1] for row in rows] == list(SYSTEMS)
    assert [row.split(" | ")[0] for row in rows] == [f"| {i}" for i in range(1, len(SYSTEMS) + 1)]
    model = rows[0].split(" | ")
    assert model[2].startswith("0.67 [") and model[-1].startswith("1.00")  # 4 of 6 right; rating parse 5/6 -> 0.83
    assert "0.83" in rows[0]
    assert "not computed: no model trained without summaries was given" in rows[2]
    assert "not computed: TCIA absent" in rows[6]
    assert "not computed: not run" in rows[3]  # the base model: no reason given, none invented
    assert "0." not in rows[2] and "0." not in rows[6]  # a row that was not computed shows no number
    signal = rows[4].split(" | ")
    assert signal[2].startswith("1.00") and signal[3] == "n/a" and signal[-1] == "— |"  # not a text model
    assert "cluster** bootstrap" in table and "3 subjects (held out" in table and "100 resamples" in table


def test_results_section_is_written_once_and_replaced_by_a_rerun(tmp_path):
    results_md = tmp_path / "RESULTS.md"
    results_md.write_text("# Results\n\n## Evaluation\n\nolder text\n\n## Reliability\n\nkept\n")
    result = _result()
    result["paper_table"] = paper_table(result, SYSTEMS)
    write_results_section(results_md, result, title="### The MMRQA table")
    first = results_md.read_text()
    assert first.count(RESULTS_BEGIN) == 1 and first.count(RESULTS_END) == 1
    assert first.index("## Reliability") < first.index(RESULTS_BEGIN)  # appended: no section was marked yet
    # a reader moves the marked section under its heading once; reruns then replace it in place
    block = first[first.index(RESULTS_BEGIN) : first.index(RESULTS_END) + len(RESULTS_END)]
    moved = first.replace(block, "").rstrip().replace("older text", block) + "\n"
    results_md.write_text(moved)
    result["systems"][MODEL]["rating"]["accuracy"] = 0.5
    result["paper_table"] = paper_table(result, SYSTEMS)
    write_results_section(results_md, result, title="### The MMRQA table")
    second = results_md.read_text()
    assert second.count(RESULTS_BEGIN) == 1 and "| 1 | " + MODEL + " | 0.50 [" in second
    assert second.index(RESULTS_BEGIN) < second.index("## Reliability") and second.endswith("kept\n")
    assert "### The MMRQA table" in second and "Every headline score" in second


def test_the_model_card_shows_the_table_under_its_evaluation_heading(tmp_path):
    pytest.importorskip("huggingface_hub")
    from huggingface_hub import ModelCard

    from mmrqa.evaluation import model_index
    from mmrqa.model_card import add_evaluation_to_card

    card = tmp_path / "README.md"
    card.write_text("---\nlicense: apache-2.0\nmodel_name: demo\n---\n# demo\n\nSome text.\n")
    result = _result()
    result["paper_table"] = paper_table(result, SYSTEMS)
    result["model_index"] = model_index(result["systems"], dataset_name="demo", dataset_type="demo")
    add_evaluation_to_card(card, result)
    add_evaluation_to_card(card, result)  # a second evaluation replaces the first
    text = card.read_text()
    assert text.count("## Evaluation against baselines") == 1 and text.count("The MMRQA table") == 1
    assert text.index("Some text.") < text.index("| 1 | " + MODEL)
    assert "not computed: TCIA absent" in text
    assert ModelCard(text).data.to_dict()["model-index"][0]["name"] == "demo"


def test_a_single_held_out_subject_is_said_plainly():
    result = dict(_result(), cluster_by="volume", n_clusters=17, n_subjects=1)
    caption = paper_table(result, SYSTEMS).splitlines()[-1]
    assert "volumes (a scan or one simulated copy of it) are resampled" in caption
    assert "The split holds 1 subject: the intervals show how the scores vary over its 17 volumes" in caption


def test_a_rendered_card_gets_the_table_inside_its_evaluation_section(tmp_path):
    pytest.importorskip("huggingface_hub")
    from mmrqa.evaluation import model_index
    from mmrqa.model_card import add_evaluation_to_card, render_model_card

    card = render_model_card(
        model_id="demo-adapter",
        base_model="demo_output/mini-base",
        dataset="demo_output/dataset",
        recipe="recipes/tiny-cpu.yaml",
        hyperparameters={"learning_rate": 0.01},
        lora={"r": 8, "alpha": 16, "dropout": 0.0, "target_modules": "q_proj"},
    )
    path = tmp_path / "README.md"
    card.save(path)
    assert "Not yet evaluated against the baselines" in path.read_text()
    result = _result()
    result["paper_table"] = paper_table(result, SYSTEMS)
    result["model_index"] = model_index(result["systems"], dataset_name="demo", dataset_type="demo")
    add_evaluation_to_card(path, result)
    text = path.read_text()
    assert "Not yet evaluated" not in text
    table_at = text.index("| 1 | " + MODEL)
    assert text.index("## Evaluation") < text.index("### Evaluation against baselines") < table_at
    assert table_at < text.index("## Intended use and limitations")


def test_the_caption_names_the_held_out_subjects_what_the_baselines_were_fitted_on_and_the_best_constant():
    own = {"rating": "good", "presence": "no", "usability": "usable"}
    scores = evaluate_predictions(
        {k: [v] * len(REF[k]) for k, v in own.items()}, REF, n_resamples=100, clusters=CLUSTERS
    )
    result = dict(
        _result(),
        split="all",
        dataset="/somewhere/dataset-heldout",
        subjects=["s1", "s2", "s3"],
        n_subjects=3,
        majority_fitted_on="the train split of /somewhere/demo_dataset",
        majority_of_scored={"answers": own, "scores": scores},
    )
    caption = paper_table(result, SYSTEMS).splitlines()[-1]
    assert caption.startswith(
        "Accuracy on every split of `dataset-heldout`: 18 questions about 3 subjects (held out: "
    )
    assert "(held out: s1, s2, s3; questions per field" in caption and "the subjects are resampled" in caption
    assert "fitted on the train split of `demo_dataset`." in caption and "/somewhere" not in caption
    # the best constant answer on the scored answers: "good" is right for 3 of the 6 ratings
    assert "the scored answers themselves" in caption and "rating 0.50 [" in caption and "(`good`)" in caption
    assert "The split holds" not in caption  # several subjects: nothing to excuse

    volumes = dict(result, cluster_by="volume", n_clusters=12)
    assert "(held out: 3 subjects, s1, s2, s3;" in paper_table(volumes, SYSTEMS).splitlines()[-1]
    many = dict(result, subjects=[f"s{i}" for i in range(40)], n_subjects=40, n_clusters=40)
    assert "(held out; questions per field" in paper_table(many, SYSTEMS).splitlines()[-1]
