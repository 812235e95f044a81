"""LoRA supervised fine-tuning of LLaVA-OneVision on MMRQA conversations, TRL style.

Usage (a recipe holds the hyperparameters; any flag overrides it):

    python train_sft.py --config recipes/tiny-cpu.yaml --dataset_name path/or/hub-id --output_dir out
    accelerate launch --config_file recipes/accelerate/zero2.yaml train_sft.py --config recipes/llava-onevision-7b-lora.yaml

The dataset (Hub id or local folder in Hub layout) needs ``images`` + ``messages`` columns (format in the
``mmrqa.modeling`` docstring) and ``train``/``validation`` splits; other columns are ignored. At the end the adapter,
the processor and a model card (README.md, rendered from ``model_card.md``) are written to ``--output_dir``, and
pushed with ``--push_to_hub``. ``--resume_from_checkpoint last`` continues from the newest checkpoint.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from datasets import load_dataset
from trl import ModelConfig, ScriptArguments, SFTConfig, SFTTrainer, TrlParser, get_peft_config

from mmrqa.errors import InvalidArgumentError, MMRQAError
from mmrqa.fileio import write_text_atomic
from mmrqa.hub import push_with_retries
from mmrqa.model_card import render_model_card
from mmrqa.modeling import DEFAULT_BASE_MODEL, load_base_model, load_processor, lora_target_regex

# huggingface_hub's card classes are imported where the final card is written.

logger = logging.getLogger("train_sft")
TRAIN_COLUMNS = ["images", "messages"]


@dataclass
class MMRQAScriptArguments(ScriptArguments):
    """Data and LoRA-scope arguments (hyperparameters live in ``SFTConfig``, model/LoRA in ``ModelConfig``)."""

    dataset_test_split: str = field(default="validation", metadata={"help": "Split evaluated during training."})
    lora_include_projector: bool = field(default=False, metadata={"help": "Also LoRA-tune the multimodal projector."})
    lora_include_vision_tower: bool = field(default=False, metadata={"help": "Also LoRA-tune the SigLIP encoder."})
    model_card_template: str = field(
        default=str(Path(__file__).resolve().parent / "model_card.md"), metadata={"help": "Jinja model card template."}
    )
    recipe: str | None = field(default=None, metadata={"help": "Recipe name for the model card (set from --config)."})
    tiny_model: bool = field(
        default=False, metadata={"help": "The base is the random tiny test model (card says so)."}
    )

    def __post_init__(self):
        if not self.dataset_name:
            raise InvalidArgumentError("--dataset_name is required (a Hub dataset id or a local folder in Hub layout)")
        if self.dataset_train_split == self.dataset_test_split:
            raise InvalidArgumentError(f"train and test split are both {self.dataset_train_split!r}; they must differ")
        if not Path(self.model_card_template).is_file():
            raise InvalidArgumentError(f"--model_card_template {self.model_card_template} does not exist")


def load_splits(script_args: MMRQAScriptArguments, training_args: SFTConfig):
    """Load the train split and, when evaluation is on and the split exists, the test split (images+messages only)."""
    dataset = load_dataset(script_args.dataset_name, name=script_args.dataset_config)
    for split in dataset.values():
        missing = [c for c in TRAIN_COLUMNS if c not in split.column_names]
        if missing:
            raise InvalidArgumentError(f"dataset {script_args.dataset_name} lacks column(s) {missing}")
    if script_args.dataset_train_split not in dataset:
        raise InvalidArgumentError(
            f"dataset {script_args.dataset_name} has no split {script_args.dataset_train_split}"
        )
    train = dataset[script_args.dataset_train_split].select_columns(TRAIN_COLUMNS)
    evaluate = training_args.eval_strategy != "no" and script_args.dataset_test_split in dataset
    return train, dataset[script_args.dataset_test_split].select_columns(TRAIN_COLUMNS) if evaluate else None


def resolve_checkpoint(value: str | None, output_dir: str) -> str | None:
    """``last``/``true`` -> the newest complete ``checkpoint-N`` in ``output_dir`` (None if there is none); a path
    as is."""
    if value is None or str(value).lower() in {"false", "none", ""}:
        return None
    if str(value).lower() in {"last", "true"}:
        return last_complete_checkpoint(output_dir)
    return value


def last_complete_checkpoint(output_dir: str) -> str | None:
    """The newest ``checkpoint-N`` whose ``trainer_state.json`` (the Trainer writes it last) is whole JSON.

    A run killed while writing a checkpoint leaves a partial folder that ``get_last_checkpoint`` would pick and the
    resume would then fail on; it is skipped (and rewritten when training reaches that step again).
    """
    if not Path(output_dir).is_dir():
        return None
    candidates = sorted(Path(output_dir).glob("checkpoint-*"), key=_step, reverse=True)
    for folder in candidates:
        try:
            json.loads((folder / "trainer_state.json").read_text(encoding="utf-8"))["global_step"]
        except (OSError, ValueError, KeyError, TypeError):
            logger.warning("skipping incomplete checkpoint %s (killed while it was written)", folder)
            continue
        return str(folder)
    return None


def _step(folder: Path) -> int:
    suffix = folder.name.removeprefix("checkpoint-")
    return int(suffix) if suffix.isdigit() else -1


def write_model_card(trainer, script_args, training_args, model_args, eval_metrics):
    """Render README.md in the output folder from the template, the run's settings, log and evaluation."""
    hyper = {k: getattr(training_args, k) for k in ("learning_rate", "num_train_epochs", "max_steps", "seed")}
    hyper.update(
        per_device_train_batch_size=training_args.per_device_train_batch_size,
        gradient_accumulation_steps=training_args.gradient_accumulation_steps,
        lr_scheduler_type=str(training_args.lr_scheduler_type.value),
        max_length=training_args.max_length,
        bf16=training_args.bf16,
        assistant_only_loss=training_args.assistant_only_loss,
    )
    lora = {"r": model_args.lora_r, "alpha": model_args.lora_alpha, "dropout": model_args.lora_dropout}
    lora["target_modules"] = model_args.lora_target_modules
    card = render_model_card(
        model_id=training_args.hub_model_id or Path(training_args.output_dir).name,
        base_model=model_args.model_name_or_path,
        dataset=script_args.dataset_name,
        recipe=script_args.recipe,
        hyperparameters=hyper,
        lora=lora,
        log_history=trainer.state.log_history,
        eval_metrics=eval_metrics,
        eval_split=script_args.dataset_test_split,
        is_tiny=script_args.tiny_model,
        n_params=trainer.model.get_base_model().num_parameters() if model_args.use_peft else None,
        template_path=script_args.model_card_template,
    )
    write_text_atomic(Path(training_args.output_dir) / "README.md", str(card))
    return card


