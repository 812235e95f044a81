"""Rician noise: thermal noise of a magnitude image.

Physics
-------
The receiver adds independent zero-mean Gaussian noise of standard deviation ``sigma`` to the real and the imaginary
channel of the complex image; the magnitude image ``|x + n_r + i n_i|`` follows a Rice distribution (Gudbjartsson &
Patz, MRM 1995;34:910-914; Henkelman, Med Phys 1985;12:232-233). It is Rayleigh in the background (mean
``sigma sqrt(pi/2)``, never zero) and close to Gaussian in bright tissue (SNR > 3). Adding Gaussian noise to the
magnitude, as TorchIO's ``Noise`` does, gives negative intensities and a zero-mean background, which no scanner
produces and which background-based quality metrics (MRIQC's QI2, MRQy's SNR/FBER) read wrongly.

Sampling (``presets.PRESETS["noise"]``): ``sigma = relative_sigma * mean foreground intensity`` (foreground: voxels
above the image mean, :func:`mmrqa.artifacts.kspace.foreground_mask`), so a severity means the same signal-to-noise
ratio on every scan (``SNR = 1 / relative_sigma``). The noise field is drawn from a recorded ``noise_seed``
(chunk-wise child seeds, see :func:`apply`). For signed (already normalised) inputs, where a magnitude makes no
sense, Gaussian noise is added instead.

Drawing the complex noise
-------------------------
The pair ``(n_r, n_i)`` is drawn by the Box-Muller transform (Box & Muller, Ann Math Stat 1958;29:610-611): for
independent uniforms ``u`` in ``(0, 1]`` and ``v`` in ``[0, 1)``, ``R = sqrt(-2 ln u)`` and ``theta = 2 pi v`` give
``n_r = R cos(theta)`` and ``n_i = R sin(theta)``, two independent standard normals, exactly the circularly symmetric
complex Gaussian of the receiver. It needs two cheap float32 uniforms per voxel instead of two ziggurat normals
(NumPy's float32 ziggurat costs ~4x a uniform) and no ``hypot`` (``sqrt`` of the sum of squares, with a ``hypot``
fallback for a chunk whose squares would overflow float32). float32 uniforms are multiples of ``2^-24``, so ``R``
is truncated at ``sqrt(48 ln 2) = 5.77`` (a tail of probability ``2^-24`` per voxel, below one voxel in a 1 mm
brain). Records made before this field existed (no ``field`` key) are replayed with the ziggurat field they were
made with (:func:`_apply_ziggurat`).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from mmrqa.artifacts.kspace import foreground_level, is_signed
from mmrqa.artifacts.presets import draw, preset

#: Name of the noise field recorded in ``params["field"]`` (Box-Muller on float32 uniforms, Fortran voxel order).
FIELD = "box-muller-f32"
#: Voxels per independently seeded chunk of the noise field (two float32 uniforms per voxel: 512 KiB, cache-sized).
CHUNK = 1 << 16
#: Voxels per block of the legacy ziggurat field (records without a ``field`` key).
LEGACY_BLOCK = 1 << 18
TWO_PI = np.float32(2.0 * np.pi)


def sample_params(severity: str, rng: np.random.Generator, volume) -> dict[str, Any]:
    """Draw the relative noise level and the seed of the noise field."""
    relative = draw(rng, preset("noise", severity)["relative_sigma"])
    return {
        "relative_sigma": relative,
        "sigma": relative * foreground_level(volume.data),
        "noise_seed": int(rng.integers(0, 2**63 - 1)),
        "field": FIELD,
    }


def apply(data: np.ndarray, params: dict[str, Any], spacing, pe_axis: int) -> np.ndarray:
    """``|x + sigma (n_r + i n_i)|`` with standard normal ``n_r, n_i`` drawn from ``noise_seed`` (``x + sigma n_r`` for
    signed inputs).

    The field is laid out in Fortran (NIfTI) voxel order and cut into chunks of :data:`CHUNK` voxels; chunk ``i`` is
    drawn by its own generator, the ``i``-th child of ``SeedSequence(noise_seed)`` (one ``random((2, chunk))`` call
    for ``u`` and ``v``). The result depends on the shape and the seed only, not on the memory layout of ``data`` (a
    C-ordered input is copied once) or on the number of threads, which only decides who fills which chunk (NumPy's
    generators and ufuncs release the GIL). Each chunk stays in cache from the draw to the magnitude, in float32
    buffers reused by its thread. The output is Fortran-ordered.
    """
    if params.get("field") != FIELD:
        return _apply_ziggurat(data, params)
    flat = np.asarray(data, dtype=np.float32).reshape(-1, order="F")  # a view for Fortran-ordered inputs
    out = np.empty(data.shape, dtype=np.float32, order="F")
    target = out.reshape(-1, order="F")
    sigma = float(params["sigma"])
    signed = is_signed(flat)
    count = -(-flat.size // CHUNK)
    seeds = np.random.SeedSequence(int(params["noise_seed"])).spawn(count)

    def worker(first: int, step: int) -> None:
        buffers = np.empty((2, CHUNK), dtype=np.float32), np.empty(CHUNK, dtype=np.float32)
        for i in range(first, count, step):
            part = slice(i * CHUNK, min(flat.size, (i + 1) * CHUNK))
            _noisy_chunk(flat[part], target[part], sigma, seeds[i], signed, buffers)

    workers = min(count, _usable_cpus())
    if workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for future in [pool.submit(worker, w, workers) for w in range(workers)]:
                future.result()
    else:
        worker(0, 1)
    return out


def _usable_cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _noisy_chunk(x, out, sigma: float, seed, signed: bool, buffers) -> None:
    """Write the noisy version of chunk ``x`` to ``out`` (same length), drawing ``u, v`` from ``seed``."""
    size = x.size
    uniforms, scratch = buffers[0][:, :size], buffers[1][:size]
    if size < CHUNK:
        uniforms = np.empty((2, size), dtype=np.float32)  # the last, partial chunk: ``out=`` needs a contiguous array
    np.random.Generator(np.random.PCG64(seed)).random(dtype=np.float32, out=uniforms)
    radius, real = uniforms
    np.subtract(np.float32(1.0), radius, out=radius)  # (0, 1]: exact for multiples of 2^-24
    np.log(radius, out=radius)
    radius *= np.float32(-2.0)
    np.sqrt(radius, out=radius)  # R
    radius *= np.float32(sigma)  # sigma R (no sigma^2: it overflows float32 for sigma > 1.8e19)
    real *= TWO_PI  # theta
    if signed:
        np.cos(real, out=real)
        real *= radius
        np.add(x, real, out=out)
        return
    np.sin(real, out=scratch)
    scratch *= radius  # imaginary channel sigma R sin(theta)
    np.cos(real, out=real)
    real *= radius
    real += x  # real channel x + sigma R cos(theta)
    with np.errstate(over="ignore"):  # detected just below
        np.multiply(scratch, scratch, out=radius)
        np.multiply(real, real, out=out)
        out += radius
    if np.isinf(out.max()):  # |x| or sigma R above ~1.8e19: the squares overflow float32, hypot does not
        np.hypot(real, scratch, out=out)
    else:
        np.sqrt(out, out=out)


def _apply_ziggurat(data: np.ndarray, params: dict[str, Any]) -> np.ndarray:
    """The field of records without a ``field`` key: ``standard_normal((channels, block))`` per C-order block of
    :data:`LEGACY_BLOCK` voxels, block ``i`` from the ``i``-th child of ``SeedSequence(noise_seed)``, then ``hypot``
    (kept so that those records still replay bit for bit)."""
    flat = np.ascontiguousarray(data, dtype=np.float32).reshape(-1)
    out = np.empty_like(flat)
    sigma = np.float32(params["sigma"])
    channels = 1 if is_signed(flat) else 2
    count = -(-flat.size // LEGACY_BLOCK)
    seeds = np.random.SeedSequence(int(params["noise_seed"])).spawn(count)
    for i in range(count):
        part = slice(i * LEGACY_BLOCK, min(flat.size, (i + 1) * LEGACY_BLOCK))
        field = np.random.default_rng(seeds[i]).standard_normal((channels, part.stop - part.start), dtype=np.float32)
        field *= sigma
        field[0] += flat[part]
        if channels == 1:
            out[part] = field[0]
        else:
            np.hypot(field[0], field[1], out=out[part])
    return out.reshape(data.shape)
