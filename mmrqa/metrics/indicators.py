"""Artifact indicators: one measure per artifact family, each computed from the prepared head/air regions.

Every function is pure (arrays in, float out). Intensities are divided by the head's median where a measure must
not depend on the scanner's arbitrary scale. See :data:`mmrqa.metrics.catalogue.ARTIFACT_INDICATORS`.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from mmrqa.metrics.masks import erode

IMMERKAER = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float64)


def noise_sigma(air: np.ndarray) -> float:
    """Rician noise sigma from air magnitudes: sqrt(mean(air^2) / 2).

    With no signal the magnitude of complex Gaussian noise (sigma per channel) is Rayleigh and E[M^2] = 2 sigma^2,
    so this estimator is unbiased in pure air (Gudbjartsson & Patz, MRM 1995;34:910-914). Exactly-zero voxels
    (masked or zero-filled backgrounds) carry no noise and are left out; NaN when fewer than 100 remain.
    """
    n = int(np.count_nonzero(air))  # zeros add nothing to the sum of squares: no copy of the non-zero voxels
    if n < 100:
        return math.nan
    return math.sqrt(float(np.sum(np.square(air, dtype=np.float64))) / n / 2.0)


def immerkaer_sigma(data: np.ndarray) -> float:
    """Gaussian noise sigma by Immerkaer's method: sqrt(pi/2) / (6 (W-2)(H-2)) * sum |I * N| per slice.

    N is the difference of two Laplacians, blind to planar intensity (Immerkaer, CVIU 1996;64:300-302); the
    mean over slices is returned. Used when the background is zero-filled.
    """
    sigmas = []
    for z in range(data.shape[2]):
        img = data[:, :, z].astype(np.float64)
        if min(img.shape) < 3 or not img.any():
            continue
        resp = ndimage.convolve(img, IMMERKAER, mode="reflect")[1:-1, 1:-1]
        sigmas.append(math.sqrt(math.pi / 2) * np.abs(resp).sum() / (6 * resp.size))
    return float(np.mean(sigmas)) if sigmas else math.nan


def noise_rel(sigma: float, head_median: float) -> float:
    """Noise level in percent of the head's median intensity. Lower is better."""
    return 100.0 * sigma / head_median if head_median > 0 else math.nan


def gsr(data: np.ndarray, head: np.ndarray, air: np.ndarray, axis: int, ref: float | None = None) -> float:
    """Ghost-to-signal ratio along in-plane ``axis`` (the phase-encoding axis), in percent. Lower is better.

    Ghosts are copies of the object shifted along the phase-encoding direction, so they fall in the air that
    lies in line with the object along that axis (the object's extent on the other in-plane axis). GSR =
    100 (mean(air in line) - mean(air off line)) / median(head), per MRIQC's ``gsr_x``/``gsr_y`` idea. ``ref``:
    the head median when the caller has it. Computed from line sums along ``axis`` (no 3D in-line mask).
    """
    extent = head.any(axis=axis)  # object footprint projected along the PE axis: (other in-plane axis, slice)
    line_sum = np.where(air, data, 0).sum(axis=axis, dtype=np.float64)
    line_count = air.sum(axis=axis, dtype=np.int64)
    n_in, n_off = int(line_count[extent].sum()), int(line_count[~extent].sum())
    if n_in < 50 or n_off < 50:
        return math.nan
    ref = float(np.median(data[head])) if ref is None else ref
    mean_in, mean_off = float(line_sum[extent].sum()) / n_in, float(line_sum[~extent].sum()) / n_off
    return 100.0 * (mean_in - mean_off) / ref if ref > 0 else math.nan


def _in_plane(data: np.ndarray, weights: list[float], axis: int) -> np.ndarray:
    return ndimage.correlate1d(data, weights, axis=axis, mode="nearest")


