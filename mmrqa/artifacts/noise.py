"""Rician noise: thermal noise of a magnitude image.

Physics
-------
The receiver adds independent zero-mean Gaussian noise of standard deviation ``sigma`` to the real and the imaginary
channel of the complex image; the magnitude image ``|x + n_r + i n_i|`` follows a Rice distribution (Gudbjartsson &
Patz, MRM 1995;34:910-914; Henkelman, Med Phys 1985;12:232-233). It is Rayleigh in the background (mean
``sigma sqrt(pi/2)``, never zero) and close to Gaussian in bright tissue (SNR > 3). Adding Gaussian noise to the
magnitude, as TorchIO's ``Noise`` does, gives negative intensities and a zero-mean background, which no scanner
produces and which background-based quality metrics (MRIQC's QI2, MRQy's SNR/FBER) read wrongly.

Sampling (``presets.PRESETS["noise"]``): ``sigma = relative_sigma * mean foreground intensity`` (Otsu foreground), so
a severity means the same signal-to-noise ratio on every scan (``SNR = 1 / relative_sigma``). The noise field is
drawn from a recorded ``noise_seed`` (block-wise child seeds, see :func:`apply`). For signed (already normalised)
inputs, where a magnitude makes no sense, Gaussian noise is added instead.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from mmrqa.artifacts.kspace import foreground_level, is_signed
from mmrqa.artifacts.presets import draw, preset

#: Voxels per independently seeded block of the noise field (1 MiB of float32: cache-sized, many blocks to thread).
BLOCK = 1 << 18


def sample_params(severity: str, rng: np.random.Generator, volume) -> dict[str, Any]:
    """Draw the relative noise level and the seed of the noise field."""
    relative = draw(rng, preset("noise", severity)["relative_sigma"])
    return {
        "relative_sigma": relative,
        "sigma": relative * foreground_level(volume.data),
        "noise_seed": int(rng.integers(0, 2**63 - 1)),
    }


def apply(data: np.ndarray, params: dict[str, Any], spacing, pe_axis: int) -> np.ndarray:
    """``sqrt((x + sigma n_r)^2 + (sigma n_i)^2)`` with standard normal ``n_r, n_i`` from ``noise_seed``.

    The field is drawn in C order in blocks of :data:`BLOCK` voxels, block ``i`` from the ``i``-th child of
    ``SeedSequence(noise_seed)`` (one ``standard_normal((2, block))`` call for both channels): the result depends on
    the shape and the seed only, not on the memory layout of ``data`` or on the number of threads. Blocks are
    processed in threads (NumPy's generators release the GIL) and each block stays in cache through
    draw-scale-add-hypot.
    """
    flat = np.ascontiguousarray(data, dtype=np.float32).reshape(-1)
    out = np.empty_like(flat)
    sigma = np.float32(params["sigma"])
    channels = 1 if is_signed(flat) else 2
    count = -(-flat.size // BLOCK)
    seeds = np.random.SeedSequence(int(params["noise_seed"])).spawn(count)

    def block(i: int) -> None:
        part = slice(i * BLOCK, min(flat.size, (i + 1) * BLOCK))
        field = np.random.default_rng(seeds[i]).standard_normal((channels, part.stop - part.start), dtype=np.float32)
        field *= sigma
        field[0] += flat[part]
        if channels == 1:
            out[part] = field[0]
        else:
            np.hypot(field[0], field[1], out=out[part])

    workers = min(count, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    if workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(block, range(count)))
    else:
        for i in range(count):
            block(i)
    return out.reshape(data.shape)
