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
A field and its inverse are equally likely; of the two, the one that leaves the scan less uniform is applied (the
larger coefficient of variation of the heavily smoothed foreground, on the coarse grid): the other may first cancel
existing coil shading, making a mildly "corrupted" scan more uniform than the clean one.
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
    """``sum c_ijk P_i P_j P_k`` on the (optionally strided) voxel grid, as a tensor contraction."""
    tensor = np.zeros((order + 1,) * 3)
    for i, j, k, value in coefficients:
        tensor[int(i), int(j), int(k)] = value
    bx, by, bz = (_basis(n, order, stride) for n in shape)
    return np.einsum("ijk,ix,jy,kz->xyz", tensor, bx, by, bz, optimize=True)


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
    scale = target / max(float(field[mask].std()), 1e-12)
    if _nonuniformity(coarse * np.exp(-scale * field), mask) > _nonuniformity(coarse * np.exp(scale * field), mask):
        raw, field = -raw, -field  # the inverse field adds more to the scan's own slow variation
    coefficients = [[*t, float(c * scale)] for t, c in zip(terms, raw, strict=True)]
    coefficients.append([0, 0, 0, float(-scale * field[mask].mean())])
    return {"order": order, "log_std": target, "coefficients": coefficients}


def _nonuniformity(image: np.ndarray, mask: np.ndarray) -> float:
    """Coefficient of variation over the foreground of the image's slow intensity.

    The slow intensity is the foreground smoothed with a Gaussian of an eighth of each axis (normalised
    convolution, so the mask's edge does not darken it), which averages tissue contrast and noise away and keeps
    coil shading.
    """
    from scipy import ndimage

    sigma = [n / 8 if n > 8 else 0.0 for n in image.shape]
    weight = ndimage.gaussian_filter(mask.astype(np.float64), sigma, mode="constant")
    smooth = ndimage.gaussian_filter(np.where(mask, image, 0).astype(np.float64), sigma, mode="constant")
    slow = smooth[mask] / np.maximum(weight[mask], 1e-12)
    return float(slow.std() / slow.mean()) if slow.mean() > 0 else 0.0


def apply(data: np.ndarray, params: dict[str, Any], spacing, pe_axis: int) -> np.ndarray:
    """Multiply the image by ``exp(log_field)``."""
    field = np.exp(log_field(data.shape, params["order"], params["coefficients"])).astype(np.float32)
    return data * field
