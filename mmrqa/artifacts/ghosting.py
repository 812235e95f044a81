"""Ghosting: periodic modulation of k-space lines along the phase-encoding axis.

Physics
-------
If every ``P``-th phase-encoding line is acquired with a different complex gain ``g`` (an echo-planar odd/even echo
phase mismatch for ``P = 2``, the classic N/2 ghost; periodic respiratory or cardiac motion, pulsatile flow or a
periodic receiver instability for other ``P``), k-space is the clean k-space times a periodic line pattern. Its
Fourier series has components at multiples of ``N/P``, so the image becomes the object plus ``P - 1`` copies shifted by
multiples of ``FOV/P`` along the PE axis (Haacke et al., *Magnetic Resonance Imaging: Physical Principles and Sequence
Design*, 1999, ch. 15; Bernstein et al., *Handbook of MRI Pulse Sequences*, 2004, sec. 16.1 on EPI N/2 ghosts).

With ``g = 1 - c e^{i psi}`` on one line in ``P``, the error energy is ``c^2 / P`` of the image energy (Parseval), so
the normalised RMS difference to the clean scan is ``c / sqrt(P)`` whatever the anatomy: the preset samples this
``ghost_strength`` and sets ``c = ghost_strength * sqrt(P)``.

Sampling (``presets.PRESETS["ghosting"]``): period ``P`` uniform in ``period``, the modulated line offset uniform in
``0..P-1``, ``ghost_strength`` uniform in its range, phase ``psi`` uniform in ``[0, 2 pi)``.

Compared with TorchIO's ``Ghosting``: TorchIO scales every ``P``-th plane of the *3D* k-space by a real factor, takes the
real part of the inverse transform (a signed image, not a magnitude one) and restores the k-space centre by default;
its intensity is not tied to the resulting artifact energy. Here the modulation is complex (phase errors are the
common cause), the reconstruction is a magnitude image, and only a 1D FFT along the PE axis is computed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mmrqa.artifacts.kspace import fft_along, ifft_along, signed_frequencies, to_image
from mmrqa.artifacts.presets import draw, draw_int, preset


def sample_params(severity: str, rng: np.random.Generator, volume) -> dict[str, Any]:
    """Draw the period, the modulated line offset, the gain error magnitude ``c`` and its phase."""
    ranges = preset("ghosting", severity)
    period = draw_int(rng, ranges["period"])
    strength = draw(rng, ranges["ghost_strength"])
    return {
        "period": period,
        "offset": int(rng.integers(0, period)),
        "gain_error": strength * float(np.sqrt(period)),
        "phase": float(rng.uniform(0.0, 2.0 * np.pi)),
        "ghost_strength": strength,
    }


def apply(data: np.ndarray, params: dict[str, Any], spacing, pe_axis: int) -> np.ndarray:
    """Multiply every ``period``-th PE line (from ``offset``) by ``1 - gain_error * exp(i phase)``."""
    n = data.shape[pe_axis]
    acquisition_index = signed_frequencies(n) + n // 2
    lines = np.nonzero(acquisition_index % params["period"] == params["offset"])[0]
    kspace = fft_along(data, pe_axis)
    index = [slice(None)] * 3
    index[pe_axis] = lines
    gain = np.complex64(1.0 - params["gain_error"] * np.exp(1j * params["phase"]))
    kspace[tuple(index)] *= gain
    return to_image(ifft_along(kspace, pe_axis), data)
