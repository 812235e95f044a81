"""Closed-loop severity calibration: scale an artifact's strength until it reaches a target image difference.

Why
---
A physical parameter (a displacement in voxels, a ghost gain, a PSF width, an acceleration) does not mean the same
image damage on every scan: the same N/2 ghost gain barely changes a scan whose k-space lines of the modulated parity
hold little energy, the same blur hardly touches an already smooth image, and a small brain in a large field of view
(dipy's EPI) reaches 2-3x the difference of a pelvis at the same motion. A severity should mean the same damage
everywhere, so for these kinds the preset gives a *target* normalised RMS difference to the clean scan,

    NRMSE = ||x - x0|| / ||x0||        (skimage's ``normalized_root_mse``, euclidean normalisation),

and the strength parameter is scaled per scan until the corrupted image reaches it: a closed loop on the real
simulator, which is legitimate because the final parameters are recorded and replayed exactly (the loop only
chooses them). The shape of the artifact (directions, times, phases, masks) is drawn first with the seeded generator
and is not changed by the loop, only its strength.

How
---
NRMSE grows monotonically with each strength parameter used here (Parseval: the k-space error energy of a ghost gain
``c`` is ``c^2`` times the modulated energy; a wider PSF removes more high-frequency energy; larger motion moves more
k-space phase). :func:`solve_strength` brackets the target and runs the Illinois variant of regula falsi in
``(log strength, log NRMSE)``, where these curves are close to straight lines (NRMSE ~ strength^alpha), so it
converges in 2-5 evaluations to :data:`TOLERANCE`; a caller that knows ``alpha`` (motion: ~1, the k-space error of a
small displacement is linear in it) replaces the bracketing walk by Newton/secant steps. On large volumes the loop
runs on a slab of central slices (:func:`evaluation_slab`); the per-line artifacts act on every slice independently,
so the slab's NRMSE is an unbiased estimate of the volume's.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

import numpy as np

logger = logging.getLogger(__name__)

#: Relative tolerance on the reached NRMSE (|log(nrmse / target)|); the level bands are >= 2x apart, far above it.
TOLERANCE = 0.05
#: Largest number of simulator evaluations per calibration.
MAX_EVALUATIONS = 12
#: Voxels of the evaluation slab; larger volumes are calibrated on their central slices.
SLAB_VOXELS = 400_000


def sum_of_squares(values: np.ndarray) -> float:
    """``sum(values^2)`` accumulated in float64, without BLAS (``np.linalg.norm`` calls a BLAS ``dot`` whose thread
    start-up costs ~10 ms per call on a busy machine, more than the whole sum on a slab)."""
    flat = np.ravel(values).astype(np.float64, copy=False)
    return float(np.einsum("i,i->", flat, flat))


def nrmse(corrupted: np.ndarray, clean: np.ndarray) -> float:
    """``||x - x0|| / ||x0||`` in float64 (0 for an all-zero reference)."""
    reference = sum_of_squares(clean)
    if reference == 0.0:
        return 0.0
    difference = np.subtract(corrupted, clean, dtype=np.float64)
    return math.sqrt(sum_of_squares(difference) / reference)


def evaluation_slab(data: np.ndarray, pe_axis: int, max_voxels: int = SLAB_VOXELS) -> np.ndarray:
    """The central contiguous block of slices (across a non-phase-encoding axis) holding at most ``max_voxels``.

    Contiguous slices keep 3D operations (blur, through-plane motion) close to their effect on the whole volume;
    the slab axis is the slice axis 2 unless the phase encoding runs along it (then axis 0).
    """
    if data.size <= max_voxels:
        return data
    axis = 2 if pe_axis != 2 else 0
    per_slice = data.size // data.shape[axis]
    count = max(1, min(data.shape[axis], max_voxels // per_slice))
    start = (data.shape[axis] - count) // 2
    index = [slice(None)] * 3
    index[axis] = slice(start, start + count)
    return np.ascontiguousarray(data[tuple(index)])


def solve_strength(
    render: Callable[[float], np.ndarray],
    clean: np.ndarray,
    target: float,
    bounds: tuple[float, float],
    initial: float | None = None,
    slope: float | None = None,
) -> float:
    """The strength ``s`` in ``bounds`` at which ``nrmse(render(s), clean)`` reaches ``target`` (increasing curve).

    Illinois regula falsi on ``log NRMSE - log target`` against ``log s`` once the target is bracketed; returns the
    bound when the target lies beyond reach (logged; the curve saturates, e.g. motion on a scan whose energy sits in
    the reference segment), and the best point found when :data:`MAX_EVALUATIONS` is reached. Until the target is
    bracketed the search walks from ``initial`` by factors of 2, or, when the caller knows the curve's log-log
    ``slope`` (NRMSE ~ s^slope near the target), by Newton steps: the first with ``slope``, the next ones with the
    secant slope of the last two points (kept within ``[slope / 4, 4 slope]``, a step at most a factor of 8), which
    usually lands within :data:`TOLERANCE` in 2-3 evaluations.
    """
    lo, hi = float(bounds[0]), float(bounds[1])
    goal = math.log(target)
    cache: dict[float, float] = {}

    def residual(strength: float) -> float:
        if strength not in cache:
            cache[strength] = math.log(max(nrmse(render(strength), clean), 1e-12)) - goal
        return cache[strength]

    start = min(max(initial if initial is not None else math.sqrt(lo * hi), lo), hi)
    f_start = residual(start)
    if abs(f_start) <= TOLERANCE:
        return start
    a, fa = start, f_start
    previous: tuple[float, float] | None = None
    while True:
        b = min(max(_next_guess(a, fa, previous, slope), lo), hi)
        fb = residual(b)
        if abs(fb) <= TOLERANCE or (fa < 0) != (fb < 0):
            break
        if b in (lo, hi) or b == a or len(cache) >= MAX_EVALUATIONS:
            best = min(cache, key=lambda s: abs(cache[s]))  # NRMSE saturates on some scans: closest reachable
            logger.debug("target NRMSE %.4f out of reach in %s; using %.6g", target, bounds, best)
            return best
        previous, (a, fa) = (a, fa), (b, fb)
    if abs(fb) <= TOLERANCE:
        return b
    return _illinois(residual, cache, (a, fa), (b, fb))


def _next_guess(a: float, fa: float, previous: tuple[float, float] | None, slope: float | None) -> float:
    """The next strength of the bracketing walk from ``(a, fa)`` (see :func:`solve_strength`)."""
    if slope is None:
        return a * (2.0 if fa < 0 else 0.5)
    local = slope
    if previous is not None and previous[0] != a:
        local = (fa - previous[1]) / (math.log(a) - math.log(previous[0]))
        local = min(max(local, slope / 4.0), slope * 4.0)
    step = min(max(-fa / local, -math.log(8.0)), math.log(8.0))
    return a * math.exp(step)


def _illinois(residual, cache: dict[float, float], left: tuple[float, float], right: tuple[float, float]) -> float:
    """Illinois regula falsi in ``log s`` between two points whose residuals have opposite signs."""
    x0, f0, x1, f1 = math.log(left[0]), left[1], math.log(right[0]), right[1]
    side = 0
    best = min(cache, key=lambda s: abs(cache[s]))
    while len(cache) < MAX_EVALUATIONS:
        x = (x0 * f1 - x1 * f0) / (f1 - f0)
        strength = math.exp(x)
        fx = residual(strength)
        if abs(fx) < abs(cache[best]):
            best = strength
        if abs(fx) <= TOLERANCE:
            return strength
        if (fx < 0) == (f1 < 0):
            x1, f1 = x, fx
            if side == -1:
                f0 /= 2
            side = -1
        else:
            x0, f0 = x, fx
            if side == 1:
                f1 /= 2
            side = 1
    return best
