"""Spectral artifact indicators, read off in-plane power spectra of the slices.

Spikes, truncation (Gibbs ringing), replicas along the phase-encoding axis (ghosting, undersampling) and motion's loss
of phase-encoding detail are properties of a slice's k-space. Each slice's 2D power spectrum
``P(k0, k1) = |FFT2(I)|^2`` (the half spectrum of ``rfft2``) is computed once (:func:`slice_power`); spike_energy
reads it whole, truncation and pe_detail_loss read its two *line powers*: for in-plane axis ``a``, the energy at each
non-negative frequency of the 1D spectra along ``a``, summed over the lines of the other axis. By Parseval along the other axis,
``sum_lines |rFFT_a(I)|^2 = (1 / N_other) sum_{k_other} P`` (:func:`line_powers`), so no 1D transform is repeated.
With the half spectrum, ``P(k0, -k1) = P(-k0, k1)`` for a real image: the line power along axis 0 at ``k0`` takes
the mirrored columns from row ``-k0``.

The data flow: ``_default_profile`` calls :func:`axial_spectra`, which computes ``slice_power`` once, of the slices
spike_energy reads (:func:`spectrum_slices`), and the line powers of at most :data:`MAX_SLICES` evenly spaced slices
from it; the line powers are then passed on as ``shared``. :func:`pe_correlation` autocorrelates the slices' edge
image instead (its own transforms, on the same sampled slices). The ``*(data)`` functions below work from an array
alone.

All transforms run in float32 on one thread (``scipy.fft``'s default: the engines run one scan per core); sums are
accumulated in float64.
"""

from __future__ import annotations

import math

import numpy as np

# scipy is imported where it is used: ``import mmrqa.metrics`` stays free of it.

#: At most this many evenly spaced slices feed the slice-sampled indicators: they measure a property shared by every
#: slice (thermal noise, the acquired k-space extent, the PE scheme), so a sample keeps them cheap.
MAX_SLICES = 24
#: A k-space point counts as a spike when its energy exceeds this multiple of the geometric mean of its 24
#: neighbours (5x5): |K|^2 of a natural image is ~exponentially distributed around a smooth spectrum, so a 10x
#: excess over the local geometric mean (~5.6x the local mean) happens by chance at < 0.4% of points.
SPIKE_FACTOR = 10.0
#: Spikes are searched outside the central |f| <= 0.04 cycles/voxel, where natural spectra are too steep.
SPIKE_CENTRE = 0.04
#: From this many slices on, spikes are searched in :data:`SPIKE_SLICES` evenly spaced slices (:func:`spectrum_slices`).
SPIKE_SAMPLED_FROM = 96
SPIKE_SLICES = 48
#: A truncation cliff is a drop of at least this many decades between the line energy just below a frequency
#: and every line energy above it.
CLIFF_DECADES = 1.0
#: A cut that keeps less than this fraction of k-space along an axis is no acquisition matrix (a 256-pixel image
#: from a dozen lines), so no cliff is sought among the lowest frequencies: a smooth object's envelope puts nearly
#: all of its energy there, and smooth or resampled slices read 95-99 (ITK's B-spline-warped and scaled proton
#: density slices, dipy's PIESNO EPI, 159 views of dipy's coronal T1). :func:`mmrqa.classifier.relative.cliff_decades`
#: skips the same band.
MIN_KEPT = 0.05
#: Spatial frequencies above this (cycles/voxel) count as fine detail in :func:`pe_detail_loss`: the upper half of the
#: band, where anatomy's edges live and motion's inconsistent k-space segments cancel each other.
DETAIL_FREQUENCY = 0.25


def sample_slices(n: int, limit: int = MAX_SLICES) -> np.ndarray:
    """Indices of at most ``limit`` evenly spaced slices out of ``n`` (all of them when ``n <= limit``)."""
    return np.unique(np.linspace(0, n - 1, min(n, limit)).round().astype(int))


def spectrum_slices(n: int) -> np.ndarray:
    """The slices whose spectrum is computed: all ``n`` below :data:`SPIKE_SAMPLED_FROM`, else
    :data:`SPIKE_SLICES` evenly spaced ones and the :func:`sample_slices` ones (so the line powers of the profile and
    of :func:`truncation` use the same slices).

    So many slices mean a 3D acquisition, whose k-space spike is a 3D sample: a plane wave present in every slice.
    A 2D multi-slice acquisition, whose spike can sit in a single slice, has fewer slices and is read whole.
    """
    if n < SPIKE_SAMPLED_FROM:
        return np.arange(n)
    return np.union1d(sample_slices(n, SPIKE_SLICES), sample_slices(n))


