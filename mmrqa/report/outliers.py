"""Robust outlier flags and a 2D embedding of a cohort's scans on their metrics.

Per metric, the **robust z-score** (the "modified z-score" of Iglewicz & Hoaglin, *How to Detect and Handle
Outliers*, ASQC 1993) measures how far a scan lies from the cohort in units of the median absolute deviation::

    z = (x - median) / (1.4826 * MAD)          # 1.4826 = 1 / Phi^-1(3/4): MAD -> sigma for normal data

When more than half of the cohort shares one value (MAD = 0), the mean absolute deviation scaled to sigma
(``x 1.2533 = sqrt(pi/2)``) is used instead, as in the modified z-score's own fall-back; when that is 0 too the
metric is constant and any other value is infinitely far. These are the statistics of
:class:`mmrqa.metrics.cohort.CohortReference` (the reference cohort the lights can be judged against), used here
as they are, on the linear scale (the report keys its columns by position, so a ratio is not moved to the log
scale as ``--reference`` moves it: measured on the one-protocol cohort of ``bench_report.py --only recall``, the log
scale cost the multivariate flag 3 false alarms, precision 1.00 -> 0.885, at the same recall); a metric with fewer
than 5 values is not judged. A value is flagged when ``|z| > Z_FLAG`` (3.5, Iglewicz & Hoaglin's cut-off).
The median and MAD are breakdown-point-50 % statistics: a few corrupted scans cannot hide themselves by inflating
the spread, as they do with the mean and standard deviation.

Over **all metrics together**, a scan is flagged by its **robust Mahalanobis distance** (Rousseeuw & Van Driessen,
Technometrics 41:212, 1999, scikit-learn's ``MinCovDet``). The features are the robust z-scores of the metrics
that vary in the cohort (missing values set to 0, the median; clipped to +-``Z_CLIP`` so that one wild value cannot
dominate the geometry), reduced by PCA to ``k = min(MAX_COMPONENTS, n // SCANS_PER_COMPONENT)`` components (a
covariance needs many scans per dimension). The Minimum Covariance Determinant estimates the centre and shape from
the most concentrated half of the scans, so the outliers do not mask themselves. The squared distances are then
rescaled so that their median is chi-square's median (a consistency correction: with few scans per dimension the
MCD shape is too tight and clean scans' distances run long), and a scan is flagged when its squared distance
exceeds the ``1 - ALPHA`` quantile of chi-square with ``k`` degrees of freedom. Measured on Gaussian cohorts of 20
correlated metrics (10 draws each): 0.7 % false alarms at 30 and 60 scans, 0.2 % at 120; without the rescaling and
with ``n // 5`` components it was 26 % at 30 scans. Below ``MIN_SCANS_MULTIVARIATE`` scans the score is the root
mean square of the clipped z-scores, flagged above ``Z_FLAG``.

The **embedding** is the first two principal components (scikit-learn ``PCA``) of the same clipped robust z-scores:
scans that resemble each other sit together, a site or protocol forms its own cloud, outliers sit apart.

Everything is deterministic (fixed ``random_state``), NumPy in and out, and knows nothing of HTML.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

#: |robust z| above which a metric value is flagged (Iglewicz & Hoaglin 1993).
Z_FLAG = 3.5
#: robust z-scores are clipped to +-Z_CLIP before the multivariate score and the embedding.
Z_CLIP = 10.0
#: at most this many principal components enter the robust Mahalanobis distance...
MAX_COMPONENTS = 6
#: ...and at least this many scans per component.
SCANS_PER_COMPONENT = 20
#: fewer scans than this: the multivariate score is the RMS of the clipped z-scores instead of a Mahalanobis distance.
MIN_SCANS_MULTIVARIATE = 30
#: the MCD is fitted on at most this many scans (a seeded random subset; 1 s -> 0.1 s at 1,000 scans), and the
#: distances of every scan are measured from that fit.
MCD_MAX_FIT = 500
#: false-alarm rate of the multivariate flag for a Gaussian cohort.
ALPHA = 0.001


def robust_z(values: np.ndarray) -> np.ndarray:
    """Robust z-scores of each column of ``values`` (scans x metrics; NaN stays NaN), see the module docstring.

    The statistics are :class:`mmrqa.metrics.cohort.CohortReference`'s (the reference cohort of the lights), so a
    scan's z on its page and on the group page are one number. A column with fewer than its ``MIN_COHORT`` finite
    values is not judged (NaN); in a constant column a different value is infinitely far (+-inf)."""
    from mmrqa.errors import InvalidArgumentError
    from mmrqa.metrics.cohort import CohortReference

    x = np.asarray(values, dtype=np.float64)
    if x.ndim == 1:
        return robust_z(x[:, None])[:, 0]
    z = np.full_like(x, np.nan)
    rows = [{j: v for j, v in enumerate(row) if math.isfinite(v)} for row in x.tolist()]
    try:
        reference = CohortReference.from_values(rows, source="report cohort")
    except InvalidArgumentError:  # fewer than MIN_COHORT scans: nothing can be judged
        return z
    for (i, j), v in np.ndenumerate(x):
        z[i, j] = reference.z(j, v)
    return z


def _features(z: np.ndarray) -> np.ndarray:
    """Clipped z-scores of the columns that vary, NaN -> 0 (the median), +-inf -> +-Z_CLIP."""
    if z.shape[0] == 0:
        return np.zeros((0, 0))
    clipped = np.clip(np.nan_to_num(z, nan=0.0, posinf=Z_CLIP, neginf=-Z_CLIP), -Z_CLIP, Z_CLIP)
    varying = np.abs(clipped).max(axis=0) > 0 if z.size else np.zeros(z.shape[1], bool)
    return clipped[:, varying]


@dataclass(frozen=True)
class OutlierResult:
    """Outlier flags of a cohort.

    Attributes:
        z: robust z-score of each scan and metric (NaN where the value is missing).
        metric_flags: ``|z| > Z_FLAG``, scans x metrics.
        score: the multivariate score of each scan (robust Mahalanobis distance, or RMS z for small cohorts).
        threshold: the score above which a scan is flagged.
        flags: the multivariate flag of each scan.
        method: how ``score`` was computed, in words.
        embedding: scans x 2, the first two principal components (zeros when there is nothing to embed).
        explained: the fraction of variance the two components explain.
    """

    z: np.ndarray
    metric_flags: np.ndarray
    score: np.ndarray
    threshold: float
    flags: np.ndarray
    method: str
    embedding: np.ndarray
    explained: tuple[float, float]


def _pca(features: np.ndarray, k: int):
    from sklearn.decomposition import PCA

    return PCA(n_components=k, random_state=0).fit(features)


def multivariate_score(features: np.ndarray) -> tuple[np.ndarray, float, str]:
    """(score per scan, flag threshold, method in words) of clipped robust z features (scans x metrics)."""
    n, p = features.shape
    if p == 0:
        return np.zeros(n), math.inf, "no metric varies in the cohort"
    if n < MIN_SCANS_MULTIVARIATE:
        rms = np.sqrt(np.mean(features**2, axis=1))
        return rms, Z_FLAG, f"root mean square robust z over {p} metrics (fewer than {MIN_SCANS_MULTIVARIATE} scans)"
    from scipy.stats import chi2
    from sklearn.covariance import MinCovDet

    k = max(1, min(MAX_COMPONENTS, p, n // SCANS_PER_COMPONENT))
    scores = _pca(features, k).transform(features)
    with warnings.catch_warnings():  # "The covariance matrix associated to your dataset is not full rank"
        warnings.simplefilter("ignore")
        fit = scores
        if n > MCD_MAX_FIT:
            fit = scores[np.sort(np.random.default_rng(0).choice(n, MCD_MAX_FIT, replace=False))]
        mcd = MinCovDet(random_state=0).fit(fit)
        d2 = mcd.mahalanobis(scores)
    median = float(np.median(d2))
    if median > 0:
        d2 = d2 * float(chi2.ppf(0.5, df=k)) / median
    threshold = float(np.sqrt(chi2.ppf(1 - ALPHA, df=k)))
    method = f"robust Mahalanobis distance (MinCovDet) on {k} principal components of {p} metrics' robust z"
    return np.sqrt(np.maximum(d2, 0.0)), threshold, method


def embedding(features: np.ndarray) -> tuple[np.ndarray, tuple[float, float]]:
    """The first two principal components of ``features`` and their explained variance ratios."""
    n, p = features.shape
    out = np.zeros((n, 2))
    if n < 2 or p == 0:
        return out, (0.0, 0.0)
    k = min(2, p, n)
    pca = _pca(features, k)
    out[:, :k] = pca.transform(features)
    ratios = [float(r) for r in pca.explained_variance_ratio_] + [0.0, 0.0]
    return out, (ratios[0], ratios[1])


def find_outliers(values: np.ndarray, joint: np.ndarray | None = None) -> OutlierResult:
    """Per-metric and multivariate outlier flags and the 2D embedding of ``values`` (scans x metrics).

    Args:
        values: scans x metrics.
        joint: boolean mask of the metrics that enter the multivariate score and the embedding (default: all).
            The report leaves out the metrics in the scanner's arbitrary intensity unit: a scanner that scales its
            images differently is a group shift, not a faulty scan.
    """
    values = np.asarray(values, dtype=np.float64)
    values = values[:, None] if values.ndim == 1 else values
    z = robust_z(values) if values.size else np.zeros(values.shape)
    with np.errstate(invalid="ignore"):
        metric_flags = np.abs(np.nan_to_num(z, nan=0.0)) > Z_FLAG
    joint = np.ones(values.shape[1], dtype=bool) if joint is None else np.asarray(joint, dtype=bool)
    features = _features(z[:, joint]) if values.size else np.zeros((len(values), 0))
    score, threshold, method = multivariate_score(features)
    points, explained = embedding(features)
    return OutlierResult(z, metric_flags, score, threshold, score > threshold, method, points, explained)
