"""Signal metrics: ``compute_metrics(volume, profile)`` -> :class:`MetricReport`.

Profiles:
    ``mrqy``: MRQy 0.0.3's columns and values (array as stored, slices along the third axis), see
        :mod:`mmrqa.metrics.mrqy`.
    ``default``: MRQy's well-defined measures on 3D head/air masks, corrected PSNR/EFC/FBER, MRIQC-style
        measures (:mod:`mmrqa.metrics.anatomical`) and one indicator per artifact family
        (:mod:`mmrqa.metrics.indicators`). Every name is described in :data:`CATALOGUE`.
"""

from __future__ import annotations

import math

import numpy as np

from mmrqa.errors import InvalidArgumentError, InvalidScanError
from mmrqa.metrics import anatomical, spectral
from mmrqa.metrics.catalogue import ARTIFACT_INDICATORS, CATALOGUE, MetricInfo
from mmrqa.metrics.context import ZERO_FILLED, geometry
from mmrqa.metrics.masks import bounding_box
from mmrqa.metrics.median import median3x3
from mmrqa.metrics.mrqy import mrqy_profile
from mmrqa.metrics.report import MetricReport
from mmrqa.volume import Volume, acquisition_order

# mmrqa.metrics.indicators (scipy.ndimage, ~0.4 s) is imported where it is used, keeping it off the start-up of the
# ``mrqy`` profile and of every ``import mmrqa.metrics``.

PROFILES = ("default", "mrqy")
#: Largest |intensity| accepted. Real magnitudes are far below (raw scanner units reach ~1e7); float32 sums of
#: squares over a volume overflow (~3.4e38) from ~1e15 on, and histogram ranges near the float32 limit overflow.
MAX_INTENSITY = 1e15

__all__ = ["compute_metrics", "MetricReport", "CATALOGUE", "MetricInfo", "ARTIFACT_INDICATORS", "PROFILES"]


def _describe(volume: Volume) -> str:
    return str(volume.meta.get("source") or volume.meta.get("path") or "volume")


def _validate(volume: Volume) -> None:
    data = volume.data
    name = _describe(volume)
    if data.size == 0:
        raise InvalidScanError(f"{name}: the scan is empty (shape {data.shape})")
    if not np.isfinite(data).all():
        raise InvalidScanError(f"{name}: the scan holds NaN or infinite voxels; metrics need finite intensities")
    peak = float(np.abs(data).max())
    if peak > MAX_INTENSITY:
        raise InvalidScanError(
            f"{name}: intensities reach {peak:.3g}, beyond +/-{MAX_INTENSITY:.0e}: not MR magnitudes (a damaged "
            "scaling such as a huge scl_slope/RescaleSlope?); rescale the scan"
        )
    if float(data.min()) == float(data.max()):
        raise InvalidScanError(f"{name}: the scan is constant ({float(data.min())!r}): no foreground to assess")
    if min(data.shape[:2]) < 8:
        raise InvalidScanError(f"{name}: slices of {data.shape[0]}x{data.shape[1]} are too small to assess")


def compute_metrics(volume: Volume, profile: str = "default") -> MetricReport:
    """Quality metrics of one scan.

    Args:
        volume: the scan; for ``mrqy`` load it with ``load_volume(path, canonical=False)`` as MRQy does. Either
            profile measures it in its stored (acquisition) axis order (:func:`mmrqa.volume.acquisition_order`:
            a reader's RAS+ reorientation is undone), so that the per-slice measures and ``slice_indices`` are the
            acquired slices and the in-plane measures (phase-encoding correlation, truncation, ringing) read the
            acquired plane whatever the plane of the acquisition.
        profile: "default" or "mrqy".

    Raises:
        InvalidArgumentError: unknown profile.
        InvalidScanError: constant, non-finite, too small or foreground-free data.
    """
    if profile not in PROFILES:
        raise InvalidArgumentError(f"unknown metrics profile {profile!r}; choose one of {', '.join(PROFILES)}")
    volume = acquisition_order(volume)
    _validate(volume)
    meta = {"path": _describe(volume), "shape": tuple(volume.shape), "spacing": tuple(volume.spacing)}
    if profile == "mrqy":
        values, per_slice, indices = mrqy_profile(volume)
        if all(math.isnan(values[k]) for k in ("MEAN", "VAR")):
            raise InvalidScanError(f"{_describe(volume)}: no slice after the first has a foreground (MRQy mask)")
        return MetricReport("mrqy", values, per_slice, indices, meta)
    values, per_slice, geo = _default_profile(volume)
    meta["geometry"] = geo.to_dict()  # the mask facts the reference ranges read (mmrqa.metrics.context)
    return MetricReport("default", values, per_slice, np.arange(volume.shape[2]), meta)