def sharpness(data: np.ndarray, head: np.ndarray, ref: float | None = None) -> float:
    """Mean in-plane gradient magnitude inside the head over the head's median (Sobel). Higher is sharper.

    Blur and low-pass filtering remove the high spatial frequencies that carry edges, lowering it (Tenengrad
    focus measure, Krotkov 1987). Replaces MRQy's CPP, whose zero-sum kernel averages to ~0. The 3x3 Sobel
    kernels act within each slice (derivative [-1, 0, 1] along one in-plane axis, smoothing [1, 2, 1] along the
    other, gain 8 for a unit ramp) on at most :data:`MAX_SLICES` evenly spaced slices: a loss of resolution
    is shared by the slices. ``ref``: the head median when the caller has it.
    """
    ref = (float(np.median(data[head])) if head.any() else 0.0) if ref is None else ref
    picks = sample_slices(data.shape[2])
    sub, inside = data[:, :, picks].astype(np.float32), head[:, :, picks]
    if ref <= 0 or not inside.any():
        return math.nan
    gx = _in_plane(_in_plane(sub, [-1.0, 0.0, 1.0], 0), [1.0, 2.0, 1.0], 1)
    gy = _in_plane(_in_plane(sub, [-1.0, 0.0, 1.0], 1), [1.0, 2.0, 1.0], 0)
    grad = np.hypot(gx[inside], gy[inside]) / 8.0
    return float(grad.mean(dtype=np.float64)) / ref


def ringing(data: np.ndarray, head: np.ndarray) -> float:
    """Gibbs ringing: in-plane Laplacian energy in a band 2-5 voxels inside strong edges over that of the core.

    Truncating k-space (a sinc kernel) leaves oscillations parallel to strong edges that decay over a few
    voxels. Their second derivative is concentrated next to the edges; the ratio to the same energy deep
    inside the object (> 8 voxels from an edge) cancels the noise level. Lower is better. The distance to the
    edge is the in-plane chessboard distance (box erosions, the array border counting as outside); computed
    on at most :data:`MAX_SLICES` evenly spaced slices.
    """
    picks = sample_slices(data.shape[2])
    sub, inside = data[:, :, picks].astype(np.float64), head[:, :, picks]
    lap = _in_plane(sub, [1.0, -2.0, 1.0], 0) + _in_plane(sub, [1.0, -2.0, 1.0], 1)
    depth = [inside]  # depth[k]: at least k + 1 voxels (chessboard) from the outside
    for _ in range(8):
        depth.append(erode(erode(depth[-1], 1, axes=(0,)), 1, axes=(1,)))
    band = depth[1] & ~depth[5]
    core = depth[8]
    if band.sum() < 50 or core.sum() < 50:
        return math.nan
    return float(np.mean(lap[band] ** 2) / np.mean(lap[core] ** 2))


def inu_range(data: np.ndarray, tissue_mask: np.ndarray, spacing: tuple[float, float, float]) -> float:
    """Intensity non-uniformity: (P95 - P5) / median of the bright class after heavy smoothing. Lower is better.

    A bias field is a smooth multiplicative field; smoothing the bright-class intensities with a 20 mm Gaussian
    (normalised convolution, so the mask edge does not darken) keeps it and averages noise and anatomy away.
    MRIQC reports the N4 field's range; this is a registration- and N4-free proxy.
    """
    if tissue_mask.sum() < 100:
        return math.nan
    sigma = [20.0 / max(s, 1e-3) for s in spacing]
    sigma = [min(s, n / 4) for s, n in zip(sigma, data.shape, strict=True)]
    weights = ndimage.gaussian_filter(tissue_mask.astype(np.float32), sigma, mode="constant")
    field = ndimage.gaussian_filter(np.where(tissue_mask, data, 0).astype(np.float32), sigma, mode="constant")
    smooth = field[tissue_mask] / np.maximum(weights[tissue_mask], 1e-6)
    p5, p50, p95 = np.percentile(smooth, [5, 50, 95])
    return float((p95 - p5) / p50) if p50 > 0 else math.nan


