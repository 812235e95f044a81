"""A reference cohort: judge a scan's metrics against the user's own scans (robust z-scores) instead of fixed ranges.

A cohort is a ``mmrqa metrics`` table (TSV or CSV: a ``path`` column, then one column per metric; ``n/a`` for
undefined values) of scans the user considers representative of their protocol. For each metric the cohort's
median and normal-scaled median absolute deviation (MAD x 1.4826, a standard deviation for normal data that a few
bad scans in the cohort do not inflate) give a robust z-score

    z = (value - median) / (1.4826 MAD)

which is Iglewicz and Hoaglin's modified z-score (0.6745 (x - median) / MAD). A value is flagged when it lies more
than :data:`Z_LIMIT` = 3.5 from the cohort on the worse side of the metric (both sides when the metric has no better
direction): the outlier rule Iglewicz and Hoaglin recommend (How to Detect and Handle Outliers, ASQC 1993), under
which a normal sample flags about 1 value in 2000. When half the cohort or more shares one value (MAD = 0) the mean
absolute deviation x 1.2533 stands in for it (also Iglewicz and Hoaglin); when that is 0 too, any other value is
flagged. A metric with fewer than :data:`MIN_COHORT` finite values in the table is not judged.

**Ratios are judged on the log scale** (:func:`judged_on_log_scale`): a metric whose unit is a ratio of magnitudes
(SNRs, CNR, CJV, FBER, ...) with every cohort value positive gets its median, spread and z on ``ln(value)``, since
such ratios vary by factors; its range is a factor around the median and never reaches below 0.

**A small cohort widens the limits** (:func:`z_limits`). 3.5 (amber) and :data:`Z_RED` = 5 (red) are limits for a
spread known exactly. Estimated from ``n`` scans, the median and the spread are themselves uncertain, and a new
scan's z follows Student's t with ``n - 1`` degrees of freedom, times ``sqrt(1 + 1/n)`` (the prediction interval of
one new observation of a normal sample); the limits are the t quantiles at the normal limits' tail probabilities
(2.3e-4 and 2.9e-7): amber 11.5 and red 62 robust SD for 5 scans, 5.1 and 10.7 for 12, 3.8 and 5.8 for 50,
3.5 and 5.0 in the limit. (Measured before this correction on 15 slabs of 5 real pelvic T2w scans, each judged
against the other 4 subjects' 12 slabs: 7 of the 15 clean slabs showed a red light.) The MAD is a less efficient
estimate of the spread than the SD, so even these limits are, if anything, too narrow for a small cohort.

:meth:`CohortReference.catalogue` turns the cohort into a catalogue whose ranges are median +- the amber limit in
robust SD, so the traffic lights, the reports and the grounded answers read it as they read
:data:`~mmrqa.metrics.CATALOGUE`.
"""

from __future__ import annotations

import csv
import functools
import math
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from mmrqa.errors import InvalidArgumentError, ScanNotFoundError
from mmrqa.metrics.catalogue import CATALOGUE, MetricInfo

#: Robust |z| beyond which a value is flagged (Iglewicz and Hoaglin 1993).
Z_LIMIT = 3.5
#: Robust |z| beyond which a flagged value is red rather than amber (a normal sample: about 1 in 1.7 million).
Z_RED = 5.0
#: Fewest finite values of a metric in the cohort for it to be judged.
MIN_COHORT = 5
MAD_NORMAL = 1.4826  # 1 / Phi^-1(3/4): MAD of a normal sample -> its standard deviation
MEAN_AD_NORMAL = 1.2533  # sqrt(pi / 2): mean absolute deviation of a normal sample -> its standard deviation


