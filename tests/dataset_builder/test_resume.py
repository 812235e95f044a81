"""Robustness of a build: SIGKILL midway then resume (same dataset, cached scans not recomputed), and the same
dataset whatever the number of processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from huggingface_hub import DatasetCard

REPO = Path(__file__).resolve().parents[2]


def _cli(mrart, output: Path, cache: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "dataset_builder", "--source", "mr-art", "--input", str(mrart.root),
        "--output", str(output), "--config", str(mrart.config_path), "--cache-dir", str(cache), *extra,
    ]  # fmt: skip


def _entries(cache: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in cache.rglob("*.parquet")}


@pytest.mark.slow
def test_killed_build_resumes_to_the_same_dataset_without_redoing_cached_scans(mrart, helpers, tmp_path):
    output, cache = tmp_path / "out", tmp_path / "cache"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(_cli(mrart, output, cache), cwd=REPO, env=env, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while len(_entries(cache)) < 2 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    cached = _entries(cache)
    assert process.returncode == -signal.SIGKILL
    assert 2 <= len(cached) < len(mrart.scores), "the build must be killed after some scans and before the last"
    assert not (output / "README.md").exists()  # nothing half-written: the layout is written at the end
    assert not list(cache.rglob("*.tmp"))

    resumed = subprocess.run(_cli(mrart, output, cache), cwd=REPO, env=env, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    n = len(mrart.scores)
    assert f"{n} scan(s): {n - len(cached)} computed, {len(cached)} from cache, 0 failed" in resumed.stdout
    assert all(path.stat().st_mtime_ns == mtime for path, mtime in cached.items())  # cached scans not rewritten
    assert helpers.parquet_bytes(output) == helpers.parquet_bytes(mrart.output)  # bit-identical data files
    resumed_card = DatasetCard.load(output / "README.md").data.to_dict()
    assert resumed_card == DatasetCard.load(mrart.output / "README.md").data.to_dict()

    again = subprocess.run(_cli(mrart, output, cache), cwd=REPO, env=env, capture_output=True, text=True)
    assert f"0 computed, {n} from cache" in again.stdout


@pytest.mark.slow
def test_two_processes_give_the_same_dataset_as_one(mrart, helpers, tmp_path):
    from dataset_builder.build import build_dataset

    summary = build_dataset(
        "mr-art", mrart.root, tmp_path / "out", mrart.config.replace(num_proc=2), cache_dir=False, on_error=print
    )
    assert len(summary.computed) == len(mrart.scores)
    assert helpers.parquet_bytes(tmp_path / "out") == helpers.parquet_bytes(mrart.output)


def test_another_seed_gives_another_dataset_and_changes_the_cache_key(mrart):
    from dataset_builder.cache import scan_key
    from dataset_builder.sources import discover

    task = discover("mr-art", mrart.root)[0]
    settings = mrart.config.scan_settings()
    assert scan_key(task, settings) == scan_key(task, mrart.config.replace(num_proc=2).scan_settings())
    assert scan_key(task, settings) != scan_key(task, mrart.config.replace(seed=4).scan_settings())
    assert scan_key(task, settings) != scan_key(task, mrart.config.replace(n_slices=2).scan_settings())
