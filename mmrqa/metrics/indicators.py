"""Artifact indicators: one measure per artifact family, each computed from the prepared head/air regions.

Every function is pure (arrays in, float out). Intensities are divided by the head's median where a measure must
not depend on the scanner's arbitrary scale. See :data:`mmrqa.metrics.catalogue.ARTIFACT_INDICATORS`.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from mmrqa.metrics.masks import erode
from mmrqa.metrics.spectral import sample_slices

IMMERKAER = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float64)


def noise_sigma(air: np.ndarray, air_stats=None) -> float:
    """Rician noise sigma from air magnitudes: sqrt(mean(air^2) / 2).

    With no signal the magnitude of complex Gaussian noise (sigma per channel) is Rayleigh and E[M^2] = 2 sigma^2,
    so this estimator is unbiased in pure air (Gudbjartsson & Patz, MRM 1995;34:910-914). Exactly-zero voxels
    (masked or zero-filled backgrounds) carry no noise and are left out; NaN when fewer than 100 remain.
    ``air_stats``: :func:`mmrqa.metrics.anatomical.describe` of ``air`` when the caller has it: the sum of squares
    is then n (std^2 + mean^2), with no pass over the voxels.
    """
    n = int(np.count_nonzero(air))  # zeros add nothing to the sum of squares: no copy of the non-zero voxels
    if n < 100:
        return math.nan
    if air_stats is not None and air_stats.n == air.size:
        squares = air_stats.n * (air_stats.std**2 + air_stats.mean**2)
    else:
        squares = float(np.sum(np.square(air, dtype=np.float64)))
    return math.sqrt(squares / n / 2.0)


def noise_rel(sigma: float, head_median: float) -> float:
    """Noise level in percent of the head's median intensity. Lower is better."""
    return 100.0 * sigma / head_median if head_median > 0 else math.nan


def gsr(
    data: np.ndarray,
    head: np.ndarray,
    air: np.ndarray,
    axis: int,
    ref: float | None = None,
    air_data: np.ndarray | None = None,
) -> float:
    """Ghost-to-signal ratio along in-plane ``axis`` (the phase-encoding axis), in percent. Lower is better.

    Ghosts are copies of the object shifted along the phase-encoding direction, so they fall in the air that
    lies in line with the object along that axis (the object's extent on the other in-plane axis). GSR =
    100 (mean(air in line) - mean(air off line)) / median(head), per MRIQC's ``gsr_x``/``gsr_y`` idea. ``ref``:
    the head median when the caller has it; ``air_data``: ``np.where(air, data, 0)`` when the caller has it.
    Computed from line sums along ``axis`` (no 3D in-line mask).
    """
    extent = head.any(axis=axis)  # object footprint projected along the PE axis: (other in-plane axis, slice)
    line_sum = (np.where(air, data, 0) if air_data is None else air_data).sum(axis=axis, dtype=np.float64)
    line_count = air.sum(axis=axis, dtype=np.int64)
    n_in, n_off = int(line_count[extent].sum()), int(line_count[~extent].sum())
    if n_in < 50 or n_off < 50:
        return math.nan
    ref = float(np.median(data[head])) if ref is None else ref
    mean_in, mean_off = float(line_sum[extent].sum()) / n_in, float(line_sum[~extent].sum()) / n_off
    return 100.0 * (mean_in - mean_off) / ref if ref > 0 else math.nan


def _in_plane(data: np.ndarray, weights: list[float], axis: int) -> np.ndarray:
    return ndimage.correlate1d(data, weights, axis=axis, mode="nearest")


