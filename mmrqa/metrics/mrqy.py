"""The ``mrqy`` profile: MRQy 0.0.3's 15 measures, reproduced value for value, without its cost.

MRQy (Sadri et al., "MRQy: an open-source tool for quality control of MR imaging data", Med Phys
2020;47:6029-6038; github ccipd/MRQy, BSD-3-Clause-Clear) works slice by slice along the third array axis of
the array as stored (no reorientation). Slice 0 is skipped; a slice whose foreground image F has zero standard
deviation is skipped; for each measure, slices giving NaN/inf are dropped; the volume value is the mean of the
rest. Per slice (see :mod:`mmrqa.metrics.masks` for the mask M): F = M * I, B = (1 - M) * I, f = I[M],
b = I[~M]; the patch P(X) is the 5x5 block of the zero-padded X whose lower-right neighbour is X's first
arg-max (it excludes the maximum: MRQy pads by 5 but slices 5 from the unshifted index).

MRQy's defects are kept here on purpose (the ``default`` profile corrects them): CPP averages a zero-sum kernel
(so it only measures foreground touching the image border), PSNR compares F with a median of F / max F (two
scales), EFC uses 1e16 for 1e-16, and FBER squares in the stored integer type, which wraps for uint16 values
above 255. The stored dtype is read from ``volume.meta["stored_dtype"]`` when the reader records it, else
inferred (integer-valued data in [0, 65535] are uint16, in [-32768, 32767] int16).

Speed: integer slices are processed as one stack (:func:`mrqy_int_slices`): each slice is histogrammed once
(``np.bincount``) and every statistic comes from its histogram of distinct values, the hulls of all slices are
filled in one vectorised pass, the PSNR median (:func:`mmrqa.metrics.median.median5x5`, exact) runs on the slice
cropped to the hull's bounding box (the median commutes with division by max F), and CPP is its closed form (the
kernel sums to zero, so only border pixels contribute: 3/8 on edges, 5/8 at corners).
"""

from __future__ import annotations

import math

import numpy as np

from mmrqa.metrics.masks import (
    convex_hull_masks,
    mrqy_foreground_lut,
    mrqy_slice_mask_float,
    mrqy_slice_mask_int,
)
from mmrqa.metrics.median import median5x5

# scipy is imported where it is used: the ``mrqy`` profile's start-up stays free of it.

MRQY_MEASURES = ("MEAN", "RNG", "VAR", "CV", "CPP", "PSNR", "SNR1", "SNR2", "SNR3", "SNR4", "CNR", "CVP", "CJV")
MRQY_MEASURES += ("EFC", "FBER")
MRQY_HEADER = ("NUM", "ROWS", "COLS", "VRX", "VRY", "VRZ")
EFC_EPS_MRQY = 1e16  # MRQy's typo for 1e-16: kept to reproduce its values
PATCH = 5


