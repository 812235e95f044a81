"""The pipeline with the tiny LLaVA-OneVision and a LoRA adapter trained on it: every input format end to end,
custom questions, the ablation switch, loading errors, ``mmrqa assess --model`` and ``mmrqa evaluate``.

The tiny model has random weights and 20 training steps: its answers are mostly gibberish. These tests check that
the whole path runs and that what comes out is well formed, never what the model concludes.
"""

from __future__ import annotations

import json
import shutil

import h5py
import numpy as np
import pytest

from mmrqa.cli import main
from mmrqa.data import load_sample, sample_path
from mmrqa.errors import ModelLoadError

pytest.importorskip("torch")
pytest.importorskip("peft")

TOKENS = 6


@pytest.fixture(scope="module")
def pipe(tiny_adapter_dir):
    from mmrqa.pipeline import MMRQAPipeline

    return MMRQAPipeline.from_pretrained(tiny_adapter_dir, max_new_tokens=TOKENS, batch_size=16)


def _metaimage(tmp_path):
    stored = np.asarray(load_sample("t1").data).astype("<i2")
    header = "ObjectType = Image\nNDims = 3\nDimSize = 33 41 25\nElementType = MET_SHORT\n"
    header += "BinaryDataByteOrderMSB = False\nElementSpacing = 2 2 2\nElementDataFile = t1.raw\n"
    (tmp_path / "t1.mhd").write_text(header)
    (tmp_path / "t1.raw").write_bytes(stored.transpose(2, 1, 0).tobytes())
    return tmp_path / "t1.mhd"


def _fastmri(tmp_path):
    epi = load_sample("epi").data
    path = tmp_path / "file_brain_rss.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("reconstruction_rss", data=np.moveaxis(epi, 2, 0)[:, :, :].astype(np.float32))
    return path


def _png(tmp_path):
    from mmrqa.render import render_slice

    path = tmp_path / "slice.png"
    render_slice(load_sample("epi"), 5).save(path)
    return path


def _dicom_folder(tmp_path):
    folder = tmp_path / "series"
    folder.mkdir()
    shutil.copy(sample_path("dicom_t2"), folder / "IM0001")
    return folder


SCANS = {
    "nifti": lambda tmp: sample_path("t1"),
    "dicom_file": lambda tmp: sample_path("dicom_t2"),
    "dicom_folder": _dicom_folder,
    "dicom_enhanced": lambda tmp: sample_path("dicom_enhanced"),
    "metaimage": _metaimage,
    "fastmri_h5": _fastmri,
    "png": _png,
}


@pytest.mark.parametrize("fmt", list(SCANS))
def test_pipeline_end_to_end_on_every_format(pipe, tmp_path, fmt):
    result = pipe(SCANS[fmt](tmp_path), slices=1)
    assert result.ok and result.mode == "model" and result.model.endswith("tiny-mmrqa-lora")
    assert len(result.slices) == 1 and set(result.slice_votes) == set(result.slices)
    standard = [a for a in result.answers if a.question_type in ("rating", "artifact_type", "usability", "report")]
    assert len(standard) == 4 * len(result.slices)
    assert all(isinstance(a.answer, str) for a in result.answers)
    assert result.rating in ("good", "medium", "bad")  # from the signal classifier where the answers do not parse
    assert set(result.sources) == {"rating", "usability", "artifacts"} and result.usability in ("usable", "repeat")
    assert {"loading", "metrics", "rendering", "generation"} <= set(result.timings)
    assert np.isfinite(result.metrics["efc"])
    json.loads(result.to_json())
    assert result.to_text().startswith("== ") and result.to_markdown().startswith("### ")


def test_custom_questions_are_asked_verbatim_and_bank_phrasings_are_parsed(pipe):
    questions = [
        "Is the fat suppression homogeneous?",
        "Rate the overall image quality of this MRI scan as good, medium or bad.",
    ]
    result = pipe(sample_path("t1"), questions=questions, slices=1)
    assert [a.question for a in result.answers] == questions
    assert [a.question_type for a in result.answers] == [None, "rating"]


def test_signal_summary_is_in_the_prompt_only_when_enhanced(pipe, monkeypatch):
    import mmrqa.pipeline.core as core_module

    seen = []
    real = core_module.generate

    def spy(loaded, prompts, **kwargs):
        seen.append(prompts[0][1]["content"][-1]["text"])
        return real(loaded, prompts, **kwargs)

    monkeypatch.setattr(core_module, "generate", spy)
    pipe(sample_path("t1"), slices=1, signal_enhanced=True)
    pipe(sample_path("t1"), slices=1, signal_enhanced=False)
    assert seen[0].startswith("Signal metrics: ") and "Signal metrics" not in seen[-1]


