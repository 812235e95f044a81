"""``make demo`` (``python -m mmrqa.demo``) runs the whole release pipeline offline, and a second run reuses it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def _demo(output: Path, cache: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, MMRQA_CACHE=str(cache), HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1")
    return subprocess.run(
        [sys.executable, "-m", "mmrqa.demo", "--output", str(output)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )


@pytest.mark.slow
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
