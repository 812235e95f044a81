"""Real sample files for the loader tests (all ship with installed packages)."""

from __future__ import annotations

import importlib.resources
from pathlib import Path

import pytest
from pydicom.data import get_testdata_file


@pytest.fixture(scope="session")
def anatomical() -> Path:
    return Path(str(importlib.resources.files("nibabel.tests") / "data" / "anatomical.nii"))


@pytest.fixture(scope="session")
def example4d() -> Path:
    return Path(str(importlib.resources.files("nibabel.tests") / "data" / "example4d.nii.gz"))


@pytest.fixture(scope="session")
def mr_small() -> Path:
    return Path(get_testdata_file("MR_small.dcm"))


@pytest.fixture(scope="session")
def emri_small() -> Path:
    return Path(get_testdata_file("emri_small.dcm"))


@pytest.fixture(scope="session")
def mr2() -> Path:
    return Path(get_testdata_file("MR2_UNCR.dcm"))
