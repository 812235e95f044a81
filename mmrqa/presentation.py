"""How metric values are shown to people: traffic lights against reference ranges, table rows, per-slice series.

A traffic light compares a value with its catalogue entry's ``reference_range`` (the range in which the value is
called acceptable, :mod:`mmrqa.metrics.catalogue`):

* ``green``: inside the range (bounds included), the rule the grounded answers of :mod:`mmrqa.qa` use;
* ``amber``: outside it, but by at most ``AMBER_MARGIN`` of the range's scale: the width ``high - low`` when both
  bounds are finite, else the size ``|bound|`` of the one finite bound (1 when that bound is 0). A value just
  over a limit is worth a look, not an alarm;
* ``red``: further out;
* ``grey``: no range (raw intensities, counts) or no value (NaN: e.g. no background in the field of view).

The ranges that fit one scan come from :func:`mmrqa.metrics.ranges.catalogue_for` (pass its result as
``catalogue``). Against a reference cohort (:class:`mmrqa.metrics.cohort.CohortReference`, pass it as ``cohort``)
the light is set by the robust z-score instead (:func:`cohort_light`): green within the amber limit of the cohort or
on the better side, amber up to the red limit, red beyond (3.5 and 5 robust SD, widened for a small cohort:
:func:`mmrqa.metrics.cohort.z_limits`).

Nothing here imports a model, a UI toolkit or pandas: any front end (the Space, a notebook) can use it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from mmrqa.errors import InvalidArgumentError
from mmrqa.metrics import CATALOGUE
from mmrqa.metrics.catalogue import has_light, is_acceptable, reference_range
from mmrqa.metrics.cohort import CohortReference
from mmrqa.qa.answers import describe_range, format_value
from mmrqa.qa.questions.usability import USABILITY_WORDS

LIGHTS = ("green", "amber", "red", "grey")
#: Symbols of the lights for text tables (colour plus a distinct shape, readable without colour vision).
LIGHT_SYMBOLS = {"green": "🟢", "amber": "🟠", "red": "🔴", "grey": "⚪"}
#: Fraction of a range's scale within which a value outside the range is amber rather than red.
AMBER_MARGIN = 0.25
#: Per-slice series derived from the default profile's per-slice measures: name -> (numerator, denominator, meaning).
DERIVED_SERIES = {
    "slice_snr": (
        "fg_mean",
        "fg_std",
        "Slice SNR: mean over the head mask / standard deviation over the head mask of that slice "
        "(MRIQC's snr applied to the whole head; higher is better).",
    ),
}


def traffic_light(name: str, value: float | None, catalogue: dict[str, Any] | None = None) -> str:
    """The light of one metric value: ``green``, ``amber``, ``red`` or ``grey`` (see the module docstring).

    Args:
        name: a metric name of the catalogue (unknown names are grey).
        value: the value; None or NaN gives grey.
        catalogue: name -> entry with ``reference_range`` (default: :data:`mmrqa.metrics.CATALOGUE`).

    Returns:
        One of :data:`LIGHTS`.
    """
    catalogue = CATALOGUE if catalogue is None else catalogue
    bounds = reference_range(catalogue, name)
    if bounds is None or value is None or not math.isfinite(float(value)):
        return "grey"
    value = float(value)
    if is_acceptable(value, bounds):
        return "green"
    low, high = bounds
    if low is not None and high is not None and high > low:
        scale = high - low
    else:
        bound = low if low is not None else high
        scale = abs(bound) or 1.0  # type: ignore[arg-type]
    distance = (low - value) if (low is not None and value < low) else (value - high)  # type: ignore[operator]
    return "amber" if distance <= AMBER_MARGIN * scale else "red"


def describe_metric(
    name: str, value: float, catalogue: dict[str, Any] | None = None, cohort: CohortReference | None = None
) -> dict[str, Any]:
    """What a reader is told about one metric value: the catalogue's meaning, unit, direction and reference, the
    acceptable range, whether the value lies in it and its traffic light.

    Args:
        name: a metric name (an unknown name gets empty texts, no range and a grey light).
        value: the value (NaN: ``acceptable`` is None and the light grey).
        catalogue: default :data:`mmrqa.metrics.CATALOGUE`; the scan's own ranges come from
            :func:`mmrqa.metrics.ranges.catalogue_for`, a cohort's from :meth:`CohortReference.catalogue`.
        cohort: judge the value by its robust z-score against this cohort (pass ``cohort.catalogue()`` as
            ``catalogue`` so that the range shown is the cohort's).

    Returns:
        ``meaning``, ``unit``, ``higher_is_better`` (True, False or None), ``reference_range`` (``[low, high]`` with
        None for an open side, or None), ``acceptable`` (None without a range or a value), ``light``
        (:data:`LIGHTS`), ``reference`` (the citation), ``range_basis`` (where the range comes from) and ``z`` (the
        robust z-score against ``cohort``, else None), in that order.
    """
    catalogue = CATALOGUE if catalogue is None else catalogue
    info = catalogue.get(name)
    bounds = reference_range(catalogue, name)
    hib = getattr(info, "higher_is_better", None)
    z = cohort.z(name, value) if cohort is not None else None
    return {
        "meaning": getattr(info, "meaning", "") or "",
        "unit": getattr(info, "unit", "") or "",
        "higher_is_better": hib,
        "reference_range": list(bounds) if bounds else None,
        "acceptable": is_acceptable(value, bounds) if bounds and value == value else None,
        "light": traffic_light(name, value, catalogue) if cohort is None else cohort.light(name, value, hib),
        "reference": getattr(info, "reference", "") or "",
        "range_basis": getattr(info, "range_basis", "") or "",
        "z": None if z is None or z != z else round(z, 3),
    }


def metric_descriptions(
    values: dict[str, float], catalogue: dict[str, Any] | None = None, cohort: CohortReference | None = None
) -> dict[str, dict[str, Any]]:
    """:func:`describe_metric` of each catalogued metric that has a reference range in :data:`~mmrqa.metrics.CATALOGUE`
    or is an artifact indicator (the ``metric_info`` of an :class:`~mmrqa.pipeline.assessment.Assessment`), judged
    with ``catalogue`` (the scan's ranges) or ``cohort``; a metric with no range for this scan is kept, grey."""
    return {name: describe_metric(name, value, catalogue, cohort) for name, value in values.items() if has_light(name)}


@dataclass(frozen=True)
class MetricRow:
    """One row of a metrics table.

    Attributes:
        name: metric name.
        value: the value (NaN when undefined).
        text: the value as shown (3 significant digits, ``n/a`` for NaN).
        unit: the catalogue's unit.
        light: traffic light (:data:`LIGHTS`).
        acceptable: the reference range in words, or "" when there is none.
        better: "higher", "lower" or "".
        meaning: the catalogue's one-line meaning.
    """

    name: str
    value: float
    text: str
    unit: str
    light: str
    acceptable: str
    better: str
    meaning: str

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["value"] = None if not math.isfinite(self.value) else self.value
        return out


def metric_rows(
    values: dict[str, float],
    catalogue: dict[str, Any] | None = None,
    *,
    with_range_only: bool = False,
    cohort: CohortReference | None = None,
) -> list[MetricRow]:
    """Table rows for per-volume metric values, in the catalogue's order (unknown names last).

    Args:
        values: name -> value (a ``MetricReport.values``).
        catalogue: default :data:`mmrqa.metrics.CATALOGUE`.
        with_range_only: keep only metrics that have a reference range in :data:`~mmrqa.metrics.CATALOGUE` (the ones
            a light can judge on some scan; those without a range for this scan are kept, grey).
        cohort: judge by robust z-score against this cohort (see :func:`describe_metric`).

    Returns:
        One :class:`MetricRow` per metric.
    """
    catalogue = CATALOGUE if catalogue is None else catalogue
    order = {name: k for k, name in enumerate(catalogue)}
    rows = []
    for name in sorted(values, key=lambda n: order.get(n, len(order))):
        value = float("nan") if values[name] is None else float(values[name])
        about = describe_metric(name, value, catalogue, cohort)
        bounds = about["reference_range"]
        if with_range_only and reference_range(CATALOGUE, name) is None:
            continue
        rows.append(
            MetricRow(
                name=name,
                value=value,
                text=format_value(value) if math.isfinite(value) else "n/a",
                unit=about["unit"],
                light=about["light"],
                acceptable=_acceptable_words(name, bounds, about["range_basis"]),
                better={True: "higher", False: "lower"}.get(about["higher_is_better"], ""),
                meaning=about["meaning"],
            )
        )
    return rows


def _acceptable_words(name: str, bounds, basis: str) -> str:
    """The range in words; for a metric whose catalogue range does not apply to this scan, why not."""
    if bounds:
        return describe_range(bounds).removeprefix("it is ").removeprefix("the ")
    if reference_range(CATALOGUE, name) is None:
        return ""
    return f"not judged on this scan ({basis.split(':', 1)[0]})" if basis else "not judged on this scan"


def light_counts(rows: list[MetricRow]) -> dict[str, int]:
    """How many rows have each light (every light present, zeros included)."""
    return {light: sum(row.light == light for row in rows) for light in LIGHTS}


def slice_series(per_slice: dict[str, np.ndarray], slice_indices: np.ndarray) -> dict[str, tuple[np.ndarray, str]]:
    """Per-slice series to plot: the report's own measures plus :data:`DERIVED_SERIES` when their inputs exist.

    Args:
        per_slice: ``MetricReport.per_slice`` (name -> values over ``slice_indices``).
        slice_indices: ``MetricReport.slice_indices``.

    Returns:
        name -> (values as float64 over ``slice_indices``, meaning); derived series first.

    Raises:
        InvalidArgumentError: a series' length differs from ``slice_indices``.
    """
    n = len(slice_indices)
    for name, values in per_slice.items():
        if len(values) != n:
            raise InvalidArgumentError(f"per-slice series {name!r} has {len(values)} values for {n} slices")
    out: dict[str, tuple[np.ndarray, str]] = {}
    for name, (num, den, meaning) in DERIVED_SERIES.items():
        if num in per_slice and den in per_slice:
            top, bottom = np.asarray(per_slice[num], float), np.asarray(per_slice[den], float)
            with np.errstate(divide="ignore", invalid="ignore"):
                out[name] = (np.where(bottom > 0, top / bottom, np.nan), meaning)
    for name, values in per_slice.items():
        info = CATALOGUE.get(name)
        meaning = getattr(info, "meaning", "") or f"{name} of each slice"
        out[name] = (np.asarray(values, dtype=float), meaning)
    return out


# -- tables and verdicts as a page shows them --------------------------------------------------------------------------
#: Words of the lights in a metrics table (the README's "ok / borderline / out").
LIGHT_WORDS = {"green": "ok", "amber": "borderline", "red": "out", "grey": "n/a"}
#: What each light says in a sentence (the CLI's drivers and metrics, the report's pages): amber is a value *outside*
#: the range by at most ``AMBER_MARGIN`` of its width (or beyond the cohort's limit short of ``Z_RED``), so it is not
#: "near" the limit but just past it, and a report that calls the value not acceptable agrees with it.
LIGHT_PHRASES = {
    "green": "in range",
    "amber": "just outside the range",
    "red": "out of range",
    "grey": "not judged",
}
#: The same lights when they judge a reference cohort's robust z-score: amber is then any value between the outlier
#: limit and the red limit, which a small cohort sets far apart (11.5 and 62 robust SD for 5 scans), not "just" out.
COHORT_LIGHT_PHRASES = {
    "green": "inside the cohort's range",
    "amber": "outside the cohort's range",
    "red": "far outside the cohort's range",
    "grey": "not judged",
}
#: Background colours of the lights (pale, so that black text on them stays readable).
LIGHT_COLOURS = {"green": "#b7e4c7", "amber": "#ffd8a8", "red": "#ffb3b3", "grey": "#e9ecef"}
#: The light as one word in a table judged against a reference cohort (amber spans a wide band for a small cohort).
COHORT_LIGHT_WORDS = {"green": "ok", "amber": "outside", "red": "far out", "grey": "n/a"}
#: CSS of a table cell holding a light's word (either set of words).
LIGHT_STYLES = {
    words[light]: f"background-color: {colour}"
    for words in (LIGHT_WORDS, COHORT_LIGHT_WORDS)
    for light, colour in LIGHT_COLOURS.items()
}
#: The light of each rating word.
RATING_LIGHTS = {"good": "green", "medium": "amber", "bad": "red"}
METRIC_TABLE_COLUMNS = ["light", "metric", "value", "unit", "acceptable", "better", "meaning"]
ARTIFACT_TABLE_COLUMNS = ["artifact", "severity", "probability", "votes"]


def metric_table(
    values: dict[str, float], catalogue: dict[str, Any] | None = None, cohort: CohortReference | None = None
) -> list[list[str]]:
    """Rows of :data:`METRIC_TABLE_COLUMNS` for the metrics that have a reference range, the light as a word, judged
    with ``catalogue`` (the ranges that fit the scan: :func:`mmrqa.metrics.ranges.catalogue_for`), or against
    ``cohort`` (its robust z-scores and ranges) when given."""
    words = LIGHT_WORDS
    if cohort is not None:
        catalogue, words = cohort.catalogue(), COHORT_LIGHT_WORDS
    return [
        [words[r.light], r.name, r.text, r.unit, r.acceptable, r.better, r.meaning]
        for r in metric_rows(values, catalogue, with_range_only=True, cohort=cohort)
    ]


def lights_sentence(values: dict[str, float], catalogue: dict[str, Any] | None = None) -> str:
    """How many metrics are in each light, in words: ``"9 ok, 2 borderline, 3 out"`` (lights with none left out)."""
    counts = light_counts(metric_rows(values, catalogue, with_range_only=True))
    return ", ".join(f"{n} {LIGHT_WORDS[light]}" for light, n in counts.items() if n)


def artifact_table(assessment: Any) -> list[list[Any]]:
    """Rows of :data:`ARTIFACT_TABLE_COLUMNS` for an assessment's artifacts (if none, one row in the words of
    ``Assessment.artifact_text``: "none detected", or an artifact of uncertain kind with its candidates). Votes (the
    slices whose answers named the artifact) exist in model mode only: blank otherwise, not a count of 0."""
    voted = assessment.mode == "model"
    rows = [
        [
            a.kind,
            a.severity or "not stated",
            "" if a.probability is None else f"{a.probability:.2f}",
            a.votes if voted else "",
        ]
        for a in assessment.artifacts
    ]
    return rows or [[assessment.artifact_text(), "", "", 0 if voted else ""]]


def verdict_markdown(assessment: Any, notice: str = "") -> str:
    """The verdict of an assessment as markdown: the rating on its light's colour, usability, artifacts, mode and how
    far it can be trusted (``Assessment.trust_markdown``), then ``notice``. Outside the domain: "Not rated" and the
    reason, no conclusions."""
    trust = assessment.trust_markdown()
    if not assessment.rated:
        verdict = f"## Not rated\n\n{trust}\n**Mode:** {assessment.mode}"
        return f"{verdict}\n\n{notice}" if notice else verdict
    colour = LIGHT_COLOURS[RATING_LIGHTS.get(assessment.rating, "grey")]
    usability = USABILITY_WORDS.get(assessment.usability, "usability ?")
    model = f" ({assessment.model})" if assessment.model else ""
    verdict = (
        f"## <span style='background:{colour};padding:0 .4em'>Rating: {assessment.rating or 'undetermined'}</span>"
        f"\n\n**Usability:** {usability}  \n**Artifacts:** {assessment.artifact_text()}  \n"
        f"**Mode:** {assessment.mode}{model}\n\n{trust}"
    )
    if str(getattr(assessment, "reference", "")).startswith("cohort"):
        verdict += f"- **Judged with:** {assessment.reference}\n"
    return f"{verdict}\n{notice}" if notice else verdict


def report_markdown(assessment: Any) -> str:
    """An assessment's report as a markdown block quote (``(no report)`` when empty; withheld outside the domain)."""
    text = (assessment.report or "(no report)") if assessment.rated else "(not rated: outside the domain)"
    return "\n".join(f"> {line}" for line in text.splitlines())
