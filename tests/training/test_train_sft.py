"""End-to-end LoRA SFT of the tiny LLaVA-OneVision with ``train_sft.py --config recipes/tiny-cpu.yaml``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("trl")

REPO_ROOT = Path(__file__).resolve().parents[2]
RECIPE = REPO_ROOT / "recipes" / "tiny-cpu.yaml"
FIRST_STEPS, RESUMED_STEPS = 20, 30


def _run(script, model_dir: Path, data_dir: Path, out: Path, *extra: str):
    argv = ["--config", str(RECIPE), "--model_name_or_path", str(model_dir), "--dataset_name", str(data_dir)]
    argv += ["--output_dir", str(out), "--save_steps", "10", "--eval_steps", "10", *extra]
    return script.main(*script.parse_args(argv))


@pytest.fixture(scope="module")
def trained(train_sft, tiny_model_dir, tiny_dataset_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "tiny-mmrqa-lora"
    trainer = _run(train_sft, tiny_model_dir, tiny_dataset_dir, out, "--max_steps", str(FIRST_STEPS))
    return trainer, out


def test_loss_goes_down_and_validation_is_evaluated(trained):
    trainer, _ = trained
    losses = [e["loss"] for e in trainer.state.log_history if "loss" in e]
    assert len(losses) >= 3
    assert losses[-1] < losses[0] - 0.3
    evals = [e["eval_loss"] for e in trainer.state.log_history if "eval_loss" in e]
    assert len(evals) >= 2 and evals[-1] < evals[0] + 1e-6
    assert trainer.state.global_step == FIRST_STEPS


def test_only_lora_weights_change(trained, tiny_model_dir):
    from mmrqa.modeling import load_base_model

    trainer, _ = trained
    base = {n: p.detach() for n, p in load_base_model(tiny_model_dir).named_parameters()}
    params = dict(trainer.model.named_parameters())
    lora = {n: p for n, p in params.items() if "lora_" in n}
    assert lora and all(p.requires_grad for p in lora.values())
    assert any(float(p.detach().abs().sum()) > 0 for n, p in lora.items() if "lora_B" in n)  # B starts at zero
    assert all("language_model" in n for n in lora)  # default scope: the language model only
    frozen = {n: p for n, p in params.items() if "lora_" not in n}
    compared = 0
    for name, value in frozen.items():
        assert not value.requires_grad, name
        key = name.removeprefix("base_model.model.").replace(".base_layer", "")
        if key in base:
            assert torch.equal(value.detach().cpu(), base[key]), f"base weight {name} changed"
            compared += 1
    assert compared == len(base)


def test_labels_cover_only_assistant_tokens(trained):
    trainer, _ = trained
    examples = [trainer.train_dataset[i] for i in range(3)]
    expected = [ex["messages"][-1]["content"][0]["text"] + "<|im_end|>" for ex in examples]
    batch = trainer.data_collator([dict(ex) for ex in examples])
    tokenizer = trainer.processing_class.tokenizer
    for row, labels, want in zip(batch["input_ids"], batch["labels"], expected, strict=True):
        kept = labels[labels != -100]
        assert tokenizer.decode(kept) == want
        assert torch.equal(kept, row[labels != -100])
        assert tokenizer.convert_tokens_to_ids("<image>") not in kept.tolist()


def _greedy(model, processor, example, max_new_tokens=8):
    messages = [example["messages"][0]]
    prompt = processor.apply_chat_template(messages, add_generation_prompt=True)
    inputs = processor(images=example["images"], text=prompt, return_tensors="pt")
    with torch.no_grad():
        out = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
    return out[0, inputs["input_ids"].shape[1] :]


def test_adapter_reloads_generates_and_merges_identically(trained, tiny_model_dir, tiny_dataset_dir):
    from datasets import load_dataset
    from peft import PeftModel

    from mmrqa.modeling import load_base_model, load_processor

    _, out = trained
    processor = load_processor(out)
    example = load_dataset(str(tiny_dataset_dir), split="validation")[0]
    model = PeftModel.from_pretrained(load_base_model(tiny_model_dir), str(out)).eval()
    adapted = _greedy(model, processor, example)
    assert adapted.numel() > 0
    base_tokens = _greedy(load_base_model(tiny_model_dir).eval(), processor, example)
    merged = model.merge_and_unload().eval()
    assert torch.equal(_greedy(merged, processor, example), adapted)
    assert not torch.equal(base_tokens, adapted)  # the adapter changes what the model says


def test_card_renders_with_metadata_round_trip(trained):
    from huggingface_hub import ModelCard, metadata_load

    trainer, out = trained
    readme = out / "README.md"
    meta = metadata_load(readme)
    assert meta["library_name"] == "peft" and "mmrqa" in meta["tags"] and "tiny-test-model" in meta["tags"]
    results = meta["model-index"][0]["results"][0]
    loss = {m["type"]: m["value"] for m in results["metrics"]}["loss"]
    assert loss == pytest.approx(trainer.final_eval_metrics["eval_loss"], rel=1e-5)
    assert results["dataset"]["split"] == "validation"
    card = ModelCard.load(readme)
    again = ModelCard(str(card))
    assert again.data.to_dict() == card.data.to_dict()
    text = card.text
    for needle in ("tiny demonstration model", "Not for clinical use", "tiny-cpu.yaml", "arXiv:2509.24888"):
        assert needle in text
    for cite in ("sadri2020mrqy", "esteban2017mriqc", "li2024llavaonevision", "PeftModel.from_pretrained"):
        assert cite in text
    assert "training loss, first logged" in text and "learning_rate" in text


@pytest.mark.hub
def test_resume_continues_steps_and_pushes_adapter_with_card(
    train_sft, trained, tiny_model_dir, tiny_dataset_dir, hub, tmp_path
):
    from huggingface_hub import HfApi, hf_hub_download

    _, first_out = trained
    out = tmp_path / "resumed"
    shutil.copytree(first_out, out)
    repo_id = "mmrqa-tester/tiny-mmrqa-lora"
    extra = ["--max_steps", str(RESUMED_STEPS), "--resume_from_checkpoint", "last"]
    trainer = _run(
        train_sft, tiny_model_dir, tiny_dataset_dir, out, *extra, "--push_to_hub", "true", "--hub_model_id", repo_id
    )
    assert trainer.state.global_step == RESUMED_STEPS
    new_steps = [e["step"] for e in trainer.state.log_history if "loss" in e and e["step"] > FIRST_STEPS]
    assert new_steps and min(new_steps) > FIRST_STEPS
    assert (out / f"checkpoint-{RESUMED_STEPS}").is_dir()

    files = set(HfApi(endpoint=hub.endpoint, token=hub.token).list_repo_files(repo_id))
    assert {"adapter_model.safetensors", "adapter_config.json", "README.md", "processor_config.json"} <= files
    assert not any(f.startswith("checkpoint-") for f in files)
    readme = hf_hub_download(repo_id, "README.md", token=hub.token)
    assert Path(readme).read_text() == (out / "README.md").read_text()
    assert "tiny demonstration model" in Path(readme).read_text()
