"""Reference ranges that fit the scan: the catalogue's acceptable ranges, adjusted to what the scan is.

The catalogue (:mod:`mmrqa.metrics.catalogue`) gives one range per metric, mostly from MRIQC's and MRQy's reference
distributions of 3D brain scans with air around the head. :func:`catalogue_for` returns the catalogue as it applies
to one scan, described by its :class:`~mmrqa.metrics.context.ScanContext`: each rule of :data:`RULES` that matches the
scan replaces a metric's range (or removes it: "no range for this kind of scan", a grey light) and says why in the
entry's ``range_basis``. The first matching rule wins; a metric no rule matches keeps the catalogue's range.

Where the numbers come from (never from the scans the lights are reported on):

* physics and the definitions of the measures (air measures need air; EFC's value for a uniform object of the
  scan's size; the cjv of two adjacent thirds of a featureless intensity distribution);
* MRIQC's and MRQy's published reference distributions (kept from the catalogue);
* measurements on the *derivation scans*: dipy's EPI b0 (``epi``), pydicom-data's shoulder T1 (``dicom_mr2``),
  the MNI152 template with Rician noise (``mni152_noisy``) and TCIA C3N-01342, C3N-01871, C3N-01876, clean and with
  severe simulated artifacts. The *held-out scans* (nibabel's T1 ``t1``, pydicom's ``dicom_t2``, pydicom-data's
  ``dicom_enhanced``, the noise-free ``mni152`` and TCIA C3N-02631, C3N-02679) were not used to set any number;
  ``tests/metrics/test_ranges.py`` reports the lights on both sets.

The result is a plain catalogue dict, so every consumer of ranges (traffic lights, the pipeline's report, the
grounded answers) takes it where it takes :data:`~mmrqa.metrics.CATALOGUE`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from mmrqa.metrics.catalogue import CATALOGUE, MetricInfo
from mmrqa.metrics.context import ScanContext

Bounds = tuple[float, float] | None
INF = float("inf")

#: Measures of the air around the object: undefined when the field of view holds none.
AIR_MEASURES = (
    "snrd_dark",
    "snrd_mid",
    "snrd_bright",
    "fber",
    "snr_fg_bg",
    "noise_rel",
    "qi_1",
    "gsr",
    "motion_index",
)
#: Measures of the k-means intensity classes that depend on what the classes are (CSF, grey and white matter only on
#: a T1-weighted brain): the contrast of the two brightest, and the dark class (CSF on a T1 brain; fat, muscle, bone
#: or gas elsewhere).
CLASS_CONTRASTS = ("cjv", "cnr", "snr_dark", "snrd_dark")
#: Voxel size (mm) from which anatomical texture dominates the in-object noise estimate (coarse voxels).
COARSE_MM = 1.5
#: EFC margin above a uniform object's value (twice the excess of the derivation scans: MNI152 with noise +0.057).
EFC_MARGIN = 0.1


@dataclass(frozen=True)
class Rule:
    """One adjustment of the catalogue's ranges.

    Attributes:
        label: what the rule is about, shown with the range (e.g. "no air in the field of view").
        metrics: the metrics it adjusts.
        applies: whether it applies to a scan.
        bounds: the range for a scan (a function of its context, or fixed); None: no range for such a scan.
        basis: where the range comes from.
    """

    label: str
    metrics: tuple[str, ...]
    applies: Callable[[ScanContext], bool]
    bounds: Callable[[ScanContext], Bounds] | Bounds
    basis: str

    def range_for(self, context: ScanContext) -> Bounds:
        return self.bounds(context) if callable(self.bounds) else self.bounds


def efc_uniform(fraction: float, n: int) -> float:
    """EFC of a uniform object filling ``fraction`` of a field of ``n`` voxels (zero outside): the energy spread
    evenly over ``fraction * n`` voxels gives E = sqrt(M) ln sqrt(M), so EFC = sqrt(f) (1 + ln f / ln n)."""
    if not (0 < fraction <= 1) or n < 2:
        return math.nan
    return math.sqrt(fraction) * (1 + math.log(fraction) / math.log(n))


def _efc_bounds(context: ScanContext) -> Bounds:
    field = max(context.nonzero_fraction, 1e-12)  # EFC ignores exact zeros (MRIQC's padding mask)
    fraction = min(1.0, context.object_fraction / field) if math.isfinite(context.object_fraction) else math.nan
    uniform = efc_uniform(fraction, int(context.n_voxels * field))
    if not math.isfinite(uniform):
        return CATALOGUE["efc"].reference_range
    high = uniform + EFC_MARGIN
    return None if high >= 1.0 else (0.0, max(0.7, round(high, 2)))


def _sharpness_bounds(context: ScanContext) -> Bounds:
    return (round(0.03 * min(max(context.voxel_mm, 0.25), 2.0), 4), INF)


def _brain_t1(context: ScanContext) -> bool:
    return context.anatomy == "brain" and context.contrast == "t1"


RULES: tuple[Rule, ...] = (
    Rule(
        "no air in the field of view",
        (*AIR_MEASURES, "cnr", "efc"),
        lambda c: c.background == "none",
        None,
        "the field of view is cropped to the anatomy, so what lies outside the object mask is tissue, not air: "
        "measures of the air (and CNR's air noise, EFC's spread into the background) are undefined",
    ),
    Rule(
        "zero-filled background",
        AIR_MEASURES,
        lambda c: c.background == "zero-filled",
        None,
        "the background was set to a constant (a template, a masked or skull-stripped export, a scanner's zeroed "
        "background): there is no air noise to measure (noise_rel then reads the object's own noise, judged as "
        "noise_local)",
    ),
    Rule(
        "intensity classes are not grey and white matter",
        CLASS_CONTRASTS,
        lambda c: not _brain_t1(c),
        None,
        "the three intensity classes are CSF, grey and white matter only on a T1-weighted brain (MRIQC's domain); "
        "on other anatomy or contrasts they mix tissues, fat, fluid and air pockets, and their contrast says nothing "
        "about quality",
    ),
    Rule(
        "T1-weighted brain, classes from k-means",
        ("cjv",),
        _brain_t1,
        (0.0, 0.75),
        "the classes are k-means cuts of all head voxels (scalp included), not MRIQC's segmented GM/WM, so MRIQC's "
        "0.3-0.6 does not transfer: two adjacent thirds of a featureless (uniform) intensity distribution give 0.741, "
        "the bound kept; the MNI152 template with clinical noise reads 0.674",
    ),
    Rule(
        "object filling the field",
        ("efc",),
        lambda c: True,
        _efc_bounds,
        "EFC of a uniform object of this scan's size in its non-zero field, sqrt(f)(1 + ln f / ln N), plus 0.1 "
        "(twice the excess of the derivation scans); at least MRIQC's 0.7; no range when that reaches 1, since an "
        "object that fills the field leaves no background for ghosts and blur to spread energy into",
    ),
    Rule(
        "coarse voxels",
        ("noise_local",),
        lambda c: c.voxel_mm >= COARSE_MM,
        (0.0, 12.0),
        "Immerkaer's estimate includes anatomical texture, several times larger per voxel at 2 mm than at 1 mm: "
        "dipy's clean 2 mm EPI b0 reads 11.4 (derivation scan), rounded up to 12",
    ),
    Rule(
        "excess air signal only",
        ("motion_index",),
        lambda c: True,
        (-INF, 3.0),
        "motion, ghosts and blur add signal to the air, so only the upper bound (the catalogue's 3) names an "
        "artifact; air quieter than the in-object noise predicts is no motion (texture inflates that prediction at "
        "coarse voxels, parallel imaging makes noise uneven): dipy's clean 2 mm EPI b0 reads -8.6, TCIA C3N-01342 "
        "-1.1 (derivation scans)",
    ),
    Rule(
        "a single slice",
        ("inu_cv", "inu_range"),
        lambda c: c.dims == "2d",
        None,
        "on one slice a bias field cannot be told from anatomy (bone, fat and muscle across a large field of view; "
        "pydicom-data's clean shoulder slice reads inu_cv 0.41)",
    ),
    Rule(
        "voxel size",
        ("sharpness",),
        lambda c: True,
        _sharpness_bounds,
        "the catalogue's 3% per voxel at 1 mm, scaled with the in-plane voxel size (the same edge spreads over "
        "more, smaller voxels), between 0.25 and 2 mm",
    ),
)


def rule_for(name: str, context: ScanContext) -> Rule | None:
    """The first rule of :data:`RULES` that adjusts ``name`` on this scan (None: the catalogue's range holds)."""
    return next((r for r in RULES if name in r.metrics and r.applies(context)), None)


def catalogue_for(context: ScanContext | None, catalogue: dict[str, Any] | None = None) -> dict[str, MetricInfo]:
    """The catalogue with each range adjusted to the scan (see the module docstring).

    Args:
        context: the scan's context (None: the catalogue unchanged).
        catalogue: the catalogue to adjust (default :data:`~mmrqa.metrics.CATALOGUE`).

    Returns:
        name -> entry; an adjusted entry's ``range_basis`` reads ``"<rule label>: <basis>"``, and an entry whose
        range the rule removed names the rule in ``not_judged``.
    """
    catalogue = CATALOGUE if catalogue is None else catalogue
    if context is None:
        return dict(catalogue)
    out = {}
    for name, info in catalogue.items():
        rule = rule_for(name, context)
        if rule is not None and isinstance(info, MetricInfo):
            bounds = rule.range_for(context)
            info = replace(
                info,
                reference_range=bounds,
                range_basis=f"{rule.label}: {rule.basis}",
                not_judged=rule.label if bounds is None else "",
            )
        out[name] = info
    return out
