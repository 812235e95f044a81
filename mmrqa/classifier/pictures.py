"""Is this a photograph? A learned check beside the image rules, for the pictures the rules let through.

The rules of :mod:`mmrqa.classifier.domain` exclude what an MR magnitude image cannot be (colour, clipped
highlights, a JPEG block grid, a camera-sized picture, nothing dark, ...). A grayscale photograph of MR size, saved
without JPEG, breaks none of them: scikit-image's ``camera.png`` (512 x 512, a man with a camera) was rated as a clean
MR scan, and so were two thirds of the desktop wallpapers of the domain check once shrunk to 512 pixels. Its metrics
are no farther from the training scans than a real scan's either (novelty 2-6 against a threshold of 15): the
training rows span every artifact at every severity, and a photograph's sharpness, noise and contrast fall inside
that span, one feature at a time. What differs is how they go together (a photograph's fine detail is texture,
everywhere and at every level; an MR image's is thermal noise, the same over air and tissue), which no single
threshold reads, but trees fitted to tell the two apart do.

**The check.** A ``GradientBoostingClassifier`` (the heads' settings) tells the training rows of the classifier (every
view and every artifact of the training scans: all of them are MR) from views of :data:`SKIMAGE_PHOTOGRAPHS` and
:data:`SKLEARN_PHOTOGRAPHS`, the photographs that scikit-image and scikit-learn install (drawings and label maps left to the rules). Its inputs are the
classifier's features and the image statistics of :func:`mmrqa.classifier.domain.image_statistics`. Rows that the
rules exclude already are left out on both sides.

**Views of a photograph** (:func:`picture_view`, seeded per picture): the picture as it is, then crops keeping
50-100% of each side, most of them shrunk (Lanczos, as an image viewer or a slide export would) to a longer side of
96-512 pixels, half of them rounded to integers, then brought to the classifier's grid like a scan.

**Only single pictures are judged**, and only in files that do not say they are MR (:func:`mmrqa.classifier.predict.classify`
skips the check for a DICOM of modality MR): a photograph is one 2D picture, and a volume never is. The check's
mistakes on MR fall on 2D images anyway (out of fold, no 3D clean view of a training scan was ever called a
photograph at any threshold tried, 0.9-0.995), and 2D MR exported as PNG is where a photograph can pass for MR.

**Threshold** (:func:`fit_picture_check`): the photographs and the training scans are dealt into
:data:`FOLDS` groups (a picture's views, and a scan's rows, stay together); each group is scored by trees fitted
without it. The threshold is the ``1 - MAX_CLEAN_FLAGGED`` quantile of those out-of-fold probabilities over the
scans' clean 2D rows (the MR images the check judges), so that about 1% of the clean 2D views of scans the trees never
saw are called photographs (at least :data:`MIN_THRESHOLD`). Clean views, not corrupted ones, set it: a wrong "not
MR" on them costs most (no rating for a good scan), and the trees take them for photographs far more often (out of
fold at 0.95: 6.0% of the clean 2D rows, 0.8% of all 2D rows; mostly views of ITK's rat thorax slice and of fslpy's
T1 crop). No held-out picture or held-out MR file is used to fit it or to set its threshold (the restriction to 2D
pictures came after a first version, applied to every input, called 11 of 144 clean views of ITK's held-out MR files
photographs: ``benchmarks/RESULTS.md`` tells it).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mmrqa.classifier.domain import STATISTIC_NAMES, statistics_rules
from mmrqa.classifier.trees import TreeEnsemble
from mmrqa.volume import Volume

logger = logging.getLogger(__name__)

#: scikit-image's photographs (``skimage/data``; its drawings and label maps excluded) and scikit-learn's two
SKIMAGE_GRAY_PHOTOGRAPHS = (
    "camera.png",
    "moon.png",
    "coins.png",
    "text.png",
    "cell.png",
    "page.png",
    "grass.png",
    "gravel.png",
    "brick.png",
    "clock_motion.png",
    "microaneurysms.png",
)
#: scikit-image's colour photographs (read as grayscale, as :mod:`mmrqa.io` reads any colour picture)
SKIMAGE_COLOUR_PHOTOGRAPHS = (
    "astronaut.png",
    "retina.jpg",
    "ihc.png",
    "logo.png",
    "motorcycle_left.png",
    "coffee.png",
    "rocket.jpg",
)
SKIMAGE_PHOTOGRAPHS = SKIMAGE_GRAY_PHOTOGRAPHS + SKIMAGE_COLOUR_PHOTOGRAPHS
SKLEARN_PHOTOGRAPHS = ("china.jpg", "flower.jpg")
#: views per photograph (the first is the picture as it is)
PICTURE_VIEWS = 60
#: bump when the view recipe changes (the cached rows are then remade)
PICTURE_RECIPE_VERSION = 1
#: longer sides a view is shrunk to (pixels), when it is shrunk
SHRUNK_SIDES = (96, 128, 192, 256, 320, 384, 512)
#: share of the out-of-fold clean rows of training scans allowed above the threshold
MAX_CLEAN_FLAGGED = 0.01
MIN_THRESHOLD = 0.5
FOLDS = 5
PHOTOGRAPH, MR = "photograph", "mr"


def check_features() -> list[str]:
    """The check's inputs, in order: the classifier's features, then the image statistics."""
    from mmrqa.classifier.features import feature_names

    return [*feature_names(), *STATISTIC_NAMES]


def design_photographs() -> dict[str, Path]:
    """Name -> file of :data:`SKIMAGE_PHOTOGRAPHS` and :data:`SKLEARN_PHOTOGRAPHS` that are installed."""
    out: dict[str, Path] = {}
    try:
        import skimage.data

        folder = Path(skimage.data.__file__).parent
        out.update({f"skimage {name}": folder / name for name in SKIMAGE_PHOTOGRAPHS})
    except ImportError:
        pass
    try:
        import sklearn

        folder = Path(sklearn.__file__).parent / "datasets" / "images"
        out.update({f"sklearn {name}": folder / name for name in SKLEARN_PHOTOGRAPHS})
    except ImportError:
        pass
    return {name: path for name, path in out.items() if path.is_file()}


def gray_picture(path: Path) -> np.ndarray:
    """A picture file as a 2D float32 array (x, y), colour converted to grayscale by :mod:`mmrqa.io`."""
    from mmrqa.io import load_volume

    return np.asarray(load_volume(path).data, dtype=np.float32)[:, :, 0]


def picture_view(gray: np.ndarray, rng: np.random.Generator) -> Volume:
    """One view of a 2D grayscale picture (the module docstring's recipe), on the classifier's grid."""
    from PIL import Image

    from mmrqa.classifier.data import SIDES
    from mmrqa.classifier.features import decimate

    nx, ny = gray.shape
    keep_x, keep_y = rng.uniform(0.5, 1.0, 2)
    sx, sy = max(16, int(nx * keep_x)), max(16, int(ny * keep_y))
    x0, y0 = int(rng.integers(0, nx - sx + 1)), int(rng.integers(0, ny - sy + 1))
    crop = gray[x0 : x0 + sx, y0 : y0 + sy]
    if rng.random() < 0.6:
        scale = int(rng.choice(SHRUNK_SIDES)) / max(crop.shape)
        if scale < 1:
            size = (max(8, round(crop.shape[1] * scale)), max(8, round(crop.shape[0] * scale)))
            crop = np.asarray(Image.fromarray(np.ascontiguousarray(crop), mode="F").resize(size, Image.LANCZOS))
    data = np.asarray(crop, dtype=np.float32)[:, :, None]
    if rng.random() < 0.5:
        data = np.round(np.clip(data, 0, None))
    return decimate(Volume(data, (1.0, 1.0, 1.0), np.eye(4), {}), int(rng.choice(SIDES)))


def picture_rows(cache: Path | None = None, views: int = PICTURE_VIEWS) -> list[dict[str, object]]:
    """Feature rows of the views of every design photograph (``scan``: the picture, ``view``), cached per picture."""
    from mmrqa.classifier.data import CACHE_DIR, read_rows, row_of, rows_to_tsv
    from mmrqa.classifier.features import decimate, feature_names
    from mmrqa.errors import MMRQAError
    from mmrqa.fileio import write_text_atomic

    cache = CACHE_DIR if cache is None else cache
    rows: list[dict[str, object]] = []
    for name, path in design_photographs().items():
        key = repr((PICTURE_RECIPE_VERSION, views, name, path.stat().st_size, feature_names(), STATISTIC_NAMES))
        stored = cache / f"picture-{name.replace(' ', '_')}-{hashlib.sha256(key.encode()).hexdigest()[:12]}.tsv"
        if stored.is_file():
            rows += read_rows(stored)
            continue
        logger.info("measuring the views of %s", name)
        gray = gray_picture(path)
        rng = np.random.default_rng(int(hashlib.sha256(name.encode()).hexdigest()[:12], 16))
        made = []
        for v in range(views):
            view = picture_view(gray, rng) if v else decimate(Volume(gray[:, :, None], (1.0,) * 3, np.eye(4), {}))
            try:
                made.append({"scan": name, "view": v, "kind": PHOTOGRAPH, "severity": "none", **row_of(view)})
            except MMRQAError as exc:
                logger.info("%s view %d skipped: %s", name, v, exc)
        stored.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(stored, rows_to_tsv(made))
        rows += made
    return rows


@dataclass
class PictureCheck:
    """The fitted check: trees telling MR rows from photographs, the features they read, the threshold."""

    head: TreeEnsemble
    features: list[str]
    threshold: float
    #: how the threshold was chosen and the out-of-fold figures behind it (:func:`fit_picture_check`)
    validation: dict[str, object] = field(default_factory=dict)

    def probability(self, values: dict[str, float]) -> float | None:
        """P(photograph) of one scan's feature and statistic values; None when a statistic is not given (a
        dataset's metrics without the image: the check needs the image)."""
        from mmrqa.classifier.features import feature_matrix

        if any(name not in values for name in STATISTIC_NAMES):
            return None
        return float(photograph_probability(self.head, feature_matrix([values], self.features))[0])

    def reason(self, values: dict[str, float]) -> str | None:
        """Why the scan is taken for a photograph, or None (always for a volume: a photograph is one picture)."""
        if not _is_single_picture(values):
            return None
        p = self.probability(values)
        if p is None or p <= self.threshold:
            return None
        return (
            f"it looks like a photograph, not an MR scan (probability {p:.3f} > {self.threshold:.3f} from a check "
            "fitted to tell the training scans from photographs): its fine detail reads as texture, not as the "
            "thermal noise of an acquisition; if it is an MR image, assess the DICOM or NIfTI file the scanner wrote"
        )


def photograph_probability(head: TreeEnsemble, x: np.ndarray) -> np.ndarray:
    """P(photograph) of the rows of ``x`` (raw scores soft-maxed; no temperature: only a threshold is read)."""
    from scipy.special import softmax

    return softmax(head.raw(x), axis=1)[:, head.classes.index(PHOTOGRAPH)]


def fit_picture_check(mr_rows: list[dict], pictures: list[dict], seed: int = 0, folds: int = FOLDS) -> PictureCheck:
    """The check fitted on every MR row and picture row the rules let through, its threshold from out-of-fold
    scores (module docstring) and the out-of-fold figures behind it in ``validation``."""
    from mmrqa.classifier.features import feature_matrix
    from mmrqa.classifier.model import fit_head, fold_of

    features = check_features()
    mr = [r for r in mr_rows if statistics_rules(r) is None]
    pics = [r for r in pictures if statistics_rules(r) is None]
    x = feature_matrix(mr + pics, features)
    y = np.array([MR] * len(mr) + [PHOTOGRAPH] * len(pics))
    fold = np.concatenate([fold_of(np.array([r["scan"] for r in rows]), folds) for rows in (mr, pics)])
    oof = np.empty(len(x))
    for k in range(folds):
        held = fold == k
        oof[held] = photograph_probability(fit_head(x[~held], y[~held], seed), x[held])
    is_mr = y == MR
    single = np.array([_is_single_picture(r) for r in mr + pics], dtype=bool)
    clean = single & is_mr & np.array([r["kind"] == "none" for r in mr + pics], dtype=bool)
    threshold = max(MIN_THRESHOLD, float(np.quantile(oof[clean], 1.0 - MAX_CLEAN_FLAGGED)))
    flagged = oof > threshold
    as_is = np.array([r["view"] == 0 for r in pics], dtype=bool)
    report = {
        "chosen_on": f"out-of-fold scores ({folds} grouped folds): the {1 - MAX_CLEAN_FLAGGED:.2f} quantile over the "
        "training scans' clean 2D rows",
        "photographs": sorted({str(r["scan"]) for r in pics}),
        "mr_rows": int(is_mr.sum()),
        "picture_rows": int((~is_mr).sum()),
        "oof_mr_2d_rows_flagged": round(float(flagged[is_mr & single].mean()), 4),
        "oof_clean_mr_2d_rows_flagged": round(float(flagged[clean].mean()), 4),
        "clean_mr_2d_rows": int(clean.sum()),
        "oof_picture_views_caught": round(float(flagged[~is_mr].mean()), 4),
        "oof_pictures_as_they_are_caught": f"{int(flagged[~is_mr][as_is].sum())}/{int(as_is.sum())}",
    }
    return PictureCheck(fit_head(x, y, seed), features, threshold, report)


def _is_single_picture(values: dict) -> bool:
    """Whether a row or a scan's values are of a single 2D image (the classifier's ``is_2d`` feature)."""
    return float(values.get("is_2d", 0.0)) == 1.0
