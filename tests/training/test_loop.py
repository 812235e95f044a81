"""The loop proven end to end: dataset builder -> ``train_sft.py`` -> ``mmrqa evaluate`` and ``MMRQAPipeline``.

The classic "can it overfit one batch" check. The project's dataset builder makes 20 conversations from one packaged
sample scan (pydicom's real T2 slice: the clean scan and three simulated artifacts, five question types each);
``train_sft.py`` LoRA-tunes the tiny LLaVA-OneVision on them with its real code path (``--config
recipes/tiny-cpu.yaml``, more steps) until it reproduces them; then the answers it was trained on must come back
parsed and correct through ``mmrqa evaluate`` (accuracy >= 0.95 per question type) and through
``MMRQAPipeline.from_pretrained(adapter)`` on the same scans (rating, usability and artifacts from the model, none
from the signal fallback). A fault anywhere between the dataset and the parsed verdict (labels, chat template, image
tokens, generation prompt, parsing) breaks one of them: breaking the generation prompt drops the evaluated accuracy
to 0 (measured when this test was written).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("trl")

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE = "dicom_t2"
QUESTION_TYPES = ("rating", "presence", "artifact_type", "severity", "usability")  # those of dicom_t2_questions
#: the tiny recipe with enough steps to reproduce 20 examples (loss 4.4 -> 0.06 in 200 steps at batch 4, ~16 s)
OVERFIT = ["--max_steps", "200", "--per_device_train_batch_size", "4", "--learning_rate", "1e-2"]
OVERFIT += ["--eval_strategy", "no", "--save_strategy", "no", "--logging_steps", "20"]
MIN_ACCURACY = 0.95


@pytest.fixture(scope="module")
def handful(dicom_t2_questions) -> Path:
    """20 examples built by the dataset builder from one sample scan: train split only (one subject)."""
    return dicom_t2_questions


@pytest.fixture(scope="module")
def adapter(train_sft, tiny_model_dir, handful, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("loop-run") / "adapter"
    argv = ["--config", str(REPO_ROOT / "recipes" / "tiny-cpu.yaml"), "--model_name_or_path", str(tiny_model_dir)]
    argv += ["--dataset_name", str(handful), "--output_dir", str(out), *OVERFIT]
    trainer = train_sft.main(*train_sft.parse_args(argv))
    losses = [e["loss"] for e in trainer.state.log_history if "loss" in e]
    assert losses[-1] < 0.3, f"the tiny model did not fit the handful of examples: losses {losses}"
    return out


def test_evaluate_gives_back_the_trained_answers_parsed_and_correct(adapter, handful, tmp_path, capsys):
    from datasets import load_dataset

    from mmrqa.cli import main as mmrqa
    from mmrqa.pipeline import interpret

    results = tmp_path / "results.json"
    argv = ["evaluate", "--model", str(adapter), "--dataset", str(handful), "--split", "train"]
    assert mmrqa([*argv, "--no-baselines", "--bootstrap", "0", "-o", str(results)]) == 0
    report = json.loads(results.read_text())
    assert report["n_questions"] == 20 and set(report["question_types"]) == set(QUESTION_TYPES)
    (system,) = report["systems"].values()
    scored = {name: s["accuracy"] for name, s in system.items() if isinstance(s, dict) and "accuracy" in s}
    assert {"rating", "presence", "artifact", "severity"} <= set(scored), scored
    assert all(value >= MIN_ACCURACY for value in scored.values()), scored
    # every answer parses to the dataset's own parsed answer (usability included)
    (answers,) = report["answers"].values()
    rows = load_dataset(str(handful), split="train")
    for row, answer in zip(rows, answers, strict=True):
        question = interpret.classify_question(row["messages"][0]["content"][-1]["text"])
        truth = interpret.parse(question, row["messages"][1]["content"][0]["text"])
        assert truth is not None and interpret.parse(question, answer) == truth, (question, answer)


def test_pipeline_from_the_adapter_gives_the_trained_verdicts(adapter, handful):
    from datasets import load_dataset

    from mmrqa import MMRQAPipeline
    from mmrqa.artifacts import replay
    from mmrqa.data import load_sample
    from mmrqa.qa.labels import is_usable, quality_word

    pipe = MMRQAPipeline.from_pretrained(adapter)
    clean = load_sample(SAMPLE)
    variants: dict[str, list[dict]] = {}
    for row in load_dataset(str(handful), split="train"):
        variants.setdefault(row["variant"], []).append(row)
    assert len(variants) == 4
    for name, rows in variants.items():
        record = rows[0]["artifact_record"]
        volume = replay(clean, json.loads(record)) if record else clean  # bit-identical to the builder's copy
        questions = [r["messages"][0]["content"][-1]["text"].splitlines()[-1] for r in rows]
        assessment = pipe(volume, questions=questions, slices=1)
        quality, artifact = rows[0]["quality"], rows[0]["artifact"]
        assert assessment.rating == quality_word(quality), (name, assessment.answers)
        assert assessment.usability == ("usable" if is_usable(quality) else "repeat"), name
        assert [a.kind for a in assessment.artifacts] == ([] if artifact == "none" else [artifact]), name
        assert all(source == "model" for source in assessment.sources.values()), (name, assessment.sources)
        assert set(assessment.sources) >= {"rating", "usability", "artifacts"}
