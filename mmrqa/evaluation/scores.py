"""Scores for parsed model answers, one function per question type, with bootstrap confidence intervals.

Every function takes lists of *structured* predictions and references (labels already parsed from the model's text,
e.g. by ``mmrqa.qa.parse``). ``None`` (or a label outside the allowed set) stands for an answer that could not be
parsed; it always counts as wrong, never as missing, so a model cannot improve its score by answering gibberish.

- Classification (rating, artifact presence, artifact type, severity, usability, comparison: the classification
  fields of the question-type registry, :data:`mmrqa.qa.SCORED_FIELDS`): accuracy and macro-F1.
- Quality (1 good .. 3 bad, MR-ART's scale): Spearman (SRCC) and Pearson (PLCC) correlation.
- Metric values (a number the model reads out): absolute error against the reference value.

Confidence intervals are percentile bootstrap intervals (Efron & Tibshirani 1993, *An Introduction to the
Bootstrap*, ch. 13), seeded so that a rerun gives the same interval. Given ``clusters`` (one id per example, e.g. the
example's subject) the bootstrap resamples whole clusters with replacement and keeps every example of a drawn
cluster (the cluster bootstrap: Davison & Hinkley 1997, *Bootstrap Methods and their Application*, sec. 3.8): the
questions about one scan are correlated, and resampling them one by one would give intervals that are too narrow.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy import stats

from mmrqa.errors import InvalidArgumentError
from mmrqa.qa.questions import SCORED_FIELDS

#: field -> its valid labels, for every classification field of the question-type registry (mmrqa.qa.questions):
#: rating, presence, artifact (the registered kinds and "none"), severity, usability, comparison.
CLASSIFICATION_LABELS: dict[str, tuple[str, ...]] = {
    field.name: tuple(field.labels) for field in SCORED_FIELDS if field.kind == "classification"
}
RATING_LABELS = CLASSIFICATION_LABELS["rating"]
PRESENCE_LABELS = CLASSIFICATION_LABELS["presence"]
ARTIFACT_LABELS = CLASSIFICATION_LABELS["artifact"]
SEVERITY_LABELS = CLASSIFICATION_LABELS["severity"]
QUALITY_LEVELS = (1, 2, 3)

INVALID = -1  # code of an unparseable or out-of-vocabulary prediction


def _check_lengths(predictions: Sequence, references: Sequence) -> None:
    if len(predictions) != len(references):
        raise InvalidArgumentError(
            f"got {len(predictions)} predictions for {len(references)} references; they must pair up one to one"
        )


def _normalise(label: Any) -> Any:
    return label.strip().lower() if isinstance(label, str) else label


def encode_labels(values: Sequence[Any], labels: Sequence[Any], *, strict: bool) -> np.ndarray:
    """Integer codes of ``values`` in ``labels`` (strings compared case-insensitively, stripped).

    A value outside ``labels`` (or None) is ``INVALID`` (-1) when ``strict`` is False; with ``strict`` (for
    references, which must be valid) it raises ``InvalidArgumentError``.
    """
    index = {_normalise(label): i for i, label in enumerate(labels)}
    codes = np.empty(len(values), dtype=np.int64)
    for i, value in enumerate(values):
        code = index.get(_normalise(value), INVALID) if value is not None else INVALID
        if code == INVALID and strict:
            raise InvalidArgumentError(f"reference {i} is {value!r}, which is not one of {list(labels)}")
        codes[i] = code
    return codes


def accuracy(pred_codes: np.ndarray, ref_codes: np.ndarray) -> float:
    """Share of exact matches; an invalid prediction (-1) never matches. Higher is better, in [0, 1]."""
    if len(ref_codes) == 0:
        return float("nan")
    return float(np.mean(pred_codes == ref_codes))


def macro_f1(pred_codes: np.ndarray, ref_codes: np.ndarray, n_labels: int) -> float:
    """Unweighted mean of per-class F1 over the classes that occur in the references or the valid predictions.

    F1_c = 2 TP_c / (2 TP_c + FP_c + FN_c). An invalid prediction is a false negative of its true class and a false
    positive of no class; classes absent from both sides are left out (as scikit-learn does by default), so the
    score does not depend on how many labels the vocabulary lists. Higher is better, in [0, 1].
    """
    if len(ref_codes) == 0:
        return float("nan")
    valid = pred_codes >= 0
    tp = np.bincount(ref_codes[valid & (pred_codes == ref_codes)], minlength=n_labels)
    predicted = np.bincount(pred_codes[valid], minlength=n_labels)
    actual = np.bincount(ref_codes, minlength=n_labels)
    present = (predicted + actual) > 0
    f1 = 2 * tp[present] / (predicted[present] + actual[present])
    return float(np.mean(f1))


def _quality_arrays(predictions: Sequence, references: Sequence) -> tuple[np.ndarray, np.ndarray, int]:
    """Float arrays of quality; an unparseable prediction becomes the level farthest from the truth (counts wrong)."""
    ref = np.empty(len(references), dtype=np.float64)
    pred = np.empty(len(predictions), dtype=np.float64)
    lo, hi = QUALITY_LEVELS[0], QUALITY_LEVELS[-1]
    n_invalid = 0
    for i, (p, r) in enumerate(zip(predictions, references, strict=True)):
        if r is None or not np.isfinite(float(r)) or not lo <= float(r) <= hi:
            raise InvalidArgumentError(f"quality reference {i} is {r!r}; it must be a number in [{lo}, {hi}]")
        ref[i] = float(r)
        try:
            value = float(p)
            ok = bool(np.isfinite(value))
        except (TypeError, ValueError):
            ok = False
        if ok:
            pred[i] = value
        else:
            n_invalid += 1
            pred[i] = hi if ref[i] - lo <= hi - ref[i] else lo
    return pred, ref, n_invalid


def srcc(pred: np.ndarray, ref: np.ndarray) -> float:
    """Spearman rank correlation (ties get average ranks); NaN when either side is constant. Higher is better."""
    if len(ref) < 2 or np.ptp(pred) == 0 or np.ptp(ref) == 0:
        return float("nan")
    return float(stats.spearmanr(pred, ref).statistic)


def plcc(pred: np.ndarray, ref: np.ndarray) -> float:
    """Pearson linear correlation; NaN when either side is constant. Higher is better, in [-1, 1]."""
    if len(ref) < 2 or np.ptp(pred) == 0 or np.ptp(ref) == 0:
        return float("nan")
    return float(np.corrcoef(pred, ref)[0, 1])


def _value_arrays(predictions: Sequence, references: Sequence) -> tuple[np.ndarray, np.ndarray]:
    ref = np.asarray([float(r) for r in references], dtype=np.float64)
    if not np.all(np.isfinite(ref)):
        raise InvalidArgumentError("metric-value references must all be finite numbers")
    pred = np.full(len(predictions), np.nan)
    for i, p in enumerate(predictions):
        try:
            pred[i] = float(p)
        except (TypeError, ValueError):
            pass
    return pred, ref


def bootstrap_ci(
    statistic: Callable[[np.ndarray], float],
    n: int,
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    clusters: Sequence[Any] | None = None,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``statistic(indices)`` over ``n`` examples resampled with replacement.

    ``statistic`` receives an index array into the examples. With ``clusters`` (one id per example) the resampled
    units are the clusters: each resample draws as many clusters as there are, with replacement, and passes every
    example of each drawn cluster (a cluster drawn twice contributes its examples twice). With fewer than two
    clusters there is nothing to resample and the interval is (NaN, NaN). Resamples where the statistic is undefined
    (NaN, e.g. a correlation of a constant resample) are dropped. The same ``seed`` gives the same interval.
    """
    if n_resamples < 1:
        raise InvalidArgumentError(f"n_resamples must be >= 1, got {n_resamples}")
    if not 0 < confidence < 1:
        raise InvalidArgumentError(f"confidence must be in (0, 1), got {confidence}")
    if n == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    if clusters is None:
        samples = rng.integers(0, n, size=(n_resamples, n))
        values = np.array([statistic(idx) for idx in samples], dtype=np.float64)
    else:
        members = cluster_members(clusters, n)
        if len(members) < 2:
            return float("nan"), float("nan")
        drawn = rng.integers(0, len(members), size=(n_resamples, len(members)))
        values = np.array([statistic(np.concatenate([members[c] for c in d])) for d in drawn], dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return float("nan"), float("nan")
    alpha = (1 - confidence) / 2
    low, high = np.quantile(values, [alpha, 1 - alpha])
    return float(low), float(high)


def cluster_members(clusters: Sequence[Any], n: int) -> list[np.ndarray]:
    """The example indices of each cluster, clusters in order of first appearance (``clusters`` has ``n`` ids)."""
    if len(clusters) != n:
        raise InvalidArgumentError(f"got {len(clusters)} cluster ids for {n} examples; they must pair up one to one")
    order: dict[Any, list[int]] = {}
    for i, cluster in enumerate(clusters):
        order.setdefault(cluster, []).append(i)
    return [np.asarray(indices, dtype=np.int64) for indices in order.values()]


def classification_scores(
    predictions: Sequence[Any],
    references: Sequence[Any],
    labels: Sequence[Any],
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    clusters: Sequence[Any] | None = None,
) -> dict[str, Any]:
    """Accuracy and macro-F1 of label predictions, with bootstrap intervals; None/unknown labels count as wrong."""
    _check_lengths(predictions, references)
    pred = encode_labels(predictions, labels, strict=False)
    ref = encode_labels(references, labels, strict=True)
    k = len(labels)
    ci = dict(n_resamples=n_resamples, confidence=confidence, seed=seed, clusters=clusters)
    return {
        "accuracy": accuracy(pred, ref),
        "macro_f1": macro_f1(pred, ref, k),
        "n": len(ref),
        "n_invalid": int(np.sum(pred == INVALID)),
        "ci": {
            "accuracy": bootstrap_ci(lambda i: accuracy(pred[i], ref[i]), len(ref), **ci),
            "macro_f1": bootstrap_ci(lambda i: macro_f1(pred[i], ref[i], k), len(ref), **ci),
        },
    }


def quality_scores(
    predictions: Sequence[Any],
    references: Sequence[Any],
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    clusters: Sequence[Any] | None = None,
) -> dict[str, Any]:
    """SRCC and PLCC between predicted and true quality (1 good .. 3 bad), with bootstrap intervals.

    An unparseable prediction is replaced by the level farthest from its reference (3 for a true 1 or 2, 1 for a
    true 3), the worst answer it could have been, so that refusing to answer never raises the correlation. When no
    prediction at all can be parsed there is nothing to correlate: both scores are NaN (shown as n/a) rather than
    the -1 the imputation alone would produce.
    """
    _check_lengths(predictions, references)
    pred, ref, n_invalid = _quality_arrays(predictions, references)
    if n_invalid == len(ref):
        nan = float("nan")
        return {
            "srcc": nan,
            "plcc": nan,
            "n": len(ref),
            "n_invalid": n_invalid,
            "ci": {"srcc": (nan, nan), "plcc": (nan, nan)},
        }
    ci = dict(n_resamples=n_resamples, confidence=confidence, seed=seed, clusters=clusters)
    return {
        "srcc": srcc(pred, ref),
        "plcc": plcc(pred, ref),
        "n": len(ref),
        "n_invalid": n_invalid,
        "ci": {
            "srcc": bootstrap_ci(lambda i: srcc(pred[i], ref[i]), len(ref), **ci),
            "plcc": bootstrap_ci(lambda i: plcc(pred[i], ref[i]), len(ref), **ci),
        },
    }


def value_scores(
    predictions: Sequence[Any],
    references: Sequence[Any],
    *,
    rtol: float = 0.01,
    atol: float = 0.0,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    clusters: Sequence[Any] | None = None,
) -> dict[str, Any]:
    """Absolute error of metric values read out by the model, against the reference values.

    ``mae`` (mean |p - r|) and ``median_ae`` are over the parsed answers only (an unparsed number has no error);
    ``valid_rate`` says how many those are. ``within_tolerance`` is the share of all answers with
    |p - r| <= atol + rtol |r|, where an unparsed answer counts as wrong. Lower error is better.
    """
    _check_lengths(predictions, references)
    pred, ref = _value_arrays(predictions, references)
    err = np.abs(pred - ref)
    rel = err / np.maximum(np.abs(ref), np.finfo(np.float64).tiny)
    ok = np.isfinite(err)
    hit = ok & (err <= atol + rtol * np.abs(ref))

    def mae(i: np.ndarray) -> float:
        e = err[i][ok[i]]
        return float(np.mean(e)) if e.size else float("nan")

    ci = dict(n_resamples=n_resamples, confidence=confidence, seed=seed, clusters=clusters)
    n = len(ref)
    return {
        "mae": mae(np.arange(n)),
        "median_ae": float(np.median(err[ok])) if ok.any() else float("nan"),
        "mean_relative_error": float(np.mean(rel[ok])) if ok.any() else float("nan"),
        "within_tolerance": float(np.mean(hit)) if n else float("nan"),
        "valid_rate": float(np.mean(ok)) if n else float("nan"),
        "n": n,
        "n_invalid": int(n - ok.sum()),
        "rtol": rtol,
        "atol": atol,
        "ci": {
            "mae": bootstrap_ci(mae, n, **ci),
            "within_tolerance": bootstrap_ci(lambda i: float(np.mean(hit[i])), n, **ci),
        },
    }


def grounding_scores(
    matched: Sequence[int],
    totals: Sequence[int],
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    clusters: Sequence[Any] | None = None,
) -> dict[str, Any]:
    """Grounding rate: share of all numbers in generated texts that match the example's metrics.

    ``matched[i]`` of the ``totals[i]`` numbers in text i are grounded. The rate is pooled over numbers
    (sum matched / sum totals); the bootstrap resamples whole texts. Higher is better, in [0, 1].
    """
    _check_lengths(matched, totals)
    m = np.asarray(matched, dtype=np.float64)
    t = np.asarray(totals, dtype=np.float64)
    if np.any(m < 0) or np.any(m > t):
        raise InvalidArgumentError("each text's matched count must lie between 0 and its number count")

    def rate(i: np.ndarray) -> float:
        total = t[i].sum()
        return float(m[i].sum() / total) if total > 0 else float("nan")

    n = len(t)
    return {
        "rate": rate(np.arange(n)),
        "n_numbers": int(t.sum()),
        "n_texts": n,
        "ci": {
            "rate": bootstrap_ci(rate, n, n_resamples=n_resamples, confidence=confidence, seed=seed, clusters=clusters)
        },
    }
