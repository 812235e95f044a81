"""The domain check on real files (issue 17): non-MRI inputs of many kinds are reported outside the domain, with a
reason in words, and real MR scans -- the training scans, their clinical-looking views, and MR files the rules were
never tuned on -- stay inside. Files of the Debian packages ``mricron-data`` and ``insighttoolkit5-examples``, of
pydicom-data and of scikit-image are used where installed (the case is skipped otherwise); pixels of other modalities
are also given without their metadata, as if saved to NIfTI or PNG, so that the image alone must tell."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from mmrqa.classifier import classify
from mmrqa.classifier.domain import (
    MAX_JPEG_BLOCKINESS,
    MAX_PICTURE_SHORT_SIDE,
    STATISTIC_NAMES,
    image_rules,
    image_statistics,
    jpeg_blockiness,
    size_rule,
    stated_modality,
    statistics_rules,
)
from mmrqa.classifier.features import decimate
from mmrqa.io import load_volume
from mmrqa.volume import Volume

ITK = Path("/usr/share/doc/insighttoolkit5-examples/examples/Data")
WALLPAPERS = Path("/usr/share/backgrounds")  # Debian ukui-wallpapers / lomiri-wallpapers (photographs)
MRICRON = Path("/usr/share/mricron/templates")


def _plain(volume: Volume) -> Volume:
    return Volume(volume.data, volume.spacing, volume.affine, {})


def _array(data: np.ndarray) -> Volume:
    data = np.asarray(data, dtype=np.float32)
    return Volume(data if data.ndim == 3 else data[:, :, None], (1.0, 1.0, 1.0), np.eye(4), {})


def _dicom(name: str) -> Path | None:
    from mmrqa.data import pydicom_test_file

    return pydicom_test_file(name)


def _file_case(kind: str, path: Path | None, strip: bool = True):
    """A pytest param loading ``path`` (metadata dropped when ``strip``), skipped when the file is not installed."""
    present = path is not None and path.is_file()

    def load() -> Volume:
        volume = load_volume(path)
        return _plain(volume) if strip else volume

    name = f"{kind}: {path.name if path else '?'}"
    return pytest.param(load, id=name, marks=pytest.mark.skipif(not present, reason=f"{name} not installed"))


def _skimage(kind: str, name: str):
    present = importlib.util.find_spec("skimage") is not None

    def load() -> Volume:
        import skimage.data

        return _plain(load_volume(Path(skimage.data.__file__).parent / name))

    return pytest.param(load, id=f"{kind}: skimage {name}", marks=pytest.mark.skipif(not present, reason="no skimage"))


def _sklearn(kind: str, name: str):
    """A photograph that scikit-learn (a core dependency) ships, its colour dropped by the reader's metadata."""

    def load() -> Volume:
        import sklearn

        return _plain(load_volume(Path(sklearn.__file__).parent / "datasets" / "images" / name))

    return pytest.param(load, id=f"{kind}: sklearn {name}")


def _synthetic(kind: str, make: Callable[[], np.ndarray]):
    return pytest.param(lambda: _array(make()), id=kind)


def _smoothed_noise() -> np.ndarray:
    from scipy import ndimage

    return 1000 * ndimage.gaussian_filter(np.random.default_rng(1).random((96, 96, 24)), 3)


def _blob() -> np.ndarray:
    x, y = np.meshgrid(np.linspace(-1, 1, 200), np.linspace(-1, 1, 200), indexing="ij")
    return 800 * np.exp(-(x**2 + 2 * y**2) / 0.4)


