"""Out-of-domain check on real files: which non-MRI inputs are reported outside the domain, and that real MR is not.

    python benchmarks/domain_check.py                  # derive the image-rule thresholds, then the held-out report
    python benchmarks/domain_check.py --variants       # and the share of simulated artifact variants the rules reject
    python benchmarks/domain_check.py --json out.json
    python benchmarks/domain_check.py --pictures DIR   # and every picture of DIR, as it is and shrunk (repeatable)

Sets (split by source, never by file):
  MR training    every scan of :func:`mmrqa.classifier.data.real_scans` as it is and its 18 clean views (the seeds of
                 the classifier's table): the rules' thresholds keep all of them inside
  design         non-MR inputs the new rules were designed on: scikit-image's pictures, scikit-learn's two JPEG
                 photographs (china, flower) and synthetic images (smooth fields, smoothed noise, label maps); the
                 photographs among them also train the photograph check (:mod:`mmrqa.classifier.pictures`), so
                 their verdicts here are not a test of it
  held-out       non-MR files never looked at to set a threshold: the Debian ``mricron-data`` atlases,
                 ``insighttoolkit5-examples`` pictures, masks and segmentations, pydicom-data files of other
                 modalities (their metadata dropped, as if the pixels were saved to NIfTI/PNG: the image alone must
                 tell); the desktop wallpapers (photographs and digital art) under ``/usr/share/backgrounds``
                 and its subfolders, and one size of each KDE Plasma wallpaper under ``/usr/share/wallpapers``
                 (Debian ``ukui-wallpapers``, ``lomiri-wallpapers``, ``lomiri-wallpapers-16.04``/``-20.04``,
                 ``gnome-backgrounds``, ``mate-backgrounds``, ``sway-backgrounds``, ``plasma-workspace-wallpapers``
                 and whatever else is installed there), as grayscale, as the files are and shrunk to 512 pixels
                 on their longer side (no JPEG grid left: what a user may send); and held-out MR files (the
                 ``mricron-data`` templates, the ITK MR slices and volumes, pydicom-data MR files) with 6
                 clinical-looking views each (``make_view``) -- those that ``real_scans()`` now trains on move to
                 the MR training set

The picture-size limits (``MAX_PICTURE_SHORT_SIDE``) are not derived from any set: they come from the largest MR
slice matrix (1024 x 1024, interpolated). Any other threshold is the geometric midpoint between the extreme value on
the clean MR training views and the extreme on the design inputs of the kind the rule is for (:func:`derive`);
``mmrqa.classifier.domain`` holds the rounded values.
Files absent on this machine are skipped and counted.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

ITK = Path("/usr/share/doc/insighttoolkit5-examples/examples/Data")
WALLPAPERS = Path("/usr/share/backgrounds")
PLASMA_WALLPAPERS = Path("/usr/share/wallpapers")
SHRUNK_SIDE = 512
PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
MRICRON = Path("/usr/share/mricron/templates")
HELD_OUT_VIEWS = 6

ITK_NON_MR = {
    "VisibleWomanEyeSlice.png": "photograph (cryosection)",
    "VisibleWomanHeadSlice.png": "photograph (cryosection)",
    "BinaryImage.png": "mask / drawing",
    "Circle.png": "mask / drawing",
    "CircleSpikes.png": "mask / drawing",
    "DiagonalLines.png": "mask / drawing",
    "FFTCosinus.png": "synthetic pattern",
    "FFTcenteredDC.png": "synthetic pattern",
    "FivePoints.png": "mask / drawing",
    "FivePointsDilated.png": "mask / drawing",
    "HoughTransformTwoCircles.png": "mask / drawing",
    "HoughTransformTwoLines.png": "mask / drawing",
    "VentricleModel.png": "label map",
    "WatershedSegmentation.png": "label map",
    "BrainProtonDensitySliceBorder20Mask.png": "mask / drawing",
    "KmeansTest_T1KmeansPrelimSegmentation.nii.gz": "label map",
    "KmeansTest_T1RawSkullStrip.nii.gz": "label map",
    "CorpusCallosumMeanShape.mha": "shape model (signed distance)",
    "itkBrainSliceComplexPhase.mha": "MR phase map",
}
MRICRON_ATLASES = (
    "aal",
    "brodmann",
    "HarvardOxford-cort-maxprob-thr0-1mm",
    "JHU-WhiteMatter-labels-1mm",
    "JHU-WhiteMatter-labels-2mm",
    "AICHAmc",
    "jhu189",
    "natbrainlab",
    "inia19-NeuroMaps",
)
PYDICOM_NON_MR = {
    "CT_small.dcm": "CT",
    "693_UNCR.dcm": "CT",
    "eCT_Supplemental.dcm": "CT",
    "RG1_UNCR.dcm": "radiograph (CR)",
    "RG3_UNCR.dcm": "radiograph (CR)",
    "US1_UNCR.dcm": "ultrasound",
    "examples_palette.dcm": "ultrasound",
    "OBXXXX1A.dcm": "ultrasound",
    "gdcm-US-ALOKA-16.dcm": "ultrasound",
    "JPEG2000_UNC.dcm": "nuclear medicine",
    "liver.dcm": "label map",
    "mlut_18.dcm": "CT",
    "vlut_04.dcm": "secondary capture",
}
MRICRON_MR = ("ch2", "ch2bet", "ch2better", "inia19-t1-brain")
ITK_MR = (
    "KmeansTest_T1UCharRaw.nii.gz",
    "BrainProtonDensity3Slices.mha",
    "BrainT1Slice.png",
    "FatMRISlice.png",
    "BrainProtonDensitySlice.png",
    "BrainProtonDensitySlice256x256.png",
    "BrainMidSagittalSlice.png",
    "BrainT1SliceBorder20.png",
    "BrainProtonDensitySliceBorder20.png",
    "RatLungSlice1.mha",
    "RatLungSlice2.mha",
    "itkBrainSliceComplexMagnitude.mha",
)
PYDICOM_MR = ("emri_small.dcm", "examples_overlay.dcm")
#: scikit-image's drawings and label maps (its photographs are those of the photograph check's design set)
SKIMAGE_DRAWINGS = {"horse.png": "mask / drawing", "phantom.png": "label map", "chessboard_GRAY.png": "mask / drawing"}

Loader = Callable[[], object]


def plain(volume):
    """The same pixels with no metadata (as if saved to NIfTI): the image itself must give it away."""
    from mmrqa.volume import Volume

    return Volume(volume.data, volume.spacing, volume.affine, {})


def _array(data: np.ndarray):
    from mmrqa.volume import Volume

    data = np.asarray(data, dtype=np.float32)
    return Volume(data if data.ndim == 3 else data[:, :, None], (1.0, 1.0, 1.0), np.eye(4), {})


def _dicom(name: str) -> Path | None:
    from mmrqa.data import pydicom_test_file

    return pydicom_test_file(name)


def synthetic(seed: int = 0) -> dict[str, tuple[str, Loader]]:
    """Design set: smooth fields, smoothed noise and label maps made here (name -> (kind, loader))."""
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    x, y = np.meshgrid(np.linspace(-1, 1, 256), np.linspace(-1, 1, 256), indexing="ij")
    out: dict[str, tuple[str, Loader]] = {
        "Gaussian blob": ("smooth field", lambda: _array(1000 * np.exp(-(x**2 + y**2) / 0.3))),
        "radial gradient": ("smooth field", lambda: _array(1000 * np.hypot(x, y))),
        "sine pattern": ("smooth field", lambda: _array(500 + 400 * np.sin(6 * x) * np.cos(4 * y))),
    }
    for sigma in (2, 4, 8):
        noise3, noise2 = rng.random((128, 128, 32)), rng.random((256, 256))
        out[f"smoothed noise 3D sigma {sigma}"] = (
            "smoothed noise",
            lambda n=noise3, s=sigma: _array(1000 * ndimage.gaussian_filter(n, s)),
        )
        out[f"smoothed noise 2D sigma {sigma}"] = (
            "smoothed noise",
            lambda n=noise2, s=sigma: _array(1000 * ndimage.gaussian_filter(n, s)),
        )
    labels = ndimage.zoom(rng.integers(1, 41, (12, 12, 10)), 10, order=0)[:120, :120, :100].astype(np.float32)
    centre = np.indices(labels.shape) - np.array([60, 60, 50])[:, None, None, None]
    head = (centre[0] ** 2 + centre[1] ** 2 + (1.2 * centre[2]) ** 2) < 50**2
    out["40-label atlas"] = ("label map", lambda: _array(np.where(head, labels, 0)))
    blocks = ndimage.zoom(rng.integers(1, 200, (8, 8, 8)), 16, order=0).astype(np.float32)
    out["200-label blocks"] = ("label map", lambda: _array(blocks))
    return out


def skimage_pictures() -> dict[str, tuple[str, Loader]]:
    """Design set: scikit-image's pictures, the colour ones as grayscale (name -> (kind, loader))."""
    try:
        import skimage.data
    except ImportError:
        return {}
    from mmrqa.classifier.pictures import SKIMAGE_COLOUR_PHOTOGRAPHS, SKIMAGE_GRAY_PHOTOGRAPHS
    from mmrqa.io import load_volume

    folder = Path(skimage.data.__file__).parent
    out: dict[str, tuple[str, Loader]] = {}
    gray = [*SKIMAGE_GRAY_PHOTOGRAPHS, *SKIMAGE_DRAWINGS]
    for name in gray:
        kind = SKIMAGE_DRAWINGS.get(name, "photograph")
        out[f"skimage {name}"] = (kind, lambda p=folder / name: plain(load_volume(p)))
    for name in SKIMAGE_COLOUR_PHOTOGRAPHS:
        out[f"skimage {name} (grayscale)"] = ("photograph", lambda p=folder / name: plain(load_volume(p)))
    return out


