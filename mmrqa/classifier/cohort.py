"""The verdict read beside the user's reference cohort (``mmrqa assess --reference cohort.tsv``).

One scan alone cannot tell a moderate artifact from a protocol that differs: the leave-one-scan-out benchmark finds
14% of moderate noise and 29% of moderate bias fields, because a clean scan of a noisier protocol, or with a stronger
coil shading, has the same levels. Against scans of the *same* protocol the ambiguity goes away: the cohort's robust
z-scores (:mod:`mmrqa.metrics.cohort`) put a scan's noise beside its own protocol's noise. The classifier's verdict is
therefore read against the cohort's lights, at the limits those lights use (Iglewicz and Hoaglin's 3.5 and 5 robust
SD, widened for a small cohort by Student's t: :func:`mmrqa.metrics.cohort.z_limits`; nothing here is fitted):

1. **The cohort finds an artifact the classifier missed.** An artifact kind is *implicated* when its indicator metric
   (:attr:`mmrqa.artifacts.registry.ArtifactKind.indicator`: ``noise_local`` for noise, ``inu_cv`` for a bias field,
   ``sharpness`` for blur, ``truncation`` for ringing, ``spike_energy`` for a spike, ``motion_index`` for motion,
   ``pe_correlation`` for ghosting and undersampling) is red against the cohort (beyond the red limit on its worse
   side). A scan the classifier calls clean with an implicated kind is reported with an artifact: of the implicated
   kinds, the one the artifact head finds most probable (z-scores of different metrics are not comparable: a metric
   the cohort hardly varies in gets a large z from any change, so the farthest indicator is not the likeliest
   kind), at the severity head's most probable grade of mild, moderate and severe.
2. **The cohort does not support a verdict.** A scan the classifier reports with an artifact (named or of uncertain
   kind) while every one of its lights is green against the cohort keeps its verdict, and the note says that none of
   its metrics lies outside the user's scans: a finding that may be a property of the protocol (a coil's shading, a
   sequence's smoothness) rather than of this scan, to be settled by looking at the images. It is not cleared: with
   a cohort of mixed protocols every spread is wide and every light green, and clearing would pass real artifacts
   (measured: judged against the 22 training scans as one "cohort", 5 of 57 severe artifacts the classifier found
   on the three unseen test scans would have been reported clean).
3. Otherwise the classifier's verdict stands.

Whatever the rule, when **more than half of the scan's lit metrics lie beyond the red limit** (:func:`misfit` > 1)
the note adds a caution: a scan of another protocol (sequence, anatomy, resolution, intensity scaling) lies that far
from a cohort, one artifact rarely does, so the cohort may not be this scan's. Nothing is changed by it (a severe
artifact against a very tight cohort can also move most metrics). Measured: artifacts at every severity on 16-slab
cohorts of four other scans (``colin27``, ``fslpy_t1``, the ITK head T1, the noisy MNI152) reach at most 0.72; the
packaged EPI, the multi-frame and 1024-matrix DICOMs and the TCIA pelvic T2w scans against a cohort of six brain T1
scans, 1.2 to 4.7; TCIA scans against the other TCIA scans at most 0.15.

A verdict changed by the cohort (rule 1) has no calibrated probability (``confidence`` None: the heads' probabilities
belong to the verdict that was overruled); both rules say why in a note (:func:`cohort_verdict`). Measured on a real protocol with
its subjects held out: ``benchmarks/cohort_verdict.py`` and ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import replace

from mmrqa.artifacts.registry import ARTIFACT_KINDS
from mmrqa.classifier.predict import SEVERITY_ORDER, Verdict
from mmrqa.metrics.catalogue import CATALOGUE, has_light
from mmrqa.metrics.cohort import CohortReference, worse_z

#: The words by which a note says that the cohort questions a finding (rule 2), for a reader that counts them
QUESTIONED = "the cohort does not support"


def _direction(name: str) -> bool | None:
    return getattr(CATALOGUE.get(name), "higher_is_better", None)


def _worse(reference: CohortReference, name: str, value: float | None) -> float:
    """The robust z-score of a metric against the cohort, positive on its worse side (NaN when not judged)."""
    return worse_z(reference.z(name, value), _direction(name))


def implicated(metrics: dict[str, float], reference: CohortReference) -> dict[str, tuple[str, float]]:
    """Artifact kind -> (its indicator, the indicator's worse-side z) for each kind whose indicator's light is red
    against the cohort (:meth:`CohortReference.light`, the light the user sees)."""
    return {
        kind.name: (kind.indicator, _worse(reference, kind.indicator, metrics.get(kind.indicator)))
        for kind in ARTIFACT_KINDS
        if reference.light(kind.indicator, metrics.get(kind.indicator), _direction(kind.indicator)) == "red"
    }


def outside(metrics: dict[str, float], reference: CohortReference) -> dict[str, float]:
    """Metric -> worse-side z of every metric shown with a light (:func:`mmrqa.metrics.catalogue.has_light`) whose
    light against the cohort is amber or red."""
    return {
        name: _worse(reference, name, value)
        for name, value in metrics.items()
        if has_light(name) and reference.light(name, value, _direction(name)) in ("amber", "red")
    }


def misfit(metrics: dict[str, float], reference: CohortReference) -> float:
    """How far the scan lies from the cohort as a whole: the median, over the metrics shown with a light that the
    cohort judges, of |z| over that metric's red limit (NaN when none is judged). Above 1, more than half of the
    metrics are beyond the red limit on one side or the other."""
    ratios = [
        abs(reference.z(name, value)) / reference.limits(name)[1]
        for name, value in metrics.items()
        if has_light(name) and name in reference.median
    ]
    ratios = [r for r in ratios if not math.isnan(r)]
    return float(statistics.median(ratios)) if ratios else math.nan


def _caution(metrics: dict[str, float], reference: CohortReference) -> str:
    """The sentence of the module docstring when the scan lies from the cohort as a whole (:func:`misfit` > 1)."""
    far = misfit(metrics, reference)
    if not far > 1.0:
        return ""
    return (
        f"more than half of this scan's metrics lie beyond the red limit (median |z| {far:.1f} times it): a scan of "
        "another protocol (sequence, anatomy, resolution, scaling) lies that far from a cohort, one artifact rarely "
        "does; if this scan is not of your cohort's protocol, assess it without the cohort"
    )


def _z_text(items: list[tuple[str, float]]) -> str:
    return ", ".join(
        f"{name} z {z:+.1f}" if math.isfinite(z) else f"{name} (the cohort never varies)" for name, z in items
    )


def cohort_verdict(verdict: Verdict, metrics: dict[str, float], reference: CohortReference) -> tuple[Verdict, str]:
    """The classifier's ``verdict`` read beside the cohort (rules of the module docstring): the verdict to report and
    a note saying what the cohort changed or questions, with the caution when the scan lies from the cohort as a
    whole ("" when nothing). Outside the domain nothing changes."""
    if not verdict.in_domain:
        return verdict, ""
    read, note = _read(verdict, metrics, reference)
    caution = _caution(metrics, reference)
    if caution and not note:
        return read, f"against your cohort {reference.source}, {caution}"
    return read, f"{note}; {caution}" if caution else note


def _read(verdict: Verdict, metrics: dict[str, float], reference: CohortReference) -> tuple[Verdict, str]:
    """Rules 1 to 3 of the module docstring."""
    source = reference.source
    if verdict.artifact == "none":
        kinds = implicated(metrics, reference)
        if not kinds:
            return verdict, ""
        p_kind = verdict.probabilities.get("artifact", {})
        kind = max(kinds, key=lambda k: (p_kind.get(k, 0.0), kinds[k][1]))
        p_sev = verdict.probabilities.get("severity", {})
        severity = max(SEVERITY_ORDER[1:], key=lambda s: p_sev.get(s, 0.0))
        from mmrqa.qa.labels import quality_from_severity

        evidence = sorted({kinds[k] for k in kinds}, key=lambda item: -item[1])
        changed = replace(
            verdict,
            artifact=kind,
            severity=severity,
            quality=quality_from_severity(severity),
            confidence=None,
            uncertain=False,
            drivers=[name for name, _ in evidence],
            driver_values={},
        )
        note = (
            f"against your cohort {source}, {_z_text(evidence)} {'lies' if len(evidence) == 1 else 'lie'} far outside "
            f"(red): reported as "
            f"{kind.replace('_', ' ')}, which the classifier alone (judging the scan without the cohort) called clean "
            f"with confidence {verdict.confidence}; no calibrated probability goes with a cohort finding"
        )
        return changed, note
    if outside(metrics, reference):
        return verdict, ""
    found = (verdict.artifact or "artifact of uncertain kind").replace("_", " ")
    note = (
        f"every metric lies inside your cohort {source}: {QUESTIONED} the {found} the classifier "
        "found; if your cohort is one protocol, this may be a property of the protocol rather than of this scan: "
        "look at the images"
    )
    return verdict, note
