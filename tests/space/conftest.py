"""Fixtures of the Space tests: real scans in several upload formats, and the app launched on 127.0.0.1."""

from __future__ import annotations

import importlib.util
import os
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.uid import generate_uid

REPO = Path(__file__).resolve().parents[2]
APP_PATH = REPO / "space" / "app.py"
#: Upload limit of the launched test app: small, so that the "huge upload" test stays fast.
TEST_UPLOAD_LIMIT = 4 * 1024**2


def dicom_series(folder: Path, n_slices: int = 6) -> Path:
    """A real DICOM series: frames of pydicom-data's enhanced emri_small.dcm written as single-frame files named like
    a scanner export (no extension), 1.2 mm apart."""
    src = pydicom.dcmread(get_testdata_file("emri_small.dcm"))
    frames = src.pixel_array[:n_slices]
    uid = generate_uid()
    folder.mkdir(parents=True, exist_ok=True)
    for k, frame in enumerate(frames):
        ds = pydicom.dcmread(get_testdata_file("emri_small.dcm"))
        ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = pydicom.uid.MRImageStorage
        ds.SOPInstanceUID = generate_uid()
        ds.SeriesInstanceUID = uid
        del ds.NumberOfFrames
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [0.0, 0.0, 1.2 * k]
        ds.PixelSpacing = [0.9, 0.9]
        ds.InstanceNumber = k + 1
        ds.PixelData = np.ascontiguousarray(frame).tobytes()
        ds.save_as(folder / f"IM{k + 1:04d}", enforce_file_format=True)
    return folder


def zip_folder(folder: Path, archive: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, prefix + str(path.relative_to(folder)))
    return archive


def metaimage_pair(folder: Path, data: np.ndarray, spacing=(2.0, 2.0, 2.0)) -> Path:
    """A MetaImage header + raw file (little-endian float32) for ``data`` in (X, Y, Z) order."""
    folder.mkdir(parents=True, exist_ok=True)
    nx, ny, nz = data.shape
    (folder / "scan.raw").write_bytes(np.asarray(data, "<f4").transpose(2, 1, 0).tobytes())
    (folder / "scan.mhd").write_text(
        "ObjectType = Image\nNDims = 3\n"
        f"DimSize = {nx} {ny} {nz}\nElementSpacing = {' '.join(map(str, spacing))}\n"
        "ElementType = MET_FLOAT\nBinaryDataByteOrderMSB = False\nElementDataFile = scan.raw\n"
    )
    return folder / "scan.mhd"


@pytest.fixture(scope="session")
def scans(tmp_path_factory) -> dict[str, Path]:
    """Real scans in the formats users upload: NIfTI, DICOM file, zip of a DICOM series, zip of .mhd + .raw, PNG."""
    from mmrqa.data import sample_path
    from mmrqa.io import load_volume
    from mmrqa.render import render_slice

    root = tmp_path_factory.mktemp("space-scans")
    t1 = sample_path("t1")
    out = {"nifti": t1, "dicom": sample_path("dicom_t2"), "epi": sample_path("epi")}
    out["dicom_zip"] = zip_folder(dicom_series(root / "series"), root / "series.zip", prefix="study/series1/")
    metaimage_pair(root / "mhd", load_volume(t1).data)
    out["mhd_zip"] = zip_folder(root / "mhd", root / "t1_mhd.zip")
    png = root / "t1_slice.png"
    render_slice(load_volume(t1), 12).save(png)  # a real brain slice as users export it from a viewer
    out["png"] = png
    return out


def import_app(name: str) -> ModuleType:
    """Import space/app.py as a fresh module and build its app (``module.demo``), which chooses the model once."""
    spec = importlib.util.spec_from_file_location(name, APP_PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    module.demo = module.build_app()
    return module


@pytest.fixture(scope="session")
def space_app(tmp_path_factory):
    """The app in metrics-only mode, launched on 127.0.0.1 (no SSR), with its temp folders under pytest's tmp."""
    gradio_tmp = tmp_path_factory.mktemp("gradio-tmp")
    saved = {k: os.environ.get(k) for k in ("GRADIO_TEMP_DIR", "MMRQA_MODEL", "MMRQA_MAX_UPLOAD_BYTES")}
    os.environ.update(
        GRADIO_TEMP_DIR=str(gradio_tmp),
        MMRQA_MAX_UPLOAD_BYTES=str(TEST_UPLOAD_LIMIT),
        GRADIO_ANALYTICS_ENABLED="False",
        MMRQA_DEMO_ADAPTER=str(gradio_tmp / "no-demo-adapter"),
    )
    os.environ.pop("MMRQA_MODEL", None)
    module = import_app("mmrqa_space_app_test")
    _, url, _ = module.demo.launch(
        server_name="127.0.0.1", prevent_thread_lock=True, quiet=True, **module.launch_options()
    )
    yield module, url
    module.demo.close()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
