"""``Assessment``: what the pipeline concludes about one scan, and its JSON / markdown / text forms.

An assessment holds the evidence (the scan's metrics with their catalogue descriptions, the slices shown and every
answer the model gave about each slice) and the conclusions drawn from it: the volume-level rating with the
slice-level votes behind it, the detected artifacts with their severity, usability and the report text. ``mode``
says what produced the conclusions: ``"model"`` (a multimodal LLM, named in ``model``) or ``"metrics-only"`` (the
signal classifier of :mod:`mmrqa.classifier`). In model mode a field the model's answers leave unstated
(no answer parsed) comes from the signal classifier instead, so a readable scan always has a rating; ``sources`` says
where each field of the verdict came from (``"model"`` or ``"signal"``), and every form lists the fields that came from
the signal classifier in model mode. The fields never contradict each other (:mod:`mmrqa.pipeline.consistency`: the
rating is the verdict of record, usability follows it, the report states it); ``notes`` says what that changed. A
scan that could not be assessed is an assessment with ``error`` set and no conclusions (batch runs report it and go
on).

Three fields say how far the conclusions can be trusted (filled by the metrics-only classifier; None when unknown):
``confidence`` (the calibrated probability of the rating; below :data:`LOW_CONFIDENCE` the report says the verdict is
uncertain), ``in_domain`` with ``domain_reason`` (False: the input is unlike the scans the tool was trained on; every
form then says so and why and shows no rating, usability or artifacts) and ``drivers`` (the metrics that drove the
verdict, which the forms cite with their value and traffic light, so the lights and the verdict tell one story).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

from mmrqa.presentation import COHORT_LIGHT_PHRASES, LIGHT_PHRASES, LIGHT_SYMBOLS
from mmrqa.qa.answers import format_value
from mmrqa.qa.questions.usability import USABILITY_WORDS

MODES = ("model", "metrics-only")
#: The light of every metric of an input outside the domain: the ranges of MR scans say nothing about it.
_NOT_JUDGED = {"light": "grey", "acceptable": None}
#: the fields of the verdict, each from the model or from the signal classifier (``Assessment.sources``).
VERDICT_FIELDS = ("rating", "usability", "artifacts")
_FALLBACK = "Signal fallback"
_CONSISTENCY = "Consistency"
_COHORT = "Cohort"
#: Confidence below which a verdict is reported as uncertain (a calibrated probability: below 0.6 the rating is
#: wrong about as often as one time in two or three, too often to act on without a look at the images).
LOW_CONFIDENCE = 0.6
#: The traffic lights in a line of text: symbol (colour plus a distinct shape) and phrase.
_LIGHT_WORDS = {light: f"{LIGHT_SYMBOLS[light]} {LIGHT_PHRASES[light]}" for light in LIGHT_PHRASES}
_COHORT_LIGHT_WORDS = {light: f"{LIGHT_SYMBOLS[light]} {COHORT_LIGHT_PHRASES[light]}" for light in LIGHT_PHRASES}


def _light_words(info: dict[str, Any]) -> str:
    """A metric's light in words: against the scan's ranges, or against a reference cohort when it has a z-score."""
    light = info.get("light") or "grey"
    words = _COHORT_LIGHT_WORDS if info.get("z") is not None else _LIGHT_WORDS
    return words.get(light, light)


@dataclass
class SliceAnswer:
    """One answer of the model about one slice: the question, its type when known, the text and its parsed value."""

    slice_index: int
    question: str
    question_type: str | None
    answer: str
    parsed: Any = None


@dataclass
class ArtifactFinding:
    """A detected artifact: kind, severity (None when not stated), slices whose answers named it, and the
    classifier's probability of the kind (metrics-only mode)."""

    kind: str
    severity: str | None
    votes: int = 0
    probability: float | None = None


