"""The mini MMRQA base: a small LLaVA-OneVision *pretrained here* on MMRQA question-answer data, shipped as weights.

No pretrained LLaVA-OneVision can be downloaded where this project is built, so the demo's base is trained from
scratch by ``python -m mmrqa.pretrain_mini`` (the recipe, data and measurements are in
``mmrqa/modeling/mini_base/MINI_CARD.md``) and its weights ship inside the package (``mini_base/model.safetensors``,
float32, about 10 MB, with its tokenizer's ``vocab.json`` and ``merges.txt``). ``python -m mmrqa.modeling.mini DIR``
writes them as a checkpoint folder (``config.json``, ``model.safetensors``, tokenizer and processor files, the same
classes as the real model) that loads by path wherever a Hub id does: ``train_sft.py --model_name_or_path DIR``,
``MMRQAPipeline``, ``mmrqa evaluate``/``assess`` and the Space.

Sizes: SigLIP vision (hidden 96, 2 layers, 3 heads, 64 px tiles, patch 8: 64 tokens a tile, one AnyRes pinpoint
64x64 so an image is the base tile plus one grid tile) and Qwen2 text (hidden 192, 4 layers, 6 heads, 2 KV heads,
intermediate 512), ``vision_feature_select_strategy="full"``. Its byte-level BPE (at most 1,024 tokens) splits numbers into
single digits, as Qwen2's tokenizer does. It is a demonstration of a pipeline that learns, trained on a few public
scans with simulated artifacts, not a clinical model.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
from pathlib import Path

from mmrqa.errors import ModelLoadError
from mmrqa.modeling.template import IM_END, IM_START, IMAGE_TOKEN, MMRQA_CHAT_TEMPLATE, PAD_TOKEN, VIDEO_TOKEN

# torch, transformers and safetensors are imported where the model is written.

logger = logging.getLogger(__name__)

MINI_DIR = Path(__file__).resolve().parent / "mini_base"
WEIGHTS_FILE = "model.safetensors"
MINI_IMAGE_SIZE = 64
MINI_PATCH_SIZE = 8
MINI_PINPOINTS = [[64, 64]]
MINI_VOCAB_SIZE = 1024
MINI_VISION = {
    "hidden_size": 96,
    "intermediate_size": 192,
    "num_hidden_layers": 2,
    "num_attention_heads": 3,
    "image_size": MINI_IMAGE_SIZE,
    "patch_size": MINI_PATCH_SIZE,
    "vision_use_head": False,
}
MINI_TEXT = {
    "hidden_size": 192,
    "intermediate_size": 512,
    "num_hidden_layers": 4,
    "num_attention_heads": 6,
    "num_key_value_heads": 2,
    "max_position_embeddings": 2048,
    "tie_word_embeddings": False,
}
#: The contract of the shipped files: sha256 of the weights and of the tokenizer files, written by the pretraining
#: script (``mini_base/manifest.json``) and checked before the weights are used.
MANIFEST = "manifest.json"


def mini_tokenizer(folder: str | Path = MINI_DIR):
    """The mini base's tokenizer (``vocab.json`` + ``merges.txt`` of ``folder``) as a ``Qwen2Tokenizer``: Qwen2's
    pre-tokenizer (numbers split into single digits), the ChatML special tokens and the MMRQA chat template."""
    from transformers import Qwen2Tokenizer

    folder = Path(folder)
    vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
    lines = (folder / "merges.txt").read_text(encoding="utf-8").splitlines()
    merges = [tuple(line.split(" ")) for line in lines if line and not line.startswith("#")]
    tokenizer = Qwen2Tokenizer(
        vocab=vocab, merges=merges, unk_token=None, eos_token=IM_END, pad_token=PAD_TOKEN, model_max_length=2048
    )
    tokenizer.add_special_tokens({"additional_special_tokens": [IM_START, IM_END, IMAGE_TOKEN, VIDEO_TOKEN]})
    tokenizer.chat_template = MMRQA_CHAT_TEMPLATE
    return tokenizer


def mini_config(tokenizer):
    """``LlavaOnevisionConfig`` of the mini base for ``tokenizer`` (see the module doc for the sizes)."""
    from transformers import Qwen2Config, SiglipVisionConfig

    from mmrqa.modeling.real_size import llava_onevision_config

    text = Qwen2Config(
        vocab_size=len(tokenizer),
        eos_token_id=tokenizer.convert_tokens_to_ids(IM_END),
        pad_token_id=tokenizer.pad_token_id,
        **MINI_TEXT,
    )
    return llava_onevision_config(tokenizer, SiglipVisionConfig(**MINI_VISION), text, MINI_PINPOINTS)


def mini_processor(tokenizer):
    """The image-only LLaVA-OneVision processor of the mini base (64 px tiles, 64 tokens each)."""
    from mmrqa.modeling.processor import ImageOnlyLlavaOnevisionProcessor, make_image_processor

    return ImageOnlyLlavaOnevisionProcessor(
        image_processor=make_image_processor(size=MINI_IMAGE_SIZE, pinpoints=MINI_PINPOINTS),
        tokenizer=tokenizer,
        num_image_tokens=(MINI_IMAGE_SIZE // MINI_PATCH_SIZE) ** 2,
        vision_feature_select_strategy="full",
        chat_template=MMRQA_CHAT_TEMPLATE,
    )


def sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(folder: str | Path = MINI_DIR) -> dict:
    """The shipped files' contract: ``{"files": {name: sha256}, "tensors": {name: shape}, ...}``."""
    path = Path(folder) / MANIFEST
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"the mini base's manifest {path} is missing or unreadable: {exc}") from exc