def sklearn_photographs() -> dict[str, tuple[str, Loader]]:
    """Design set: scikit-learn's two JPEG photographs (china, flower), as grayscale."""
    import sklearn

    from mmrqa.classifier.pictures import SKLEARN_PHOTOGRAPHS
    from mmrqa.io import load_volume

    folder = Path(sklearn.__file__).parent / "datasets" / "images"
    return {
        f"sklearn {name} (grayscale)": ("photograph", lambda p=folder / name: plain(load_volume(p)))
        for name in SKLEARN_PHOTOGRAPHS
        if (folder / name).is_file()
    }


def wallpaper_files() -> list[Path]:
    """The desktop wallpapers installed here: every picture under /usr/share/backgrounds (its subfolders included),
    and one size of each KDE Plasma wallpaper under /usr/share/wallpapers (the median file size of its sizes)."""
    suffixes = (".jpg", ".jpeg", ".png")
    files = sorted(p for p in WALLPAPERS.rglob("*") if p.suffix.lower() in suffixes) if WALLPAPERS.is_dir() else []
    for folder in sorted(PLASMA_WALLPAPERS.glob("*/contents/images")):
        sizes = sorted((p for p in folder.iterdir() if p.suffix.lower() in suffixes), key=lambda p: p.stat().st_size)
        files += sizes[len(sizes) // 2 : len(sizes) // 2 + 1]
    return files


def wallpapers() -> dict[str, tuple[str, Loader]]:
    """Held-out pictures: the desktop wallpapers (photographs and digital art) as the files are, in grayscale."""
    from mmrqa.io import load_volume

    return {
        f"wallpaper {_short(p)} (grayscale)": (
            f"wallpaper ({p.suffix.lower().lstrip('.')})",
            lambda p=p: plain(load_volume(p)),
        )
        for p in wallpaper_files()
    }


def shrunk_wallpapers(side: int = SHRUNK_SIDE) -> dict[str, tuple[str, Loader]]:
    """Held-out pictures as a user may send them: each wallpaper in grayscale, shrunk to ``side`` pixels on its
    longer side (Lanczos), kept as pixels (no JPEG grid): only what the image shows can tell."""
    return {
        f"shrunk {_short(p)}": (f"picture shrunk to {side} px", lambda p=p: _shrunk(p, side))
        for p in wallpaper_files()
    }


def _shrunk(path: Path, side: int):
    from PIL import Image

    with Image.open(path) as image:
        gray = image.convert("L")
        gray.thumbnail((side, side), Image.LANCZOS)
        return _array(np.asarray(gray, dtype=np.float32).T)


def folder_pictures(folder: Path, side: int = SHRUNK_SIDE) -> dict[str, tuple[str, Loader]]:
    """Every picture file of ``folder`` (and its subfolders), as grayscale as it is and shrunk to ``side`` pixels."""
    from mmrqa.io import load_volume

    out: dict[str, tuple[str, Loader]] = {}
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in PICTURE_SUFFIXES and p.is_file())
    for p in files:
        short = f"{folder.name}/{p.relative_to(folder)}"
        out[f"{short} (grayscale)"] = (f"photograph ({folder.name})", lambda p=p: plain(load_volume(p)))
        out[f"shrunk {short}"] = (f"{folder.name} shrunk to {side} px", lambda p=p: _shrunk(p, side))
    return out


