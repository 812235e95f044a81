"""Features that compare a scan with itself: artifact signatures measured against the same scan's own reference.

The metrics of :mod:`mmrqa.metrics` are mostly absolute levels (an SNR, a CJV, an INU spread) and vary more from one
clean scan to the next (contrast, anatomy, coil, field of view) than between a clean scan and its moderately corrupted
copy. Each feature here reads one physical signature of an artifact and divides it by a reference taken from the
same scan where the artifact cannot be: a neighbouring k-space region, a neighbouring autocorrelation lag, the other
in-plane axis, the local slope of the spectrum. A clean scan reads near the feature's floor whatever its anatomy.

All are computed on the classifier's grid (:func:`mmrqa.classifier.features.decimate`), slices along array axis 2,
from at most :data:`mmrqa.metrics.spectral.MAX_SLICES` evenly spaced slices (the signatures are shared by every
slice of an acquisition), and are axis-agnostic: the phase-encoding axis of a real scan is often unknown, so a
feature takes the stronger of the two in-plane axes or compares them. NaN when undefined (too small an image, no
background).

    spike_peak          spike: isolated k-space outlier over its neighbourhood
    ghost_peak          ghosting: edge autocorrelation at FOV/P shifts over neighbouring shifts
    line_jag_ratio      undersampling: line-to-line jaggedness of the k-space line energy, stronger over weaker axis
    cliff_decades       ringing: abrupt drop of the line-energy spectrum over its local slope
    spectral_tail       blur / noise: high- over mid-frequency power of the scan's own spectrum
    spectral_curvature  blur: Gaussian (downward-curving) decay of the high-frequency spectrum
    hf_noise            noise: noise floor at the highest frequencies relative to the object's signal
    bias_poly_std       bias field: smooth (low-order polynomial) part of the within-object tissue level
    shadow_asymmetry    motion / ghosting: background signal beside the object along one axis over the other
    ghost_exterior      ghosting: correlation of the air outside the object with the image FOV/P away, over other shifts
    air_anisotropy      motion: fine structure in the air outside the object along one in-plane axis over the other
    air_smoothness      blur: correlation of neighbouring voxels' fine-scale residual in the air (white noise: ~0)
    edge_echo           motion: an edge repeated a few voxels away (autocorrelation of the image's derivative)
"""

from __future__ import annotations

import math

import numpy as np

RELATIVE_FEATURES = (
    "spike_peak",
    "ghost_peak",
    "line_jag_ratio",
    "cliff_decades",
    "spectral_tail",
    "spectral_curvature",
    "hf_noise",
    "bias_poly_std",
    "shadow_asymmetry",
    "ghost_exterior",
    "air_anisotropy",
    "air_smoothness",
    "edge_echo",
)
#: spikes are searched outside |f| <= this (cycles/voxel), where natural spectra are too steep
SPIKE_CENTRE = 0.06
#: ghost periods searched (every P-th line: copies at multiples of N/P)
GHOST_PERIODS = (2, 3, 4)
#: neighbouring lags that are the reference of a ghost lag (offsets, voxels)
GHOST_NEIGHBOURS = (-5, -4, -3, 3, 4, 5)
#: frequency bands (cycles/voxel) of the spectral tail: mid and high
MID_BAND = (0.1, 0.2)
HIGH_BAND = (0.35, 0.5)
#: the object of :func:`ghost_exterior`: voxels above this share of the 99th percentile (ghosts stay below it)
EXTERIOR_OBJECT = 0.3
#: ...then closed, hole-filled and dilated by this many voxels; what is left is the exterior (air)
EXTERIOR_MARGIN = 3
#: fewest exterior voxels for :func:`ghost_exterior` to be defined
EXTERIOR_MIN_VOXELS = 50
#: background level added to both shadows' means, relative to the 99th percentile (a zeroed background is not 0/0)
SHADOW_FLOOR = 0.005
#: lags (voxels, largest of the two in-plane offsets) at which :func:`edge_echo` looks for a repeated edge: beyond
#: the few voxels an edge's own profile spans, within the displacements of a head or body that moves
ECHO_LAGS = (3, 16)


