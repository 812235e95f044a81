"""Is this input an MR magnitude image like those the classifier was fitted on? Rules first, then novelty.

Two layers, both cheap and both explained in the reason they return:

1. **What an MR magnitude image cannot be** (:func:`image_rules`, on the raw intensities and the metadata): a DICOM
   whose modality is not MR; a colour picture; an image with a sizeable share of clearly negative voxels (a magnitude is never
   negative: CT in Hounsfield units, a phase or a difference map); fewer than ``MIN_LEVELS`` distinct values (a label
   map or a mask); almost no contrast (a constant-ish image); no spatial structure (a flat spatial spectrum:
   a random image); no noise or texture at all (a linear ramp, a flat drawing); flat patches of identical values (a
   label map of many labels, a palette image: :data:`MAX_FLAT_SHARE`); nothing dark anywhere (smoothed noise, a
   texture, some photographs: :data:`MAX_DARK_RATIO`); a smooth field with neither noise nor detail (a blob, a
   non-linear gradient: :data:`MIN_NOISE_FLOOR` and :data:`MAX_COARSE_SLOPE`); clipped highlights (a photograph,
   an ultrasound display: :data:`MAX_SATURATED_SHARE`); and, on the full-size image of a file
   that does not say it is MR, a 2D picture larger than any MR slice's matrix (a photograph, a radiograph:
   :data:`MAX_PICTURE_SHORT_SIDE`) and the 8x8 block grid of JPEG compression (a photograph: :data:`MAX_JPEG_BLOCKINESS`).
2. **Unlike the training data** (:class:`Novelty`): the scan's features, each mapped by a signed log and standardised
   with the median and IQR of the training rows, are compared with the training rows; the score is the mean distance
   to the ``K`` nearest rows. The threshold is set from leave-one-scan-out distances (each training scan's rows to the
   rows of the *other* scans), so that a new real scan -- always unseen -- sits inside it: the
   ``THRESHOLD_QUANTILE`` quantile of those distances times ``THRESHOLD_MARGIN``.

A third layer, learned, catches the grayscale photographs of MR size that break no rule and sit inside the novelty
threshold: :mod:`mmrqa.classifier.pictures`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from mmrqa.volume import Volume

#: mean chroma of a colour picture (``meta["chroma"]`` of the 2D-image reader) above this: not a grayscale scan
MAX_CHROMA = 0.02
#: fewer distinct intensities than this: a label map / mask, not an acquisition (8-bit exports have ~100-256)
MIN_LEVELS = 16
#: share of the voxels off the most common value held by the ``TOP_LEVELS`` next most common values (reported in
#: the statistics, no longer a rule: a posterised MR slice of 27 grey levels, ITK's ``BrainT1SliceBorder20.png``, has
#: 95% of its object in 16 values, while every label map so caught is also caught by :data:`MAX_FLAT_SHARE`)
MAX_TOP_SHARE = 0.9
TOP_LEVELS = 16
#: share of voxels below -NEGATIVE_LEVEL x P99 that rules out a magnitude image
NEGATIVE_SHARE = 0.01
NEGATIVE_LEVEL = 0.05
#: (P99 - P1) / (|P50| + P99 - P1) below this: almost constant
MIN_CONTRAST = 0.02
#: log10 of the in-plane power at the lowest spatial frequencies over that at the highest, below this: a flat
#: spectrum, i.e. no spatial structure (a random image). Anatomy puts orders of magnitude more power at low
#: frequencies than independent noise does, however noisy the scan
MIN_SPECTRAL_DECAY = 0.3
#: median |in-plane Laplacian| over the brighter half, relative to its median intensity, below this: a linear ramp
#: or a flat drawing. Clean real scans on the classifier's grid measure 0.045-0.95, but a severely blurred one goes
#: down to 1e-5 (measured on the training rows), so smooth non-linear gradients cannot be told from blur this way:
#: only an exactly linear object is excluded
MIN_ROUGHNESS = 1e-6
#: Share of the object's voxels (those off the most common value) equal to all four in-plane neighbours, above this:
#: a label map, a segmentation, a drawing or a palette image. Every voxel of an MR magnitude image carries its own
#: thermal noise, so exact equality with four neighbours is rare, even in an 8-bit export (the noise spans several
#: grey levels); a label map is constant inside each region, however many labels it has. Clean MR on the
#: classifier's grid: at most 0.022 (the 342 clean training views); label maps of the design set: 0.54 and above.
MAX_FLAT_SHARE = 0.11
#: 1st over 99th intensity percentile above this: nothing in the image is dark. An MR image of an anatomy always
#: holds voxels at the noise floor -- air, cortical bone, tendons, fast-flowing blood or a masked background give no
#: signal -- so its darkest 1% is a small fraction of its bright tissue, whatever the scaling. Smoothed noise, a
#: texture or a photograph of an evenly lit scene have no such dark part. Clean MR: at most 0.29 (a crop inside the
#: head of the ITK T1); smoothed noise of the design set: 0.68 and above.
MAX_DARK_RATIO = 0.44
#: The *smooth-field* rule needs both of these. ``noise_floor``: median |finest diagonal (Haar HH) detail| / 0.6745
#: over the object (voxels above 20% of P99), relative to P99 -- the thermal noise of an acquisition, present in every
#: real scan (clean MR: at least 0.0125); a mathematically smooth field has none (blob, gradients, sine: at most
#: 0.0007). ``coarse_slope``: log10 of the mean in-plane power below 1/16 of Nyquist over that between 1/16 and 1/8
#: -- anatomy has edges and structures at every scale (clean MR: at most 1.76), a smooth field puts all its power at
#: the largest scale (design set: 2.57 and above). Either alone would exclude simulated severe blur or k-space
#: truncation (ringing), whose noise is filtered away; the pair does not.
MIN_NOISE_FLOOR = 0.003
MAX_COARSE_SLOPE = 2.1
#: Share of the voxels at exactly the image's maximum above this: the highlights are clipped (saturated). An MR
#: reconstruction has no ceiling -- its brightest voxel (fat, fluid, a vessel) sets the maximum and few voxels share
#: it, also after rescaling to 8 or 12 bits (clean MR training views: at most 0.16%); a camera sensor, a JPEG's 8
#: bits or an ultrasound display's log compression clip the brightest parts of the scene to one value. Threshold:
#: the geometric midpoint of 0.0016 and 0.43, the least clipped drawing of the design set (scikit-image's
#: chessboard). An MR screenshot taken with a narrow display window clips too: the reason says to export the scan.
MAX_SATURATED_SHARE = 0.025
#: JPEG codes a picture in 8x8 pixel blocks, and its lossy quantisation leaves a small step at every block edge: the
#: mean |difference| between neighbouring pixels is larger across the block grid -- anchored at the image's corner
#: (pixels 8k-1 to 8k), or at its last pixel when the picture was flipped -- than at any other of the 8 phases.
#: :func:`jpeg_blockiness` is the smaller, over the two in-plane axes, of (mean at the anchored phase / the next
#: largest phase - 1), 0 when another phase leads; each |difference| is capped at its slice's 90th percentile, so that
#: a few strong anatomical edges falling on one phase cannot make it lead (JPEG's steps are small and everywhere). An
#: MR image has no 8-pixel grid: clean MR training views at most 0.023; the most JPEG-like photograph of the design set
#: (scikit-image's rocket.jpg) 0.14. Threshold: their geometric midpoint. Checked on the full-size image (before
#: decimation, which would erase the grid), only with both in-plane sides >= ``JPEG_MIN_SIDE`` (enough blocks for a
#: stable estimate), and not on a file whose metadata says MR (a clinical DICOM may be stored as lossy JPEG: it is
#: still an MR scan).
MAX_JPEG_BLOCKINESS = 0.057
JPEG_MIN_SIDE = 64
#: A single 2D picture larger than this on its shorter side (or than ``MAX_PICTURE_LONG_SIDE`` on its longer one), in a
#: file that does not say it is MR: a camera photograph, a digital radiograph or a screenshot, not an MR slice. Not
#: derived from any image set: an MR slice's matrix is bounded by physics. Each k-space line costs one repetition
#: time, and the signal per voxel falls with the voxel's area, so clinical acquisitions stop at about 512 x 512 (1024
#: x 1024 only after 2x interpolation; the largest real MR slice here, pydicom's shoulder T1, is exactly that), while
#: a phone photograph has 3000 pixels or more on its shorter side and a radiograph's detector 1700 and more. A long
#: composed image (a whole spine stitched from stations) keeps a short side of an MR slice, and a long side under
#: the ``MAX_PICTURE_LONG_SIDE`` limit. 3D volumes and files that say MR are not judged by size.
MAX_PICTURE_SHORT_SIDE = 1024
MAX_PICTURE_LONG_SIDE = 2048
K = 5
THRESHOLD_QUANTILE = 0.995
THRESHOLD_MARGIN = 1.5


#: the keys of :func:`image_statistics`, in its order
STATISTIC_NAMES = (
    "distinct_levels",
    "top_levels_share",
    "negative_share",
    "contrast",
    "spectral_decay",
    "roughness",
    "flat_share",
    "dark_ratio",
    "noise_floor",
    "coarse_slope",
    "saturated_share",
)


def image_statistics(volume: Volume) -> dict[str, float]:
    """Raw-intensity statistics behind :func:`image_rules` (computed on the classifier's grid; keys
    :data:`STATISTIC_NAMES`)."""
    data = np.asarray(volume.data, dtype=np.float64)
    flat = data.ravel()
    p1, p50, p99 = np.percentile(flat, [1, 50, 99])
    spread = p99 - p1
    sample = flat if flat.size <= 2_000_000 else flat[:: flat.size // 2_000_000 + 1]
    values, counts = np.unique(sample[:400_000], return_counts=True)
    levels = len(values)
    mode = float(values[np.argmax(counts)])
    counts = np.sort(counts)[::-1]
    rest = counts[1:].sum()
    top_share = float(counts[1 : 1 + TOP_LEVELS].sum() / rest) if rest else 1.0
    # p99 <= 0: at least 99% of the voxels at or below zero; only voxels truly below zero count as negative (a black
    # picture with a few bright points is not a CT: the rules below call it constant or a mask)
    negative = float(np.mean(flat < -NEGATIVE_LEVEL * p99)) if p99 > 0 else float(np.mean(flat < 0))
    contrast = spread / (abs(p50) + spread) if (abs(p50) + spread) > 0 else 0.0
    decay, coarse_slope = spectral_shape(data)
    roughness = flat_share = math.nan
    if data.shape[0] >= 3 and data.shape[1] >= 3:
        inner = data[1:-1, 1:-1]
        laplacian = np.abs(4 * inner - data[:-2, 1:-1] - data[2:, 1:-1] - data[1:-1, :-2] - data[1:-1, 2:])
        bright = inner > p50
        reference = float(np.median(inner[bright])) if bright.any() else 0.0
        roughness = float(np.median(laplacian[bright])) / reference if reference > 0 else 0.0
        flat_share = _flat_share(data, inner, mode)
    return {
        "distinct_levels": float(levels),
        "top_levels_share": top_share,
        "negative_share": negative,
        "contrast": float(contrast),
        "spectral_decay": decay,
        "roughness": roughness,
        "flat_share": flat_share,
        "dark_ratio": float(p1 / p99) if p99 > 0 else math.nan,
        "noise_floor": noise_floor(data, p99),
        "coarse_slope": coarse_slope,
        "saturated_share": float(np.mean(flat >= flat.max())) if flat.size else math.nan,
    }


def _flat_share(data: np.ndarray, inner: np.ndarray, mode: float) -> float:
    """Share of the voxels off the most common value (the object) equal to all four in-plane neighbours."""
    obj = inner != mode
    if not obj.any():
        return 1.0
    same = (
        (inner == data[:-2, 1:-1]) & (inner == data[2:, 1:-1]) & (inner == data[1:-1, :-2]) & (inner == data[1:-1, 2:])
    )
    return float(np.count_nonzero(same & obj) / np.count_nonzero(obj))


def noise_floor(data: np.ndarray, p99: float) -> float:
    """Median |finest in-plane diagonal (Haar HH) detail| / 0.6745 of the object's 2x2 blocks (mean above 20% of
    P99), relative to P99: the thermal noise of an acquisition (Donoho & Johnstone 1994 estimate its sigma this way);
    NaN when no block is bright or P99 <= 0."""
    nx, ny = data.shape[0] // 2 * 2, data.shape[1] // 2 * 2
    if nx < 2 or ny < 2 or p99 <= 0:
        return math.nan
    a, b = data[0:nx:2, 0:ny:2], data[1:nx:2, 0:ny:2]
    c, d = data[0:nx:2, 1:ny:2], data[1:nx:2, 1:ny:2]
    detail = np.abs(a - b - c + d) / 2
    bright = (a + b + c + d) > 4 * 0.2 * p99
    if not bright.any():
        return math.nan
    return float(np.median(detail[bright]) / 0.6745 / p99)


def spectral_shape(data: np.ndarray) -> tuple[float, float]:
    """(spectral decay, coarse slope) of the in-plane power spectrum, slices pooled (mean removed per slice):
    log10(mean power at radial frequency < 1/8 of Nyquist / mean power above 3/4 of Nyquist), and log10(mean power
    below 1/16 of Nyquist / mean power between 1/16 and 1/8); NaN for slices smaller than 16 x 16 (or an empty band)."""
    nx, ny = data.shape[:2]
    if nx < 16 or ny < 16:
        return math.nan, math.nan
    step = max(1, data.shape[2] // 16)  # at most ~16 slices: the spectrum's shape, not its detail, is needed
    sub = data[:, :, ::step]
    sub = sub - sub.mean(axis=(0, 1), keepdims=True)
    power = (np.abs(np.fft.fft2(sub, axes=(0, 1))) ** 2).sum(axis=2)
    fx, fy = np.meshgrid(np.fft.fftfreq(nx) * 2, np.fft.fftfreq(ny) * 2, indexing="ij")  # in units of Nyquist
    radius = np.hypot(fx, fy)

    def band(low: float, high: float) -> float:
        inside = (radius > low) & (radius < high)
        return float(power[inside].mean()) if inside.any() else 0.0

    lowest, low, high = band(0, 0.0625), band(0, 0.125), band(0.75, np.inf)
    next_band = band(0.0625, 0.125)
    decay = math.log10(low / high) if low > 0 and high > 0 else math.nan
    slope = math.log10(lowest / next_band) if lowest > 0 and next_band > 0 else math.nan
    return decay, slope


def spectral_decay(data: np.ndarray) -> float:
    """The first value of :func:`spectral_shape`."""
    return spectral_shape(data)[0]


def jpeg_blockiness(data: np.ndarray) -> float:
    """The 8x8 JPEG block-grid statistic of :data:`MAX_JPEG_BLOCKINESS` on (up to 4 slices of) ``data`` at its own
    resolution; NaN when an in-plane side is below ``JPEG_MIN_SIDE``."""
    data = np.asarray(data)
    if data.ndim == 2:
        data = data[:, :, None]
    if min(data.shape[:2]) < JPEG_MIN_SIDE:
        return math.nan
    slices = np.unique(np.linspace(0, data.shape[2] - 1, min(4, data.shape[2])).round().astype(int))
    out = []
    for axis in (0, 1):
        n = data.shape[axis]
        phases = np.zeros(8)
        for z in slices:
            diff = np.abs(np.diff(data[:, :, z].astype(np.float64), axis=axis))
            profile = np.minimum(diff, np.percentile(diff, 90)).mean(axis=1 - axis)
            phases += profile[: len(profile) // 8 * 8].reshape(-1, 8).mean(axis=0)
        order = np.argsort(phases)
        lead, second = phases[order[-1]], phases[order[-2]]
        anchored = int(order[-1]) in (7, (n - 9) % 8)  # the grid from the first pixel, or from the last (a flip)
        out.append(lead / second - 1.0 if anchored and second > 0 else 0.0)
    return float(min(out))


#: the modalities a file may state for an MR scan
MR_MODALITIES = ("MR", "MRI")


def stated_modality(*volumes: Volume) -> str:
    """The modality the file says (``meta["modality"]`` of the first of ``volumes`` that has one), upper case, or
    "" when none says it."""
    for volume in volumes:
        modality = str(volume.meta.get("modality") or "").upper()
        if modality:
            return modality
    return ""


def image_rules(volume: Volume, stats: dict[str, float] | None = None, native: Volume | None = None) -> str | None:
    """Why ``volume`` cannot be an MR magnitude image, or None when no rule excludes it. ``volume`` is the scan on
    the classifier's grid; ``native`` the same scan at its full size (default: ``volume``), for the JPEG rule."""
    native = volume if native is None else native
    modality = stated_modality(native, volume)
    if modality and modality not in MR_MODALITIES:
        return f"the file says modality {modality}, not MR"
    chroma = float(volume.meta.get("chroma") or 0.0)
    if chroma > MAX_CHROMA:
        return f"a colour picture (mean chroma {100 * chroma:.0f}%): MR magnitude images are grayscale"
    reason = statistics_rules(stats or image_statistics(volume))
    if reason is None and not modality:
        reason = size_rule(native.data.shape) or jpeg_rule(jpeg_blockiness(native.data))
    return reason


