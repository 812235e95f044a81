"""The tiny model, the processor without torchvision, the chat template and LoRA targets."""

from __future__ import annotations

import hashlib

import pytest

torch = pytest.importorskip("torch")

from mmrqa.errors import InvalidArgumentError, ModelLoadError  # noqa: E402
from mmrqa.modeling import GENERATION_PROMPT, MMRQA_CHAT_TEMPLATE, lora_target_regex  # noqa: E402


def _digest(path):
    return hashlib.sha256((path / "model.safetensors").read_bytes()).hexdigest()


def test_tiny_model_is_deterministic_from_the_seed(tiny_model_dir, tmp_path):
    from mmrqa.modeling import build_tiny_model

    assert _digest(build_tiny_model(tmp_path / "a", seed=0)) == _digest(tiny_model_dir)
    assert _digest(build_tiny_model(tmp_path / "b", seed=1)) != _digest(tiny_model_dir)


def test_tokenizer_special_tokens_are_distinct_and_round_trip(tiny_model_dir):
    from mmrqa.modeling import load_processor

    tok = load_processor(tiny_model_dir).tokenizer
    specials = ["<|im_start|>", "<|im_end|>", "<|endoftext|>", "<image>", "<video>"]
    ids = tok.convert_tokens_to_ids(specials)
    assert len(set(ids)) == len(ids) and all(i < len(tok) for i in ids)
    text = "The SNR is 12.5; CJV 0.61 (lower is better)."
    encoded = tok(text, add_special_tokens=False)["input_ids"]
    assert not set(encoded) & set(ids)
    assert tok.decode(encoded) == text
    assert tok.eos_token == "<|im_end|>"


def test_autoprocessor_returns_image_only_processor_and_expands_images(tiny_model_dir):
    from PIL import Image
    from transformers import AutoProcessor

    from mmrqa.modeling import ImageOnlyLlavaOnevisionProcessor, load_processor, register_processor

    register_processor()
    processor = AutoProcessor.from_pretrained(tiny_model_dir)
    assert isinstance(processor, ImageOnlyLlavaOnevisionProcessor)
    assert type(load_processor(tiny_model_dir)).__name__.endswith("LlavaOnevisionProcessor")
    image = Image.new("RGB", (40, 30), 128)
    prompt = processor.apply_chat_template(
        [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Quality?"}]}],
        add_generation_prompt=True,
    )
    batch = processor(images=[image], text=prompt, return_tensors="pt")
    n_image_tokens = int((batch["input_ids"] == processor.image_token_id).sum())
    assert n_image_tokens > (32 // 8) ** 2  # base tile + AnyRes tiles + newlines
    assert batch["pixel_values"].shape[-2:] == (32, 32)


def test_chat_template_generation_prompt_equals_training_prefix(tiny_model_dir):
    from mmrqa.modeling import load_processor

    tok = load_processor(tiny_model_dir).tokenizer
    assert tok.chat_template == MMRQA_CHAT_TEMPLATE
    user = [{"role": "user", "content": "Is there motion?"}]
    full = user + [{"role": "assistant", "content": "No motion artifact."}]
    prompt = tok.apply_chat_template(user, add_generation_prompt=True, tokenize=False)
    rendered = tok.apply_chat_template(full, tokenize=False)
    assert prompt.endswith(GENERATION_PROMPT)
    assert rendered.startswith(prompt) and rendered[len(prompt) :] == "No motion artifact.<|im_end|>\n"
    out = tok.apply_chat_template(full, tokenize=True, return_dict=True, return_assistant_tokens_mask=True)
    kept = [t for t, m in zip(out["input_ids"], out["assistant_masks"], strict=True) if m]
    assert tok.decode(kept) == "No motion artifact.<|im_end|>"


def test_lora_targets_language_model_only_by_default(tiny_model_dir):
    import re

    from mmrqa.modeling import load_base_model

    names = [n for n, m in load_base_model(tiny_model_dir).named_modules() if isinstance(m, torch.nn.Linear)]

    def hits(pattern):
        return {n for n in names if re.fullmatch(pattern, n)}

    default = hits(lora_target_regex())
    assert default and all("language_model" in n for n in default)
    assert not any("lm_head" in n for n in hits(lora_target_regex(True, True)))
    assert any("multi_modal_projector" in n for n in hits(lora_target_regex(include_projector=True)))
    vision = hits(lora_target_regex(include_vision_tower=True))
    assert any("vision_tower" in n for n in vision) and default <= vision


def test_loading_errors_are_mmrqa_errors(tmp_path):
    from mmrqa.modeling import load_base_model, load_processor, resolve_dtype

    with pytest.raises(ModelLoadError, match="empty"):
        load_base_model(tmp_path / "empty")
    with pytest.raises(ModelLoadError, match="empty"):
        load_processor(tmp_path / "empty")
    with pytest.raises(InvalidArgumentError, match="float8"):
        resolve_dtype("float8")
    assert resolve_dtype("auto") == (torch.bfloat16 if torch.cuda.is_available() else torch.float32)
