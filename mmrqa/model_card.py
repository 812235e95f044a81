"""Model cards: render the top-level ``model_card.md`` Jinja template into a ``huggingface_hub.ModelCard``.

The card's YAML metadata is built with ``ModelCardData`` (base model, datasets, tags, license, pipeline tag) and the
end-of-training evaluation becomes a ``model-index`` (one ``EvalResult`` per numeric metric of
``trainer.evaluate()``), which the Hub shows as an evaluation widget. Rendering is offline
(``ModelCard.from_template``); ``RepoCard.validate`` would call the Hub, so round-trips are checked by re-parsing
the text (``ModelCard(str(card))``, ``huggingface_hub.metadata_load``).
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

from mmrqa.errors import InvalidArgumentError
from mmrqa.fileio import write_text_atomic
from mmrqa.versions import installed_versions

# huggingface_hub's card classes (~0.7 s) are imported where a card is rendered.

logger = logging.getLogger(__name__)

#: The template lives at the repository root (``model_card.md``), next to ``train_sft.py``.
DEFAULT_MODEL_CARD_TEMPLATE = Path(__file__).resolve().parents[1] / "model_card.md"
TASK_TYPE = "image-text-to-text"
_LIBRARIES = ("transformers", "trl", "peft", "torch")


def summarize_log_history(log_history: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Summarise ``trainer.state.log_history``: steps, epochs, first/last/lowest training loss, validation losses.

    Returns ``None`` when no training loss was logged.
    """
    train = [e for e in log_history if "loss" in e and "step" in e]
    evals = [e for e in log_history if "eval_loss" in e]
    if not train:
        return None
    losses = [float(e["loss"]) for e in train]
    steps = max(int(e.get("step", 0)) for e in log_history)
    epochs = max(float(e.get("epoch", 0.0)) for e in log_history)
    return {
        "steps": steps,
        "epochs": round(epochs, 3),
        "first_loss": round(losses[0], 4),
        "last_loss": round(losses[-1], 4),
        "min_loss": round(min(losses), 4),
        "eval_losses": ", ".join(f"{float(e['eval_loss']):.4f} (step {e.get('step')})" for e in evals),
    }


def eval_results_for_model_index(
    metrics: dict[str, Any], *, dataset: str, split: str = "validation", task_type: str = TASK_TYPE
) -> list:
    """Turn ``trainer.evaluate()`` output into ``EvalResult``s (``eval_loss`` -> metric ``loss``).

    Runtime bookkeeping (``eval_runtime``, ``..._per_second``, ``epoch``) and non-finite values are left out.
    """
    from huggingface_hub import EvalResult

    results = []
    for key, value in sorted(metrics.items()):
        name = key.removeprefix("eval_")
        skip = name in {"runtime", "epoch", "step", "num_tokens"} or name.endswith("_per_second")
        if skip or not isinstance(value, (int, float)) or not math.isfinite(value):
            continue
        results.append(
            EvalResult(
                task_type=task_type,
                dataset_type=dataset,
                dataset_name=dataset,
                dataset_split=split,
                metric_type=name,
                metric_name=name,
                metric_value=round(float(value), 6),
            )
        )
    return results


def _is_hub_id(name: str) -> bool:
    return not Path(name).exists() and not name.startswith((".", "/", "~")) and name.count("/") <= 1


def _library_versions() -> str:
    return ", ".join(f"{lib} {v}" for lib, v in installed_versions(_LIBRARIES).items() if v is not None)


