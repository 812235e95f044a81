"""Undersampling: aliasing of an accelerated Cartesian acquisition with zero-filled reconstruction.

Physics
-------
Accelerated scans skip phase-encoding lines. With the fastMRI random Cartesian mask (Zbontar et al., "fastMRI: an open
dataset and benchmarks for accelerated MRI", arXiv:1811.08839, ``RandomMaskFunc``), a fully sampled band of
``center_fraction x N`` lines is kept at the k-space centre and every other line is kept with probability
``(N / R - N_centre) / (N - N_centre)`` for an acceleration ``R``. The zero-filled reconstruction ``|ifft(mask . k)|``
(fastMRI's baseline) shows incoherent aliasing along the phase-encoding axis and blurring; a uniform mask would give
coherent fold-over copies at ``FOV / R`` instead. Lines are along ``pe_axis`` only, so a 1D FFT is exact.

Sampling (``presets.PRESETS["undersampling"]``): ``acceleration`` and ``center_fraction`` (fastMRI uses 4x/0.08 and
8x/0.04); the sampled lines are drawn from the seeded generator and recorded as signed PE frequencies. TorchIO has
no undersampling transform.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mmrqa.artifacts.kspace import fft_along, ifft_along, line_view, resolve_pe_axis, signed_frequencies, to_image
from mmrqa.artifacts.presets import draw, preset


def fastmri_random_mask(n: int, acceleration: float, center_fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Boolean mask over centred line positions ``0..n-1`` (fastMRI ``RandomMaskFunc``)."""
    num_low = int(round(n * center_fraction))
    probability = (n / acceleration - num_low) / max(n - num_low, 1)
    mask = rng.uniform(size=n) < probability
    pad = (n - num_low + 1) // 2
    mask[pad : pad + num_low] = True
    return mask


def sample_params(severity: str, rng: np.random.Generator, volume) -> dict[str, Any]:
    """Draw a fastMRI random mask along the phase-encoding axis; record the kept signed frequencies."""
    ranges = preset("undersampling", severity)
    acceleration = draw(rng, ranges["acceleration"])
    center_fraction = draw(rng, ranges["center_fraction"])
    n = volume.shape[resolve_pe_axis(volume)]
    mask = fastmri_random_mask(n, acceleration, center_fraction, rng)
    sampled = (np.nonzero(mask)[0] - n // 2).tolist()
    return {"acceleration": acceleration, "center_fraction": center_fraction, "sampled_lines": sampled}


def apply(data: np.ndarray, params: dict[str, Any], spacing, pe_axis: int) -> np.ndarray:
    """Zero every PE line whose signed frequency is not in ``sampled_lines``; magnitude reconstruction."""
    n = data.shape[pe_axis]
    keep = np.isin(signed_frequencies(n), np.asarray(params["sampled_lines"], dtype=np.int64))
    kspace = fft_along(data, pe_axis)
    kspace *= keep.astype(np.complex64).reshape(line_view(data.shape, pe_axis))
    return to_image(ifft_along(kspace, pe_axis), data)
