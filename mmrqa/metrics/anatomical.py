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
from dataclasses import dataclass

import numpy as np

from mmrqa.metrics.masks import air_mask, head_mask, open_box3

DIETRICH = 0.6551364  # 1 / sqrt(2 / (4 - pi)): std of a Rayleigh (air) distribution over its sigma... see snrd
MAD_NORMAL = 1.4826  # 1 / Phi^-1(3/4): MAD of a normal sample -> its standard deviation
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


def mad(x: np.ndarray) -> float:
    """Median absolute deviation scaled to a normal standard deviation (x 1.4826)."""
    if x.size == 0:
        return math.nan
    return float(MAD_NORMAL * np.median(np.abs(x - np.median(x))))


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
    air = air_mask(head)
    inside = data[head]
    centres = kmeans3(inside)
    cuts = (centres[:-1] + centres[1:]) / 2
    label = np.searchsorted(cuts, inside)
    tissues = {name: inside[label == k] for k, name in enumerate(CLASSES)}
    top = float(np.percentile(data, 99.95))
    return Regions(data, head, air, tissues, head_values=inside, air_values=data[air], top=top)


def snr(tissue: np.ndarray) -> float:
    """SNR of a tissue: median / (std * sqrt(n / (n - 1))). Higher is better (MRIQC ``snr_*``)."""
    n = tissue.size
    if n < 2:
        return math.nan
    sd = float(np.std(tissue)) * math.sqrt(n / (n - 1))
    return float(np.median(tissue)) / sd if sd > 0 else math.nan


def snrd(tissue: np.ndarray, air: np.ndarray) -> float:
    """Dietrich SNR: DIETRICH * median(tissue) / MAD(air). Higher is better (Dietrich 2007; MRIQC ``snrd_*``).

    In air the magnitude is Rayleigh with scale sigma; its std is sigma sqrt((4 - pi)/2) = sigma / 1.526, and
    the factor 0.6551364 = sqrt((4 - pi)/2) turns the air's spread into the noise sigma of the complex image.
    """
    spread = mad(air)
    if not spread or math.isnan(spread) or tissue.size == 0:
        return math.nan
    return DIETRICH * float(np.median(tissue)) / spread


def cnr(mid: np.ndarray, bright: np.ndarray, air: np.ndarray) -> float:
    """|median_bright - median_mid| / sqrt(std_air^2 + std_mid^2 + std_bright^2). Higher is better (MRIQC)."""
    if mid.size == 0 or bright.size == 0:
        return math.nan
    denom = math.sqrt(float(np.var(air)) + float(np.var(mid)) + float(np.var(bright))) if air.size else math.nan
    return abs(float(np.median(bright)) - float(np.median(mid))) / denom if denom else math.nan


def cjv(mid: np.ndarray, bright: np.ndarray) -> float:
    """Coefficient of joint variation (MAD_mid + MAD_bright) / |median_bright - median_mid|. Lower is better.

    Ganzetti 2016; MRIQC's robust form. Rises with noise, blur and intensity non-uniformity.
    """
    gap = abs(float(np.median(bright)) - float(np.median(mid))) if mid.size and bright.size else 0.0
    return (mad(mid) + mad(bright)) / gap if gap else math.nan


def efc(data: np.ndarray) -> float:
    """Entropy focus criterion: (1/Emax) * -sum (x/xmax) ln((x + 1e-16)/xmax), xmax = sqrt(sum x^2).

    Emax = sqrt(N) ln(1/sqrt(N)) normalises by the entropy of a uniform image, so EFC is in [0, 1]; ghosting
    and blurring spread energy and raise it. Lower is better (Atkinson 1997; MRIQC). Voxels exactly zero
    (zero padding) are excluded from N, as MRIQC does with its padding mask.
    """
    x = np.abs(data[data != 0]).astype(np.float64)
    n = x.size
    if n < 2:
        return math.nan
    emax = math.sqrt(n) * math.log(1 / math.sqrt(n))
    # Sums use numpy's pairwise summation, not a BLAS dot: a BLAS reduction's order depends on its thread count, so
    # the same scan would give values differing in the last bits between a worker process and the main process.
    xmax = math.sqrt(float(np.sum(x * x)))
    # sum (x/xmax) ln((x + eps)/xmax) = (x . ln(x + eps) - ln(xmax) sum x) / xmax: one log pass
    entropy = (float(np.sum(x * np.log(x + EFC_EPS))) - math.log(xmax) * float(x.sum())) / xmax
    return entropy / emax


def fber(head: np.ndarray, air: np.ndarray) -> float:
    """Foreground-background energy ratio median(|head|^2) / median(|air|^2); -1 when the air is all zero.

    Higher is better (Shehzad 2015; MRIQC). Squares are taken in float64 (MRQy wraps them in uint16).
    """
    if air.size == 0:
        return math.nan
    bg = median_of_squares(air)
    if bg == 0:
        return -1.0
    return median_of_squares(head) / bg


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
    picked = np.partition(mags, middle)[middle].astype(np.float64) ** 2
    return float(np.mean(picked))


def wm2max(bright: np.ndarray, data: np.ndarray, top: float | None = None) -> float:
    """median(bright class) / P99.95(image): how close the brightest tissue sits to the top of the range.

    MRIQC's white-matter-to-maximum; ideal about 0.6-0.8 (values near 1 indicate a clipped range, low values
    a few very bright outliers such as vessels or spikes).
    """
    top = float(np.percentile(data, 99.95)) if top is None else top
    return float(np.median(bright)) / top if bright.size and top > 0 else math.nan


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


def summary(x: np.ndarray) -> dict[str, float]:
    """mean, std, 5th/95th percentiles of a region (MRIQC ``summary_*``)."""
    if x.size == 0:
        return {"mean": math.nan, "stdv": math.nan, "p05": math.nan, "p95": math.nan}
    p05, p95 = np.percentile(x, [5, 95])
    return {"mean": float(x.mean()), "stdv": float(x.std()), "p05": float(p05), "p95": float(p95)}


def anatomical_measures(regions: Regions, noise: float) -> dict[str, float]:
    """All MRIQC-style measures of one volume from its prepared regions."""
    data, air_values, head_values = regions.data, regions.air_values, regions.head_values
    mid, bright = regions.tissues["mid"], regions.tissues["bright"]
    out: dict[str, float] = {}
    for name in CLASSES:
        out[f"snr_{name}"] = snr(regions.tissues[name])
    out["snr_total"] = float(np.mean([out[f"snr_{n}"] for n in CLASSES]))
    air_mad = mad(air_values)  # once, not once per class
    for name in CLASSES:
        tissue = regions.tissues[name]
        out[f"snrd_{name}"] = DIETRICH * float(np.median(tissue)) / air_mad if tissue.size and air_mad else math.nan
    out["cnr"] = cnr(mid, bright, air_values)
    out["cjv"] = cjv(mid, bright)
    out["efc"] = efc(data)
    out["fber"] = fber(head_values, air_values)
    out["wm2max"] = wm2max(bright, data, regions.top)
    out["qi_1"] = qi_1(data, regions.air, noise)
    for region, values in (("head", head_values), ("air", air_values), *regions.tissues.items()):
        for stat, value in summary(values).items():
            out[f"summary_{region}_{stat}"] = value
    out["head_fraction"] = float(regions.head.mean())
    return out
