"""Rendering slices of a volume as 8-bit images: slice choice, robust windowing, display orientation, montages.

Planes of a RAS+ volume (the orientation :func:`mmrqa.io.load_volume` returns by default): ``axial`` slices are
``data[:, :, k]`` (array axis 2, inferior -> superior), ``coronal`` ``data[:, j, :]`` (axis 1, posterior ->
anterior), ``sagittal`` ``data[i, :, :]`` (axis 0, left -> right).

Display orientation. In the ``neurological`` convention (default, as nilearn and the 2D image reader of
:mod:`mmrqa.io.image2d`) the two in-plane world axes grow to the right and upwards: an axial slice shows the
patient's right on the right and anterior at the top, a coronal slice right on the right and superior at the top,
a sagittal slice anterior on the right and superior at the top. The ``radiological`` convention (as PACS viewers)
mirrors left and right on axial and coronal slices (the patient's right on the viewer's left, as when facing the
patient). Data that is not RAS+ (``canonical=False``) is drawn with the same array-axis rules.

Windowing. Intensities are mapped linearly from ``[p0.5, p99.5]`` of the volume's *foreground* voxels to
``[0, 255]`` and clipped: a few very bright voxels (vessels, fat, spikes) cannot wash out the image and the
background does not pull the lower bound to zero. The foreground is the set of voxels above Otsu's threshold
(Otsu, IEEE Trans. SMC 9(1), 1979), computed once per volume so that every slice of a volume shares one window.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np
from PIL import Image

from mmrqa.errors import InvalidArgumentError, InvalidScanError
from mmrqa.volume import Volume

logger = logging.getLogger(__name__)

#: plane name -> array axis of a RAS+ volume along which the slices are taken.
PLANES: dict[str, int] = {"axial": 2, "coronal": 1, "sagittal": 0}
CONVENTIONS = ("neurological", "radiological")
#: percentiles of the foreground intensities mapped to black and white.
WINDOW_PERCENTILES = (0.5, 99.5)
#: default minimum fraction of a slice's pixels that must be foreground for the slice to be informative.
MIN_FOREGROUND = 0.05


def _source(volume: Volume) -> str:
    return str(volume.meta.get("source", "volume"))


def _check_plane(plane: str) -> int:
    if plane not in PLANES:
        raise InvalidArgumentError(f"unknown plane {plane!r}: expected one of {', '.join(PLANES)}")
    return PLANES[plane]


def otsu_threshold(values: np.ndarray, bins: int = 256, clip_percentile: float = 99.9) -> float:
    """Otsu's threshold: the histogram split that maximises the between-class variance
    ``w0 * w1 * (mu0 - mu1)^2`` of the two classes below and above it (Otsu 1979).

    The histogram spans ``[min, p99.9]`` (values above are counted in the top bin): one extreme voxel (a spike,
    a hot pixel) would otherwise squeeze all tissue into the first bin and break the threshold.
    """
    values = np.asarray(values, dtype=np.float64).ravel()
    lo, hi = float(values.min()), float(np.percentile(values, clip_percentile))
    if hi <= lo:
        hi = float(values.max())
    if hi <= lo:
        return lo
    counts, edges = np.histogram(np.minimum(values, hi), bins=bins, range=(lo, hi))
    centers = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(counts)
    w1 = w0[-1] - w0
    m0 = np.cumsum(counts * centers)
    with np.errstate(divide="ignore", invalid="ignore"):
        mu0 = m0 / w0
        mu1 = (m0[-1] - m0) / w1
        between = w0 * w1 * (mu0 - mu1) ** 2
    between = np.nan_to_num(between[:-1], nan=-1.0)
    best = np.flatnonzero(between >= between.max() * (1 - 1e-12))  # a plateau when the classes are far apart:
    return float(edges[int(round((best[0] + best[-1]) / 2)) + 1])  # cut in its middle, not at its edge


def foreground_mask(volume: Volume) -> np.ndarray:
    """Voxels above Otsu's threshold of the volume (the imaged object, roughly; no morphology)."""
    data = volume.data
    if not np.isfinite(data).all():
        raise InvalidScanError(f"{_source(volume)}: the volume holds NaN or infinite values")
    if float(data.max()) <= float(data.min()):
        raise InvalidScanError(f"{_source(volume)}: the volume is constant ({float(data.min())}), nothing to render")
    return data > otsu_threshold(data)


def window_levels(volume: Volume, percentiles: tuple[float, float] = WINDOW_PERCENTILES) -> tuple[float, float]:
    """Intensities ``(low, high)`` of the given percentiles of the volume's foreground voxels (see module doc)."""
    values = volume.data[foreground_mask(volume)]
    low, high = (float(v) for v in np.percentile(values, percentiles))
    if high <= low:  # a nearly binary object: fall back to the whole volume's range
        low, high = float(volume.data.min()), float(volume.data.max())
    return low, high


