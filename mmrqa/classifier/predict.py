"""From a scan to a verdict: domain check, calibrated heads, one consistent answer, or "not sure".

Order of the decision (:func:`classify`):
1. the image rules of :mod:`mmrqa.classifier.domain`, the novelty score and the photograph check of
   :mod:`mmrqa.classifier.pictures` (single 2D pictures of files that do not say MR; it needs the image statistics
   among the values: :func:`classify` adds them, a dataset's metrics alone skip it): outside the domain -> no
   rating, ``in_domain`` False and the reason;
2. the presence head, under the prior of a clean scan chosen on held-out scans at fitting time
   (:func:`decision_rule`; ``CLEAN_PRIOR`` for a model without one): clean when P(none) >= 0.5, with confidence
   P(none), unless the severity head's most probable grade is "severe" (:func:`severe_signature`);
3. otherwise an artifact is present: its severity is the most probable of mild/moderate/severe (severity head), which
   sets the rating; its kind is the artifact head's most probable kind, with confidence P(present) x P(kind). When
   P(kind) < the model's minimum confidence (``MIN_CONFIDENCE`` without one) the kind is withheld (``uncertain``): the verdict names the leading candidates
   instead of picking one, and its confidence is P(present);
4. the *drivers*: the stated kind's indicator, then the metrics that most set this scan apart from the clean training
   scans among the artifact heads' most used features (standardised distance to the clean median).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from mmrqa.classifier.features import feature_matrix
from mmrqa.classifier.model import SignalModel, load_model
from mmrqa.volume import Volume

MIN_CONFIDENCE = 0.5
#: Share of clean scans among those a user assesses, the prior of the presence head's "none". The head is fitted with
#: balanced classes (a prior of 0.5); scans sent to QC are mostly acceptable (clinical and research QC reject about
#: 5-20%), so its odds are multiplied by CLEAN_PRIOR / (1 - CLEAN_PRIOR) (Bayes' rule for a change of prior, Saerens
#: et al. 2002, Neural Computation 14:21). This value is the fallback, set a priori: a fitted model carries the prior its
#: recipe chose on out-of-fold scores (``meta["decision"]``, :func:`decision_rule`; the shipped model's: 0.9), and
#: ``mmrqa assess --clean-share`` overrides both.
CLEAN_PRIOR = 0.8
SEVERITY_ORDER = ("none", "mild", "moderate", "severe")
DRIVERS = 3


@dataclass
class Verdict:
    """What the classifier concludes about one scan: fields None out of the domain; ``artifact`` None (and
    ``uncertain``) when an artifact is present but its kind is not settled (``candidates`` then name the leading
    kinds)."""

    in_domain: bool
    domain_reason: str | None = None
    artifact: str | None = None
    severity: str | None = None
    quality: int | None = None
    confidence: float | None = None
    uncertain: bool = False
    candidates: list[tuple[str, float]] = field(default_factory=list)
    probabilities: dict[str, dict[str, float]] = field(default_factory=dict)
    drivers: list[str] = field(default_factory=list)
    #: each driver's value and the median of the clean training views (a classifier feature has no reference range)
    driver_values: dict[str, dict[str, float]] = field(default_factory=dict)
    novelty: float | None = None
    #: the share of clean scans the presence verdict assumed (its prior: the model's, or the user's
    #: ``--clean-share``); the confidence holds for a workload with that share
    clean_share: float | None = None

    @property
    def present(self) -> bool | None:
        """Whether an artifact is reported (None out of the domain)."""
        if not self.in_domain:
            return None
        return self.artifact != "none"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def classify(
    volume: Volume,
    report=None,
    model: SignalModel | None = None,
    features: dict[str, float] | None = None,
) -> Verdict:
    """The verdict on ``volume`` (``report``: its full-size default metrics, reused when the scan is small)."""
    from mmrqa.classifier.domain import MR_MODALITIES, image_rules, image_statistics, stated_modality
    from mmrqa.classifier.features import decimate, scan_features

    model = model or load_model()
    small = decimate(volume)
    stats = image_statistics(small)
    reason = image_rules(small, stats, native=volume)
    if reason is not None:
        return Verdict(False, reason)
    values = features if features is not None else scan_features(volume, report, small)
    says_mr = stated_modality(volume, small) in MR_MODALITIES
    return decide(model, {**values, **stats}, check_picture=not says_mr)


def decide(model: SignalModel, values: dict[str, float], check_picture: bool = True) -> Verdict:
    """The verdict from a scan's feature values (steps 2-4 of the module docstring, after the novelty check);
    ``check_picture`` False skips the photograph check (a file that says it is MR)."""
    x = feature_matrix([values], model.features)
    novelty = float(model.novelty.score(x)[0])
    if novelty > model.novelty.threshold:
        unusual = ", ".join(_unusual(model, x[0], model.novelty.center, model.novelty.scale, 3))
        reason = f"its metrics are unlike every training scan (novelty {novelty:.1f} > {model.novelty.threshold:.1f}"
        return Verdict(False, reason + (f"; most unusual: {unusual})" if unusual else ")"), novelty=round(novelty, 3))
    picture = model.picture.reason(values) if model.picture is not None and check_picture else None
    if picture is not None:
        return Verdict(False, picture, novelty=round(novelty, 3))
    clean_prior, min_confidence = decision_rule(model)
    p_pres = with_prior(_probabilities(model, "presence", x), clean_prior)
    p_kind = _probabilities(model, "artifact", x)
    p_sev = _probabilities(model, "severity", x)
    verdict = Verdict(True, probabilities={"presence": p_pres, "artifact": p_kind, "severity": p_sev})
    verdict.novelty, verdict.clean_share = round(novelty, 3), clean_prior
    ranked = sorted(p_kind.items(), key=lambda kv: -kv[1])
    verdict.candidates = [(k, round(p, 4)) for k, p in ranked[:3]]
    p_clean = p_pres.get("none", 0.0)
    if p_clean >= 0.5 and not severe_signature(p_sev):
        verdict.artifact, verdict.severity, verdict.quality = "none", "none", 1
        verdict.confidence = round(p_clean, 4)
        _explain(verdict, model, values, x[0], "none")
        return verdict
    from mmrqa.qa.labels import quality_from_severity

    p_clean = min(p_clean, p_sev.get("none", 0.0)) if p_clean >= 0.5 else p_clean  # the severity head's "none"
    kind, p_best = ranked[0]
    verdict.severity = max(SEVERITY_ORDER[1:], key=lambda s: p_sev.get(s, 0.0))
    verdict.quality = quality_from_severity(verdict.severity)
    if p_best < min_confidence:
        verdict.uncertain, verdict.confidence = True, round(1.0 - p_clean, 4)
        _explain(verdict, model, values, x[0], "none")
        return verdict
    verdict.artifact, verdict.confidence = kind, round((1.0 - p_clean) * p_best, 4)
    _explain(verdict, model, values, x[0], kind)
    return verdict


def severe_signature(p_severity: dict[str, float]) -> bool:
    """Whether the severity head's most probable grade is "severe": an artifact is then reported even when the
    presence head leans clean. The presence head adds up the evidence of every feature, so one artifact's strong
    signature (a k-space spike far above its neighbours) is outvoted by the many features that look clean; the
    severity head, fitted on every kind at every grade, is not (measured: severe spikes, ghosts and bias fields on
    the unseen ITK T1 got P(severe) 0.48-0.73 and the right kind with P 0.82-0.94, while the presence head said
    clean)."""
    return bool(p_severity) and max(p_severity, key=p_severity.get) == "severe"


def decision_rule(model: SignalModel) -> tuple[float, float]:
    """(clean prior, minimum kind confidence) of ``model``: those chosen on scans its trees never saw when it was
    fitted (``meta["decision"]``, :func:`mmrqa.classifier.validation.decision_from`), else ``CLEAN_PRIOR`` and
    ``MIN_CONFIDENCE``. ``MIN_CONFIDENCE`` set above 1 (a test's way to force "not sure") wins over the model's."""
    rule = model.meta.get("decision") or {}
    clean_prior = float(rule.get("clean_prior", CLEAN_PRIOR))
    min_confidence = MIN_CONFIDENCE if MIN_CONFIDENCE > 1 else float(rule.get("min_confidence", MIN_CONFIDENCE))
    return clean_prior, min_confidence


def with_prior(p_presence: dict[str, float], clean_prior: float) -> dict[str, float]:
    """The presence probabilities of a head fitted with balanced classes, under a prior ``clean_prior`` of clean."""
    odds = p_presence["none"] / max(p_presence["artifact"], 1e-12) * clean_prior / (1.0 - clean_prior)
    clean = odds / (1.0 + odds)
    return {"artifact": 1.0 - clean, "none": clean}


def _probabilities(model: SignalModel, head: str, x: np.ndarray) -> dict[str, float]:
    return dict(zip(model.classes(head), model.proba(head, x)[0].tolist(), strict=True))


def _unusual(model: SignalModel, row: np.ndarray, center: np.ndarray, scale: np.ndarray, n: int) -> list[str]:
    from mmrqa.classifier.domain import Novelty

    z = np.abs(np.nan_to_num((Novelty.transform_raw(row[None, :])[0] - center) / scale))
    order = np.argsort(-z, kind="stable")
    return [model.features[i] for i in order[:n] if z[i] > 2.0]


def drivers(model: SignalModel, values: dict[str, float], row: np.ndarray, artifact: str) -> list[str]:
    """The metrics behind the verdict (step 4 of the module docstring); none beyond the indicator for a clean scan
    whose metrics all sit near the clean median."""
    from mmrqa.metrics import ARTIFACT_INDICATORS

    importance = model.heads["artifact"].importance + model.heads["presence"].importance
    used = [i for i in np.argsort(-importance, kind="stable")[:12] if importance[i] > 0]
    candidates = _unusual(model, row, model.clean_center, model.clean_scale, len(model.features))
    ranked = [name for name in candidates if model.features.index(name) in used]
    names = [ARTIFACT_INDICATORS[artifact]] if artifact in ARTIFACT_INDICATORS else []
    names += [n for n in ranked if n not in names]
    return [n for n in names if math.isfinite(values.get(n, math.nan))][:DRIVERS]


def _explain(verdict: Verdict, model: SignalModel, values: dict[str, float], row: np.ndarray, artifact: str) -> None:
    """Set the verdict's drivers (:func:`drivers`) and their values (:func:`driver_values`)."""
    verdict.drivers = drivers(model, values, row, artifact)
    verdict.driver_values = driver_values(model, values, verdict.drivers)


def driver_values(model: SignalModel, values: dict[str, float], names: list[str]) -> dict[str, dict[str, float]]:
    """Each driver's value and ``clean_median``, the median over the clean training views (the model's clean centre,
    stored after the signed log, mapped back), so that a feature without a reference range (a self-referenced
    signature of :mod:`mmrqa.classifier.relative`) can still be read against what clean scans give."""
    out = {}
    for name in names:
        centre = float(model.clean_center[model.features.index(name)])
        median = math.copysign(math.expm1(abs(centre)), centre)
        out[name] = {"value": round(float(values[name]), 6), "clean_median": round(median, 6)}
    return out