def motion_index(air: np.ndarray, head_median: float, air_stats=None) -> float:
    """Excess air signal over the Rician noise floor, in percent of the head median. Lower is better.

    Pure noise in air has mean sigma sqrt(pi/2) (Rayleigh); motion during acquisition smears the object along
    the phase-encoding direction into the air, raising its mean above that floor. sigma is taken from the air's
    median (robust to the smeared tail), and the excess of the air's mean over sigma sqrt(pi/2) is reported.
    ``air_stats``: :func:`mmrqa.metrics.anatomical.describe` of ``air`` when the caller has it (used only when the
    air holds no exact zeros, which are left out).
    """
    if air_stats is not None and air_stats.n == air.size and air.size >= 100 and np.all(air != 0):
        air_median, air_mean = air_stats.median, air_stats.mean
    else:
        air = air[air != 0]
        if air.size < 100:
            return math.nan
        air_median, air_mean = float(np.median(air)), float(air.mean())
    if not head_median > 0:
        return math.nan
    robust_sigma = air_median / math.sqrt(2 * math.log(2))  # Rayleigh median = sigma sqrt(2 ln 2)
    floor = robust_sigma * math.sqrt(math.pi / 2)
    return 100.0 * (air_mean - floor) / head_median


#: At most this many evenly spaced slices feed the slice-sampled indicators (noise_local, truncation): both measure a
#: property shared by every slice (thermal noise, the acquired k-space extent), so a sample keeps them cheap.
MAX_SLICES = 24
#: Immerkaer's kernel has sum of squares 36, so its response to white Gaussian noise of sigma has std 6 sigma, and
#: the median of |response| is 6 sigma Phi^-1(3/4) = 6 x 0.6744898 sigma.
IMMERKAER_MEDIAN = 6.0 * 0.6744898
#: A k-space point counts as a spike when its energy exceeds this multiple of the geometric mean of its 24
#: neighbours (5x5): |K|^2 of a natural image is ~exponentially distributed around a smooth spectrum, so a 10x
#: excess over the local geometric mean (~5.6x the local mean) happens by chance at < 0.4% of points.
SPIKE_FACTOR = 10.0
#: Spikes are searched outside the central |f| <= 0.04 cycles/voxel, where natural spectra are too steep.
SPIKE_CENTRE = 0.04
#: A truncation cliff is a drop of at least this many decades between the line energy just below a frequency
#: and every line energy above it.
CLIFF_DECADES = 1.0


def sample_slices(n: int, limit: int = MAX_SLICES) -> np.ndarray:
    """Indices of at most ``limit`` evenly spaced slices out of ``n`` (all of them when ``n <= limit``)."""
    return np.unique(np.linspace(0, n - 1, min(n, limit)).round().astype(int))


def noise_local(data: np.ndarray, head: np.ndarray) -> float:
    """Local noise level in the head, percent of the head median (Immerkaer, robust form). Lower is better.

    sigma = median_head |I * N| / (6 Phi^-1(3/4)) with Immerkaer's kernel N = [[1,-2,1],[-2,4,-2],[1,-2,1]], the
    difference of two Laplacians: blind to intensity planes, so smooth anatomy barely contributes, and its response to
    white noise of sigma has std 6 sigma (Immerkaer, CVIU 1996;64:300-302). The median instead of the mean keeps
    edges out. Needs no air at all (a T1 cropped to the head works), unlike :func:`noise_sigma`; in bright tissue
    Rician noise is close to Gaussian. Texture raises the clean value a little (1-3% on real scans). Computed on
    at most :data:`MAX_SLICES` evenly spaced slices (thermal noise is the same in every slice).
    """
    picks = sample_slices(data.shape[2])
    responses = []
    for z in picks:
        mask = head[1:-1, 1:-1, z]
        if mask.any():
            img = data[:, :, z].astype(np.float64)
            resp = ndimage.correlate(img, IMMERKAER, mode="reflect")[1:-1, 1:-1]
            responses.append(np.abs(resp[mask]))
    values = data[:, :, picks][head[:, :, picks]]
    ref = float(np.median(values)) if values.size else 0.0
    if not responses or ref <= 0:
        return math.nan
    sigma = float(np.median(np.concatenate(responses))) / IMMERKAER_MEDIAN
    return 100.0 * sigma / ref


