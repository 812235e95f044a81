"""The default profile: analytic phantoms, degenerate inputs, catalogue completeness, artifact indicators."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from mmrqa.errors import InvalidArgumentError, InvalidScanError
from mmrqa.metrics import ARTIFACT_INDICATORS, CATALOGUE, compute_metrics
from mmrqa.metrics.anatomical import efc
from mmrqa.metrics.indicators import noise_sigma
from mmrqa.volume import Volume


def rician(clean: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.hypot(clean + rng.normal(0, sigma, clean.shape), rng.normal(0, sigma, clean.shape))


def phantom(sigma: float = 10.0, shape=(96, 96, 12), seed: int = 0) -> np.ndarray:
    clean = np.zeros(shape)
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    disk = (yy - shape[0] / 2) ** 2 + (xx - shape[1] / 2) ** 2 < (shape[0] / 4) ** 2
    clean[disk] = 400.0
    clean[disk & (xx < shape[1] / 2)] = 250.0  # three "tissues": 100, 250, 400
    clean[disk & (xx < shape[1] / 2) & (yy < shape[0] / 2)] = 100.0
    return rician(clean, sigma, seed)


@pytest.fixture(scope="module")
def brain() -> Volume:
    from mmrqa.data import load_sample

    return load_sample("t1")


def test_noise_sigma_within_5_percent_on_rician_phantom():
    for sigma in (5.0, 20.0):
        report = compute_metrics(Volume(phantom(sigma)))
        assert report.values["noise_sigma"] == pytest.approx(sigma, rel=0.05)


def test_noise_of_a_zero_filled_background_is_read_in_the_object():
    """A skull-stripped or masked export keeps a fringe of non-zero voxels around its mask: the object's blurred edge,
    not noise, which the air estimate would read (6.3 for a true sigma of 5 here; Colin27: 17% of the tissue). With
    most of the air at exactly zero, the noise is the object's own (noise_local's)."""
    assert math.isnan(noise_sigma(np.zeros(1000)))
    clean = ndimage.gaussian_filter(phantom(0.0), (2.0, 2.0, 0))  # soft edges, as a real object's
    mask = ndimage.binary_dilation(clean > 20.0, iterations=2)  # a generous brain mask keeps part of the edge
    report = compute_metrics(Volume(np.where(mask, rician(clean, 5.0), 0.0)))
    assert report.values["noise_sigma"] == pytest.approx(5.0, rel=0.1)
    assert report.values["noise_rel"] == pytest.approx(report.values["noise_local"], rel=0.05)


def test_colin27_average_reads_low_noise():
    """Colin27 (mricron's ch2, an average of 27 scans with a zero-filled background) is among the least noisy MR
    images there are: its noise reads ~1%, not the 17% (red) its mask fringe gave, and with no air noise the light is
    left to noise_local (green), not shown twice."""
    from mmrqa.metrics.ranges import catalogue_for

    path = Path("/usr/share/mricron/templates/ch2.nii.gz")
    if not path.is_file():
        pytest.skip("Debian mricron-data is not installed (make debian-data)")
    from mmrqa.io import load_volume
    from mmrqa.metrics.context import context_of

    volume = load_volume(path)
    report = compute_metrics(volume)
    context = context_of(volume, report)
    assert report.values["noise_rel"] < 2.0
    assert context.background == "zero-filled"
    catalogue = catalogue_for(context)
    assert catalogue["noise_rel"].reference_range is None
    low, high = catalogue["noise_local"].reference_range
    assert low <= report.values["noise_local"] <= high


def test_efc_bounds():
    assert efc(np.ones((10, 10, 10))) == pytest.approx(1.0)  # uniform energy: maximal entropy
    point = np.zeros((10, 10, 10))
    point[5, 5, 5] = 1.0
    point[0, 0, 0] = 1e-9
    assert efc(point) < 0.01


def test_snr_and_cnr_of_phantom():
    values = compute_metrics(Volume(phantom(10.0))).values
    assert values["snr_bright"] == pytest.approx(40, rel=0.15)  # 400 / 10
    assert values["cnr"] > 5
    assert values["fber"] > 100


@pytest.mark.parametrize(
    "data, message",
    [
        (np.zeros((32, 32, 4)), "constant"),
        (np.full((32, 32, 4), np.nan), "NaN"),
        (np.ones((4, 4, 4)) * np.arange(4), "too small"),
    ],
)
def test_degenerate_scans_raise(data, message):
    with pytest.raises(InvalidScanError, match=message):
        compute_metrics(Volume(data, meta={"source": "bad.nii"}))
    with pytest.raises(InvalidScanError, match="bad.nii"):
        compute_metrics(Volume(data, meta={"source": "bad.nii"}), profile="mrqy")


def test_unknown_profile():
    with pytest.raises(InvalidArgumentError, match="profile"):
        compute_metrics(Volume(phantom()), profile="fast")


def test_every_value_is_catalogued(brain):
    for profile in ("default", "mrqy"):
        report = compute_metrics(brain, profile=profile)
        assert set(report.values) <= set(CATALOGUE), profile
        row = report.to_row().split("\t")
        assert len(row) == len(report.columns())
    for kind in ("motion", "ghosting", "spike", "noise", "bias_field", "blur", "ringing", "undersampling"):
        assert ARTIFACT_INDICATORS[kind] in CATALOGUE
    for info in CATALOGUE.values():
        assert info.meaning and info.formula and info.reference
        if info.reference_range is not None:
            assert info.reference_range[0] <= info.reference_range[1] and info.range_basis


def _worse(indicator: str, clean: float, corrupted: float) -> bool:
    return corrupted < clean if CATALOGUE[indicator].higher_is_better else corrupted > clean


def _kspace(data, func):
    out = np.empty_like(data, dtype=np.float64)
    for z in range(data.shape[2]):
        k = np.fft.fft2(data[:, :, z])
        out[:, :, z] = np.abs(np.fft.ifft2(func(k, z)))
    return out


def corrupt(kind: str, data: np.ndarray, strength: float) -> np.ndarray:
    rng = np.random.default_rng(0)
    scale = float(np.percentile(data, 99))
    if kind == "noise":
        return rician(data, strength * 0.05 * scale)
    if kind == "blur":
        return ndimage.gaussian_filter(data, (strength, strength, 0))
    if kind == "bias_field":
        x = np.linspace(-1, 1, data.shape[0])[:, None, None]
        return data * (1 + 0.4 * strength * x)
    if kind == "spike":

        def spike(k, z):
            k = k.copy()
            if z == data.shape[2] // 2:
                k[k.shape[0] // 2 - 3, k.shape[1] // 2 + 5] += strength * 0.5 * np.abs(k).max()  # high frequency
            return k

        return _kspace(data, spike)
    if kind in ("ghosting", "motion"):

        def phase(k, z):
            lines = np.zeros(k.shape[1])
            if kind == "ghosting":
                lines[::2] = 0.3 * strength  # N/2 ghost
            else:
                lines = rng.normal(0, 0.4 * strength, k.shape[1])
            return k * np.exp(1j * lines)[None, :]

        return _kspace(data, phase)
    if kind == "ringing":

        def truncate(k, z):
            keep = max(4, int(k.shape[0] / (2 + 2 * strength)))
            mask = np.zeros(k.shape, dtype=bool)
            mask[:keep, :keep] = mask[-keep:, :keep] = mask[:keep, -keep:] = mask[-keep:, -keep:] = True
            return k * mask

        return _kspace(data, truncate)
    if kind == "undersampling":

        def drop(k, z):
            mask = rng.random(k.shape[1]) > 0.3 * strength
            mask[:4] = mask[-4:] = True
            return k * mask[None, :]

        return _kspace(data, drop)
    raise ValueError(kind)


KNOWN_WEAK = {  # indicators that do not yet rise monotonically on this phantom (see the metrics report)
    "motion": "motion_index 1.69 -> 4.51 -> 2.61: this phantom's random per-line phase errors spread the signal as "
    "white noise-like ghosts over the whole image, which the local noise floor then absorbs; the simulator's "
    "segmented rigid motion is tracked 10/10 (tests/artifacts)",
}


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param(k, marks=pytest.mark.xfail(reason=KNOWN_WEAK[k], strict=True)) if k in KNOWN_WEAK else k
        for k in sorted(ARTIFACT_INDICATORS)
    ],
)
def test_indicator_responds_to_its_artifact(kind):
    data = phantom(4.0, shape=(96, 96, 8))
    data = ndimage.gaussian_filter(data, (0.7, 0.7, 0))
    indicator = ARTIFACT_INDICATORS[kind]
    clean = compute_metrics(Volume(data, meta={"phase_encoding_axis": 1})).values[indicator]
    mild = compute_metrics(Volume(corrupt(kind, data, 1.0), meta={"phase_encoding_axis": 1})).values[indicator]
    severe = compute_metrics(Volume(corrupt(kind, data, 2.0), meta={"phase_encoding_axis": 1})).values[indicator]
    assert _worse(indicator, clean, mild), (kind, clean, mild)
    assert _worse(indicator, mild, severe), (kind, mild, severe)