NON_MRI = [
    # label maps of many labels (atlases): flat patches of identical values
    _file_case("atlas label map", MRICRON / "AICHAmc.nii.gz"),
    _file_case("atlas label map", MRICRON / "natbrainlab.nii.gz"),
    _file_case("atlas label map", MRICRON / "inia19-NeuroMaps.nii.gz"),
    _file_case("atlas label map", MRICRON / "aal.nii.gz"),
    _file_case("atlas label map", MRICRON / "JHU-WhiteMatter-labels-2mm.nii.gz"),
    # segmentations, masks and drawings
    _file_case("segmentation", ITK / "WatershedSegmentation.png"),
    _file_case("segmentation", ITK / "KmeansTest_T1KmeansPrelimSegmentation.nii.gz"),
    _file_case("mask", ITK / "BinaryImage.png"),
    _file_case("drawing", ITK / "FivePointsDilated.png"),
    _file_case("segmentation (DICOM SEG)", _dicom("liver.dcm")),
    # CT and nuclear medicine pixels without their modality
    _file_case("CT pixels", _dicom("CT_small.dcm")),
    _file_case("CT pixels", _dicom("eCT_Supplemental.dcm")),
    _file_case("nuclear medicine pixels", _dicom("JPEG2000_UNC.dcm")),
    # ultrasound pixels without their modality (palette-colour frames: flat patches of palette indices)
    _file_case("ultrasound pixels", _dicom("examples_palette.dcm")),
    _file_case("ultrasound pixels", _dicom("OBXXXX1A.dcm")),
    _file_case("ultrasound pixels", _dicom("gdcm-US-ALOKA-16.dcm")),
    _file_case("ultrasound pixels (clipped highlights)", _dicom("US1_UNCR.dcm")),
    # a colour cryosection photograph, as the file is (colour)
    _file_case("colour photograph", ITK / "VisibleWomanHeadSlice.png", strip=False),
    # grayscale pictures with nothing dark
    _skimage("grayscale photograph", "clock_motion.png"),
    # a JPEG photograph as grayscale: the 8x8 block grid of JPEG compression
    _skimage("grayscale JPEG photograph", "retina.jpg"),
    _sklearn("grayscale JPEG photograph", "flower.jpg"),
    _file_case("grayscale JPEG photograph", WALLPAPERS / "Fossa_by_Jasper_Roks.jpg"),
    _file_case("grayscale JPEG photograph", WALLPAPERS / "sunset_by_Aitzol_Berasategi.jpg"),
    _file_case("grayscale JPEG photograph", WALLPAPERS / "umang_by_Abhishek_Mudgal.jpg"),
    _skimage("grayscale micrograph", "microaneurysms.png"),
    # pictures larger than any MR slice: digital radiographs without their modality, PNG photographs as grayscale
    _file_case("radiograph pixels", _dicom("RG1_UNCR.dcm")),
    _file_case("radiograph pixels", _dicom("RG3_UNCR.dcm")),
    _file_case("grayscale PNG picture", WALLPAPERS / "goldfish.png"),
    _file_case("grayscale PNG picture", WALLPAPERS / "fluent-color.png"),
    # smooth fields and smoothed noise, no noise floor
    _synthetic("smoothed noise", _smoothed_noise),
    _synthetic("smooth blob", _blob),
]


@pytest.mark.parametrize("load", NON_MRI)
def test_non_mri_files_are_outside_the_domain_with_a_reason(load):
    verdict = classify(load())
    assert verdict.in_domain is False, verdict
    assert verdict.quality is None and verdict.artifact is None
    assert verdict.domain_reason and len(verdict.domain_reason) > 20


HELD_OUT_MR = [
    _file_case("MR template", MRICRON / "ch2.nii.gz", strip=False),
    _file_case("MR brain-extracted", MRICRON / "ch2bet.nii.gz", strip=False),
    _file_case("MR template", MRICRON / "inia19-t1-brain.nii.gz", strip=False),
    _file_case("MR", ITK / "KmeansTest_T1UCharRaw.nii.gz", strip=False),
    _file_case("MR", ITK / "BrainProtonDensity3Slices.mha", strip=False),
    _file_case("MR", ITK / "BrainT1Slice.png", strip=False),
    _file_case("MR", ITK / "FatMRISlice.png", strip=False),
    _file_case("MR posterised", ITK / "BrainT1SliceBorder20.png", strip=False),
    _file_case("MR", ITK / "RatLungSlice1.mha", strip=False),
    _file_case("MR magnitude of a complex image", ITK / "itkBrainSliceComplexMagnitude.mha", strip=False),
    _file_case("MR", _dicom("examples_overlay.dcm"), strip=False),
]


