"""Real sample scans that ship inside installed packages, usable offline (demo, tests, docs).

``nibabel``, ``pydicom`` and ``pydicom-data`` are core dependencies; ``dipy`` and ``nilearn`` come with the
``samples`` extra. The MNI152 template is written once to the cache folder (``$MMRQA_CACHE`` or
``~/.cache/mmrqa``) as NIfTI so that every sample is a file ``load_volume`` can read. The template is an
average of 152 registered brains: smooth and noise-free, hence marked ``meta["template"] = True``;
``mni152_noisy`` adds seeded Rician noise to it (magnitude of a complex signal with Gaussian noise in both
channels, Gudbjartsson & Patz 1995, MRM 34:910) to look like a clean acquired scan.
"""

from __future__ import annotations

import filecmp
import importlib.util
import logging
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from mmrqa.errors import InvalidArgumentError, ScanNotFoundError
from mmrqa.fileio import atomic_output
from mmrqa.io import load_volume
from mmrqa.volume import Volume

# nibabel, nilearn and pydicom are imported where a sample needs them (``import mmrqa.data`` stays light).

logger = logging.getLogger(__name__)

SAMPLES: dict[str, str] = {
    "t1": "real T1-weighted brain, 33x41x25 at 2 mm, SPM-normalised (nibabel anatomical.nii)",
    "dicom_t2": "real T2-weighted DICOM slice, 64x64 at 0.31 mm, Toshiba (pydicom MR_small.dcm)",
    "dicom_enhanced": "real enhanced multi-frame T1 DICOM, 10 frames of 64x64, Philips 3 T (pydicom-data emri_small.dcm)",
    "dicom_mr2": "real MR DICOM slice, 1024x1024, Philips 1.5 T, rescale slope 3.77 (pydicom-data MR2_UNCR.dcm)",
    "epi": "real EPI b0 volume, 128x128x10 at 2 mm (dipy S0_10slices.nii.gz)",
    "mni152": "MNI152 T1 template, 197x233x189 at 1 mm: noise-free average, not an acquisition (nilearn)",
    "mni152_noisy": "MNI152 T1 template with seeded Rician noise (sigma 2% of the 99.5th percentile): a clean scan",
}

#: Rician noise level of ``mni152_noisy`` relative to the template's 99.5th percentile (SNR ~ 40 in white matter).
NOISE_FRACTION = 0.02
NOISE_SEED = 0
TCIA_ENV = "MMRQA_TCIA_DIR"
CACHE_ENV = "MMRQA_CACHE"


def cache_dir() -> Path:
    """Folder for generated samples: ``$MMRQA_CACHE`` or ``~/.cache/mmrqa``."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "mmrqa").expanduser()


def sample_path(name: str) -> Path:
    """Path of a sample scan file (generated into the cache on first use for the MNI152 samples)."""
    if name not in SAMPLES:
        raise InvalidArgumentError(f"unknown sample {name!r}; available: {', '.join(SAMPLES)}")
    if name == "t1":
        path = _package_dir("nibabel") / "tests" / "data" / "anatomical.nii"
    elif name in ("dicom_t2", "dicom_enhanced", "dicom_mr2"):
        path = _pydicom_file(
            {"dicom_t2": "MR_small.dcm", "dicom_enhanced": "emri_small.dcm"}.get(name, "MR2_UNCR.dcm")
        )
    elif name == "epi":
        path = _package_dir("dipy") / "data" / "files" / "S0_10slices.nii.gz"
    else:
        path = _mni152_file(noisy=name == "mni152_noisy")
    if not path.is_file():
        raise ScanNotFoundError(f"sample {name!r}: {path} is missing from the installed package")
    return path


def load_sample(name: str) -> Volume:
    """Load a sample as a :class:`~mmrqa.volume.Volume` (meta ``sample`` = name; templates flagged)."""
    volume = load_volume(sample_path(name))
    extra = {"sample": name}
    if name == "mni152":
        extra["template"] = True
    return volume.with_data(volume.data, **extra)


def is_sample_copy(path: str | os.PathLike, names: Iterable[str] = tuple(SAMPLES)) -> bool:
    """True when ``path`` is a byte-identical copy of one of the samples ``names`` with the same file name (e.g. a
    bundled example that a web front end cached among its uploads)."""
    path = Path(path)
    for name in names:
        sample = sample_path(name)
        if path.name == sample.name and path.is_file() and filecmp.cmp(path, sample, shallow=False):
            return True
    return False


def tcia_dir() -> Path | None:
    """The shared TCIA pelvic T2w folder (``$MMRQA_TCIA_DIR`` or ``../shared/data/tcia`` next to the repo)."""
    env = os.environ.get(TCIA_ENV)
    candidate = Path(env) if env else Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "tcia"
    return candidate.resolve() if candidate.is_dir() else None


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ScanNotFoundError(f"package {package!r} is not installed; install mmrqa[samples] for this sample")
    return Path(next(iter(spec.submodule_search_locations)))


def _pydicom_file(filename: str) -> Path:
    from pydicom.data import get_testdata_file

    try:
        found = get_testdata_file(filename, download=False)
    except Exception as exc:  # pydicom-data missing or unreadable
        raise ScanNotFoundError(f"pydicom test file {filename} unavailable ({exc}); install pydicom-data") from exc
    if not found:
        raise ScanNotFoundError(f"pydicom test file {filename} not found; install pydicom-data")
    return Path(found)


def pydicom_test_file(filename: str) -> Path | None:
    """A test file of pydicom / pydicom-data by name, or None when it is not installed here (never downloads)."""
    try:
        return _pydicom_file(filename)
    except ScanNotFoundError:
        return None


def _mni152_file(*, noisy: bool) -> Path:
    name = f"mni152_t1_1mm_rician_seed{NOISE_SEED}.nii.gz" if noisy else "mni152_t1_1mm.nii.gz"
    path = cache_dir() / name
    if path.is_file():
        return path
    if importlib.util.find_spec("nilearn") is None:
        raise ScanNotFoundError("the MNI152 samples need nilearn; install mmrqa[samples]")
    import nibabel as nib
    from nilearn.datasets import load_mni152_template

    template = load_mni152_template(resolution=1)
    data = np.asarray(template.get_fdata(dtype=np.float32))
    if noisy:
        data = add_rician_noise(data, NOISE_FRACTION * float(np.percentile(data, 99.5)), seed=NOISE_SEED)
    image = nib.Nifti1Image(data.astype(np.float32), template.affine)
    image.header.set_xyzt_units("mm")
    _save_atomic(image, path)
    logger.info("wrote %s", path)
    return path


def add_rician_noise(data: np.ndarray, sigma: float, seed: int) -> np.ndarray:
    """Magnitude of ``data + n1 + i*n2`` with ``n1, n2 ~ N(0, sigma^2)`` i.i.d.: Rician noise, seeded."""
    rng = np.random.default_rng(seed)
    real = data + rng.normal(0.0, sigma, data.shape).astype(np.float32)
    imag = rng.normal(0.0, sigma, data.shape).astype(np.float32)
    return np.sqrt(real * real + imag * imag).astype(np.float32)


def _save_atomic(image, path: Path) -> None:
    """Write through a temp file and rename, so concurrent first uses never see a half-written file."""
    import nibabel as nib

    with atomic_output(path, suffix=".nii.gz", what="the sample cache") as tmp:
        nib.save(image, tmp)
