"""LLaVA-OneVision's processor, with or without torchvision.

``transformers.LlavaOnevisionProcessor`` always builds a video processor, and the video processor needs torchvision,
which cannot be installed beside a CPU build of torch (the PyPI wheel is linked against CUDA). MMRQA only feeds
images, so ``ImageOnlyLlavaOnevisionProcessor`` drops the video sub-processor: ``ProcessorMixin`` reads the
sub-processors from the ``__init__`` signature, so a signature without ``video_processor`` is all it takes. It is
registered with ``AutoProcessor`` for ``LlavaOnevisionConfig`` (``exist_ok=True``) so that
``AutoProcessor.from_pretrained(checkpoint)`` returns it once ``mmrqa.modeling`` is imported. Where torchvision
works, ``load_processor`` returns the stock processor instead; both tokenize and expand images identically.
"""

from __future__ import annotations

import importlib.util
import logging
from functools import lru_cache
from pathlib import Path

from transformers import AutoProcessor, LlavaOnevisionConfig, LlavaOnevisionProcessor

from mmrqa.errors import ModelLoadError
from mmrqa.modeling.template import MMRQA_CHAT_TEMPLATE

logger = logging.getLogger(__name__)


class ImageOnlyLlavaOnevisionProcessor(LlavaOnevisionProcessor):
    """``LlavaOnevisionProcessor`` without a video processor (no torchvision needed); images and text only."""

    def __init__(
        self,
        image_processor=None,
        tokenizer=None,
        num_image_tokens=None,
        vision_feature_select_strategy=None,
        chat_template=None,
        image_token="<image>",
        video_token="<video>",
        vision_aspect_ratio="anyres_max_9",
        **kwargs,
    ):
        super().__init__(
            image_processor=image_processor,
            tokenizer=tokenizer,
            video_processor=None,
            num_image_tokens=num_image_tokens,
            vision_feature_select_strategy=vision_feature_select_strategy,
            chat_template=chat_template,
            image_token=image_token,
            video_token=video_token,
            vision_aspect_ratio=vision_aspect_ratio,
            **kwargs,
        )


def register_processor() -> None:
    """Make ``AutoProcessor.from_pretrained`` return the image-only processor for LLaVA-OneVision checkpoints."""
    AutoProcessor.register(LlavaOnevisionConfig, ImageOnlyLlavaOnevisionProcessor, exist_ok=True)


@lru_cache(maxsize=1)
def torchvision_available() -> bool:
    """True when torchvision imports *and* its compiled ops load (a CUDA wheel beside CPU torch fails here)."""
    if importlib.util.find_spec("torchvision") is None:
        return False
    try:
        import torchvision.ops  # noqa: F401
    except Exception as exc:  # the CUDA-linked wheel raises RuntimeError("operator torchvision::nms ...")
        logger.info("torchvision is installed but unusable (%s); using the image-only processor", exc)
        return False
    return True


def make_image_processor(size: int, pinpoints: list[list[int]]):
    """A LLaVA-OneVision image processor for square tiles of ``size`` px and the given AnyRes ``pinpoints``.

    Uses the torchvision backend when it works, else the PIL backend (same arithmetic, slower).
    """
    if torchvision_available():
        from transformers import LlavaOnevisionImageProcessor as cls
    else:
        from transformers.models.llava_onevision.image_processing_pil_llava_onevision import (
            LlavaOnevisionImageProcessorPil as cls,
        )
    return cls(size={"height": size, "width": size}, image_grid_pinpoints=pinpoints)


def load_processor(id_or_path: str | Path, *, chat_template: str | None = MMRQA_CHAT_TEMPLATE, **kwargs):
    """Load a LLaVA-OneVision processor from a Hub id or a local folder.

    Args:
        id_or_path: Hub repository id or local checkpoint folder.
        chat_template: template to install on the processor and its tokenizer; defaults to ``MMRQA_CHAT_TEMPLATE``
            (answers and ``<|im_end|>`` inside ``{% generation %}``). ``None`` keeps the checkpoint's template.
        **kwargs: passed to ``from_pretrained`` (``revision``, ``token``, ...).

    Returns:
        The stock ``LlavaOnevisionProcessor`` where torchvision works, else ``ImageOnlyLlavaOnevisionProcessor``.

    Raises:
        ModelLoadError: the checkpoint has no usable processor files.
    """
    register_processor()
    cls = LlavaOnevisionProcessor if torchvision_available() else ImageOnlyLlavaOnevisionProcessor
    try:
        processor = cls.from_pretrained(str(id_or_path), **kwargs)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise ModelLoadError(f"cannot load a LLaVA-OneVision processor from {id_or_path!s}: {exc}") from exc
    if chat_template is not None:
        processor.chat_template = chat_template
        processor.tokenizer.chat_template = chat_template
    if processor.tokenizer.pad_token is None:
        processor.tokenizer.pad_token = processor.tokenizer.eos_token
    return processor
