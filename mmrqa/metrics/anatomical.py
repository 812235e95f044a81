"""MRIQC-style anatomical image quality measures, computed without registration or external tools.

Each measure is a pure function of arrays (no I/O) named by its abbreviation; masks and tissue statistics are
prepared once by :func:`prepare` (the orchestration layer), as in MRIQC's ``mriqc/qc/anatomical.py``.

Tissue classes: the head voxels are split into three intensity classes by 1D k-means on their histogram
(Lloyd's algorithm on 512 bins, initialised at the 1/6, 1/2 and 5/6 quantiles). On a T1-weighted brain they
approximate CSF / GM / WM; on a T2-weighted or non-brain scan (e.g. pelvis) they are simply the dark, middle
and bright intensity classes, which keeps every measure well defined. They are named ``dark``, ``mid`` and
``bright``; contrast measures (cnr, cjv, wm2max) use the two brightest classes, MRIQC's GM and WM on T1.

References: Esteban et al., "MRIQC", PLoS ONE 2017;12:e0184661; Dietrich et al., Magn Reson Imaging
2007;25:1293-1302 (SNR from air); Ganzetti et al., Front Neuroinform 2016;10:10 (CJV); Atkinson et al.,
IEEE TMI 1997;16:903-910 (EFC); Shehzad et al., 2015 (FBER); Mortamet et al., MRM 2009;62:365-372 (QI1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from mmrqa.metrics.masks import AIR_MARGIN, air_mask, bounding_box, head_mask, open_box3
from mmrqa.metrics.quantiles import median as _median
from mmrqa.metrics.quantiles import order_statistics, percentiles

DIETRICH = 0.6551364  # 1 / sqrt(2 / (4 - pi)): std of a Rayleigh (air) distribution over its sigma... see snrd
MAD_NORMAL = 1.4826  # 1 / Phi^-1(3/4): MAD of a normal sample -> its standard deviation
#: MRIQC computes its measures on an image scaled so that the white matter's median is 1000; its snr_dietrich
#: thresholds (MAD > 1, std > 1e-3) are in those units.
MRIQC_SCALE = 1000.0
MRIQC_MIN_MAD = 1.0  # MRIQC 24.0.2 snr_dietrich: a MAD at or below this is "too small" -> the air's std
MRIQC_MIN_STD = 1e-3  # ... and a std at or below this leaves the SNR undefined (MRIQC: -1)
EFC_EPS = 1e-16  # the entropy's log guard, as MRIQC (MRQy's 1e16 is a typo)
CLASSES = ("dark", "mid", "bright")


@dataclass
class Regions:
    """Voxel sets shared by all measures of one volume, each extracted once."""

    data: np.ndarray
    head: np.ndarray
    air: np.ndarray
    tissues: dict[str, np.ndarray]  # class name -> intensities of that class
    head_values: np.ndarray  # data[head]
    air_values: np.ndarray  # data[air]
    top: float  # P99.95 of the whole image (PSNR's peak, wm2max's reference)
    box: tuple[slice, ...] | None = None  # the head's bounding box grown by the air margin: all air outside it
    _stats: dict[str, RegionStats] = field(default_factory=dict, repr=False)

    def stats(self, name: str) -> RegionStats:
        """:func:`describe` of region ``name`` ("head", "air" or a class name), computed once."""
        if name not in self._stats:
            values = {"head": self.head_values, "air": self.air_values}.get(name)
            self._stats[name] = describe(self.tissues[name] if values is None else values)
        return self._stats[name]


@dataclass(frozen=True)
class RegionStats:
    """Summary statistics of one voxel set, each computed once (exact order statistics, float64 moments)."""

    n: int
    mean: float
    std: float  # ddof 0
    median: float
    p05: float
    p95: float
    mad: float  # median |x - median| x 1.4826
    middle: tuple[float, ...]  # the one or two middle order statistics (median of squares when all >= 0)


def describe(x: np.ndarray) -> RegionStats:
    """n, mean, std, median, P5, P95, normal-scaled MAD of ``x``; NaN fields when empty.

    Quantiles use :func:`mmrqa.metrics.quantiles.order_statistics` (the same values as numpy's, several times
    faster on millions of voxels); the moments are accumulated in float64.
    """
    n = int(x.size)
    if n == 0:
        return RegionStats(0, *(math.nan,) * 6, ())
    mid = sorted({(n - 1) // 2, n // 2})
    p05_pos, p95_pos = 0.05 * (n - 1), 0.95 * (n - 1)
    ranks = {int(math.floor(p)) for p in (p05_pos, p95_pos)} | {int(math.ceil(p)) for p in (p05_pos, p95_pos)}
    ranks = sorted(ranks | set(mid))
    order = dict(zip(ranks, order_statistics(x, ranks).astype(np.float64).tolist(), strict=True))
    middle = tuple(order[r] for r in mid)
    med = float(np.mean(middle))
    mean = float(x.mean(dtype=np.float64))
    if x.dtype == np.float32:  # float32 deviations and squares (~1e-8 relative), summed in float64
        dev = x - np.float32(mean)
        std = math.sqrt(float(np.square(dev, out=dev).sum(dtype=np.float64)) / n)
    else:
        std = math.sqrt(float(np.mean(np.square(x.astype(np.float64) - mean))))
    centre = np.float32(med) if x.dtype == np.float32 else med  # keep float32 data in float32
    deviation = np.subtract(x, centre)  # one new array, made absolute and partitioned in place
    mad_value = MAD_NORMAL * _median(np.abs(deviation, out=deviation), copy=False)
    return RegionStats(n, mean, std, med, _lerp(order, p05_pos), _lerp(order, p95_pos), mad_value, middle)


def _lerp(order: dict[int, float], position: float) -> float:
    below, above = order[int(math.floor(position))], order[int(math.ceil(position))]
    frac = position - math.floor(position)
    return below + (above - below) * frac if frac < 0.5 else above - (above - below) * (1 - frac)


def kmeans3(values: np.ndarray, iterations: int = 50) -> np.ndarray:
    """Three 1D k-means centres (ascending) of ``values`` via Lloyd's algorithm on a 512-bin histogram."""
    # float64 bins: in float32 a near-constant or a huge intensity range has no 512 distinct finite edges.
    values = np.asarray(values, dtype=np.float64)
    if values.size and np.ptp(values) <= 1e-9 * max(float(np.abs(values).max()), 1.0):
        return np.full(3, float(values.min()))  # (near-)constant: one class, and no 512 distinct bins exist
    counts, edges = np.histogram(values, bins=512)
    centers_bins = (edges[:-1] + edges[1:]) / 2
    cdf = np.cumsum(counts) / counts.sum()
    centres = np.array([centers_bins[np.searchsorted(cdf, q)] for q in (1 / 6, 1 / 2, 5 / 6)], dtype=np.float64)
    for _ in range(iterations):
        label = np.argmin(np.abs(centers_bins[:, None] - centres[None, :]), axis=1)
        new = centres.copy()
        for k in range(3):
            w = counts[label == k]
            if w.sum() > 0:
                new[k] = float((w * centers_bins[label == k]).sum() / w.sum())
        if np.allclose(new, centres):
            break
        centres = np.sort(new)
    return centres


