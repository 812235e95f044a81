"""One verdict, one story: the rules that keep the fields of a model-mode ``Assessment`` from contradicting each other.

The model is asked each standard question separately about each slice (rating, artifact type, usability, report,
then the severity of each artifact named), and a field it leaves unstated comes from the signal classifier, so the
fields can disagree: a "bad" rating beside "usable for diagnosis", "good" beside "repeat the scan" or beside a severe
artifact, a degraded rating beside "none detected", a report whose first line states another quality than the
rating, or whose evidence cites numbers that are not the scan's (the metric table below it says otherwise).

The rules, :func:`reconcile`, are the MR-ART scale the model is trained on (:mod:`mmrqa.qa.labels`) read the way a QC
screen must read it, never passing a scan that one of its own answers says is degraded:

1. **The rating is the verdict of record; worse evidence lowers it, never raises it** (as a tie of the slice votes
   goes to the worse rating). A named artifact means at least the quality its severity maps to
   (:data:`~mmrqa.qa.labels.SEVERITY_TO_QUALITY`: mild -> medium, moderate or severe -> bad; an artifact named
   without a stated severity is visible, so at least medium).
2. **Usability follows the rating**: bad -> repeat the scan, good or medium -> usable for diagnosis (the definition
   the training data uses, :func:`~mmrqa.qa.labels.is_usable`). A usability answer that says otherwise is overruled
   and ``sources["usability"]`` becomes the rating's source.
3. **A degraded rating names its artifact or says it cannot**: a medium or bad rating with no artifact named is not
   shown beside "none detected" (:meth:`~mmrqa.pipeline.assessment.Assessment.artifact_text` says the kind is not
   determined), and a rating worse than every stated severity is noted.
4. **The report states the verdict and the scan's own numbers**: the report shown is the model's report (one per
   slice) nearest the middle slice whose quality, usability, artifact and severity agree with the verdict and whose
   cited metric values are this scan's; when none does, the report is written from the verdict and the measured
   metrics (the grounded template the model was trained on) and says so.

Every rule that changes or questions a field adds a sentence to ``Assessment.notes``, which every form shows (text,
markdown, JSON, the Space's trust panel, the cohort report's scan page), so nothing is changed silently; the model's
own answers stay in ``Assessment.answers``. The metrics-only mode needs none of this (one classifier verdict fills
every field) and outside the domain nothing is rated.
"""

from __future__ import annotations

from typing import Any

from mmrqa.pipeline.assessment import ArtifactFinding, Assessment
from mmrqa.qa.answers import default_catalogue, evidence_metrics, format_value, report_text
from mmrqa.qa.labels import SEVERITY_TO_QUALITY, Labels, quality_from_word, quality_word, usability_word
from mmrqa.qa.questions.usability import USABILITY_WORDS

#: The line that ends a report written from the verdict (rule 4).
WRITTEN_NOTE = "(Written from the verdict above and the measured metrics: no report of the model agreed with them.)"
_SEVERITY_RANK = {"none": 0, "mild": 1, "moderate": 2, "severe": 3}


def expected_usability(rating: str) -> str:
    """``"repeat"`` for a bad rating, ``"usable"`` otherwise (rule 2: :func:`mmrqa.qa.labels.is_usable`)."""
    return usability_word(quality_from_word(rating))


def implied_quality(finding: ArtifactFinding) -> int:
    """The best quality score (1 good .. 3 bad) a scan with this artifact can have (rule 1): its severity's, and
    medium for an artifact named without a severity (it is visible)."""
    severity = finding.severity if finding.severity in SEVERITY_TO_QUALITY else "mild"
    return SEVERITY_TO_QUALITY[severity]


def worst_finding(findings: list[ArtifactFinding]) -> ArtifactFinding | None:
    """The most severe artifact (most slices naming it on a tie); None when there is none."""
    if not findings:
        return None
    return max(findings, key=lambda a: (implied_quality(a), _SEVERITY_RANK.get(a.severity or "", 0), a.votes))


def reconcile(result: Assessment, catalogue: dict[str, Any] | None = None) -> None:
    """Apply the rules of the module docstring to a model-mode assessment, in place (``catalogue``: the ranges a
    written report cites the metrics with; default the catalogue). Nothing to do without a rating or outside the
    domain."""
    if result.rating is None or not result.rated or result.mode != "model":
        return
    _lower_rating(result)
    _usability_follows_rating(result)
    _degraded_without_artifact(result)
    _report_states_the_verdict(result, default_catalogue()[0] if catalogue is None else catalogue)


def _lower_rating(result: Assessment) -> None:
    worst = worst_finding(result.artifacts)
    if worst is None or implied_quality(worst) <= quality_from_word(result.rating):
        return
    lowered = quality_word(implied_quality(worst))
    who = "the signal classifier found" if result.sources.get("artifacts") == "signal" else "the model named"
    severity = worst.severity or "visible (severity not stated)"
    result.notes.append(
        f"rating lowered from {result.rating} to {lowered}: {who} a {severity} {_words(worst.kind)} artifact, "
        f"which a {result.rating} scan cannot have"
    )
    result.rating = lowered