def relative_features(data: np.ndarray) -> dict[str, float]:
    """Every feature of the module docstring of a (decimated) volume ``data`` (X, Y, slices)."""
    from mmrqa.metrics.spectral import line_powers, sample_slices, slice_power

    out = dict.fromkeys(RELATIVE_FEATURES, math.nan)
    data = np.asarray(data, dtype=np.float32)
    if min(data.shape[0], data.shape[1]) < 16 or not np.isfinite(data).all() or float(data.max()) <= 0:
        return out
    sub = np.ascontiguousarray(data[:, :, sample_slices(data.shape[2])])
    power = slice_power(sub).astype(np.float64)
    along0, along1 = line_powers(power.astype(np.float32), sub.shape[1])
    out["spike_peak"] = spike_peak(power, sub.shape[1])
    out["ghost_peak"] = ghost_peak(sub)
    out["line_jag_ratio"] = line_jag_ratio(along0, along1)
    out["cliff_decades"] = cliff_decades(along0, along1)
    out["spectral_tail"], out["spectral_curvature"] = spectral_shape(along0, along1, sub.shape[:2])
    out["hf_noise"] = hf_noise(power, sub)
    out["bias_poly_std"] = bias_poly_std(data)
    level = float(np.percentile(sub, 99))  # the object's level, read by the background features
    out["shadow_asymmetry"] = shadow_asymmetry(sub, level)
    air = exterior_air(sub, level)
    out["ghost_exterior"] = ghost_exterior(sub, air)
    out["air_anisotropy"] = air_anisotropy(sub, air, level)
    out["air_smoothness"] = air_smoothness(sub, air)
    out["edge_echo"] = edge_echo(sub)
    return {name: float(value) for name, value in out.items()}


def spike_peak(power: np.ndarray, n1: int) -> float:
    """log10 of the largest k-space outlier: max over k outside the centre of P(k) / median of its 5x5 neighbours.

    P is each slice's half power spectrum (``rfft2``), divided by the slice's total so that bright slices do not
    outweigh the others, averaged over the sampled slices. A spike is one corrupt k-space sample: a plane wave over the
    whole image, i.e. one point of the spectrum far above its neighbours, in every slice of a 3D acquisition. Anatomy's
    spectrum is smooth on the scale of a few samples and its chance peaks (an exponential spread per slice) average
    out over slices, so a clean scan reads ~0.5-1.5 whatever its level; a spike adds its own energy over that of the
    local spectrum, which falls steeply with frequency, hence a large excess outside the centre.
    """
    from scipy import ndimage

    totals = power.sum(axis=(0, 1), keepdims=True)
    mean = (power / np.where(totals > 0, totals, 1.0)).mean(axis=2)
    if mean.shape[0] < 8 or mean.shape[1] < 5:
        return math.nan
    floor = 1e-30 + 1e-12 * float(mean.max())
    padded = np.pad(np.pad(mean, ((2, 2), (0, 0)), mode="wrap"), ((0, 0), (2, 2)), mode="edge")
    neighbours = ndimage.median_filter(padded, size=(5, 5))[2:-2, 2:-2]  # axis 0 periodic, axis 1 the half spectrum
    f0 = np.abs(np.fft.fftfreq(mean.shape[0]))[:, None]
    f1 = np.fft.rfftfreq(n1)[None, :]
    outside = np.maximum(f0, f1) > SPIKE_CENTRE
    ratio = (mean + floor) / (neighbours + floor)
    return float(np.log10(ratio[outside].max())) if outside.any() else math.nan


