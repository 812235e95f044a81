"""Bias field: smooth multiplicative intensity non-uniformity.

Physics
-------
Receive-coil sensitivity profiles and transmit (B1+) inhomogeneity multiply the image by a slowly varying field
``b(r) > 0`` (Sled et al., IEEE TMI 1998;17:87-97 (N3); Tustison et al., IEEE TMI 2010;29:1310-1320 (N4)). Following
Van Leemput et al. (IEEE TMI 1999;18:885-896) and TorchIO's ``BiasField``, ``log b`` is a polynomial of order 3 in a
Legendre basis over the field of view: ``log b(u) = sum_{i+j+k <= 3} c_ijk P_i(u_0) P_j(u_1) P_k(u_2)`` with ``u`` in
``[-1, 1]`` along each axis (in-plane terms only for a 2D slice).

Sampling (``presets.PRESETS["bias_field"]``): coefficients are drawn uniformly in ``[-1, 1]``, then rescaled so that the
standard deviation of ``log b`` over the foreground is ``log_std`` and shifted so that its foreground mean is 0 (the
mean brightness is kept). The normalised RMS difference to the clean scan is then about ``log_std`` on every scan,
whereas TorchIO's raw coefficients give a field whose strength depends on where the anatomy sits in the field of view.
A field and its inverse are equally likely; of the two, the one that adds to the scan's own slow intensity variation
is applied (the sign of its covariance with the log image over the foreground): the other may first cancel existing
coil shading, making a mildly "corrupted" scan more uniform than the clean one.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.polynomial import legendre

from mmrqa.artifacts.kspace import foreground_mask
from mmrqa.artifacts.presets import draw, draw_int, preset


def _basis(n: int, order: int, stride: int = 1) -> np.ndarray:
    """Legendre polynomials ``P_0 .. P_order`` on ``n`` points spanning ``[-1, 1]`` (0 for a singleton axis)."""
    u = np.linspace(-1.0, 1.0, n) if n > 1 else np.zeros(1)
    return np.stack([legendre.legval(u[::stride], np.eye(order + 1)[i]) for i in range(order + 1)])


def log_field(shape: tuple[int, int, int], order: int, coefficients: list[list[float]], stride: int = 1) -> np.ndarray:
    """``sum c_ijk P_i P_j P_k`` on the (optionally strided) voxel grid, as three one-axis tensor contractions."""
    tensor = np.zeros((order + 1,) * 3)
    for i, j, k, value in coefficients:
        tensor[int(i), int(j), int(k)] = value
    bx, by, bz = (_basis(n, order, stride) for n in shape)
    # one axis at a time with einsum's own loops: the BLAS path of ``optimize=True`` costs the same on an idle machine
    # but its spinning threads took 30x the CPU time on a busy one
    partial = np.einsum("xjk,jy->xyk", np.einsum("ijk,ix->xjk", tensor, bx), by)
    return np.einsum("xyk,kz->xyz", partial, bz)


def sample_params(severity: str, rng: np.random.Generator, volume) -> dict[str, Any]:
    """Draw polynomial coefficients and normalise the field's foreground log-std to the preset's ``log_std``."""
    ranges = preset("bias_field", severity)
    order = draw_int(rng, ranges["order"])
    target = draw(rng, ranges["log_std"])
    max_k = 0 if volume.shape[2] == 1 else order
    terms = [
        (i, j, k)
        for i in range(order + 1)
        for j in range(order + 1)
        for k in range(max_k + 1)
        if 0 < i + j + k <= order
    ]
    raw = rng.uniform(-1.0, 1.0, size=len(terms))
    stride = max(1, int(round((volume.data.size / 300_000) ** (1 / 3))))
    coarse = volume.data[::stride, ::stride, ::stride]
    mask = foreground_mask(coarse)
    if mask.sum() < 2:
        mask = np.ones_like(mask)
    field = log_field(volume.shape, order, [[*t, c] for t, c in zip(terms, raw, strict=True)], stride)
    if _alignment(field[mask], coarse[mask]) < 0:  # the inverse field adds to the scan's own slow variation
        raw, field = -raw, -field
    scale = target / max(float(field[mask].std()), 1e-12)
    coefficients = [[*t, float(c * scale)] for t, c in zip(terms, raw, strict=True)]
    coefficients.append([0, 0, 0, float(-scale * field[mask].mean())])
    return {"order": order, "log_std": target, "coefficients": coefficients}


def _alignment(log_b: np.ndarray, values: np.ndarray) -> float:
    """Covariance of a log field with the log intensities of the same foreground voxels.

    Tissue contrast is nearly orthogonal to a low-order polynomial, so its sign is, in the main, that of the scan's
    own slow intensity variation along the field (coil shading already present).
    """
    log_image = np.log(np.maximum(values.astype(np.float64), np.finfo(np.float64).tiny))
    return float(np.mean((log_b - log_b.mean()) * (log_image - log_image.mean())))


def apply(data: np.ndarray, params: dict[str, Any], spacing, pe_axis: int) -> np.ndarray:
    """Multiply the image by ``exp(log_field)``."""
    field = np.exp(log_field(data.shape, params["order"], params["coefficients"])).astype(np.float32)
    return data * field
