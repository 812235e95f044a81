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
difference to the clean scan is the artifact itself. Each other segment gets a random rigid pose, resampled with
trilinear interpolation (bilinear in-plane for a 2D slice); only a 1D FFT along the PE axis is needed because the
segment masks depend on the PE frequency alone.

Sampling (``presets.PRESETS["motion"]``): ``events`` motion events at ``|t - 0.5|`` in ``offset`` (before or after the
centre); each moved pose has a translation of ``displacement_vox`` in-plane voxels in a random direction and a
rotation whose displacement at the edge of the in-plane field of view is also ``displacement_vox`` voxels (tilts out of
plane at half that, 3D only). Displacements are in voxels so that a severity looks the same at 0.8 mm and at 2 mm.

Compared with TorchIO's ``RandomMotion`` (Perez-Garcia et al., CMPB 2021;208:106236): TorchIO always segments k-space
along the *last* array axis (the slice axis of most volumes, not the PE axis; a single 2D slice only gets a global
shift), samples poses in mm/degrees regardless of voxel size, and performs one SimpleITK resampling and one 3D FFT per
pose; here the PE axis comes from the scan's metadata, 2D slices get in-plane motion, and only 1D FFTs are used.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import ndimage

from mmrqa.artifacts.kspace import fft_along, ifft_along, signed_frequencies, to_image
from mmrqa.artifacts.presets import draw, draw_int, preset


def sample_params(severity: str, rng: np.random.Generator, volume) -> dict[str, Any]:
    """Draw motion event times and one rigid pose per k-space segment (identity for the centre segment)."""
    ranges = preset("motion", severity)
    n_events = draw_int(rng, ranges["events"])
    times = sorted(0.5 + float(rng.choice([-1.0, 1.0])) * draw(rng, ranges["offset"]) for _ in range(n_events))
    bounds = [0.0, *times, 1.0]
    is_2d = volume.shape[2] == 1
    inplane_mm = float(np.mean(volume.spacing[:2]))
    half_fov_vox = 0.5 * max(volume.shape[:2])
    poses = []
    for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
        if start <= 0.5 < stop:
            poses.append({"rotation_deg": [0.0, 0.0, 0.0], "translation_mm": [0.0, 0.0, 0.0]})
            continue
        displacement = draw(rng, ranges["displacement_vox"])
        direction = rng.standard_normal(2 if is_2d else 3)
        direction /= np.linalg.norm(direction)
        translation = [float(v) for v in direction * displacement * inplane_mm] + ([0.0] if is_2d else [])
        angle = float(np.degrees(displacement / half_fov_vox)) * float(rng.choice([-1.0, 1.0]))
        tilts = [0.0, 0.0] if is_2d else [float(v) for v in rng.uniform(-0.5, 0.5, size=2) * abs(angle)]
        poses.append({"rotation_deg": [*tilts, angle], "translation_mm": translation})
    return {"times": times, "poses": poses}


def rotation_matrix(rotation_deg: list[float]) -> np.ndarray:
    """``Rz @ Ry @ Rx`` for rotations (degrees) about array axes 0, 1 and 2."""
    ax, ay, az = np.radians(rotation_deg)
    rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
    rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    return rz @ ry @ rx


def rigid_transform(data: np.ndarray, pose: dict[str, list[float]], spacing) -> np.ndarray:
    """The object moved by ``pose`` (rotation about the array centre, translation in mm), linear interpolation.

    Output voxel ``v`` samples the input at ``S^-1 R^-1 (S (v - c) - t) + c`` with ``S = diag(spacing)``.
    """
    scale = np.asarray(spacing, dtype=np.float64)
    inverse = rotation_matrix(pose["rotation_deg"]).T
    matrix = (inverse * scale[np.newaxis, :]) / scale[:, np.newaxis]
    centre = (np.asarray(data.shape, dtype=np.float64) - 1) / 2
    offset = centre - matrix @ centre - (inverse @ np.asarray(pose["translation_mm"])) / scale
    if data.shape[2] == 1:  # in-plane motion of a 2D slice: a 2D resampling is exact and faster
        moved = ndimage.affine_transform(
            data[:, :, 0], matrix[:2, :2], offset[:2], order=1, mode="nearest", output=np.float32
        )
        return moved[:, :, np.newaxis]
    return ndimage.affine_transform(data, matrix, offset, order=1, mode="nearest", output=np.float32)


def apply(data: np.ndarray, params: dict[str, Any], spacing, pe_axis: int) -> np.ndarray:
    """Replace each k-space segment (along ``pe_axis``) by the k-space of the object in that segment's pose."""
    n = data.shape[pe_axis]
    line_time = (signed_frequencies(n) + n // 2 + 0.5) / n  # sequential ordering: acquisition time of each line
    bounds = [0.0, *params["times"], 1.0]
    kspace = fft_along(data, pe_axis)
    for j, pose in enumerate(params["poses"]):
        if not any(pose["rotation_deg"]) and not any(pose["translation_mm"]):
            continue
        lines = np.nonzero((line_time >= bounds[j]) & (line_time < bounds[j + 1]))[0]
        if lines.size == 0:
            continue
        moved = fft_along(rigid_transform(data, pose, spacing), pe_axis)
        index = [slice(None)] * 3
        index[pe_axis] = lines
        kspace[tuple(index)] = moved[tuple(index)]
    return to_image(ifft_along(kspace, pe_axis), data)
