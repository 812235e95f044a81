"""Every YAML under ``recipes/`` parses with the parser that reads it, so a recipe that cannot start is caught on CPU.

Training recipes go through ``train_sft.py``'s own ``TrlParser`` (an argument transformers/TRL no longer accept, such
as ``warmup_ratio`` in transformers 5, fails here), with the flags that need a GPU turned off by override; dataset
build settings through ``dataset_builder.load_config``; accelerate launch configs through accelerate's loader.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
RECIPES = sorted((REPO_ROOT / "recipes").rglob("*.yaml"))
#: flags whose recipe value needs a GPU (bf16 autocast, TF32 matmuls); everything else is parsed as written.
GPU_OFF = ["--bf16", "false", "--tf32", "false", "--use_cpu", "true"]


def _kind(path: Path) -> str:
    import yaml

    keys = set(yaml.safe_load(path.read_text(encoding="utf-8")))
    if "distributed_type" in keys:
        return "accelerate"
    if "kinds" in keys or "artifacts_per_scan" in keys:
        return "dataset build"
    if "model_name_or_path" in keys:
        return "training"
    raise AssertionError(f"{path.name}: not a training recipe, a build config or an accelerate config")


def test_the_recipes_folder_holds_every_kind():
    kinds = {_kind(path) for path in RECIPES}
    assert kinds == {"training", "dataset build", "accelerate"}
    cpu = {"tiny-cpu.yaml", "mini-cpu.yaml", "mini-pretrain.yaml"}
    assert cpu <= {p.name for p in RECIPES}
    gpu = [p.name for p in RECIPES if _kind(p) == "training" and p.name not in cpu]
    assert gpu == ["llava-onevision-0.5b-lora.yaml", "llava-onevision-7b-lora.yaml"]


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: str(p.relative_to(REPO_ROOT / "recipes")))
def test_recipe_parses(path, request, tmp_path):
    kind = _kind(path)
    if kind == "dataset build":
        from dataset_builder import load_config

        assert load_config(path).seed >= 0
        return
    if kind == "accelerate":
        from accelerate.commands.config.config_args import load_config_from_file

        config = load_config_from_file(str(path))
        assert config.num_processes >= 1 and str(config.mixed_precision) == "bf16"
        return
    train_sft = request.getfixturevalue("train_sft")
    argv = ["--config", str(path), "--dataset_name", str(tmp_path), "--output_dir", str(tmp_path / "out")]
    script_args, training_args, model_args = train_sft.parse_args(argv + GPU_OFF)
    assert script_args.recipe == path.name
    # every recipe fine-tunes with LoRA except the mini base's pretraining from random weights (full training)
    assert model_args.use_peft == (path.name != "mini-pretrain.yaml") and training_args.assistant_only_loss
    assert model_args.lora_r > 0
    assert training_args.learning_rate > 0 and training_args.max_length >= 1024
    # a warm-up given as a fraction (< 1) is that share of the steps: 3% of 1000 steps is 30
    warmup = training_args.warmup_steps
    assert training_args.get_warmup_steps(1000) == (round(1000 * warmup) if warmup < 1 else int(warmup))
