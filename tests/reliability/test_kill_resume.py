"""SIGKILL at random points, then restart (issue 11): the dataset builder and ``train_sft.py``.

- The builder (``python -m dataset_builder``) is killed three times at random moments, each after at least one more
  scan finished; after every kill whatever exists is whole (cache entries and any output are readable Parquet),
  finished scans are never computed again (their cache entries keep their mtime), and the final run produces the
  same bytes as an uninterrupted build.
- ``train_sft.py`` is killed mid-training after its first checkpoint; a torn later checkpoint (what a kill during a
  save leaves) is skipped; ``--resume_from_checkpoint last`` continues from the last complete checkpoint (its files
  are not rewritten, the step count goes on to ``max_steps``) and writes a loadable adapter.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(REPO), "TOKENIZERS_PARALLELISM": "false"}


def _kill_after(process: subprocess.Popen, ready, rng: random.Random, max_extra_s: float, timeout_s: float = 180):
    """SIGKILL ``process`` a random 0..``max_extra_s`` seconds after ``ready()`` turns true (or it exits)."""
    deadline = time.monotonic() + timeout_s
    while process.poll() is None and not ready() and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(rng.uniform(0.0, max_extra_s))
    killed = process.poll() is None
    if killed:
        process.send_signal(signal.SIGKILL)
    process.wait()
    return killed


# -- dataset builder -------------------------------------------------------------------------------------------------


def _builder(mrart, output: Path, cache: Path) -> list[str]:
    return [
        sys.executable, "-m", "dataset_builder", "--source", "mr-art", "--input", str(mrart.root),
        "--output", str(output), "--config", str(mrart.config_path), "--cache-dir", str(cache),
    ]  # fmt: skip


def _entries(cache: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in cache.rglob("*.parquet") if not p.name.startswith(".")}


def _assert_whole(output: Path, cache: Path) -> None:
    import pyarrow.parquet as pq

    for path in [*_entries(cache), *output.glob("data/*.parquet")]:
        pq.read_table(path)  # raises on a torn file
    if (output / "README.md").exists():
        from huggingface_hub import DatasetCard

        assert DatasetCard.load(output / "README.md").data.to_dict()["configs"]


@pytest.mark.slow
def test_builder_killed_three_times_at_random_points_resumes_without_redoing_scans(mrart, helpers, tmp_path):
    output, cache = tmp_path / "out", tmp_path / "cache"
    rng = random.Random(20261130)
    finished: dict[Path, int] = {}
    kills = 0
    for _ in range(3):
        process = subprocess.Popen(_builder(mrart, output, cache), cwd=REPO, env=ENV, stderr=subprocess.DEVNULL)
        n = len(finished)
        # a random moment shortly after one more scan finished: well inside the next scan on any machine speed
        kills += _kill_after(process, lambda n=n: len(_entries(cache)) > n, rng, max_extra_s=0.02)
        _assert_whole(output, cache)
        now = _entries(cache)
        assert all(now.get(path) == mtime for path, mtime in finished.items()), "a finished scan was redone"
        finished = now
    total = len(mrart.scores)
    assert kills >= 1 and 0 < len(finished) < total, f"no kill landed mid-build ({len(finished)} of {total} scans)"

    done = subprocess.run(_builder(mrart, output, cache), cwd=REPO, env=ENV, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"{total - len(finished)} computed, {len(finished)} from cache, 0 failed" in done.stdout
    assert all(_entries(cache)[path] == mtime for path, mtime in finished.items())
    assert helpers.parquet_bytes(output) == helpers.parquet_bytes(mrart.output)  # same bytes as an unkilled build
    from huggingface_hub import DatasetCard

    assert DatasetCard.load(output / "README.md").data == DatasetCard.load(mrart.output / "README.md").data


# -- train_sft.py ----------------------------------------------------------------------------------------------------

# enough steps after the first checkpoint that the kill lands mid-training on an idle machine too (12 did not)
SAVE_STEPS, MAX_STEPS = 4, 40


@pytest.fixture(scope="module")
def training_inputs(tmp_path_factory) -> tuple[Path, Path]:
    """The tiny LLaVA-OneVision and the tiny Hub-layout dataset of tests/training (real T1 slices)."""
    pytest.importorskip("trl")
    import importlib.util

    name = "mmrqa_tests_training_conftest"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / "tests" / "training" / "conftest.py")
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    from mmrqa.modeling import build_tiny_model

    model = build_tiny_model(tmp_path_factory.mktemp("tiny-base"), seed=0)
    return model, sys.modules[name].write_hub_dataset(tmp_path_factory.mktemp("tiny-data"))


def _train(model: Path, data: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable, str(REPO / "train_sft.py"), "--config", str(REPO / "recipes" / "tiny-cpu.yaml"),
        "--model_name_or_path", str(model), "--dataset_name", str(data), "--output_dir", str(out),
        "--max_steps", str(MAX_STEPS), "--save_steps", str(SAVE_STEPS), "--save_total_limit", "20",
        "--eval_strategy", "no", "--logging_steps", "2", *extra,
    ]  # fmt: skip


def _complete(checkpoint: Path) -> bool:
    try:
        return "global_step" in json.loads((checkpoint / "trainer_state.json").read_text())
    except (OSError, ValueError):
        return False


@pytest.mark.slow
def test_train_sft_killed_mid_training_resumes_from_the_last_complete_checkpoint(training_inputs, tmp_path):
    from safetensors import safe_open

    model, data = training_inputs
    out = tmp_path / "run"
    process = subprocess.Popen(
        _train(model, data, out), cwd=REPO, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _kill_after(process, lambda: _complete(out / f"checkpoint-{SAVE_STEPS}"), random.Random(7), max_extra_s=0.1)
    assert process.returncode == -signal.SIGKILL, process.stderr.read()[-2000:]
    complete = sorted((p for p in out.glob("checkpoint-*") if _complete(p)), key=lambda p: int(p.name.split("-")[1]))
    assert complete, "no complete checkpoint before the kill"
    last = int(complete[-1].name.split("-")[1])
    assert last < MAX_STEPS, "the kill should land mid-training"
    torn = out / f"checkpoint-{last + SAVE_STEPS}"  # a kill during the next save: weights half-written, no state
    if not torn.exists():
        torn.mkdir()
        (torn / "adapter_model.safetensors").write_bytes(
            (complete[-1] / "adapter_model.safetensors").read_bytes()[:99]
        )
    kept = {p: p.stat().st_mtime_ns for p in complete[-1].iterdir()}

    resumed = subprocess.run(
        _train(model, data, out, "--resume_from_checkpoint", "last"), cwd=REPO, env=ENV, capture_output=True, text=True
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"skipping incomplete checkpoint {torn}" in resumed.stderr
    assert {p: p.stat().st_mtime_ns for p in complete[-1].iterdir()} == kept, "the resume restarted from scratch"
    state = json.loads((out / f"checkpoint-{MAX_STEPS}" / "trainer_state.json").read_text())
    assert state["global_step"] == MAX_STEPS and _complete(torn)
    steps = [e["step"] for e in state["log_history"] if "loss" in e]
    assert min(steps) <= last < max(steps) == MAX_STEPS, steps  # history carried over from the checkpoint, then on
    with safe_open(str(out / "adapter_model.safetensors"), "pt") as weights:
        assert any("lora_B" in key for key in weights.keys())
    assert not [p for p in out.iterdir() if p.name.startswith(".final-")], "the staging folder was left behind"