def sharpness(data: np.ndarray, head: np.ndarray, ref: float | None = None) -> float:
    """Mean in-plane gradient magnitude inside the head over the head's median (Sobel). Higher is sharper.

    Blur and low-pass filtering remove the high spatial frequencies that carry edges, lowering it (Tenengrad
    focus measure, Krotkov 1987). Replaces MRQy's CPP, whose zero-sum kernel averages to ~0. The 3x3 Sobel
    kernels act within each slice (derivative [-1, 0, 1] along one in-plane axis, smoothing [1, 2, 1] along the
    other, gain 8 for a unit ramp) on at most :data:`~mmrqa.metrics.spectral.MAX_SLICES` evenly spaced slices: a
    loss of resolution is shared by the slices. ``ref``: the head median when the caller has it.
    """
    ref = (float(np.median(data[head])) if head.any() else 0.0) if ref is None else ref
    picks = sample_slices(data.shape[2])
    sub, inside = data[:, :, picks].astype(np.float32), head[:, :, picks]
    if ref <= 0 or not inside.any():
        return math.nan
    gx = _in_plane(_in_plane(sub, [-1.0, 0.0, 1.0], 0), [1.0, 2.0, 1.0], 1)
    gy = _in_plane(_in_plane(sub, [-1.0, 0.0, 1.0], 1), [1.0, 2.0, 1.0], 0)
    grad = np.hypot(gx[inside], gy[inside]) / 8.0
    return float(grad.mean(dtype=np.float64)) / ref


def ringing(data: np.ndarray, head: np.ndarray) -> float:
    """Gibbs ringing: in-plane Laplacian energy in a band 2-5 voxels inside strong edges over that of the core.

    Truncating k-space (a sinc kernel) leaves oscillations parallel to strong edges that decay over a few
    voxels. Their second derivative is concentrated next to the edges; the ratio to the same energy deep
    inside the object (> 8 voxels from an edge) cancels the noise level. Lower is better. The distance to the
    edge is the in-plane chessboard distance (box erosions, the array border counting as outside); computed
    on at most :data:`~mmrqa.metrics.spectral.MAX_SLICES` evenly spaced slices.
    """
    picks = sample_slices(data.shape[2])
    sub, inside = data[:, :, picks].astype(np.float64), head[:, :, picks]
    lap = _in_plane(sub, [1.0, -2.0, 1.0], 0) + _in_plane(sub, [1.0, -2.0, 1.0], 1)
    depth = [inside]  # depth[k]: at least k + 1 voxels (chessboard) from the outside
    for _ in range(8):
        depth.append(erode(erode(depth[-1], 1, axes=(0,)), 1, axes=(1,)))
    band = depth[1] & ~depth[5]
    core = depth[8]
    if band.sum() < 50 or core.sum() < 50:
        return math.nan
    return float(np.mean(lap[band] ** 2) / np.mean(lap[core] ** 2))


def inu_range(data: np.ndarray, tissue_mask: np.ndarray, spacing: tuple[float, float, float]) -> float:
    """Intensity non-uniformity: (P95 - P5) / median of the bright class after heavy smoothing. Lower is better.

    A bias field is a smooth multiplicative field; smoothing the bright-class intensities with a 20 mm Gaussian
    (normalised convolution, so the mask edge does not darken) keeps it and averages noise and anatomy away.
    MRIQC reports the N4 field's range; this is a registration- and N4-free proxy.
    """
    if tissue_mask.sum() < 100:
        return math.nan
    sigma = [20.0 / max(s, 1e-3) for s in spacing]
    sigma = [min(s, n / 4) for s, n in zip(sigma, data.shape, strict=True)]
    weights = ndimage.gaussian_filter(tissue_mask.astype(np.float32), sigma, mode="constant")
    field = ndimage.gaussian_filter(np.where(tissue_mask, data, 0).astype(np.float32), sigma, mode="constant")
    smooth = field[tissue_mask] / np.maximum(weights[tissue_mask], 1e-6)
    p5, p50, p95 = np.percentile(smooth, [5, 50, 95])
    return float((p95 - p5) / p50) if p50 > 0 else math.nan