def prepare(data: np.ndarray) -> Regions:
    """Head and air masks and the three intensity classes of the head.

    Works on a C-ordered copy when the scan is stored otherwise (NIfTI arrays are Fortran-ordered): boolean
    selections then read memory in order, several times faster, and select the same voxels in the same order.
    """
    data = np.ascontiguousarray(data)
    head = head_mask(data)
    box = bounding_box(head, AIR_MARGIN)
    air = air_mask(head, AIR_MARGIN, box)
    inside = data[head]
    centres = kmeans3(inside)
    cuts = (centres[:-1] + centres[1:]) / 2
    label = np.searchsorted(cuts, inside)
    tissues = {name: inside[label == k] for k, name in enumerate(CLASSES)}
    top = float(percentiles(data, [99.95])[0])
    return Regions(data, head, air, tissues, head_values=inside, air_values=data[air], top=top, box=box)


Values = np.ndarray | RegionStats  # a voxel set, or its :func:`describe` computed once by the caller


def _described(x: Values) -> RegionStats:
    return x if isinstance(x, RegionStats) else describe(np.asarray(x))


def snr(tissue: Values) -> float:
    """SNR of a tissue: median / (std * sqrt(n / (n - 1))). Higher is better (MRIQC ``snr_*``)."""
    t = _described(tissue)
    if t.n < 2:
        return math.nan
    sd = t.std * math.sqrt(t.n / (t.n - 1))
    return t.median / sd if sd > 0 else math.nan


