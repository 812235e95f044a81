"""Undersampling: aliasing of an accelerated Cartesian acquisition with zero-filled reconstruction.

Physics
-------
Accelerated scans skip phase-encoding lines. With the fastMRI random Cartesian mask (Zbontar et al., "fastMRI: an open
dataset and benchmarks for accelerated MRI", arXiv:1811.08839, ``RandomMaskFunc``), a fully sampled band of
``center_fraction x N`` lines is kept at the k-space centre and every other line is kept with probability
``(N / R - N_centre) / (N - N_centre)`` for an acceleration ``R``. The zero-filled reconstruction ``|ifft(mask . k)|``
(fastMRI's baseline) shows incoherent aliasing along the phase-encoding axis and blurring; a uniform mask would give
coherent fold-over copies at ``FOV / R`` instead. Lines are along ``pe_axis`` only, so a 1D FFT is exact.

Sampling (``presets.PRESETS["undersampling"]``): ``center_fraction`` (fastMRI uses 4x/0.08 and 8x/0.04) fixes the
fully sampled band; the outer lines get a random (seeded) dropping order, as in ``RandomMaskFunc`` where each line is
kept independently. Instead of a fixed acceleration, whose damage depends on how much of the scan's energy lies
outside the centre (2-3x more for a small brain in a large field of view), outer lines are dropped in that order
until the zero-filled reconstruction reaches a target normalised RMS difference ``nrmse`` to the clean scan, drawn
from the severity's band (:func:`mmrqa.artifacts.calibration.solve_strength` on the fraction of outer lines dropped).
The kept lines are recorded as signed PE frequencies, with the resulting ``acceleration = N / kept``. TorchIO has no
undersampling transform.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mmrqa.artifacts.calibration import evaluation_slab, solve_strength
from mmrqa.artifacts.kspace import fft_along, ifft_along, line_view, resolve_pe_axis, signed_frequencies, to_image
from mmrqa.artifacts.presets import draw, preset


def centre_band(n: int, center_fraction: float) -> np.ndarray:
    """Boolean mask of the fully sampled centre band over centred line positions ``0..n-1`` (fastMRI layout)."""
    num_low = max(1, int(round(n * center_fraction)))
    mask = np.zeros(n, dtype=bool)
    pad = (n - num_low + 1) // 2
    mask[pad : pad + num_low] = True
    return mask


def sample_params(severity: str, rng: np.random.Generator, volume) -> dict[str, Any]:
    """Draw the dropping order of the outer PE lines and calibrate how many are dropped; record the kept lines."""
    ranges = preset("undersampling", severity)
    center_fraction = draw(rng, ranges["center_fraction"])
    target = draw(rng, ranges["nrmse"])
    pe_axis = resolve_pe_axis(volume)
    n = volume.shape[pe_axis]
    centre = centre_band(n, center_fraction)
    order = rng.permutation(np.nonzero(~centre)[0])  # outer centred positions, in dropping order
    slab = evaluation_slab(volume.data, pe_axis)
    kspace = fft_along(slab, pe_axis)

    def kept_lines(fraction: float) -> list[int]:
        dropped = order[: int(round(fraction * order.size))]
        mask = np.ones(n, dtype=bool)
        mask[dropped] = False
        return (np.nonzero(mask)[0] - n // 2).tolist()

    def render(fraction: float) -> np.ndarray:
        return _zero_fill(kspace.copy(), slab, kept_lines(fraction), pe_axis)

    fraction = (
        solve_strength(render, slab, target, (0.5 / max(order.size, 1), 1.0), initial=0.5) if order.size else 0.0
    )
    sampled = kept_lines(fraction)
    return {
        "acceleration": n / len(sampled),
        "center_fraction": center_fraction,
        "target_nrmse": target,
        "sampled_lines": sampled,
    }


def _zero_fill(kspace: np.ndarray, clean: np.ndarray, sampled_lines: list[int], pe_axis: int) -> np.ndarray:
    n = clean.shape[pe_axis]
    keep = np.isin(signed_frequencies(n), np.asarray(sampled_lines, dtype=np.int64))
    kspace *= keep.astype(np.complex64).reshape(line_view(clean.shape, pe_axis))
    return to_image(ifft_along(kspace, pe_axis), clean)


def apply(data: np.ndarray, params: dict[str, Any], spacing, pe_axis: int) -> np.ndarray:
    """Zero every PE line whose signed frequency is not in ``sampled_lines``; magnitude reconstruction."""
    return _zero_fill(fft_along(data, pe_axis), data, params["sampled_lines"], pe_axis)
