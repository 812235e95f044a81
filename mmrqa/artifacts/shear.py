"""Rigid motion as a sequence of one-dimensional shears (Paeth / Unser three-pass rotation).

Why
---
A rotation by ``theta`` in the plane of axes ``(a, b)`` is the product of three shears,

    R(theta) = S_b(tan(theta/2)) S_a(-sin(theta)) S_b(tan(theta/2)),

where ``S_b(beta)`` moves every line along axis ``b`` by ``beta`` times its coordinate along ``a`` (and ``S_a`` the
converse; Paeth, "A fast algorithm for general raster rotation", Graphics Interface 1986; Unser, Thevenaz &
Yaroslavsky, IEEE TIP 1995;4:1371-1381). A 3D rotation ``Rz Ry Rx`` is three such products and a translation is a
constant shift, so a rigid pose is a list of :class:`Step` s, each a 1D shift of lines along one axis by an amount that
depends linearly on the other coordinates. Each step touches every voxel once with a two-tap (linear) interpolation,
which is ~10x cheaper than a trilinear ``scipy.ndimage.affine_transform`` of the same volume.

Steps are in voxel units of the array (physical spacing is folded into the coefficients, so rotations are rotations
in mm), about the array centre ``(n - 1) / 2``. The motion simulator applies the trailing steps along the
phase-encoding axis exactly, as a linear phase ramp in k-space (:func:`phase_ramp`), and only the others by
interpolation (:func:`shift_lines`), whose borders repeat the edge value (``mode="nearest"``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

#: Array axes spanning the plane of the rotation about array axis 0, 1 and 2 (``rotation_matrix = Rz @ Ry @ Rx``).
ROTATION_PLANES = ((1, 2), (2, 0), (0, 1))


@dataclass
class Step:
    """``x_axis += sum_o coefficients[o] * (x_o - c_o) + constant`` (voxels; moves the content, not the grid)."""

    axis: int
    coefficients: dict[int, float] = field(default_factory=dict)
    constant: float = 0.0


def rotation_steps(angle: float, plane: tuple[int, int], spacing, outer: int) -> list[Step]:
    """Three shears rotating the content by ``angle`` radians in ``plane``; ``outer`` is the axis sheared twice.

    ``u_a' = cos u_a - sin u_b``, ``u_b' = sin u_a + cos u_b`` in mm about the array centre; with ``outer = b`` this is
    ``S_b(tan(angle/2)) S_a(-sin(angle)) S_b(tan(angle/2))``, with ``outer = a`` it is
    ``S_a(-tan(angle/2)) S_b(sin(angle)) S_a(-tan(angle/2))``. A shear of ``c`` mm per mm is ``c * spacing[by] /
    spacing[axis]`` voxels per voxel.
    """
    a, b = plane
    sign = 1.0 if outer == b else -1.0
    inner = a if outer == b else b
    outer_coef = sign * math.tan(angle / 2.0)
    inner_coef = -sign * math.sin(angle)

    def shear(axis: int, by: int, coef: float) -> Step:
        return Step(axis, {by: coef * spacing[by] / spacing[axis]})

    return [shear(outer, inner, outer_coef), shear(inner, outer, inner_coef), shear(outer, inner, outer_coef)]


def pose_steps(rotation_deg, translation_mm, spacing, shape, pe_axis: int) -> list[Step]:
    """The shear/shift steps of the rigid pose ``x -> R x + t`` (``R = Rz Ry Rx``, degrees; ``t`` in mm).

    Each rotation whose plane contains the phase-encoding axis shears twice along it, so the last rotation ends with a
    PE-axis shear and the PE translation is appended after it: the caller applies these trailing steps as an exact
    k-space phase ramp. Consecutive steps along one axis are merged; singleton axes are never sheared.
    """
    steps: list[Step] = []
    for axis, angle in enumerate(rotation_deg):
        plane = ROTATION_PLANES[axis]
        if angle == 0.0 or any(shape[p] < 2 for p in plane):
            continue
        outer = pe_axis if pe_axis in plane else plane[0]
        steps.extend(rotation_steps(math.radians(angle), plane, spacing, outer))
    steps = _merge(steps)
    for axis, shift_mm in enumerate(translation_mm):
        if shift_mm != 0.0 and shape[axis] > 1:
            _append_translation(steps, axis, shift_mm / spacing[axis], pe_axis)
    return _merge(steps)


def _append_translation(steps: list[Step], axis: int, shift: float, pe_axis: int) -> None:
    """Add ``x_axis += shift`` after ``steps``, moved back to the last step along ``axis`` (exact commutation).

    A pure shift ``T_o`` after a shear ``S_q`` that depends on ``x_o`` with coefficient ``g`` equals ``S_q`` with its
    constant lowered by ``g * shift`` applied after ``T_o``; so ``T_o`` travels back until it meets a step along
    ``o`` and is merged into its constant (or becomes the first step). Shifts along the PE axis stay last.
    """
    if axis == pe_axis:
        steps.append(Step(axis, {}, shift))
        return
    for step in reversed(steps):
        if step.axis == axis:
            step.constant += shift
            return
        step.constant -= step.coefficients.get(axis, 0.0) * shift
    steps.insert(0, Step(axis, {}, shift))


def _merge(steps: list[Step]) -> list[Step]:
    """Merge consecutive steps along the same axis (they depend on other coordinates, which they leave unchanged)."""
    merged: list[Step] = []
    for step in steps:
        if merged and merged[-1].axis == step.axis and _mergeable(merged[-1], step):
            last = merged[-1]
            for by, coef in step.coefficients.items():
                last.coefficients[by] = last.coefficients.get(by, 0.0) + coef
            last.constant += step.constant
        else:
            merged.append(Step(step.axis, dict(step.coefficients), step.constant))
    return merged


def _mergeable(first: Step, second: Step) -> bool:
    # image-domain shears depend on at most one other axis (a loop over it); PE steps are merged later anyway
    return len(set(first.coefficients) | set(second.coefficients)) <= 1


def split_trailing(steps: list[Step], axis: int) -> tuple[list[Step], Step]:
    """Split ``steps`` into the leading ones and the merged trailing steps along ``axis`` (possibly empty)."""
    trailing = Step(axis, {}, 0.0)
    index = len(steps)
    while index > 0 and steps[index - 1].axis == axis:
        index -= 1
    for step in steps[index:]:
        for by, coef in step.coefficients.items():
            trailing.coefficients[by] = trailing.coefficients.get(by, 0.0) + coef
        trailing.constant += step.constant
    return steps[:index], trailing


def shift_lines(data: np.ndarray, step: Step) -> np.ndarray:
    """Apply one image-domain ``step``: ``out[x] = in[x - delta e_axis]``, linear interpolation, edge values repeated.

    ``delta`` depends on at most one other axis ``o`` and is linear in it, so its integer part is constant over runs
    of consecutive ``x_o``: each run is one sliced copy, and the fractional part is a broadcast blend
    ``(1 - w) lower + w upper`` of the copies shifted by ``floor(delta)`` and ``floor(delta) + 1``.
    """
    if len(step.coefficients) > 1:
        raise ValueError("an image-domain shear may depend on one other axis only")
    (by, coef), *_ = list(step.coefficients.items()) or [(None, 0.0)]
    lower, upper = np.empty_like(data), np.empty_like(data)
    if by is None:
        source, views = np.moveaxis(data, step.axis, 0)[:, np.newaxis], [np.moveaxis(lower, step.axis, 0)[:, None]]
        views.append(np.moveaxis(upper, step.axis, 0)[:, np.newaxis])
        delta = np.array([step.constant])
    else:
        source = np.moveaxis(data, (step.axis, by), (0, 1))
        views = [np.moveaxis(lower, (step.axis, by), (0, 1)), np.moveaxis(upper, (step.axis, by), (0, 1))]
        delta = coef * (np.arange(data.shape[by]) - (data.shape[by] - 1) / 2.0) + step.constant
    whole = np.floor(delta).astype(np.int64)
    weight = (delta - whole).astype(np.float32)
    starts = np.flatnonzero(np.diff(whole, prepend=whole[0] - 1))
    for first, stop in zip(starts, [*starts[1:], whole.size], strict=True):
        _shift_integer(views[0][:, first:stop], source[:, first:stop], int(whole[first]))
        if weight[first:stop].max() > 1e-7:
            _shift_integer(views[1][:, first:stop], source[:, first:stop], int(whole[first]) + 1)
        else:
            views[1][:, first:stop] = views[0][:, first:stop]
    blend = weight.reshape((1, -1) + (1,) * (source.ndim - 2))
    views[1] -= views[0]
    views[1] *= blend
    lower += upper
    return lower


def _shift_integer(target: np.ndarray, source: np.ndarray, shift: int) -> None:
    """``target[i] = source[clip(i - shift, 0, n - 1)]`` along axis 0, by slicing."""
    n = source.shape[0]
    shift = min(max(shift, -n), n)
    if shift >= 0:
        target[shift:] = source[: n - shift]
        target[:shift] = source[:1]
    else:
        target[: n + shift] = source[-shift:]
        target[n + shift :] = source[n - 1 :]


def phase_ramp(kspace: np.ndarray, step: Step, frequencies: np.ndarray, length: int) -> None:
    """Shift the content along the last (k-space) axis in place: ``K *= exp(-2 pi i f delta / N)``, exact.

    ``kspace`` holds the lines of signed frequencies ``frequencies`` (last axis) of an array whose other axes are in
    image space; ``delta = sum_o coefficients[o] (x_o - c_o) + constant`` is separable, so the ramp is a product of
    small broadcast factors (a shift by the Fourier shift theorem, circular like every DFT shift).
    """
    scale = -2.0 * np.pi * frequencies.astype(np.float64) / length
    kspace *= np.exp(1j * scale * step.constant).astype(np.complex64)
    for by, coef in step.coefficients.items():
        n = kspace.shape[by]
        view = [1] * kspace.ndim
        view[by] = n
        view[-1] = frequencies.size
        kspace *= _phasor_table(coef * scale, n).reshape(view)


def _phasor_table(rate: np.ndarray, n: int) -> np.ndarray:
    """``exp(i rate_f (j - (n - 1) / 2))`` for ``j < n`` (rows) and every ``f`` (columns), as complex64.

    A geometric sequence along ``j``: two complex exponentials per column and a cumulative product in complex128
    (relative error ~ n * 1e-16) instead of ``n`` exponentials per column.
    """
    table = np.empty((n, rate.size), dtype=np.complex128)
    table[0] = np.exp(-0.5j * (n - 1) * rate)
    table[1:] = np.exp(1j * rate)
    np.multiply.accumulate(table, axis=0, out=table)
    return table.astype(np.complex64)
