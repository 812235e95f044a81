"""The metric catalogue: what each number means, how it is computed, which way is better, where it comes from.

``reference_range`` is the range in which a value is called acceptable when an answer is grounded in it; each
entry's ``range_basis`` says where the bounds come from (a physical bound, MRIQC/MRQy reference distributions on
public data, or the noise-free value of the measure). ``None`` means no scale-free acceptable range exists
(e.g. raw intensities). :func:`reference_range` reads an entry's range with infinite bounds as ``None`` and
:func:`is_acceptable` applies it: the one rule that the grounded answers (:mod:`mmrqa.qa`), the pipeline and the
traffic lights (:mod:`mmrqa.presentation`) share.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mmrqa.artifacts.registry import ARTIFACT_KINDS

MRIQC = "Esteban et al., MRIQC, PLoS ONE 2017;12:e0184661"
MRQY = "Sadri et al., MRQy, Med Phys 2020;47:6029-6038 (0.0.3 definitions)"


@dataclass(frozen=True)
class MetricInfo:
    """One catalogue entry."""

    name: str
    meaning: str
    formula: str
    unit: str
    higher_is_better: bool | None
    reference: str
    reference_range: tuple[float, float] | None = None
    range_basis: str = ""
    profile: str = "default"
    not_judged: str = ""  # why this scan has no range although the catalogue has one (mmrqa.metrics.ranges)


def _e(name, meaning, formula, unit, hib, ref, rng=None, basis="", profile="default") -> MetricInfo:
    return MetricInfo(name, meaning, formula, unit, hib, ref, rng, basis, profile)


_ENTRIES = [
    # --- default profile: MRIQC-style anatomical measures ---------------------------------------------------
    *[
        _e(
            f"snr_{c}",
            f"Signal-to-noise ratio of the {c} intensity class (on T1 brain ~ {t}).",
            "median(class) / (std(class) * sqrt(n/(n-1)))",
            "ratio",
            True,
            MRIQC,
            (3.0, float("inf")),
            "below 3 a class is not separable from its own spread (MRIQC ABIDE/DS030 distributions mostly 5-20)",
        )
        for c, t in (("dark", "CSF"), ("mid", "GM"), ("bright", "WM"))
    ],
    _e(
        "snr_total",
        "Mean of the three class SNRs.",
        "mean(snr_dark, snr_mid, snr_bright)",
        "ratio",
        True,
        MRIQC,
        (3.0, float("inf")),
        "as snr_*",
    ),
    *[
        _e(
            f"snrd_{c}",
            f"Dietrich SNR of the {c} class: signal over the air's noise.",
            "0.6551364 * median(class) / MAD(air); std(air) when the MAD is ~0 (zero-filled air, as MRIQC 24)",
            "ratio",
            True,
            "Dietrich et al., MRI 2007;25:1293-1302; " + MRIQC,
            (10.0, float("inf")),
            "clinical scans have air noise at <10% of tissue signal; MRIQC snrd values are typically 10-40",
        )
        for c in ("dark", "mid", "bright")
    ],
    _e(
        "cnr",
        "Contrast-to-noise ratio between the two brightest classes (GM/WM on T1).",
        "|median_bright - median_mid| / sqrt(var_air + var_mid + var_bright)",
        "ratio",
        True,
        MRIQC,
        (1.0, float("inf")),
        "below 1 the class difference is smaller than the noise (MRIQC reference values 1.5-4)",
    ),
    _e(
        "cjv",
        "Coefficient of joint variation of the two brightest classes: overlap of their distributions.",
        "(MAD_mid + MAD_bright) / |median_bright - median_mid|",
        "ratio",
        False,
        "Ganzetti et al., Front Neuroinform 2016;10:10; " + MRIQC,
        (0.0, 0.6),
        "classes overlap strongly above ~0.6 (MRIQC reference distributions 0.3-0.6)",
    ),
    _e(
        "efc",
        "Entropy focus criterion: how spread the energy is (ghosting, blurring raise it).",
        "-(1/Emax) sum (x/xmax) ln((x+1e-16)/xmax), xmax=sqrt(sum x^2), Emax=sqrt(N) ln(1/sqrt(N))",
        "fraction",
        False,
        "Atkinson et al., IEEE TMI 1997;16:903-910; " + MRIQC,
        (0.0, 0.7),
        "bounded in [0,1]; MRIQC reference scans are 0.4-0.6, heavily corrupted ones above 0.7",
    ),
    _e(
        "fber",
        "Foreground-background energy ratio.",
        "median(head^2) / median(air^2); -1 if the air is all zero",
        "ratio",
        True,
        "Shehzad et al., OHBM 2015; " + MRIQC,
        (100.0, float("inf")),
        "a 10:1 amplitude SNR in air gives 100; MRIQC values are typically 10^3-10^5",
    ),
    _e(
        "wm2max",
        "Median of the brightest class over the 99.95th percentile of the image.",
        "median(bright) / P99.95(image)",
        "fraction",
        None,
        MRIQC,
        (0.4, 0.9),
        "MRIQC suggests 0.6-0.8; near 1 means a clipped range, low values bright outliers (spikes, vessels)",
    ),
    _e(
        "qi_1",
        "Fraction of air voxels with clustered artifactual signal (> 3.5 sigma after opening).",
        "|open(air & I > 3.5 sigma)| / |air|",
        "fraction",
        False,
        "Mortamet et al., MRM 2009;62:365-372; " + MRIQC,
        (0.0, 0.01),
        "pure noise leaves < 0.2% of air above 3.5 sigma and opening removes isolated voxels",
    ),
    _e(
        "head_fraction",
        "Fraction of the field of view inside the head (object) mask.",
        "|head| / N",
        "fraction",
        None,
        "MMRQA",
        None,
        "depends on the field of view, not on quality",
    ),
    # --- MRQy's well-defined measures under clear names (3D head/air masks) ----------------------------------
    _e(
        "fg_mean",
        "Mean foreground (head) intensity (MRQy MEAN).",
        "mean(head)",
        "a.u.",
        None,
        MRQY,
        None,
        "arbitrary scanner units",
    ),
    _e(
        "fg_range",
        "Foreground intensity range (MRQy RNG).",
        "max(head) - min(head)",
        "a.u.",
        None,
        MRQY,
        None,
        "arbitrary scanner units",
    ),
    _e(
        "fg_var",
        "Foreground intensity variance (MRQy VAR).",
        "var(head)",
        "a.u.^2",
        None,
        MRQY,
        None,
        "arbitrary scanner units",
    ),
    _e(
        "fg_cv",
        "Coefficient of variation of the foreground in percent (MRQy CV).",
        "100 std(head)/mean(head)",
        "%",
        False,
        MRQY,
        (0.0, 80.0),
        "MRQy's TCIA pelvis/brain cohorts lie at 40-70%; above 80% suggests noise or INU",
    ),
    _e(
        "snr_fg_bg",
        "Foreground over background standard deviation (MRQy SNR1).",
        "std(head) / std(air)",
        "ratio",
        True,
        MRQY,
        (3.0, float("inf")),
        "MRQy's cohorts are 5-15; below 3 the background is as variable as tissue",
    ),
    _e(
        "psnr",
        "Peak SNR against a 3x3 in-plane median-denoised copy, on one intensity scale (MRQy PSNR, fixed).",
        "20 log10(P99.95 / rmse_head(I - median3x3(I))), rmse on slices 0, 1, 4, 5, 8, 9, ... of a head slab of >= 96 slices",
        "dB",
        True,
        MRQY + "; corrected",
        (20.0, float("inf")),
        "20 dB = residual at 10% of the peak; clean clinical scans are 25-35 dB",
    ),
    # --- artifact indicators ------------------------------------------------------------------------------
    _e(
        "noise_sigma",
        "Rician noise sigma from air (the head's local noise, as noise_local, when the air is zero-filled or absent).",
        "sqrt(mean(air^2)/2)",
        "a.u.",
        False,
        "Gudbjartsson & Patz, MRM 1995;34:910-914; Immerkaer, CVIU 1996",
        None,
        "arbitrary units; see noise_rel",
    ),
    _e(
        "noise_rel",
        "Noise sigma in percent of the head's median intensity.",
        "100 sigma / median(head)",
        "%",
        False,
        "Gudbjartsson & Patz 1995",
        (0.0, 5.0),
        "5% noise is visibly grainy; clinical scans are typically 1-4%",
    ),
    _e(
        "gsr",
        "Ghost-to-signal ratio along the phase-encoding axis (max over in-plane axes if unknown).",
        "100 (mean(air in line with head along PE) - mean(other air)) / median(head)",
        "%",
        False,
        "Giannelli et al., J Appl Clin Med Phys 2010; " + MRIQC,
        (-1.0, 2.0),
        "ghosts below ~2% of the signal are invisible at clinical windows; noise gives ~0",
    ),
    _e(
        "spike_energy",
        "Share of the image energy in isolated k-space spikes (herringbone artifact), in percent.",
        "100 sqrt(sum_{P > 10 gm} (P - gm) / sum P), P = |FFT2 slice|^2, gm = geometric mean of the 5x5 neighbours; "
        "every slice, or 48 evenly spaced ones from 96 slices on",
        "%",
        False,
        "Zhang et al., AJR 2001 (herringbone); Parseval",
        (0.0, 8.0),
        "chance peaks of natural spectra give 3-6% on real scans; a mild simulated spike adds ~0.5, a severe one ~10",
    ),
    _e(
        "sharpness",
        "Mean in-plane gradient magnitude in the head over its median (Tenengrad).",
        "mean_head(|in-plane Sobel(I)|/8) / median(head), on <= 24 evenly spaced slices",
        "1/voxel",
        True,
        "Krotkov, IJCV 1987",
        (0.03, float("inf")),
        "blurred scans fall below ~3% intensity change per voxel at 1 mm; replaces MRQy's CPP",
    ),
    _e(
        "ringing",
        "Gibbs ringing: Laplacian energy 2-5 voxels inside the object edge over that of the core.",
        "mean(lap^2 in band) / mean(lap^2 in core), in-plane chessboard depth, <= 24 evenly spaced slices",
        "ratio",
        False,
        "Kellner et al., MRM 2016;76:1574-1581",
        (0.0, 10.0),
        "edges alone raise the band; truncation ringing pushes the ratio well above its clean value",
    ),
    _e(
        "noise_local",
        "Local noise sigma in the head (Immerkaer, median form), percent of the head median; needs no air.",
        "100 median_head|I * N| / (6 * 0.6745) / median(head), N = [[1,-2,1],[-2,4,-2],[1,-2,1]]",
        "%",
        False,
        "Immerkaer, CVIU 1996;64:300-302",
        (0.0, 5.0),
        "as noise_rel: 5% noise is visibly grainy; clean real scans read 1.5-4% (texture adds a little)",
    ),
    _e(
        "truncation",
        "Gibbs ringing from k-space truncation: percent of the in-plane spectrum beyond a truncation cliff.",
        "100 max_axis (1 - k_cliff / k_max), k_cliff: first frequency beyond which all line energy is >1 decade lower",
        "%",
        False,
        "Wood & Henkelman, MRM 1985;2:517; Kellner et al., MRM 2016;76:1574-1581",
        (0.0, 5.0),
        "0 on fully sampled scans; ringing is visible once ~10% of k-space is cut (a scanner's ZIP x2 reads ~50)",
    ),
    _e(
        "inu_range",
        "Intensity non-uniformity: spread of the 20 mm-smoothed bright class.",
        "(P95 - P5) / P50 of smooth(bright), smoothed on ~4 mm blocks of the bright-class mean (every 2nd voxel per axis)",
        "fraction",
        False,
        "Sled et al., IEEE TMI 1998 (N4/N3); " + MRIQC,
        (0.0, 0.3),
        "a bias field above 30% peak-to-peak is visible and degrades segmentation",
    ),
    _e(
        "motion_index",
        "Excess mean air signal over the Rician noise floor, % of the head median.",
        "100 (mean(air) - sigma_local sqrt(pi/2)) / median(head), sigma_local = Immerkaer noise of the head (as in "
        "noise_local)",
        "%",
        False,
        "Mortamet et al. 2009 (air artifacts); Immerkaer 1996 (noise)",
        (-1.0, 3.0),
        "clean scans with air read -0.7 to 2.4 (TCIA pelvis, MNI152) and added noise moves it by at most ~4; motion, "
        "ghosts and blur smear signal into the air (severe motion +4 to +30); scans cropped to the head have no real "
        "air and read high (nibabel T1 37, MR_small 24)",
    ),
    _e(
        "pe_correlation",
        "Copies of the object along the phase-encoding axis (ghosts, aliases): PE minus readout autocorrelation of "
        "the edge image, %.",
        "100 mean_slices [mean_l r_PE(l) - mean_l r_RO(l)], r = normalised circular autocorrelation of |grad I| minus "
        "its mean along the axis, lags N/64..N/2, <= 24 evenly spaced slices",
        "%",
        False,
        "Haacke et al. 1999 ch. 15 (ghosts); Lustig et al., MRM 2007;58:1182 (aliasing); Wiener-Khinchin",
        (-20.0, 10.0),
        "the object's shape sets the clean value (real scans -16 to +4: pelvis -16 to -10, MNI152 -0.9, MR_small "
        "-8.8, EPI +3.6, T1 +3.9); severe ghosts raise it by 7-12 points, severe aliasing by 12 or more: best read "
        "against the same protocol",
    ),
    _e(
        "pe_detail_loss",
        "Loss of phase-encoding detail (motion between k-space segments): fine-detail share along readout over PE.",
        "s_RO / s_PE, s_axis = share of 1D spectral energy at |f| > 0.25 cycles/voxel, <= 24 evenly spaced slices",
        "ratio",
        False,
        "Zaitsev et al., JMRI 2015;42:887-901 (motion artifacts)",
        (0.0, 3.0),
        "~1 for isotropic in-plane detail; clean real scans read 0.7-3.0 (anisotropic voxels), severe motion 2-6",
    ),
    _e(
        "inu_cv",
        "Intensity non-uniformity: coefficient of variation of the head image smoothed with sigma = FOV/8.",
        "std / mean over the head of G*(I m / median) / G*m, Gaussian sigma N/8 per axis on <= 48 block means",
        "fraction",
        False,
        "Sled et al., IEEE TMI 1998;17:87-97 (bias field)",
        (0.0, 0.25),
        "clean real scans keep 0.06-0.16 of anatomical slow variation; a severe simulated bias field reads 0.45-0.7",
    ),
]
_ENTRIES += [
    _e(
        f"summary_{region}_{stat}",
        f"{label} of the {region} region intensities.",
        formula,
        "a.u.",
        None,
        MRIQC,
        None,
        "arbitrary scanner units",
    )
    for region in ("head", "air", "dark", "mid", "bright")
    for stat, label, formula in (
        ("mean", "Mean", "mean"),
        ("stdv", "Standard deviation", "std"),
        ("p05", "5th percentile", "P5"),
        ("p95", "95th percentile", "P95"),
    )
]

_MRQY = [
    ("MEAN", "Mean of the slice foreground f.", "mean(f)", "a.u.", None, None),
    ("RNG", "Range of the foreground.", "max(f) - min(f)", "a.u.", None, None),
    ("VAR", "Variance of the foreground.", "var(f)", "a.u.^2", None, None),
    ("CV", "Coefficient of variation of the foreground, percent.", "100 std(f)/mean(f)", "%", False, (0.0, 80.0)),
    (
        "CPP",
        "Contrast per pixel (defect: zero-sum kernel, only border pixels contribute).",
        "mean(conv2(F, [[-1/8]*3,[-1/8,1,-1/8],[-1/8]*3]))",
        "a.u.",
        True,
        None,
    ),
    (
        "PSNR",
        "Peak SNR against a 5x5 median of F/max F (defect: mixes two scales).",
        "20 log10(max F / sqrt(mean((F - median5(F/max F))^2)))",
        "dB",
        True,
        None,
    ),
    ("SNR1", "Foreground std over background std.", "std(f)/std(b)", "ratio", True, (3.0, float("inf"))),
    ("SNR2", "Mean of the patch at the foreground max over background std.", "mean(Pf)/std(b)", "ratio", True, None),
    ("SNR3", "Foreground patch mean over its std.", "mean(Pf)/std(Pf)", "ratio", True, None),
    ("SNR4", "Foreground patch mean over background patch std.", "mean(Pf)/std(Pb)", "ratio", True, None),
    ("CNR", "Patch contrast over background patch std.", "mean(Pf - Pb)/std(Pb)", "ratio", True, None),
    ("CVP", "Coefficient of variation of the foreground patch.", "std(Pf)/mean(Pf)", "ratio", False, None),
    (
        "CJV",
        "Joint variation of foreground and background.",
        "(std(f)+std(b))/|mean(f)-mean(b)|",
        "ratio",
        False,
        None,
    ),
    (
        "EFC",
        "Entropy focus criterion with MRQy's 1e16 (defect: not an entropy).",
        "(1/|Emax|) sum (F/L2) ln((F+1e16)/L2)",
        "a.u.",
        False,
        None,
    ),
    (
        "FBER",
        "Foreground-background energy ratio (squares wrap in the stored integer type).",
        "median(f^2)/median(b^2); 0 if the denominator < 1e-3",
        "ratio",
        True,
        None,
    ),
    ("NUM", "Number of slices.", "shape[2]", "count", None, None),
    ("ROWS", "Rows per slice.", "shape[0]", "count", None, None),
    ("COLS", "Columns per slice.", "shape[1]", "count", None, None),
    ("VRX", "Voxel size along axis 0.", "spacing[0], 2 decimals", "mm", None, None),
    ("VRY", "Voxel size along axis 1.", "spacing[1], 2 decimals", "mm", None, None),
    ("VRZ", "Voxel size along axis 2.", "spacing[2], 2 decimals", "mm", None, None),
]

CATALOGUE: dict[str, MetricInfo] = {e.name: e for e in _ENTRIES}
CATALOGUE.update(
    {
        name: _e(
            name,
            meaning,
            formula,
            unit,
            hib,
            MRQY,
            rng,
            "MRQy reports no reference range; the range given is that of the default profile's counterpart"
            if rng
            else "MRQy reports no reference range",
            profile="mrqy",
        )
        for name, meaning, formula, unit, hib, rng in _MRQY
    }
)

# artifact kind -> the metric that moves with its severity (direction: CATALOGUE[name].higher_is_better), as
# registered with each kind in mmrqa.artifacts.registry
ARTIFACT_INDICATORS: dict[str, str] = {kind.name: kind.indicator for kind in ARTIFACT_KINDS}


def reference_range(catalogue: dict[str, Any], name: str) -> tuple[float | None, float | None] | None:
    """The acceptable range of a metric, ``None`` bounds (or infinite ones) meaning unbounded on that side."""
    info = catalogue.get(name)
    rng = getattr(info, "reference_range", None) if info is not None else None
    if rng is None:
        return None
    low, high = (None if b is None or not math.isfinite(b) else float(b) for b in rng)
    return None if low is None and high is None else (low, high)


def has_light(name: str) -> bool:
    """Whether a metric is judged with a traffic light: it has a reference range in :data:`CATALOGUE` or it is an
    artifact indicator (the metrics an assessment shows with lights, against ranges or a cohort)."""
    return name in CATALOGUE and (reference_range(CATALOGUE, name) is not None or name in ARTIFACT_INDICATORS.values())


def is_acceptable(value: float, bounds: tuple[float | None, float | None]) -> bool:
    """Whether ``value`` lies in ``bounds`` (bounds included; a ``None`` bound is open)."""
    low, high = bounds
    return (low is None or value >= low) and (high is None or value <= high)
