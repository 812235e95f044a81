"""Loading the base LLaVA-OneVision model, and the LoRA target patterns.

Safety: weights load from ``safetensors`` only and ``trust_remote_code`` is never set, so loading a checkpoint runs
no code from it. Dtype: bfloat16 on a GPU that supports it, float16 on other GPUs, float32 on CPU (CPU kernels for
half precision are slow and lossy). Quantization (QLoRA) comes from TRL's ``ModelConfig`` flags
(``--load_in_4bit`` / ``--load_in_8bit``) through ``trl.get_quantization_config``; it needs bitsandbytes and a GPU.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from mmrqa.errors import InvalidArgumentError, ModelLoadError

# torch, transformers, peft and trl (seconds) are imported where a model is loaded.

logger = logging.getLogger(__name__)

DEFAULT_BASE_MODEL = "llava-hf/llava-onevision-qwen2-0.5b-ov-hf"

_TEXT_PROJ = r"(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)"
_VISION_PROJ = r"(q_proj|k_proj|v_proj|out_proj|fc1|fc2)"


def lora_target_regex(include_projector: bool = False, include_vision_tower: bool = False) -> str:
    """The PEFT ``target_modules`` regex (full match on module names) for LoRA on LLaVA-OneVision.

    By default only the Qwen2 language model's attention and MLP projections (``...language_model.layers.N.*``):
    a bare ``q_proj`` would also hit SigLIP's attention. ``include_projector`` adds the two-layer multimodal
    projector, ``include_vision_tower`` the SigLIP encoder's attention and MLP. ``lm_head`` is never targeted
    (TRL refuses it).
    """
    parts = [rf".*language_model.*\.{_TEXT_PROJ}"]
    if include_projector:
        parts.append(r".*multi_modal_projector\.linear_[12]")
    if include_vision_tower:
        parts.append(rf".*vision_tower.*\.{_VISION_PROJ}")
    return parts[0] if len(parts) == 1 else "(" + "|".join(parts) + ")"


def resolve_dtype(dtype: Any = "auto"):
    """Map ``"auto"``/``None``/a name/a ``torch.dtype`` to the ``torch.dtype`` to load weights in (see module doc)."""
    import torch

    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype in (None, "auto"):
        if torch.cuda.is_available():
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32
    names = {"bfloat16": torch.bfloat16, "bf16": torch.bfloat16, "float16": torch.float16, "fp16": torch.float16}
    names.update({"float32": torch.float32, "fp32": torch.float32})
    if dtype not in names:
        raise InvalidArgumentError(f"unknown dtype {dtype!r}; use one of auto, {', '.join(names)}")
    return names[dtype]


def _local_gpu_device_map() -> dict[str, int]:
    """Put a quantized model wholly on this process' GPU (``LOCAL_RANK``), as bitsandbytes needs under DDP."""
    return {"": int(os.environ.get("LOCAL_RANK", 0))}


def load_base_model(
    id_or_path: str | Path = DEFAULT_BASE_MODEL,
    *,
    dtype: Any = "auto",
    device_map: str | dict | None = None,
    attn_implementation: str | None = None,
    model_config: Any = None,
    revision: str | None = None,
    **kwargs: Any,
):
    """Load ``LlavaOnevisionForConditionalGeneration`` from a Hub id or a local folder.

    Args:
        id_or_path: Hub repository id or checkpoint folder (default ``llava-hf/llava-onevision-qwen2-0.5b-ov-hf``).
        dtype: ``"auto"`` (see module doc), a name such as ``"bfloat16"``, or a ``torch.dtype``.
        device_map: passed to ``from_pretrained``; with 4/8-bit quantization it defaults to the local process' GPU.
        attn_implementation: ``"sdpa"``, ``"flash_attention_2"``, ``"eager"`` or ``None`` (transformers' choice).
        model_config: a ``trl.ModelConfig``; its ``dtype``, ``attn_implementation``, ``model_revision`` and
            ``load_in_4bit``/``load_in_8bit`` flags are used where the arguments above are left at their default.
        revision: Hub revision.
        **kwargs: other ``from_pretrained`` arguments.

    Raises:
        ModelLoadError: the id or folder does not hold a loadable LLaVA-OneVision checkpoint.
    """
    from transformers import LlavaOnevisionForConditionalGeneration

    quantization_config = None
    if model_config is not None:
        from trl import get_quantization_config

        dtype = model_config.dtype if dtype == "auto" and model_config.dtype else dtype
        attn_implementation = attn_implementation or model_config.attn_implementation
        revision = revision or model_config.model_revision
        quantization_config = get_quantization_config(model_config)
        if quantization_config is not None and device_map is None:
            device_map = _local_gpu_device_map()
    torch_dtype = resolve_dtype(dtype)
    try:
        model = LlavaOnevisionForConditionalGeneration.from_pretrained(
            str(id_or_path),
            dtype=torch_dtype,
            device_map=device_map,
            attn_implementation=attn_implementation,
            quantization_config=quantization_config,
            revision=revision,
            use_safetensors=True,
            trust_remote_code=False,
            **kwargs,
        )
    except (OSError, ValueError, KeyError) as exc:
        raise ModelLoadError(f"cannot load a LLaVA-OneVision model from {id_or_path!s}: {exc}") from exc
    logger.info("loaded %s (%s, %s)", id_or_path, torch_dtype, attn_implementation or "default attention")
    return model


def load_adapter_model(
    base: str | Path, adapter: str | Path, *, merge: bool = False, adapter_revision: str | None = None, **kwargs: Any
):
    """Load the base model and apply a LoRA adapter (folder or Hub id, pinned to ``adapter_revision`` when given);
    ``merge=True`` folds it into the weights. ``kwargs`` (``revision`` included) go to :func:`load_base_model`.

    ``AutoPeftModelForCausalLM`` does not accept ``LlavaOnevisionConfig``, hence ``PeftModel.from_pretrained``.
    """
    from peft import PeftModel

    model = load_base_model(base, **kwargs)
    try:
        model = PeftModel.from_pretrained(model, str(adapter), revision=adapter_revision)
    except (OSError, ValueError, KeyError) as exc:
        raise ModelLoadError(f"cannot load a LoRA adapter from {adapter!s}: {exc}") from exc
    return model.merge_and_unload() if merge else model