def _default_profile(volume: Volume):
    """``(values, per_slice, geometry)`` of the default profile."""
    from mmrqa.metrics import indicators

    data = volume.data
    regions = anatomical.prepare(data)
    # the same array, C-ordered (NIfTI volumes arrive Fortran-ordered): faster for whole-volume masks and filters,
    # while per-slice loops (noise_local, ringing, truncation) keep the slice-contiguous original
    cdata = regions.data
    if regions.head.sum() < 64:
        raise InvalidScanError(f"{_describe(volume)}: no foreground found (head mask of {regions.head.sum()} voxels)")
    head_values, air_values = regions.head_values, regions.air_values
    head_median = regions.stats("head").median
    geo = geometry(cdata, regions.head, air_values, head_median, volume.spacing, regions.stats("air").median)
    local_sigma, local_reference = indicators.local_noise(data, regions.head)
    # In a zero-filled background (a template, a masked or skull-stripped export) the air voxels left non-zero are
    # the mask's fringe (partial volume, interpolation at its edge), not noise: Colin27's fringe read a noise of 17%
    # of the tissue, its object 1%. The noise is then the object's own (noise_local's), as when no air is left.
    zero_filled = geo.air_zero_fraction >= ZERO_FILLED
    sigma = math.nan if zero_filled else indicators.noise_sigma(air_values, regions.stats("air"))
    if math.isnan(sigma):
        sigma = local_sigma
    values: dict[str, float] = {}
    head_stats, air_std = regions.stats("head"), regions.stats("air").std  # float64 moments, computed once
    values["fg_mean"] = head_stats.mean
    values["fg_range"] = float(head_values.max() - head_values.min())
    values["fg_var"] = head_stats.std**2
    values["fg_cv"] = 100.0 * head_stats.std / values["fg_mean"] if values["fg_mean"] else math.nan
    values["snr_fg_bg"] = head_stats.std / air_std if air_std and not math.isnan(air_std) else math.nan
    values["psnr"] = psnr(cdata, regions.head, regions.top)
    values.update(anatomical.anatomical_measures(regions, sigma))
    values["noise_sigma"] = sigma
    values["noise_rel"] = indicators.noise_rel(sigma, head_median)
    values["gsr"] = _ghosting(volume, regions, head_median)
    values["noise_local"] = indicators.noise_rel(local_sigma, local_reference)
    values["spike_energy"], axial = spectral.axial_spectra(cdata)  # one in-plane power spectrum per slice
    values["sharpness"] = indicators.sharpness(cdata, regions.head, head_median)
    values["ringing"] = indicators.ringing(data, regions.head)
    values["truncation"] = spectral.truncation(cdata, axial)  # a constant frame is cropped first (rare)
    bright_mask = regions.head & (
        cdata >= np.min(regions.tissues["bright"]) if regions.tissues["bright"].size else False
    )
    values["inu_range"] = _inu(cdata, bright_mask, volume.spacing)
    values["motion_index"] = indicators.motion_index(air_values, head_median, regions.stats("air"), local_sigma)
    pe_axis = indicators.pe_axis_of(volume.meta.get("phase_encoding_axis"), data.shape)
    values["pe_correlation"] = spectral.pe_correlation(cdata, pe_axis)
    values["pe_detail_loss"] = spectral.pe_detail_loss(cdata, pe_axis, axial)
    values["inu_cv"] = indicators.inu_cv(cdata, regions.head, head_median)
    return values, _default_slices(cdata, regions), geo


PSNR_SLICE_STEP = 2  # PSNR's residual is estimated on every 2nd pair of adjacent slices of the head's slab...
PSNR_SAMPLED_FROM = 96  # ...when the slab holds at least this many slices (a 3D scan; fewer: every slice)


def psnr(data: np.ndarray, head: np.ndarray, peak: float | None = None, step: int = PSNR_SLICE_STEP) -> float:
    """Corrected PSNR: 20 log10(P99.95 / rmse over the head of (I - in-plane 3x3 median(I))), one scale. dB.

    The rmse is estimated on pairs of adjacent slices (along the third axis), one pair in every ``step``: slices
    0, 1, 4, 5, 8, 9, ... of the head's slab for ``step=2`` (``step=1``, or a slab of fewer than
    ``PSNR_SAMPLED_FROM`` slices: every slice). The in-plane residual is a
    per-slice quantity, so an evenly spaced subset of slices samples the head's residual energy, and taking odd
    and even slices alike keeps an interleaved acquisition's (or a staircased edge's) alternation from biasing
    it. The median (exact, :func:`mmrqa.metrics.median.median3x3`) is computed only on the head's bounding box
    with a one-voxel in-plane margin, which holds every window centred on a head voxel.
    """
    box = bounding_box(head)
    if box is None:
        return math.nan
    rows, cols = (slice(max(b.start - 1, 0), b.stop + 1) for b in box[:2])
    zs = np.arange(box[2].start, box[2].stop)
    if zs.size >= PSNR_SAMPLED_FROM:
        zs = zs[(zs - zs[0]) % (2 * step) < 2]
    sub, inside = data[rows, cols][:, :, zs], head[rows, cols][:, :, zs]
    smooth = median3x3(sub)
    residual = sub[inside] - smooth[inside]
    rmse = math.sqrt(float(np.mean(np.square(residual, dtype=np.float64))))
    peak = float(np.percentile(data, 99.95)) if peak is None else peak
    return 20 * math.log10(peak / rmse) if rmse > 0 and peak > 0 else math.nan