def size_rule(shape: tuple[int, ...]) -> str | None:
    """The reason of the picture-size rule (:data:`MAX_PICTURE_SHORT_SIDE`) for an image of ``shape``, or None."""
    if len(shape) > 2 and any(n > 1 for n in shape[2:]):
        return None  # a volume
    short, long = sorted(shape[:2])
    if short > MAX_PICTURE_SHORT_SIDE or long > MAX_PICTURE_LONG_SIDE:
        return (
            f"a single {shape[0]} x {shape[1]} picture: larger than an MR slice's matrix (at most "
            f"{MAX_PICTURE_SHORT_SIDE} x {MAX_PICTURE_SHORT_SIDE}, interpolated), the size of a photograph, a digital "
            "radiograph or a screenshot; if it is an MR scan, assess the DICOM or NIfTI file the scanner wrote"
        )
    return None


def jpeg_rule(blockiness: float) -> str | None:
    """The reason of the JPEG rule (:data:`MAX_JPEG_BLOCKINESS`), or None."""
    if blockiness > MAX_JPEG_BLOCKINESS:
        return (
            f"the picture shows the 8x8 block pattern of JPEG compression (edges between blocks {100 * blockiness:.0f}% "
            "stronger than elsewhere): a photograph or a picture saved as JPEG, not an MR image as the scanner "
            "exports it (lossy compression also removes the noise that the quality metrics measure)"
        )
    return None