def _short(path: Path) -> str:
    """A wallpaper's name: its path under the wallpaper folder (a Plasma wallpaper: its folder's name)."""
    if path.is_relative_to(PLASMA_WALLPAPERS):
        return f"plasma/{path.relative_to(PLASMA_WALLPAPERS).parts[0]}"
    return str(path.relative_to(WALLPAPERS))


def held_out_non_mr() -> dict[str, tuple[str, Loader]]:
    """Held-out non-MR files of the Debian packages and pydicom-data, metadata dropped (name -> (kind, loader))."""
    from mmrqa.io import load_volume

    out: dict[str, tuple[str, Loader]] = {}
    for name in MRICRON_ATLASES:
        path = MRICRON / f"{name}.nii.gz"
        if path.is_file():
            out[f"mricron {name}"] = ("label map (atlas)", lambda p=path: plain(load_volume(p)))
    for name, kind in ITK_NON_MR.items():
        if (ITK / name).is_file():
            out[f"itk {name}"] = (kind, lambda p=ITK / name: plain(load_volume(p)))
    for name, kind in PYDICOM_NON_MR.items():
        path = _dicom(name)
        if path is not None:
            out[f"pydicom {name}"] = (kind, lambda p=path: plain(load_volume(p)))
    return out


def held_out_mr() -> dict[str, Loader]:
    """Held-out real MR files (name -> loader); a file that ``real_scans()`` trains on is left out of this set."""
    from mmrqa.classifier.data import real_scans
    from mmrqa.io import load_volume

    training = {os.path.realpath(scan.path) for scan in real_scans() if scan.path}
    out: dict[str, Loader] = {}
    for name in MRICRON_MR:
        path = MRICRON / f"{name}.nii.gz"
        if path.is_file():
            out[f"mricron {name}"] = lambda p=path: load_volume(p)
    for name in ITK_MR:
        if (ITK / name).is_file():
            out[f"itk {name}"] = lambda p=ITK / name: load_volume(p)
    for name in PYDICOM_MR:
        path = _dicom(name)
        if path is not None:
            out[f"pydicom {name}"] = lambda p=path: load_volume(p)
    return {name: load for name, load in out.items() if os.path.realpath(_path_of(name)) not in training}


