"""The classifier's inputs: scale-free metrics of a scan on a bounded grid, plus per-slice aggregates.

A scan is first brought to the classifier's grid (:func:`decimate`: the stored axis order, so that slices are the
acquisition's, then every k-th voxel per axis so that no side exceeds
``MAX_SIDE``; striding keeps the per-voxel noise of the acquisition, which averaging would hide), then measured with
the default profile of :func:`mmrqa.metrics.compute_metrics`. Features are the per-volume metrics whose value does not
depend on the scanner's arbitrary intensity unit (catalogue unit other than ``a.u.``), three per-slice aggregates that
see an artifact living in a few slices (a spike or a motion event in one slice), whether the scan is 2D, and the
features of :mod:`mmrqa.classifier.relative`, which compare the scan with itself (an artifact's signature over a
reference taken from the same scan) instead of reading an absolute level.

Per-slice aggregates (NaN for a 2D image or fewer than three slices with a foreground):
    slice_mean_jump   max |fg_mean[z+1] - fg_mean[z]| / median fg_mean        (an intensity step between slices)
    slice_air_peak    (max air_mean - median air_mean) / median fg_mean       (air signal in a few slices)
    slice_cv_peak     max(fg_std / fg_mean) / median(fg_std / fg_mean)        (one slice much noisier or striped)

Missing values (NaN: a measure undefined on the scan, e.g. no air) are passed as ``MISSING``, a value below every
real one, so that a tree sends them down their own branch, identically in fitting and in prediction.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from mmrqa.volume import Volume, acquisition_order

#: scans are decimated to at most this many voxels per side before their features are measured (fit and predict)
MAX_SIDE = 128
#: stand-in for an undefined feature (below every real value of every feature)
MISSING = -1.0e9
#: catalogue units that scale with the scanner's arbitrary intensity unit: such metrics are not features
INTENSITY_UNITS = ("a.u.", "a.u.^2")
SLICE_FEATURES = ("slice_mean_jump", "slice_air_peak", "slice_cv_peak")
GEOMETRY_FEATURES = ("is_2d",)


@lru_cache(maxsize=1)
def metric_features() -> tuple[str, ...]:
    """Default-profile metrics whose value does not depend on the intensity scale, sorted by name."""
    from mmrqa.metrics import CATALOGUE

    return tuple(
        sorted(
            name
            for name, info in CATALOGUE.items()
            if getattr(info, "profile", "default") == "default" and info.unit not in INTENSITY_UNITS
        )
    )


def feature_names() -> tuple[str, ...]:
    """Every feature, in the order of :func:`feature_vector`."""
    from mmrqa.classifier.relative import RELATIVE_FEATURES

    return (*metric_features(), *SLICE_FEATURES, *GEOMETRY_FEATURES, *RELATIVE_FEATURES)


def decimate(volume: Volume, max_side: int = MAX_SIDE) -> Volume:
    """The scan on the classifier's grid: its axes in the stored (acquisition) order, slices last
    (:func:`mmrqa.volume.acquisition_order`: the features' in-plane axes must be the acquired plane, whatever the
    plane and the orientation the loader chose), then every k-th voxel per axis so that no side exceeds
    ``max_side``; spacing and affine follow."""
    volume = acquisition_order(volume)
    steps = [max(1, -(-n // max_side)) for n in volume.shape]
    if steps == [1, 1, 1]:
        return volume
    data = np.ascontiguousarray(volume.data[:: steps[0], :: steps[1], :: steps[2]])
    affine = volume.affine.copy()
    affine[:3, :3] = affine[:3, :3] * np.asarray(steps)
    spacing = tuple(float(s * k) for s, k in zip(volume.spacing, steps, strict=True))
    return Volume(data, spacing, affine, dict(volume.meta))


def slice_aggregates(per_slice: dict[str, np.ndarray]) -> dict[str, float]:
    """The per-slice aggregates of the module docstring from a report's ``per_slice`` (fg_mean, fg_std, air_mean)."""
    out = dict.fromkeys(SLICE_FEATURES, math.nan)
    fg_mean = np.asarray(per_slice.get("fg_mean", []), dtype=np.float64)
    fg_std = np.asarray(per_slice.get("fg_std", []), dtype=np.float64)
    air = np.asarray(per_slice.get("air_mean", []), dtype=np.float64)
    keep = np.isfinite(fg_mean) & (fg_mean > 0)
    if keep.sum() < 3:
        return out
    mean, std = fg_mean[keep], fg_std[keep]
    reference = float(np.median(mean))
    out["slice_mean_jump"] = float(np.max(np.abs(np.diff(mean)))) / reference
    air_kept = air[keep]
    air_kept = air_kept[np.isfinite(air_kept)]
    if air_kept.size >= 3:
        out["slice_air_peak"] = float(air_kept.max() - np.median(air_kept)) / reference
    cv = std / mean
    cv_median = float(np.median(cv))
    if cv_median > 0:
        out["slice_cv_peak"] = float(cv.max()) / cv_median
    return out


def features_from_report(report, volume: Volume) -> dict[str, float]:
    """Feature name -> value (NaN when undefined) from a default-profile ``MetricReport`` of ``volume``."""
    values = {name: float(report.values.get(name, math.nan)) for name in metric_features()}
    values.update(slice_aggregates(report.per_slice))
    values["is_2d"] = float(volume.shape[2] == 1)
    from mmrqa.classifier.relative import relative_features

    values.update(relative_features(volume.data))
    return values


def scan_features(volume: Volume, report=None, small: Volume | None = None) -> dict[str, float]:
    """Features of ``volume`` on the classifier's grid (``small``: :func:`decimate` of ``volume`` when the caller has
    it already); ``report`` (its full-size metrics, measured in the same stored axis order) is reused when the scan
    fits the grid without striding."""
    from mmrqa.metrics import compute_metrics

    small = decimate(volume) if small is None else small
    if report is None or small.data.size != volume.data.size:
        report = compute_metrics(small)
    return features_from_report(report, small)


def feature_matrix(rows: list[dict[str, float]], names: tuple[str, ...] | list[str]) -> np.ndarray:
    """(n, d) float64 matrix of ``rows`` in the order of ``names``, undefined values as ``MISSING``."""
    x = np.array([[float(row.get(name, math.nan)) for name in names] for row in rows], dtype=np.float64)
    x = x.reshape(len(rows), len(names))
    x[~np.isfinite(x)] = MISSING
    return x
