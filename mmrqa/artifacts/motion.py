"""Rigid motion during a Cartesian acquisition, simulated in k-space.

Physics
-------
A Cartesian scan fills k-space one phase-encoding (PE) line at a time. If the subject moves at time ``t`` of the
acquisition, the lines acquired after ``t`` come from the moved object. Rotating an object rotates its k-space and
translating it multiplies its k-space by a linear phase, so the corrupted k-space is a patchwork of segments, each
taken from the Fourier transform of the object in one pose (Shaw et al., "MRI k-space motion artefact augmentation",
MIDL 2019, PMLR 102:427-436; Zaitsev et al., JMRI 2015;42:887-901). Inconsistent segments along the PE axis produce
the replicated edges and ghosts of motion, along the PE direction only.

Model: sequential (linear) PE ordering from ``-N/2`` to ``N/2-1``; motion events at times ``t_j``; the pose of the
segment that contains the k-space centre is the reference (identity), so the image is not globally shifted and the
difference to the clean scan is the artifact itself. Each other segment gets a random rigid pose ``x -> R x + t``
(``R = Rz Ry Rx`` about the array centre), applied as a sequence of 1D shears and shifts (three-pass rotation,
:mod:`mmrqa.artifacts.shear`): the leading steps by linear interpolation in the image domain, the trailing steps along
the PE axis (the last shear of the rotation and the PE translation) exactly, as a linear phase ramp on that segment's
k-space lines (Fourier shift theorem; circular, like any DFT shift). The PE axis is laid out last so that the one
real-input FFT per moved pose is contiguous; the segment masks depend on the PE frequency alone, so 1D FFTs are
exact.

Sampling (``presets.PRESETS["motion"]``): ``events`` motion events at ``|t - 0.5|`` in ``offset`` (before or after the
centre); each moved pose gets a random in-plane (2D) or 3D translation direction, a rotation sign and out-of-plane
tilt fractions (3D only). Its translation is ``d`` voxels and its in-plane rotation displaces the edge of the field
of view by ``d`` voxels too (tilts by at most half that). The same ``d`` damages a small brain in a large field of
view far more than a body filling it, so ``d`` is calibrated per scan: a target normalised RMS difference ``nrmse``
to the clean scan is drawn from the severity's band and ``d`` (bounded to ``[0.02, 40]`` voxels) is scaled by
:func:`mmrqa.artifacts.calibration.solve_strength` on the real simulator (a slab of central slices for large
volumes) until the image reaches it. The final poses (degrees, mm) and ``displacement_vox`` are recorded.

Cost of the closed loop (the bulk of a 2D slice's time): the clean scan's k-space is computed once
(:class:`PreparedScan`), the solver starts at ``INITIAL_GAIN x target`` and takes Newton/secant steps with the known
log-log slope (:data:`NRMSE_SLOPE`) instead of a factor-of-2 bracketing walk, and when the slab is the whole volume
(2D slices, small volumes) the loop's last image is the result (``sample_and_apply``; replaying the record renders
the same image bit for bit).

Compared with TorchIO's ``RandomMotion`` (Perez-Garcia et al., CMPB 2021;208:106236): TorchIO always segments k-space
along the *last* array axis (the slice axis of most volumes, not the PE axis; a single 2D slice only gets a global
shift), samples poses in mm/degrees regardless of voxel size, and performs one SimpleITK resampling and one 3D FFT per
pose; here the PE axis comes from the scan's metadata, 2D slices get in-plane motion, and only 1D FFTs are used.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import fft as sfft

from mmrqa.artifacts.calibration import evaluation_slab, solve_strength
from mmrqa.artifacts.kspace import (
    hermitian_lines,
    ifft_along,
    is_signed,
    real_fft_lines,
    resolve_pe_axis,
    signed_frequencies,
)
from mmrqa.artifacts.presets import draw, draw_int, preset
from mmrqa.artifacts.shear import Step, phase_ramp, pose_steps, shift_lines, split_trailing

#: Bounds of the calibrated displacement, in in-plane voxels.
DISPLACEMENT_BOUNDS = (0.02, 40.0)
#: Voxels of the slab the displacement is calibrated on (each evaluation resamples every moved pose).
MOTION_SLAB_VOXELS = 200_000
#: First guess of the displacement (voxels) per unit of target NRMSE: the ratio reached on the calibration scans
#: (T1, MR_small, EPI, TCIA slices) spans ~3-30, with most near 10-15.
INITIAL_GAIN = 12.0
#: Log-log slope of NRMSE against displacement assumed by the solver's first step: 0.3-0.9 on those scans (the phase
#: error ``|1 - exp(-2 pi i f d / N)|`` of the outer lines saturates). With 12 and 0.5 the loop takes 2.3
#: evaluations on average there (worst 5), against 3.4 with the factor-of-2 bracketing walk from 25 x target.
NRMSE_SLOPE = 0.5


def sample_params(severity: str, rng: np.random.Generator, volume) -> dict[str, Any]:
    """Draw motion times and pose shapes; calibrate the displacement on the scan; record the final poses."""
    return sample_and_apply(severity, rng, volume)[0]


def sample_and_apply(severity: str, rng: np.random.Generator, volume) -> tuple[dict[str, Any], np.ndarray | None]:
    """:func:`sample_params`, plus the corrupted image when the calibration already rendered it (the evaluation slab
    is the whole volume: 2D slices and small volumes), bit-identical to ``apply(volume.data, params, ...)``."""
    ranges = preset("motion", severity)
    n_events = draw_int(rng, ranges["events"])
    times = sorted(0.5 + float(rng.choice([-1.0, 1.0])) * draw(rng, ranges["offset"]) for _ in range(n_events))
    target = draw(rng, ranges["nrmse"])
    shapes = _draw_pose_shapes(rng, times, is_2d=volume.shape[2] == 1)

    def poses(displacement: float) -> list[dict[str, list[float]]]:
        return [_pose(shape, displacement, volume) for shape in shapes]

    pe_axis = resolve_pe_axis(volume)
    slab = evaluation_slab(volume.data, pe_axis, MOTION_SLAB_VOXELS)
    scan = PreparedScan(slab, pe_axis)  # the clean slab's k-space, shared by every evaluation
    renders: dict[float, np.ndarray] = {}

    def render(displacement: float) -> np.ndarray:
        renders[displacement] = scan.render({"times": times, "poses": poses(displacement)}, volume.spacing)
        return renders[displacement]

    initial = INITIAL_GAIN * target
    displacement = solve_strength(render, slab, target, DISPLACEMENT_BOUNDS, initial=initial, slope=NRMSE_SLOPE)
    params = {"times": times, "target_nrmse": target, "displacement_vox": displacement, "poses": poses(displacement)}
    return params, (renders[displacement] if slab is volume.data else None)


def _draw_pose_shapes(rng: np.random.Generator, times: list[float], is_2d: bool) -> list[tuple | None]:
    """Per k-space segment: None for the reference (it holds the centre), else (direction, rotation sign, tilts)."""
    bounds = [0.0, *times, 1.0]
    shapes: list[tuple | None] = []
    for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
        if start <= 0.5 < stop:
            shapes.append(None)  # the segment holding the k-space centre is the reference pose
            continue
        direction = rng.standard_normal(2 if is_2d else 3)
        direction /= np.linalg.norm(direction)
        sign = float(rng.choice([-1.0, 1.0]))
        tilts = np.zeros(2) if is_2d else rng.uniform(-0.5, 0.5, size=2)
        shapes.append((direction, sign, tilts))
    return shapes


def _pose(shape: tuple | None, displacement: float, volume) -> dict[str, list[float]]:
    """The pose of one segment at ``displacement`` voxels: a translation of that length along the drawn direction and
    an in-plane rotation that moves the edge of the field of view by as much (tilts by at most half)."""
    if shape is None:
        return {"rotation_deg": [0.0, 0.0, 0.0], "translation_mm": [0.0, 0.0, 0.0]}
    direction, sign, tilts = shape
    is_2d = volume.shape[2] == 1
    angle = float(np.degrees(displacement / (0.5 * max(volume.shape[:2])))) * sign
    inplane_mm = float(np.mean(volume.spacing[:2]))
    translation = [float(v) for v in direction * displacement * inplane_mm] + ([0.0] if is_2d else [])
    return {"rotation_deg": [*(float(t) * abs(angle) for t in tilts), angle], "translation_mm": translation}


def rotation_matrix(rotation_deg: list[float]) -> np.ndarray:
    """``Rz @ Ry @ Rx`` for rotations (degrees) about array axes 0, 1 and 2."""
    ax, ay, az = np.radians(rotation_deg)
    rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
    rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    return rz @ ry @ rx


def rigid_transform(data: np.ndarray, pose: dict[str, list[float]], spacing, pe_axis: int = 1) -> np.ndarray:
    """The object moved by ``pose`` (``x -> R x + t`` about the array centre, ``t`` in mm), in the image domain.

    Every shear/shift step of :func:`mmrqa.artifacts.shear.pose_steps` by linear interpolation (the simulator itself
    applies the trailing phase-encoding steps exactly in k-space instead).
    """
    moved = np.asarray(data, dtype=np.float32)
    for step in pose_steps(pose["rotation_deg"], pose["translation_mm"], spacing, data.shape, pe_axis):
        moved = shift_lines(moved, step)
    return moved


def _to_work_axes(step: Step, position: list[int]) -> Step:
    return Step(position[step.axis], {position[by]: c for by, c in step.coefficients.items()}, step.constant)


def apply(data: np.ndarray, params: dict[str, Any], spacing, pe_axis: int) -> np.ndarray:
    """Replace each k-space segment (along ``pe_axis``) by the k-space of the object in that segment's pose.

    The array is laid out with the PE axis last (contiguous 1D FFTs); per moved pose the leading shear steps are
    interpolated in the image domain, one FFT along PE is taken, and the trailing PE-axis steps (the last shear of the
    rotation and the PE translation) are applied as an exact phase ramp to that segment's lines only.
    """
    return PreparedScan(data, pe_axis).render(params, spacing)


class PreparedScan:
    """A clean scan laid out with the phase-encoding axis last, with its k-space along PE computed once.

    The closed-loop calibration renders the same scan at several displacements; the clean k-space (kept as the half
    spectrum of a real FFT), the line times and the magnitude/real decision do not depend on the displacement and are
    shared by every :meth:`render`.
    """

    def __init__(self, data: np.ndarray, pe_axis: int) -> None:
        self.shape, self.pe_axis = data.shape, pe_axis
        order = [axis for axis in range(3) if axis != pe_axis] + [pe_axis]
        self.position = [order.index(axis) for axis in range(3)]
        self.work = np.ascontiguousarray(np.moveaxis(np.asarray(data, dtype=np.float32), pe_axis, -1))
        n = data.shape[pe_axis]
        self.frequencies = signed_frequencies(n)
        self.line_time = (self.frequencies + n // 2 + 0.5) / n  # sequential ordering: acquisition time of each line
        self.half_kspace = sfft.rfft(self.work, axis=2, norm="ortho", workers=-1)  # real input: half the spectrum
        self.signed = is_signed(self.work)

    def render(self, params: dict[str, Any], spacing) -> np.ndarray:
        """The corrupted image for the motion ``params`` (times and poses), in the axes of the original data."""
        n = self.shape[self.pe_axis]
        kspace = hermitian_lines(self.half_kspace, self.frequencies)  # the clean k-space, a fresh array
        bounds = [0.0, *params["times"], 1.0]
        for j, pose in enumerate(params["poses"]):
            lines = np.nonzero((self.line_time >= bounds[j]) & (self.line_time < bounds[j + 1]))[0]
            if lines.size == 0 or (not any(pose["rotation_deg"]) and not any(pose["translation_mm"])):
                continue
            steps = pose_steps(pose["rotation_deg"], pose["translation_mm"], spacing, self.shape, self.pe_axis)
            leading, trailing = split_trailing([_to_work_axes(s, self.position) for s in steps], 2)
            moved = self.work
            for step in leading:
                moved = shift_lines(moved, step)
            segment = real_fft_lines(moved, self.frequencies[lines])
            phase_ramp(segment, trailing, self.frequencies[lines], n)
            kspace[:, :, lines] = segment
        image = ifft_along(kspace, 2)
        image = (np.real(image) if self.signed else np.abs(image)).astype(np.float32, copy=False)
        return np.moveaxis(image, -1, self.pe_axis)