def ghost_peak(sub: np.ndarray) -> float:
    """Ghost copies: max over in-plane axes and shifts L = m N/P of r(L) - median r(L + d), in % of r(0).

    r is the circular autocorrelation, along one in-plane axis, of the slices' edge image ``|grad I|`` minus its mean
    (Wiener-Khinchin, summed over lines and slices), normalised at lag 0. A periodic error on every P-th k-space line
    adds copies of the object shifted by exactly m N/P along the phase-encoding axis; the copies' edges overlap the
    image's edges at that lag only, a narrow peak. Anatomy's own autocorrelation changes slowly with the lag, so the
    same lag minus its neighbours (d = +-3..5 voxels) is near 0 on a clean scan whatever its shape.
    """
    from scipy import fft as sfft

    from mmrqa.metrics.spectral import edge_image

    edges = edge_image(sub, (0, 1))
    edges -= edges.mean(axis=(0, 1), keepdims=True, dtype=np.float64).astype(np.float32)
    best = -math.inf
    for axis in (0, 1):
        n = sub.shape[axis]
        if n < 24:
            continue
        spectrum = np.abs(sfft.rfft(edges, axis=axis)) ** 2
        lines = spectrum.sum(axis=(1 - axis, 2), dtype=np.float64)
        r = np.fft.irfft(lines, n=n)
        if r[0] <= 0:
            continue
        r = r / r[0]
        for period in GHOST_PERIODS:
            for m in range(1, period):
                lag = m * n / period
                at = max(r[int(math.floor(lag)) % n], r[int(math.ceil(lag)) % n])
                reference = np.median([r[int(round(lag + d)) % n] for d in GHOST_NEIGHBOURS])
                best = max(best, at - reference)
    return 100.0 * best if math.isfinite(best) else math.nan


def _high_band(lines: np.ndarray) -> np.ndarray:
    """log10 line energy (summed over slices) at frequencies from a tenth of Nyquist up, NaN-free."""
    energy = np.asarray(lines, dtype=np.float64).sum(axis=1)
    energy = energy + 1e-30 + 1e-15 * float(energy.max())
    return np.log10(energy)