@dataclass(frozen=True)
class CohortReference:
    """Per-metric median and robust spread of a reference cohort.

    Attributes:
        source: where the cohort was read from (shown with the lights).
        median: metric -> cohort median, on the metric's judged scale (the natural log for those in ``log``).
        spread: metric -> robust standard deviation on that scale (1.4826 MAD, or 1.2533 mean absolute deviation when
            the MAD is 0; 0 when the cohort is constant).
        n: metric -> number of finite values.
        log: the metrics judged on the log scale (:func:`judged_on_log_scale`).
    """

    source: str
    median: dict[str, float]
    spread: dict[str, float]
    n: dict[str, int]
    log: frozenset[str] = frozenset()

    @classmethod
    def from_values(cls, rows: list[dict[str, float]], source: str = "cohort") -> CohortReference:
        """A cohort from per-scan metric values (name -> value; NaN or None for undefined)."""
        columns: dict[str, list[float]] = {}
        for row in rows:
            for name, value in row.items():
                if value is not None and math.isfinite(float(value)):
                    columns.setdefault(name, []).append(float(value))
        median, spread, n, log = {}, {}, {}, set()
        for name, values in columns.items():
            if len(values) < MIN_COHORT:
                continue
            x = np.asarray(values, dtype=np.float64)
            if judged_on_log_scale(name, x):
                x, _ = np.log(x), log.add(name)
            med = float(np.median(x))
            mad = MAD_NORMAL * float(np.median(np.abs(x - med)))
            median[name], n[name] = med, len(values)
            spread[name] = mad if mad > 0 else MEAN_AD_NORMAL * float(np.mean(np.abs(x - med)))
        if not median:
            raise InvalidArgumentError(
                f"{source}: no metric has {MIN_COHORT} or more values; a reference cohort needs at least {MIN_COHORT} "
                "scans (a `mmrqa metrics` table)"
            )
        return cls(source, median, spread, n, frozenset(log))

    @classmethod
    def from_table(cls, path: str | os.PathLike) -> CohortReference:
        """Read a ``mmrqa metrics`` table (TSV, or CSV when the file name ends in .csv).

        Raises:
            ScanNotFoundError: no such file.
            InvalidArgumentError: not a metrics table (no ``path`` column), or too few scans.
        """
        path = Path(path)
        if not path.is_file():
            raise ScanNotFoundError(f"reference cohort {path} not found (make one with `mmrqa metrics DIR -o {path}`)")
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle, delimiter="," if path.suffix.lower() == ".csv" else "\t")
            if not reader.fieldnames or reader.fieldnames[0] != "path":
                raise InvalidArgumentError(
                    f"{path} is not a `mmrqa metrics` table: its first column should be 'path', "
                    f"not {(reader.fieldnames or [''])[0]!r}"
                )
            rows = [{k: _number(v) for k, v in row.items() if k and k != "path"} for row in reader]
        return cls.from_values(rows, source=f"{path.name} ({len(rows)} scans)")

    def z(self, name: str, value: float | None) -> float:
        """Robust z-score of ``value`` against the cohort (NaN when the metric or the value is unknown)."""
        if name not in self.median or value is None or not math.isfinite(float(value)):
            return math.nan
        value = float(value)
        if name in self.log:
            if value <= 0:  # a ratio at or below 0 lies infinitely far below every cohort value
                return -math.inf
            value = math.log(value)
        gap = value - self.median[name]
        spread = self.spread[name]
        if spread > 0:
            return gap / spread
        return 0.0 if gap == 0 else math.copysign(math.inf, gap)

    def rule(self) -> str:
        """The flagging rule in words, at the limits of the cohort's size (its most complete metric's)."""
        n = max(self.n.values())
        amber, red = z_limits(n)
        return (
            f"robust z-scores, flagged on the worse side beyond {amber:.3g} (red beyond {red:.3g}): "
            f"the outlier limits {Z_LIMIT} and {Z_RED} widened for {n} scans"
        )

    def limits(self, name: str) -> tuple[float, float]:
        """(amber, red) limits on the worse-side z of a metric, for the number of scans that judge it
        (:func:`z_limits`)."""
        return z_limits(self.n.get(name, 0))

    def light(self, name: str, value: float | None, higher_is_better: bool | None) -> str:
        """The traffic light of a metric value against the cohort (:func:`cohort_light` at its limits)."""
        return cohort_light(self.z(name, value), higher_is_better, self.limits(name))

    def bounds(self, name: str, higher_is_better: bool | None) -> tuple[float, float] | None:
        """median -+ the amber limit in robust SD, open on the better side of a metric with a direction."""
        if name not in self.median:
            return None
        med, reach = self.median[name], self.limits(name)[0] * self.spread[name]
        low = -math.inf if higher_is_better is False else med - reach
        high = math.inf if higher_is_better is True else med + reach
        if name in self.log:
            low, high = math.exp(low), math.exp(high)  # exp(-inf) = 0: a ratio is never below 0
            low = -math.inf if higher_is_better is False else low
        return (low, high)

    def typical(self, name: str) -> float:
        """The cohort's median of a metric in its own units."""
        return math.exp(self.median[name]) if name in self.log else self.median[name]

    def catalogue(self, catalogue: dict[str, Any] | None = None) -> dict[str, Any]:
        """The catalogue with each judged metric's range replaced by the cohort's; the others have no range."""
        catalogue = CATALOGUE if catalogue is None else catalogue
        out = {}
        for name, info in catalogue.items():
            if isinstance(info, MetricInfo):
                bounds = self.bounds(name, info.higher_is_better)
                scale = " of its logarithm" if name in self.log else ""
                basis = (
                    f"cohort {self.source}: median {self.typical(name):.4g} -+ {self.limits(name)[0]:.3g} robust SD"
                    f"{scale} ({self.spread[name]:.3g}), the outlier limit {Z_LIMIT} for {self.n[name]} scans"
                    if bounds
                    else f"not judged: fewer than {MIN_COHORT} values in cohort {self.source}"
                )
                not_judged = "" if bounds or info.reference_range is None else "not in the reference cohort"
                info = replace(info, reference_range=bounds, range_basis=basis, not_judged=not_judged)
            out[name] = info
        return out


