"""From a scan to a verdict: domain check, calibrated heads, one consistent answer, or "not sure".

Order of the decision (:func:`classify`):
1. the image rules of :mod:`mmrqa.classifier.domain` and then the novelty score: outside the domain -> no rating,
   ``in_domain`` False and the reason;
2. the artifact head: an artifact is present when P(none) < 0.5; its kind is the most probable kind, its severity the
   most probable of mild/moderate/severe by the severity head; clean otherwise;
3. the *confidence* is the calibrated probability of what is stated (P(none) for a clean verdict, P(kind) for an
   artifact); below ``MIN_CONFIDENCE`` the verdict is withheld (``uncertain``: no rating, the leading candidates are
   reported instead);
4. the *drivers*: the metrics that most set this scan apart from the clean training scans among the artifact head's
   most used features (standardised distance to the clean median), the stated kind's indicator first.
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
SEVERITY_ORDER = ("none", "mild", "moderate", "severe")
DRIVERS = 3


@dataclass
class Verdict:
    """What the classifier concludes about one scan (fields None when out of domain or uncertain)."""

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
    novelty: float | None = None

    @property
    def present(self) -> bool | None:
        """Whether an artifact is reported (None out of the domain)."""
        if not self.in_domain:
            return None
        return self.probabilities["artifact"]["none"] < 0.5

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def classify(
    volume: Volume,
    report=None,
    model: SignalModel | None = None,
    features: dict[str, float] | None = None,
) -> Verdict:
    """The verdict on ``volume`` (``report``: its full-size default metrics, reused when the scan is small)."""
    from mmrqa.classifier.domain import image_rules, image_statistics
    from mmrqa.classifier.features import decimate, scan_features

    model = model or load_model()
    small = decimate(volume)
    reason = image_rules(small, image_statistics(small))
    if reason is not None:
        return Verdict(False, reason)
    values = features if features is not None else scan_features(volume, report)
    return decide(model, values)


def decide(model: SignalModel, values: dict[str, float]) -> Verdict:
    """The verdict from a scan's feature values (steps 2-4 of the module docstring, after the novelty check)."""
    x = feature_matrix([values], model.features)
    novelty = float(model.novelty.score(x)[0])
    if novelty > model.novelty.threshold:
        unusual = ", ".join(_unusual(model, x[0], model.novelty.center, model.novelty.scale, 3))
        reason = f"its metrics are unlike every training scan (novelty {novelty:.1f} > {model.novelty.threshold:.1f}"
        return Verdict(False, reason + (f"; most unusual: {unusual})" if unusual else ")"), novelty=round(novelty, 3))
    p_art = dict(zip(model.classes("artifact"), model.proba("artifact", x)[0].tolist(), strict=True))
    p_sev = dict(zip(model.classes("severity"), model.proba("severity", x)[0].tolist(), strict=True))
    verdict = Verdict(True, probabilities={"artifact": p_art, "severity": p_sev}, novelty=round(novelty, 3))
    ranked = sorted(p_art.items(), key=lambda kv: -kv[1])
    verdict.candidates = [(k, round(p, 4)) for k, p in ranked[:3]]
    if p_art["none"] >= 0.5:
        artifact, severity, confidence = "none", "none", p_art["none"]
    else:
        artifact, confidence = max(((k, p) for k, p in p_art.items() if k != "none"), key=lambda kv: kv[1])
        severity = max(SEVERITY_ORDER[1:], key=lambda s: p_sev.get(s, 0.0))
    verdict.confidence = round(float(confidence), 4)
    verdict.drivers = drivers(model, values, x[0], artifact)
    if confidence < MIN_CONFIDENCE:
        verdict.uncertain = True
        return verdict
    from mmrqa.qa.labels import quality_from_severity

    verdict.artifact, verdict.severity, verdict.quality = artifact, severity, quality_from_severity(severity)
    return verdict


def _unusual(model: SignalModel, row: np.ndarray, center: np.ndarray, scale: np.ndarray, n: int) -> list[str]:
    from mmrqa.classifier.domain import Novelty

    z = np.abs(np.nan_to_num((Novelty.transform_raw(row[None, :])[0] - center) / scale))
    order = np.argsort(-z, kind="stable")
    return [model.features[i] for i in order[:n] if z[i] > 2.0]


def drivers(model: SignalModel, values: dict[str, float], row: np.ndarray, artifact: str) -> list[str]:
    """The metrics behind the verdict (step 4 of the module docstring); none beyond the indicator for a clean scan
    whose metrics all sit near the clean median."""
    from mmrqa.metrics import ARTIFACT_INDICATORS

    importance = model.heads["artifact"].importance
    used = [i for i in np.argsort(-importance, kind="stable")[:12] if importance[i] > 0]
    candidates = _unusual(model, row, model.clean_center, model.clean_scale, len(model.features))
    ranked = [name for name in candidates if model.features.index(name) in used]
    names = [ARTIFACT_INDICATORS[artifact]] if artifact in ARTIFACT_INDICATORS else []
    names += [n for n in ranked if n not in names]
    return [n for n in names if math.isfinite(values.get(n, math.nan))][:DRIVERS]
