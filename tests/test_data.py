"""Sample scans from installed packages (offline)."""

from __future__ import annotations

import numpy as np
import pytest

from mmrqa import data
from mmrqa.errors import InvalidArgumentError


@pytest.mark.parametrize("name", ["t1", "dicom_t2", "dicom_enhanced", "dicom_mr2", "epi"])
def test_package_samples_load(name):
    path = data.sample_path(name)
    assert path.is_file()
    vol = data.load_sample(name)
    assert vol.meta["sample"] == name
    assert vol.data.dtype == np.float32 and vol.data.ndim == 3
    assert np.ptp(vol.data) > 0
    assert "template" not in vol.meta


def test_expected_shapes():
    assert data.load_sample("t1").shape == (33, 41, 25)
    assert data.load_sample("dicom_t2").shape == (64, 64, 1)
    assert data.load_sample("dicom_enhanced").shape == (64, 64, 10)
    assert data.load_sample("epi").shape == (128, 128, 10)


def test_pydicom_data_resolves_offline():
    from pydicom.data import get_testdata_file

    assert get_testdata_file("emri_small.dcm", download=False) is not None


def test_mni152_template_and_noisy_variant():
    clean = data.load_sample("mni152")
    noisy = data.load_sample("mni152_noisy")
    assert clean.shape == noisy.shape == (197, 233, 189)
    assert clean.meta["template"] is True and "template" not in noisy.meta
    assert clean.meta["orientation"] == "RAS" and clean.spacing == (1.0, 1.0, 1.0)
    background = clean.data == 0
    assert background.mean() > 0.3  # zero background in the template
    # Rician noise: background becomes Rayleigh with mean sigma*sqrt(pi/2).
    sigma = data.NOISE_FRACTION * float(np.percentile(clean.data, 99.5))
    assert noisy.data[background].mean() == pytest.approx(sigma * np.sqrt(np.pi / 2), rel=0.02)
    assert np.all(noisy.data >= 0)
    # Cached: the second call returns the same file, and the noise is seeded.
    assert data.sample_path("mni152_noisy") == data.sample_path("mni152_noisy")
    rng_again = data.add_rician_noise(clean.data[:20, :20, :20], sigma, seed=data.NOISE_SEED)
    assert rng_again.shape == (20, 20, 20)


def test_rician_noise_is_seeded_and_unbiased_in_signal():
    flat = np.full((64, 64, 16), 100.0, dtype=np.float32)
    a = data.add_rician_noise(flat, 5.0, seed=3)
    np.testing.assert_array_equal(a, data.add_rician_noise(flat, 5.0, seed=3))
    assert not np.array_equal(a, data.add_rician_noise(flat, 5.0, seed=4))
    # At SNR 20 the Rician mean is ~ sqrt(A^2 + sigma^2) and its std ~ sigma.
    assert a.mean() == pytest.approx(np.sqrt(100.0**2 + 25.0), rel=2e-3)
    assert a.std() == pytest.approx(5.0, rel=0.03)


def test_unknown_sample_is_an_error():
    with pytest.raises(InvalidArgumentError, match="unknown sample 'nope'"):
        data.sample_path("nope")


def test_tcia_dir_env(tmp_path, monkeypatch):
    monkeypatch.setenv(data.TCIA_ENV, str(tmp_path))
    assert data.tcia_dir() == tmp_path.resolve()
    monkeypatch.setenv(data.TCIA_ENV, str(tmp_path / "missing"))
    assert data.tcia_dir() is None


def test_tcia_dir_default_points_at_shared_data():
    found = data.tcia_dir()
    if found is None:
        pytest.skip("shared TCIA data not present")
    assert any(found.glob("*_T2w.nii.gz"))