def spike_energy(data: np.ndarray) -> float:
    """Energy of k-space spikes, percent: 100 sqrt(sum of spike excess energy / total energy). Lower is better.

    A spike is an isolated k-space sample far above its neighbourhood (a herringbone pattern in the image). Per
    slice, P = |FFT2(I)|^2; a point outside the centre (|f| > :data:`SPIKE_CENTRE`) is a spike when
    log P exceeds the mean log P of its 24 neighbours (5x5, periodic) by log :data:`SPIKE_FACTOR`, and contributes
    P - exp(mean log P of neighbours). The result estimates the spike's share of the image energy (the quantity
    that sets its visibility); natural spectra give ~4-6% from chance peaks. Every slice is used: a 2D multi-slice
    acquisition has its spike in one slice. (Zhang et al., AJR 2001 on herringbone artifacts; Parseval.)
    """
    from scipy import fft as sfft

    k = sfft.rfft2(data.astype(np.float32, copy=False), axes=(0, 1), workers=-1)
    power = np.square(k.real) + np.square(k.imag)  # float32
    total = float(power.sum(dtype=np.float64))
    if total <= 0:
        return math.nan
    logp = np.log(power + np.float32(1e-30) * power.max())
    # axis 0 is periodic; axis 1 is the half spectrum of rfft2 (0..Nyquist), whose ends are not neighbours
    ref = ndimage.uniform_filter(logp, (5, 5, 1), mode=("wrap", "nearest", "wrap"))
    ref = (ref * np.float32(25.0) - logp) / np.float32(24.0)
    f0 = np.abs(np.fft.fftfreq(data.shape[0]))[:, None, None]
    f1 = np.fft.rfftfreq(data.shape[1])[None, :, None]
    outer = np.maximum(f0, f1) > SPIKE_CENTRE
    spikes = outer & (logp > ref + np.float32(math.log(SPIKE_FACTOR)))
    excess = float((power[spikes].astype(np.float64) - np.exp(ref[spikes].astype(np.float64))).sum())
    return 100.0 * math.sqrt(max(excess, 0.0) / total)


def line_energy(data: np.ndarray, axis: int) -> np.ndarray:
    """Energy of each non-negative frequency along ``axis``: sum over the other axes of |rFFT_axis(I)|^2."""
    from scipy import fft as sfft

    k = sfft.rfft(data.astype(np.float32), axis=axis, workers=-1)
    return (np.abs(k).astype(np.float64) ** 2).sum(axis=tuple(a for a in range(3) if a != axis))


def truncation_cliff(energy: np.ndarray, decades: float = CLIFF_DECADES) -> float:
    """Fraction of the spectrum beyond the innermost truncation cliff of a line-energy profile (0 if none).

    A cliff at frequency k: the mean log10 energy of the (up to 3) frequencies below k exceeds every log10 energy
    from k on by at least ``decades``. Natural spectra decay smoothly (neighbouring lines within a fraction of a
    decade), so only a truncation makes the whole remaining band drop at once.
    """
    logs = np.log10(energy + 1e-30 * max(float(energy.max()), 1e-300))
    top = logs.size - 1
    if top < 4:
        return 0.0
    beyond = np.maximum.accumulate(logs[::-1])[::-1]  # max log energy from k to the end
    for k in range(2, top + 1):
        if beyond[k] < logs[max(1, k - 3) : k].mean() - decades:
            return 1.0 - (k - 0.5) / top
    return 0.0