def render_model_card(
    *,
    model_id: str,
    base_model: str,
    dataset: str,
    recipe: str | None,
    hyperparameters: dict[str, Any],
    lora: dict[str, Any],
    log_history: list[dict[str, Any]] | None = None,
    eval_metrics: dict[str, Any] | None = None,
    eval_split: str = "validation",
    is_tiny: bool = False,
    n_params: int | None = None,
    license: str = "apache-2.0",
    template_path: str | Path | None = None,
):
    """Render the MMRQA model card.

    Args:
        model_id: the adapter's Hub id (or folder), used in the title and the loading snippet.
        base_model: Hub id or folder of the base model; only a Hub id goes into the ``base_model`` metadata.
        dataset: Hub id or folder of the training data; only a Hub id goes into ``datasets``.
        recipe: the YAML recipe used (path or name).
        hyperparameters: the settings to list in the card (learning rate, batch size, epochs...).
        lora: ``r``, ``alpha``, ``dropout``, ``target_modules``.
        log_history: ``trainer.state.log_history`` (summarised into the training-curve table).
        eval_metrics: ``trainer.evaluate()`` output (table + ``model-index``).
        eval_split: split the evaluation ran on.
        is_tiny: the base is the random tiny test model: the card says so prominently.
        n_params: base model parameter count (shown for the tiny model).
        license: SPDX-like Hub license id.
        template_path: Jinja template; defaults to the repository's ``model_card.md``.

    Returns:
        A ``huggingface_hub.ModelCard``; ``card.save(path)`` writes README.md, ``card.push_to_hub(repo)`` uploads it.
    """
    from huggingface_hub import ModelCard, ModelCardData

    template = Path(template_path) if template_path is not None else DEFAULT_MODEL_CARD_TEMPLATE
    if not template.is_file():
        raise InvalidArgumentError(f"model card template {template} does not exist")
    eval_metrics = eval_metrics or {}
    hub_base, hub_data = _is_hub_id(base_model), _is_hub_id(dataset)
    data_name = dataset if hub_data else Path(dataset).name
    eval_results = eval_results_for_model_index(eval_metrics, dataset=data_name, split=eval_split)
    tags = ["mmrqa", "mri", "quality-assessment", "medical-imaging", "llava-onevision", "lora", "trl", "sft"]
    if is_tiny:
        tags.append("tiny-test-model")
    card_data = ModelCardData(
        base_model=base_model if hub_base else None,
        datasets=[dataset] if hub_data else None,
        eval_results=eval_results or None,
        model_name=model_id,
        library_name="peft",
        license=license,
        pipeline_tag=TASK_TYPE,
        tags=tags,
        language=["en"],
    )
    shown = {k.removeprefix("eval_"): v for k, v in eval_metrics.items() if not k.endswith(("_per_second", "runtime"))}
    card = ModelCard.from_template(
        card_data,
        template_path=str(template),
        model_name=model_id,
        model_id=model_id,
        base_model=base_model,
        base_model_url=f"https://huggingface.co/{base_model}" if hub_base else base_model,
        dataset=dataset,
        dataset_url=f"https://huggingface.co/datasets/{dataset}" if hub_data else None,
        recipe=recipe or "(command-line flags only)",
        hyperparameters=hyperparameters,
        lora_r=lora.get("r"),
        lora_alpha=lora.get("alpha"),
        lora_dropout=lora.get("dropout"),
        lora_target_modules=lora.get("target_modules"),
        curve=summarize_log_history(log_history or []),
        eval_results=shown,
        eval_split=eval_split,
        is_tiny=is_tiny,
        n_params_human=f"{n_params / 1e3:.0f}k" if n_params else "?",
        library_versions=_library_versions(),
        license=license,
    )
    logger.info("rendered model card for %s", model_id)
    return card


EVALUATION_BEGIN = "<!-- mmrqa-evaluation:begin -->"
EVALUATION_END = "<!-- mmrqa-evaluation:end -->"


def add_evaluation_to_card(card_path: str | Path, results: dict[str, Any]) -> None:
    """Write ``mmrqa evaluate`` results into a local model card (``README.md`` of an adapter folder).

    The first system of ``results["model_index"]`` (the model itself) replaces the card's ``model-index`` metadata,
    and the evaluation (the MMRQA paper's table with every row that ran, then every headline score) replaces the
    card's evaluation section, which is delimited by HTML comments so that a second evaluation replaces the first.
    The file is written atomically.

    Raises:
        InvalidArgumentError: the card does not exist or the results hold no model-index entry.
    """
    from huggingface_hub import ModelCard, ModelCardData

    from mmrqa.evaluation.reporting import evaluation_markdown, replace_section

    card_path = Path(card_path)
    if not card_path.is_file():
        raise InvalidArgumentError(f"no model card at {card_path}: train the adapter with train_sft.py first")
    entries = results.get("model_index") or []
    if not entries:
        raise InvalidArgumentError("the evaluation results hold no model-index entry")
    card = ModelCard(card_path.read_text(encoding="utf-8"))
    metadata = card.data.to_dict()
    metadata["model-index"] = [{"name": card.data.model_name or entries[0]["name"], "results": entries[0]["results"]}]
    metadata.pop("eval_results", None)
    card.data = ModelCardData(**metadata)
    # inside the template's "Evaluation" section when the card has its markers, else a section of its own at the end
    level = "###" if EVALUATION_BEGIN in card.text else "##"
    section = (
        f"{level} Evaluation against baselines\n\n"
        f"`mmrqa evaluate` on the `{results.get('split', 'test')}` split of `{Path(str(results.get('dataset'))).name}` "
        f"({results.get('n_questions', '?')} questions; 95% bootstrap intervals in brackets):\n\n"
        f"{evaluation_markdown(results, heading=level + '#')}"
    )
    text = replace_section(card.text, EVALUATION_BEGIN, EVALUATION_END, section)
    card.text = text
    write_text_atomic(card_path, str(card))
    logger.info("evaluation written into %s", card_path)
