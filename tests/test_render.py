"""Slice choice, windowing, display orientation and montages, on real scans and marker phantoms."""

from __future__ import annotations

import importlib.resources

import numpy as np
import pytest
from PIL import Image

from mmrqa.errors import InvalidArgumentError, InvalidScanError
from mmrqa.io import load_volume
from mmrqa.render import (
    PLANES,
    foreground_mask,
    montage,
    otsu_threshold,
    pick_slices,
    render_slice,
    render_slices,
    slice_array,
    window_levels,
)
from mmrqa.volume import Volume

ANATOMICAL = importlib.resources.files("nibabel.tests") / "data" / "anatomical.nii"


@pytest.fixture(scope="module")
def t1() -> Volume:
    return load_volume(ANATOMICAL)


def marker_phantom() -> Volume:
    """A RAS+ box (40 x 30 x 20) with one bright voxel near the right, anterior, superior corner."""
    data = np.full((40, 30, 20), 10.0, dtype=np.float32)
    data[[0, -1], :, :] = data[:, [0, -1], :] = data[:, :, [0, -1]] = 0.0
    data[35, 25, 15] = 100.0
    return Volume(data, spacing=(1.0, 1.0, 1.0), meta={"source": "phantom"})


def bright_pixel(image) -> tuple[int, int]:
    """(row, col) of the brightest pixel."""
    array = np.asarray(image)
    return tuple(int(v) for v in np.unravel_index(np.argmax(array), array.shape))  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("plane", "index", "expected"),
    [
        ("axial", 15, (30 - 1 - 25, 35)),  # anterior at the top, right on the right
        ("coronal", 25, (20 - 1 - 15, 35)),  # superior at the top, right on the right
        ("sagittal", 35, (20 - 1 - 15, 25)),  # superior at the top, anterior on the right
    ],
)
def test_neurological_display_orientation(plane, index, expected):
    image = render_slice(marker_phantom(), index, plane, window=(0, 100))
    assert bright_pixel(image) == expected


def test_radiological_mirrors_left_right_except_sagittal():
    volume = marker_phantom()
    assert bright_pixel(render_slice(volume, 15, "axial", window=(0, 100), convention="radiological")) == (4, 4)
    assert bright_pixel(render_slice(volume, 25, "coronal", window=(0, 100), convention="radiological")) == (4, 4)
    sagittal = render_slice(volume, 35, "sagittal", window=(0, 100), convention="radiological")
    assert bright_pixel(sagittal) == (4, 25)


def test_render_is_8bit_grayscale_with_plane_sizes(t1):
    assert t1.shape == (33, 41, 25)
    sizes = {plane: render_slice(t1, 10, plane).size for plane in PLANES}
    assert sizes == {"axial": (33, 41), "coronal": (33, 25), "sagittal": (41, 25)}
    image = render_slice(t1, 12, "axial")
    assert image.mode == "L"
    values = np.asarray(image)
    assert values.min() == 0 and values.max() == 255  # the window spans the tissue contrast


def test_window_is_robust_to_a_few_extreme_voxels(t1):
    low, high = window_levels(t1)
    spiked = t1.data.copy()
    spiked[16, 20, 12] = 100 * float(t1.data.max())  # one hot voxel
    spiked_volume = t1.with_data(spiked)
    assert window_levels(spiked_volume) == pytest.approx((low, high), rel=5e-3)  # a plain min-max would be 100x
    # the image barely changes, except the hot pixel, which saturates
    clean = np.asarray(render_slice(t1, 12, "axial")).astype(int)
    hot = np.asarray(render_slice(spiked_volume, 12, "axial")).astype(int)
    assert np.abs(clean - hot).mean() < 1.0 and hot.max() == 255


def test_window_percentiles_of_foreground(t1):
    low, high = window_levels(t1)
    foreground = t1.data[foreground_mask(t1)]
    assert low == pytest.approx(np.percentile(foreground, 0.5))
    assert high == pytest.approx(np.percentile(foreground, 99.5))
    assert (foreground >= low).mean() == pytest.approx(0.995, abs=0.002)


def test_otsu_separates_two_populations():
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.normal(10, 2, 5000), rng.normal(100, 5, 5000)])
    assert 20 < otsu_threshold(values) < 85


def test_pick_slices_skips_empty_slices_and_spreads():
    data = np.zeros((20, 20, 50), dtype=np.float32)
    data[5:15, 5:15, 10:40] = 100.0  # object on slices 10..39, empty elsewhere
    data += np.random.default_rng(1).random(data.shape).astype(np.float32)  # low background noise
    volume = Volume(data)
    picked = pick_slices(volume, 5)
    assert all(10 <= i < 40 for i in picked) and len(picked) == 5
    assert picked == sorted(picked) and min(np.diff(picked)) >= 4  # spread, not clustered
    assert pick_slices(volume, 1) == [24] or pick_slices(volume, 1) == [25]  # the middle of the object
    assert pick_slices(volume, 100) == list(range(10, 40))  # all informative slices when fewer than asked


def test_pick_slices_on_real_scan_are_informative(t1):
    for plane, axis in PLANES.items():
        picked = pick_slices(t1, 4, plane, min_foreground=0.2)
        assert len(picked) == 4
        mask = foreground_mask(t1)
        other = tuple(a for a in range(3) if a != axis)
        assert all(mask.mean(axis=other)[i] >= 0.2 for i in picked)