def statistics_rules(stats: dict[str, float]) -> str | None:
    """The rules of :func:`image_rules` that read only :func:`image_statistics` (also applied to table rows)."""
    if stats["negative_share"] > NEGATIVE_SHARE:
        return (
            f"{100 * stats['negative_share']:.0f}% of the voxels are clearly negative: not an MR magnitude image "
            "(CT in Hounsfield units, a phase or difference map?)"
        )
    if stats["distinct_levels"] < MIN_LEVELS:
        levels = int(stats["distinct_levels"])
        noun = "intensity" if levels == 1 else "intensities"
        return f"only {levels} distinct {noun}: a label map or mask, not an acquisition"
    if stats["contrast"] < MIN_CONTRAST:
        return "almost constant intensities: nothing to assess"
    decay = stats["spectral_decay"]
    if not math.isnan(decay) and decay < MIN_SPECTRAL_DECAY:
        return "its spectrum is flat (no spatial structure): a random image, not an anatomy"
    if stats["roughness"] < MIN_ROUGHNESS:
        return (
            "no noise or texture in the object: a synthetic image (a linear ramp, a flat drawing), not an acquisition"
        )
    flat = stats.get("flat_share", math.nan)  # the three rules below skip rows of an older table without the column
    if flat > MAX_FLAT_SHARE:
        return (
            f"{100 * flat:.0f}% of the pixels off the background lie in flat patches of one identical value: a label "
            "map, segmentation or drawing, not a scan (every pixel of a scanner image carries its own noise)"
        )
    dark = stats.get("dark_ratio", math.nan)
    if dark > MAX_DARK_RATIO:
        return (
            f"nothing in the image is dark (its darkest 1% is at {100 * dark:.0f}% of its brightest): an MR image always "
            "shows signal-free air, bone or a masked background somewhere; a texture, smoothed noise or a photograph?"
        )
    if stats.get("noise_floor", math.nan) < MIN_NOISE_FLOOR and stats.get("coarse_slope", math.nan) > MAX_COARSE_SLOPE:
        return (
            "a perfectly smooth picture with neither noise nor fine detail: a synthetic gradient or model, not a scan "
            "(a scanner image always carries noise and anatomy has edges)"
        )
    saturated = stats.get("saturated_share", math.nan)
    if saturated > MAX_SATURATED_SHARE:
        return (
            f"{100 * saturated:.0f}% of the pixels sit at exactly the brightest value (clipped highlights): typical of "
            "a photograph, an ultrasound display or a map capped at its maximum (a tissue probability map), never of "
            "an MR scan as the scanner exports it (a screenshot with a narrow display window does this too: export "
            "the original DICOM or NIfTI instead)"
        )
    return None


