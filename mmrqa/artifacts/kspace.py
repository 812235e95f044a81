"""Shared k-space and signal helpers for the artifact simulators.

Conventions
-----------
* k-space is reached with a unitary (``norm="ortho"``) discrete Fourier transform, so image and k-space energies are
  equal (Parseval) and an error of energy E in k-space is an error of energy E in the image.
* Frequencies are kept in NumPy's native (unshifted) order; :func:`signed_frequencies` gives the signed integer
  frequency of each index (``fftfreq(n) * n``), so no ``fftshift`` copy is ever needed.
* A Cartesian acquisition fills k-space line by line along the *phase-encoding* (PE) axis. Every artifact here that
  acts on lines (motion, ghosting, undersampling) is a per-line operation, which commutes with the Fourier transform
  along the other axes: a 1D transform along the PE axis is therefore exact and much cheaper than a 3D one
  (TorchIO transforms the whole volume in 3D).
* MR images are magnitude reconstructions: after corrupting k-space the image is ``|ifft(...)|`` when the clean input
  is non-negative, and the real part otherwise (already-normalised data with negative values).
"""

from __future__ import annotations

import logging
import math

import numpy as np
from scipy import fft as sfft

logger = logging.getLogger(__name__)

#: Default phase-encoding axis of a ``Volume`` whose metadata does not say (array axis 1, the second in-plane axis:
#: the usual anterior-posterior phase encoding of an axial scan stored as RAS (X, Y, Z)).
DEFAULT_PE_AXIS = 1


def resolve_pe_axis(volume) -> int:
    """The phase-encoding array axis: ``volume.meta["phase_encoding_axis"]`` when valid, else :data:`DEFAULT_PE_AXIS`.

    A recorded axis that is not 0, 1 or 2, or that is a singleton axis (the slice axis of a 2D image), is ignored with
    a warning.
    """
    axis = volume.meta.get("phase_encoding_axis")
    if axis is None:
        return DEFAULT_PE_AXIS
    try:
        axis = int(axis)
    except (TypeError, ValueError):
        axis = -1
    if axis not in (0, 1, 2) or volume.shape[axis] < 2:
        logger.warning("ignoring phase_encoding_axis=%r of a %s volume; using axis %d", axis, volume.shape, 1)
        return DEFAULT_PE_AXIS
    return axis


def signed_frequencies(n: int) -> np.ndarray:
    """Signed integer frequencies ``-n//2 .. (n-1)//2`` in NumPy FFT order."""
    return np.rint(np.fft.fftfreq(n) * n).astype(np.int64)


def fft_along(data: np.ndarray, axis: int) -> np.ndarray:
    """Unitary 1D DFT along ``axis`` in single precision (complex64)."""
    return sfft.fft(data.astype(np.complex64, copy=False), axis=axis, norm="ortho", workers=-1)


def real_fft_lines(image: np.ndarray, frequencies: np.ndarray) -> np.ndarray:
    """The lines of signed ``frequencies`` of the unitary DFT of the real ``image`` along its last axis (complex64).

    One real-input FFT (half the work of a complex one, no complex copy of the input); negative frequencies are the
    conjugates of the positive ones (Hermitian symmetry of the spectrum of a real signal).
    """
    return hermitian_lines(sfft.rfft(image, axis=-1, norm="ortho", workers=-1), frequencies)


def hermitian_lines(half: np.ndarray, frequencies: np.ndarray) -> np.ndarray:
    """Lines of signed ``frequencies`` (a new complex64 array) from the half spectrum ``half`` of a real signal."""
    lines = half[..., np.abs(frequencies)]
    negative = np.flatnonzero(frequencies < 0)
    if negative.size:
        lines[..., negative] = np.conj(lines[..., negative])
    return lines.astype(np.complex64, copy=False)


def ifft_along(kspace: np.ndarray, axis: int) -> np.ndarray:
    """Inverse of :func:`fft_along`."""
    return sfft.ifft(kspace, axis=axis, norm="ortho", workers=-1)


def line_view(shape: tuple[int, ...], axis: int) -> tuple[int, ...]:
    """Broadcast shape of a per-line factor along ``axis`` (e.g. ``(1, n, 1)`` for axis 1)."""
    view = [1] * len(shape)
    view[axis] = shape[axis]
    return tuple(view)


#: An image with more than this fraction of negative voxels is treated as signed (normalised data, phase images);
#: below it the few negatives are interpolation undershoot of a magnitude image (e.g. SPM-resampled scans).
SIGNED_FRACTION = 0.01


def is_signed(clean: np.ndarray) -> bool:
    """Whether ``clean`` is a signed image rather than a magnitude one (see :data:`SIGNED_FRACTION`)."""
    return float(clean.min()) < 0.0 and np.count_nonzero(clean < 0) > SIGNED_FRACTION * clean.size


def to_image(complex_image: np.ndarray, clean: np.ndarray) -> np.ndarray:
    """Magnitude reconstruction (real part for signed inputs) as float32, like the scanner would output."""
    if is_signed(clean):
        return np.real(complex_image).astype(np.float32, copy=False)
    return np.abs(complex_image).astype(np.float32, copy=False)


def foreground_mask(data: np.ndarray) -> np.ndarray:
    """Voxels brighter than the image mean: the object (head, body) against the air background.

    The air background pulls the mean well below tissue intensities, so this simple head mask keeps all tissue
    classes; Otsu's threshold, by contrast, splits bright CSF/fat from the rest of the brain in EPI and T2w scans
    (6% of dipy's S0_10slices instead of 26%), which would make "relative to the foreground" scan-dependent.
    """
    return data > data.mean(dtype=np.float64)


#: Voxels per chunk of the foreground reductions (cache-sized temporaries instead of full-volume masks).
REDUCTION_CHUNK = 1 << 16


def foreground_level(data: np.ndarray) -> float:
    """Mean intensity of the foreground (:func:`foreground_mask`), the signal reference for relative noise and artifact
    amplitudes.

    Two passes over cache-sized chunks of the voxels in memory order (no full-volume boolean mask or gather): the
    image mean, then the count and sum of the voxels above it; each chunk is summed pairwise in float32 (relative
    error ~1e-7) and the chunk sums are accumulated in float64.
    """
    flat = np.ravel(data, order="K")
    chunks = [flat[i : i + REDUCTION_CHUNK] for i in range(0, flat.size, REDUCTION_CHUNK)]
    mean = math.fsum(float(np.add.reduce(chunk)) for chunk in chunks) / max(flat.size, 1)
    threshold, count, total = np.float32(mean), 0, 0.0
    above, masked = np.empty(REDUCTION_CHUNK, dtype=bool), np.empty(REDUCTION_CHUNK, dtype=np.float32)
    for chunk in chunks:
        n = chunk.size
        np.greater(chunk, threshold, out=above[:n])
        count += int(np.count_nonzero(above[:n]))
        total += float(np.add.reduce(np.multiply(chunk, above[:n], out=masked[:n])))
    if count == 0:
        return float(np.abs(data).mean())
    return total / count
