"""Fixtures of the pipeline tests: the tiny model, a LoRA adapter on it (made with peft), and a small
Hub-layout MMRQA dataset built from real scans with simulated artifacts.

The dataset is made the way the dataset builder publishes one (``data/<split>-00000-of-00001.parquet`` + README.md
with ``configs``; columns images, messages, subject, source, scan, slice_index, quality, artifact, severity,
metrics) directly with ``mmrqa.artifacts``, ``mmrqa.metrics``, ``mmrqa.render`` and ``mmrqa.qa``: subject-level
splits, train = nibabel's T1 brain, test = dipy's EPI b0, each clean and with four artifact kinds at two severities.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SPLITS = {"train": "t1", "test": "epi"}
CORRUPTIONS = [("noise", s) for s in ("mild", "severe")] + [("ghosting", "moderate"), ("blur", "severe")]
CORRUPTIONS += [("bias_field", "mild"), ("spike", "severe")]
QUESTION_TYPES = ("rating", "presence", "artifact_type", "severity", "metric_value", "usability", "report")
_CARD = """---
license: other
configs:
- config_name: default
  data_files:
  - split: train
    path: data/train-*
  - split: test
    path: data/test-*
---
# Tiny MMRQA evaluation set (test fixture)
"""


def _rows(sample: str, seed: int) -> dict[str, list]:
    from mmrqa.artifacts import simulate
    from mmrqa.data import load_sample
    from mmrqa.metrics import compute_metrics
    from mmrqa.qa import Labels, make_conversations
    from mmrqa.render import render_slices

    clean = load_sample(sample)
    rows: dict[str, list] = {k: [] for k in ("images", "messages", "subject", "source", "scan", "slice_index")}
    rows.update({k: [] for k in ("quality", "artifact", "severity", "metrics")})
    for k, (kind, severity) in enumerate([("noise", "none"), *CORRUPTIONS]):
        volume, record = simulate(clean, kind, severity, seed + k)
        report = compute_metrics(volume)
        labels = Labels.from_record(record)
        (index,), (image,) = render_slices(volume, 1)
        for ex in make_conversations([image], report, labels, seed=seed + k, question_types=QUESTION_TYPES):
            rows["images"].append(ex["images"])
            rows["messages"].append(ex["messages"])
            rows["subject"].append(sample)
            rows["source"].append("simulated")
            rows["scan"].append(f"{sample}-{record.kind}-{record.severity}")
            rows["slice_index"].append(index)
            rows["quality"].append(labels.quality)
            rows["artifact"].append(labels.artifact)
            rows["severity"].append(labels.severity)
            rows["metrics"].append(report.to_json())
    return rows


def write_eval_dataset(directory: Path) -> Path:
    from datasets import Dataset, Features, Image, List, Value

    part = {"type": Value("string"), "text": Value("string")}
    features = Features(
        {
            "images": List(Image()),
            "messages": List({"role": Value("string"), "content": List(part)}),
            **{k: Value("string") for k in ("subject", "source", "scan")},
            "slice_index": Value("int32"),
            "quality": Value("int8"),
            "artifact": Value("string"),
            "severity": Value("string"),
            "metrics": Value("string"),
        }
    )
    (directory / "data").mkdir(parents=True, exist_ok=True)
    for seed, (split, sample) in enumerate(SPLITS.items()):
        rows = _rows(sample, seed * 100)
        for messages in rows["messages"]:  # Arrow needs every part to carry both keys
            for message in messages:
                message["content"] = [{"type": p["type"], "text": p.get("text")} for p in message["content"]]
        path = directory / "data" / f"{split}-00000-of-00001.parquet"
        Dataset.from_dict(rows, features=features).to_parquet(path)
    (directory / "README.md").write_text(_CARD)
    return directory


@pytest.fixture(scope="session")
def eval_dataset_dir(tmp_path_factory) -> Path:
    pytest.importorskip("datasets")
    pytest.importorskip("dipy")
    return write_eval_dataset(tmp_path_factory.mktemp("mmrqa-eval-dataset"))


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    pytest.importorskip("torch")
    from mmrqa.modeling import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-llava-onevision"), seed=0)


@pytest.fixture(scope="session")
def tiny_adapter_dir(tiny_model_dir, tmp_path_factory) -> Path:
    """A LoRA adapter on the tiny model's language model, made with peft and saved as safetensors.

    Its ``lora_B`` weights are seeded random (PEFT initialises them to zero, which would make the adapter a no-op),
    so switching it off changes the answers. ``train_sft.py`` itself is tested in tests/training.
    """
    peft = pytest.importorskip("peft")
    import torch

    from mmrqa.modeling import load_base_model, load_processor, lora_target_regex

    out = tmp_path_factory.mktemp("adapter") / "tiny-mmrqa-lora"
    config = peft.LoraConfig(r=8, lora_alpha=16, target_modules=lora_target_regex(), lora_dropout=0.0)
    model = peft.get_peft_model(load_base_model(tiny_model_dir), config)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.copy_(torch.randn(param.shape, generator=generator) * 0.5)
    model.save_pretrained(out)
    load_processor(tiny_model_dir).save_pretrained(out)
    adapter_config = json.loads((out / "adapter_config.json").read_text())
    assert Path(adapter_config["base_model_name_or_path"]) == tiny_model_dir
    assert (out / "adapter_model.safetensors").is_file()
    return out