def snrd(tissue: Values, air: Values, scale: float = MRIQC_SCALE) -> float:
    """Dietrich SNR: DIETRICH * median(tissue) / MAD(air). Higher is better (Dietrich 2007; MRIQC ``snrd_*``).

    In air the magnitude is Rayleigh with scale sigma; its std is sigma sqrt((4 - pi)/2) = sigma / 1.526, and
    the factor 0.6551364 = sqrt((4 - pi)/2) turns the air's spread into the noise sigma of the complex image.

    A zero-filled background (a template, a skull-stripped or masked export: the ITK head T1, Colin27, MNI152) has a
    MAD of 0 while some air voxels still carry signal. There MRIQC 24.0.2 (``mriqc/qc/anatomical.py``
    ``snr_dietrich``) divides by the air's standard deviation instead: MAD when ``MAD > 1``, else the std when
    ``std > 1e-3``, else undefined (MRIQC returns -1; here NaN, the catalogue's "undefined"). MRIQC's thresholds are
    on its own intensity scale, where the bright (WM) class's median is :data:`MRIQC_SCALE`; ``scale`` is that median
    in this image (the caller passes the bright class's median), so the same rule applies to any intensity scale and
    equals MRIQC's on an image already on its scale (the default).

    Args:
        tissue: the tissue class's voxels (or their :func:`describe`).
        air: the air's voxels (or their :func:`describe`).
        scale: the bright class's median in this image (MRIQC's reference of 1000).
    """
    t, a = _described(tissue), _described(air)
    if t.n == 0 or a.n == 0 or not math.isfinite(scale) or scale <= 0:
        return math.nan
    unit = scale / MRIQC_SCALE  # one intensity unit of MRIQC's scale in this image's units
    if a.mad > MRIQC_MIN_MAD * unit:
        return DIETRICH * t.median / a.mad
    return DIETRICH * t.median / a.std if a.std > MRIQC_MIN_STD * unit else math.nan


def cnr(mid: Values, bright: Values, air: Values) -> float:
    """|median_bright - median_mid| / sqrt(std_air^2 + std_mid^2 + std_bright^2). Higher is better (MRIQC)."""
    m, b, a = _described(mid), _described(bright), _described(air)
    if m.n == 0 or b.n == 0:
        return math.nan
    denom = math.sqrt(a.std**2 + m.std**2 + b.std**2) if a.n else math.nan
    return abs(b.median - m.median) / denom if denom else math.nan


def cjv(mid: Values, bright: Values) -> float:
    """Coefficient of joint variation (MAD_mid + MAD_bright) / |median_bright - median_mid|. Lower is better.

    Ganzetti 2016; MRIQC's robust form. Rises with noise, blur and intensity non-uniformity.
    """
    m, b = _described(mid), _described(bright)
    gap = abs(b.median - m.median) if m.n and b.n else 0.0
    return (m.mad + b.mad) / gap if gap else math.nan


def efc(data: np.ndarray) -> float:
    """Entropy focus criterion: (1/Emax) * -sum (x/xmax) ln((x + 1e-16)/xmax), xmax = sqrt(sum x^2).

    Emax = sqrt(N) ln(1/sqrt(N)) normalises by the entropy of a uniform image, so EFC is in [0, 1]; ghosting
    and blurring spread energy and raise it. Lower is better (Atkinson 1997; MRIQC). Voxels exactly zero
    (zero padding) are excluded from N, as MRIQC does with its padding mask.
    """
    x = np.asarray(data) if np.asarray(data).dtype.kind == "f" else np.asarray(data, dtype=np.float64)
    x = x if float(x.min()) >= 0 else np.abs(x)  # magnitudes are already non-negative: no copy
    n = int(np.count_nonzero(x))
    if n < 2:
        return math.nan
    emax = math.sqrt(n) * math.log(1 / math.sqrt(n))
    # Zeros add nothing to any sum below (0 ln(max(0, tiny)) = 0), so no copy of the non-zero voxels is made.
    # Logarithms in the data's precision (float32: 2x faster; ln(x + 1e-16) = ln(x) there for every x > 0, the
    # relative error per term ~1e-7 averages out), every sum in float64 with numpy's pairwise summation (not a
    # BLAS dot, whose order depends on its thread count: worker and main processes must agree bit for bit).
    tiny = np.finfo(x.dtype).tiny
    squares = np.square(x)  # in the data's precision (float32: ~1e-8 relative per term), summed in float64
    xmax = math.sqrt(float(squares.sum(dtype=np.float64)))
    if not xmax > 0:  # every square underflowed in float32 (values ~1e-20 and below): redo in float64
        return efc(x.astype(np.float64)) if x.dtype != np.float64 else math.nan
    # sum (x/xmax) ln((x + eps)/xmax) = (x . ln(x + eps) - ln(xmax) sum x) / xmax: one log pass, in place
    xlogx = np.add(x, x.dtype.type(EFC_EPS), out=squares)
    np.maximum(xlogx, tiny, out=xlogx)
    np.log(xlogx, out=xlogx)
    xlogx *= x
    entropy = (float(np.sum(xlogx, dtype=np.float64)) - math.log(xmax) * float(x.sum(dtype=np.float64))) / xmax
    return entropy / emax


