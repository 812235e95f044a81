"""``make demo`` (``python -m mmrqa.demo``) runs the whole release pipeline offline, and a second run reuses it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
DEMO_TIMEOUT_S = 1200


def _demo(output: Path, cache: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, MMRQA_CACHE=str(cache), HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1")
    return subprocess.run(
        [sys.executable, "-m", "mmrqa.demo", "--output", str(output)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=DEMO_TIMEOUT_S,
    )


@pytest.mark.slow
@pytest.mark.timeout(2 * DEMO_TIMEOUT_S + 60)  # two demo runs; one takes 320 s on a loaded 2-core machine
def test_demo_builds_trains_evaluates_and_assesses_then_reuses_its_work(tmp_path):
    pytest.importorskip("trl")
    pytest.importorskip("nilearn")
    out, cache = tmp_path / "demo_output", tmp_path / "cache"
    first = _demo(out, cache)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "Traceback" not in first.stderr
    for step in range(1, 8):
        assert f"[{step}/7]" in first.stdout
    assert (out / "qc_report" / "index.html").is_file() and "cohort report: file://" in first.stdout
    assert "not clinical accuracy" in first.stdout

    # The dataset in the Hub layout, loadable offline with decoded images.
    import datasets

    dataset = datasets.load_dataset(str(out / "dataset"))
    assert {"train", "test"} <= set(dataset) and dataset["train"].num_rows > 0
    assert dataset["train"][0]["images"][0].size[0] > 0

    # The adapter with its card, into which the evaluation against the baselines was written.
    adapter = out / "adapter"
    assert (adapter / "adapter_model.safetensors").is_file()
    card = (adapter / "README.md").read_text(encoding="utf-8")
    assert "model-index" in card and "Evaluation against baselines" in card and "Majority class" in card
    results = json.loads((out / "evaluation.json").read_text(encoding="utf-8"))
    assert {"Signal-only classifier", "Majority class"} <= set(results["systems"])

    # The assessment came from the trained adapter, not the metrics-only fallback.
    assessment = (out / "assessment.md").read_text(encoding="utf-8")
    assert "**Mode:** model" in assessment and "| Metric |" in assessment

    second = _demo(out, cache)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert "up to date with the dataset: reused" in second.stdout
    assert "from cache" in second.stdout + second.stderr


def test_demo_links_every_sample_and_prints_its_summary(tmp_path, capsys):
    pytest.importorskip("nilearn")
    from mmrqa.demo import DEMO_SAMPLES, link_samples
    from mmrqa.io import find_scans

    folder = link_samples(tmp_path / "samples")
    assert len(find_scans(folder)) == len(DEMO_SAMPLES)  # each sample is one scan of its own
    out = capsys.readouterr().out
    for name in DEMO_SAMPLES:
        assert name in out
    assert "33x41x25 @ 2x2x2 mm" in out  # nibabel's anatomical.nii


#: the held-out subjects of `make table`'s rows 1-6 (mmrqa.demo.HELDOUT_SCANS), chosen before any result.
HELDOUT = ("dicom_t2", "dicom_enhanced", "siemens_head", "fslpy_t1", "dipy_piesno", "itk_sagittal_t1")


def _demo_splits() -> dict[str, str]:
    """Subject -> split of the demo dataset, by the builder's own rule with the demo's build recipe."""
    from dataset_builder.config import load_config
    from dataset_builder.splits import assign_splits
    from mmrqa.demo import BUILD_RECIPE, DEMO_SAMPLES

    config = load_config(BUILD_RECIPE)
    return assign_splits(DEMO_SAMPLES, config.split_ratios, config.seed)


def test_the_tables_held_out_subjects_are_fixed_and_none_is_in_a_training_split():
    from fnmatch import fnmatch

    from mmrqa.demo import HELDOUT_SCANS
    from mmrqa.pretrain_mini import EXCLUDED, TRAIN_SCANS, VALIDATION_SCANS

    assert tuple(HELDOUT_SCANS) == HELDOUT
    splits = _demo_splits()
    demo_train = {subject for subject, split in splits.items() if split == "train"}
    # the demo's LoRA, its signal-only classifier and its majority class are fitted on the demo's train split
    assert demo_train == {"t1", "epi", "mni152_noisy"} and not demo_train & set(HELDOUT)
    assert splits["dicom_t2"] == "test" and splits["dicom_enhanced"] == "validation"
    assert not set(HELDOUT) & set(TRAIN_SCANS)  # the mini base never trained on them
    # its validation scans are among them, and the table's title says so
    assert set(HELDOUT) & set(VALIDATION_SCANS) == {"siemens_head", "fslpy_t1", "dipy_piesno"}
    assert not [name for name in HELDOUT for pattern in EXCLUDED if "*" in pattern and fnmatch(name, pattern)]


def _pixels(path: Path):
    import numpy as np

    from mmrqa.io import load_volume

    if path.suffix == ".npy":
        return np.squeeze(np.load(path, allow_pickle=False))
    return np.squeeze(np.asarray(load_volume(path, **({"volume_index": 0} if "example4d" in path.name else {})).data))


def test_no_held_out_scan_is_a_file_or_an_image_that_a_model_trained_on():
    pytest.importorskip("nilearn")
    import numpy as np

    from mmrqa.data import sample_path
    from mmrqa.demo import heldout_sources
    from mmrqa.pretrain_mini import TRAIN_SCANS, scan_file

    held = heldout_sources()
    if len(held) < len(HELDOUT):
        pytest.skip(f"held-out scans missing here: {sorted(set(HELDOUT) - set(held))}")
    demo_train = [subject for subject, split in _demo_splits().items() if split == "train"]
    trained = [sample_path(name) for name in demo_train] + [scan_file(name) for name in TRAIN_SCANS]
    trained = [Path(path) for path in trained if path is not None]
    assert len(trained) >= len(demo_train) + 5
    trained_files = {os.path.realpath(path) for path in trained}
    assert not [name for name, path in held.items() if os.path.realpath(path) in trained_files]
    images = [_pixels(path) for path in trained]
    for name, path in held.items():  # the same pixels under another file name would be the same subject
        pixels = _pixels(path)
        assert not any(pixels.shape == other.shape and np.array_equal(pixels, other) for other in images), name


def test_the_held_out_scans_are_linked_one_subject_each(tmp_path, capsys):
    from mmrqa.demo import HELDOUT_SCANS, _link_scans, heldout_sources
    from mmrqa.io import find_scans

    held = heldout_sources()
    if len(held) < 2:
        pytest.skip("fewer than two held-out scans on this machine")
    _link_scans(tmp_path, held, HELDOUT_SCANS)
    assert len(find_scans(tmp_path)) == len(held)  # one scan file per subject, named after it
    assert sorted(p.name.split(".")[0] for p in tmp_path.iterdir()) == sorted(held)
    assert "the demo's test subject" in capsys.readouterr().out
