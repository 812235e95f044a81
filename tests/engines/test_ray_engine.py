"""``--engine ray`` gives what the local engine gives: metrics rows, a dataset build, assessments; bad scans are
reported and skipped; a killed build resumes from its finished scans. One local Ray runtime (2 CPUs) per module."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

ray = pytest.importorskip("ray")

from mmrqa.cli import main  # noqa: E402
from mmrqa.data import sample_path  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def _builder_fixtures():
    """The dataset-builder tests' synthetic MR-ART tree (real scans), reused rather than redefined."""
    spec = importlib.util.spec_from_file_location("_builder_conftest", REPO / "tests/dataset_builder/conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def ray_address():
    """One local Ray runtime for the module (start-up takes seconds); engines join it and leave it running."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


@pytest.fixture(scope="module")
def cohort(tmp_path_factory) -> Path:
    """Real scans (NIfTI, DICOM files, a DICOM multi-frame, simulated artifacts) with a flat, unusable scan in the
    middle of the sorted order."""
    from mmrqa.artifacts import simulate
    from mmrqa.data import load_sample

    root = tmp_path_factory.mktemp("cohort")
    shutil.copy(sample_path("t1"), root / "a_t1.nii")
    shutil.copy(sample_path("epi"), root / "b_epi.nii.gz")
    nib.save(nib.Nifti1Image(np.zeros((16, 16, 4), np.float32), np.eye(4)), root / "c_flat.nii.gz")
    for name, sample in (("d_dicom", "dicom_t2"), ("e_enhanced", "dicom_enhanced")):
        (root / name).mkdir()
        shutil.copy(sample_path(sample), root / name / "image.dcm")
    clean = load_sample("t1")
    for k, kind in enumerate(("noise", "ghosting", "motion")):
        volume, _ = simulate(clean, kind, "moderate", seed=k)
        nib.save(nib.Nifti1Image(volume.data, volume.affine), root / f"f_t1_{kind}.nii.gz")
    return root


def _metrics(*argv: str, capsys) -> tuple[int, str]:
    status = main(["metrics", *argv])
    return status, capsys.readouterr().err


def test_metrics_on_ray_equal_the_local_engine_and_skip_the_bad_scan(ray_address, cohort, tmp_path, capsys):
    local, on_ray = tmp_path / "local.tsv", tmp_path / "ray.tsv"
    status, err = _metrics(str(cohort), "-o", str(local), capsys=capsys)
    assert status == 2 and "c_flat" in err
    status, err_ray = _metrics(str(cohort), "-o", str(on_ray), "--engine", "ray", "--workers", "2", capsys=capsys)
    assert status == 2 and err_ray == err  # the same `error: ...` line for the flat scan, nothing else
    assert on_ray.read_bytes() == local.read_bytes()
    lines = local.read_text().splitlines()
    assert len(lines) == 1 + 7 and not any("c_flat" in line for line in lines)
    status = main(["metrics", str(cohort), "--engine", "ray", "--profile", "mrqy", "--format", "json"])
    assert status == 2
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]  # stdout holds only the records
    assert [Path(r["meta"]["path"]).name for r in rows][:2] == ["a_t1.nii", "b_epi.nii.gz"]


def _spy_on_submissions(monkeypatch) -> list:
    """The inputs handed to ``RayEngine.map`` from now on (the list fills as the engine is called)."""
    from mmrqa.engines.ray_engine import RayEngine

    submitted: list = []
    original = RayEngine.map

    def spy(self, func, items, model=None):
        items = list(items)
        submitted.extend(items)
        return original(self, func, items, model)

    monkeypatch.setattr(RayEngine, "map", spy)
    return submitted


def test_metrics_on_ray_resume_without_recomputing_finished_rows(ray_address, cohort, tmp_path, capsys, monkeypatch):

    full = tmp_path / "full.tsv"
    assert main(["metrics", str(cohort), "-o", str(full)]) == 2
    lines = full.read_text().splitlines(keepends=True)
    partial = tmp_path / "partial.tsv"
    partial.write_text("".join(lines[:4]) + lines[4][:20])  # killed while writing the 4th row
    submitted = _spy_on_submissions(monkeypatch)
    assert main(["metrics", str(cohort), "-o", str(partial), "--engine", "ray", "--address", ray_address]) == 2
    assert partial.read_bytes() == full.read_bytes()
    done = {line.split("\t")[0] for line in lines[1:4]}
    assert len(submitted) == 8 - 3 and not done & {str(p) for p in submitted}


@pytest.fixture(scope="module")
def mrart(tmp_path_factory):
    """The MR-ART tree of the builder tests plus an unreadable scored scan in the middle."""
    fixtures = _builder_fixtures()
    base = tmp_path_factory.mktemp("mrart")
    root = base / "ds004173"
    fixtures.make_mrart_tree(root)
    bad = root / "sub-000102" / "anat" / "sub-000102_acq-headmotion1_T1w.nii.gz"
    bad.write_bytes(b"not a NIfTI file")
    with open(root / "derivatives" / "scores.tsv", "a", encoding="utf-8") as handle:
        handle.write(f"{bad.name[: -len('.nii.gz')]}\t2\n")
    config = base / "build.yaml"
    config.write_text(fixtures.BUILD_YAML, encoding="utf-8")
    return root, config, fixtures.parquet_bytes


def _build_cli(root: Path, config: Path, out: Path, cache: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "dataset_builder", "--source", "mr-art", "--input", str(root), "--output", str(out),
        "--config", str(config), "--cache-dir", str(cache), *extra,
    ]  # fmt: skip


def test_build_on_ray_equals_the_local_build_and_skips_the_bad_scan(ray_address, mrart, tmp_path):
    from dataset_builder.build import build_dataset
    from dataset_builder.config import load_config
    from dataset_builder.parallel import open_engine

    root, config_path, parquet_bytes = mrart
    config = load_config(config_path)
    errors: dict[str, list[str]] = {"local": [], "ray": []}
    summaries = {}
    for name in ("local", "ray"):
        with open_engine(name) as engine:
            summaries[name] = build_dataset(
                "mr-art", root, tmp_path / name, config, cache_dir=False, engine=engine, on_error=errors[name].append
            )
    assert errors["ray"] == errors["local"] and len(errors["local"]) == 1 and "headmotion1" in errors["local"][0]
    assert (
        summaries["ray"].rows == summaries["local"].rows and summaries["ray"].subjects == summaries["local"].subjects
    )
    assert summaries["ray"].failed == summaries["local"].failed
    assert parquet_bytes(tmp_path / "ray") == parquet_bytes(tmp_path / "local")  # same rows, labels, splits
    cards = {name: (tmp_path / name / "README.md").read_text().replace(str(tmp_path / name), "OUT") for name in errors}
    assert cards["ray"] == cards["local"]  # the card differs only by the output folder it names


@pytest.mark.slow
def test_killed_ray_build_resumes_from_finished_scans(ray_address, mrart, tmp_path):
    root, config, parquet_bytes = mrart
    cache, out = tmp_path / "cache", tmp_path / "out"
    cli = _build_cli(root, config, out, cache, "--engine", "ray", "--address", ray_address, "--num-proc", "1")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(cli, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    entries = {}
    while len(entries) < 2 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
        entries = {p: p.stat().st_mtime_ns for p in cache.rglob("*.parquet")}
    process.send_signal(signal.SIGKILL)
    process.wait()
    cached = {p: p.stat().st_mtime_ns for p in cache.rglob("*.parquet")}
    n = 8  # scored scans present and readable
    assert 2 <= len(cached) < n, "the build must be killed after some scans and before the last"
    assert not (out / "README.md").exists()
    resumed = subprocess.run(cli, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{n + 1} scan(s): {n - len(cached)} computed, {len(cached)} from cache, 1 failed" in resumed.stdout
    assert all(path.stat().st_mtime_ns == mtime for path, mtime in cached.items())
    local = tmp_path / "local"
    subprocess.run(_build_cli(root, config, local, tmp_path / "cache2"), cwd=REPO, env=env, capture_output=True)
    assert parquet_bytes(out) == parquet_bytes(local)


def _assessments(text: str) -> list[dict]:
    records = [json.loads(line) for line in text.splitlines()]
    for record in records:
        record.pop("timings", None)
    return records


@pytest.mark.slow
def test_assess_on_ray_actors_equals_the_local_path(ray_address, cohort, tmp_path, capsys):
    pytest.importorskip("torch")
    from mmrqa.modeling import build_tiny_model

    model = build_tiny_model(tmp_path / "tiny", seed=0)
    scans = [str(cohort / "a_t1.nii"), str(cohort / "c_flat.nii.gz"), str(cohort / "f_t1_noise.nii.gz")]
    common = ["assess", *scans, "--model", str(model), "--format", "json", "--max-new-tokens", "8", "--slices", "2"]
    common += ["--device", "cpu"]
    assert main(common) == 2
    local = capsys.readouterr()
    assert main([*common, "--engine", "ray", "--num-gpus", "0"]) == 2
    on_ray = capsys.readouterr()
    assert on_ray.err == local.err and "c_flat" in local.err
    expected = _assessments(local.out)
    assert len(expected) == 2 and all(r["mode"] == "model" and r["answers"] for r in expected)
    assert _assessments(on_ray.out) == expected
    out = tmp_path / "assess.jsonl"
    assert main(["assess", *scans, "--engine", "ray", "--format", "json", "-o", str(out)]) == 2  # metrics-only
    capsys.readouterr()
    assert [r["source"] for r in _assessments(out.read_text())] == [r["source"] for r in expected]
    screening = ["assess", *scans, "--format", "json", "--clean-share", "0.5"]  # the prior reaches the workers
    assert main(screening) == 2
    here = _assessments(capsys.readouterr().out)
    assert main([*screening, "--engine", "ray"]) == 2
    assert _assessments(capsys.readouterr().out) == here
    assert [r["signal_estimate"]["clean_share"] for r in here] == [0.5, 0.5]


def test_interrupted_assess_on_ray_resumes_without_recomputing(ray_address, cohort, tmp_path, capsys, monkeypatch):
    import mmrqa.cli.assess as assess_cli
    from mmrqa.cli.assess.output import partial_path

    scans = sorted(str(p) for p in cohort.iterdir())  # 8 scans, the flat one 3rd
    full, out = tmp_path / "full.txt", tmp_path / "out.txt"
    assert main(["assess", *scans, "-o", str(full)]) == 2  # the local engine, uninterrupted
    render, calls = assess_cli._render, []

    def interrupt_at_the_fourth_record(items, fmt):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return render(items, fmt)

    monkeypatch.setattr(assess_cli, "_render", interrupt_at_the_fourth_record)
    argv = ["assess", *scans, "-o", str(out), "--engine", "ray", "--address", ray_address]
    assert main(argv) == 130 and not out.exists() and partial_path(out).exists()
    monkeypatch.setattr(assess_cli, "_render", render)
    submitted = _spy_on_submissions(monkeypatch)
    capsys.readouterr()
    assert main(argv) == 2 and "c_flat" in capsys.readouterr().err
    assert submitted == scans[2:3] + scans[4:], "finished scans were recomputed"
    assert out.read_bytes() == full.read_bytes()


def _timed_sleep(seconds: float) -> tuple[float, float, float]:
    start = time.time()
    time.sleep(seconds)
    return seconds, start, time.time()


def _most_at_once(intervals: list[tuple[float, float]]) -> int:
    events = sorted([(start + 1e-3, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    running = most = 0
    for _, step in events:
        running += step
        most = max(most, running)
    return most


def test_ray_tasks_keep_input_order_and_the_worker_cap(ray_address):
    """Results come back in input order; ``workers=1`` never runs two items at once, ``workers=2`` does, never
    three (with 2 workers on 2 CPUs the window is queued in Ray, whose scheduler holds the cap); items are grouped
    into fewer tasks once their cost is known."""
    from mmrqa.engines.ray_engine import RayEngine

    costs = [0.02 * (1 + k % 3) for k in range(24)]
    for workers in (1, 2):
        engine = RayEngine(workers=workers, address=ray_address)
        results = list(engine.map(_timed_sleep, costs))
        assert [r[0] for r in results] == costs
        assert _most_at_once([(start, end) for _, start, end in results]) == workers
        assert workers <= engine.tasks < len(costs)  # chunks of several items after the first ones


def _scaled(table: np.ndarray, k: int) -> float:
    return float(table[k] * k)


def test_a_large_function_goes_through_the_object_store(ray_address):
    """A function that pickles larger than ``INLINE_FUNC_BYTES`` is put in the object store once, not sent with every
    task; the results are the same."""
    from functools import partial

    from mmrqa.engines.ray_engine import INLINE_FUNC_BYTES, RayEngine

    table = np.arange(INLINE_FUNC_BYTES // 4, dtype=np.float64)  # twice the limit
    results = list(RayEngine(workers=2, address=ray_address).map(partial(_scaled, table), range(10)))
    assert results == [float(k * k) for k in range(10)]


def test_chunk_sizes_follow_the_measured_cost():
    from mmrqa.engines.ray_engine import MAX_CHUNK, TARGET_TASK_S, _ChunkSizer

    sizer = _ChunkSizer(workers=2)
    assert sizer.next(left=1000) == 1  # nothing measured yet
    sizer.record(items=4, seconds=0.16)  # 40 ms per item
    assert sizer.next(left=1000) == min(MAX_CHUNK, int(TARGET_TASK_S / 0.04))
    assert sizer.next(left=8) == 2  # a fair share of what is left: the last tasks end together
    sizer.record(items=1, seconds=100.0)  # a slow item: one per task
    assert sizer.next(left=1000) == 1
    fast = _ChunkSizer(workers=1)
    fast.record(items=1000, seconds=0.001)
    assert fast.next(left=10**6) == MAX_CHUNK


def test_an_exception_in_a_ray_task_is_raised_in_the_driver_with_its_type(ray_address):
    from mmrqa.engines.ray_engine import RayEngine
    from mmrqa.errors import MMRQAError

    results = RayEngine(workers=2, address=ray_address).map(_fail_on_three, range(6))
    assert next(results) == 0 and next(results) == 1 and next(results) == 2
    with pytest.raises(MMRQAError, match="scan 3 is unreadable"):
        next(results)


def _fail_on_three(k: int) -> int:
    from mmrqa.errors import MMRQAError

    if k == 3:
        raise MMRQAError("scan 3 is unreadable")
    return k