def fber(
    head: np.ndarray, air: np.ndarray, head_stats: RegionStats | None = None, air_stats: RegionStats | None = None
) -> float:
    """Foreground-background energy ratio median(|head|^2) / median(|air|^2); -1 when the air is all zero.

    Higher is better (Shehzad 2015; MRIQC). Squares are taken in float64 (MRQy wraps them in uint16). With the
    regions' :func:`describe` given, non-negative regions reuse their middle order statistics (no new selection).
    """
    if air.size == 0:
        return math.nan
    bg = _median_of_squares(air, air_stats)
    if bg == 0:
        return -1.0
    return _median_of_squares(head, head_stats) / bg


def _median_of_squares(x: np.ndarray, stats: RegionStats | None) -> float:
    """:func:`median_of_squares`; from ``stats.middle`` when every value is >= 0 (then |x| sorts as x)."""
    if stats is not None and stats.middle and x.size and float(x.min()) >= 0:
        return float(np.mean(np.square(np.array(stats.middle, dtype=np.float64))))
    return median_of_squares(x)


def median_of_squares(x: np.ndarray) -> float:
    """``np.median(np.abs(x.astype(float64)) ** 2)`` without squaring every value.

    Squaring is monotone on |x|, so the middle order statistics of the squares are the squares of those of |x|:
    only the (one or two) middle values of |x| are selected (``np.partition``) and squared in float64.
    """
    if x.size == 0:
        return math.nan
    mags = np.abs(x.astype(np.int64) if x.dtype.kind in "iub" else x)  # |int16(-32768)| would wrap
    n = mags.size
    middle = sorted({(n - 1) // 2, n // 2})
    picked = order_statistics(mags, middle).astype(np.float64) ** 2
    return float(np.mean(picked))


def wm2max(bright: Values, data: np.ndarray, top: float | None = None) -> float:
    """median(bright class) / P99.95(image): how close the brightest tissue sits to the top of the range.

    MRIQC's white-matter-to-maximum; ideal about 0.6-0.8 (values near 1 indicate a clipped range, low values
    a few very bright outliers such as vessels or spikes).
    """
    top = float(percentiles(data, [99.95])[0]) if top is None else top
    b = _described(bright)
    return b.median / top if b.n and top > 0 else math.nan


def qi_1(data: np.ndarray, air: np.ndarray, noise_sigma: float) -> float:
    """Fraction of air voxels carrying artifactual signal (in the spirit of Mortamet's QI1). Lower is better.

    An air voxel is artifactual when it exceeds 3.5 sigma (a Rayleigh variable does so with probability
    exp(-3.5^2/2) = 0.2%) and survives a 3x3x3 opening (clustered, not isolated noise). The count is divided by
    the air volume. sigma is the Rician noise estimate of :func:`mmrqa.metrics.indicators.noise_sigma`.
    """
    if not air.any() or not noise_sigma > 0:
        return math.nan
    hot = air & (data > 3.5 * noise_sigma)
    hot = open_box3(hot)  # = ndimage.binary_opening(hot, structure=np.ones((3, 3, 3)))
    return float(hot.sum()) / float(air.sum())


def summary(x: Values) -> dict[str, float]:
    """mean, std, 5th/95th percentiles of a region (MRIQC ``summary_*``)."""
    t = _described(x)
    return {"mean": t.mean, "stdv": t.std, "p05": t.p05, "p95": t.p95}


def anatomical_measures(regions: Regions, noise: float) -> dict[str, float]:
    """All MRIQC-style measures of one volume from its prepared regions (each region described once)."""
    head, air = regions.stats("head"), regions.stats("air")
    tissues = {name: regions.stats(name) for name in CLASSES}
    out: dict[str, float] = {}
    for name in CLASSES:
        out[f"snr_{name}"] = snr(tissues[name])
    out["snr_total"] = float(np.mean([out[f"snr_{n}"] for n in CLASSES]))
    for name in CLASSES:
        out[f"snrd_{name}"] = snrd(tissues[name], air, tissues["bright"].median)
    out["cnr"] = cnr(tissues["mid"], tissues["bright"], air)
    out["cjv"] = cjv(tissues["mid"], tissues["bright"])
    out["efc"] = efc(regions.data)
    out["fber"] = fber(regions.head_values, regions.air_values, head, air)
    out["wm2max"] = wm2max(tissues["bright"], regions.data, regions.top)
    out["qi_1"] = qi_1(regions.data, regions.air, noise)
    for region, stats in (("head", head), ("air", air), *tissues.items()):
        for stat, value in summary(stats).items():
            out[f"summary_{region}_{stat}"] = value
    out["head_fraction"] = float(regions.head.mean())
    return out