def _path_of(name: str) -> str:
    source, file = name.split(" ", 1)
    if source == "mricron":
        return str(MRICRON / f"{file}.nii.gz")
    if source == "itk":
        return str(ITK / file)
    return str(_dicom(file))


def training_views() -> Iterator[tuple[str, object]]:
    """Every scan of ``real_scans()`` as it is (decimated) and its clean views, as the classifier's table makes them."""
    from mmrqa.classifier.data import CLEAN_ONLY_VIEWS, RECIPE_VERSION, VIEWS, _seed, make_view, real_scans
    from mmrqa.classifier.features import decimate

    for scan in real_scans():
        volume = scan.load()
        yield scan.name, decimate(volume)
        for v in range(VIEWS + CLEAN_ONLY_VIEWS):
            yield (
                scan.name,
                make_view(volume, np.random.default_rng(_seed(RECIPE_VERSION, scan.name, v)), scan.template),
            )


def derive(train: list[dict], design: list[dict]) -> dict[str, float]:
    """Geometric midpoints between the clean MR training extreme and the design extreme of each rule's kind."""

    def ext(rows, key, fn, kinds=None):
        vals = [r[key] for r in rows if (kinds is None or r["kind"] in kinds) and math.isfinite(r[key])]
        return fn(vals)

    labels = ("label map", "mask / drawing")
    pairs = {
        "MAX_FLAT_SHARE": (ext(train, "flat_share", max), ext(design, "flat_share", min, labels)),
        "MAX_DARK_RATIO": (ext(train, "dark_ratio", max), ext(design, "dark_ratio", min, ("smoothed noise",))),
        "MIN_NOISE_FLOOR": (ext(train, "noise_floor", min), ext(design, "noise_floor", max, ("smooth field",))),
        "MAX_COARSE_SLOPE": (ext(train, "coarse_slope", max), ext(design, "coarse_slope", min, ("smooth field",))),
        # pictures that clip by construction (drawings: flat white)
        "MAX_SATURATED_SHARE": (
            ext(train, "saturated_share", max),
            ext(design, "saturated_share", min, ("mask / drawing",)),
        ),
        # the most JPEG-like photograph of the design set (most design photographs are PNG files: no block grid)
        "MAX_JPEG_BLOCKINESS": (
            ext(train, "jpeg_blockiness", max),
            ext(design, "jpeg_blockiness", max, ("photograph",)),
        ),
    }
    return {k: {"mr": a, "design": b, "midpoint": math.sqrt(a * b)} for k, (a, b) in pairs.items()}


