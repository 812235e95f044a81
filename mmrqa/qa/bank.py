"""The question bank: question types and several phrasings of each, picked with a seeded generator.

Placeholders: ``{artifact}`` (an artifact kind in words, e.g. "bias field") and ``{metric}`` (a metric name). The
comparison questions refer to "the first" and "the second" image, in the order the images are given.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mmrqa.errors import InvalidArgumentError

QUESTION_TYPES = (
    "rating",
    "presence",
    "artifact_type",
    "severity",
    "metric_value",
    "usability",
    "report",
    "comparison",
)

PHRASINGS: dict[str, tuple[str, ...]] = {
    "rating": (
        "Rate the overall image quality of this MRI scan as good, medium or bad.",
        "How would you grade the quality of this MR image: good, medium or bad?",
        "What is the overall quality of this scan (good / medium / bad)?",
        "Assess this MRI slice. Is its quality good, medium or bad?",
        "Give an overall quality rating for this image: good, medium or bad.",
    ),
    "presence": (
        "Is there any artifact in this MRI scan? Answer yes or no.",
        "Does this MR image show an imaging artifact?",
        "Do you see an artifact in this scan (yes or no)?",
        "Is this image free of artifacts? Say yes if you see an artifact, no otherwise.",
    ),
    "artifact_type": (
        "Which artifact, if any, affects this scan? Choose from motion, ghosting, spike, noise, bias field, blur, "
        "ringing, undersampling or none.",
        "What kind of artifact does this MR image show (or none)?",
        "Name the main artifact in this image: motion, ghosting, spike, noise, bias field, blur, ringing, "
        "undersampling, or none.",
        "Identify the type of artifact present in this MRI slice, if there is one.",
    ),
    "severity": (
        "How severe is the {artifact} artifact in this scan: none, mild, moderate or severe?",
        "Grade the {artifact} in this image as none, mild, moderate or severe.",
        "What is the severity of {artifact} in this MR image?",
        "Rate the amount of {artifact} artifact: none, mild, moderate or severe.",
    ),
    "metric_value": (
        "What is the {metric} of this scan, and is it within the acceptable range?",
        "Report the {metric} value of this image and say whether it is acceptable.",
        "Give the {metric} measured on this scan. Is it acceptable?",
        "What {metric} does this MRI have, and does it fall in the acceptable range?",
    ),
    "usability": (
        "Is this scan usable for diagnosis, or should it be repeated?",
        "Would you accept this image for diagnosis or repeat the acquisition?",
        "Can a radiologist read this scan, or does it need to be repeated?",
        "Usable for diagnosis or repeat the scan?",
    ),
    "report": (
        "Write a short quality report for this MRI scan, citing the metrics behind your verdict.",
        "Summarise the image quality of this scan with the supporting quality metrics.",
        "Give a brief quality-control report of this image, with the evidence from the signal metrics.",
        "Produce a short QC report: overall quality, artifact, and the metrics that support it.",
    ),
    "comparison": (
        "Which of the two images shows stronger {artifact}: the first or the second?",
        "Compare the two scans. Which one has more {artifact} artifact, the first or the second?",
        "Between the first and the second image, which is more affected by {artifact}?",
        "Look at both images. Which shows the more severe {artifact}: first or second?",
    ),
}


@dataclass(frozen=True)
class Question:
    """One question asked of an example.

    Attributes:
        type: one of ``QUESTION_TYPES``.
        text: the phrasing shown to the model (placeholders filled).
        target: the artifact kind (``severity``, ``comparison``) or metric name (``metric_value``) it is about.
    """

    type: str
    text: str
    target: str | None = None


def ask(question_type: str, rng: np.random.Generator, target: str | None = None) -> Question:
    """A :class:`Question` of ``question_type`` with a phrasing drawn uniformly by ``rng``."""
    if question_type not in PHRASINGS:
        raise InvalidArgumentError(f"unknown question type {question_type!r}: expected one of {QUESTION_TYPES}")
    needs_target = question_type in ("severity", "comparison", "metric_value")
    if needs_target and not target:
        raise InvalidArgumentError(f"a {question_type!r} question needs a target (artifact kind or metric name)")
    template = PHRASINGS[question_type][int(rng.integers(len(PHRASINGS[question_type])))]
    words = (target or "").replace("_", " ")
    return Question(question_type, template.format(artifact=words, metric=target or ""), target)