def pick_slices(volume: Volume, n: int, plane: str = "axial", *, min_foreground: float = MIN_FOREGROUND) -> list[int]:
    """Indices of ``n`` informative slices, spread evenly over the extent of the object.

    A slice is informative when at least ``min_foreground`` of its pixels are foreground (above the volume's
    Otsu threshold): empty slices at the ends of the field of view are skipped. Among the informative slices the
    indices at quantiles ``(i + 1) / (n + 1)``, ``i = 0..n-1`` are returned (sorted, distinct), so that one slice
    falls at the middle and none at the very first or last informative slice, where partial volume is worst.
    Fewer than ``n`` are returned when fewer slices are informative.

    Raises:
        InvalidArgumentError: ``n < 1``, an unknown plane, or ``min_foreground`` outside [0, 1).
        InvalidScanError: no slice of the volume is informative (blank or constant volume).
    """
    axis = _check_plane(plane)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InvalidArgumentError(f"the number of slices must be a positive integer, got {n!r}")
    if not 0.0 <= min_foreground < 1.0:
        raise InvalidArgumentError(f"min_foreground must lie in [0, 1), got {min_foreground!r}")
    mask = foreground_mask(volume)
    other = tuple(a for a in range(3) if a != axis)
    fraction = mask.mean(axis=other)
    informative = np.flatnonzero(fraction >= max(min_foreground, 1e-12))
    if informative.size == 0:
        raise InvalidScanError(
            f"{_source(volume)}: no {plane} slice has {min_foreground:.0%} foreground pixels; the scan looks empty"
        )
    if informative.size <= n:
        return [int(i) for i in informative]
    positions = np.round((np.arange(1, n + 1) / (n + 1)) * (informative.size - 1)).astype(int)
    return sorted({int(informative[p]) for p in positions})


def slice_array(volume: Volume, index: int, plane: str = "axial", convention: str = "neurological") -> np.ndarray:
    """The 2D array of a slice in display order: rows top -> bottom, columns left -> right (see module doc)."""
    axis = _check_plane(plane)
    if convention not in CONVENTIONS:
        raise InvalidArgumentError(f"unknown display convention {convention!r}: expected one of {CONVENTIONS}")
    size = volume.shape[axis]
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not -size <= index < size:
        raise InvalidArgumentError(f"{plane} slice index {index!r} is out of range for {size} slices")
    plane_xy = np.take(volume.data, int(index), axis=axis)  # (first in-plane axis, second in-plane axis)
    display = plane_xy.T[::-1, :]  # first axis to the right, second upwards
    if convention == "radiological" and plane != "sagittal":
        display = display[:, ::-1]
    return np.ascontiguousarray(display)


def _pixel_size(volume: Volume, plane: str) -> tuple[float, float]:
    """(width, height) in mm of one displayed pixel."""
    first, second = (a for a in range(3) if a != PLANES[plane])
    return volume.spacing[first], volume.spacing[second]


def render_slice(
    volume: Volume,
    index: int,
    plane: str = "axial",
    *,
    window: tuple[float, float] | None = None,
    convention: str = "neurological",
    respect_spacing: bool = True,
) -> Image.Image:
    """One slice as an 8-bit grayscale (mode ``L``) PIL image.

    Args:
        volume: the scan (RAS+ for the anatomical orientation described in the module doc).
        index: slice index along the plane's array axis (negative counts from the end).
        plane: ``axial``, ``coronal`` or ``sagittal``.
        window: intensities mapped to 0 and 255; by default :func:`window_levels` of the volume. Pass the same
            window to compare slices (or an artifact-corrupted copy against the clean scan) on one scale.
        convention: ``neurological`` or ``radiological`` left-right display.
        respect_spacing: stretch the shorter-sampled axis (bilinear) so that a pixel is square in mm.

    Returns:
        The slice, ``round(255 * clip((v - low) / (high - low), 0, 1))`` per pixel.
    """
    display = slice_array(volume, index, plane, convention)
    low, high = window if window is not None else window_levels(volume)
    if not high > low:
        raise InvalidArgumentError(f"window must satisfy low < high, got ({low}, {high})")
    scaled = np.clip((display.astype(np.float64) - low) / (high - low), 0.0, 1.0)
    image = Image.fromarray(np.round(scaled * 255.0).astype(np.uint8), mode="L")
    if respect_spacing:
        width_mm, height_mm = _pixel_size(volume, plane)
        if not math.isclose(width_mm, height_mm, rel_tol=1e-3):
            finest = min(width_mm, height_mm)
            size = (round(image.width * width_mm / finest), round(image.height * height_mm / finest))
            image = image.resize(size, Image.Resampling.BILINEAR)
    return image


def render_slices(
    volume: Volume, n: int, plane: str = "axial", *, min_foreground: float = MIN_FOREGROUND, **kwargs
) -> tuple[list[int], list[Image.Image]]:
    """:func:`pick_slices` then :func:`render_slice` of each, sharing one window (computed once)."""
    indices = pick_slices(volume, n, plane, min_foreground=min_foreground)
    window = kwargs.pop("window", None) or window_levels(volume)
    return indices, [render_slice(volume, i, plane, window=window, **kwargs) for i in indices]


def montage(
    images: Sequence[Image.Image], cols: int | None = None, *, pad: int = 2, background: int = 0
) -> Image.Image:
    """Tile images (converted to ``L``) in a grid of ``cols`` columns (default: as square as possible).

    Every cell has the size of the largest image; smaller images are centred in their cell; ``pad`` pixels of
    ``background`` separate the cells and frame the grid.
    """
    if len(images) == 0:
        raise InvalidArgumentError("montage needs at least one image")
    cols = cols if cols is not None else math.ceil(math.sqrt(len(images)))
    if cols < 1:
        raise InvalidArgumentError(f"montage columns must be >= 1, got {cols}")
    if pad < 0:
        raise InvalidArgumentError(f"montage padding must be >= 0, got {pad}")
    rows = math.ceil(len(images) / cols)
    cell_w = max(im.width for im in images)
    cell_h = max(im.height for im in images)
    sheet = Image.new("L", (cols * cell_w + (cols + 1) * pad, rows * cell_h + (rows + 1) * pad), background)
    for k, image in enumerate(images):
        row, col = divmod(k, cols)
        x = pad + col * (cell_w + pad) + (cell_w - image.width) // 2
        y = pad + row * (cell_h + pad) + (cell_h - image.height) // 2
        sheet.paste(image.convert("L"), (x, y))
    return sheet