def line_jag_ratio(along0: np.ndarray, along1: np.ndarray) -> float:
    """Skipped k-space lines: line-to-line jaggedness of the line energy, stronger axis over weaker axis.

    jag_a = median over frequencies above a tenth of Nyquist of |log10 E(k) - (log10 E(k-1) + log10 E(k+1)) / 2|,
    E(k) the energy of the k-th line along in-plane axis a (summed over the other axis and the slices). Natural
    spectra and noise are smooth from one line to the next; an undersampled acquisition zero-fills missing
    phase-encoding lines (the magnitude image keeps about a quarter of a line whose mirror was acquired, nothing when
    both were skipped) and a periodic line error modulates every P-th line, along the PE axis only. The readout
    axis of the same scan is the reference: a clean scan reads ~1.
    """
    jags = []
    for lines in (along0, along1):
        logs = _high_band(lines)
        n = logs.size
        if n < 12:
            return math.nan
        inner = np.arange(max(1, n // 10), n - 1)
        jags.append(float(np.median(np.abs(logs[inner] - 0.5 * (logs[inner - 1] + logs[inner + 1])))))
    low = min(jags)
    return max(jags) / low if low > 0 else math.nan


def cliff_decades(along0: np.ndarray, along1: np.ndarray) -> float:
    """Abrupt truncation of the spectrum: max over axes and frequencies of D(k) - (D(k-4) + D(k+4)) / 2, decades.

    D(k) = mean log10 E over the 3 lines below k minus that over the 3 lines above k: the drop across frequency k.
    A natural spectrum (a power law, or a Gaussian after blurring) drops by a slowly changing amount per line, so D
    minus its neighbours' D is near 0; a box truncation of k-space (Gibbs ringing) makes the whole band beyond the cut
    drop at once, a step of one to several decades (only the magnitude reconstruction leaks a little back).
    """
    best = -math.inf
    for lines in (along0, along1):
        logs = _high_band(lines)
        n = logs.size
        if n < 16:
            continue
        cumulative = np.concatenate([[0.0], np.cumsum(logs)])
        ks = np.arange(3, n - 3)
        below = (cumulative[ks] - cumulative[ks - 3]) / 3.0
        above = (cumulative[ks + 4] - cumulative[ks + 1]) / 3.0
        drop = np.full(n, np.nan)
        drop[ks] = below - above
        for k in range(max(7, n // 20), n - 7):
            best = max(best, drop[k] - 0.5 * (drop[k - 4] + drop[k + 4]))
    return float(best) if math.isfinite(best) else math.nan


def spectral_shape(along0: np.ndarray, along1: np.ndarray, shape: tuple[int, int]) -> tuple[float, float]:
    """(tail, curvature) of the scan's own spectrum along its in-plane axes (mean of the two).

    tail = mean log10 E over :data:`HIGH_BAND` minus that over :data:`MID_BAND` (cycles/voxel): the high
    frequencies relative to the scan's own mid frequencies (anatomy's edges), not an absolute level. Blur lowers the
    high band by decades (a Gaussian PSF), added noise lifts it towards the flat noise floor. curvature = the
    quadratic coefficient of a fit of log10 E on f over 0.1-0.5 cycles/voxel: a Gaussian PSF multiplies the spectrum
    by exp(-c f^2), a downward curvature, whereas anatomy (a power law) and noise (flat) curve upwards or not at all.
    """
    tails, curves = [], []
    for lines, n in zip((along0, along1), shape, strict=True):
        logs = _high_band(lines)
        f = np.fft.rfftfreq(n)[: logs.size]
        mid = (f >= MID_BAND[0]) & (f < MID_BAND[1])
        high = (f >= HIGH_BAND[0]) & (f <= HIGH_BAND[1])
        fit = (f >= 0.1) & (f <= 0.5)
        if mid.sum() < 2 or high.sum() < 2 or fit.sum() < 6:
            continue
        tails.append(float(logs[high].mean() - logs[mid].mean()))
        curves.append(float(np.polyfit(f[fit], logs[fit], 2)[0]))
    if not tails:
        return math.nan, math.nan
    return float(np.mean(tails)), float(np.mean(curves))


def hf_noise(power: np.ndarray, sub: np.ndarray) -> float:
    """Noise floor relative to the object: sqrt(mean power in the k-space corner / voxels) / mean foreground level.

    White noise of standard deviation sigma has a flat spectrum, E|FFT2|^2 = sigma^2 x voxels per slice, while
    anatomy's power falls by orders of magnitude towards the corner of k-space (|f| > 0.35 cycles/voxel on both
    axes). The corner power therefore estimates sigma (an upper bound where fine anatomy remains) without needing a
    background, and dividing by the foreground mean (voxels above the slice mean) gives ~1/SNR. Blur removes the
    floor along with the detail; added noise lifts it.
    """
    f0 = np.abs(np.fft.fftfreq(power.shape[0]))
    f1 = np.fft.rfftfreq(sub.shape[1])
    corner = (f0[:, None] > 0.35) & (f1[None, :] > 0.35)
    if corner.sum() < 4:
        return math.nan
    voxels = sub.shape[0] * sub.shape[1]
    sigma = math.sqrt(float(power[corner].mean()) / voxels)
    foreground = sub[sub > sub.mean(dtype=np.float64)]
    level = float(foreground.mean()) if foreground.size else 0.0
    return 100.0 * sigma / level if level > 0 else math.nan


def bias_poly_std(data: np.ndarray) -> float:
    """Smooth within-object intensity variation: std of a quadratic fit to the blocks' tissue level (log), x 100.

    The object (voxels above the volume's mean) is cut into blocks of about an eighth of each side; the tissue level
    of a block is the 75th percentile of the log intensity of its object voxels (blocks at least half object). A
    bias field multiplies the image by a smooth field, i.e. adds a smooth function to the log tissue level of every
    block; anatomy changes the level from one block to the next (tissue classes, edges) but not as a low-order trend
    across the field of view. A least-squares quadratic in the block centres (3D, or 2D for a slice), refitted once
    without the blocks farthest from it, captures the trend and ignores most of the anatomy; its standard deviation
    over the blocks estimates the std of log b.
    """
    mask = data > data.mean(dtype=np.float64)
    steps = [max(2, n // 8) if n >= 8 else n for n in data.shape]
    centres, levels = [], []
    for i in range(0, data.shape[0] - steps[0] + 1, steps[0]):
        for j in range(0, data.shape[1] - steps[1] + 1, steps[1]):
            for k in range(0, data.shape[2] - steps[2] + 1, steps[2]):
                block = data[i : i + steps[0], j : j + steps[1], k : k + steps[2]]
                inside = mask[i : i + steps[0], j : j + steps[1], k : k + steps[2]]
                if inside.mean() < 0.5:
                    continue
                levels.append(math.log(max(float(np.percentile(block[inside], 75)), 1e-12)))
                centres.append(
                    [
                        (i + steps[0] / 2) / data.shape[0],
                        (j + steps[1] / 2) / data.shape[1],
                        (k + steps[2] / 2) / data.shape[2],
                    ]
                )
    if len(levels) < 12:
        return math.nan
    u = 2.0 * np.asarray(centres) - 1.0
    y = np.asarray(levels)
    axes = [a for a in range(3) if np.ptp(u[:, a]) > 0]
    columns = [np.ones(len(y))]
    for a in axes:
        columns.append(u[:, a])
    for p, a in enumerate(axes):
        for b in axes[p:]:
            columns.append(u[:, a] * u[:, b])
    design = np.stack(columns, axis=1)
    if len(y) < 2 * design.shape[1]:
        return math.nan
    keep = np.ones(len(y), dtype=bool)
    for _ in range(2):
        coef = np.linalg.lstsq(design[keep], y[keep], rcond=None)[0]
        residual = np.abs(y - design @ coef)
        keep = residual <= np.percentile(residual, 80)
    fitted = design @ coef
    return 100.0 * float(np.std(fitted))


def shadow_asymmetry(sub: np.ndarray, level: float) -> float:
    """Signal in the background beside the object along one in-plane axis over that along the other: |log ratio|.

    The object is the voxels above 10% of the 99th percentile, dilated by 3 voxels; its *shadow* along axis a is every
    voxel whose line along a crosses the object. Motion, ghosting and aliasing spread copies of the object along the
    phase-encoding axis only, into the background of that axis' shadow; the background in the other axis' shadow
    holds only noise. On a clean scan both backgrounds hold the same noise and the ratio is ~1 (0 after the log);
    whichever axis is the phase-encoding one, the absolute log ratio rises. Both means get :data:`SHADOW_FLOOR` of the
    99th percentile added, so a zeroed background (masked, or rounded to integers) reads 0 rather than a ratio of
    two vanishing numbers. NaN without 50 background voxels in each
    shadow (an object filling the field of view). ``level``: the 99th percentile of ``sub``.
    """
    from scipy import ndimage

    if level <= 0:
        return math.nan
    obj = ndimage.binary_dilation(sub > 0.1 * level, structure=np.ones((7, 7, 1), dtype=bool))
    shadow0 = np.broadcast_to(obj.any(axis=0, keepdims=True), sub.shape)
    shadow1 = np.broadcast_to(obj.any(axis=1, keepdims=True), sub.shape)
    only0 = shadow0 & ~shadow1 & ~obj
    only1 = shadow1 & ~shadow0 & ~obj
    if only0.sum() < 50 or only1.sum() < 50:
        return math.nan
    floor = SHADOW_FLOOR * level  # a zeroed (masked or rounded) background reads as this, not as 0
    m0, m1 = float(sub[only0].mean()) + floor, float(sub[only1].mean()) + floor
    return abs(math.log(m0 / m1))


def exterior_air(sub: np.ndarray, level: float) -> np.ndarray | None:
    """The air outside the object, None without :data:`EXTERIOR_MIN_VOXELS` of it: the object is the voxels above
    :data:`EXTERIOR_OBJECT` of ``level`` (the 99th percentile of ``sub``), closed, holes filled per slice and dilated
    by :data:`EXTERIOR_MARGIN`; the air is everything else."""
    from scipy import ndimage

    if level <= 0:
        return None
    # closing and dilation by in-plane boxes as separable max/min filters (the binary operations with a zero border)
    above = (sub > EXTERIOR_OBJECT * level).view(np.uint8)
    closed = ndimage.minimum_filter(
        ndimage.maximum_filter(above, (5, 5, 1), mode="constant"), (5, 5, 1), mode="constant"
    )
    obj = closed.astype(bool)
    for z in range(obj.shape[2]):
        obj[:, :, z] = ndimage.binary_fill_holes(obj[:, :, z])
    size = 2 * EXTERIOR_MARGIN + 1
    air = ndimage.maximum_filter(obj.view(np.uint8), (size, size, 1), mode="constant") == 0
    return air if int(air.sum()) >= EXTERIOR_MIN_VOXELS else None


def ghost_exterior(sub: np.ndarray, air: np.ndarray | None) -> float:
    """Ghost copies in the air: max over in-plane axes and shifts L = m N/P of c(L) - median c(other shifts).

    c(L) is the correlation, over the air voxels x (:func:`exterior_air`), between I(x) and I(x + L) along one
    in-plane axis (circular, as the ghosts of a DFT reconstruction are). A periodic error on every P-th phase-encoding line adds copies of the object shifted by m N/P;
    inside the object a small ghost is in quadrature with the object and hardly changes the magnitude, but in the air it
    *is* the signal, a faint copy of the anatomy N/P away, so the exterior correlates with the image at that shift and at
    no other. On a clean scan the air holds noise, uncorrelated with the image at any shift beyond a few voxels, and
    the other shifts (more than 2 voxels from every ghost shift) are the scan's own reference for what structure in its
    air (other anatomy, a coil, a zeroed background) gives. NaN without air (``air`` None: an object filling the field
    of view) or without variation in it.

    Measured on the views of the table's 25 scans (2026-12-07, before adding it): at moderate ghosting the paired AUC (each
    variant against its own clean view) is 0.84 and the unpaired AUC (against every clean view) 0.81, where
    ``ghost_peak`` gives 0.73 / 0.66; it is defined on 80% of the clean views.
    """
    if air is None:
        return math.nan
    count = int(air.sum())
    image = sub.astype(np.float64)
    centred = np.where(air, image - image[air].mean(), 0.0)
    spread = math.sqrt(float((centred**2).sum()))
    if spread <= 0:
        return math.nan
    mask = air.astype(np.float64)
    best = -math.inf
    for axis in (0, 1):
        n = sub.shape[axis]
        if n < 24:
            continue
        # sums over the exterior x of f(x) g(x + L) for every L at once: cross-correlations along ``axis``
        lagged, total, squares = _cross_correlations((centred, mask, mask), (image, image, image * image), axis)
        variance = np.maximum(squares - total * total / count, 0.0)
        c = np.where(variance > 0, lagged / (spread * np.sqrt(np.maximum(variance, 1e-300))), 0.0)
        ghost = {int(f(m * n / p)) % n for p in GHOST_PERIODS for m in range(1, p) for f in (math.floor, math.ceil)}
        others = [lag for lag in range(3, n - 2) if min(min(abs(lag - g), n - abs(lag - g)) for g in ghost) > 2]
        if not others:
            continue
        best = max(best, max(c[g] for g in ghost) - float(np.median(c[others])))
    return float(best) if math.isfinite(best) else math.nan


def air_anisotropy(sub: np.ndarray, air: np.ndarray | None, level: float) -> float:
    """Streaks in the air along one axis: |log| of the air's fine-scale energy along axis 0 over that along axis 1.

    The fine-scale part along axis a is I minus I smoothed along a alone (Gaussian, sigma 1 voxel); its mean square
    is taken over the air voxels (:func:`exterior_air`) at least 2 voxels from the border, plus a floor of
    (0.1% of ``level``, the 99th percentile)^2 so that a zeroed background reads 0 rather than a ratio of two vanishing numbers.
    Rigid motion during a Cartesian acquisition leaves the k-space lines acquired after the movement inconsistent
    with the centre of k-space along the phase-encoding axis only: the misregistered edges ring out into the air as
    streaks that vary along that axis. The air of a clean scan holds white noise, the same along both axes, so the
    ratio is ~1 (0 after the log) whichever axis is the phase-encoding one. Ghost copies, by contrast, carry the
    object's own edges, in every direction.

    Measured on the views of the table's 25 scans (2026-12-07, before adding it): at moderate motion the paired AUC is 0.77
    and the unpaired 0.75 (severe 0.80 / 0.79), defined on 74% of the clean views, where ``shadow_asymmetry`` is
    defined on 28%.
    """
    from scipy import ndimage

    if air is None:
        return math.nan
    inner = air.copy()
    inner[:2] = inner[-2:] = False
    inner[:, :2] = inner[:, -2:] = False
    if int(inner.sum()) < EXTERIOR_MIN_VOXELS:
        return math.nan
    image = sub.astype(np.float64)
    floor = (1e-3 * level) ** 2
    energy = []
    for axis in (0, 1):
        fine = image - ndimage.gaussian_filter1d(image, 1.0, axis=axis)
        energy.append(float((fine[inner] ** 2).mean()) + floor)
    return abs(math.log(energy[0] / energy[1]))


def air_smoothness(sub: np.ndarray, air: np.ndarray | None) -> float:
    """Blurred noise: correlation of neighbouring voxels' fine-scale residual in the air, mean of the in-plane axes.

    The residual is I minus I smoothed in-plane (Gaussian, sigma 3 voxels); along each in-plane axis a, the
    correlation is taken over the pairs of neighbouring voxels (x, x + e_a) that are both air (:func:`exterior_air`).
    Thermal noise is white in an acquired image: neighbouring voxels' noise is uncorrelated (interpolation or
    zero-filling raise it part way, which the clean training scans cover). A point-spread function wider than a voxel
    (k-space filtering, T2 decay along the echo train, a blur) smooths the noise with the anatomy, so neighbours
    become alike and the correlation approaches 1; unlike the spectral tail, it keeps rising when the blur has removed
    every detail of the anatomy. NaN without air or without variation in it (a zeroed background).

    Measured on the views of the table's 25 scans (2026-12-07, before adding it): at severe blur the paired AUC is 0.99 and
    the unpaired 0.93, where ``spectral_tail`` gives 0.59 / 0.70 (moderate: 0.95 / 0.77 against 0.89 / 0.85).
    """
    from scipy import ndimage

    if air is None:
        return math.nan
    image = sub.astype(np.float64)
    residual = image - ndimage.gaussian_filter(image, (3.0, 3.0, 0.0))
    correlations = []
    for axis in (0, 1):
        pairs = air & np.roll(air, -1, axis=axis)
        pairs[(slice(None),) * axis + (-1,)] = False  # no pair across the border
        if int(pairs.sum()) < EXTERIOR_MIN_VOXELS:
            return math.nan
        x = residual[pairs]
        y = np.roll(residual, -1, axis=axis)[pairs]
        x, y = x - x.mean(), y - y.mean()
        spread = math.sqrt(float((x * x).sum()) * float((y * y).sum()))
        if spread <= 0:
            return math.nan
        correlations.append(float((x * y).sum()) / spread)
    return float(np.mean(correlations))


def _cross_correlations(fs: tuple, gs: tuple, axis: int) -> list[np.ndarray]:
    """For each pair (f, g): sum over every voxel x of f(x) g(x + L e_axis), for each circular shift L (summed over
    the other axes), by real FFTs along ``axis``, each distinct array transformed once."""
    from scipy import fft as sfft

    n = fs[0].shape[axis]
    others = tuple(a for a in range(fs[0].ndim) if a != axis)
    spectra: dict[int, np.ndarray] = {}

    def spectrum(a: np.ndarray) -> np.ndarray:
        if id(a) not in spectra:
            spectra[id(a)] = sfft.rfft(a, axis=axis)
        return spectra[id(a)]

    return [
        sfft.irfft((np.conj(spectrum(f)) * spectrum(g)).sum(axis=others), n=n) for f, g in zip(fs, gs, strict=True)
    ]


def edge_echo(sub: np.ndarray) -> float:
    """Edges repeated or smeared a few voxels away: the largest |correlation| of the image's derivative with itself
    shifted by 3-16 voxels in-plane.

    For each in-plane axis a, g_a is the difference of neighbouring voxels along a (the edges across a), minus its
    per-slice mean; its autocorrelation over the sampled slices (linear, through a zero-padded FFT) is divided by
    its value at zero shift, and the largest absolute value at offsets whose larger component lies in
    :data:`ECHO_LAGS` is kept, the larger of the two axes. A subject that moves between phase-encoding lines leaves
    each later segment of k-space with the object in another pose (Zaitsev et al., JMRI 2015;42:887-901): the image
    holds the high-frequency part of the object displaced by the movement, its edges repeated a few voxels away,
    and the inconsistent outer lines partly cancel, smearing edges along the phase-encoding axis; both make the
    derivative correlate with itself beyond an edge's width. White noise does not correlate at these shifts at
    all; on a clean scan the value comes from edges long and straight enough to correlate along themselves. A
    wider point-spread (blur, interpolation) and ringing lift it too, which the blur and ringing features tell
    apart. 0 to 1; NaN below 8 voxels per side.

    Measured before adding it, on views 0-3 of the 22 training scans (clean against moderate/severe variants, not
    paired): AUC 0.88 for motion, where ``air_anisotropy`` reads 0.78 (defined on 81% of the clean views) and
    ``shadow_asymmetry`` 0.82 (on 32%); offsets along the derivative's own axis only read 0.77.
    """
    from scipy import fft as sfft

    n0, n1 = sub.shape[:2]
    reach = min(ECHO_LAGS[1], n0 // 2, n1 // 2)
    if reach <= ECHO_LAGS[0]:
        return math.nan
    offset0, offset1 = np.meshgrid(np.arange(-reach, reach + 1), np.arange(-reach, reach + 1), indexing="ij")
    searched = np.maximum(np.abs(offset0), np.abs(offset1)) >= ECHO_LAGS[0]
    padded = (2 * n0, 2 * n1)  # zero padding: the correlation of the image, not of its periodic repetition
    image = sub.astype(np.float64)
    best = math.nan
    for axis in (0, 1):
        edges = np.diff(image, axis=axis)
        edges -= edges.mean(axis=(0, 1), keepdims=True)
        power = np.abs(sfft.rfft2(edges, s=padded, axes=(0, 1))) ** 2
        correlation = sfft.irfft2(power, s=padded, axes=(0, 1)).sum(axis=2)
        if not correlation[0, 0] > 0:
            continue  # no edge along this axis (a constant image)
        shifted = np.roll(correlation / correlation[0, 0], (reach, reach), axis=(0, 1))  # zero shift at [reach, reach]
        window = shifted[: 2 * reach + 1, : 2 * reach + 1]  # shifts -reach..reach along both axes
        value = float(np.abs(window[searched]).max())
        best = value if math.isnan(best) else max(best, value)
    return best
