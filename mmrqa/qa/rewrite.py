"""Optional rewording of template answers by an instruction-tuned LLM, kept only when it stays grounded.

``rewrite(answer, example, model_id)`` asks a transformers text-generation model (e.g. a Qwen2.5 instruct model, as
MMRQA uses Qwen) to reword an answer while keeping its numbers and labels. The rewrite is returned only if it
passes :func:`mmrqa.qa.grounding.check_grounding` for the example; otherwise the template answer is returned, so
a rewriter can add variety but never a wrong number or label.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from typing import Any

from mmrqa.errors import ModelLoadError
from mmrqa.qa.grounding import check_grounding

logger = logging.getLogger(__name__)

INSTRUCTION = (
    "Reword the answer below in one or two plain sentences for a radiographer. Keep every number exactly as written "
    "and keep the same verdict. Reply with the reworded answer only."
)


@functools.lru_cache(maxsize=2)
def _generator(model_id: str):
    """A CPU text-generation pipeline, built once per model id (transformers imported here only)."""
    try:
        from transformers import pipeline

        return pipeline("text-generation", model=model_id, device="cpu")
    except Exception as exc:  # noqa: BLE001 - a bad id or path is the user's error: say which
        raise ModelLoadError(f"cannot load rewriter model {model_id!r}: {exc}") from exc


def _prompt(generator, question: str, answer: str) -> Any:
    text = f"{INSTRUCTION}\n\nQuestion: {question}\nAnswer: {answer}\nReworded answer:"
    if getattr(generator.tokenizer, "chat_template", None):
        return [{"role": "user", "content": text}]
    return text


def rewrite(answer: str, example: Mapping[str, Any], model_id: str, *, max_new_tokens: int = 96, seed: int = 0) -> str:
    """The answer reworded by ``model_id``, or ``answer`` itself when the rewrite is not grounded.

    Args:
        answer: the grounded template answer.
        example: ``question`` (:class:`~mmrqa.qa.bank.Question`), ``report``, ``labels`` and optionally ``other``
            (comparison partner ``(report, labels)``), ``catalogue`` and ``indicators``.
        model_id: Hub id or local path of a causal LM.
        max_new_tokens: generation budget.
        seed: sampling seed (same seed, same rewrite).

    Raises:
        ModelLoadError: the model cannot be loaded.
    """
    generator = _generator(str(model_id))
    question = example["question"]
    try:
        from transformers import set_seed

        set_seed(seed)
        out = generator(
            _prompt(generator, question.text, answer),
            max_new_tokens=max_new_tokens,
            do_sample=True,
            temperature=0.7,
            top_p=0.9,
            return_full_text=False,
        )
        candidate = out[0]["generated_text"]
        if isinstance(candidate, list):  # chat input: the new assistant message
            candidate = candidate[-1]["content"]
        candidate = str(candidate).strip()
    except Exception as exc:  # noqa: BLE001 - a generation failure only costs the variation
        logger.warning("rewriter %s failed (%s); keeping the template answer", model_id, exc)
        return answer
    grounding = check_grounding(
        candidate,
        example["report"],
        example["labels"],
        question=question,
        other=example.get("other"),
        catalogue=example.get("catalogue"),
        indicators=example.get("indicators"),
    )
    if grounding:
        return candidate
    logger.info("rewrite %r not grounded (%s); keeping the template", candidate[:80], "; ".join(grounding.problems))
    return answer