def motion_index(air: np.ndarray, head_median: float, air_stats=None, noise_sigma: float = math.nan) -> float:
    """Excess air signal over the Rician noise floor, in percent of the head median. Lower is better.

    Pure noise in air has mean sigma sqrt(pi/2) (Rayleigh); motion during acquisition smears the object along
    the phase-encoding direction into the air (ghosts and blurred copies of the moved k-space segments), raising its
    mean above that floor (Mortamet et al., MRM 2009;62:365-372, on artifactual air signal). sigma is
    ``noise_sigma``, the local (Immerkaer) noise of the head from :func:`local_noise`: a second-difference filter
    that the smooth motion ghosts barely move, whereas the air's own median or MAD rises with them and would cancel
    the excess. Without it (NaN), sigma comes from the air's median (Rayleigh median = sigma sqrt(2 ln 2)).
    Texture raises the local sigma a little, so a clean scan reads slightly below 0. ``air_stats``:
    :func:`mmrqa.metrics.anatomical.describe` of ``air`` when the caller has it (used only when the air holds no
    exact zeros, which are left out).
    """
    if air_stats is not None and air_stats.n == air.size and air.size >= 100 and np.all(air != 0):
        air_median, air_mean = air_stats.median, air_stats.mean
    else:
        air = air[air != 0]
        if air.size < 100:
            return math.nan
        air_median, air_mean = float(np.median(air)), float(air.mean())
    if not head_median > 0:
        return math.nan
    sigma = noise_sigma if noise_sigma >= 0 else air_median / math.sqrt(2 * math.log(2))
    floor = sigma * math.sqrt(math.pi / 2)
    return 100.0 * (air_mean - floor) / head_median


#: Immerkaer's kernel has sum of squares 36, so its response to white Gaussian noise of sigma has std 6 sigma, and
#: the median of |response| is 6 sigma Phi^-1(3/4) = 6 x 0.6744898 sigma.
IMMERKAER_MEDIAN = 6.0 * 0.6744898


def noise_local(data: np.ndarray, head: np.ndarray) -> float:
    """Local noise level in the head, percent of the head median: ``100 sigma / median`` of :func:`local_noise`."""
    return noise_rel(*local_noise(data, head))


def local_noise(data: np.ndarray, head: np.ndarray) -> tuple[float, float]:
    """(sigma, head median) of the local noise in the head (Immerkaer, robust form), NaN sigma without a head.

    sigma = median_head |I * N| / (6 Phi^-1(3/4)) with Immerkaer's kernel N = [[1,-2,1],[-2,4,-2],[1,-2,1]], the
    difference of two Laplacians: blind to intensity planes, so smooth anatomy barely contributes, and its response to
    white noise of sigma has std 6 sigma (Immerkaer, CVIU 1996;64:300-302). The median instead of the mean keeps
    edges out. Needs no air at all (a T1 cropped to the head works), unlike :func:`noise_sigma`; in bright tissue
    Rician noise is close to Gaussian. Texture raises the clean value a little (1-3% on real scans). Computed on
    at most :data:`~mmrqa.metrics.spectral.MAX_SLICES` evenly spaced slices (thermal noise is the same in every slice).
    """
    picks = sample_slices(data.shape[2])
    responses = []
    for z in picks:
        mask = head[1:-1, 1:-1, z]
        if mask.any():
            img = data[:, :, z].astype(np.float64)
            resp = ndimage.correlate(img, IMMERKAER, mode="reflect")[1:-1, 1:-1]
            responses.append(np.abs(resp[mask]))
    values = data[:, :, picks][head[:, :, picks]]
    ref = float(np.median(values)) if values.size else 0.0
    if not responses or ref <= 0:
        return math.nan, ref
    return float(np.median(np.concatenate(responses))) / IMMERKAER_MEDIAN, ref


#: The phase-encoding array axis assumed when the header gives none (as the artifact simulator assumes).
DEFAULT_PE_AXIS = 1


def pe_axis_of(recorded, shape: tuple[int, ...]) -> int:
    """The phase-encoding array axis: ``recorded`` (``meta["phase_encoding_axis"]``) when it is 0, 1 or 2 and not a
    singleton axis of ``shape``, else :data:`DEFAULT_PE_AXIS`."""
    try:
        axis = int(recorded)
    except (TypeError, ValueError):
        return DEFAULT_PE_AXIS
    return axis if axis in (0, 1, 2) and shape[axis] > 1 else DEFAULT_PE_AXIS


#: Gaussian sigma of :func:`inu_cv` as a fraction of each axis' extent: the field of a coil or of B1 varies over
#: the whole field of view, anatomy over a few voxels.
INU_SIGMA_FRACTION = 1.0 / 8.0
#: :func:`inu_cv` smooths block means on a grid of at most this many blocks per axis (the smoothed field has no
#: detail finer than a fraction of its sigma, N/8).
INU_BLOCKS = 48


