"""A tiny LLaVA-OneVision for tests, CI and the offline demo.

Same classes as the real model (SigLIP vision tower, 2-layer MLP projector, Qwen2 language model, AnyRes image
processing), random weights, and a byte-level BPE tokenizer trained locally in about a second, all saved like a Hub
checkpoint (``config.json``, ``model.safetensors``, tokenizer and processor files), so every code path that loads
``llava-hf/llava-onevision-qwen2-0.5b-ov-hf`` can load it instead. About 150k parameters; it knows nothing and must
never be used to judge a scan. Deterministic: the same seed gives the same files, bit for bit.

Sizes (see the hf-stack notes): SigLIP hidden 32, 2 layers, image 32 px, patch 8 (so ``(32 // 8) ** 2 = 16`` tokens
per image tile); Qwen2 hidden 64, 2 layers, 4 heads, 2 KV heads; ``vision_feature_select_strategy="full"``;
AnyRes pinpoints are multiples of the image size, identical in the model config and the image processor.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from mmrqa.modeling.template import IM_END, MMRQA_CHAT_TEMPLATE
from mmrqa.modeling.tokenizer import train_tiny_tokenizer

# torch, transformers and tokenizers (seconds) are imported where a tiny model is built.

logger = logging.getLogger(__name__)

TINY_IMAGE_SIZE = 32
TINY_PATCH_SIZE = 8
TINY_PINPOINTS = [[32, 32], [32, 64], [64, 32], [64, 64]]


def _tiny_config(tokenizer):
    from transformers import Qwen2Config, SiglipVisionConfig

    from mmrqa.modeling.real_size import llava_onevision_config

    vision = SiglipVisionConfig(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        image_size=TINY_IMAGE_SIZE,
        patch_size=TINY_PATCH_SIZE,
        vision_use_head=False,
    )
    text = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        eos_token_id=tokenizer.convert_tokens_to_ids(IM_END),
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=False,
        # With the default 0.02 the frozen lm_head of a 64-wide model can only produce near-uniform logits after the
        # final RMSNorm (entropy stuck at ln(vocab)), so LoRA could not lower the loss; 0.2 lets the demo model learn.
        initializer_range=0.2,
    )
    return llava_onevision_config(tokenizer, vision, text, TINY_PINPOINTS)


def build_tiny_model(directory: str | Path, seed: int = 0) -> Path:
    """Build the tiny LLaVA-OneVision checkpoint into ``directory`` and return its path.

    Args:
        directory: target folder (created); it then loads with ``load_base_model`` / ``load_processor`` or
            ``LlavaOnevisionForConditionalGeneration.from_pretrained``.
        seed: seeds the weight initialisation; the same seed gives bit-identical ``model.safetensors``.

    Returns:
        The folder, as a ``Path``.
    """
    import torch
    from transformers import LlavaOnevisionForConditionalGeneration

    from mmrqa.modeling.processor import ImageOnlyLlavaOnevisionProcessor, make_image_processor

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tokenizer = train_tiny_tokenizer()
    config = _tiny_config(tokenizer)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LlavaOnevisionForConditionalGeneration(config).eval()
    model.generation_config.eos_token_id = config.text_config.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(directory, safe_serialization=True)

    image_processor = make_image_processor(size=TINY_IMAGE_SIZE, pinpoints=TINY_PINPOINTS)
    processor = ImageOnlyLlavaOnevisionProcessor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        num_image_tokens=(TINY_IMAGE_SIZE // TINY_PATCH_SIZE) ** 2,
        vision_feature_select_strategy="full",
        chat_template=MMRQA_CHAT_TEMPLATE,
    )
    processor.save_pretrained(directory)
    n_params = sum(p.numel() for p in model.parameters())
    logger.info("built tiny LLaVA-OneVision (%d parameters, seed %d) in %s", n_params, seed, directory)
    return directory


def build_tiny_text_model(directory: str | Path, seed: int = 0) -> Path:
    """Build a tiny Qwen2 causal LM (random weights, the same locally trained tokenizer, plain-text prompts) into
    ``directory``: the stand-in for an instruction LLM (``--rewriter``) in tests, whose output is gibberish.

    Returns:
        The folder, as a ``Path``; it loads with ``AutoModelForCausalLM`` / ``AutoTokenizer``.
    """
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tokenizer = train_tiny_tokenizer()
    tokenizer.chat_template = None  # plain-text prompt
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = Qwen2ForCausalLM(config)
    model.save_pretrained(directory, safe_serialization=True)
    tokenizer.save_pretrained(directory)
    return directory


if __name__ == "__main__":  # python -m mmrqa.modeling.tiny DIR [SEED]
    logging.basicConfig(level=logging.INFO)
    target = sys.argv[1] if len(sys.argv) > 1 else "tiny-llava-onevision"
    print(build_tiny_model(target, seed=int(sys.argv[2]) if len(sys.argv) > 2 else 0))
