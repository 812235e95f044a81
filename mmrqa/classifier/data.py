"""The classifier's training data: every real scan reachable offline, augmented, with simulated artifacts on top.

**Scans** (:func:`real_scans`): the samples of :mod:`mmrqa.data` (the MNI152 template once, noise-free: the recipe
gives it clinical noise), more real MR scans shipped by installed packages (nibabel's 4D EPI and Philips PAR/REC
phantom EPI, dipy's anisotropic T1, PIESNO EPI and coronal T1 slice, pydicom-data's Siemens head slice, fslpy's 1 mm
T1 crop and 4 mm EPI when fslpy is installed), the real MR images of the Debian packages ``mricron-data`` and
``insighttoolkit5-examples`` when installed (``make debian-data``; :func:`debian_scans` says which and why the others
are left out) and the TCIA pelvic T2w scans when ``../shared/data/tcia`` (or ``$MMRQA_TCIA_DIR``) is there; plus any
folder of clean scans a user passes. One file is one scan, and each scan is one *group*: all its views and variants go
to the same side of any split. ``TEST_SCANS`` are left out of the shipped model (the tests judge them as unseen).

**Views** (:func:`make_view`, seeded per scan and view): what clinical scans look like --
    plane           3D scans are resliced along a random axis (axial, coronal, sagittal stacks)
    2D              a 3D scan gives a single slice with probability 0.25
    crop            each in-plane side keeps 60-100% of the field of view, a slab 50-100% of the slices
    resolution      every k-th voxel to a largest side of 64, 96 or 128
    noise           noise-free templates get Rician noise of 1-5% of their 99.5th percentile (a real scan keeps its own)
    intensity       a scale factor 10^U(-1, 3); with probability 0.3 rounded to integers of an 8- or 12-bit range
    background      with probability 0.2 everything below 8% of the 99th percentile is set to zero (masked export)
**Variants** of a view: the clean view, and every artifact kind of :mod:`mmrqa.artifacts` at mild, moderate and severe
(labels read from the ``ArtifactRecord``). ``CLEAN_ONLY_VIEWS`` more views per scan are kept clean only, so that the
clean class is as varied as the corrupted ones.

**Table** (:func:`build_table`): one row per variant (scan, view, kind, severity, the features of
:mod:`mmrqa.classifier.features` and the image statistics of :mod:`mmrqa.classifier.domain`), cached per scan as TSV
under ``.classifier-cache/`` (gitignored; the cache key holds the recipe version and the scan's file size).
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import logging
import math
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mmrqa.volume import Volume

logger = logging.getLogger(__name__)

RECIPE_VERSION = 5
#: bumped when a feature or an image statistic of domain.py changes (the key also holds the feature names); the
#: views stay the same
FEATURES_VERSION = 7
VIEWS = 8
CLEAN_ONLY_VIEWS = 10
SEVERITIES = ("mild", "moderate", "severe")
SIDES = (64, 96, 128)
CACHE_DIR = Path(__file__).resolve().parents[2] / ".classifier-cache"
LABEL_COLUMNS = ("scan", "view", "kind", "severity")


@dataclass(frozen=True)
class Scan:
    """A real clean scan: its group name, how to load it, whether it is a noise-free template, its file."""

    name: str
    load: Callable[[], Volume]
    template: bool = False
    path: str = ""


def _file(
    path: Path, name: str, volume_index: int | None = None, template: bool = False, canonical: bool = True
) -> Scan | None:
    if not path.is_file():
        return None

    def load() -> Volume:
        from mmrqa.io import load_volume

        return load_volume(path, volume_index=volume_index, canonical=canonical)

    return Scan(name, load, template, str(path))


def _package_file(package: str, *parts: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))).joinpath(*parts)


def _sample(name: str, template: bool = False) -> Scan | None:
    from mmrqa.data import load_sample, sample_path
    from mmrqa.errors import MMRQAError

    try:
        path = sample_path(name)
    except (MMRQAError, ImportError):
        return None
    return Scan(name, lambda: load_sample(name), template, str(path))


def _npy_slice(path: Path | None, name: str) -> Scan | None:
    if path is None or not path.is_file():
        return None

    def load() -> Volume:
        data = np.load(path, allow_pickle=False).astype(np.float32)
        return Volume(data[:, :, None], (1.0, 1.0, 1.0), np.eye(4), {"source": str(path)})

    return Scan(name, load, False, str(path))


def _par_rec(path: Path | None, name: str) -> Scan | None:
    """A Philips PAR/REC scan, volume 0, as stored (the array the table was built from before :mod:`mmrqa.io` read
    PAR/REC: the same values and voxel size)."""
    return None if path is None else _file(path, name, volume_index=0, canonical=False)


#: real scans kept out of the shipped model entirely (chosen before any result): the tests check that a model that
#: never saw them passes them clean and finds a severe artifact simulated on them. They are held out in turn in the
#: leave-one-scan-out benchmark like every other scan.
TEST_SCANS = ("itk_t1_head", "itk_abdomen", "itk_sagittal_t1")

#: where the Debian packages ``mricron-data`` and ``insighttoolkit5-examples`` put their images (``make debian-data``)
MRICRON_DIR = Path("/usr/share/mricron/templates")
ITK_DATA_DIR = Path("/usr/share/doc/insighttoolkit5-examples/examples/Data")


def debian_scans() -> list[Scan]:
    """The real MR images of the Debian packages ``mricron-data`` and ``insighttoolkit5-examples``, when installed.

    Kept: Colin27 (``ch2``, an average of 27 scans of one subject: a template, given noise), the INIA19 macaque T1
    template (brain-extracted, given noise), ITK's real whole-head T1 (``KmeansTest_T1UCharRaw``), its mid-sagittal
    brain slice, abdominal slice (``FatMRISlice``) and rat thorax slice (``RatLungSlice1``; ``RatLungSlice2`` is the
    same animal, left out so that one subject is one group). Left out: ``ch2bet``/``ch2better`` (Colin27 again,
    brain-extracted and resampled), the BrainWeb simulations (``BrainProtonDensity*``, ``BrainT1Slice*``,
    ``itkBrainSliceComplex*``: 181x217 slices simulated from the Colin27 anatomy, so the same subject as ``ch2``),
    ``VisibleWomanHeadSlice`` (a colour photograph of a cryosection) and the atlases (label maps).
    """
    found = [
        _file(MRICRON_DIR / "ch2.nii.gz", "colin27", template=True),
        _file(MRICRON_DIR / "inia19-t1-brain.nii.gz", "inia19_macaque", template=True),
        _file(ITK_DATA_DIR / "KmeansTest_T1UCharRaw.nii.gz", "itk_t1_head"),
        _file(ITK_DATA_DIR / "BrainMidSagittalSlice.png", "itk_sagittal_t1"),
        _file(ITK_DATA_DIR / "FatMRISlice.png", "itk_abdomen"),
        _file(ITK_DATA_DIR / "RatLungSlice1.mha", "itk_rat_thorax"),
    ]
    return [scan for scan in found if scan is not None]


def real_scans(tcia: Path | None = None) -> list[Scan]:
    """The real clean MR scans reachable on this machine (see the module docstring), in a fixed order."""
    from mmrqa.data import pydicom_test_file as dicom
    from mmrqa.data import tcia_dir

    def maybe(path: Path | None, *args, **kwargs) -> Scan | None:
        return _file(path, *args, **kwargs) if path is not None else None

    candidates = [
        _sample("t1"),
        _sample("dicom_t2"),
        _sample("dicom_enhanced"),
        _sample("dicom_mr2"),
        _sample("epi"),
        _sample("mni152", template=True),
        maybe(_package_file("nibabel", "tests", "data", "example4d.nii.gz"), "nibabel_epi4d", volume_index=0),
        maybe(_package_file("dipy", "data", "files", "aniso_vox.nii.gz"), "dipy_aniso_t1"),
        maybe(_package_file("dipy", "data", "files", "test_piesno.nii.gz"), "dipy_piesno"),
        _npy_slice(_package_file("dipy", "data", "files", "t1_coronal_slice.npy"), "dipy_t1_coronal"),
        maybe(dicom("MR-SIEMENS-DICOM-WithOverlays.dcm"), "siemens_head"),
        maybe(_package_file("fsl", "tests", "test_transform", "testdata", "nonlinear", "src.nii.gz"), "fslpy_t1"),
        maybe(_package_file("fsl", "tests", "testdata", "example_func.nii.gz"), "fslpy_epi"),
        _par_rec(_package_file("nibabel", "tests", "data", "phantom_EPI_asc_CLEAR_2_1.PAR"), "nibabel_phantom_epi"),
        *debian_scans(),
    ]
    folder = tcia or tcia_dir()
    if folder is not None:
        candidates += [_file(p, "tcia_" + p.name.split("_")[0]) for p in sorted(Path(folder).glob("*.nii*"))]
    unique: dict[str, Scan] = {}
    for scan in candidates:  # one file, one group (dipy's S0_10slices is also the ``epi`` sample)
        if scan is not None and (not scan.path or os.path.realpath(scan.path) not in unique):
            unique[os.path.realpath(scan.path) if scan.path else scan.name] = scan
    return list(unique.values())


def folder_scans(folder: Path) -> list[Scan]:
    """Every scan file of a folder (as :func:`mmrqa.io.find_scans` finds them), one group each."""
    from mmrqa.io import find_scans

    scans = []
    for path in find_scans([Path(folder)]):
        scans.append(_file(Path(path).resolve(), "user_" + Path(path).name.split(".")[0]))
    return [scan for scan in scans if scan is not None]


# -- views -----------------------------------------------------------------------------------------------------------
def _seed(*parts) -> int:
    return int.from_bytes(hashlib.sha256(repr(parts).encode()).digest()[:8], "little") >> 1


def make_view(volume: Volume, rng: np.random.Generator, template: bool) -> Volume:
    """One clinical-looking view of a clean scan (see the module docstring for the recipe)."""
    from mmrqa.classifier.features import decimate
    from mmrqa.data import add_rician_noise

    data = np.asarray(volume.data, dtype=np.float32)
    spacing = list(volume.spacing)
    if data.shape[2] >= 16 and min(data.shape) >= 16:  # reslice along a random axis
        order = [(0, 1, 2), (0, 2, 1), (1, 2, 0)][int(rng.integers(3))]
        data, spacing = np.transpose(data, order), [spacing[a] for a in order]
    if data.shape[2] > 1 and rng.random() < 0.25:  # one slice of a 3D scan
        n = data.shape[2]
        z = int(np.clip(round(n * rng.uniform(0.35, 0.65)), 0, n - 1))
        data = data[:, :, z : z + 1]
    crop = []
    for axis, n in enumerate(data.shape):
        keep = rng.uniform(0.6, 1.0) if axis < 2 else (rng.uniform(0.5, 1.0) if n > 8 else 1.0)
        size = max(min(n, 16 if axis < 2 else 1), int(round(n * keep)))
        start = int(rng.integers(0, n - size + 1))
        crop.append(slice(start, start + size))
    data = np.ascontiguousarray(data[tuple(crop)])
    view = Volume(data, tuple(spacing), np.diag([*spacing, 1.0]), {"source": str(volume.meta.get("source", ""))})
    view = decimate(view, int(rng.choice(SIDES)))
    data = np.asarray(view.data, dtype=np.float32)
    if template:
        peak = float(np.percentile(data, 99.5))
        data = add_rician_noise(data, rng.uniform(0.01, 0.05) * peak, seed=int(rng.integers(2**31)))
    data = data - min(float(data.min()), 0.0)
    data = data * np.float32(10 ** rng.uniform(-1, 3))
    if rng.random() < 0.3:
        top = float(rng.choice([255.0, 4095.0]))
        data = np.round(data * (top / max(float(data.max()), 1e-12)))
    if rng.random() < 0.2:
        data = np.where(data < 0.08 * np.percentile(data, 99), 0.0, data)
    return view.with_data(data.astype(np.float32))


def variants(view: Volume, seed: int, clean_only: bool) -> Iterable[tuple[str, str, Volume]]:
    """(kind, severity, volume): the clean view, then every artifact kind at every severity (unless clean only)."""
    from mmrqa.artifacts import KINDS, simulate

    yield "none", "none", view
    if clean_only:
        return
    for k, kind in enumerate(KINDS):
        for s, severity in enumerate(SEVERITIES):
            corrupted, record = simulate(view, kind, severity, _seed(seed, k, s))
            yield record.kind, record.severity, corrupted


def row_of(volume: Volume) -> dict[str, float]:
    """Features and image statistics of one (already decimated) volume."""
    from mmrqa.classifier.domain import image_statistics
    from mmrqa.classifier.features import scan_features

    return {**scan_features(volume), **image_statistics(volume)}


def scan_rows(scan: Scan) -> list[dict[str, object]]:
    """Every row of one scan (views x variants), in a fixed order."""
    from mmrqa.errors import MMRQAError

    volume = scan.load()
    rows: list[dict[str, object]] = []
    for v in range(VIEWS + CLEAN_ONLY_VIEWS):
        seed = _seed(RECIPE_VERSION, scan.name, v)
        view = make_view(volume, np.random.default_rng(seed), scan.template)
        for kind, severity, variant in variants(view, seed, clean_only=v >= VIEWS):
            try:
                values = row_of(variant)
            except MMRQAError as exc:  # e.g. a crop with no foreground left: the variant is skipped, and said so
                logger.info("%s view %d %s/%s skipped: %s", scan.name, v, kind, severity, exc)
                continue
            rows.append({"scan": scan.name, "view": v, "kind": kind, "severity": severity, **values})
    return rows


def _cache_file(scan: Scan, cache: Path) -> Path:
    size = os.path.getsize(scan.path) if scan.path and os.path.isfile(scan.path) else 0
    from mmrqa.classifier.features import feature_names

    parts = (RECIPE_VERSION, VIEWS, CLEAN_ONLY_VIEWS, scan.name, size, FEATURES_VERSION, feature_names())
    key = hashlib.sha256(repr(parts).encode()).hexdigest()[:12]
    return cache / f"{scan.name}-{key}.tsv"


def build_table(scans: list[Scan], cache: Path | None = CACHE_DIR) -> list[dict[str, object]]:
    """Rows of every scan (see :func:`scan_rows`), read from / written to the per-scan cache."""
    from mmrqa.fileio import write_text_atomic

    rows: list[dict[str, object]] = []
    for scan in scans:
        path = _cache_file(scan, cache) if cache is not None else None
        if path is not None and path.is_file():
            rows += read_rows(path)
            continue
        logger.info("measuring %s", scan.name)
        made = scan_rows(scan)
        if path is not None and made:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(path, rows_to_tsv(made))
        rows += made
    return rows


def rows_to_tsv(rows: list[dict[str, object]]) -> str:
    columns = list(rows[0])
    lines = ["\t".join(columns)]
    lines += ["\t".join(_cell(row.get(c)) for c in columns) for row in rows]
    return "\n".join(lines) + "\n"


def _cell(value: object) -> str:
    if isinstance(value, float):  # numpy's float64 too, written as a plain float
        return "nan" if math.isnan(value) else repr(float(value))
    return str(value)


def read_rows(path: Path) -> list[dict[str, object]]:
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        return [
            {
                k: (v if k in ("scan", "kind", "severity") else (int(v) if k == "view" else float(v)))
                for k, v in r.items()
            }
            for r in reader
        ]
