"""Blur: loss of spatial resolution, a Gaussian point-spread function of given width in mm.

Physics
-------
The effective resolution of an MR image is its point-spread function (PSF): the inverse transform of the k-space
weighting (T2/T2* decay during the echo train, apodisation filters, low-pass reconstruction, through-plane partial
volume). A Gaussian PSF of full width at half maximum ``FWHM = 2 sqrt(2 ln 2) sigma`` equals a Gaussian k-space
low-pass filter, the usual model of smoothness estimated by AFNI's 3dFWHMx and MRIQC's ``fwhm`` IQM (Friedman et al.,
NeuroImage 2006;32:1279; Esteban et al., PLoS One 2017;12:e0184661).

Sampling (``presets.PRESETS["blur"]``): a target normalised RMS difference ``nrmse`` to the clean scan is drawn from
the severity's band and the FWHM (in multiples of the in-plane voxel size, bounded to ``[0.1, 80]``) is widened per
scan until the blurred image reaches it (:func:`mmrqa.artifacts.calibration.solve_strength`): the same PSF removes
far more from a sharp, high-contrast scan than from a smooth one, so a fixed width would not mean the same damage.
``fwhm_voxels`` and ``fwhm_mm = fwhm_voxels x`` the in-plane voxel size are recorded. The same PSF in mm is applied
along every axis, so anisotropic voxels get proportionally less smoothing along their long axis
(``sigma_axis = FWHM / 2.3548 / spacing_axis``), and a 2D slice is smoothed in-plane only. Separable Gaussian
filtering with ``mode="nearest"`` borders.

Compared with TorchIO's ``Blur``: TorchIO's ``std`` is in mm but drawn per axis from a range starting at 0, so
``severity`` has no fixed meaning across voxel sizes, and it converts the image to a SimpleITK image and back.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import ndimage

from mmrqa.artifacts.calibration import evaluation_slab, solve_strength
from mmrqa.artifacts.kspace import resolve_pe_axis
from mmrqa.artifacts.presets import draw, preset

#: FWHM of a Gaussian in units of its standard deviation: 2 sqrt(2 ln 2).
FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))


#: Bounds of the calibrated FWHM, in in-plane voxels.
FWHM_BOUNDS = (0.1, 80.0)


def sample_params(severity: str, rng: np.random.Generator, volume) -> dict[str, Any]:
    """Draw the target NRMSE and calibrate the PSF width (relative to the in-plane voxel size) on the scan."""
    target = draw(rng, preset("blur", severity)["nrmse"])
    inplane_mm = float(np.mean(volume.spacing[:2]))
    slab = evaluation_slab(volume.data, resolve_pe_axis(volume))

    def render(fwhm_voxels: float) -> np.ndarray:
        return apply(slab, {"fwhm_mm": fwhm_voxels * inplane_mm}, volume.spacing, 0)

    relative = solve_strength(render, slab, target, FWHM_BOUNDS, initial=30.0 * target)
    return {"target_nrmse": target, "fwhm_voxels": relative, "fwhm_mm": relative * inplane_mm}


#: Along an axis where the PSF's standard deviation is below this many voxels (thick slices), the Gaussian would move
#: less than 1% of a voxel's intensity to its neighbours (2 e^(-1/(2 s^2)) < 1%): that axis is left unfiltered, which
#: saves a pass over the volume for a change below the scan's own partial-volume blur along it.
MIN_SIGMA_VOXELS = 0.3


def apply(data: np.ndarray, params: dict[str, Any], spacing, pe_axis: int) -> np.ndarray:
    """Convolve with an isotropic (in mm) Gaussian PSF of FWHM ``fwhm_mm`` (not along axes where it is below
    :data:`MIN_SIGMA_VOXELS`)."""
    sigma_mm = params["fwhm_mm"] / FWHM_PER_SIGMA
    sigmas = [sigma_mm / s if n > 1 else 0.0 for s, n in zip(spacing, data.shape, strict=True)]
    sigmas = [s if s >= MIN_SIGMA_VOXELS else 0.0 for s in sigmas]
    return ndimage.gaussian_filter(data, sigmas, mode="nearest", truncate=3.0, output=np.float32)