def json_safe(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        return json_safe(value.item())
    return value


@dataclass
class Assessment:
    """The quality assessment of one scan (see the module docstring)."""

    source: str
    mode: str = "metrics-only"
    model: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    metric_info: dict[str, dict[str, Any]] = field(default_factory=dict)
    rating: str | None = None
    slice_votes: dict[int, str | None] = field(default_factory=dict)
    artifacts: list[ArtifactFinding] = field(default_factory=list)
    usability: str | None = None
    report: str = ""
    answers: list[SliceAnswer] = field(default_factory=list)
    slices: list[int] = field(default_factory=list)
    plane: str = "axial"
    signal_enhanced: bool = True
    signal_estimate: dict[str, Any] | None = None
    timings: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    confidence: float | None = None
    in_domain: bool | None = None
    domain_reason: str | None = None
    drivers: list[str] = field(default_factory=list)
    scan_context: dict[str, Any] | None = None
    reference: str = ""
    sources: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: what the reference cohort changed in the signal verdict, and why (:mod:`mmrqa.classifier.cohort`); "" if nothing
    cohort_note: str = ""

    @classmethod
    def failed(cls, source: str, error: str, mode: str = "metrics-only", model: str | None = None) -> Assessment:
        """The entry of a scan that could not be assessed."""
        return cls(source=source, mode=mode, model=model, error=error)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def rated(self) -> bool:
        """Whether the conclusions may be shown: assessed, and not reported outside the domain."""
        return self.ok and self.in_domain is not False

    @property
    def low_confidence(self) -> bool:
        return self.confidence is not None and self.confidence < LOW_CONFIDENCE

    # -- serialisations ----------------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (non-finite numbers become null; slice indices become string keys in ``slice_votes``).

        Outside the domain (``in_domain`` False) the conclusions are withheld as in the other forms: ``rating``,
        ``usability`` and ``report`` are null and ``artifacts`` is empty."""
        data = asdict(self)
        data["slice_votes"] = {str(k): v for k, v in self.slice_votes.items()}
        if self.in_domain is False:
            data.update(rating=None, usability=None, artifacts=[], report=None)
            data["metric_info"] = {name: {**info, **_NOT_JUDGED} for name, info in data["metric_info"].items()}
        return json_safe(data)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def _verdict_lines(self) -> list[tuple[str, str]]:
        mode = self.mode + (f" ({self.model})" if self.model else "")
        mode += "" if self.signal_enhanced or self.mode != "model" else ", signal metrics not shown"
        if self.in_domain is False:
            reason = self.domain_reason or "it is unlike the scans the tool was trained on"
            return [
                ("Mode", mode),
                ("Domain", f"outside what the tool was trained on: {reason}"),
                ("Rating", "not rated (the verdict of the tool means nothing on such an input)"),
            ]
        votes = ", ".join(f"slice {k}: {v or 'unreadable'}" for k, v in self.slice_votes.items())
        rating = self.rating or "undetermined"
        if votes:
            rating += f" (votes: {votes})"
        elif self.signal_estimate and self.confidence is None and self.signal_estimate.get("confidence") is not None:
            rating += f" (probability {self.signal_estimate['confidence']:.2f})"
        lines = [("Mode", mode), ("Rating", rating)]
        if self.confidence is not None:
            share = (self.signal_estimate or {}).get("clean_share") if self.mode == "metrics-only" else None
            notes = ["low: the verdict is uncertain; look at the images"] if self.low_confidence else []
            notes += [f"if {share:.0%} of the scans you assess are clean"] if share else []
            lines.append(("Confidence", f"{self.confidence:.2f}" + (f" ({'; '.join(notes)})" if notes else "")))
        lines += [
            ("Artifacts", self.artifact_text(detail=True)),
            ("Usability", USABILITY_WORDS.get(self.usability, "?")),
        ]
        fallback = [name for name in VERDICT_FIELDS if self.sources.get(name) == "signal"]
        if fallback and self.mode == "model":
            why = "from the signal classifier: the model gave no readable answer"
            lines.append((_FALLBACK, f"{', '.join(fallback)} {why}"))
        if self.notes:
            lines.append((_CONSISTENCY, "; ".join(self.notes)))
        if self.cohort_note:
            lines.append((_COHORT, self.cohort_note))
        if self.drivers:
            drivers = "; ".join(self._driver_text(name) for name in self.drivers)
            lights = {(self.metric_info.get(name) or {}).get("light") for name in self.drivers}
            if self.rating == "bad" and not lights & {"amber", "red"}:  # say so when the two stories differ
                drivers += self._unsupported_note()
            lines.append(("Drivers", drivers))
        return lines

    def _unsupported_note(self) -> str:
        """What the lights say of a bad rating whose drivers are all inside this scan's ranges: the metrics outside
        them, if any (they support the rating without having driven it), else that none supports it."""
        outside = [
            name
            for name, info in self.metric_info.items()
            if (info or {}).get("light") in ("amber", "red") and name not in self.drivers
        ]
        if outside:
            return f" (no driver lies outside this scan's ranges; these metrics do: {', '.join(outside)})"
        return " (no metric is outside this scan's ranges: the lights do not support this rating)"

    def artifact_text(self, detail: bool = False) -> str:
        """The artifacts found, in words (``detail``: with the classifier's probability and the slices that named
        each). With none listed, "none detected", unless the signal classifier found an artifact whose kind it could
        not settle: then that is said, with its candidates, so a bad rating never stands beside "none detected"; nor
        does a medium or bad rating with no artifact listed (its kind is then said to be undetermined)."""
        found = [
            f"{a.kind.replace('_', ' ')} ({a.severity or 'severity not stated'})"
            + (f", p={a.probability:.2f}" if detail and a.probability is not None else "")
            + (f", named on {a.votes} slice(s)" if detail and a.votes else "")
            for a in self.artifacts
        ]
        if found:
            return "; ".join(found)
        estimate = self.signal_estimate or {}
        if estimate.get("uncertain") and self.sources.get("artifacts", "signal") == "signal":
            named = ", ".join(f"{kind.replace('_', ' ')} {p:.2f}" for kind, p in estimate.get("candidates") or [])
            severity = estimate.get("severity") or "severity not stated"
            return f"an artifact of uncertain kind ({severity}" + (f"; candidates: {named})" if named else ")")
        if self.rating in ("medium", "bad"):  # a degraded rating means a visible artifact: never "none detected"
            return f"none identified (a {self.rating} rating means a visible artifact: its kind is not determined)"
        return "none detected"

    def _driver_text(self, name: str) -> str:
        """One metric that drove the verdict: its value and its traffic light (e.g. ``efc 0.62 🔴 out of range``); a
        classifier feature that is not a metric (no range, no light): its value beside the clean scans' median."""
        value = self.metrics.get(name)
        known = ((self.signal_estimate or {}).get("driver_values") or {}).get(name)
        if (value is None or not math.isfinite(value)) and known:
            return f"{name} {_num(known['value'])} (clean scans' median {_num(known['clean_median'])})"
        return f"{name} {_num(value)} {_light_words(self.metric_info.get(name) or {})}"

    def _metric_rows(self) -> list[tuple[str, str, str, str]]:
        rows = []
        for name, info in self.metric_info.items():
            value = self.metrics.get(name)
            if value is None or not math.isfinite(value):
                continue
            low, high = info.get("reference_range") or (None, None)
            bounds = "" if low is None and high is None else f"{_num(low)} to {_num(high)}"
            if self.in_domain is False:  # ranges of MR scans say nothing about this input
                info = {**info, **_NOT_JUDGED}
            verdict = (
                _light_words(info)
                if info.get("light")
                else {True: "ok", False: "out of range", None: ""}[info.get("acceptable")]
            )
            if info.get("z") is not None:  # judged against a reference cohort
                verdict += f" (z {info['z']:+.1f})"
            rows.append((name, f"{_num(value)} {info.get('unit') or ''}".strip(), bounds, verdict))
        return rows

    def trust_markdown(self) -> str:
        """The markdown lines on how far the verdict can be trusted (domain, confidence, drivers, the fields that came
        from the signal classifier), for a UI that lays out the rating itself (the Space); empty when none is known."""
        keys = ("Domain", "Confidence", "Drivers", _FALLBACK, _CONSISTENCY, _COHORT)
        return "".join(f"- **{key}:** {value}\n" for key, value in self._verdict_lines() if key in keys)

    def to_text(self) -> str:
        """A plain-text report for a terminal."""
        if not self.ok:
            return f"{self.source}: ERROR {self.error}\n"
        lines = [f"== {self.source}"]
        lines += [f"{key + ':':<10} {value}" for key, value in self._verdict_lines()]
        if self.report and self.rated:
            lines += ["Report:"] + [f"  {line}" for line in self.report.splitlines()]
        rows = self._metric_rows()
        if rows:
            lines.append("Metrics (value, acceptable range, verdict):")
            if self.reference and self.in_domain is not False:
                lines.append(f"  judged with {self.reference}")
            width = [max(len(row[i]) for row in rows) for i in range(3)]  # columns as wide as their longest cell
            lines += [f"  {n:<{width[0]}} {v:<{width[1]}} {b:<{width[2]}} {ok}".rstrip() for n, v, b, ok in rows]
        extra = [a for a in self.answers if a.question_type not in _STANDARD]
        if extra:
            lines.append("Answers:")
            lines += [f"  [slice {a.slice_index}] {a.question} -> {a.answer}" for a in extra]
        return "\n".join(lines) + "\n"

    def to_markdown(self) -> str:
        """A markdown report (a heading, the verdict, the report, the metric table)."""
        if not self.ok:
            return f"### {self.source}\n\n**Error:** {self.error}\n"
        lines = [f"### {self.source}", ""]
        lines += [f"- **{key}:** {value}" for key, value in self._verdict_lines()]
        if self.report and self.rated:
            lines += ["", "**Report**", "", *[f"> {line}" for line in self.report.splitlines()]]
        rows = self._metric_rows()
        if rows:
            judged = self.reference and self.in_domain is not False
            lines += [""] + ([f"Metrics judged with {self.reference}.", ""] if judged else [])
            lines += ["| Metric | Value | Acceptable range | Verdict |", "|---|---|---|---|"]
            lines += [f"| {n} | {v} | {b} | {ok} |" for n, v, b, ok in rows]
        extra = [a for a in self.answers if a.question_type not in _STANDARD]
        if extra:
            lines += ["", "| Slice | Question | Answer |", "|---|---|---|"]
            lines += [f"| {a.slice_index} | {a.question} | {a.answer.replace('|', '/')} |" for a in extra]
        return "\n".join(lines) + "\n"


_STANDARD = ("rating", "artifact_type", "usability", "report", "severity")


def _num(value: float | None) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"

    return format_value(value)
