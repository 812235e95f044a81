"""Severity presets: the parameter ranges that ``mild``, ``moderate`` and ``severe`` sample from, per artifact kind.

Every range is *relative* so that a severity means the same on every scan (a 2 mm brain, a 0.8 mm pelvis, a 64x64
DICOM): amplitudes are fractions of the image's own signal (foreground mean or root-mean-square), blur and motion
are in voxels, k-space fractions are fractions of the matrix. A value is drawn uniformly from ``(low, high)`` with the
seeded generator; integer ranges are inclusive.

Four kinds whose physical parameter does not transfer between scans (motion, ghosting, blur, undersampling: the same
displacement, phase error, PSF or acceleration damages a small brain in a large field of view 2-3x more than a pelvis)
are instead given a target ``nrmse`` band, the normalised RMS difference to the clean scan ``||x - x0|| / ||x0||``;
the strength parameter is scaled per scan by a closed loop on the real simulator until the target is reached
(``calibration.py``) and the final physical parameters are recorded, so replays stay exact. The bands are at least
2.5x apart, far above the loop's 5% tolerance.

Checked by ``tests/artifacts/test_calibration.py`` on nibabel's T1, pydicom's MR_small, dipy's S0_10slices and the
TCIA pelvis scans: NRMSE grows strictly from ``none`` to ``severe`` and the ranges of the levels do not overlap across
scans; and, looking at ``benchmarks/artifact_montage.png``, ``mild`` is just visible and ``severe`` clearly
non-diagnostic. The meaning of each parameter is documented in the module of its kind.
"""

from __future__ import annotations

from typing import Any

import numpy as np

PRESETS: dict[str, dict[str, dict[str, tuple[float, float]]]] = {
    # nrmse = target ||x - x0|| / ||x0|| reached by scaling the displacement (closed loop, calibration.py);
    # events = number of motion events; offset = |time - 0.5| of each event as a fraction of the acquisition
    "motion": {
        "mild": {"nrmse": (0.040, 0.050), "events": (1, 1), "offset": (0.06, 0.12)},
        "moderate": {"nrmse": (0.14, 0.18), "events": (2, 2), "offset": (0.04, 0.10)},
        "severe": {"nrmse": (0.22, 0.27), "events": (3, 3), "offset": (0.02, 0.08)},
    },
    # nrmse = target difference reached by scaling the phase error of every period-th PE line
    "ghosting": {
        "mild": {"nrmse": (0.020, 0.028), "period": (2, 4)},
        "moderate": {"nrmse": (0.07, 0.09), "period": (2, 4)},
        "severe": {"nrmse": (0.22, 0.28), "period": (2, 4)},
    },
    # energy = sqrt(spike energy / image energy); radius = spike distance from the k-space centre / Nyquist
    "spike": {
        "mild": {"energy": (0.03, 0.04), "count": (1, 1), "radius": (0.15, 0.6)},
        "moderate": {"energy": (0.10, 0.13), "count": (1, 2), "radius": (0.15, 0.6)},
        "severe": {"energy": (0.32, 0.40), "count": (2, 3), "radius": (0.15, 0.6)},
    },
    # relative_sigma = sigma of each Gaussian channel / mean foreground intensity (SNR = 1 / relative_sigma)
    "noise": {
        "mild": {"relative_sigma": (0.02, 0.025)},
        "moderate": {"relative_sigma": (0.07, 0.085)},
        "severe": {"relative_sigma": (0.25, 0.30)},
    },
    # log_std = standard deviation of the log bias field over the foreground
    "bias_field": {
        "mild": {"log_std": (0.05, 0.07), "order": (3, 3)},
        "moderate": {"log_std": (0.15, 0.19), "order": (3, 3)},
        "severe": {"log_std": (0.70, 0.80), "order": (3, 3)},
    },
    # nrmse = target difference reached by widening the Gaussian PSF (its FWHM in voxels is recorded)
    "blur": {
        "mild": {"nrmse": (0.030, 0.040)},
        "moderate": {"nrmse": (0.12, 0.15)},
        "severe": {"nrmse": (0.25, 0.30)},
    },
    # kept_fraction = fraction of the k-space matrix kept along each in-plane axis
    "ringing": {
        "mild": {"kept_fraction": (0.88, 0.92)},
        "moderate": {"kept_fraction": (0.50, 0.55)},
        "severe": {"kept_fraction": (0.12, 0.15)},
    },
    # fastMRI-style random mask: fully sampled centre fraction; outer lines are dropped in a random (seeded) order
    # until the zero-filled reconstruction reaches the target nrmse (the resulting acceleration is recorded)
    "undersampling": {
        "mild": {"nrmse": (0.040, 0.055), "center_fraction": (0.30, 0.30)},
        "moderate": {"nrmse": (0.13, 0.16), "center_fraction": (0.10, 0.10)},
        "severe": {"nrmse": (0.25, 0.30), "center_fraction": (0.03, 0.03)},
    },
}


def preset(kind: str, severity: str) -> dict[str, tuple[float, float]]:
    """The parameter ranges of ``kind`` at ``severity`` (not ``none``)."""
    return PRESETS[kind][severity]


def draw(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    """A uniform draw in ``[low, high]`` as a Python float (exactly ``low`` when the range is a point)."""
    low, high = bounds
    return float(low) if low == high else float(rng.uniform(low, high))


def draw_int(rng: np.random.Generator, bounds: tuple[Any, Any]) -> int:
    """A uniform integer in ``[low, high]`` (inclusive)."""
    low, high = int(bounds[0]), int(bounds[1])
    return low if low == high else int(rng.integers(low, high + 1))
