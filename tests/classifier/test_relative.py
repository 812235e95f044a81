"""The self-referenced features (mmrqa.classifier.relative) on a real scan: each rises with the severity of the artifact
it is meant for, and every feature is defined and finite on clean real scans of the packaged samples."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mmrqa.artifacts import simulate
from mmrqa.classifier.features import decimate
from mmrqa.classifier.relative import RELATIVE_FEATURES, edge_echo, relative_features
from mmrqa.data import load_sample

#: (artifact, the feature that reads its signature); blur and ringing are read by several features together
SIGNATURES = [
    ("spike", "spike_peak"),
    ("ghosting", "ghost_peak"),
    ("ghosting", "ghost_exterior"),
    ("motion", "air_anisotropy"),
    ("motion", "edge_echo"),
    ("blur", "air_smoothness"),
    ("undersampling", "line_jag_ratio"),
    ("noise", "hf_noise"),
    ("bias_field", "bias_poly_std"),
]
#: features read in the air outside the object: NaN when the object fills the view (the packaged 2 mm T1 crop)
AIR_FEATURES = {"shadow_asymmetry", "ghost_exterior", "air_anisotropy", "air_smoothness"}


@pytest.fixture(scope="module")
def epi():
    return decimate(load_sample("epi"))


def _rises(volume, kind, feature):
    clean = relative_features(volume.data)[feature]
    means = [
        np.mean([relative_features(simulate(volume, kind, severity, seed)[0].data)[feature] for seed in (0, 1)])
        for severity in ("moderate", "severe")
    ]
    assert clean < means[0] < means[1], (kind, feature, clean, means)


@pytest.mark.parametrize(("kind", "feature"), SIGNATURES)
def test_feature_rises_with_severity(epi, kind, feature):
    _rises(epi, kind, feature)


@pytest.mark.parametrize(
    ("kind", "feature"), [("ghosting", "ghost_exterior"), ("motion", "air_anisotropy"), ("blur", "air_smoothness")]
)
def test_air_features_rise_on_a_real_clinical_slice(kind, feature):
    _rises(decimate(load_sample("dicom_t2")), kind, feature)


@pytest.mark.parametrize("name", ["t1", "epi", "dicom_t2"])
def test_features_are_finite_on_clean_scans(name):
    values = relative_features(decimate(load_sample(name)).data)
    assert set(values) == set(RELATIVE_FEATURES)
    defined = {k: v for k, v in values.items() if k not in AIR_FEATURES}
    assert all(math.isfinite(v) for v in defined.values()), values


def test_too_small_an_image_gives_nan():
    values = relative_features(np.ones((8, 8, 1), dtype=np.float32))
    assert all(math.isnan(v) for v in values.values())


def test_edge_echo_reads_the_strength_of_an_edge_repeated_a_few_voxels_away():
    """White noise: its derivative n(x+1) - n(x) does not correlate with itself beyond one voxel. Add a copy of the
    image shifted 7 voxels with amplitude a: the derivative g + a g(x - 7) correlates at lag 7 by a / (1 + a^2), on the
    89 of 96 columns where the circular shift of np.roll meets the original."""
    image = 100.0 + np.random.default_rng(0).normal(0, 10, (96, 96))
    assert edge_echo(image[:, :, None]) < 0.08
    for amplitude in (0.15, 0.3):
        echoed = image + amplitude * np.roll(image, 7, axis=1)
        assert edge_echo(echoed[:, :, None]) == pytest.approx(amplitude / (1 + amplitude**2) * 89 / 96, abs=0.02)