def judge(volume) -> tuple[bool, str | None, str | None]:
    """(in the domain, reason, the rule-only reason) of the full check (rules then novelty) of ``classify``."""
    from mmrqa.classifier import classify
    from mmrqa.classifier.domain import image_rules
    from mmrqa.classifier.features import decimate
    from mmrqa.errors import MMRQAError

    small = decimate(volume)
    rule = image_rules(small, native=volume)
    try:
        verdict = classify(volume)
    except MMRQAError as exc:  # e.g. no foreground: it is not rated either, say why
        return False, f"not measurable: {exc}", rule
    return verdict.in_domain, verdict.domain_reason, rule


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", action="store_true", help="also the simulated artifact variants of the table")
    parser.add_argument("--json", type=Path, help="write every number here")
    parser.add_argument(
        "--pictures",
        type=Path,
        action="append",
        default=[],
        help="a folder of more held-out pictures (photographs), judged as they are and shrunk to 512 pixels",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    warnings.filterwarnings("ignore")
    from mmrqa.classifier import domain
    from mmrqa.classifier.data import make_view
    from mmrqa.classifier.domain import image_statistics, jpeg_blockiness
    from mmrqa.classifier.features import decimate
    from mmrqa.errors import MMRQAError

    report: dict = {}
    report["size_limits"] = {k: getattr(domain, k) for k in ("MAX_PICTURE_SHORT_SIDE", "MAX_PICTURE_LONG_SIDE")}
    train = [
        {"scan": s, **image_statistics(v), "jpeg_blockiness": jpeg_blockiness(v.data)} for s, v in training_views()
    ]
    design_rows, design_judged = [], []
    for name, (kind, load) in {**synthetic(), **skimage_pictures(), **sklearn_photographs()}.items():
        volume = load()
        design_rows.append(
            {
                "name": name,
                "kind": kind,
                **image_statistics(decimate(volume)),
                "jpeg_blockiness": jpeg_blockiness(volume.data),
            }
        )
        inside, reason, _ = judge(volume)
        design_judged.append({"name": name, "kind": kind, "in_domain": inside, "reason": reason})
    report["thresholds"] = derive(train, design_rows)
    report["thresholds_used"] = {k: getattr(domain, k) for k in report["thresholds"]}
    report["training_mr"] = {
        "n": len(train),
        "rule_rejects": sum(
            domain.statistics_rules(r) is not None or domain.jpeg_rule(r["jpeg_blockiness"]) is not None for r in train
        ),
        "max_jpeg_blockiness": max(r["jpeg_blockiness"] for r in train if math.isfinite(r["jpeg_blockiness"])),
    }
    report["design"] = design_judged

    held = []
    extra = {k: v for folder in args.pictures for k, v in folder_pictures(folder).items()}
    for name, (kind, load) in {**held_out_non_mr(), **wallpapers(), **shrunk_wallpapers(), **extra}.items():
        try:
            volume = load()
        except MMRQAError as exc:  # a picture whose gray levels are all one value (its drawing is in the alpha)
            held.append({"name": name, "kind": kind, "in_domain": False, "reason": f"not loaded: {exc}"})
            continue
        inside, reason, _ = judge(volume)
        held.append({"name": name, "kind": kind, "in_domain": inside, "reason": reason})
    report["held_out_non_mr"] = held
    mr = []
    for name, load in held_out_mr().items():
        volume = load()
        inside, reason, _ = judge(volume)
        views_out = []
        for v in range(HELD_OUT_VIEWS):
            view = make_view(volume, np.random.default_rng(1000 + v), template=False)
            v_inside, v_reason, _ = judge(view)
            if not v_inside:
                views_out.append(v_reason)
        mr.append({"name": name, "in_domain": inside, "reason": reason, "views_out": views_out})
    report["held_out_mr"] = mr

    if args.variants:
        report["variants"] = variant_losses()

    _print(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=float) + "\n", encoding="utf-8")
    return 0


