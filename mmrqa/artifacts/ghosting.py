"""Ghosting: a periodic phase error of the k-space lines along the phase-encoding axis.

Physics
-------
If every ``P``-th phase-encoding line is acquired with a phase error ``phi`` relative to the others, k-space is the
clean k-space times a periodic line pattern ``g(k) = e^{i phi}`` on one line in ``P`` and ``1`` elsewhere. Its
Fourier series has components at multiples of ``N/P``, so the image becomes the object plus ``P - 1`` copies shifted
by multiples of ``FOV/P`` along the PE axis (Haacke et al., *Magnetic Resonance Imaging: Physical Principles and
Sequence Design*, 1999, ch. 15). This is the classic EPI Nyquist (N/2) ghost for ``P = 2``, where the odd and even
echoes of the readout train acquire different phases (eddy currents, gradient delays; Bernstein et al., *Handbook of
MRI Pulse Sequences*, 2004, sec. 16.1): the object keeps ``|cos(phi / 2)|`` of its amplitude and the N/2 ghost gets
``|sin(phi / 2)|``. For ``P = 3..4`` it is the shot-to-shot phase error of a segmented (interleaved) acquisition,
or the phase that a periodic motion (respiration, pulsatile flow) imprints on every ``P``-th line. The error is a
pure phase (``|g| = 1``): the k-space magnitude is untouched, as with these causes, and the ghost energy rises
monotonically with ``|phi|`` up to ``pi`` (``|g - 1| = 2 |sin(phi / 2)|``).

The same ``phi`` damages scans very differently (about ``|g - 1|^2 / P`` of the image energy moves into the ghosts
when the k-space centre is not among the modulated lines, much more when it is), so ``|phi|`` is calibrated per scan:
the preset gives a target normalised RMS difference ``nrmse`` to the clean scan and
:func:`mmrqa.artifacts.calibration.solve_strength` scales ``|phi|`` until the magnitude image reaches it (on a slab
of central slices for large volumes; the modulation acts on each slice independently).

Sampling (``presets.PRESETS["ghosting"]``): period ``P`` uniform in ``period``, the modulated line offset uniform in
``0..P-1``, the sign of ``phi`` (+ or -, equally likely), target ``nrmse`` uniform in its band; ``phase_error`` ``phi``
from the closed loop (``|phi|`` bounded to ``[1e-4, pi]``) and recorded. Records made before the phase-error model
(a complex gain error ``g = 1 - c e^{i psi}``, keys ``gain_error`` and ``phase``) still replay exactly.

Compared with TorchIO's ``Ghosting``: TorchIO scales every ``P``-th plane of the *3D* k-space by a real factor, takes the
real part of the inverse transform (a signed image, not a magnitude one) and restores the k-space centre by default;
its intensity is not tied to the resulting artifact energy. Here the error is a phase (the common cause), the
reconstruction is a magnitude image, and only a 1D FFT along the PE axis is computed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mmrqa.artifacts.calibration import evaluation_slab, solve_strength
from mmrqa.artifacts.kspace import fft_along, ifft_along, resolve_pe_axis, signed_frequencies, to_image
from mmrqa.artifacts.presets import draw, draw_int, preset

#: Bounds of the calibrated phase error ``|phi|`` in radians (``pi`` flips the sign of the modulated lines).
PHASE_BOUNDS = (1e-4, float(np.pi))


def sample_params(severity: str, rng: np.random.Generator, volume) -> dict[str, Any]:
    """Draw the period, line offset, sign and target NRMSE; calibrate the phase error ``phi`` on the scan."""
    ranges = preset("ghosting", severity)
    period = draw_int(rng, ranges["period"])
    target = draw(rng, ranges["nrmse"])
    params: dict[str, Any] = {"period": period, "offset": int(rng.integers(0, period)), "target_nrmse": target}
    sign = 1.0 if rng.random() < 0.5 else -1.0
    pe_axis = resolve_pe_axis(volume)
    slab = evaluation_slab(volume.data, pe_axis)
    kspace = fft_along(slab, pe_axis)

    def render(magnitude: float) -> np.ndarray:
        return _modulate(kspace.copy(), slab, {**params, "phase_error": sign * magnitude}, pe_axis)

    magnitude = solve_strength(render, slab, target, PHASE_BOUNDS, initial=target * np.sqrt(period))
    params["phase_error"] = sign * magnitude
    return params


def line_gain(params: dict[str, Any]) -> np.complex64:
    """The factor of the modulated lines: ``e^{i phase_error}``, or ``1 - gain_error e^{i phase}`` (older records)."""
    if "phase_error" in params:
        return np.complex64(np.exp(1j * params["phase_error"]))
    return np.complex64(1.0 - params["gain_error"] * np.exp(1j * params["phase"]))


def _modulate(kspace: np.ndarray, clean: np.ndarray, params: dict[str, Any], pe_axis: int) -> np.ndarray:
    n = clean.shape[pe_axis]
    acquisition_index = signed_frequencies(n) + n // 2
    lines = np.nonzero(acquisition_index % params["period"] == params["offset"])[0]
    index = [slice(None)] * 3
    index[pe_axis] = lines
    kspace[tuple(index)] *= line_gain(params)
    return to_image(ifft_along(kspace, pe_axis), clean)


def apply(data: np.ndarray, params: dict[str, Any], spacing, pe_axis: int) -> np.ndarray:
    """Multiply every ``period``-th PE line (from ``offset``) by :func:`line_gain` and take the magnitude image."""
    return _modulate(fft_along(data, pe_axis), data, params, pe_axis)