def _signed_log(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.log1p(np.abs(x))


@dataclass
class Novelty:
    """k-nearest-neighbour novelty on standardised, log-compressed features (see the module docstring)."""

    features: list[str]
    center: np.ndarray
    scale: np.ndarray
    reference: np.ndarray  # (n, d) standardised training rows
    threshold: float

    @staticmethod
    def transform_raw(x: np.ndarray) -> np.ndarray:
        """Signed log of the features; undefined values (NaN or the MISSING stand-in) become 0."""
        from mmrqa.classifier.features import MISSING

        x = np.where(np.isfinite(x) & (x > MISSING / 2), x, np.nan)
        return _signed_log(x)

    def standardise(self, x: np.ndarray) -> np.ndarray:
        z = (self.transform_raw(x) - self.center) / self.scale
        return np.nan_to_num(z, nan=0.0)

    def score(self, x: np.ndarray) -> np.ndarray:
        """Mean distance of each row of ``x`` (raw features) to its ``K`` nearest reference rows."""
        return knn_distance(self.standardise(np.atleast_2d(x)), self.reference)

    def to_arrays(self, prefix: str = "novelty") -> dict[str, np.ndarray]:
        return {
            f"{prefix}_center": self.center,
            f"{prefix}_scale": self.scale,
            f"{prefix}_reference": self.reference.astype(np.float32),
            f"{prefix}_threshold": np.asarray(self.threshold),
        }

    @classmethod
    def from_arrays(cls, arrays, features: list[str], prefix: str = "novelty") -> Novelty:
        return cls(
            list(features),
            np.asarray(arrays[f"{prefix}_center"], dtype=np.float64),
            np.asarray(arrays[f"{prefix}_scale"], dtype=np.float64),
            np.asarray(arrays[f"{prefix}_reference"], dtype=np.float64),
            float(arrays[f"{prefix}_threshold"]),
        )


def knn_distance(z: np.ndarray, reference: np.ndarray, k: int = K) -> np.ndarray:
    """Mean Euclidean distance of each row of ``z`` to its ``k`` nearest rows of ``reference``."""
    out = np.empty(len(z))
    sq_ref = np.sum(reference * reference, axis=1)
    for start in range(0, len(z), 256):
        block = z[start : start + 256]
        d2 = np.sum(block * block, axis=1)[:, None] + sq_ref[None, :] - 2.0 * block @ reference.T
        d2 = np.sort(np.maximum(d2, 0.0), axis=1)[:, :k]
        out[start : start + 256] = np.sqrt(d2).mean(axis=1)
    return out


def robust_center_scale(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Median and IQR (1 where the IQR is 0) per feature of raw feature rows ``x`` after the signed log; a feature
    undefined on every row (absent from a dataset's metrics) gets centre 0 and scale 1."""
    t = Novelty.transform_raw(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        center = np.nan_to_num(np.nanmedian(t, axis=0))
        q75, q25 = np.nanpercentile(t, [75, 25], axis=0)
    return center, np.nan_to_num(np.where((q75 - q25) > 1e-6, q75 - q25, 1.0), nan=1.0)


def fit_novelty(x: np.ndarray, groups: np.ndarray, features: list[str], max_reference: int = 3000) -> Novelty:
    """Fit the novelty score on training rows ``x`` (raw features) grouped by scan; threshold from held-out scans."""
    center, scale = robust_center_scale(x)
    z = np.nan_to_num((Novelty.transform_raw(x) - center) / scale, nan=0.0)
    held_out = np.empty(len(z))
    for group in np.unique(groups):
        inside = groups == group
        held_out[inside] = knn_distance(z[inside], z[~inside])
    threshold = float(np.quantile(held_out, THRESHOLD_QUANTILE)) * THRESHOLD_MARGIN
    keep = np.arange(len(z))
    if len(keep) > max_reference:  # an even thinning keeps every scan and every kind represented
        keep = keep[np.linspace(0, len(keep) - 1, max_reference).round().astype(int)]
    return Novelty(list(features), center, scale, z[keep], threshold)