def slice_power(data: np.ndarray) -> np.ndarray:
    """``|rfft2(I)|^2`` over the first two axes of ``data`` (X, Y, slices), per slice: float32 (X, Y//2+1, slices)."""
    from scipy import fft as sfft

    power = np.abs(sfft.rfft2(data.astype(np.float32, copy=False), axes=(0, 1)))
    return np.square(power, out=power)


def line_powers(power: np.ndarray, n1: int) -> tuple[np.ndarray, np.ndarray]:
    """Line powers along in-plane axes 0 and 1 from a half spectrum ``power`` (X, n1//2+1, slices) of width ``n1``.

    Returns float64 arrays (X//2+1, slices) and (n1//2+1, slices): entry ``[k, s]`` is the sum over the lines of the
    other axis of ``|rFFT_axis(I_s)|^2`` at frequency ``k``, the same values as 1D transforms along each axis.
    """
    n0 = power.shape[0]
    along1 = power.sum(axis=0, dtype=np.float64) / n0
    rows = power.sum(axis=1, dtype=np.float64)  # every stored k1 of each k0 row
    mirrored = power[:, 1 : (n1 + 1) // 2].sum(axis=1, dtype=np.float64)  # k1 > 0 below Nyquist: also stand for -k1
    half = np.arange(n0 // 2 + 1)
    along0 = (rows[half] + mirrored[(-half) % n0]) / n1
    return along0, along1


def slab_line_powers(data: np.ndarray, slice_axis: int = 2) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """:func:`line_powers` of at most :data:`MAX_SLICES` evenly spaced slices along ``slice_axis``, with the in-plane
    shape (the two other axes in array order)."""
    picks = sample_slices(data.shape[slice_axis])
    sub = np.moveaxis(np.take(data, picks, axis=slice_axis), slice_axis, 2)
    along0, along1 = line_powers(slice_power(sub), sub.shape[1])
    return along0, along1, (sub.shape[0], sub.shape[1])


def spike_energy_from_power(power: np.ndarray, n1: int) -> float:
    """:func:`spike_energy` from the slices' half power spectra ``power`` (X, n1//2+1, slices)."""
    from scipy import ndimage

    total = float(power.sum(dtype=np.float64))
    if total <= 0:
        return math.nan
    logp = power + np.float32(1e-30) * power.max()
    np.log(logp, out=logp)
    # axis 0 is periodic; axis 1 is the half spectrum of rfft2 (0..Nyquist), whose ends are not neighbours
    box = ndimage.uniform_filter(logp, (5, 5, 1), mode=("wrap", "nearest", "wrap"))  # mean over the 5x5 box
    # log P > (25 box - log P) / 24 + log F, the mean of the 24 neighbours plus log F  <=>  log P - box > 24/25 log F
    spikes = (logp - box) > np.float32(24.0 / 25.0 * math.log(SPIKE_FACTOR))
    f0 = np.abs(np.fft.fftfreq(power.shape[0]))[:, None, None]
    f1 = np.fft.rfftfreq(n1)[None, :, None]
    spikes &= np.maximum(f0, f1) > SPIKE_CENTRE
    centre = logp[spikes].astype(np.float64)
    neighbours = (25.0 * box[spikes].astype(np.float64) - centre) / 24.0  # their mean log power, at the spikes only
    excess = float((power[spikes].astype(np.float64) - np.exp(neighbours)).sum())
    return 100.0 * math.sqrt(max(excess, 0.0) / total)


def spike_energy(data: np.ndarray) -> float:
    """Energy of k-space spikes, percent: 100 sqrt(sum of spike excess energy / total energy). Lower is better.

    A spike is an isolated k-space sample far above its neighbourhood (a herringbone pattern in the image). Per
    slice, P = |FFT2(I)|^2; a point outside the centre (|f| > :data:`SPIKE_CENTRE`) is a spike when
    log P exceeds the mean log P of its 24 neighbours (5x5, periodic) by log :data:`SPIKE_FACTOR`, and contributes
    P - exp(mean log P of neighbours). The result estimates the spike's share of the image energy (the quantity
    that sets its visibility); natural spectra give ~4-6% from chance peaks. Every slice is used below
    :data:`SPIKE_SAMPLED_FROM` slices (a 2D multi-slice acquisition can have its spike in one slice), about
    :data:`SPIKE_SLICES` evenly spaced ones from there on (:func:`spectrum_slices`). (Zhang et al., AJR 2001 on herringbone artifacts; Parseval.)
    """
    return axial_spectra(data)[0]


def axial_spectra(data: np.ndarray) -> tuple[float, tuple[np.ndarray, np.ndarray, tuple[int, int]]]:
    """:func:`spike_energy` and the line powers of the :func:`sample_slices` (``(along0, along1, in-plane shape)``,
    the ``shared`` argument of :func:`pe_detail_loss`), from one :func:`slice_power` of
    the :func:`spectrum_slices` of ``data`` (slices along axis 2)."""
    transformed = spectrum_slices(data.shape[2])
    power = slice_power(data[:, :, transformed])
    picks = np.searchsorted(transformed, sample_slices(data.shape[2]))  # the sampled slices are among them
    lines = line_powers(power[:, :, picks], data.shape[1])
    return spike_energy_from_power(power, data.shape[1]), (*lines, data.shape[:2])


def truncation_cliff(energy: np.ndarray, decades: float = CLIFF_DECADES) -> float:
    """Fraction of the spectrum beyond the innermost truncation cliff of a line-energy profile (0 if none).

    A cliff at frequency k: the mean log10 energy of the (up to 3) frequencies below k exceeds every log10 energy
    from k on by at least ``decades``. Natural spectra decay smoothly (neighbouring lines within a fraction of a
    decade), so only a truncation makes the whole remaining band drop at once. Cliffs are sought where at least
    :data:`MIN_KEPT` of the spectrum lies below them (at most 95% read as cut).
    """
    logs = np.log10(energy + 1e-30 * max(float(energy.max()), 1e-300))
    top = logs.size - 1
    if top < 4:
        return 0.0
    beyond = np.maximum.accumulate(logs[::-1])[::-1]  # max log energy from k to the end
    for k in range(max(2, math.ceil(MIN_KEPT * top + 0.5)), top + 1):
        if beyond[k] < logs[max(1, k - 3) : k].mean() - decades:
            return 1.0 - (k - 0.5) / top
    return 0.0


def truncation_from_lines(along0: np.ndarray, along1: np.ndarray, shape: tuple[int, int]) -> float:
    """:func:`truncation` from the line powers of the sampled slices (:func:`line_powers`) and their in-plane shape."""
    fractions = [
        truncation_cliff(lines.sum(axis=1)) for lines, n in zip((along0, along1), shape, strict=True) if n >= 8
    ]
    return 100.0 * max(fractions) if fractions else math.nan


def padding_box(data: np.ndarray) -> tuple[slice, slice] | None:
    """The in-plane bounding box of the voxels that differ from the image's edge, when every in-plane edge voxel of
    every slice holds one identical value (a zero-padded or masked border); None otherwise.

    Padding is not acquisition: a field of view enlarged with a constant frame makes the object a smaller box in a
    larger one, whose line energy falls by more than a decade over the first few frequencies, and
    :func:`truncation_cliff` would read that fall as a cut at 95-98% of k-space (ITK's ``BrainT1SliceBorder20.png``,
    a clean slice in a 20-pixel zero frame, read 98). A real truncation rings inside the object, so it survives the
    crop; thermal noise in the air never leaves an edge exactly constant, so an acquired field of view is not cut.
    """
    edge = np.concatenate([data[0].ravel(), data[-1].ravel(), data[:, 0].ravel(), data[:, -1].ravel()])
    if edge.size == 0 or not np.all(edge == edge[0]):
        return None
    inside = np.any(data != edge[0], axis=tuple(range(2, data.ndim)))
    if not inside.any():
        return None
    rows, cols = np.flatnonzero(inside.any(axis=1)), np.flatnonzero(inside.any(axis=0))
    return slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1)


def truncation(data: np.ndarray, lines: tuple | None = None) -> float:
    """Gibbs ringing from k-space truncation: percent of the in-plane spectrum that was not acquired. Lower is better.

    A box truncation of k-space (short matrix, zero-filled to the displayed grid) is what rings: it convolves the
    image with a sinc whose side lobes are the Gibbs oscillations, at the truncation frequency (Wood & Henkelman,
    MRM 1985;2:517; Kellner et al., MRM 2016;76:1574-1581). Its signature is a cliff in the line-energy profile along
    each in-plane axis: energy beyond the cut drops by orders of magnitude at once (only the magnitude reconstruction
    leaks a little back). truncation = 100 max over in-plane axes of :func:`truncation_cliff`; 0 on a fully sampled
    scan, ~10 when 90% of k-space was kept, ~50 for half. A scanner's own zero-filling interpolation (e.g. ZIP x2)
    is a real truncation and reads ~50. Computed on at most :data:`MAX_SLICES` evenly spaced slices, inside the
    :func:`padding_box` of a scan framed by a constant border. ``lines``: :func:`slab_line_powers` of ``data`` when
    the caller has them (used unless a frame is cropped).
    """
    box = padding_box(data)
    if box is not None:
        lines = slab_line_powers(data[box])
    return truncation_from_lines(*(lines if lines is not None else slab_line_powers(data)))


def in_plane_axes(pe_axis: int) -> tuple[int, int, int]:
    """(phase-encoding axis, in-plane reference axis, slice axis) for a phase-encoding array axis 0, 1 or 2.

    The reference ("readout") axis is the lower-numbered other axis; the remaining one indexes the slices.
    """
    if pe_axis not in (0, 1, 2):
        raise ValueError(f"phase-encoding axis must be 0, 1 or 2, not {pe_axis!r}")
    ref = 0 if pe_axis != 0 else 1
    return pe_axis, ref, 3 - pe_axis - ref


def pe_lines(data: np.ndarray, pe_axis: int, shared=None) -> tuple[np.ndarray, np.ndarray, int, int]:
    """(PE line power, readout line power, N_PE, N_RO) of the sampled slices across the PE axis.

    ``shared``: the ``(along0, along1, shape)`` of the sampled axial slices (slice axis 2) when the caller has them;
    used when the PE axis is in-plane there (0 or 1).
    """
    pe, ref, slice_axis = in_plane_axes(pe_axis)
    along0, along1, shape = shared if shared is not None and slice_axis == 2 else slab_line_powers(data, slice_axis)
    if pe < ref:
        return along0, along1, shape[0], shape[1]
    return along1, along0, shape[1], shape[0]


def _autocorrelation(lines: np.ndarray, n: int) -> np.ndarray:
    """Normalised circular autocorrelation (lag, slice) from line powers (frequency, slice) of length-``n`` lines.

    r(l) = sum_lines sum_x I(x) I(x + l) / sum I^2, the inverse transform of the line power (Wiener-Khinchin).
    """
    r = np.fft.irfft(lines, n=n, axis=0)
    return r / np.where(r[:1] > 0, r[:1], np.inf)


def edge_image(data: np.ndarray, axes: tuple[int, int]) -> np.ndarray:
    """In-plane gradient magnitude ``|grad I|`` over ``axes`` (central differences, 0 on the border), float32."""
    data = data.astype(np.float32, copy=False)
    squares = np.zeros(data.shape, dtype=np.float32)
    for axis in axes:
        inner = [slice(None)] * data.ndim
        inner[axis] = slice(1, -1)
        ahead, behind = list(inner), list(inner)
        ahead[axis], behind[axis] = slice(2, None), slice(None, -2)
        step = (data[tuple(ahead)] - data[tuple(behind)]) * np.float32(0.5)
        squares[tuple(inner)] += step * step
    return np.sqrt(squares, out=squares)


def pe_correlation(data: np.ndarray, pe_axis: int = 1) -> float:
    """Replicas along the phase-encoding axis: PE minus readout autocorrelation of the edge image, %. Lower is better.

    Ghosting (periodic k-space line errors) and Cartesian undersampling (skipped PE lines, zero-filled) both add
    copies of the object shifted along the PE axis only: ghosts at multiples of N/P, coherent or incoherent aliases
    at N/R (Haacke et al. 1999, ch. 15; Lustig et al., MRM 2007;58:1182). A copy's sign is that of its complex
    weight (a phase error of a quarter of the lines gives one positive and one negative ghost), so the image's own
    autocorrelation can fall as well as rise; its *edges* cannot: with E = |grad I| in-plane, a weak copy of
    coefficient b adds |b| |grad I| shifted, because edges are sparse and rarely overlap their copy. Per slice,
    E minus its mean is autocorrelated along each in-plane axis (circular, normalised at lag 0, Wiener-Khinchin);
    pe_correlation = 100 mean_slices [mean_{l in L_PE} r_PE(l) - mean_{l in L_RO} r_RO(l)], L = lags from
    max(1, N/64) to N/2 on each axis (every distinct lag: ghosts sit anywhere up to N/2). The edge image of a disk
    is isotropic and reads 0; the clean value depends on the object's shape (elongated or striped anatomy reads
    a few points either side), so the measure compares a scan with itself or with scans of the same protocol. On
    at most :data:`MAX_SLICES` evenly spaced slices across the PE axis.
    """
    from scipy import fft as sfft

    pe, ref, slice_axis = in_plane_axes(pe_axis)
    if min(data.shape[pe], data.shape[ref]) < 4:
        return math.nan
    picks = sample_slices(data.shape[slice_axis])
    edges = edge_image(np.take(data, picks, axis=slice_axis), (pe, ref))
    edges -= edges.mean(axis=(pe, ref), keepdims=True, dtype=np.float64).astype(np.float32)
    means = []
    for axis, other in ((pe, ref), (ref, pe)):
        n = data.shape[axis]
        power = np.abs(sfft.rfft(edges, axis=axis))
        lines = np.square(power, out=power).sum(axis=other, dtype=np.float64)  # (frequency, slice), in either order
        lines = lines if axis < slice_axis else lines.T
        means.append(_autocorrelation(lines, n)[max(1, n // 64) : n // 2 + 1].mean(axis=0))
    keep = np.isfinite(means[0]) & np.isfinite(means[1]) & (means[0] != 0)
    return 100.0 * float(np.mean(means[0][keep] - means[1][keep])) if keep.any() else math.nan


def _detail_share(lines: np.ndarray, n: int) -> np.ndarray:
    """Per slice: share of the energy at |f| > :data:`DETAIL_FREQUENCY` in the line power (frequency, slice) of
    length-``n`` lines (Parseval; NaN for an empty slice)."""
    energy = np.array(lines, dtype=np.float64)
    energy[1:] *= 2.0  # the negative frequencies of a real signal
    total = energy.sum(axis=0)
    fine = energy[np.fft.rfftfreq(n) > DETAIL_FREQUENCY].sum(axis=0)
    return np.divide(fine, total, out=np.full_like(total, np.nan), where=total > 0)


def pe_detail_loss(data: np.ndarray, pe_axis: int = 1, shared=None) -> float:
    """Motion's loss of phase-encoding detail: fine-detail energy share, readout over PE. Lower is better.

    Rigid motion between the acquisition of k-space segments gives each segment of PE lines a different pose; the
    segments no longer add up coherently, so the image is blurred and ghosted along the PE axis only, while each
    readout line is acquired in milliseconds and keeps its detail (Zaitsev et al., JMRI 2015;42:887-901). With
    s_axis = share of a slice's energy at |f| > :data:`DETAIL_FREQUENCY` cycles/voxel in its 1D spectra along an
    in-plane axis, pe_detail_loss = mean over slices of s_RO / s_PE: the readout share estimates the anatomy's own
    detail, so the ratio is ~1 for isotropic in-plane detail and rises as motion removes consistent PE detail
    (anisotropic voxels and anatomy set a scan's clean value, 0.7-3 on real scans). The ratio is taken per slice so
    that bright slices do not outweigh the others. On at most :data:`MAX_SLICES` evenly spaced slices. ``shared``:
    see :func:`pe_lines`.
    """
    p_pe, p_ref, n_pe, n_ref = pe_lines(data, pe_axis, shared)
    if min(n_pe, n_ref) < 8:
        return math.nan
    s_pe, s_ref = _detail_share(p_pe, n_pe), _detail_share(p_ref, n_ref)
    keep = np.isfinite(s_pe) & np.isfinite(s_ref) & (s_pe > 0)
    return float(np.mean(s_ref[keep] / s_pe[keep])) if keep.any() else math.nan
