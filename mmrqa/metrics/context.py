"""What kind of scan this is, as far as the reference ranges care: 2D or 3D, brain or other anatomy, contrast,
voxel size, and whether the field of view holds air around the object.

A metric's acceptable range depends on these (:mod:`mmrqa.metrics.ranges`): measures of the air (Dietrich SNR, FBER,
QI1, ghosting in air) mean nothing on a scan cropped to the anatomy; the tissue-class contrasts (CJV, CNR) are
calibrated on T1-weighted brains (grey and white matter); a per-voxel gradient or texture depends on the voxel size.

Everything here is read from the scan itself (its header metadata and its head/air masks), never from a quality
label, so the same scan always gets the same ranges.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

#: Air is "no air" (the field of view is cropped to the anatomy) when the air region is under this share of the
#: field of view, ...
MIN_AIR_FRACTION = 0.01
#: ... or when its median exceeds this share of the object's median while the object touches at least
#: :data:`CROPPED_BORDER` of the in-plane border. Physics: air holds Rayleigh noise, whose median is 1.18 sigma; a
#: median at 15% of the tissue means sigma ~ 13% of the signal (SNR < 8, a scan the noise measures flag anyway),
#: so such "air" is tissue left outside the object mask. Ghosts and motion put signal in real air too, but then
#: the object sits inside the field of view, clear of its border: severe simulated motion, ghosting and noise on
#: the derivation scans (dipy EPI, MNI152 with noise, TCIA C3N-01342) touch at most 18% of it.
AIR_IS_TISSUE = 0.15
CROPPED_BORDER = 0.2
#: Air is "zero-filled" (a template, a masked or skull-stripped export, a scanner's zeroed background) when at least
#: this share of its voxels hold exactly the image minimum: real air noise is never constant.
ZERO_FILLED = 0.5
#: An object wider than this in both in-plane directions (mm) is not a head (adult heads are ~140 x 190 mm;
#: pelvis, abdomen and chest fields of view are 300-450 mm wide).
HEAD_MAX_EXTENT_MM = 230.0

BRAIN_WORDS = (
    "brain",
    "head",
    "neuro",
    "cranial",
    "cerebr",
    "skull",
    "mprage",
    "mp-rage",
    "mp2rage",
    "spgr",
    "bravo",
    "mni",
    "colin",
    "icbm",
)
OTHER_WORDS = (
    "pelvi",
    "prostat",
    "abdom",
    "liver",
    "kidney",
    "knee",
    "shoulder",
    "hip",
    "ankle",
    "wrist",
    "elbow",
    "spine",
    "lumbar",
    "cervical",
    "thora",
    "chest",
    "breast",
    "cardiac",
    "heart",
    "uterus",
    "rectum",
    "extremit",
    "msk",
)


@dataclass(frozen=True)
class Geometry:
    """Facts of the head (object) and air masks the context is read from (computed with the metrics, see
    :func:`geometry`)."""

    air_fraction: float  # share of the field of view in the air mask
    air_zero_fraction: float  # share of the air voxels equal to the image minimum
    air_to_object: float  # median(air) / median(object)
    border_contact: float  # share of the in-plane border voxels inside the object mask
    extent_mm: tuple[float, float]  # in-plane extent of the object mask (mm)
    object_fraction: float = math.nan  # share of the field of view inside the object mask
    nonzero_fraction: float = 1.0  # share of the field of view not exactly zero (EFC's field, as MRIQC's)

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}


def geometry(
    data: np.ndarray,
    head: np.ndarray,
    air_values: np.ndarray,
    head_median: float,
    spacing,
    air_median: float | None = None,
) -> Geometry:
    """The mask facts of one scan (cheap: border rings, counts, the object's bounding box; ``air_median`` when the
    caller has it)."""
    border = np.concatenate([head[0].ravel(), head[-1].ravel(), head[:, 0].ravel(), head[:, -1].ravel()])
    lowest = float(data.min())
    air_zero = float(np.count_nonzero(air_values == lowest)) / air_values.size if air_values.size else 0.0
    if air_median is None:
        air_median = float(np.median(air_values)) if air_values.size else math.nan
    rows, cols = np.nonzero(head.any(axis=2).any(axis=1))[0], np.nonzero(head.any(axis=2).any(axis=0))[0]
    extent = (
        (float((rows[-1] - rows[0] + 1) * spacing[0]), float((cols[-1] - cols[0] + 1) * spacing[1]))
        if rows.size and cols.size
        else (0.0, 0.0)
    )
    return Geometry(
        air_fraction=float(air_values.size) / data.size,
        air_zero_fraction=air_zero,
        air_to_object=air_median / head_median if head_median else math.nan,
        border_contact=float(border.mean()) if border.size else 0.0,
        extent_mm=extent,
        object_fraction=float(np.count_nonzero(head)) / head.size,
        nonzero_fraction=float(np.count_nonzero(data)) / data.size,
    )


@dataclass(frozen=True)
class ScanContext:
    """What the scan is, as the reference ranges see it.

    Attributes:
        dims: "2d" (a single slice) or "3d".
        anatomy: "brain", "other" or "unknown".
        anatomy_source: where ``anatomy`` was read ("metadata: ...", "image: ...", or "" when unknown).
        contrast: "t1", "t2" or "unknown" (from the series description or TR/TE).
        voxel_mm: in-plane voxel size (mean of the two in-plane spacings).
        background: "air" (real air around the object), "zero-filled" (constant background) or "none" (the field of
            view is cropped to the object).
        object_fraction: share of the field of view inside the object mask.
        nonzero_fraction: share of the field of view not exactly zero.
        n_voxels: number of voxels.
        template: an average template (noise-free), not an acquisition.
    """

    dims: str = "3d"
    anatomy: str = "unknown"
    anatomy_source: str = ""
    contrast: str = "unknown"
    voxel_mm: float = 1.0
    background: str = "air"
    object_fraction: float = math.nan
    nonzero_fraction: float = 1.0
    n_voxels: int = 0
    template: bool = False

    def describe(self) -> str:
        """One line for a report, e.g. ``3D brain (metadata: BodyPartExamined HEAD), T1, 1 mm voxels, air around``."""
        anatomy = self.anatomy if self.anatomy != "unknown" else "scan of unknown anatomy"
        if self.anatomy_source:
            anatomy += f" ({self.anatomy_source})"
        contrast = "" if self.contrast == "unknown" else f", {self.contrast.upper()}"
        background = {
            "air": "air around the object",
            "zero-filled": "zero-filled background",
            "none": "no air in the field of view",
        }[self.background]
        kind = ", template" if self.template else ""
        return f"{self.dims.upper()} {anatomy}{contrast}, {self.voxel_mm:.2g} mm voxels, {background}{kind}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScanContext:
        """The inverse of :meth:`to_dict`, also after a JSON round trip (which writes NaN fractions as null)."""
        floats = ("voxel_mm", "object_fraction", "nonzero_fraction")
        return cls(**{k: (math.nan if k in floats and v is None else v) for k, v in data.items()})


def _words(meta: dict[str, Any]) -> list[tuple[str, str]]:
    keys = ("body_part", "series_description", "study_description", "protocol_name", "image_type", "description")
    keys += ("source",)
    return [(key, str(meta[key]).lower()) for key in keys if meta.get(key)]


def _anatomy(meta: dict[str, Any], geo: Geometry | None) -> tuple[str, str]:
    for key, text in _words(meta):
        text = re.sub(r"[^a-z0-9+-]+", " ", text.rsplit("/", 1)[-1] if key == "source" else text)
        for label, words in (("brain", BRAIN_WORDS), ("other", OTHER_WORDS)):
            hit = next((w for w in words if re.search(rf"(?<![a-z]){re.escape(w)}", text)), None)
            if hit:
                return label, f"metadata: {key} '{hit}'"
    if meta.get("template"):
        return "brain", "metadata: template"
    if geo is not None and min(geo.extent_mm) > HEAD_MAX_EXTENT_MM:
        return "other", f"image: object {geo.extent_mm[0]:.0f} x {geo.extent_mm[1]:.0f} mm, wider than a head"
    return "unknown", ""


def _contrast(meta: dict[str, Any]) -> str:
    for key, text in _words(meta):
        text = text.rsplit("/", 1)[-1] if key == "source" else text
        if re.search(r"t1|mprage|mp-rage|spgr|bravo|tfl3d", text):
            return "t1"
        if re.search(r"t2|flair|haste|tse", text):
            return "t2"
    tr, te = meta.get("repetition_time"), meta.get("echo_time")
    try:
        tr, te = float(tr), float(te)
    except (TypeError, ValueError):
        return "unknown"
    if te >= 60:  # long TE: T2 weighting (spin echo or FLAIR)
        return "t2"
    if tr <= 800 and te <= 30:  # short TR, short TE: T1 weighting
        return "t1"
    return "unknown"


def _background(geo: Geometry | None) -> str:
    if geo is None:
        return "air"
    if geo.air_fraction < MIN_AIR_FRACTION:
        return "none"
    if geo.air_zero_fraction >= ZERO_FILLED:
        return "zero-filled"
    if geo.air_to_object > AIR_IS_TISSUE and geo.border_contact >= CROPPED_BORDER:
        return "none"
    return "air"


def scan_context(
    shape: tuple[int, ...], spacing, meta: dict[str, Any] | None = None, geo: Geometry | dict | None = None
) -> ScanContext:
    """The :class:`ScanContext` of a scan from its shape, spacing, metadata (``Volume.meta``) and mask facts.

    Args:
        shape: the array shape (X, Y, Z); Z = 1 is a 2D image.
        spacing: voxel size in mm.
        meta: the volume's metadata (DICOM body part and descriptions, NIfTI description, file name, template flag).
        geo: the :class:`Geometry` (or its dict) from the metrics (``MetricReport.meta["geometry"]``); without it
            the background is taken to be air and the anatomy is read from the metadata only.
    """
    meta = meta or {}
    if isinstance(geo, dict):
        geo = Geometry(**{**geo, "extent_mm": tuple(geo["extent_mm"])})
    anatomy, source = _anatomy(meta, geo)
    n = int(np.prod(shape))
    return ScanContext(
        dims="2d" if len(shape) < 3 or shape[2] == 1 else "3d",
        anatomy=anatomy,
        anatomy_source=source,
        contrast=_contrast(meta),
        voxel_mm=float(np.mean([float(s) for s in spacing[:2]])),
        background=_background(geo),
        object_fraction=geo.object_fraction if geo is not None else math.nan,
        nonzero_fraction=geo.nonzero_fraction if geo is not None else 1.0,
        n_voxels=n,
        template=bool(meta.get("template")),
    )


def context_of(volume: Any, report: Any) -> ScanContext:
    """The context of a loaded ``Volume`` whose default-profile ``MetricReport`` is ``report``."""
    return scan_context(
        volume.shape, volume.spacing, volume.meta, (getattr(report, "meta", None) or {}).get("geometry")
    )
