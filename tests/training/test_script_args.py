"""``train_sft.py`` argument validation and the two accepted message formats."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("trl")
REPO_ROOT = Path(__file__).resolve().parents[2]


def test_recipe_parses_and_names_itself(train_sft, tmp_path):
    script_args, training_args, model_args = train_sft.parse_args(
        ["--config", str(REPO_ROOT / "recipes" / "tiny-cpu.yaml"), "--dataset_name", str(tmp_path)]
    )
    assert script_args.recipe == "tiny-cpu.yaml" and script_args.tiny_model
    assert training_args.assistant_only_loss and not training_args.bf16 and model_args.use_peft


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "dataset_name is required"),
        (["--dataset_name", "d", "--dataset_test_split", "train"], "must differ"),
        (["--dataset_name", "d", "--model_card_template", "/nonexistent.md"], "does not exist"),
    ],
)
def test_invalid_arguments_are_rejected(train_sft, argv, message):
    from mmrqa.errors import InvalidArgumentError

    with pytest.raises(InvalidArgumentError, match=message):
        train_sft.parse_args(["--output_dir", "x", *argv])


@pytest.mark.parametrize("parts", [True, False])
def test_both_message_formats_collate_with_assistant_only_labels(tiny_model_dir, tmp_path, parts):
    from datasets import load_dataset
    from trl.trainer.sft_trainer import DataCollatorForVisionLanguageModeling

    from mmrqa.modeling import load_processor

    sys.path.insert(0, str(Path(__file__).parent))
    from conftest import write_hub_dataset

    data = load_dataset(str(write_hub_dataset(tmp_path / "ds", parts=parts)), split="validation")
    processor = load_processor(tiny_model_dir)
    collator = DataCollatorForVisionLanguageModeling(processor, assistant_only_loss=True)
    batch = collator([{"images": ex["images"], "messages": ex["messages"]} for ex in data.select(range(2))])
    image_id = processor.image_token_id
    assert int((batch["input_ids"] == image_id).sum()) > 0
    for labels in batch["labels"]:
        decoded = processor.tokenizer.decode(labels[labels != -100])
        assert decoded.startswith("The quality is") and decoded.endswith("<|im_end|>")