INU_GRID_MM = 4.0  # the bias field is estimated on a ~4 mm grid: a fifth of the 20 mm smoothing sigma


def _inu(data: np.ndarray, mask: np.ndarray, spacing) -> float:
    """:func:`indicators.inu_range` on block averages of the masked intensities over a ~4 mm grid.

    The field smoothed with a 20 mm Gaussian has no detail below ~4 mm, so it is estimated on blocks of
    f = round(4 mm / voxel size) voxels per axis (at least 32 blocks per axis kept): the block value is the mean
    of its masked voxels, a block belongs to the mask when at least half its voxels do. Along an axis where f is
    even and at least 4, only every 2nd voxel of a block is read (:func:`indicators.block_sums`: a regular sample
    of the block whose mean estimates the block mean, ~8x fewer voxels on a 1 mm brain). This cuts the cost of the
    two 3D Gaussian filters by ~f^3 (64x on a 1 mm brain).
    """
    from mmrqa.metrics import indicators

    factors = [
        max(1, min(round(INU_GRID_MM / max(s, 1e-3)), n // 32)) for s, n in zip(spacing, data.shape, strict=True)
    ]
    if factors == [1, 1, 1]:
        return indicators.inu_range(data, mask, spacing)
    weight, total = indicators.block_sums(data, mask, factors)
    coarse = (total / np.maximum(weight, 1)).astype(np.float32)
    spacing_ds = tuple(float(s) * f for s, f in zip(spacing, factors, strict=True))
    return indicators.inu_range(coarse, weight >= 0.5 * np.prod(indicators.sampled_per_block(factors)), spacing_ds)


def _ghosting(volume: Volume, regions, ref: float) -> float:
    from mmrqa.metrics import indicators

    axis = volume.meta.get("phase_encoding_axis")
    if axis in (0, 1):
        return indicators.gsr(regions.data, regions.head, regions.air, int(axis), ref)
    air_data = np.where(regions.air, regions.data, 0)  # shared by both axes
    both = [indicators.gsr(regions.data, regions.head, regions.air, a, ref, air_data) for a in (0, 1)]
    finite = [g for g in both if not math.isnan(g)]
    return max(finite) if finite else math.nan


def _default_slices(data: np.ndarray, regions) -> dict[str, np.ndarray]:
    """Per-slice foreground mean/std and air mean (NaN where a slice has no voxel of that region).

    All slices at once, sums accumulated in float64 from float32 terms: std = sqrt(sum over the head of
    (I - mean)^2 / n), the deviations taken from the slice's float64 mean rounded to float32. Only the head's
    bounding box is masked voxel by voxel: every voxel outside it is air, summed directly from the frame around it.
    """
    values = data if data.dtype == np.float32 else data.astype(np.float64)
    nz = values.shape[2]
    box = regions.box if regions.box is not None else (slice(None),) * 3
    sub, head, air = values[box], regions.head[box], regions.air[box]
    fg_mean, fg_std = np.full(nz, np.nan), np.full(nz, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        count = head.sum(axis=(0, 1), dtype=np.float64)
        inside = np.where(head, sub, 0)
        mean = inside.sum(axis=(0, 1), dtype=np.float64) / count
        dev = np.subtract(inside, np.nan_to_num(mean).astype(values.dtype), out=inside, where=head)
        squares = np.square(dev, out=dev).sum(axis=(0, 1), dtype=np.float64)
        fg_mean[box[2]] = np.where(count > 0, mean, np.nan)
        fg_std[box[2]] = np.where(count > 0, np.sqrt(squares / count), np.nan)
        air_sum, air_count = _frame_sums(values, box)
        air_sum[box[2]] += np.where(air, sub, 0).sum(axis=(0, 1), dtype=np.float64)
        air_count[box[2]] += air.sum(axis=(0, 1), dtype=np.float64)
        air_mean = np.where(air_count > 0, air_sum / air_count, np.nan)
    return {"fg_mean": fg_mean, "fg_std": fg_std, "air_mean": air_mean}


def _frame_sums(values: np.ndarray, box: tuple[slice, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Per-slice float64 sum and count of the voxels outside ``box`` (whole slices outside its slice range)."""
    xs, ys, zs = (range(n)[b] for n, b in zip(values.shape, box, strict=True))
    x0, x1, y0, y1 = xs.start, xs.stop, ys.start, ys.stop
    frame = (values[:x0], values[x1:], values[x0:x1, :y0], values[x0:x1, y1:])
    total = sum(part.sum(axis=(0, 1), dtype=np.float64) for part in frame)
    count = np.full(values.shape[2], float(values.shape[0] * values.shape[1] - len(xs) * len(ys)))
    outside = np.ones(values.shape[2], dtype=bool)
    outside[zs.start : zs.stop] = False
    total[outside] += values[x0:x1, y0:y1][:, :, outside].sum(axis=(0, 1), dtype=np.float64)
    count[outside] = values.shape[0] * values.shape[1]
    return total, count
