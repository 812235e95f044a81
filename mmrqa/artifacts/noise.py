"""Rician noise: thermal noise of a magnitude image.

Physics
-------
The receiver adds independent zero-mean Gaussian noise of standard deviation ``sigma`` to the real and the imaginary
channel of the complex image; the magnitude image ``|x + n_r + i n_i|`` follows a Rice distribution (Gudbjartsson &
Patz, MRM 1995;34:910-914; Henkelman, Med Phys 1985;12:232-233). It is Rayleigh in the background (mean
``sigma sqrt(pi/2)``, never zero) and close to Gaussian in bright tissue (SNR > 3). Adding Gaussian noise to the
magnitude, as TorchIO's ``Noise`` does, gives negative intensities and a zero-mean background, which no scanner
produces and which background-based quality metrics (MRIQC's QI2, MRQy's SNR/FBER) read wrongly.

Sampling (``presets.PRESETS["noise"]``): ``sigma = relative_sigma * mean foreground intensity`` (Otsu foreground), so
a severity means the same signal-to-noise ratio on every scan (``SNR = 1 / relative_sigma``). The noise field is
drawn from ``numpy.random.default_rng(noise_seed)`` with a recorded ``noise_seed``. For signed (already normalised)
inputs, where a magnitude makes no sense, Gaussian noise is added instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mmrqa.artifacts.kspace import foreground_level, is_signed
from mmrqa.artifacts.presets import draw, preset


def sample_params(severity: str, rng: np.random.Generator, volume) -> dict[str, Any]:
    """Draw the relative noise level and the seed of the noise field."""
    relative = draw(rng, preset("noise", severity)["relative_sigma"])
    return {
        "relative_sigma": relative,
        "sigma": relative * foreground_level(volume.data),
        "noise_seed": int(rng.integers(0, 2**63 - 1)),
    }


def apply(data: np.ndarray, params: dict[str, Any], spacing, pe_axis: int) -> np.ndarray:
    """``sqrt((x + sigma n_r)^2 + (sigma n_i)^2)`` with standard normal ``n_r, n_i`` from ``noise_seed``."""
    rng = np.random.default_rng(params["noise_seed"])
    sigma = np.float32(params["sigma"])
    real = rng.standard_normal(data.shape, dtype=np.float32)
    real *= sigma
    real += data
    if is_signed(data):
        return real
    imaginary = rng.standard_normal(data.shape, dtype=np.float32)
    imaginary *= sigma
    return np.hypot(real, imaginary)