def test_adapter_changes_the_answers_and_generation_is_greedy(pipe):
    from mmrqa.pipeline.model import generate
    from mmrqa.render import render_slices

    _, images = render_slices(load_sample("t1"), 2)
    user = {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Rate the quality."}]}
    prompts = [([im], user) for im in images]
    first, n_tokens = generate(pipe.loaded, prompts, max_new_tokens=TOKENS)
    again, _ = generate(pipe.loaded, prompts, max_new_tokens=TOKENS)
    base, _ = generate(pipe.loaded, prompts, max_new_tokens=TOKENS, use_adapter=False)
    assert first == again and 0 < n_tokens <= 2 * TOKENS
    assert base != first
    assert generate(pipe.loaded, [], max_new_tokens=TOKENS) == ([], 0)


def test_loading_errors_are_model_load_errors(tmp_path, tiny_adapter_dir):
    from mmrqa.pipeline import MMRQAPipeline

    with pytest.raises(ModelLoadError, match="does not exist"):
        MMRQAPipeline.from_pretrained(tmp_path / "nothing")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelLoadError, match="neither an adapter"):
        MMRQAPipeline.from_pretrained(empty)
    pickled = tmp_path / "pickled-adapter"
    shutil.copytree(tiny_adapter_dir, pickled)
    (pickled / "adapter_model.safetensors").rename(pickled / "adapter_model.bin")
    with pytest.raises(ModelLoadError, match="safetensors"):
        MMRQAPipeline.from_pretrained(pickled)


def test_cli_assess_with_model_reports_and_handles_bad_files(tiny_adapter_dir, tmp_path, capsys):
    bad = tmp_path / "bad.nii.gz"
    bad.write_bytes(b"\x1f\x8b broken")
    argv = ["assess", str(sample_path("t1")), str(bad), "--model", str(tiny_adapter_dir), "--slices", "1"]
    code = main([*argv, "--max-new-tokens", str(TOKENS), "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 2 and any(line.startswith("error: ") and "bad.nii.gz" in line for line in err.splitlines())
    record = json.loads(out.splitlines()[0])
    assert record["mode"] == "model" and record["answers"] and record["source"].endswith("anatomical.nii")


@pytest.mark.slow
def test_cli_evaluate_scores_the_model_and_every_baseline(tiny_adapter_dir, eval_dataset_dir, tmp_path, capsys):
    out = tmp_path / "results.json"
    argv = ["evaluate", "--model", str(tiny_adapter_dir), "--dataset", str(eval_dataset_dir), "-o", str(out)]
    assert (
        main([*argv, "--max-new-tokens", str(TOKENS), "--limit", "14", "--bootstrap", "50", "--batch-size", "16"]) == 0
    )
    results = json.loads(out.read_text())
    systems = results["systems"]
    assert set(systems) == {
        "MMRQA (this model), signal-enhanced",
        "MMRQA (this model), signal summary removed (ablation)",
        "Base model zero-shot (adapter off)",
        "Signal-only classifier",
        "Majority class",
    }
    assert results["n_questions"] == 14 and results["signal_classifier"] == "fitted on the train split"
    assert set(results["question_types"]) >= {"rating", "presence", "artifact_type", "severity", "report"}
    model = systems["MMRQA (this model), signal-enhanced"]
    assert {"rating", "grounding"} <= set(model) and 0 <= model["rating"]["accuracy"] <= 1
    assert "metric_value" not in systems["Signal-only classifier"]
    assert systems["Majority class"]["rating"]["n"] == model["rating"]["n"]
    assert [entry["name"] for entry in results["model_index"]] == list(systems)
    # usability is scored (issue 16), for the model and the signal-only classifier alike
    assert "usability" in results["question_types"] and "usability" in model
    assert systems["Signal-only classifier"]["usability"]["n"] == model["usability"]["n"]
    # the parse rate per question type, for every system that generates text
    rates = results["parse_rate"]
    assert set(rates) == {name for name in systems if name.startswith(("MMRQA", "Base model"))}
    for rate in rates.values():
        assert set(rate) == set(results["question_types"]) and all(0 <= r <= 1 for r in rate.values())
    printed = capsys.readouterr().out
    assert "| Signal-only classifier |" in printed and "results written to" in printed
    assert "| Parse rate | rating |" in printed


def test_ask_one_question_about_one_slice(pipe):
    from mmrqa.data import load_sample
    from mmrqa.errors import InvalidArgumentError
    from mmrqa.metrics import compute_metrics
    from mmrqa.pipeline import MMRQAPipeline
    from mmrqa.render import render_slice

    volume = load_sample("t1")
    report, image = compute_metrics(volume), render_slice(volume, 12, "axial")
    answer = pipe.ask(
        "Rate the overall image quality of this MRI scan as good, medium or bad.", image, report, slice_index=12
    )
    assert answer.slice_index == 12 and answer.question_type == "rating" and isinstance(answer.answer, str)
    assert answer == pipe.ask(answer.question, image, report, slice_index=12)  # greedy: the same answer again
    with pytest.raises(InvalidArgumentError, match="no model"):
        MMRQAPipeline.metrics_only().ask("Is it usable?", image, report)
