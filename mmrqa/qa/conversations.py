"""From one example (slice images, its MetricReport, its labels) to TRL conversational examples.

Each example is ``{"images": [PIL images], "messages": [user, assistant]}`` in TRL's vision-language format: the user
content is a list of parts, one ``{"type": "image"}`` per image then ``{"type": "text", "text": question}``; the
assistant content is ``[{"type": "text", "text": answer}]``. In signal-enhanced mode (the MMRQA fusion) the user text
starts with a compact summary of the metrics; ``signal_enhanced=False`` leaves it out for ablations.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from mmrqa.errors import InvalidArgumentError
from mmrqa.qa.answers import default_catalogue, signal_summary
from mmrqa.qa.bank import ask, render_answer, truth
from mmrqa.qa.grounding import UngroundedAnswerError, check_grounding
from mmrqa.qa.labels import Labels
from mmrqa.qa.questions import QUESTION_TYPES, Question, QuestionType, question_type
from mmrqa.qa.rewrite import rewrite

logger = logging.getLogger(__name__)


def _user_content(n_images: int, question: str, summaries: list[str]) -> list[dict[str, Any]]:
    summaries = [s for s in summaries if s]
    if len(summaries) == 2:
        summaries = [f"First image. {summaries[0]}", f"Second image. {summaries[1]}"]
    text = "\n".join([*summaries, question])
    return [{"type": "image"} for _ in range(n_images)] + [{"type": "text", "text": text}]


def conversation(images: list, question: str, answer: str, summaries: list[str]) -> dict[str, Any]:
    """One TRL example from its parts."""
    return {
        "images": list(images),
        "messages": [
            {"role": "user", "content": _user_content(len(images), question, summaries)},
            {"role": "assistant", "content": [{"type": "text", "text": answer}]},
        ],
    }


def make_conversations(
    images: Sequence,
    report: Any,
    labels: Labels,
    *,
    seed: int | np.random.Generator = 0,
    question_types: Sequence[str] | None = None,
    signal_enhanced: bool = True,
    comparison: tuple[Sequence, Any, Labels] | None = None,
    rewriter: str | None = None,
    catalogue: dict[str, Any] | None = None,
    indicators: dict[str, str] | None = None,
    with_meta: bool = False,
) -> list[dict[str, Any]]:
    """Grounded QA conversations about one example, one per applicable question type.

    Args:
        images: the example's slice images (PIL), all shown with every question.
        report: its MetricReport (``values``: metric name -> float).
        labels: its ground truth (:class:`~mmrqa.qa.labels.Labels`).
        seed: seed or generator choosing phrasings, wordings and targets (same seed, same conversations).
        question_types: subset of ``QUESTION_TYPES`` (default all). Types the labels cannot answer (unknown
            severity, no comparison partner, a tie) are skipped.
        signal_enhanced: put the compact metric summary in the user turn.
        comparison: ``(images, report, labels)`` of a second example, for the two-image comparison question.
        rewriter: a transformers text-generation model id or path to reword answers (falls back to the template
            when a rewrite fails the grounding check); None keeps the templates.
        catalogue, indicators: metric catalogue and artifact indicators (default: :mod:`mmrqa.metrics`).
        with_meta: add ``question_type`` and ``question_target`` keys to each example.

    Raises:
        UngroundedAnswerError: an answer failed the grounding check (a bug in a template: never silenced).
        InvalidArgumentError: no image, or an unknown question type.
    """
    if catalogue is None or indicators is None:
        catalogue, indicators = default_catalogue()
    if len(images) == 0:
        raise InvalidArgumentError("make_conversations needs at least one image")
    unknown = set(question_types or ()) - set(QUESTION_TYPES)
    if unknown:
        raise InvalidArgumentError(f"unknown question types {sorted(unknown)}: expected some of {QUESTION_TYPES}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    other = (comparison[1], comparison[2]) if comparison is not None else None
    examples = []
    for kind in question_types or QUESTION_TYPES:
        qtype = question_type(kind)
        target = None
        if qtype.choose_target is not None:
            target = qtype.choose_target(labels, report, rng, other[1] if other else None, catalogue, indicators)
            if target is None:
                continue
        question = ask(kind, rng, target)
        expected = truth(question, report, labels, catalogue, indicators, other[1] if other else None)
        if expected is None:
            logger.debug("skipping %s question: the labels do not determine its answer", kind)
            continue
        answer = render_answer(question, expected, report, catalogue, rng)
        grounding = check_grounding(
            answer, report, labels, question=question, other=other, catalogue=catalogue, indicators=indicators
        )
        if not grounding:
            raise UngroundedAnswerError(f"{kind} answer {answer!r} is not grounded: {'; '.join(grounding.problems)}")
        if rewriter is not None:
            context = {"question": question, "report": report, "labels": labels, "other": other}
            answer = rewrite(answer, {**context, "catalogue": catalogue, "indicators": indicators}, rewriter)
        examples.append(
            _example(qtype, question, answer, images, report, comparison, signal_enhanced, catalogue, indicators)
        )
        if with_meta:
            examples[-1].update(question_type=kind, question_target=target)
    return examples


def _example(
    qtype: QuestionType, question: Question, answer, images, report, comparison, signal_enhanced, catalogue, indicators
):
    paired = qtype.images > 1  # the partner's images (and summary) follow the example's own
    shown = list(images) + (list(comparison[0]) if paired else [])
    summaries = []
    if signal_enhanced:
        summaries.append(signal_summary(report, catalogue, indicators))
        if paired:
            summaries.append(signal_summary(comparison[1], catalogue, indicators))
    return conversation(shown, question.text, answer, summaries)
