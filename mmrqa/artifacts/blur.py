"""Blur: loss of spatial resolution, a Gaussian point-spread function of given width in mm.

Physics
-------
The effective resolution of an MR image is its point-spread function (PSF): the inverse transform of the k-space
weighting (T2/T2* decay during the echo train, apodisation filters, low-pass reconstruction, through-plane partial
volume). A Gaussian PSF of full width at half maximum ``FWHM = 2 sqrt(2 ln 2) sigma`` equals a Gaussian k-space
low-pass filter, the usual model of smoothness estimated by AFNI's 3dFWHMx and MRIQC's ``fwhm`` IQM (Friedman et al.,
NeuroImage 2006;32:1279; Esteban et al., PLoS One 2017;12:e0184661).

Sampling (``presets.PRESETS["blur"]``): ``FWHM = fwhm_voxels x`` the in-plane voxel size (mm), i.e. the resolution
is degraded by a factor relative to the acquired one; the same PSF in mm is applied along every axis, so anisotropic
voxels get proportionally less smoothing along their long axis (``sigma_axis = FWHM / 2.3548 / spacing_axis``), and a
2D slice is smoothed in-plane only. Separable Gaussian filtering with ``mode="nearest"`` borders.

Compared with TorchIO's ``Blur``: TorchIO's ``std`` is in mm but drawn per axis from a range starting at 0, so
``severity`` has no fixed meaning across voxel sizes, and it converts the image to a SimpleITK image and back.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import ndimage

from mmrqa.artifacts.presets import draw, preset

#: FWHM of a Gaussian in units of its standard deviation: 2 sqrt(2 ln 2).
FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))


def sample_params(severity: str, rng: np.random.Generator, volume) -> dict[str, Any]:
    """Draw the PSF width relative to the in-plane voxel size and convert it to mm."""
    relative = draw(rng, preset("blur", severity)["fwhm_voxels"])
    return {"fwhm_voxels": relative, "fwhm_mm": relative * float(np.mean(volume.spacing[:2]))}


def apply(data: np.ndarray, params: dict[str, Any], spacing, pe_axis: int) -> np.ndarray:
    """Convolve with an isotropic (in mm) Gaussian PSF of FWHM ``fwhm_mm``."""
    sigma_mm = params["fwhm_mm"] / FWHM_PER_SIGMA
    sigmas = [sigma_mm / s if n > 1 else 0.0 for s, n in zip(spacing, data.shape, strict=True)]
    return ndimage.gaussian_filter(data, sigmas, mode="nearest", truncate=3.0, output=np.float32)