def verify_shipped(folder: str | Path = MINI_DIR) -> dict:
    """Check the shipped weights and tokenizer files against the manifest's sha256; return the manifest.

    Raises:
        ModelLoadError: a file is missing or differs from the one the pretraining wrote (a broken install).
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    for name, digest in manifest["files"].items():
        path = folder / name
        if not path.is_file():
            raise ModelLoadError(f"the mini base's {name} is missing from {folder}: reinstall mmrqa")
        if sha256(path) != digest:
            raise ModelLoadError(f"the mini base's {name} in {folder} does not match its manifest: reinstall mmrqa")
    return manifest


def build_mini_model(
    directory: str | Path, *, weights: str | Path | None = None, seed: int = 0, tokenizer_dir: str | Path = MINI_DIR
) -> Path:
    """Write the mini base as a checkpoint folder into ``directory`` and return its path.

    Args:
        directory: target folder (created).
        weights: a ``model.safetensors`` to load; default the shipped, pretrained weights (checked against the
            manifest). ``"random"`` writes a randomly initialised model of the same architecture (the starting point
            of the pretraining).
        seed: seeds the random initialisation (only with ``weights="random"``).
        tokenizer_dir: folder of ``vocab.json`` and ``merges.txt`` (default the shipped ones).

    Raises:
        ModelLoadError: the shipped weights are missing, altered, or do not fit the architecture.
    """
    import torch
    from safetensors.torch import load_file
    from transformers import LlavaOnevisionForConditionalGeneration

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tokenizer = mini_tokenizer(tokenizer_dir)
    config = mini_config(tokenizer)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LlavaOnevisionForConditionalGeneration(config).eval()
    if weights != "random":
        if weights is None:
            verify_shipped()
            weights = MINI_DIR / WEIGHTS_FILE
        state = load_file(str(weights))
        missing, unexpected = model.load_state_dict(state, strict=False)
        missing = [m for m in missing if m != "lm_head.weight" or "lm_head.weight" not in state]
        if missing or unexpected:
            raise ModelLoadError(
                f"{weights} does not fit the mini architecture: missing {missing[:5]}, unexpected {unexpected[:5]}"
            )
    model.generation_config.eos_token_id = config.text_config.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(directory, safe_serialization=True)
    mini_processor(tokenizer).save_pretrained(directory)
    n_params = sum(p.numel() for p in model.parameters())
    what = "random" if weights == "random" else "pretrained"
    logger.info("wrote the mini LLaVA-OneVision (%d parameters, %s) to %s", n_params, what, directory)
    return directory


if __name__ == "__main__":  # python -m mmrqa.modeling.mini DIR
    logging.basicConfig(level=logging.INFO)
    try:
        print(build_mini_model(sys.argv[1] if len(sys.argv) > 1 else "mini-llava-onevision"))
    except ModelLoadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