def variant_losses() -> dict[str, list[int]]:
    """kind/severity -> [rejected by the image rules, n] over the simulated variants of the training views."""
    from mmrqa.classifier.data import RECIPE_VERSION, VIEWS, _seed, make_view, real_scans, variants
    from mmrqa.classifier.domain import image_rules

    out: dict[str, list[int]] = {}
    for scan in real_scans():
        volume = scan.load()
        for v in range(VIEWS):
            seed = _seed(RECIPE_VERSION, scan.name, v)
            view = make_view(volume, np.random.default_rng(seed), scan.template)
            for kind, severity, variant in variants(view, seed, clean_only=False):
                cell = out.setdefault(f"{kind}/{severity}", [0, 0])
                cell[0] += image_rules(variant) is not None  # the statistics rules and the JPEG rule
                cell[1] += 1
    return out


def _print(report: dict) -> None:
    print("thresholds (geometric midpoint of MR training extreme and design extreme; value used):")
    for k, t in report["thresholds"].items():
        print(
            f"  {k}: MR {t['mr']:.4g}, design {t['design']:.4g}, midpoint {t['midpoint']:.4g}; used {report['thresholds_used'][k]}"
        )
    limits = report["size_limits"]
    print(
        f"picture-size limits (from the largest MR slice matrix, not derived): short side "
        f"{limits['MAX_PICTURE_SHORT_SIDE']}, long side {limits['MAX_PICTURE_LONG_SIDE']}"
    )
    tr = report["training_mr"]
    print(
        f"MR training (real_scans as they are + clean views): {tr['rule_rejects']} of {tr['n']} rejected by the rules"
    )
    for title, rows in (("design (non-MR)", report["design"]), ("held-out non-MR", report["held_out_non_mr"])):
        out = sum(not r["in_domain"] for r in rows)
        print(f"\n{title}: {out} of {len(rows)} outside the domain")
        kinds: dict[str, list[int]] = {}
        for r in rows:
            cell = kinds.setdefault(r["kind"], [0, 0])
            cell[0] += not r["in_domain"]
            cell[1] += 1
        for kind, (o, n) in sorted(kinds.items()):
            print(f"  {kind}: {o}/{n}")
        for r in rows:
            mark = "OUT" if not r["in_domain"] else "in "
            print(f"    {mark} {r['name']}: {r['reason'] or ''}"[:170])
    mr = report["held_out_mr"]
    n_views = sum(HELD_OUT_VIEWS for _ in mr)
    print(
        f"\nheld-out MR: {sum(not r['in_domain'] for r in mr)} of {len(mr)} files outside; "
        f"{sum(len(r['views_out']) for r in mr)} of {n_views} views outside"
    )
    for r in mr:
        if not r["in_domain"] or r["views_out"]:
            print(f"    {r['name']}: {r['reason']}; views out: {r['views_out']}"[:300])
    if "variants" in report:
        total = [sum(c[0] for c in report["variants"].values()), sum(c[1] for c in report["variants"].values())]
        print(f"\nsimulated variants rejected by the image rules: {total[0]} of {total[1]}")
        for key, (o, n) in sorted(report["variants"].items()):
            if o:
                print(f"  {key}: {o}/{n}")


if __name__ == "__main__":
    raise SystemExit(main())