def truncation(data: np.ndarray) -> float:
    """Gibbs ringing from k-space truncation: percent of the in-plane spectrum that was not acquired. Lower is better.

    A box truncation of k-space (short matrix, zero-filled to the displayed grid) is what rings: it convolves the
    image with a sinc whose side lobes are the Gibbs oscillations, at the truncation frequency (Wood & Henkelman,
    MRM 1985;2:517; Kellner et al., MRM 2016;76:1574-1581). Its signature is a cliff in the line-energy profile along
    each in-plane axis: energy beyond the cut drops by orders of magnitude at once (only the magnitude reconstruction
    leaks a little back). truncation = 100 max over in-plane axes of :func:`truncation_cliff`; 0 on a fully sampled
    scan, ~10 when 90% of k-space was kept, ~50 for half. A scanner's own zero-filling interpolation (e.g. ZIP x2)
    is a real truncation and reads ~50. Computed on at most :data:`MAX_SLICES` evenly spaced slices.
    """
    sub = data[:, :, sample_slices(data.shape[2])]
    fractions = [truncation_cliff(line_energy(sub, axis)) for axis in (0, 1) if sub.shape[axis] >= 8]
    return 100.0 * max(fractions) if fractions else math.nan


#: The phase-encoding array axis assumed when the header gives none (as the artifact simulator assumes).
DEFAULT_PE_AXIS = 1


def pe_axis_of(recorded, shape: tuple[int, ...]) -> int:
    """The phase-encoding array axis: ``recorded`` (``meta["phase_encoding_axis"]``) when it is 0, 1 or 2 and not a
    singleton axis of ``shape``, else :data:`DEFAULT_PE_AXIS`."""
    try:
        axis = int(recorded)
    except (TypeError, ValueError):
        return DEFAULT_PE_AXIS
    return axis if axis in (0, 1, 2) and shape[axis] > 1 else DEFAULT_PE_AXIS


def in_plane_axes(pe_axis: int) -> tuple[int, int, int]:
    """(phase-encoding axis, in-plane reference axis, slice axis) for a phase-encoding array axis 0, 1 or 2.

    The reference ("readout") axis is the lower-numbered other axis; the remaining one indexes the slices.
    """
    if pe_axis not in (0, 1, 2):
        raise ValueError(f"phase-encoding axis must be 0, 1 or 2, not {pe_axis!r}")
    ref = 0 if pe_axis != 0 else 1
    return pe_axis, ref, 3 - pe_axis - ref


def _slab(data: np.ndarray, slice_axis: int) -> np.ndarray:
    """At most :data:`MAX_SLICES` evenly spaced slices along ``slice_axis``, float32, as (a, b, slices)."""
    picks = sample_slices(data.shape[slice_axis])
    return np.moveaxis(np.take(data, picks, axis=slice_axis), slice_axis, 2).astype(np.float32)


def _autocorrelation(sub: np.ndarray, axis: int) -> np.ndarray:
    """Normalised circular autocorrelation along ``axis`` of each slice of ``sub`` (a, b, slices): (lag, slice).

    r(l) = sum_lines sum_x I(x) I(x + l) / sum I^2, from the power spectrum along ``axis`` only (Wiener-Khinchin).
    """
    from scipy import fft as sfft

    n = sub.shape[axis]
    k = sfft.rfft(sub, axis=axis, workers=-1)
    r = sfft.irfft(np.square(k.real) + np.square(k.imag), n=n, axis=axis, workers=-1).sum(
        axis=1 - axis, dtype=np.float64
    )
    return r / np.where(r[:1] > 0, r[:1], np.inf)


#: :func:`pe_correlation` averages lags up to N / this. Chosen on the indicator test (10 scan-seed pairs each of
#: ghosting / undersampling monotonic with severity): N/4 9/10 and 9/10, N/2 7/10 and 9/10, N/3 7 and 9, N/5 8 and 8,
#: N/8 7 and 7: the best of the ranges tried, not a plateau.
MAX_LAG_DIVISOR = 4


