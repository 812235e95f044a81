"""Fixtures for the training tests: the tiny model and a tiny Hub-layout dataset of real MRI slices.

The dataset is built from nibabel's ``anatomical.nii`` (a real T1 brain, 33x41x25 at 2 mm): axial slices rendered
to 8-bit images (0.5-99.5 percentile window), each paired with a conversation grounded in numbers measured on that
slice. It is written exactly as the dataset builder publishes (``data/<split>-00000-of-00001.parquet`` + README.md
with ``configs``), with the extra columns training must ignore.
"""

from __future__ import annotations

import importlib.resources
import importlib.util
import json
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SLICES = {"train": range(6, 20), "validation": range(20, 24)}

_CARD = """---
license: other
configs:
- config_name: default
  data_files:
  - split: train
    path: data/train-*
  - split: validation
    path: data/validation-*
---
# Tiny MMRQA test set (nibabel anatomical.nii slices)
"""


def _render(slice_2d: np.ndarray):
    from PIL import Image

    lo, hi = np.percentile(slice_2d, [0.5, 99.5])
    scaled = np.clip((slice_2d - lo) / max(hi - lo, 1e-6), 0, 1)
    return Image.fromarray(np.round(scaled * 255).astype(np.uint8).T[::-1], mode="L").convert("RGB")


def _conversation(index: int, slice_2d: np.ndarray, parts: bool) -> list[dict]:
    fg = slice_2d[slice_2d > np.percentile(slice_2d, 50)]
    quality = "good" if fg.mean() > 0 else "poor"
    question = "What is the quality of this slice, and its mean foreground intensity?"
    answer = f"The quality is {quality}. The mean foreground intensity is {fg.mean():.1f}."
    if parts:
        user = [{"type": "image", "text": None}, {"type": "text", "text": question}]
        return [
            {"role": "user", "content": user},
            {"role": "assistant", "content": [{"type": "text", "text": answer}]},
        ]
    return [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]


def write_hub_dataset(directory: Path, parts: bool = True) -> Path:
    """Write the tiny dataset in Hub layout into ``directory`` and return it."""
    from datasets import Dataset, Features, Image, List, Value

    data = nib.load(importlib.resources.files("nibabel.tests") / "data" / "anatomical.nii").get_fdata()
    content = List({"type": Value("string"), "text": Value("string")}) if parts else Value("string")
    features = Features(
        {
            "images": List(Image()),
            "messages": List({"role": Value("string"), "content": content}),
            "subject": Value("string"),
            "slice_index": Value("int32"),
            "quality": Value("int8"),
            "metrics": Value("string"),
        }
    )
    (directory / "data").mkdir(parents=True, exist_ok=True)
    for split, indices in SLICES.items():
        rows = {k: [] for k in features}
        for z in indices:
            sl = data[:, :, z].astype(np.float32)
            rows["images"].append([_render(sl)])
            rows["messages"].append(_conversation(z, sl, parts))
            rows["subject"].append("anatomical")
            rows["slice_index"].append(z)
            rows["quality"].append(1)
            rows["metrics"].append(json.dumps({"mean": float(sl.mean())}))
        Dataset.from_dict(rows, features=features).to_parquet(directory / "data" / f"{split}-00000-of-00001.parquet")
    (directory / "README.md").write_text(_CARD)
    return directory


def load_script(relative_path: str):
    """A script of the repository (not a package module, e.g. ``train_sft.py``) imported once under its stem (its
    dataclasses look their module up in ``sys.modules``)."""
    path = REPO_ROOT / relative_path
    if path.stem not in sys.modules:
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = module
        spec.loader.exec_module(module)
    return sys.modules[path.stem]


@pytest.fixture(scope="session")
def repo_script():
    """:func:`load_script`, for tests of the benchmark scripts."""
    return load_script


@pytest.fixture(scope="session")
def train_sft():
    pytest.importorskip("trl")
    return load_script("train_sft.py")


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    from mmrqa.modeling import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-llava-onevision"), seed=0)


@pytest.fixture(scope="session")
def tiny_dataset_dir(tmp_path_factory) -> Path:
    return write_hub_dataset(tmp_path_factory.mktemp("tiny-mmrqa-dataset"))


#: the question types of :func:`dicom_t2_questions`
DICOM_T2_QUESTION_TYPES = ("rating", "presence", "artifact_type", "severity", "usability")


@pytest.fixture(scope="session")
def dicom_t2_questions(tmp_path_factory) -> Path:
    """20 conversations built by the dataset builder from the sample ``dicom_t2`` (the demo's test subject, never
    seen in the mini base's pretraining): severe noise, ghosting and blur plus the clean slice, one slice each, the
    question types of :data:`DICOM_T2_QUESTION_TYPES`, train split only (one subject)."""
    from dataset_builder import BuildConfig, build_dataset
    from mmrqa.data import sample_path

    root = tmp_path_factory.mktemp("dicom_t2-questions")
    (root / "scans").mkdir()
    (root / "scans" / "dicom_t2.dcm").symlink_to(sample_path("dicom_t2"))
    config = BuildConfig(
        kinds=("noise", "ghosting", "blur"),
        severities=("severe",),
        artifacts_per_scan=3,
        n_slices=1,
        question_types=DICOM_T2_QUESTION_TYPES,
        split_ratios=(1.0, 0.0, 0.0),
        seed=0,
    )
    summary = build_dataset("folder", root / "scans", root / "dataset", config, cache_dir=False)
    assert summary.rows == {"train": 20}
    return root / "dataset"
