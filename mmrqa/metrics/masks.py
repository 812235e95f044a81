"""Foreground masks: MRQy's per-slice convex-hull mask (exact and fast) and a 3D head/air mask.

MRQy 0.0.3 (Sadri et al., Med Phys 2020) finds each slice's foreground as the convex hull of an Otsu mask of a
blend of the slice and its histogram-equalised version. Done naively (scikit-image's ``equalize_hist``,
``threshold_otsu`` three times, ``convex_hull_image``) this costs ~10 ms per slice. Here every step is computed
on the slice's *distinct values* (an integer slice of 320x320 holds a few hundred), which is bit-identical
because each step is an elementwise function of the value followed by a histogram, and the hull is filled as
one exact span per row instead of testing every pixel against every edge.

Only numpy and scipy are used (scikit-image is a test-time oracle, not a dependency).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from scipy.spatial import ConvexHull

OTSU_BINS = 256  # scikit-image's default bin count for float images (integer images get one bin per value)


def otsu_from_histogram(counts: np.ndarray, centers: np.ndarray) -> float:
    """Otsu's threshold from a histogram, with scikit-image's exact arithmetic (float32 counts, first arg-max).

    Maximises the between-class variance w1 w2 (mu1 - mu2)^2 over the split after each bin; the threshold is
    the centre of the last bin of the lower class (Otsu, IEEE Trans SMC 1979;9:62-66).
    """
    counts = np.asarray(counts).astype(np.float32, copy=False)
    weight1 = np.cumsum(counts)
    weight2 = np.cumsum(counts[::-1])[::-1]
    mean1 = np.cumsum(counts * centers) / weight1
    mean2 = (np.cumsum((counts * centers)[::-1]) / weight2[::-1])[::-1]
    variance12 = weight1[:-1] * weight2[1:] * (mean1[:-1] - mean2[1:]) ** 2
    return centers[int(np.argmax(variance12))]


def float_histogram(values: np.ndarray, weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """numpy's 256-bin histogram over [min, max] and its bin centres (scikit-image's float-image histogram)."""
    lo, hi = float(values.min()), float(values.max())
    try:
        counts, edges = np.histogram(values, bins=OTSU_BINS, range=(lo, hi), weights=weights)
    except ValueError:  # a range of a few float32 steps has no 256 distinct float32 edges: bin in float64
        counts, edges = np.histogram(values.astype(np.float64), bins=OTSU_BINS, range=(lo, hi), weights=weights)
    return counts, (edges[:-1] + edges[1:]) / 2.0


def otsu_float(values: np.ndarray, weights: np.ndarray | None = None):
    """``skimage.filters.threshold_otsu`` of a float image given as distinct values (and their counts)."""
    if values.min() == values.max():
        return values.flat[0]
    return otsu_from_histogram(*float_histogram(values, weights))


def mrqy_slice_mask_int(img: np.ndarray) -> np.ndarray:
    """MRQy 0.0.3's foreground of one integer slice, bit-identical to its ``foreground()``.

    H = equalize_hist(I) * 255; w1 = mean(I > otsu(I)); w2 = mean(H > otsu(H)); N = w1 I + w2 H;
    mask = convex hull of (N > otsu(N)). For an integer image scikit-image histograms one bin per integer,
    so every quantity is a function of the grey value: it is evaluated once per distinct value.
    """
    lo = int(img.min())
    offset = (img - lo).astype(np.intp, copy=False)
    counts = np.bincount(offset.ravel())
    centers = np.arange(lo, lo + counts.size, dtype=np.int64)
    npix = img.size
    if counts.size == 1:  # constant slice: Otsu returns the value itself, nothing lies above it
        return np.zeros(img.shape, dtype=bool)
    present = np.flatnonzero(counts)
    values = centers[present]
    weights = counts[present]
    t_img = otsu_from_histogram(counts, centers)
    w1 = weights[values > t_img].sum() / npix
    cdf = np.cumsum(counts) / float(counts.sum())
    h_values = cdf[present] * 255
    t_h = otsu_float(h_values, weights)
    w2 = weights[h_values > t_h].sum() / npix
    new_values = (w1 * values) + (w2 * h_values)
    t_new = otsu_float(new_values, weights)
    lut = np.zeros(counts.size, dtype=bool)
    lut[present] = new_values > t_new
    return convex_hull_mask(lut[offset])


def mrqy_slice_mask_float(img: np.ndarray) -> np.ndarray:
    """MRQy's foreground of a non-integer slice (scikit-image's 256-bin float histograms), value-wise."""
    values, inverse, weights = np.unique(img, return_inverse=True, return_counts=True)
    if values.size == 1:
        return np.zeros(img.shape, dtype=bool)
    npix = img.size
    t_img = otsu_float(values, weights)
    w1 = weights[values > t_img].sum() / npix
    counts, centers = float_histogram(img.ravel())
    cdf = (np.cumsum(counts) / float(counts.sum())).astype(_float_type(img.dtype), copy=False)
    h_values = np.interp(values, centers, cdf).astype(_float_type(img.dtype), copy=False) * 255
    t_h = otsu_float(h_values, weights)
    w2 = weights[h_values > t_h].sum() / npix
    new_values = (w1 * values) + (w2 * h_values)
    t_new = otsu_float(new_values, weights)
    return convex_hull_mask((new_values > t_new)[inverse.reshape(img.shape)])


def _float_type(dtype: np.dtype) -> type:
    return np.float32 if dtype in (np.float16, np.float32) else np.float64


def convex_hull_mask(mask: np.ndarray) -> np.ndarray:
    """Pixels inside or on the convex hull of a 2D mask's pixels, each pixel a diamond of radius 1/2.

    Equals ``skimage.morphology.convex_hull_image(mask)`` (offset coordinates, borders included) but fills the
    polygon with one exact span per row (integer arithmetic on doubled coordinates) instead of a point-in-polygon
    test per pixel. An empty mask gives an empty hull.
    """
    out = np.zeros(mask.shape, dtype=bool)
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return out
    sub = mask[rows]
    first = np.argmax(sub, axis=1)
    last = mask.shape[1] - 1 - np.argmax(sub[:, ::-1], axis=1)
    r2 = np.repeat(2 * rows, 2)
    c2 = np.column_stack([2 * first, 2 * last]).ravel()
    # doubled coordinates of the diamond vertices (r +- 1/2, c) and (r, c +- 1/2) of the row extremes
    points = np.concatenate(
        [
            np.column_stack([r2 - 1, c2]),
            np.column_stack([r2 + 1, c2]),
            np.column_stack([r2, c2 - 1]),
            np.column_stack([r2, c2 + 1]),
        ]
    )
    key = np.unique(points[:, 0] * (4 * mask.shape[1] + 8) + (points[:, 1] + 2))  # dedupe (cheap 1D keys)
    points = np.column_stack([key // (4 * mask.shape[1] + 8), key % (4 * mask.shape[1] + 8) - 2])
    vertices = points[ConvexHull(points.astype(np.float64)).vertices].astype(np.int64)
    lo, hi = _row_spans(vertices, mask.shape[0])
    cols = np.arange(mask.shape[1])
    out[:] = (cols[None, :] >= lo[:, None]) & (cols[None, :] <= hi[:, None])
    return out


def _row_spans(vertices: np.ndarray, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """First and last integer column inside a convex polygon (doubled integer vertices) on each integer row."""
    big = np.iinfo(np.int64).max // 4
    start = vertices
    end = np.roll(vertices, -1, axis=0)
    rr = 2 * np.arange(n_rows, dtype=np.int64)[None, :]
    r1, c1 = start[:, :1], start[:, 1:]
    r2, c2 = end[:, :1], end[:, 1:]
    flat = r1 == r2
    dr = np.where(flat, 1, r2 - r1)
    sign = np.sign(dr)
    den = dr * sign  # > 0
    num = (c1 * (r2 - r1) + (rr - r1) * (c2 - c1)) * sign  # column (doubled) = num / den
    crosses = ~flat & (rr >= np.minimum(r1, r2)) & (rr <= np.maximum(r1, r2))
    ceil_half = -((-num) // (2 * den))
    floor_half = num // (2 * den)
    lo = np.min(np.where(crosses, ceil_half, big), axis=0)
    hi = np.max(np.where(crosses, floor_half, -big), axis=0)
    on_flat = flat & (rr == r1)
    flat_lo = -((-np.minimum(c1, c2)) // 2)
    flat_hi = np.maximum(c1, c2) // 2
    lo = np.minimum(lo, np.min(np.where(on_flat, flat_lo, big), axis=0))
    hi = np.maximum(hi, np.max(np.where(on_flat, flat_hi, -big), axis=0))
    return lo, hi


def head_mask(data: np.ndarray) -> np.ndarray:
    """3D head (object) mask: a noise-aware threshold, largest connected component, holes filled.

    A registration-free stand-in for MRIQC's head mask: the object is brighter than air in any MR contrast.
    The threshold is Otsu's, lowered to 4x the mode of the sub-Otsu histogram (the Rayleigh air mode = sigma)
    so that dark tissue is not lost, and the largest component drops isolated background specks
    (ghosts, noise). Slices are hole-filled so dark structures inside the body (CSF, bowel gas) stay inside.
    """
    finite = data[np.isfinite(data)]
    t = float(otsu_float(finite[:: max(1, finite.size // 2_000_000)]))
    low = finite[(finite > 0) & (finite < t)]
    if low.size > 100:  # air is Rayleigh with its mode at sigma: 4 sigma keeps dark tissue, drops 99.97% of air
        counts, edges = np.histogram(low, bins=128)
        mode = (edges[np.argmax(counts)] + edges[np.argmax(counts) + 1]) / 2
        t = min(t, 4.0 * mode)
    mask = data > t
    labels, n = ndimage.label(mask)
    if n > 1:
        sizes = np.bincount(labels.ravel())
        sizes[0] = 0
        mask = labels == int(np.argmax(sizes))
    mask = ndimage.binary_closing(mask, iterations=2, border_value=0) | mask
    for z in range(mask.shape[2]):
        mask[:, :, z] = ndimage.binary_fill_holes(mask[:, :, z])
    return mask


def air_mask(head: np.ndarray, margin: int = 3) -> np.ndarray:
    """Air: voxels at least ``margin`` voxels away from the head mask (so partial volume at the skin is excluded)."""
    grown = ndimage.binary_dilation(head, iterations=margin) if margin > 0 else head
    return ~grown
