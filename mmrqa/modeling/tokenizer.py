"""The tiny models' tokenizer: a byte-level BPE trained locally in about a second (nothing can be downloaded).

Used by the tiny test model (:mod:`mmrqa.modeling.tiny`) and by the random-weight real-size architecture
(:mod:`mmrqa.modeling.real_size`), wrapped as a ``Qwen2Tokenizer`` with the ChatML special tokens of Qwen2 and
LLaVA-OneVision. Deterministic: the same corpus gives the same vocabulary and merges.
"""

from __future__ import annotations

from mmrqa.modeling.template import IM_END, IM_START, IMAGE_TOKEN, MMRQA_CHAT_TEMPLATE, PAD_TOKEN, VIDEO_TOKEN

TINY_VOCAB_SIZE = 600

# A small English corpus in the register of the QA data: the BPE merges it learns make answers a few tokens long.
_CORPUS = [
    "What is the overall quality of this MRI scan? The image quality is good, acceptable, or poor.",
    "Is there motion artifact, ghosting, a spike, noise, bias field, blur, ringing or undersampling?",
    "The signal-to-noise ratio (SNR) is 12.5, the contrast-to-noise ratio (CNR) is 3.1 and the EFC is 0.42.",
    "The coefficient of joint variation (CJV) is 0.61. Lower is better. Higher is better.",
    "Severity: none, mild, moderate, severe. Quality score 1 (good), 2 (medium), 3 (bad).",
    "This axial slice of a T1-weighted brain scan shows no visible artifact.",
    "This T2-weighted pelvic slice shows moderate ghosting along the phase-encoding direction.",
    "The foreground-background energy ratio (FBER) is 850.3; the mean intensity is 412.0.",
    "Answer with the metric values measured on this scan. 0 1 2 3 4 5 6 7 8 9 . , : ; % ( ) - +",
]


def train_bpe(texts: list[str], vocab_size: int, pre_tokenizer=None) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Train a byte-level BPE on ``texts`` (``pre_tokenizer``: byte-level without a prefix space unless given); return
    its vocabulary with the learned tokens renumbered from 0 (so that the ChatML special tokens, added by the
    tokenizer that wraps it, get fresh ids after them) and its merges as pairs. Deterministic for the same texts."""
    import json

    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    specials = [PAD_TOKEN, IM_START, IM_END, IMAGE_TOKEN, VIDEO_TOKEN]
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizer or pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(texts, trainer=trainer)
    state = bpe.model.__getstate__()
    model_state = json.loads(state) if isinstance(state, (str, bytes)) else state
    learned = sorted((idx, tok) for tok, idx in model_state["vocab"].items() if tok not in specials)
    vocab = {tok: new_id for new_id, (_, tok) in enumerate(learned)}
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model_state["merges"]]
    return vocab, merges


def train_tiny_tokenizer():
    """Train a byte-level BPE on ``_CORPUS`` and wrap it as a ``Qwen2Tokenizer`` with ChatML special tokens."""
    from transformers import Qwen2Tokenizer

    vocab, merges = train_bpe(_CORPUS * 4, TINY_VOCAB_SIZE)
    tokenizer = Qwen2Tokenizer(
        vocab=vocab,
        merges=merges,
        unk_token=None,
        eos_token=IM_END,
        pad_token=PAD_TOKEN,
        model_max_length=4096,
    )
    tokenizer.add_special_tokens({"additional_special_tokens": [IM_START, IM_END, IMAGE_TOKEN, VIDEO_TOKEN]})
    tokenizer.chat_template = MMRQA_CHAT_TEMPLATE
    return tokenizer
