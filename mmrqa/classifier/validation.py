"""Leave-one-scan-out validation of the classifier recipe, and the numbers the benchmark and the card report.

Each scan in turn is the test scan; of the others, :func:`mmrqa.classifier.model.validation_scans` picks the scans
that calibrate the temperatures and the rest train the heads, exactly as the shipped model is fitted (never tuned on
the test scan). Every variant of the test scan (its views, clean and corrupted) is predicted by that fold's model.

Scores (:func:`score`), on the pooled held-out predictions:
    clean_ok            clean variants rated good or medium, usable, no severe artifact, in the domain, not uncertain
    clean_in_domain     clean variants judged inside the domain
    presence            corrupted variants not passed as clean (an artifact reported, or the verdict withheld)
    type_accuracy       corrupted variants whose artifact kind is right (a withheld verdict counts as wrong)
    severity_within_one severity within one grade of the truth (withheld: wrong)
    each for moderate+severe and for mild; and ece: expected calibration error of the artifact head (top label,
    10 equal-width bins, all variants in the domain).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np

from mmrqa.classifier.features import feature_matrix, feature_names
from mmrqa.classifier.model import SignalModel, fit_model, validation_scans
from mmrqa.classifier.predict import SEVERITY_ORDER, decide

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


def fit_rows(rows: Sequence[dict], seed: int = 0) -> tuple[SignalModel, list[str], list[str]]:
    """The model of the recipe fitted on ``rows``: (model, training scans, validation scans)."""
    x, labels, groups = arrays(rows)
    scans = sorted({str(g) for g in groups})
    validation = validation_scans(scans)
    model = fit_model(x, labels, groups, validation, list(feature_names()), seed=seed)
    return model, [s for s in scans if s not in validation], sorted(validation)


def leave_one_scan_out(rows: Sequence[dict], test_scans: Sequence[str] | None = None, seed: int = 0) -> list[dict]:
    """Held-out predictions of every row of every test scan (default: every scan), one fold per test scan."""
    scans = sorted({str(r["scan"]) for r in rows})
    out = []
    for k, test in enumerate(test_scans or scans):
        model, trained, validated = fit_rows([r for r in rows if r["scan"] != test], seed)
        logger.info("fold %d/%d: test %s, validation %s", k + 1, len(test_scans or scans), test, validated)
        for row in (r for r in rows if r["scan"] == test):
            verdict = decide(model, row)
            out.append({"scan": test, "kind": row["kind"], "severity": row["severity"], "verdict": verdict})
    return out


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    """sum over equal-width confidence bins of |accuracy - mean confidence| x share of the samples."""
    if len(confidence) == 0:
        return math.nan
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            total += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(total)


def _share(flags: list[bool]) -> float:
    return float(np.mean(flags)) if flags else math.nan


def score(predictions: Sequence[dict]) -> dict[str, float]:
    """The scores of the module docstring."""
    clean = [p["verdict"] for p in predictions if p["kind"] == "none"]
    out: dict[str, float] = {"n_clean": len(clean)}
    out["clean_ok"] = _share(
        [v.in_domain and not v.uncertain and v.quality in (1, 2) and v.severity != "severe" for v in clean]
    )
    out["clean_in_domain"] = _share([v.in_domain for v in clean])
    for name, severities in (("modsev", ("moderate", "severe")), ("mild", ("mild",))):
        rows = [p for p in predictions if p["kind"] != "none" and p["severity"] in severities]
        verdicts = [p["verdict"] for p in rows]
        out[f"n_{name}"] = len(rows)
        out[f"{name}_presence"] = _share([v.uncertain or (v.in_domain and v.artifact != "none") for v in verdicts])
        out[f"{name}_type_accuracy"] = _share([v.artifact == p["kind"] for p, v in zip(rows, verdicts, strict=True)])
        out[f"{name}_severity_within_one"] = _share(
            [
                v.severity is not None
                and abs(SEVERITY_ORDER.index(v.severity) - SEVERITY_ORDER.index(p["severity"])) <= 1
                for p, v in zip(rows, verdicts, strict=True)
            ]
        )
        out[f"{name}_in_domain"] = _share([v.in_domain for v in verdicts])
    judged = [p for p in predictions if p["verdict"].in_domain]
    if judged:
        probs = [p["verdict"].probabilities["artifact"] for p in judged]
        top = [max(q, key=q.get) for q in probs]
        conf = np.array([q[t] for q, t in zip(probs, top, strict=True)])
        correct = np.array([t == p["kind"] for t, p in zip(top, judged, strict=True)], dtype=float)
        out["ece"] = expected_calibration_error(conf, correct)
        out["artifact_head_accuracy"] = float(correct.mean())
    return out


def per_scan_clean(predictions: Sequence[dict]) -> dict[str, str]:
    """One line per test scan: how its clean variants were judged."""
    out = {}
    for scan in sorted({p["scan"] for p in predictions}):
        verdicts = [p["verdict"] for p in predictions if p["scan"] == scan and p["kind"] == "none"]
        words = []
        for v in verdicts:
            if not v.in_domain:
                words.append("out-of-domain")
            elif v.uncertain:
                words.append("uncertain")
            else:
                words.append("clean" if v.artifact == "none" else f"{v.artifact}/{v.severity}")
        counts = {w: words.count(w) for w in sorted(set(words))}
        out[scan] = ", ".join(f"{w} x{n}" for w, n in counts.items())
    return out
