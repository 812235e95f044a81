"""Artifact indicators: one measure per artifact family, each computed from the prepared head/air regions.

Every function is pure (arrays in, float out). Intensities are divided by the head's median where a measure must
not depend on the scanner's arbitrary scale. See :data:`mmrqa.metrics.catalogue.ARTIFACT_INDICATORS`.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

IMMERKAER = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float64)


def noise_sigma(air: np.ndarray) -> float:
    """Rician noise sigma from air magnitudes: sqrt(mean(air^2) / 2).

    With no signal the magnitude of complex Gaussian noise (sigma per channel) is Rayleigh and E[M^2] = 2 sigma^2,
    so this estimator is unbiased in pure air (Gudbjartsson & Patz, MRM 1995;34:910-914). Exactly-zero voxels
    (masked or zero-filled backgrounds) carry no noise and are left out; NaN when fewer than 100 remain.
    """
    air = air[air != 0].astype(np.float64)
    if air.size < 100:
        return math.nan
    return math.sqrt(float(np.mean(air**2)) / 2.0)


def immerkaer_sigma(data: np.ndarray) -> float:
    """Gaussian noise sigma by Immerkaer's method: sqrt(pi/2) / (6 (W-2)(H-2)) * sum |I * N| per slice.

    N is the difference of two Laplacians, blind to planar intensity (Immerkaer, CVIU 1996;64:300-302); the
    mean over slices is returned. Used when the background is zero-filled.
    """
    sigmas = []
    for z in range(data.shape[2]):
        img = data[:, :, z].astype(np.float64)
        if min(img.shape) < 3 or not img.any():
            continue
        resp = ndimage.convolve(img, IMMERKAER, mode="reflect")[1:-1, 1:-1]
        sigmas.append(math.sqrt(math.pi / 2) * np.abs(resp).sum() / (6 * resp.size))
    return float(np.mean(sigmas)) if sigmas else math.nan


def noise_rel(sigma: float, head_median: float) -> float:
    """Noise level in percent of the head's median intensity. Lower is better."""
    return 100.0 * sigma / head_median if head_median > 0 else math.nan


def gsr(data: np.ndarray, head: np.ndarray, air: np.ndarray, axis: int) -> float:
    """Ghost-to-signal ratio along in-plane ``axis`` (the phase-encoding axis), in percent. Lower is better.

    Ghosts are copies of the object shifted along the phase-encoding direction, so they fall in the air that
    lies in line with the object along that axis (the object's extent on the other in-plane axis). GSR =
    100 (mean(air in line) - mean(air off line)) / median(head), per MRIQC's ``gsr_x``/``gsr_y`` idea.
    """
    extent = head.any(axis=axis, keepdims=True)  # object footprint projected along the PE axis
    in_line = np.broadcast_to(extent, head.shape) & air
    off_line = air & ~np.broadcast_to(extent, head.shape)
    if in_line.sum() < 50 or off_line.sum() < 50:
        return math.nan
    ref = float(np.median(data[head]))
    return 100.0 * (float(data[in_line].mean()) - float(data[off_line].mean())) / ref if ref > 0 else math.nan


def spike_z(data: np.ndarray, center_fraction: float = 0.1) -> float:
    """Largest robust z-score of log k-space magnitude outside the centre, over slices. Lower is better.

    A spike (a corrupted k-space sample, e.g. from an electrostatic discharge) is one point far above its
    neighbourhood in |K|; natural images fall off smoothly. Per slice, z = (log|K| - median) / (1.4826 MAD)
    over the points outside the central ``center_fraction`` of k-space; the maximum over slices is returned.
    """
    best = -math.inf
    for z in range(data.shape[2]):
        img = data[:, :, z]
        if not img.any():
            continue
        k = np.abs(np.fft.fftshift(np.fft.fft2(img)))
        h, w = k.shape
        yy, xx = np.ogrid[:h, :w]
        outer = (np.abs(yy - h // 2) > center_fraction * h / 2) | (np.abs(xx - w // 2) > center_fraction * w / 2)
        logk = np.log(k[outer] + 1e-12)
        med = np.median(logk)
        spread = 1.4826 * np.median(np.abs(logk - med))
        if spread > 0:
            best = max(best, float((logk.max() - med) / spread))
    return best if best > -math.inf else math.nan


def sharpness(data: np.ndarray, head: np.ndarray) -> float:
    """Mean gradient magnitude inside the head over the head's median (in-plane Sobel). Higher is sharper.

    Blur and low-pass filtering remove the high spatial frequencies that carry edges, lowering it (Tenengrad
    focus measure, Krotkov 1987). Replaces MRQy's CPP, whose zero-sum kernel averages to ~0.
    """
    ref = float(np.median(data[head])) if head.any() else 0.0
    if ref <= 0:
        return math.nan
    gx = ndimage.sobel(data, axis=0, mode="nearest")
    gy = ndimage.sobel(data, axis=1, mode="nearest")
    grad = np.hypot(gx, gy) / 8.0  # Sobel gain is 8 for a unit ramp
    return float(grad[head].mean()) / ref


def ringing(data: np.ndarray, head: np.ndarray) -> float:
    """Gibbs ringing: in-plane Laplacian energy in a band 2-5 voxels inside strong edges over that of the core.

    Truncating k-space (a sinc kernel) leaves oscillations parallel to strong edges that decay over a few
    voxels. Their second derivative is concentrated next to the edges; the ratio to the same energy deep
    inside the object (> 8 voxels from an edge) cancels the noise level. Lower is better.
    """
    lap = np.zeros_like(data, dtype=np.float64)
    for z in range(data.shape[2]):
        lap[:, :, z] = ndimage.laplace(data[:, :, z].astype(np.float64), mode="nearest")
    dist = np.zeros(head.shape, dtype=np.int32)
    for z in range(head.shape[2]):
        if head[:, :, z].any():
            dist[:, :, z] = ndimage.distance_transform_cdt(head[:, :, z], metric="chessboard")
    band = (dist >= 2) & (dist <= 5)
    core = dist > 8
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


def motion_index(air: np.ndarray, head_median: float) -> float:
    """Excess air signal over the Rician noise floor, in percent of the head median. Lower is better.

    Pure noise in air has mean sigma sqrt(pi/2) (Rayleigh); motion during acquisition smears the object along
    the phase-encoding direction into the air, raising its mean above that floor. sigma is taken from the air's
    median (robust to the smeared tail), and the excess of the air's mean over sigma sqrt(pi/2) is reported.
    """
    air = air[air != 0]
    if air.size < 100 or not head_median > 0:
        return math.nan
    robust_sigma = float(np.median(air)) / math.sqrt(2 * math.log(2))  # Rayleigh median = sigma sqrt(2 ln 2)
    floor = robust_sigma * math.sqrt(math.pi / 2)
    return 100.0 * (float(air.mean()) - floor) / head_median
