"""Loading an MMRQA model (LoRA adapter or merged checkpoint) and batched greedy generation.

Safety: only ``*.safetensors`` weights are ever read (a Hub snapshot is downloaded with an allow-list that excludes
``*.bin``/``*.pt``, a local adapter must hold ``adapter_model.safetensors``, base weights load with
``use_safetensors=True``) and ``trust_remote_code`` is never set, so loading a checkpoint runs no code from it.
torch, transformers and peft are imported here, inside functions.
"""

from __future__ import annotations

import contextlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mmrqa.errors import InvalidArgumentError, ModelLoadError

logger = logging.getLogger(__name__)

#: files fetched from the Hub: configs, safetensors weights, tokenizer/processor files, the card. Never pickles.
HUB_ALLOW_PATTERNS = ["*.json", "*.safetensors", "*.jinja", "*.txt", "*.model", "tokenizer*", "README.md"]
ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"


@dataclass
class LoadedModel:
    """A model ready to generate: the (possibly PEFT-wrapped) model, its processor, and where it came from."""

    model: Any
    processor: Any
    name: str
    base: str | None
    is_adapter: bool
    device: str


def resolve_checkpoint(id_or_path: str | Path, revision: str | None = None) -> Path:
    """A local folder for a path or a Hub id (downloaded with ``HUB_ALLOW_PATTERNS``)."""
    path = Path(id_or_path).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ModelLoadError(f"{path} is a file; expected a model or adapter folder (or a Hub id)")
        return path
    if str(id_or_path).startswith((".", "/", "~")) or str(id_or_path).count("/") > 1:
        raise ModelLoadError(f"model folder {id_or_path} does not exist")
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(str(id_or_path), revision=revision, allow_patterns=HUB_ALLOW_PATTERNS))
    except Exception as exc:  # noqa: BLE001 - every Hub failure (not found, offline, auth) is a load error
        raise ModelLoadError(f"cannot download {id_or_path} from the Hugging Face Hub: {exc}") from exc


def _adapter_base(folder: Path, name: str) -> str | None:
    try:
        config = json.loads((folder / ADAPTER_CONFIG).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelLoadError(f"{name}: unreadable {ADAPTER_CONFIG}: {exc}") from exc
    return config.get("base_model_name_or_path")


def _device(device: str | None) -> str:
    import torch

    if device in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise InvalidArgumentError(f"device {device!r} requested but no CUDA GPU is available")
    return str(device)


def _load_processor(folders: list[Path | str], name: str):
    from mmrqa.modeling import load_processor

    errors = []
    for folder in folders:
        try:
            return load_processor(folder)
        except ModelLoadError as exc:
            errors.append(str(exc))
    raise ModelLoadError(f"{name}: no usable processor ({'; '.join(errors)})")


def load_model(
    adapter_or_model: str | Path,
    base_model: str | Path | None = None,
    *,
    device: str | None = None,
    dtype: Any = "auto",
    revision: str | None = None,
) -> LoadedModel:
    """Load an MMRQA LoRA adapter on its base model (from ``adapter_config.json`` unless ``base_model`` is given)
    or a merged LLaVA-OneVision checkpoint, with its processor, in eval mode on ``device``."""
    from mmrqa.modeling import load_base_model

    name = str(adapter_or_model)
    folder = resolve_checkpoint(adapter_or_model, revision)
    device = _device(device)
    is_adapter = (folder / ADAPTER_CONFIG).is_file()
    if not is_adapter:
        if not (folder / "config.json").is_file():
            raise ModelLoadError(f"{name} holds neither an adapter ({ADAPTER_CONFIG}) nor a model (config.json)")
        model = load_base_model(folder, dtype=dtype)
        processor = _load_processor([folder], name)
        base = None
    else:
        if not (folder / ADAPTER_WEIGHTS).is_file():
            raise ModelLoadError(f"{name} has no {ADAPTER_WEIGHTS} (only safetensors adapters are loaded)")
        base = str(base_model or _adapter_base(folder, name) or "")
        if not base:
            raise ModelLoadError(f"adapter {name} does not name its base model; pass base_model=")
        from peft import PeftModel

        model = load_base_model(base, dtype=dtype)
        try:
            model = PeftModel.from_pretrained(model, str(folder), is_trainable=False)
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise ModelLoadError(f"cannot apply the LoRA adapter {name} to {base}: {exc}") from exc
        processor = _load_processor([folder, base], name)
    processor.tokenizer.padding_side = "left"  # decoder-only batched generation pads on the left
    model = model.to(device).eval()
    logger.info("loaded %s%s on %s", name, f" (adapter on {base})" if is_adapter else "", device)
    return LoadedModel(model, processor, name, base, is_adapter, device)


def generate(
    loaded: LoadedModel,
    prompts: list[tuple[list, dict]],
    *,
    max_new_tokens: int = 128,
    batch_size: int = 8,
    use_adapter: bool = True,
) -> tuple[list[str], int]:
    """Greedy answers to ``prompts`` (``(images, user message)`` pairs), in batches; returns (texts, new tokens).

    ``use_adapter=False`` runs the base model of a LoRA adapter (PEFT's ``disable_adapter``): the zero-shot baseline.
    """
    import torch

    processor, model = loaded.processor, loaded.model
    if not use_adapter and not loaded.is_adapter:
        raise InvalidArgumentError(f"{loaded.name} is a merged model: it has no adapter to switch off")
    context = model.disable_adapter() if not use_adapter else contextlib.nullcontext()
    texts: list[str] = []
    n_tokens = 0
    pad_id = processor.tokenizer.pad_token_id
    with context, torch.inference_mode():
        for start in range(0, len(prompts), batch_size):
            chunk = prompts[start : start + batch_size]
            text = [processor.apply_chat_template([m], add_generation_prompt=True, tokenize=False) for _, m in chunk]
            images = [im.convert("RGB") for ims, _ in chunk for im in ims]
            inputs = processor(images=images or None, text=text, padding=True, return_tensors="pt").to(loaded.device)
            if "pixel_values" in inputs:
                inputs["pixel_values"] = inputs["pixel_values"].to(model.dtype)
            out = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=pad_id)
            new = out[:, inputs["input_ids"].shape[1] :]
            n_tokens += int((new != pad_id).sum())
            texts += [t.strip() for t in processor.batch_decode(new, skip_special_tokens=True)]
    return texts, n_tokens