def judged_on_log_scale(name: str, values: np.ndarray) -> bool:
    """Whether a metric is judged on the log scale: a ratio of magnitudes (catalogue unit "ratio": SNRs, CNR, CJV,
    FBER, ...) whose cohort values are all positive. Such ratios vary by factors, not by steps (a scan with half the
    noise has twice the SNR), and across a cohort they spread over orders of magnitude (FBER 80 to 31,000 on five
    pelvic scans): on the linear scale their lower limit falls below 0 and says nothing."""
    info = CATALOGUE.get(name)
    return getattr(info, "unit", "") == "ratio" and bool(np.all(values > 0))


def worse_z(z: float, higher_is_better: bool | None = None) -> float:
    """A robust z-score turned so that positive is worse: ``-z`` for a metric where higher is better, ``z`` where
    lower is, ``|z|`` for a metric with no better direction (NaN stays NaN)."""
    if higher_is_better is None:
        return abs(z)
    return -z if higher_is_better else z


@functools.lru_cache(maxsize=256)
def z_limits(n: int) -> tuple[float, float]:
    """(amber, red) limits on a worse-side robust z for a cohort of ``n`` scans: :data:`Z_LIMIT` and :data:`Z_RED`
    widened for the uncertainty of a median and spread estimated from ``n`` values (module docstring): the quantiles
    of Student's t with ``n - 1`` degrees of freedom at the normal limits' tail probabilities, times
    ``sqrt(1 + 1/n)``. Fewer than 2 scans: infinite (nothing can be judged)."""
    if n < 2:
        return (math.inf, math.inf)
    from scipy.special import ndtr, stdtrit  # only a cohort needs it

    scale = math.sqrt(1.0 + 1.0 / n)
    amber, red = (scale * float(stdtrit(n - 1, ndtr(z))) for z in (Z_LIMIT, Z_RED))
    return (amber, red)


def cohort_light(z: float, higher_is_better: bool | None = None, limits: tuple[float, float] | None = None) -> str:
    """The traffic light of a robust z-score against a reference cohort: green within the amber limit of the cohort
    or on the better side, amber up to the red limit, red beyond; NaN is grey. ``limits``: (amber, red), those of the
    cohort's size (:func:`z_limits`); default (:data:`Z_LIMIT`, :data:`Z_RED`), a spread known exactly."""
    if z != z:
        return "grey"
    amber, red = limits or (Z_LIMIT, Z_RED)
    worse = worse_z(z, higher_is_better)
    if worse <= amber:
        return "green"
    return "amber" if worse <= red else "red"


def _number(text: str | None) -> float:
    try:
        return float(text) if text not in (None, "", "n/a") else math.nan
    except ValueError:
        return math.nan
