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
The pair ``(n_r, n_i)`` comes from the Box-Muller transform (Box & Muller, Ann Math Stat 1958;29:610-611): for
independent uniforms ``u`` in ``(0, 1]`` and ``v`` in ``[0, 1)``, ``R = sqrt(-2 ln u)`` and ``theta = 2 pi v`` give
``n_r = R cos(theta)`` and ``n_i = R sin(theta)``, two independent standard normals: exactly the circularly symmetric
complex Gaussian of the receiver. Its magnitude needs no ``sin`` and no ``hypot``:

    |x + sigma R e^{i theta}|^2 = x (x + 2 sigma R cos(theta)) + sigma^2 R^2,

computed in float32 (where the noise nearly cancels the signal the rounding of the three terms leaves an absolute
error below ~5e-4 (|x| + sigma R); elsewhere float32 rounding). A chunk with a non-finite result, because its terms
overflow float32 (``|x|`` or ``sigma R`` above ~1e18) or because rounding made a sum negative (not one voxel in the
35 million of the MNI152 and TCIA scans at SNR 3-50), is redone in float64 with ``hypot``.

The uniforms are the bits of one PCG64 stream seeded with ``noise_seed`` (O'Neill 2014; NumPy's default generator):
each raw 64-bit draw is two 32-bit words, and the top 23 bits of a word are the mantissa of a float32 in ``[1, 2)``
(``u = 2 - f``, ``v = f - 1``). That is ~4x cheaper than a float32 ziggurat normal, and float32 mantissas are all
this precision needs; ``u >= 2^-23`` truncates ``R`` at ``sqrt(46 ln 2) = 5.65`` (a tail of probability ``2^-23``
per voxel, about one voxel of a 1 mm brain). Records made before this field existed (no ``field`` key) replay with
the ziggurat field they were made with (:func:`_apply_ziggurat`).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from mmrqa.artifacts.kspace import foreground_level, is_signed
from mmrqa.artifacts.presets import draw, preset

#: Name of the noise field recorded in ``params["field"]``: Box-Muller on one PCG64 stream, Fortran voxel order.
FIELD = "box-muller-pcg64"
#: Voxels per chunk: chunk ``i`` takes raw draws ``[i CHUNK, (i + 1) CHUNK)`` of the stream (u from the first half
#: of the words, v from the second), so the field depends on this constant, never on the thread count.
CHUNK = 1 << 16
#: Voxels per block of the legacy ziggurat field (records without a ``field`` key).
LEGACY_BLOCK = 1 << 18
TWO_PI = np.float32(2.0 * np.pi)
#: Bits of float32 1.0: a word's top 23 bits OR-ed into it give a uniform float in [1, 2).
ONE_BITS = np.uint32(0x3F800000)


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

    Voxels are taken in Fortran (NIfTI) order, a view for Fortran-ordered inputs (a C-ordered input is copied once),
    and cut into chunks of :data:`CHUNK`; each thread fills every ``W``-th chunk from its own copy of the PCG64
    stream, advanced (``PCG64.advance``, a jump in O(log n)) to the chunk's position, so the result depends on the
    shape and the seed only, not on the memory layout or the number of threads (NumPy's bit generators and ufuncs
    release the GIL). Each chunk stays in cache from the draw to the magnitude. The output is Fortran-ordered.
    """
    if params.get("field") != FIELD:
        return _apply_ziggurat(data, params)
    flat = np.asarray(data, dtype=np.float32).reshape(-1, order="F")
    out = np.empty(data.shape, dtype=np.float32, order="F")
    target = out.reshape(-1, order="F")
    sigma, seed, signed = float(params["sigma"]), int(params["noise_seed"]), is_signed(flat)
    count = -(-flat.size // CHUNK)

    def worker(first: int, step: int) -> None:
        stream = np.random.PCG64(seed)
        stream.advance(first * CHUNK)
        scratch = np.empty((2, CHUNK), dtype=np.float32)
        for i in range(first, count, step):
            part = slice(i * CHUNK, min(flat.size, (i + 1) * CHUNK))
            uniforms = _uniform_words(stream, part.stop - part.start)
            _noisy_chunk(flat[part], target[part], uniforms, sigma, signed, scratch[:, : part.stop - part.start])
            stream.advance((step - 1) * CHUNK)

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


def _uniform_words(stream: np.random.PCG64, size: int) -> np.ndarray:
    """``2 size`` float32 in ``[1, 2)`` from the next ``size`` raw 64-bit draws (native-endian 32-bit words)."""
    words = stream.random_raw(size).view(np.uint32)
    np.right_shift(words, 9, out=words)
    np.bitwise_or(words, ONE_BITS, out=words)
    return words.view(np.float32)


def _noisy_chunk(x, out, uniforms, sigma: float, signed: bool, scratch) -> None:
    """Write the noisy chunk ``x`` to ``out``; ``u = 2 - uniforms[:n]``, ``v = uniforms[n:] - 1``."""
    size = x.size
    power, amplitude = scratch  # sigma^2 R^2 = -2 sigma^2 ln u and sigma R
    np.subtract(np.float32(2.0), uniforms[:size], out=power)
    np.log(power, out=power)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow and NaN are detected below and redone in float64
        power *= np.float32(-2.0 * sigma * sigma)
        np.multiply(uniforms[size:], TWO_PI, out=out)  # theta + 2 pi
        np.cos(out, out=out)
        out *= np.sqrt(power, out=amplitude)  # sigma R cos(theta)
        if signed:
            out += x
        else:
            out *= np.float32(2.0)
            out += x
            out *= x
            out += power
            np.sqrt(out, out=out)  # NaN where rounding made the sum negative: redone below
    if not np.isfinite(out.max()):
        _noisy_chunk_float64(x, out, uniforms, sigma, signed)


def _noisy_chunk_float64(x, out, uniforms, sigma: float, signed: bool) -> None:
    """The same voxels in float64 with ``hypot`` (for intensities whose float32 squares overflow)."""
    size = x.size
    radius = sigma * np.sqrt(-2.0 * np.log(2.0 - uniforms[:size].astype(np.float64)))
    theta = 2.0 * np.pi * uniforms[size:].astype(np.float64)
    real = x + radius * np.cos(theta)
    out[:] = real if signed else np.hypot(real, radius * np.sin(theta))


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