@pytest.mark.parametrize("load", HELD_OUT_MR)
def test_held_out_mr_files_and_their_views_stay_inside(load):
    from mmrqa.classifier.data import make_view

    volume = load()
    verdict = classify(volume)
    assert verdict.in_domain, verdict.domain_reason
    for seed in range(3):  # clinical-looking views (crop, plane, 2D, scale, 8-bit, masked background): the rules
        view = make_view(volume, np.random.default_rng(seed), template=False)
        assert image_rules(view) is None, (seed, image_rules(view))


def test_every_training_scan_and_a_sample_of_its_views_pass_the_rules():
    from mmrqa.classifier.data import CLEAN_ONLY_VIEWS, RECIPE_VERSION, VIEWS, _seed, make_view, real_scans

    scans = real_scans()
    assert len(scans) >= 6
    for scan in scans:
        volume = scan.load()
        assert image_rules(decimate(volume)) is None, scan.name
        for v in (0, VIEWS, VIEWS + CLEAN_ONLY_VIEWS - 1):  # one corrupted-table view, two clean-only views
            view = make_view(volume, np.random.default_rng(_seed(RECIPE_VERSION, scan.name, v)), scan.template)
            assert image_rules(view) is None, (scan.name, v, image_rules(view))


def test_statistic_names_are_the_keys_image_statistics_gives_in_order():
    """The photograph check's inputs and its cache key are named by ``STATISTIC_NAMES``: it must be what
    ``image_statistics`` returns, on a 2D picture and on a volume."""
    for volume in (_array(_blob()), Volume(np.random.default_rng(0).random((24, 20, 6)), (1.0,) * 3, np.eye(4), {})):
        assert tuple(image_statistics(decimate(volume))) == STATISTIC_NAMES


def test_stated_modality_reads_the_first_volume_that_says_one():
    said, silent = Volume(np.ones((4, 4, 1)), (1.0,) * 3, np.eye(4), {"modality": "mr"}), _array(np.ones((4, 4)))
    assert stated_modality(silent, said) == "MR" and stated_modality(silent) == ""
    assert stated_modality(Volume(silent.data, silent.spacing, silent.affine, {"modality": "CT"}), said) == "CT"


def test_rules_skip_a_statistic_an_older_table_lacks():
    stats = image_statistics(decimate(_array(_blob())))
    assert statistics_rules(stats) is not None
    old = {k: v for k, v in stats.items() if k not in ("flat_share", "dark_ratio", "noise_floor", "coarse_slope")}
    assert statistics_rules(old) is None  # the blob is only caught by the smooth-field rule, absent from old rows


def test_reasons_are_in_words():
    from scipy import ndimage

    labels = ndimage.zoom(np.random.default_rng(0).integers(1, 60, (24, 24, 12)), 4, order=0).astype(np.float32)
    cases = {
        "label map": (labels, "flat patches"),
        "smoothed noise": (_smoothed_noise(), "nothing in the image is dark"),
        "blob": (_blob(), "neither noise nor fine detail"),
    }
    for name, (data, words) in cases.items():
        reason = image_rules(decimate(_array(data)))
        assert reason is not None and words in reason, (name, reason)
    points = np.zeros((200, 200), dtype=np.float32)  # a black picture with a few bright points (ITK's FivePoints)
    points[[20, 60, 100, 140, 180], [30, 170, 100, 40, 150]] = 255
    reason = classify(_array(points)).domain_reason
    assert reason is not None and "negative" not in reason and "CT" not in reason, reason


