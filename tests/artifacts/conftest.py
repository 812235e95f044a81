"""Real scans for the artifact tests, loaded with nibabel/pydicom directly (small: the tests must stay fast)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest

from mmrqa.volume import Volume

REPO_ROOT = Path(__file__).resolve().parents[2]


def _nifti(path: Path, slices: slice | None = None) -> Volume:
    import nibabel as nib

    image = nib.load(path)
    data = np.asarray(image.dataobj, dtype=np.float32)
    data = data.reshape(data.shape[:3])
    if slices is not None:
        data = data[:, :, slices]
    return Volume(data, tuple(float(z) for z in image.header.get_zooms()[:3]), image.affine, {"source": str(path)})


def t1_volume() -> Volume:
    """nibabel's anatomical.nii: real T1, 33x41x25 at 2 mm."""
    spec = importlib.util.find_spec("nibabel")
    return _nifti(Path(next(iter(spec.submodule_search_locations))) / "tests" / "data" / "anatomical.nii")


def dicom_volume() -> Volume:
    """pydicom's MR_small.dcm: one real T2w slice, 64x64 at 0.3125 mm (a 2D volume)."""
    import pydicom
    from pydicom.data import get_testdata_file

    path = get_testdata_file("MR_small.dcm")
    dataset = pydicom.dcmread(path)
    spacing = (*(float(s) for s in dataset.PixelSpacing), float(dataset.SliceThickness))
    return Volume(dataset.pixel_array.astype(np.float32), spacing, meta={"source": str(path)})


def epi_volume() -> Volume | None:
    """dipy's S0_10slices: real EPI b0, 128x128x10 (None when dipy is not installed)."""
    spec = importlib.util.find_spec("dipy")
    if spec is None:
        return None
    return _nifti(Path(next(iter(spec.submodule_search_locations))) / "data" / "files" / "S0_10slices.nii.gz")


def tcia_folder() -> Path | None:
    env = os.environ.get("MMRQA_TCIA_DIR")
    path = Path(env) if env else REPO_ROOT.parent / "shared" / "data" / "tcia"
    return path if path.is_dir() else None


def real_scans() -> dict[str, Volume]:
    """Every real scan of the calibration: T1, DICOM slice, EPI, and 4 central slices of each TCIA scan if present."""
    scans = {"nibabel_t1": t1_volume(), "pydicom_mr_small": dicom_volume()}
    epi = epi_volume()
    if epi is not None:
        scans["dipy_epi"] = epi
    folder = tcia_folder()
    if folder is not None:
        for path in sorted(folder.glob("*_T2w.nii.gz")):
            scans[path.name.split("_")[0]] = _nifti(path, slice(12, 16))
    return scans


@pytest.fixture(scope="session")
def t1() -> Volume:
    return t1_volume()


@pytest.fixture(scope="session")
def dicom2d() -> Volume:
    return dicom_volume()


@pytest.fixture(scope="session")
def scans() -> dict[str, Volume]:
    return real_scans()


def nrmse(corrupted: np.ndarray, clean: np.ndarray) -> float:
    """Normalised RMS difference ``||x - x0|| / ||x0||`` (skimage's ``normalized_root_mse``, euclidean).

    Sums of squares in float64 with ``einsum`` (not BLAS, whose thread start-up dominates on small arrays)."""
    clean64 = clean.astype(np.float64).ravel()
    difference = corrupted.astype(np.float64).ravel() - clean64
    return float(np.sqrt(np.einsum("i,i->", difference, difference) / np.einsum("i,i->", clean64, clean64)))
