"""Leave-one-scan-out validation of the classifier recipe, and the numbers the benchmark and the card report.

Each scan in turn is the test scan; the others train the heads and, through out-of-fold scores of grouped folds
(:func:`mmrqa.classifier.model.fit_model`), calibrate their temperatures and choose the decision rule, exactly as the
shipped model is fitted (never tuned on the test scan). Every variant of the test scan (its views, clean and
corrupted) is predicted by that fold's model.

Scores (:func:`score`), on the pooled held-out predictions:
    native_ok           each test scan as it is (no augmentation) rated good or medium, usable, no severe artifact
    clean_ok            clean variants (augmented views) rated good or medium, usable, no severe artifact, in domain
    clean_in_domain     clean variants judged inside the domain
    presence            corrupted variants reported with an artifact (P(present) > 0.5 under the clean prior)
    type_accuracy       corrupted variants whose artifact kind is right (a withheld kind counts as wrong)
    severity_within_one severity within one grade of the truth
    each for moderate+severe and for mild; ece: expected calibration error of the artifact-type head (top label,
    10 equal-width bins) on the moderate and severe variants in the domain (what it is fitted for), ece_all on every
    corrupted variant, ece_presence of the presence head on clean + moderate + severe variants, weighted to the mix
    of clean scans its probabilities are stated for (the decision rule's clean prior, e.g. 95% clean: a benchmark
    of mostly corrupted variants would otherwise read a calibrated head as overconfident about "clean";
    ece_presence_unweighted is the plain average over the benchmark's rows); artifact_head_accuracy and
    artifact_head_confidence: the artifact-type head's top kind, how often it is right and its mean probability on
    the same rows (a mean below the accuracy: the head is underconfident there, above it: overconfident).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np

from mmrqa.classifier.domain import statistics_rules
from mmrqa.classifier.features import feature_matrix, feature_names
from mmrqa.classifier.model import CALIBRATION_FOLDS, OutOfFold, SignalModel, fit_model
from mmrqa.classifier.predict import CLEAN_PRIOR, SEVERITY_ORDER, Verdict, decide, severe_signature

logger = logging.getLogger(__name__)


def arrays(rows: Sequence[dict], features: Sequence[str] | None = None):
    """(x, labels per head, groups) of table rows."""
    features = list(features or feature_names())
    x = feature_matrix(list(rows), features)
    labels = {
        "artifact": np.array([str(r["kind"]) for r in rows]),
        "severity": np.array([str(r["severity"]) for r in rows]),
    }
    return x, labels, np.array([str(r["scan"]) for r in rows])


def fit_rows(
    rows: Sequence[dict],
    seed: int = 0,
    decision: str = "cv",
    features: Sequence[str] | None = None,
    folds: int = CALIBRATION_FOLDS,
) -> SignalModel:
    """The model of the recipe fitted on ``rows``: heads on every row, temperatures cross-fitted. Its decision rule
    (``meta["decision"]``) is chosen on the same out-of-fold predictions of the rows' own scans
    (``decision="cv"``, the recipe: :func:`decision_from`), or not at all (``"fixed"``: ``CLEAN_PRIOR`` and
    ``MIN_CONFIDENCE``)."""
    if decision not in ("cv", "fixed"):
        raise ValueError(f"unknown decision mode {decision!r}")
    features = list(features or feature_names())
    x, labels, groups = arrays(rows, features)
    model, oof = fit_model(x, labels, groups, features, seed=seed, folds=folds)
    if decision == "cv":
        model.meta["decision"] = decision_from(model, oof, labels, folds)
    return model


#: candidate priors of a clean scan and minimum kind confidences of the decision rule
PRIOR_GRID = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
CONFIDENCE_GRID = (0.3, 0.4, 0.5, 0.6, 0.7)
#: the decision rule's target for a stated artifact kind: right at least this often
KIND_PRECISION = 0.8


def decision_from(model: SignalModel, oof: OutOfFold, labels: dict, folds: int = CALIBRATION_FOLDS) -> dict:
    """The decision rule read off the out-of-fold predictions ``oof`` of the training rows (each by heads that never
    saw its scan), calibrated by ``model``'s temperatures; ``labels`` the rows' labels.

    The clean prior of :data:`PRIOR_GRID` that maximises the smaller of (share of clean rows judged clean, share of
    moderate/severe rows judged corrupted) -- the issue's two targets weigh the same -- ties going to the prior
    nearest 0.8; and the lowest minimum kind confidence of :data:`CONFIDENCE_GRID` at which the stated kinds of the
    moderate/severe rows are right at least :data:`KIND_PRECISION` of the time (the highest when none is)."""
    presence = oof.proba("presence", model.temperature["presence"])
    p_none = presence[:, oof.classes["presence"].index("none")]
    artifact = oof.proba("artifact", model.temperature["artifact"])
    grades = oof.classes["severity"]
    p_severity = oof.proba("severity", model.temperature["severity"])
    severe = np.array([severe_signature(dict(zip(grades, row, strict=True))) for row in p_severity])
    source = f"out-of-fold predictions ({folds} grouped folds of the training scans)"
    return _rule(p_none, artifact, oof.classes["artifact"], labels, source, severe)


def _rule(
    p_none: np.ndarray, artifact: np.ndarray, classes: list[str], labels: dict, source: str, severe: np.ndarray
) -> dict:
    from mmrqa.classifier.predict import with_prior

    kinds, severities = np.asarray(labels["artifact"]), np.asarray(labels["severity"])
    clean, visible = kinds == "none", np.isin(severities, ("moderate", "severe"))
    if not clean.any() or not visible.any():
        return {"clean_prior": 0.8, "min_confidence": 0.5, "chosen_on": "a priori (no held-out rows)"}
    scores = {}
    for prior in PRIOR_GRID:
        judged_clean = np.array([with_prior({"none": p, "artifact": 1 - p}, prior)["none"] >= 0.5 for p in p_none])
        judged_clean &= ~severe
        scores[prior] = (min(judged_clean[clean].mean(), (~judged_clean[visible]).mean()), -abs(prior - 0.8))
    prior = max(PRIOR_GRID, key=lambda p: scores[p])
    top = np.argmax(artifact, axis=1)
    top_p = artifact[np.arange(len(top)), top]
    right = np.array(classes)[top] == kinds
    min_confidence = CONFIDENCE_GRID[-1]
    for threshold in CONFIDENCE_GRID:
        stated = visible & (top_p >= threshold)
        if stated.any() and right[stated].mean() >= KIND_PRECISION:
            min_confidence = threshold
            break
    logger.info(
        "decision rule on %s: clean prior %.2f (balanced pass %.3f), min confidence %.2f",
        source,
        prior,
        scores[prior][0],
        min_confidence,
    )
    return {
        "clean_prior": prior,
        "min_confidence": min_confidence,
        "chosen_on": source,
        "balanced_pass": round(float(scores[prior][0]), 4),
    }


def leave_one_scan_out(
    rows: Sequence[dict],
    test_scans: Sequence[str] | None = None,
    seed: int = 0,
    natives: dict[str, dict] | None = None,
    decision: str = "cv",
    features: Sequence[str] | None = None,
    folds: int = CALIBRATION_FOLDS,
) -> list[dict]:
    """Held-out predictions of every row of every test scan (default: every scan), one fold per test scan; each
    fold's model is calibrated on ``folds`` grouped folds of its training scans.

    ``natives`` (scan -> :func:`native_row`): the scan as it is, judged by the same fold's model too (``native``
    True in its prediction)."""
    scans = sorted({str(r["scan"]) for r in rows})
    out = []
    for k, test in enumerate(test_scans or scans):
        model = fit_rows([r for r in rows if r["scan"] != test], seed, decision, features, folds)
        logger.info("fold %d/%d: test %s", k + 1, len(test_scans or scans), test)
        out += judge_scan(model, test, rows, (natives or {}).get(test))
    return out


def judge_scans(model: SignalModel, scans: Sequence, rows: Sequence[dict]) -> list[dict]:
    """Predictions of ``model`` as it is (no refit) on every row of each of ``scans`` (``Scan`` objects) and on each
    scan as it is: what the shipped model does on scans it may never have seen."""
    out = []
    for scan in scans:
        out += judge_scan(model, scan.name, rows, native_row(scan.load()))
    return out


def judge_scan(model: SignalModel, scan: str, rows: Sequence[dict], native: dict | None = None) -> list[dict]:
    """Predictions of ``model`` on every row of ``scan`` (the image rules, then :func:`decide`), and on the scan as
    it is when its ``native`` row (:func:`native_row`) is given (``native`` True in its prediction)."""
    out = []
    for row in (r for r in rows if r["scan"] == scan):
        rule = statistics_rules(row)
        verdict = Verdict(False, rule) if rule else decide(model, row)
        out.append(
            {
                "scan": scan,
                "kind": row["kind"],
                "severity": row["severity"],
                "verdict": verdict,
                "decision": model.meta.get("decision"),
            }
        )
    if native is not None:
        verdict = Verdict(False, native["rule"]) if native.get("rule") else decide(model, native)
        out.append({"scan": scan, "kind": "none", "severity": "none", "verdict": verdict, "native": True})
    return out


def native_row(volume) -> dict:
    """Features of a scan as it is (on the classifier's grid), with the image rule that excludes it, if any."""
    from mmrqa.classifier.data import row_of
    from mmrqa.classifier.domain import image_rules
    from mmrqa.classifier.features import decimate

    small = decimate(volume)
    return {**row_of(small), "rule": image_rules(small)}


def native_verdicts(predictions: Sequence[dict]) -> dict[str, str]:
    """Scan -> the verdict on the held-out scan as it is, in words."""
    out = {}
    for p in predictions:
        if p.get("native"):
            v = p["verdict"]
            if not v.in_domain:
                out[p["scan"]] = f"out of domain ({v.domain_reason})"
            elif v.artifact is None:
                out[p["scan"]] = f"artifact of uncertain kind, {v.severity} (p={v.confidence})"
            else:
                words = "clean" if v.artifact == "none" else f"{v.artifact} {v.severity}"
                out[p["scan"]] = f"{words} (confidence {v.confidence})"
    return out


def expected_calibration_error(
    confidence: np.ndarray, correct: np.ndarray, bins: int = 10, weights: np.ndarray | None = None
) -> float:
    """sum over equal-width confidence bins of |accuracy - mean confidence| x share of the samples (``weights``:
    each sample's share of the population the confidences are meant for; equal by default)."""
    if len(confidence) == 0:
        return math.nan
    confidence, correct = np.asarray(confidence, dtype=float), np.asarray(correct, dtype=float)
    weights = np.ones_like(confidence) if weights is None else np.asarray(weights, dtype=float)
    weights = weights / weights.sum()
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        inside = which == b
        mass = weights[inside].sum()
        if mass > 0:
            gap = np.dot(weights[inside], correct[inside] - confidence[inside]) / mass
            total += mass * abs(gap)
    return float(total)


def prior_weights(clean: np.ndarray, priors: np.ndarray) -> np.ndarray:
    """Weights that give a set of clean and corrupted rows the mix the presence head's probabilities assume: the
    clean rows together ``prior`` of the mass, the corrupted rows ``1 - prior`` (each row its own fold's prior)."""
    clean = np.asarray(clean, dtype=bool)
    n_clean, n_other = max(int(clean.sum()), 1), max(int((~clean).sum()), 1)
    return np.where(clean, priors / n_clean, (1.0 - priors) / n_other)


def _share(flags: list[bool]) -> float:
    return float(np.mean(flags)) if flags else math.nan


def score(predictions: Sequence[dict]) -> dict[str, float]:
    """The scores of the module docstring."""
    native = [p["verdict"] for p in predictions if p.get("native")]
    predictions = [p for p in predictions if not p.get("native")]
    clean = [p["verdict"] for p in predictions if p["kind"] == "none"]
    out: dict[str, float] = {"n_clean": len(clean), "n_native": len(native)}
    out["native_ok"] = _share([v.in_domain and v.quality in (1, 2) and v.severity != "severe" for v in native])
    out["clean_ok"] = _share([v.in_domain and v.quality in (1, 2) and v.severity != "severe" for v in clean])
    out["clean_in_domain"] = _share([v.in_domain for v in clean])
    for name, severities in (("modsev", ("moderate", "severe")), ("mild", ("mild",))):
        rows = [p for p in predictions if p["kind"] != "none" and p["severity"] in severities]
        verdicts = [p["verdict"] for p in rows]
        out[f"n_{name}"] = len(rows)
        out[f"{name}_presence"] = _share([bool(v.present) for v in verdicts])
        out[f"{name}_type_accuracy"] = _share([v.artifact == p["kind"] for p, v in zip(rows, verdicts, strict=True)])
        out[f"{name}_severity_within_one"] = _share(
            [
                v.severity is not None
                and abs(SEVERITY_ORDER.index(v.severity) - SEVERITY_ORDER.index(p["severity"])) <= 1
                for p, v in zip(rows, verdicts, strict=True)
            ]
        )
        out[f"{name}_in_domain"] = _share([v.in_domain for v in verdicts])
    for name, keep in (("", ("moderate", "severe")), ("_all", SEVERITY_ORDER[1:])):
        out.update(_calibration([p for p in predictions if p["verdict"].in_domain and p["severity"] in keep], name))
    presence = [p for p in predictions if p["verdict"].in_domain and p["severity"] in ("none", "moderate", "severe")]
    if presence:
        conf = np.array([p["verdict"].probabilities["presence"]["none"] for p in presence])
        clean = np.array([p["kind"] == "none" for p in presence], dtype=float)
        top = np.maximum(conf, 1 - conf)
        correct = np.where(conf >= 0.5, clean, 1 - clean)
        priors = np.array([(p.get("decision") or {}).get("clean_prior", CLEAN_PRIOR) for p in presence])
        out["ece_presence"] = expected_calibration_error(top, correct, weights=prior_weights(clean, priors))
        out["ece_presence_unweighted"] = expected_calibration_error(top, correct)
    return out


def _calibration(judged: list[dict], suffix: str) -> dict[str, float]:
    out = {}
    if judged:
        probs = [p["verdict"].probabilities["artifact"] for p in judged]  # the kind head, P(kind | present)
        top = [max(q, key=q.get) for q in probs]
        conf = np.array([q[t] for q, t in zip(probs, top, strict=True)])
        correct = np.array([t == p["kind"] for t, p in zip(top, judged, strict=True)], dtype=float)
        out["ece" + suffix] = expected_calibration_error(conf, correct)
        out["artifact_head_accuracy" + suffix] = float(correct.mean())
        out["artifact_head_confidence" + suffix] = float(conf.mean())
    return out


def per_kind(predictions: Sequence[dict]) -> dict[str, dict[str, dict[str, float]]]:
    """kind -> severity -> {n, presence, type_accuracy}: the shares of that kind's held-out variants reported as an
    artifact, and reported as that kind."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for p in predictions:
        if p.get("native") or p["kind"] == "none":
            continue
        cell = out.setdefault(p["kind"], {}).setdefault(p["severity"], {"n": 0, "presence": 0, "type_accuracy": 0})
        cell["n"] += 1
        cell["presence"] += bool(p["verdict"].present)
        cell["type_accuracy"] += p["verdict"].artifact == p["kind"]
    for severities in out.values():
        for cell in severities.values():
            cell["presence"] /= cell["n"]
            cell["type_accuracy"] /= cell["n"]
    return {kind: out[kind] for kind in sorted(out)}


def per_scan_clean(predictions: Sequence[dict]) -> dict[str, str]:
    """One line per test scan: how its clean variants were judged."""
    out = {}
    for scan in sorted({p["scan"] for p in predictions}):
        verdicts = [
            p["verdict"] for p in predictions if p["scan"] == scan and p["kind"] == "none" and not p.get("native")
        ]
        words = []
        for v in verdicts:
            if not v.in_domain:
                words.append("out-of-domain")
            elif v.uncertain:
                words.append(f"uncertain-kind/{v.severity}")
            else:
                words.append("clean" if v.artifact == "none" else f"{v.artifact}/{v.severity}")
        counts = {w: words.count(w) for w in sorted(set(words))}
        out[scan] = ", ".join(f"{w} x{n}" for w, n in counts.items())
    return out