def test_render_slices_share_one_window(t1):
    indices, images = render_slices(t1, 3, "axial")
    window = window_levels(t1)
    assert [
        np.array_equal(np.asarray(im), np.asarray(render_slice(t1, i, window=window)))
        for i, im in zip(indices, images, strict=True)
    ] == [True] * 3


def test_spacing_sets_the_aspect():
    volume = Volume(np.random.default_rng(2).random((32, 32, 10)).astype(np.float32) + 1, spacing=(1.0, 1.0, 4.0))
    assert render_slice(volume, 10, "coronal").size == (32, 40)
    assert render_slice(volume, 10, "coronal", respect_spacing=False).size == (32, 10)


def test_png_round_trip_through_the_loader(tmp_path):
    """The 2D reader's convention and the renderer agree: rendering a loaded picture gives it back."""
    picture = (np.arange(24 * 16).reshape(16, 24) % 251).astype(np.uint8)
    Image.fromarray(picture, mode="L").save(tmp_path / "p.png")
    image = render_slice(load_volume(tmp_path / "p.png"), 0, "axial", window=(0, 255))
    assert np.array_equal(np.asarray(image), picture)


def test_canonical_reorientation_gives_the_same_picture(tmp_path, t1):
    """A scan stored left-to-right flipped (LAS) renders like the original once loaded as RAS+."""
    import nibabel as nib

    image = nib.load(ANATOMICAL)
    flipped = nib.Nifti1Image(np.asarray(image.dataobj)[::-1], image.affine @ np.diag([-1, 1, 1, 1]) + _shift(image))
    nib.save(flipped, tmp_path / "las.nii.gz")
    las = load_volume(tmp_path / "las.nii.gz")
    for plane in PLANES:
        assert np.array_equal(slice_array(las, 10, plane), slice_array(t1, 10, plane))


def _shift(image) -> np.ndarray:
    """Translation that keeps voxel centres in place when the x axis is reversed."""
    shift = np.zeros((4, 4))
    shift[:3, 3] = image.affine[:3, 0] * (image.shape[0] - 1)
    return shift


@pytest.mark.slow
def test_anatomy_of_the_mni152_template_is_upright():
    """Real anatomy: the brainstem runs to the bottom of sagittal and coronal views (superior is up); at the level
    of the cerebellum most tissue sits in the lower (posterior) half of an axial view (anterior is up)."""
    pytest.importorskip("nilearn")
    from mmrqa.data import load_sample

    mni = load_sample("mni152")
    for plane, index in (("sagittal", 98), ("coronal", 100)):
        tissue = slice_array(mni, index, plane) > 0.3
        rows = np.flatnonzero(tissue.any(axis=1))
        assert tissue.shape[0] - 1 - rows.max() < rows.min()  # closer to the bottom edge than to the top one
    axial = slice_array(mni, 35, "axial") > 0.3
    half = axial.shape[0] // 2
    assert axial[half:].sum() > 1.5 * axial[:half].sum()


def test_montage_grid_and_centering():
    a, b = Image.new("L", (10, 8), 200), Image.new("L", (6, 4), 100)
    sheet = montage([a, b, a], cols=2, pad=1)
    assert sheet.size == (2 * 10 + 3, 2 * 8 + 3) and sheet.mode == "L"
    array = np.asarray(sheet)
    assert array[1, 1] == 200 and array[1 + 2, 12 + 2] == 100 and array[0, 0] == 0
    assert montage([a] * 4).size == (2 * 10 + 3 * 2, 2 * 8 + 3 * 2)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda v: pick_slices(v, 0), "positive integer"),
        (lambda v: pick_slices(v, 2, "oblique"), "unknown plane"),
        (lambda v: pick_slices(v, 2, min_foreground=1.5), "min_foreground"),
        (lambda v: render_slice(v, 99, "axial"), "out of range"),
        (lambda v: render_slice(v, 0, "axial", convention="upside-down"), "convention"),
        (lambda v: render_slice(v, 0, "axial", window=(5, 5)), "low < high"),
        (lambda v: montage([]), "at least one"),
    ],
)
def test_invalid_arguments_are_rejected(call, message):
    with pytest.raises(InvalidArgumentError, match=message):
        call(marker_phantom())


def test_blank_volume_is_refused_with_its_name():
    blank = Volume(np.zeros((8, 8, 8), dtype=np.float32), meta={"source": "blank.nii"})
    with pytest.raises(InvalidScanError, match="blank.nii"):
        pick_slices(blank, 3)
    with pytest.raises(InvalidScanError, match="blank.nii"):
        render_slice(blank, 0)


def test_tcia_pelvic_scans_render_informative_slices(tcia_dir):
    """Real clinical pelvic T2w scans: every picked slice holds tissue, and the window is not saturated."""
    scan = sorted(tcia_dir.glob("*_T2w.nii.gz"))[0]
    volume = load_volume(scan)
    indices, images = render_slices(volume, 3, "axial")
    assert len(indices) == 3 and all(0 < i < volume.shape[2] - 1 for i in indices)
    for image in images:
        values = np.asarray(image)
        assert image.mode == "L" and values.std() > 20  # contrast, not a blank or saturated slice
        assert (values == 255).mean() < 0.01
