"""The real-size LLaVA-OneVision-Qwen2-0.5B architecture with random weights, for benchmarks and CPU dry runs.

Nothing can be downloaded here, so the GPU benchmarks and the recipes' CPU dry run build the architecture of
``llava-hf/llava-onevision-qwen2-0.5b-ov-hf`` from its sizes: the vision tower is transformers' own
``LlavaOnevisionConfig`` default (SigLIP so400m/14 at 384 px: hidden 1152, intermediate 4304, 26 layers, 16 heads,
no pooling head; the 27th layer of so400m is not used, as ``vision_feature_layer=-1`` of the conversion script) and
the language model is Qwen2-0.5B (hidden 896, intermediate 4864, 24 layers, 14 heads, 2 KV heads, vocab 151 936,
tied embeddings, RoPE theta 1e6, as in its ``config.json``). About 894M parameters. The tokenizer is the tiny
model's locally trained BPE (the real Qwen2 tokenizer cannot be downloaded): only token ids, not the embedding sizes,
differ from the real model.
"""

from __future__ import annotations

import logging
from pathlib import Path

from mmrqa.modeling.template import IM_END, IMAGE_TOKEN, MMRQA_CHAT_TEMPLATE, VIDEO_TOKEN

logger = logging.getLogger(__name__)

QWEN2_0_5B = {
    "vocab_size": 151936,
    "hidden_size": 896,
    "intermediate_size": 4864,
    "num_hidden_layers": 24,
    "num_attention_heads": 14,
    "num_key_value_heads": 2,
    "max_position_embeddings": 32768,
    "rope_theta": 1e6,
    "tie_word_embeddings": True,
}
SIGLIP_SO400M_384 = {
    "hidden_size": 1152,
    "intermediate_size": 4304,
    "num_hidden_layers": 26,
    "num_attention_heads": 16,
    "image_size": 384,
    "patch_size": 14,
    "vision_use_head": False,
}


def llava_onevision_config(tokenizer, vision, text, image_grid_pinpoints: list[list[int]] | None = None):
    """``LlavaOnevisionConfig`` of a SigLIP ``vision`` and a Qwen2 ``text`` config as LLaVA-OneVision wires them (all
    patch features of the last layer, AnyRes tiling), with the image/video token ids of ``tokenizer``."""
    from transformers import LlavaOnevisionConfig

    return LlavaOnevisionConfig(
        vision_config=vision,
        text_config=text,
        image_token_index=tokenizer.convert_tokens_to_ids(IMAGE_TOKEN),
        video_token_index=tokenizer.convert_tokens_to_ids(VIDEO_TOKEN),
        vision_feature_select_strategy="full",
        vision_feature_layer=-1,
        image_grid_pinpoints=image_grid_pinpoints,
        vision_aspect_ratio="anyres_max_9",
    )


def real_size_config(tokenizer, image_grid_pinpoints: list[list[int]] | None = None):
    """``LlavaOnevisionConfig`` of the 0.5B model, its special token ids taken from ``tokenizer``; AnyRes pinpoints
    default to the real model's (384 to 2304 px in steps of 384)."""
    from transformers import Qwen2Config, SiglipVisionConfig

    text = Qwen2Config(**QWEN2_0_5B, eos_token_id=tokenizer.convert_tokens_to_ids(IM_END))
    return llava_onevision_config(tokenizer, SiglipVisionConfig(**SIGLIP_SO400M_384), text, image_grid_pinpoints)


def real_size_processor(tokenizer, config):
    """The image-only processor for ``config``'s tiles (729 tokens per 384 px tile) with the MMRQA chat template."""
    from mmrqa.modeling.processor import ImageOnlyLlavaOnevisionProcessor, make_image_processor

    vision = config.vision_config
    return ImageOnlyLlavaOnevisionProcessor(
        image_processor=make_image_processor(size=vision.image_size, pinpoints=config.image_grid_pinpoints),
        tokenizer=tokenizer,
        num_image_tokens=(vision.image_size // vision.patch_size) ** 2,
        vision_feature_select_strategy="full",
        chat_template=MMRQA_CHAT_TEMPLATE,
    )


def build_real_size_model(directory: str | Path, seed: int = 0, dtype: str = "bfloat16") -> Path:
    """Write the random-weight 0.5B checkpoint (safetensors in ``dtype``, about 1.8 GB in bfloat16) and its processor
    into ``directory``, loadable like the Hub model by ``train_sft.py`` and ``MMRQAPipeline``; return the folder."""
    import torch
    from transformers import LlavaOnevisionForConditionalGeneration

    from mmrqa.modeling.loading import resolve_dtype
    from mmrqa.modeling.tokenizer import train_tiny_tokenizer

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tokenizer = train_tiny_tokenizer()
    config = real_size_config(tokenizer)
    default = torch.get_default_dtype()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        torch.set_default_dtype(resolve_dtype(dtype))  # initialised in place: no float32 copy of 3.6 GB first
        try:
            model = LlavaOnevisionForConditionalGeneration(config).eval()
        finally:
            torch.set_default_dtype(default)
    model.generation_config.eos_token_id = config.text_config.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(directory, safe_serialization=True)
    n_params = sum(p.numel() for p in model.parameters())
    del model
    real_size_processor(tokenizer, config).save_pretrained(directory)
    logger.info("built the real-size LLaVA-OneVision-0.5B (%d parameters, random) in %s", n_params, directory)
    return directory
