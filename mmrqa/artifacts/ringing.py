"""Gibbs ringing: truncation of k-space.

Physics
-------
An acquisition samples only the central part of k-space; a sharp (box) truncation convolves the image with a sinc,
which overshoots by about 9% at every edge and leaves oscillations parallel to it with a period of about two voxels of
the acquired resolution (Gibbs phenomenon; Wood & Henkelman, MRM 1985;2:517; Kellner et al., MRM 2016;76:1574-1581).
Short matrices along the phase-encoding direction (to save time) are the common cause in practice.

Model: keep the central ``kept_fraction`` of the k-space matrix along each in-plane axis (axes 0 and 1), zero the
rest (the boundary line weighted by the fractional part of the kept width), and reconstruct the magnitude on the original grid (zero-filled interpolation, as scanners do), so the image has
the original size, lower resolution and ringing at every edge. Only 1D FFTs along the two in-plane axes are needed.

Sampling (``presets.PRESETS["ringing"]``): ``kept_fraction`` uniform in its range. TorchIO has no Gibbs transform
(MONAI's ``GibbsNoise`` truncates a 3D k-space radially and returns the magnitude).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mmrqa.artifacts.kspace import fft_along, ifft_along, line_view, signed_frequencies, to_image
from mmrqa.artifacts.presets import draw, preset


def sample_params(severity: str, rng: np.random.Generator, volume) -> dict[str, Any]:
    """Draw the fraction of the k-space matrix that is kept."""
    return {"kept_fraction": draw(rng, preset("ringing", severity)["kept_fraction"]), "axes": [0, 1]}


def apply(data: np.ndarray, params: dict[str, Any], spacing, pe_axis: int) -> np.ndarray:
    """Zero the k-space outside ``|k| <= kept_fraction * n / 2`` along each in-plane axis.

    The edge line is weighted by the fractional part of ``kept_fraction * n / 2`` (a box window of fractional
    width), so the output varies continuously with ``kept_fraction`` even on small matrices.
    """
    image: np.ndarray = data
    for axis in params["axes"]:
        n = data.shape[axis]
        if n < 2:
            continue
        keep = np.clip(params["kept_fraction"] * n / 2 - np.abs(signed_frequencies(n)) + 0.5, 0.0, 1.0)
        kspace = fft_along(image, axis)
        kspace *= keep.astype(np.complex64).reshape(line_view(data.shape, axis))
        image = ifft_along(kspace, axis)
    return to_image(image, data)
