"""Severity presets: the parameter ranges that ``mild``, ``moderate`` and ``severe`` sample from, per artifact kind.

The ranges are registered with each kind in :mod:`mmrqa.artifacts.registry`; this module says what they mean, how
they were calibrated, and draws from them.

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

from mmrqa.artifacts.registry import ARTIFACT_KINDS

#: kind -> severity -> parameter -> (low, high), read from the registry (each entry says what its parameters mean).
PRESETS: dict[str, dict[str, dict[str, tuple[float, float]]]] = {
    kind.name: {severity: dict(ranges) for severity, ranges in kind.presets.items()} for kind in ARTIFACT_KINDS
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