def _mr_slice() -> np.ndarray:
    """A real MR slice (the packaged 1024 x 1024 shoulder T1, every 4th pixel: 256 x 256), as a float array."""
    from mmrqa.data import load_sample

    return np.asarray(load_sample("dicom_mr2").data, dtype=np.float64)[::4, ::4, 0]


def _jpeg(data: np.ndarray, quality: int) -> np.ndarray:
    """``data`` scaled to 8 bits, saved as a JPEG of that quality in memory and read back."""
    import io

    from PIL import Image

    eight = np.round(255 * data / data.max()).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(eight).save(buffer, format="JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())), dtype=np.float64)


def test_jpeg_rule_sees_the_block_grid_of_a_jpeg_and_not_an_mr_slice():
    mr = _mr_slice()
    assert mr.shape[0] >= 128 and mr.shape[1] >= 128
    assert jpeg_blockiness(mr) < MAX_JPEG_BLOCKINESS / 3  # an acquisition: no 8-pixel grid
    assert jpeg_blockiness(np.round(255 * mr / mr.max())) < MAX_JPEG_BLOCKINESS / 3  # an 8-bit export neither
    compressed = _jpeg(mr, 50)
    assert jpeg_blockiness(compressed) > MAX_JPEG_BLOCKINESS
    assert jpeg_blockiness(compressed[:, ::-1]) > MAX_JPEG_BLOCKINESS  # a flipped JPEG: the grid from the last pixel
    assert jpeg_blockiness(compressed[3:-2, 5:-4]) == 0.0  # cut off the grid at both ends: not claimed
    volume = _array(compressed)
    reason = image_rules(volume)
    assert reason is not None and "JPEG" in reason
    # the JPEG rule looks at the full-size image: on the classifier's decimated grid the blocks are gone
    assert classify(volume).in_domain is False
    # a file that says it is MR (a DICOM stored as lossy JPEG) is not rejected for its compression
    told = Volume(volume.data, volume.spacing, volume.affine, {"modality": "MR"})
    assert image_rules(told) is None or "JPEG" not in image_rules(told)


def test_clipped_highlights_are_outside_and_an_mr_scaled_to_8_bits_is_not():
    mr = _mr_slice()
    eight = np.round(255 * mr / mr.max())
    assert image_rules(decimate(_array(eight))) is None
    clipped = np.minimum(eight, np.percentile(eight, 95))  # a photograph's or a narrow display window's highlights
    reason = image_rules(decimate(_array(clipped)))
    assert reason is not None and "clipped highlights" in reason


def test_size_rule_rejects_a_picture_larger_than_an_mr_slice_and_nothing_else():
    from mmrqa.data import load_sample

    shoulder = _plain(load_sample("dicom_mr2"))  # the largest real MR slice here: 1024 x 1024, metadata dropped
    assert min(shoulder.data.shape[:2]) == MAX_PICTURE_SHORT_SIDE
    assert size_rule(shoulder.data.shape) is None
    assert classify(shoulder).in_domain, classify(shoulder).domain_reason
    photo = np.kron(np.asarray(shoulder.data)[:, :, 0], np.ones((2, 2), dtype=np.float32))  # 2048 x 2048
    verdict = classify(_array(photo))
    assert verdict.in_domain is False and "2048 x 2048 picture" in verdict.domain_reason, verdict.domain_reason
    assert size_rule((1920, 1080, 1)) is not None and size_rule((1080, 1920)) is not None  # a screen, either way up
    assert size_rule((1280, 720, 1)) is None  # not larger than an MR slice on its short side: not judged by size
    assert size_rule((448, 2100, 1)) is not None and size_rule((448, 1400, 1)) is None  # a composed spine passes
    assert size_rule((1100, 1100, 40)) is None  # a volume is not judged by its in-plane size
    told = Volume(_array(photo).data, (1.0, 1.0, 1.0), np.eye(4), {"modality": "MR"})
    assert image_rules(decimate(told), native=told) is None  # a file that says MR is not judged by size