def pe_correlation(data: np.ndarray, pe_axis: int = 1) -> float:
    """Replicas along the phase-encoding axis: PE minus readout image autocorrelation, percent. Lower is better.

    Ghosting (periodic k-space line errors) and Cartesian undersampling (skipped PE lines, zero-filled) both add
    copies of the object shifted along the PE axis only: ghosts at multiples of N/P, coherent or incoherent aliases
    at N/R (Haacke et al. 1999, ch. 15; Lustig et al., MRM 2007;58:1182). Such a copy raises the image's
    autocorrelation at its shift along PE and not along the in-plane readout axis, whereas anatomy is roughly
    isotropic. Per slice, r_PE(l) and r_RO(l) are the normalised circular autocorrelations along each in-plane axis
    (:func:`_autocorrelation`); pe_correlation = 100 mean_slices [mean_{l in L_PE} r_PE(l) - mean_{l in L_RO}
    r_RO(l)] with L = lags from max(1, N/64) to N/:data:`MAX_LAG_DIVISOR` on each axis (the tiny lags, where every
    image correlates with itself, are left out; beyond N/4 the object's overlap with its own circular wrap-around
    dominates). The clean value depends on the object's shape (a head elongated along PE reads
    positive), so the measure compares a scan with itself or with scans of the same protocol. On at most
    :data:`MAX_SLICES` evenly spaced slices (~50 ms on a 197x233x189 volume).
    """
    pe, ref, slice_axis = in_plane_axes(pe_axis)
    sub = _slab(data, slice_axis)  # (pe or ref, the other, slices) in array order of the two in-plane axes
    axes = {pe: 0 if pe < ref else 1, ref: 0 if ref < pe else 1}
    means = []
    for axis in (pe, ref):
        a = axes[axis]
        n = sub.shape[a]
        if n < 4:
            return math.nan
        r = _autocorrelation(sub, a)[max(1, n // 64) : n // MAX_LAG_DIVISOR + 1]
        means.append(r.mean(axis=0))
    keep = np.isfinite(means[0]) & np.isfinite(means[1]) & (means[0] != 0)
    return 100.0 * float(np.mean(means[0][keep] - means[1][keep])) if keep.any() else math.nan


#: Spatial frequencies above this (cycles/voxel) count as fine detail in :func:`pe_detail_loss`: the upper half of the
#: band, where anatomy's edges live and motion's inconsistent k-space segments cancel each other.
DETAIL_FREQUENCY = 0.25


def _detail_share(sub: np.ndarray, axis: int) -> np.ndarray:
    """Per slice of ``sub`` (a, b, slices): share of the energy at |f| > :data:`DETAIL_FREQUENCY` in the 1D spectra
    along in-plane ``axis`` (Parseval; NaN for an empty slice)."""
    from scipy import fft as sfft

    k = sfft.rfft(sub, axis=axis, workers=-1)
    energy = (np.square(k.real) + np.square(k.imag)).sum(axis=1 - axis, dtype=np.float64)  # (frequency, slice)
    energy[1:] *= 2.0  # the negative frequencies of a real signal
    total = energy.sum(axis=0)
    fine = energy[np.fft.rfftfreq(sub.shape[axis]) > DETAIL_FREQUENCY].sum(axis=0)
    return np.divide(fine, total, out=np.full_like(total, np.nan), where=total > 0)


def pe_detail_loss(data: np.ndarray, pe_axis: int = 1) -> float:
    """Motion's loss of phase-encoding detail: fine-detail energy share along readout over that along PE. Lower is better.

    Rigid motion between the acquisition of k-space segments gives each segment of PE lines a different pose; the
    segments no longer add up coherently, so the image is blurred and ghosted along the PE axis only, while each
    readout line is acquired in milliseconds and keeps its detail (Zaitsev et al., JMRI 2015;42:887-901). With
    s_axis = share of a slice's energy at |f| > :data:`DETAIL_FREQUENCY` cycles/voxel in its 1D spectra along an
    in-plane axis, pe_detail_loss = mean over slices of s_RO / s_PE: the readout share estimates the anatomy's own
    detail, so the ratio is ~1 for isotropic in-plane detail and rises as motion removes consistent PE detail
    (anisotropic voxels and anatomy set a scan's clean value, 0.7-3 on real scans). The ratio is taken per slice so
    that bright slices do not outweigh the others. On at most :data:`MAX_SLICES` evenly spaced slices (~40 ms on
    197x233x189).
    """
    pe, ref, slice_axis = in_plane_axes(pe_axis)
    sub = _slab(data, slice_axis)
    a_pe, a_ref = (0, 1) if pe < ref else (1, 0)
    if min(sub.shape[0], sub.shape[1]) < 8:
        return math.nan
    s_pe, s_ref = _detail_share(sub, a_pe), _detail_share(sub, a_ref)
    keep = np.isfinite(s_pe) & np.isfinite(s_ref) & (s_pe > 0)
    return float(np.mean(s_ref[keep] / s_pe[keep])) if keep.any() else math.nan


#: Gaussian sigma of :func:`inu_cv` as a fraction of each axis' extent: the field of a coil or of B1 varies over
#: the whole field of view, anatomy over a few voxels.
INU_SIGMA_FRACTION = 1.0 / 8.0
#: :func:`inu_cv` smooths block means on a grid of at most this many blocks per axis (the smoothed field has no
#: detail finer than a fraction of its sigma, N/8).
INU_BLOCKS = 48


def inu_cv(data: np.ndarray, head: np.ndarray, ref: float | None = None) -> float:
    """Intensity non-uniformity: coefficient of variation of the heavily smoothed head image. Lower is better.

    A bias field b(x) (B1 transmit/receive inhomogeneity) multiplies the image by a smooth factor (Sled et al., IEEE
    TMI 1998;17:87-97). The head intensities divided by their median are smoothed with a Gaussian of sigma = N/8
    voxels per axis (axes under 9 voxels are not smoothed) by normalised convolution, G*(I m) / G*m with m the head
    mask, so the head's edge does not darken; this keeps b and averages anatomy and noise away. inu_cv =
    std / mean of the smoothed image over the head. To keep it cheap, I m and m are first averaged over blocks
    (at most :data:`INU_BLOCKS` per axis) and the filter acts on the block grid, cells weighted by their head
    voxels. ``ref``: the head median when the caller has it (~60 ms on 197x233x189 with it). A clean scan keeps the anatomy's slow variation (0.05-0.15 on real scans).
    Near the head's edge the normalised convolution averages the field over the inner side only, so a linear field
    over a disk of radius ~3 sigma reads ~80% of its true CV (tested).
    """
    if head.sum() < 100:
        return math.nan
    median = float(np.median(data[head])) if ref is None else ref
    if not median > 0:
        return math.nan
    factors = [max(1, -(-n // INU_BLOCKS)) for n in data.shape]
    shape = [n // f for n, f in zip(data.shape, factors, strict=True)]
    crop = tuple(slice(0, n * f) for n, f in zip(shape, factors, strict=True))
    blocks = (shape[0], factors[0], shape[1], factors[1], shape[2], factors[2])
    mask = head[crop]
    weight = mask.reshape(blocks).sum(axis=(1, 3, 5), dtype=np.float64)
    total = np.where(mask, data[crop], 0).reshape(blocks).sum(axis=(1, 3, 5), dtype=np.float64) / median
    sigma = [INU_SIGMA_FRACTION * n / f if n > 8 else 0.0 for n, f in zip(data.shape, factors, strict=True)]
    smooth_weight = ndimage.gaussian_filter(weight, sigma, mode="constant")
    field = ndimage.gaussian_filter(total, sigma, mode="constant")
    inside = weight > 0
    values = field[inside] / np.maximum(smooth_weight[inside], 1e-12)
    w = weight[inside]
    mean = float(np.average(values, weights=w))
    std = math.sqrt(float(np.average((values - mean) ** 2, weights=w)))
    return std / mean if mean > 0 else math.nan
