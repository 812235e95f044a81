"""What the metrics-only mode says in words: its report and its answers to questions about a scan.

Without an image model the pipeline rates a scan with the signal classifier (:mod:`mmrqa.classifier`).
Its estimate becomes :class:`mmrqa.qa.labels.Labels`, and both the assessment's report and the answer to a question
of the question bank are the grounded templates of :mod:`mmrqa.qa.questions` (the sentences the training data uses)
filled from those labels and the scan's metrics: the report and a chat answer about the same scan never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mmrqa.pipeline.interpret import classify_question
from mmrqa.qa.answers import default_catalogue, evidence_metrics, format_value, report_text
from mmrqa.qa.bank import PHRASINGS, render_answer, truth
from mmrqa.qa.labels import Labels
from mmrqa.qa.questions import question_type

#: The line that ends a metrics-only report.
REPORT_NOTE = "(Metrics-only mode: signal-only classifier on the metrics; no image model was run.)"


def estimate_labels(estimate: Mapping[str, Any]) -> Labels:
    """The labels the classifier's verdict states (``Verdict.to_dict()``: quality, artifact, severity)."""
    return Labels(int(estimate["quality"]), estimate.get("artifact", "none"), estimate.get("severity", "none"))


def signal_evidence(values: Mapping[str, float], labels: Labels, catalogue: dict[str, Any] | None = None) -> list[str]:
    """The metrics behind the verdict that the report cites (:func:`mmrqa.qa.answers.evidence_metrics`), judged with
    ``catalogue`` (default the catalogue; the pipeline passes the ranges that fit the scan)."""
    default, indicators = default_catalogue()
    finite = {k: v for k, v in values.items() if v == v}
    return evidence_metrics(finite, labels, default if catalogue is None else catalogue, indicators)


def signal_report(
    values: Mapping[str, float],
    labels: Labels,
    catalogue: dict[str, Any] | None = None,
    drivers: Sequence[str] = (),
    lights: Mapping[str, Mapping[str, Any]] | None = None,
) -> str:
    """The metrics-only report: quality and usability, the artifact, the metrics behind the verdict, and a note that
    no image model was run.

    Args:
        values: the scan's per-volume metrics (NaN values are left out).
        labels: the classifier's estimate (:func:`estimate_labels`).
        catalogue: the ranges the cited metrics are judged with (default the catalogue; the pipeline passes those
            that fit the scan, :func:`mmrqa.metrics.ranges.catalogue_for`, so that report and lights agree).
        drivers: the metrics that drove the classifier's verdict (``Verdict.drivers``), cited first.
        lights: the assessment's lights (``Assessment.metric_info``): a scan rated clean whose lights show red gets
            :func:`unexplained_lights`.
    """
    catalogue = default_catalogue()[0] if catalogue is None else catalogue
    finite = {k: v for k, v in values.items() if v == v}
    cited = [d for d in drivers if d in finite and d in catalogue]
    cited += [m for m in signal_evidence(finite, labels, catalogue) if m not in cited]
    expected = {"quality": labels.quality_word, "usable": labels.usable, "artifact": labels.artifact}
    expected.update(severity=labels.severity, metrics={m: finite[m] for m in cited})
    text = report_text(expected, finite, catalogue)
    if labels.artifact == "none":
        text += unexplained_lights(lights or {}, finite)
    return text + "\n" + REPORT_NOTE


def unexplained_lights(lights: Mapping[str, Mapping[str, Any]], values: Mapping[str, float]) -> str:
    """For a scan rated clean, the sentence (with a leading newline) naming the metrics whose light is red anyway
    and why the verdict stands, so that the report and the lights tell one story ("" when no light is red).
    ``lights``: ``Assessment.metric_info`` (its ``light``, ``unit`` and, judged against a cohort, ``z``)."""
    red = [name for name, info in lights.items() if info.get("light") == "red" and name in values]
    if not red:
        return ""
    listed = ", ".join(
        f"{name} = {format_value(values[name])} {lights[name].get('unit') or ''}".rstrip() for name in red
    )
    if any(lights[name].get("z") is not None for name in red):
        return (
            f"\nOutside your cohort's range but not read as an artifact: {listed}. None of them is the indicator of "
            "an artifact kind; the classifier weighs every metric together: look at the images if in doubt."
        )
    return (
        f"\nOutside the reference ranges but not read as an artifact: {listed}. The ranges are approximations for "
        "many protocols and the classifier weighs every metric together against clean real scans, so a metric "
        "outside them is not a finding by itself: look at the images if in doubt."
    )


def uncertain_report(candidates: Sequence[tuple[str, float]], severity: str | None, present: float | None) -> str:
    """The report of a verdict whose artifact kind is withheld: an artifact is likely (probability ``present``, of
    ``severity``), the leading candidate kinds with their probabilities, and what to do."""
    named = ", ".join(f"{k.replace('_', ' ')} {p:.2f}" for k, p in candidates)
    likely = f"An artifact is likely (p = {present:.2f}, {severity or 'severity unknown'})" if present else "Uncertain"
    return (
        f"{likely}, but the metrics do not settle its kind (candidates: {named}). Look at the images before "
        "deciding.\n" + REPORT_NOTE
    )


#: The artifact the example questions ask about, and the metric: its indicator, one of the signal summary's metrics,
#: which are the only ones a model sees in its prompt and is trained to state (metric-value questions target them).
EXAMPLE_ARTIFACT = "ghosting"


def example_questions(types: tuple[str, ...] | None = None) -> list[str]:
    """The first phrasing of each question type of the bank (all types by default), about :data:`EXAMPLE_ARTIFACT`
    and its indicator metric (``pe_correlation``)."""
    metric = default_catalogue()[1][EXAMPLE_ARTIFACT]
    return [PHRASINGS[t][0].format(artifact=EXAMPLE_ARTIFACT, metric=metric) for t in (types or tuple(PHRASINGS))]


def signal_answer(
    question: str, report: Any, estimate: Mapping[str, Any], catalogue: dict[str, Any] | None = None
) -> str:
    """Answer a question from the metrics alone: the grounded template of the question-bank question it matches.

    Args:
        question: the question, in words (recognised with :func:`mmrqa.pipeline.interpret.classify_question`).
        report: the scan's ``MetricReport``.
        estimate: the signal classifier's estimate of that scan (``Assessment.signal_estimate``).
        catalogue: the ranges an answer cites (default the catalogue; a front end passes those of the assessment's
            lights, ``MMRQAPipeline.catalogue_of``).

    Returns:
        The answer; for a question outside the bank, a sentence listing the questions it can answer.
    """
    asked = classify_question(question.strip())
    if estimate.get("quality") is None or estimate.get("artifact") is None:
        why = estimate.get("domain_reason") or "the metrics do not settle the kind of artifact"
        return f"Without an image model I cannot answer about this scan: {why}."
    if asked.type is None or question_type(asked.type).images > 1:  # a comparison needs a second scan
        examples = "; ".join(f"*{q}*" for q in example_questions())
        return f"Without an image model I can answer the question-bank questions, for example: {examples}"
    default, indicators = default_catalogue()
    catalogue = default if catalogue is None else catalogue
    expected = truth(asked, report, estimate_labels(estimate), catalogue, indicators)
    if expected is None:
        return "The metrics do not determine an answer to that question."
    return render_answer(asked, expected, report, catalogue, np.random.default_rng(0))