def save_final(trainer: SFTTrainer, processor, output_dir: str) -> None:
    """Save the adapter (safetensors + config) and the processor crash-safely: into a hidden staging folder inside
    ``output_dir``, then each file renamed into place (``os.replace`` is atomic), so a kill leaves every file either
    old or new, never torn. Checkpoints are not touched."""
    output = Path(output_dir)
    output.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=output, prefix=".final-"))
    try:
        trainer.save_model(str(staging))
        processor.save_pretrained(str(staging))
        for file in sorted(p for p in staging.rglob("*") if p.is_file()):
            target = output / file.relative_to(staging)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(file, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def push_adapter(training_args: SFTConfig, **retry) -> str:
    """Upload the adapter, processor and card (not the checkpoints) to ``hub_model_id``; return the repo id.

    Retried on transient Hub failures (``retry``: see :func:`mmrqa.hub.push_with_retries`); the output folder is only
    read. Raises :class:`mmrqa.errors.HubError`; pushing again uploads only what the Hub lacks.
    """
    from huggingface_hub import HfApi

    api = HfApi(token=training_args.hub_token)
    repo_id = training_args.hub_model_id or Path(training_args.output_dir).name

    def push() -> str:
        created = api.create_repo(repo_id, private=training_args.hub_private_repo, exist_ok=True).repo_id
        api.upload_folder(
            repo_id=created,
            folder_path=training_args.output_dir,
            ignore_patterns=["checkpoint-*", "checkpoint-*/**", "runs/**", "*.pt", "training_args.bin", ".*"],
            commit_message="Upload MMRQA LoRA adapter and model card",
        )
        return created

    return push_with_retries(push, repo_id=repo_id, local=str(training_args.output_dir), **retry)


def main(script_args: MMRQAScriptArguments, training_args: SFTConfig, model_args: ModelConfig) -> SFTTrainer:
    """Train, evaluate, save adapter + processor + card, optionally push; return the trainer (for inspection)."""
    model_args.model_name_or_path = model_args.model_name_or_path or DEFAULT_BASE_MODEL
    if model_args.use_peft and not model_args.lora_target_modules:
        model_args.lora_target_modules = lora_target_regex(
            script_args.lora_include_projector, script_args.lora_include_vision_tower
        )
    processor = load_processor(model_args.model_name_or_path, revision=model_args.model_revision)
    model = load_base_model(model_args.model_name_or_path, model_config=model_args)
    train_dataset, eval_dataset = load_splits(script_args, training_args)
    push, training_args.push_to_hub = training_args.push_to_hub, False  # we push adapter + our card at the end
    trainer = SFTTrainer(
        model=model,
        args=training_args,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        processing_class=processor,
        peft_config=get_peft_config(model_args),
    )
    trainer.train(
        resume_from_checkpoint=resolve_checkpoint(training_args.resume_from_checkpoint, training_args.output_dir)
    )
    eval_metrics = trainer.evaluate() if eval_dataset is not None else {}
    save_final(trainer, processor, training_args.output_dir)
    write_model_card(trainer, script_args, training_args, model_args, eval_metrics)
    if push:
        logger.info("pushed to %s", push_adapter(training_args))
    trainer.final_eval_metrics = eval_metrics
    return trainer


def parse_args(argv: list[str] | None = None):
    """Parse ``argv`` (default ``sys.argv[1:]``) with ``--config recipe.yaml``; the recipe name goes to the card."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--config" in argv and "--recipe" not in argv:
        argv += ["--recipe", Path(argv[argv.index("--config") + 1]).name]
    parser = TrlParser((MMRQAScriptArguments, SFTConfig, ModelConfig))
    return parser.parse_args_and_config(argv)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        main(*parse_args())
    except MMRQAError as exc:  # a bad argument, an unwritable output or a failed push: one line, no traceback
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
