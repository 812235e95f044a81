"""``mmrqa assess -o`` resumes an interrupted run (local engine; the Ray engine is tested in test_ray_engine.py):
the finished scans are read back from the partial file, not recomputed, and the final file equals an uninterrupted
run's. Metrics-only mode on real sample scans (no model, no Ray)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mmrqa.cli import main
from mmrqa.cli.assess.output import finished_sources, is_done, partial_path
from mmrqa.data import sample_path


@pytest.fixture(scope="module")
def scans(tmp_path_factory) -> list[str]:
    """Four real scans (NIfTI, a DICOM series folder, a DICOM file) and an unreadable one in the middle."""
    root = tmp_path_factory.mktemp("scans")
    (root / "series").mkdir()
    shutil.copy(sample_path("dicom_t2"), root / "series" / "image.dcm")
    (root / "broken.nii.gz").write_bytes(b"not a NIfTI file")
    paths = [sample_path("t1"), root / "series", root / "broken.nii.gz", sample_path("epi"), sample_path("dicom_t2")]
    return [str(p) for p in paths]


def _same_reports(a: Path, b: Path, fmt: str) -> bool:
    """Same reports: same bytes, except the JSON records' wall-clock ``timings``."""
    if fmt != "json":
        return a.read_bytes() == b.read_bytes()
    records = [[json.loads(line) for line in p.read_text().splitlines()] for p in (a, b)]
    for record in records[0] + records[1]:
        record.pop("timings", None)
    return records[0] == records[1]


class _Interrupt:
    """Wraps the pipeline call: counts the scans assessed and raises KeyboardInterrupt (Ctrl-C) at call ``at``."""

    def __init__(self, monkeypatch, at: int | None) -> None:
        from mmrqa.pipeline import MMRQAPipeline

        self.calls: list[str] = []
        self.at = at
        original = MMRQAPipeline.__call__

        def call(pipe, scan, **kwargs):
            self.calls.append(str(scan))
            if self.at is not None and len(self.calls) == self.at:
                raise KeyboardInterrupt
            return original(pipe, scan, **kwargs)

        monkeypatch.setattr(MMRQAPipeline, "__call__", call)


@pytest.mark.parametrize("fmt", ["json", "text", "markdown"])
def test_interrupted_local_assess_resumes_without_recomputing(scans, tmp_path, capsys, monkeypatch, fmt):
    full, out = tmp_path / f"full.{fmt}", tmp_path / f"out.{fmt}"
    assert main(["assess", *scans, "--format", fmt, "-o", str(full)]) == 2
    out.write_text("an older run's reports\n")
    interrupt = _Interrupt(monkeypatch, at=4)  # Ctrl-C while assessing the 4th scan (the 3rd fails to load)
    assert main(["assess", *scans, "--format", fmt, "-o", str(out)]) == 130  # `error: interrupted`
    assert out.read_text() == "an older run's reports\n", "an interrupted run must not replace the old output"
    assert partial_path(out).exists()
    interrupt.calls.clear()
    interrupt.at = None
    capsys.readouterr()
    assert main(["assess", *scans, "--format", fmt, "-o", str(out)]) == 2
    assert "broken.nii.gz" in capsys.readouterr().err  # the failed scan is tried again, and reported
    assert interrupt.calls == scans[2:], "finished scans were recomputed"
    assert _same_reports(out, full, fmt)
    assert not partial_path(out).exists()


def test_a_torn_last_record_is_dropped_and_recomputed(scans, tmp_path, capsys):
    full, out = tmp_path / "full.jsonl", tmp_path / "out.jsonl"
    assert main(["assess", *scans, "--format", "json", "-o", str(full)]) == 2
    lines = full.read_text().splitlines(keepends=True)
    partial_path(out).write_text(lines[0] + lines[1][:50])  # killed while writing the 2nd record
    assert main(["assess", *scans, "--format", "json", "-o", str(out)]) == 2
    assert out.read_text().startswith(lines[0]) and _same_reports(out, full, "json")
    partial_path(out).write_text('{"source": "stale"}\n')
    assert main(["assess", *scans, "--format", "json", "-o", str(out), "--overwrite"]) == 2
    assert _same_reports(out, full, "json")


def test_finished_sources_of_each_format():
    records = {"json": ['{"source": "a.nii"}\n', '{"source": "b/x.dcm"}\n'], "text": ["== a.nii\nRating: good\n"]}
    records["text"].append("== b/x.dcm\nRating: bad\n")
    records["markdown"] = ["### a.nii\n\n- **Rating:** good\n", "### b/x.dcm\n\n- **Rating:** bad\n"]
    for fmt, (first, second) in records.items():
        joined = first + ("" if fmt == "json" else "\n") + second
        assert finished_sources(joined, fmt) == (["a.nii", "b/x.dcm"], len(joined))
        torn = joined[:-3]  # the second record lost its end
        sources, end = finished_sources(torn, fmt)
        assert sources == ["a.nii"] and joined[:end] == first
        assert finished_sources(first[:4], fmt) == ([], 0)
    assert finished_sources("previous reports\n", "json") == ([], 0)
    assert is_done("b", {"b/x.dcm"}) and is_done("a.nii", {"a.nii"}) and not is_done("b", {"bb/x.dcm"})


def test_json_records_name_their_source(scans, tmp_path):
    out = tmp_path / "out.jsonl"
    main(["assess", scans[0], scans[1], "--format", "json", "-o", str(out)])
    sources = [json.loads(line)["source"] for line in out.read_text().splitlines()]
    assert sources[0] == scans[0] and Path(sources[1]).parent == Path(scans[1])


@pytest.mark.slow
def test_killed_assess_process_resumes(scans, tmp_path):
    """A real SIGKILL of ``mmrqa assess -o`` midway: the rerun keeps the finished records and equals a full run."""
    import os
    import signal
    import subprocess
    import sys
    import time

    many = [s for s in scans if "broken" not in s] + [str(sample_path("dicom_enhanced"))]  # 5 readable scans
    full, out = tmp_path / "full.jsonl", tmp_path / "out.jsonl"
    cli = [sys.executable, "-m", "mmrqa.cli", "assess", *many, "--format", "json", "-o"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    assert subprocess.run([*cli, str(full)], env=env, capture_output=True, timeout=120).returncode == 0
    process = subprocess.Popen([*cli, str(out)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    partial, deadline = partial_path(out), time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        if partial.exists() and partial.read_text().count("\n") >= 1:
            break
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    written = partial.read_text().count("\n")
    assert 1 <= written < len(many), "the run must be killed after a record and before the last"
    assert not out.exists()
    resumed = subprocess.run([*cli, str(out)], env=env, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert _same_reports(out, full, "json")
