"""Ghosting: periodic modulation of k-space lines along the phase-encoding axis.

Physics
-------
If every ``P``-th phase-encoding line is acquired with a different complex gain ``g`` (an echo-planar odd/even echo
phase mismatch for ``P = 2``, the classic N/2 ghost; periodic respiratory or cardiac motion, pulsatile flow or a
periodic receiver instability for other ``P``), k-space is the clean k-space times a periodic line pattern. Its
Fourier series has components at multiples of ``N/P``, so the image becomes the object plus ``P - 1`` copies shifted by
multiples of ``FOV/P`` along the PE axis (Haacke et al., *Magnetic Resonance Imaging: Physical Principles and Sequence
Design*, 1999, ch. 15; Bernstein et al., *Handbook of MRI Pulse Sequences*, 2004, sec. 16.1 on EPI N/2 ghosts).

With ``g = 1 - c e^{i psi}`` on one line in ``P``, the complex error energy is ``c^2`` times the energy of the
modulated lines (Parseval): about ``c^2 / P`` of the image energy when the k-space centre is not among them, much more
when it is, and the magnitude reconstruction removes part of it when ``psi`` is near +-90 degrees (a phase error).
The same ``c`` therefore damages scans very differently, so ``c`` is calibrated per scan: the preset gives a target
normalised RMS difference ``nrmse`` to the clean scan and :func:`mmrqa.artifacts.calibration.solve_strength` scales
``c`` until the magnitude image reaches it (on a slab of central slices for large volumes; the modulation acts on
each slice independently).

Sampling (``presets.PRESETS["ghosting"]``): period ``P`` uniform in ``period``, the modulated line offset uniform in
``0..P-1``, phase ``psi`` uniform in ``[0, 2 pi)``, target ``nrmse`` uniform in its band; ``gain_error`` ``c`` from
the closed loop (bounded to ``[1e-4, 2]``) and recorded.

Compared with TorchIO's ``Ghosting``: TorchIO scales every ``P``-th plane of the *3D* k-space by a real factor, takes the
real part of the inverse transform (a signed image, not a magnitude one) and restores the k-space centre by default;
its intensity is not tied to the resulting artifact energy. Here the modulation is complex (phase errors are the
common cause), the reconstruction is a magnitude image, and only a 1D FFT along the PE axis is computed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mmrqa.artifacts.calibration import evaluation_slab, solve_strength
from mmrqa.artifacts.kspace import fft_along, ifft_along, resolve_pe_axis, signed_frequencies, to_image
from mmrqa.artifacts.presets import draw, draw_int, preset

#: Bounds of the calibrated gain error ``c`` (``c = 2`` with ``psi = 0`` flips the sign of the modulated lines).
GAIN_BOUNDS = (1e-4, 2.0)


def sample_params(severity: str, rng: np.random.Generator, volume) -> dict[str, Any]:
    """Draw the period, line offset, phase and target NRMSE; calibrate the gain error ``c`` on the scan."""
    ranges = preset("ghosting", severity)
    period = draw_int(rng, ranges["period"])
    target = draw(rng, ranges["nrmse"])
    params: dict[str, Any] = {
        "period": period,
        "offset": int(rng.integers(0, period)),
        "phase": float(rng.uniform(0.0, 2.0 * np.pi)),
        "target_nrmse": target,
    }
    pe_axis = resolve_pe_axis(volume)
    slab = evaluation_slab(volume.data, pe_axis)
    kspace = fft_along(slab, pe_axis)

    def render(gain_error: float) -> np.ndarray:
        return _modulate(kspace.copy(), slab, {**params, "gain_error": gain_error}, pe_axis)

    params["gain_error"] = solve_strength(render, slab, target, GAIN_BOUNDS, initial=target * np.sqrt(period))
    return params


def _modulate(kspace: np.ndarray, clean: np.ndarray, params: dict[str, Any], pe_axis: int) -> np.ndarray:
    n = clean.shape[pe_axis]
    acquisition_index = signed_frequencies(n) + n // 2
    lines = np.nonzero(acquisition_index % params["period"] == params["offset"])[0]
    index = [slice(None)] * 3
    index[pe_axis] = lines
    gain = np.complex64(1.0 - params["gain_error"] * np.exp(1j * params["phase"]))
    kspace[tuple(index)] *= gain
    return to_image(ifft_along(kspace, pe_axis), clean)


def apply(data: np.ndarray, params: dict[str, Any], spacing, pe_axis: int) -> np.ndarray:
    """Multiply every ``period``-th PE line (from ``offset``) by ``1 - gain_error * exp(i phase)``."""
    return _modulate(fft_along(data, pe_axis), data, params, pe_axis)