def _usability_follows_rating(result: Assessment) -> None:
    expected = expected_usability(result.rating)
    if result.usability == expected:
        return
    if result.usability is not None:
        said = [a.parsed for a in result.answers if a.question_type == "usability" and a.parsed]
        counted = f" on {said.count(result.usability)} of {len(said)} slices" if said else ""
        result.notes.append(
            f"usability follows the rating: the answers said '{USABILITY_WORDS[result.usability]}'{counted}, "
            f"but a {result.rating} scan is '{USABILITY_WORDS[expected]}'"
        )
        result.sources["usability"] = result.sources.get("rating", "model")
    result.usability = expected


def _degraded_without_artifact(result: Assessment) -> None:
    quality = quality_from_word(result.rating)
    if quality > 1 and not result.artifacts and not (result.signal_estimate or {}).get("uncertain"):
        result.notes.append(f"the scan is rated {result.rating} but no artifact was named: look at the images")
    elif result.artifacts and all(implied_quality(a) < quality for a in result.artifacts):
        worst = worst_finding(result.artifacts)
        result.notes.append(
            f"the rating ({result.rating}) is worse than the severity stated for every artifact "
            f"({worst.severity or 'not stated'} {_words(worst.kind)} at worst)"
        )


def _report_states_the_verdict(result: Assessment, catalogue: dict[str, Any]) -> None:
    readable = [a for a in result.answers if a.question_type == "report" and a.parsed]
    if not readable:  # no report asked, or none readable: nothing shown, nothing to reconcile
        return
    agreeing = [a for a in readable if not report_disagreements(a.parsed, result)]
    if agreeing:
        middle = result.slices[len(result.slices) // 2] if result.slices else 0
        result.report = min(agreeing, key=lambda a: abs(a.slice_index - middle)).answer
        return
    shown = next((a for a in readable if a.answer == result.report), readable[0])
    why = "; ".join(report_disagreements(shown.parsed, result))
    result.notes.append(f"the report is written from the verdict: the model's reports disagreed with it ({why})")
    result.report = verdict_report(result, catalogue)


def report_disagreements(parsed: dict[str, Any], result: Assessment) -> list[str]:
    """What a parsed report (:func:`mmrqa.qa.questions.report.parse`) states against the assessment's verdict and
    metrics; empty when it agrees (an unstated field agrees with anything)."""
    problems = []
    if parsed.get("quality") != result.rating:
        problems.append(f"quality {parsed.get('quality') or 'unreadable'} for a {result.rating} rating")
    usable = result.usability == "usable"
    if parsed.get("usable") is not None and parsed["usable"] != usable:
        problems.append(f"'{USABILITY_WORDS['usable' if parsed['usable'] else 'repeat']}'")
    kinds = {a.kind: a for a in result.artifacts}
    stated = parsed.get("artifact")
    if stated == "none" and kinds:
        problems.append(f"no artifact, beside {', '.join(_words(k) for k in kinds)}")
    elif stated not in (None, "none") and stated not in kinds:
        problems.append(f"{_words(stated)}, which the verdict does not list")
    elif stated in kinds and parsed.get("severity") and kinds[stated].severity not in (None, parsed["severity"]):
        problems.append(f"{parsed['severity']} {_words(stated)}, stated {kinds[stated].severity} by the verdict")
    for name, value in (parsed.get("metrics") or {}).items():
        measured = result.metrics.get(name)
        if measured is None or measured != measured:
            problems.append(f"{name} = {value}, a metric this scan does not have")
        elif format_value(measured) != value:
            problems.append(f"{name} = {value}, measured {format_value(measured)}")
    return problems


def verdict_report(result: Assessment, catalogue: dict[str, Any]) -> str:
    """The report of the verdict (rating, usability, worst artifact) citing the scan's measured metrics: the grounded
    template of the report question, ending with :data:`WRITTEN_NOTE`."""
    worst = worst_finding(result.artifacts)
    severity = None if worst is None or worst.severity in (None, "none") else worst.severity
    labels = Labels(quality_from_word(result.rating), None if worst is None else worst.kind, severity)
    if worst is None and result.rating == "good":
        labels = Labels(1, "none", "none")
    values = {k: v for k, v in result.metrics.items() if v == v}
    cited = evidence_metrics(values, labels, catalogue, default_catalogue()[1])
    expected = {"quality": result.rating, "usable": result.usability == "usable", "artifact": labels.artifact}
    expected.update(severity=labels.severity, metrics={m: values[m] for m in cited})
    return report_text(expected, values, catalogue) + "\n" + WRITTEN_NOTE


def _words(kind: str) -> str:
    return kind.replace("_", " ")