def block_sums(data: np.ndarray, mask: np.ndarray, factors: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Per block of ``factors`` voxels: (count, float64 sum) of the masked voxels, reading a regular sample.

    The array is cropped to whole blocks. Along an axis whose factor is even and at least 4 only every 2nd voxel
    of a block is read: a regular sample whose mean estimates the block's mean (up to 8x fewer voxels read). Used by
    the bias-field measures, whose Gaussian smoothing keeps no detail at the scale of a block.
    """
    shape = [n // f for n, f in zip(data.shape, factors, strict=True)]
    per_block = sampled_per_block(factors)
    crop = tuple(slice(0, n * f, f // k) for n, f, k in zip(shape, factors, per_block, strict=True))
    sampled = mask[crop]
    count = _pool_sum(sampled.astype(np.float64), per_block)
    total = _pool_sum(np.where(sampled, data[crop].astype(np.float64), 0.0), per_block)
    return count, total


def sampled_per_block(factors: list[int]) -> list[int]:
    """Voxels :func:`block_sums` reads per block along each axis: half of an even factor from 4 on, else all."""
    return [f // 2 if f % 2 == 0 and f >= 4 else f for f in factors]


def _pool_sum(a: np.ndarray, sizes: list[int]) -> np.ndarray:
    """Sums over consecutive groups of ``sizes[axis]`` elements along each axis (shape divisible), by strided adds
    (a reshape-and-reduce over short interleaved axes is several times slower)."""
    for axis, k in enumerate(sizes):
        if k > 1:
            parts = [a[(slice(None),) * axis + (slice(j, None, k),)] for j in range(k)]
            a = parts[0].copy()
            for part in parts[1:]:
                a += part
    return a


def inu_cv(data: np.ndarray, head: np.ndarray, ref: float | None = None) -> float:
    """Intensity non-uniformity: coefficient of variation of the heavily smoothed head image. Lower is better.

    A bias field b(x) (B1 transmit/receive inhomogeneity) multiplies the image by a smooth factor (Sled et al., IEEE
    TMI 1998;17:87-97). The head intensities divided by their median are smoothed with a Gaussian of sigma = N/8
    voxels per axis (axes under 9 voxels are not smoothed) by normalised convolution, G*(I m) / G*m with m the head
    mask, so the head's edge does not darken; this keeps b and averages anatomy and noise away. inu_cv =
    std / mean of the smoothed image over the head. To keep it cheap, I m and m are first summed over blocks of
    f = ceil(N / :data:`INU_BLOCKS`) voxels per axis, rounded up to an even number from 3 on so that a regular
    half of each block's voxels per axis is read from f = 4 on (:func:`block_sums`), and the filter acts on the
    block grid, cells weighted by their head voxels. ``ref``: the head median when the caller has it. A clean scan
    keeps the anatomy's slow variation (0.05-0.15 on real scans). Near the head's edge the normalised convolution
    averages the field over the inner side only, so a linear field over a disk of radius ~3 sigma reads ~80% of its
    true CV (tested).
    """
    if head.sum() < 100:
        return math.nan
    median = float(np.median(data[head])) if ref is None else ref
    if not median > 0:
        return math.nan
    factors = [max(1, -(-n // INU_BLOCKS)) for n in data.shape]
    factors = [f + 1 if f >= 3 and f % 2 else f for f in factors]
    weight, total = block_sums(data, head, factors)
    total /= median
    sigma = [INU_SIGMA_FRACTION * n / f if n > 8 else 0.0 for n, f in zip(data.shape, factors, strict=True)]
    smooth_weight = ndimage.gaussian_filter(weight, sigma, mode="constant")
    field = ndimage.gaussian_filter(total, sigma, mode="constant")
    inside = weight > 0
    values = field[inside] / np.maximum(smooth_weight[inside], 1e-12)
    w = weight[inside]
    mean = float(np.average(values, weights=w))
    std = math.sqrt(float(np.average((values - mean) ** 2, weights=w)))
    return std / mean if mean > 0 else math.nan
