"""Spike (herringbone, "corduroy") artifact: isolated corrupt k-space samples.

Physics
-------
An electrostatic discharge or a loose connection during readout adds a large value ``A e^{i phi}`` at one k-space
location ``k``. A single k-space sample is a complex plane wave in the image, ``A e^{i (phi + 2 pi k . r / N)}``, so the
magnitude image shows stripes across the whole field of view whose orientation and spacing are set by ``k``
(Zhang et al., "Herringbone artifact", AJR 2001; Stadler et al., "Artifacts in body MR imaging", Eur Radiol
2007;17:1242-1255). Because the k-space change is one sample, adding the plane wave directly in the image domain is
exact and needs no Fourier transform at all.

With a unitary transform the energy of a spike of image amplitude ``a`` is ``a^2 N``; the preset samples ``energy``
= sqrt(total spike energy / image energy), which is the normalised RMS difference to the clean scan to first order,
whatever the anatomy, and splits it equally between ``count`` spikes.

Sampling (``presets.PRESETS["spike"]``): ``count`` spikes, each at a distance ``radius`` (fraction of the in-plane
Nyquist frequency) from the k-space centre in a uniform random in-plane direction, a random through-plane frequency
in the central half (3D), and a uniform random phase. A position is redrawn (up to :data:`MAX_DRAWS` times) while the
anatomy's own k-space energy around it exceeds a tenth of the spike's (:data:`DOMINANCE`): a spike landing among
strong components of the anatomy is lost in its texture and would not be visible at its severity.

Compared with TorchIO's ``Spike``: TorchIO inserts spikes in a 3D FFT (two full transforms), scales them by the
k-space maximum (so its ``intensity`` is not comparable between scans), returns the real part of the inverse transform,
and with scalar ``num_spikes`` often samples zero spikes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mmrqa.artifacts.kspace import to_image
from mmrqa.artifacts.presets import draw, draw_int, preset

# scipy is imported where it is used, keeping ``import mmrqa.artifacts`` light.


def sample_params(severity: str, rng: np.random.Generator, volume) -> dict[str, Any]:
    """Draw the number, k-space positions, amplitudes (image units) and phases of the spikes."""
    ranges = preset("spike", severity)
    count = draw_int(rng, ranges["count"])
    energy = draw(rng, ranges["energy"])
    data = volume.data
    mean_square = float(np.square(data, dtype=np.float32).sum(dtype=np.float64)) / data.size  # float32 squares
    amplitude = energy * np.sqrt(mean_square) / np.sqrt(count)
    nx, ny, nz = data.shape
    natural = _natural_power(data)
    spikes = []
    for _ in range(count):
        candidates = []
        for _ in range(MAX_DRAWS):
            radius = draw(rng, ranges["radius"])
            theta = float(rng.uniform(0.0, 2.0 * np.pi))
            kx = int(round(radius * np.cos(theta) * (nx // 2)))
            ky = int(round(radius * np.sin(theta) * (ny // 2)))
            if kx == 0 and ky == 0:
                kx = 1
            candidates.append((natural(kx, ky), kx, ky))
            if amplitude**2 * nx * ny / 4 >= DOMINANCE * candidates[-1][0]:
                break
        _, kx, ky = min(candidates)  # the first dominant draw, else the quietest one
        kz = int(rng.integers(-(nz // 4), nz // 4 + 1)) if nz > 1 else 0
        spikes.append(
            {"frequency": [kx, ky, kz], "amplitude": float(amplitude), "phase": float(rng.uniform(0, 2 * np.pi))}
        )
    return {"energy": energy, "spikes": spikes}


#: A spike is placed where its energy in the magnitude image is at least this multiple of the anatomy's around the
#: same in-plane frequency (mean over the 5x5 neighbourhood and the slices). A spike of image amplitude a adds
#: a^2 N to one k-space sample of the complex image; the magnitude keeps its component in phase with the image,
#: about a^2 N / 4 at +k and at -k. Among strong low-frequency anatomy a spike of the same energy is lost in the
#: anatomy's own texture, so the severity would not mean the same thing everywhere.
DOMINANCE = 10.0
#: Positions drawn at most per spike to find a dominant one (then the quietest position drawn is kept).
MAX_DRAWS = 32
#: The anatomy's spectrum is read on at most this many evenly spaced slices.
CHECK_SLICES = 8


def _natural_power(data: np.ndarray):
    """A function (kx, ky) -> mean of |unitary FFT2 of a slice|^2 over the 5x5 neighbourhood of (kx, ky) (periodic)
    and over at most :data:`CHECK_SLICES` evenly spaced slices (computed once)."""
    from scipy import fft as sfft
    from scipy import ndimage

    picks = np.unique(np.linspace(0, data.shape[2] - 1, min(data.shape[2], CHECK_SLICES)).round().astype(int))
    power = np.abs(sfft.fft2(data[:, :, picks].astype(np.float32), axes=(0, 1), norm="ortho"))
    local = ndimage.uniform_filter(np.square(power).mean(axis=2, dtype=np.float64), 5, mode="wrap")
    return lambda kx, ky: float(local[kx % data.shape[0], ky % data.shape[1]])


def plane_wave(shape: tuple[int, int, int], frequency: list[int], amplitude: float, phase: float) -> np.ndarray:
    """``amplitude * exp(i (phase + 2 pi sum_a k_a x_a / n_a))`` as a separable complex64 product."""
    factors = []
    for axis, (n, k) in enumerate(zip(shape, frequency, strict=True)):
        wave = np.exp(2j * np.pi * k * np.arange(n) / n).astype(np.complex64)
        view = [1, 1, 1]
        view[axis] = n
        factors.append(wave.reshape(view))
    scale = np.complex64(amplitude * np.exp(1j * phase))
    return (scale * factors[0] * factors[1]) * factors[2]


def _plane(axis: int, i: int, factor: np.ndarray | None = None) -> tuple:
    """Index of plane ``i`` along ``axis`` (plane 0 of a ``factor`` that is broadcast along it)."""
    return (slice(None),) * axis + (i if factor is None or factor.shape[axis] > 1 else 0,)


def apply(data: np.ndarray, params: dict[str, Any], spacing, pe_axis: int) -> np.ndarray:
    """Add each spike's plane wave to the image and take the magnitude.

    The wave is added slice by slice (its in-plane factor times the slice's through-plane phase), the same complex64
    products as :func:`plane_wave` without a volume-sized temporary per spike.
    """
    image = data.astype(np.complex64)
    outer = int(np.argmax(image.strides))  # loop over the axis whose planes are contiguous in memory
    for spike in params["spikes"]:
        in_plane = plane_wave((*data.shape[:2], 1), [*spike["frequency"][:2], 0], spike["amplitude"], spike["phase"])
        through = plane_wave((1, 1, data.shape[2]), [0, 0, spike["frequency"][2]], 1.0, 0.0)
        for i in range(data.shape[outer]):  # in_plane (x, y, 1) times through (1, 1, z): the wave on plane i
            image[_plane(outer, i)] += in_plane[_plane(outer, i, in_plane)] * through[_plane(outer, i, through)]
    return to_image(image, data)