class _Hist:
    """Weighted distinct values of a pixel set: exact moments and medians without touching the pixels again."""

    def __init__(self, values: np.ndarray, counts: np.ndarray) -> None:
        keep = counts > 0
        self.v = values[keep].astype(np.float64)
        self.raw = values[keep]
        self.w = counts[keep].astype(np.float64)
        self.n = float(self.w.sum())

    def mean(self) -> float:
        return float((self.w * self.v).sum() / self.n) if self.n else math.nan

    def var(self) -> float:
        if not self.n:
            return math.nan
        return float((self.w * (self.v - self.mean()) ** 2).sum() / self.n)

    def std(self) -> float:
        return math.sqrt(self.var())


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """np.median of the multiset (mean of the two middle values for an even count)."""
    if weights.sum() == 0:
        return math.nan
    order = np.argsort(values, kind="stable")
    v, cum = values[order], np.cumsum(weights[order])
    n = int(cum[-1])
    hi = float(v[np.searchsorted(cum, n // 2 + 1)])
    if n % 2:
        return hi
    return (float(v[np.searchsorted(cum, n // 2)]) + hi) / 2.0


def _patch(x: np.ndarray) -> np.ndarray:
    """MRQy's patch: zero-pad by 5, take pad[a:a+5, b:b+5] at X's first arg-max (a, b), without padding X."""
    a, b = np.unravel_index(int(np.argmax(x)), x.shape)
    patch = np.zeros((PATCH, PATCH), dtype=np.float64)
    r0, c0 = max(a - PATCH, 0), max(b - PATCH, 0)  # pad rows a..a+4 are X rows a-5..a-1
    patch[r0 - (a - PATCH) :, c0 - (b - PATCH) :] = x[r0:a, c0:b]
    return patch


def stored_dtype(volume) -> np.dtype | None:
    """The integer type MRQy would have read (None for non-integer data)."""
    name = volume.meta.get("stored_dtype")
    if name:
        dt = np.dtype(name)
        return dt if np.issubdtype(dt, np.integer) else None
    data = volume.data
    if not np.array_equal(np.trunc(data), data):  # a pass of trunc, not a division (np.mod) per voxel
        return None
    lo, hi = float(data.min()), float(data.max())
    if lo >= 0 and hi <= 65535:
        return np.dtype(np.uint16)
    if lo >= -32768 and hi <= 32767:
        return np.dtype(np.int16)
    return np.dtype(np.int32) if lo >= -(2**31) and hi < 2**31 else np.dtype(np.int64)


def mrqy_slice(img: np.ndarray, dtype: np.dtype | None) -> dict[str, float] | None:
    """MRQy's 15 measures of one slice (None when MRQy skips it: F has zero standard deviation)."""
    if dtype is not None:
        img = img.astype(np.int64)
        mask = mrqy_slice_mask_int(img)
    else:
        img = img.astype(np.float32)
        mask = mrqy_slice_mask_float(img)
    if not mask.any():
        return None
    lo = int(img.min()) if dtype is not None else 0
    if dtype is not None:
        offset = (img - lo).ravel()
        size = int(offset.max()) + 1
        cf = np.bincount(offset[mask.ravel()], minlength=size)
        cb = np.bincount(offset[~mask.ravel()], minlength=size)
        values = np.arange(lo, lo + size, dtype=np.int64)
        f, b = _Hist(values, cf), _Hist(values, cb)
    else:
        f = _Hist(img[mask], np.ones(int(mask.sum()), dtype=np.int64))
        b = _Hist(img[~mask], np.ones(int((~mask).sum()), dtype=np.int64))
    npix = img.size
    f_const = f.v.size == 1 or f.n == 0
    if f_const and (f.n == 0 or f.v[0] == 0 or f.n == npix):
        return None
    big_f = np.where(mask, img, 0)
    big_b = np.where(mask, 0, img)
    return _measures(img, mask, big_f, big_b, f, b, dtype)


def _measures(img, mask, big_f, big_b, f: _Hist, b: _Hist, dtype) -> dict[str, float]:
    """The 15 measures from a slice's masks, F = M I, B = (1 - M) I and the histograms of f and b."""
    pf, pb = _patch(big_f), _patch(big_b)
    out: dict[str, float] = {}
    std_f, std_b, mean_f = f.std(), b.std(), f.mean()
    out["MEAN"] = mean_f
    out["RNG"] = float(f.v.max() - f.v.min())
    out["VAR"] = f.var()
    out["CV"] = std_f / mean_f * 100 if mean_f else math.nan
    out["CPP"] = _cpp(big_f)
    out["PSNR"] = _psnr(big_f, mask)
    out["SNR1"] = _div(std_f, std_b)
    out["SNR2"] = _div(pf.mean(), std_b)
    out["SNR3"] = _div(pf.mean(), np.std(pf - pf.mean()))
    out["SNR4"] = _div(pf.mean(), pb.std())
    out["CNR"] = _div((pf - pb).mean(), pb.std())
    out["CVP"] = _div(pf.std(), pf.mean())
    out["CJV"] = _div(std_f + std_b, abs(mean_f - b.mean()))
    out["EFC"] = _efc(f, img.size)
    out["FBER"] = _fber(f, b, dtype)
    return out


def _div(a: float, b: float) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(a) / np.float64(b))


def _cpp(big_f: np.ndarray) -> float:
    """mean(conv2(F, [[-1/8]*3, [-1/8, 1, -1/8], [-1/8]*3], 'same')): only border pixels survive the zero sum."""
    h, w = big_f.shape
    edges = big_f[0, :].sum() + big_f[-1, :].sum() + big_f[:, 0].sum() + big_f[:, -1].sum()
    corners = big_f[0, 0] + big_f[0, -1] + big_f[-1, 0] + big_f[-1, -1]
    if h == 1 or w == 1:  # degenerate geometry: fall back to the definition
        from scipy.signal import convolve2d

        kernel = np.full((3, 3), -1 / 8)
        kernel[1, 1] = 1
        return float(convolve2d(big_f, kernel, mode="same").mean())
    edge_only = float(edges) - 2.0 * float(corners)  # each corner was counted twice among the four edges
    return (3 / 8 * edge_only + 5 / 8 * float(corners)) / (h * w)


def _psnr(big_f: np.ndarray, mask: np.ndarray) -> float:
    """20 log10(max F / sqrt(mean((F - median5x5(F / max F))^2))), median with 'nearest' borders (MRQy's)."""
    peak = float(big_f.max())
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    r0, r1 = max(rows[0] - 2, 0), min(rows[-1] + 3, mask.shape[0])
    c0, c1 = max(cols[0] - 2, 0), min(cols[-1] + 3, mask.shape[1])
    # outside the box every 5x5 window is all zeros; inside, a zero margin (or the true border) keeps 'nearest' exact
    crop = big_f[r0:r1, c0:c1]
    if crop.dtype.kind in "iu" and crop.min() >= 0 and peak <= 65535:
        crop = crop.astype(np.uint16)  # same order, a quarter of the memory traffic
    med = (median5x5(crop) / peak).astype(np.float64, copy=False)  # float32 data divide in float32 (as MRQy)
    # F and the median are both zero outside the box: the squared error is summed over the box only
    mse = float(np.square(crop - med).sum()) / big_f.size
    with np.errstate(divide="ignore"):
        return float(20 * np.log10(peak / np.sqrt(mse)))


def _efc(f: _Hist, npix: int) -> float:
    """MRQy's EFC: (1/|Emax|) sum (F/L2) ln((F + 1e16)/L2), Emax = sqrt(n) ln(1/sqrt(n)) over all n pixels."""
    efc_max = 1.0 * npix * (1.0 / np.sqrt(npix)) * np.log(1.0 / np.sqrt(npix))
    b_max = np.sqrt(abs(float((f.w * f.v**2).sum())))
    terms = (f.v / b_max) * np.log((f.v + EFC_EPS_MRQY) / b_max)
    return float((1.0 / abs(efc_max)) * (f.w * terms).sum())


def _fber(f: _Hist, b: _Hist, dtype: np.dtype | None) -> float:
    """median(|f|^2) / median(|b|^2) with the squares in the stored type (MRQy's wrap-around); 0 if tiny."""

    def squares(h: _Hist) -> np.ndarray:
        if dtype is None:
            return np.abs(h.v) ** 2
        with np.errstate(over="ignore"):
            return (np.abs(h.raw.astype(dtype)) ** 2).astype(np.float64)

    fg = _weighted_median(squares(f), f.w)
    bg = _weighted_median(squares(b), b.w)
    if not bg < 1.0e-3 and not math.isnan(bg):
        return float(fg / bg)
    return 0.0 if bg < 1.0e-3 else math.nan


def mrqy_int_slices(stack: np.ndarray, dtype: np.dtype) -> list[dict[str, float] | None]:
    """:func:`mrqy_slice` of every slice ``stack[k]`` of an integer-valued (K, H, W) stack, sharing the work.

    Each slice is histogrammed once (``np.bincount`` of I - min); the mask's grey-value rule, the foreground and
    background histograms (background = all - foreground) and every statistic come from that histogram; the
    convex hulls of all slices are filled in one vectorised pass (:func:`mmrqa.metrics.masks.convex_hull_masks`).
    """
    wide = np.int64 if dtype.itemsize > 4 or stack.min() < -(2**31) or stack.max() >= 2**31 else np.int32
    ints = np.ascontiguousarray(stack, dtype=wide)
    offsets, counts, raw = [], [], np.empty(ints.shape, dtype=bool)
    for k, img in enumerate(ints):
        lo = int(img.min())
        offset = (img - lo).astype(np.intp, copy=False)
        hist = np.bincount(offset.ravel())
        raw[k] = mrqy_foreground_lut(hist, lo)[offset]
        offsets.append((lo, offset))
        counts.append(hist)
    hulls = convex_hull_masks(raw)
    return [
        _int_slice(img, mask, lo, offset, hist, dtype)
        for img, mask, (lo, offset), hist in zip(ints, hulls, offsets, counts, strict=True)
    ]


def _int_slice(img, mask, lo, offset, hist, dtype) -> dict[str, float] | None:
    if not mask.any():
        return None
    values = np.arange(lo, lo + hist.size, dtype=np.int64)
    cf = np.bincount(offset[mask], minlength=hist.size)
    f, b = _Hist(values, cf), _Hist(values, hist - cf)
    if (f.v.size == 1 or f.n == 0) and (f.n == 0 or f.v[0] == 0 or f.n == img.size):
        return None
    big_f = np.where(mask, img, 0)
    return _measures(img, mask, big_f, img - big_f, f, b, dtype)


def mrqy_profile(volume) -> tuple[dict[str, float], dict[str, np.ndarray], np.ndarray]:
    """MRQy 0.0.3's volume values, per-slice arrays (NaN where a slice is skipped) and the slice indices used."""
    data = volume.data
    dtype = stored_dtype(volume)
    indices = np.arange(1, data.shape[2])
    per_slice = {name: np.full(indices.size, np.nan) for name in MRQY_MEASURES}
    if dtype is not None and indices.size:
        results = mrqy_int_slices(np.moveaxis(data[:, :, 1:], 2, 0), dtype)
    else:
        results = [mrqy_slice(data[:, :, z], dtype) for z in indices]
    for k, result in enumerate(results):
        if result is None:
            continue
        for name, value in result.items():
            per_slice[name][k] = value
    values: dict[str, float] = {}
    for name, series in per_slice.items():
        finite = series[np.isfinite(series)]
        values[name] = float(np.mean(finite)) if finite.size else math.nan
    sx, sy, sz = volume.spacing
    header = {"NUM": float(data.shape[2]), "ROWS": float(data.shape[0]), "COLS": float(data.shape[1])}
    # MRQy prints format(spacing, ".2f"); rounding to 5 places first undoes affine round-off (0.87499995 -> 0.875)
    header.update(
        {name: float(f"{round(s, 5):.2f}") for name, s in zip(("VRX", "VRY", "VRZ"), (sx, sy, sz), strict=True)}
    )
    return {**header, **values}, per_slice, indices
