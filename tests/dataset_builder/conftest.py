"""Fixtures of the dataset-builder tests: a synthetic MR-ART tree made from real scans, and its build.

The tree follows OpenNeuro ds004173 (``sub-XXXXXX/anat/sub-XXXXXX_acq-{standard,headmotion1,headmotion2}_T1w.nii.gz``
+ ``derivatives/scores.tsv``) with copies of real scans: nibabel's anatomical T1, dipy's S0_10slices EPI and the
MNI152 template with Rician noise (downsampled 3x so that the tests stay fast). Some acquisitions are missing, one
scored scan is absent from the tree and one scan has no score.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace

import nibabel as nib
import numpy as np
import pytest

from mmrqa.data import sample_path

#: scan file name (without .nii.gz) -> expert score; None = the file exists but has no score.
MRART_SCANS: dict[str, int | None] = {
    "sub-000101_acq-standard_T1w": 1,
    "sub-000101_acq-headmotion1_T1w": 2,
    "sub-000102_acq-standard_T1w": 1,
    "sub-000102_acq-headmotion2_T1w": 3,
    "sub-000103_acq-standard_T1w": 1,
    "sub-000103_acq-headmotion1_T1w": 3,
    "sub-000104_acq-headmotion1_T1w": 1,
    "sub-000105_acq-standard_T1w": 2,
    "sub-000105_acq-headmotion2_T1w": None,
}
#: scored in scores.tsv, absent from the tree (tolerated).
MISSING_SCORED = "sub-000104_acq-standard_T1w"
#: the settings of every MR-ART build of these tests (small: one simulated copy, one slice per scan).
BUILD_YAML = "artifacts_per_scan: 1\nn_slices: 1\nsplit_ratios: [0.6, 0.2, 0.2]\nseed: 3\nlicense: cc-by-4.0\n"


def _real_images() -> list[nib.Nifti1Image]:
    t1 = nib.load(sample_path("t1"))
    epi = nib.load(sample_path("epi"))
    mni = nib.load(sample_path("mni152_noisy"))
    small = np.asarray(mni.dataobj, dtype=np.float32)[::3, ::3, ::3]
    affine = mni.affine.copy()
    affine[:3, :3] *= 3
    return [
        nib.Nifti1Image(np.asarray(t1.dataobj, dtype=np.float32), t1.affine),
        nib.Nifti1Image(np.asarray(epi.dataobj, dtype=np.float32), epi.affine),
        nib.Nifti1Image(small, affine),
    ]


def make_mrart_tree(root: Path) -> dict[str, int]:
    """Write the tree; returns the scores of the scans present (name -> score)."""
    images = _real_images()
    present = {}
    for k, (name, score) in enumerate(MRART_SCANS.items()):
        subject = name.split("_")[0]
        image = images[k % len(images)]
        if "headmotion" in name:  # a different acquisition of the same head: not a byte copy
            image = nib.Nifti1Image(np.asarray(image.dataobj) * np.float32(1.0 + 0.01 * k), image.affine)
        (root / subject / "anat").mkdir(parents=True, exist_ok=True)
        nib.save(image, root / subject / "anat" / f"{name}.nii.gz")
        if score is not None:
            present[name] = score
    rows = [*present.items(), (MISSING_SCORED, 2)]
    (root / "derivatives").mkdir(parents=True, exist_ok=True)
    (root / "derivatives" / "scores.tsv").write_text(
        "bids_name\tscore\n" + "".join(f"{name}\t{score}\n" for name, score in rows), encoding="utf-8"
    )
    (root / "dataset_description.json").write_text(json.dumps({"Name": "MR-ART test", "BIDSVersion": "1.6.0"}))
    return present


@pytest.fixture(scope="session")
def mrart(tmp_path_factory) -> SimpleNamespace:
    """The MR-ART tree, its build (Python API, own cache) and what the tests compare against."""
    from dataset_builder.build import build_dataset
    from dataset_builder.config import load_config

    base = tmp_path_factory.mktemp("mrart")
    scores = make_mrart_tree(base / "ds004173")
    config_path = base / "build.yaml"
    config_path.write_text(BUILD_YAML, encoding="utf-8")
    config = load_config(config_path)
    errors: list[str] = []
    summary = build_dataset(
        "mr-art", base / "ds004173", base / "out", config, cache_dir=base / "cache", on_error=errors.append
    )
    return SimpleNamespace(
        root=base / "ds004173",
        config_path=config_path,
        config=config,
        scores=scores,
        output=base / "out",
        cache=base / "cache",
        summary=summary,
        errors=errors,
    )


def report_of(metrics_json: str) -> SimpleNamespace:
    """A MetricReport stand-in from the ``metrics`` column (null -> NaN), for the grounding check."""
    values = {k: (math.nan if v is None else float(v)) for k, v in json.loads(metrics_json).items()}
    return SimpleNamespace(values=values)


def parquet_bytes(output: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((output / "data").glob("*.parquet"))}


@pytest.fixture(scope="session")
def helpers() -> SimpleNamespace:
    return SimpleNamespace(report_of=report_of, parquet_bytes=parquet_bytes, scans=MRART_SCANS)
