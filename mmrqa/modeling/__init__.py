"""Modeling: the LLaVA-OneVision processor (with or without torchvision), the MMRQA chat template, the tiny test
model, the pretrained mini base of the demo (:mod:`mmrqa.modeling.mini`) and base/adapter loading.

Dataset format expected by ``train_sft.py`` (TRL 1.16 ``DataCollatorForVisionLanguageModeling``)
------------------------------------------------------------------------------------------------
A ``datasets`` dataset (Hub id or a local folder in Hub layout, ``data/<split>-XXXXX-of-YYYYY.parquet``) with splits
``train`` and ``validation`` and at least these two columns; every other column (``subject``, ``source``, ``scan``,
``slice_index``, ``quality``, ``artifact``, ``severity``, ``metrics``, ...) is ignored by training:

- ``images``: a list of PIL images (``datasets`` ``Sequence(Image())``), one per image placeholder below;
- ``messages``: a list of ``{"role": ..., "content": ...}`` with roles ``system`` (optional), ``user`` and
  ``assistant``. Two content forms work, and one dataset must use one form for all rows (Arrow needs one type):

  1. **List of parts (recommended)**: every ``content`` is a list of ``{"type": "text", "text": "..."}`` and
     ``{"type": "image"}`` parts; put exactly one ``{"type": "image"}`` part per entry of ``images``, in the user
     turn, in order (Parquet turns it into ``{"type": "image", "text": None}``; that is fine).
  2. **Plain strings**: every ``content`` is a string *without* any ``<image>`` placeholder; TRL then inserts all the
     images at the start of the first user turn. A string that already contains ``<image>`` would get the image
     twice ("Mismatch in 'image' token count"): do not use placeholders in strings.

Each example may hold several user/assistant turns; with ``assistant_only_loss=True`` only the assistant answers and
their ``<|im_end|>`` carry loss (see ``MMRQA_CHAT_TEMPLATE``). Images of any size work (AnyRes tiling); keep the
number of image tokens under ``max_length``.

Heavy imports (torch, transformers) happen when a name below is first used, not at ``import mmrqa.modeling``.
"""

from __future__ import annotations

import importlib
from typing import Any

from mmrqa.modeling.template import GENERATION_PROMPT, MMRQA_CHAT_TEMPLATE

_LAZY = {
    "ImageOnlyLlavaOnevisionProcessor": "mmrqa.modeling.processor",
    "load_processor": "mmrqa.modeling.processor",
    "register_processor": "mmrqa.modeling.processor",
    "make_image_processor": "mmrqa.modeling.processor",
    "torchvision_available": "mmrqa.modeling.processor",
    "build_tiny_model": "mmrqa.modeling.tiny",
    "build_tiny_text_model": "mmrqa.modeling.tiny",
    "build_mini_model": "mmrqa.modeling.mini",
    "DEFAULT_BASE_MODEL": "mmrqa.modeling.loading",
    "load_base_model": "mmrqa.modeling.loading",
    "load_adapter_model": "mmrqa.modeling.loading",
    "lora_target_regex": "mmrqa.modeling.loading",
    "resolve_dtype": "mmrqa.modeling.loading",
}

__all__ = ["GENERATION_PROMPT", "MMRQA_CHAT_TEMPLATE", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mmrqa.modeling' has no attribute {name!r}")
