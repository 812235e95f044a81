"""The pictures of a scan page: slice mosaics of the three planes, a contrast-stretched background view, a thumbnail.

All of them are :mod:`mmrqa.render` slices (robust windowing, neurological display), shrunk to at most ``CELL``
pixels a side and stored as JPEG (``QUALITY``): a 1,000-scan report stays within tens of MiB.

The **background view** follows MRIQC's individual report: the window goes from the volume's minimum to a few times
the median of the *background* voxels (those below Otsu's threshold, see :func:`background_window`), so the noise
floor fills the grey scale and the head saturates to white. Rician noise shows as an even grain, ghosts as copies of the head along the
phase-encoding axis, wrap-around as anatomy folded in from the opposite edge, spikes as stripes; a background that
is exactly constant (zero-filled, skull-stripped, a template) shows as black and is said so in words. Its slices
are spread over the whole field of view, empty end slices included, since that is where ghosts and wrap live.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from mmrqa.errors import MMRQAError
from mmrqa.render import PLANES, montage, otsu_threshold, render_slice, render_slices, window_levels
from mmrqa.volume import Volume

#: largest side, in pixels, of one slice in a mosaic.
CELL = 128
#: largest side of a thumbnail.
THUMB = 80
#: JPEG quality of every picture.
QUALITY = 72
#: slices per plane in the anatomy mosaic and in the background view.
MOSAIC_SLICES = 6
BACKGROUND_SLICES = 4
#: the background view's white is this many times the background's median above the minimum...
BACKGROUND_MEDIANS = 3.0
#: ...but at most this percentile of the background voxels.
BACKGROUND_PERCENTILE = 99.0


def jpeg(image: Image.Image, quality: int = QUALITY) -> bytes:
    """The image as JPEG bytes (greyscale, optimised Huffman tables)."""
    buffer = io.BytesIO()
    image.convert("L").save(buffer, format="JPEG", quality=quality, optimize=True)
    return buffer.getvalue()


def shrink(image: Image.Image, side: int) -> Image.Image:
    """``image`` scaled down (never up) so that its longer side is at most ``side`` pixels."""
    scale = side / max(image.size)
    if scale >= 1:
        return image
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)


def planes_of(volume: Volume) -> list[str]:
    """The planes worth showing: those whose slices are 2D images (a single 2D image has only ``axial``)."""
    return [p for p, axis in PLANES.items() if all(volume.shape[a] > 1 for a in range(3) if a != axis)]


def plane_mosaics(
    volume: Volume, window: tuple[float, float] | None = None
) -> tuple[dict[str, Image.Image], Image.Image]:
    """(one row of ``MOSAIC_SLICES`` informative slices per plane (see :func:`planes_of`), sharing one window; the
    thumbnail: the middle axial slice, at most ``THUMB`` pixels a side)."""
    window = window or window_levels(volume)
    out, thumb = {}, None
    for plane in planes_of(volume):
        min_fg = 0.0 if volume.shape[PLANES[plane]] == 1 else 0.05
        try:
            _indices, images = render_slices(volume, MOSAIC_SLICES, plane, window=window, min_foreground=min_fg)
        except MMRQAError:
            continue
        out[plane] = montage([shrink(im, CELL) for im in images], cols=len(images))
        if plane == "axial":
            thumb = shrink(images[len(images) // 2], THUMB)
    if thumb is None:
        thumb = shrink(render_slice(volume, volume.shape[2] // 2, "axial", window=window), THUMB)
    return out, thumb


def background_window(volume: Volume) -> tuple[tuple[float, float], bool]:
    """((low, high) window of the background view, whether the background has any variation at all).

    ``high`` is ``BACKGROUND_MEDIANS`` x the median of the background voxels (those below Otsu's threshold; the
    positive ones when most are exactly 0), capped at their 99th percentile: for Rician noise in air (median ~1.18
    sigma) that is ~3.5 sigma, so the noise fills the grey scale and anything brighter (ghosts, wrap, spikes)
    saturates."""
    data = volume.data
    threshold = otsu_threshold(data)
    background = data[data <= threshold]
    low = float(data.min())
    if background.size == 0:
        return (low, max(threshold, low + 1e-6)), False
    varies = float(background.max()) > float(background.min())
    above = background[background > low]
    typical = float(np.median(background if np.median(background) > low or above.size == 0 else above))
    high = min(low + BACKGROUND_MEDIANS * (typical - low), float(np.percentile(background, BACKGROUND_PERCENTILE)))
    if high <= low:
        high = low + max(abs(threshold - low) * 1e-3, 1e-6)
    return (low, high), varies


def spread_indices(size: int, n: int) -> list[int]:
    """``n`` indices spread evenly over ``0..size-1`` (ends excluded when there is room), distinct."""
    if size <= n:
        return list(range(size))
    return sorted({int(round(x)) for x in np.linspace(0, size - 1, n + 2)[1:-1]})


def background_view(volume: Volume) -> tuple[Image.Image, bool]:
    """(mosaic of ``BACKGROUND_SLICES`` slices per plane in the background window, background varies)."""
    window, varies = background_window(volume)
    rows = []
    for plane in planes_of(volume):
        indices = spread_indices(volume.shape[PLANES[plane]], BACKGROUND_SLICES)
        cells = [shrink(render_slice(volume, i, plane, window=window), CELL) for i in indices]
        rows.append(montage(cells, cols=len(cells)))
    return montage(rows, cols=1, pad=0), varies
