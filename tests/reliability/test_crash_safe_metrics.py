"""``mmrqa metrics -o`` under SIGKILL, a read-only output and a full disk (issue 11, crash-safe outputs).

The metrics table is an append log: one row per finished scan, each row written and flushed in one piece; a rerun
resumes from the rows present (a torn last row is dropped, atomically). So a kill at any moment leaves only whole
rows, a rerun finishes the table without recomputing finished scans, and a write error (read-only folder, full
disk) is one ``error:`` line with exit status 2 that leaves the earlier rows intact.
"""

from __future__ import annotations

import errno
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from full_disk import FullDisk

from mmrqa.cli import main

N_SCANS = 16


@pytest.fixture(scope="module")
def scan_folder(tmp_path_factory) -> Path:
    """Sixteen distinct real T1 scans: nibabel's anatomical.nii with seeded Rician noise of growing level.

    The scan is upsampled three times per axis (about 0.25 s of metrics each on 2 cores instead of 0.03 s), so a
    kill within 0.1 s of a finished row lands mid-run on an idle machine too: with the original size, CI finished
    all sixteen scans before the third kill.
    """
    import importlib.resources

    img = nib.load(str(importlib.resources.files("nibabel.tests") / "data" / "anatomical.nii"))
    data = np.asarray(img.dataobj, dtype=np.float32)
    for axis in range(3):
        data = np.repeat(data, 3, axis=axis)
    affine = img.affine @ np.diag([1 / 3, 1 / 3, 1 / 3, 1])
    folder = tmp_path_factory.mktemp("scans")
    rng = np.random.default_rng(0)
    for k in range(N_SCANS):
        sigma = 0.01 * (k + 1) * float(np.percentile(data, 99))
        noisy = np.hypot(data + rng.normal(0, sigma, data.shape), rng.normal(0, sigma, data.shape))
        nib.save(nib.Nifti1Image(noisy.astype(np.float32), affine), folder / f"sub-{k:02d}_T1w.nii.gz")
    return folder


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-c", "import sys; from mmrqa.cli import main; sys.exit(main())", "metrics", *args]


def _rows(out: Path) -> list[list[str]]:
    text = out.read_text(encoding="utf-8") if out.exists() else ""
    assert not text or text.endswith("\n"), f"torn last row: {text[-80:]!r}"
    return [line.split("\t") for line in text.splitlines()]


def _rows_now(out: Path) -> list[str]:
    try:
        return [line for line in out.read_text(encoding="utf-8").splitlines(keepends=True) if line.endswith("\n")]
    except (FileNotFoundError, UnicodeDecodeError):
        return []


def _check_whole(out: Path) -> set[str]:
    """Every row is complete (header's column count, numbers parse); returns the paths done."""
    rows = _rows(out)
    if not rows:
        return set()
    header, body = rows[0], rows[1:]
    assert header[0] == "path"
    for row in body:
        assert len(row) == len(header), row[:2]
        [float(v) for v in row[1:] if v not in ("", "nan", "n/a")]
    paths = [row[0] for row in body]
    assert len(paths) == len(set(paths)), "a scan appears twice"
    return set(paths)


@pytest.mark.slow
def test_sigkill_at_random_points_then_resume(scan_folder, tmp_path):
    scan_folder = Path(shutil.copytree(scan_folder, tmp_path / "scans"))  # this test damages its scans
    out = tmp_path / "iqms.tsv"
    rng = random.Random(11)
    seen: set[str] = set()
    for _ in range(3):
        proc = subprocess.Popen(_cli(str(scan_folder), "-o", str(out)), stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while proc.poll() is None and len(_rows_now(out)) <= len(seen) + 1 and time.monotonic() < deadline:
            time.sleep(0.05)  # wait for one more finished row, then kill at a random point of the next scans
        time.sleep(rng.uniform(0.0, 0.1))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        done = _check_whole(out)
        assert seen <= done, "a finished row disappeared after a kill"
        seen = done
    assert 0 < len(seen) < N_SCANS, "the kills should land mid-run"
    before = out.read_bytes()
    # finished scans must not be recomputed: damage them, a recompute would fail on them
    for path in seen:
        Path(path).write_bytes(b"not a scan any more")
    result = subprocess.run(_cli(str(scan_folder), "-o", str(out)), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, (result.stdout[-2000:], result.stderr[-2000:], out.read_text()[-500:])
    assert out.read_bytes().startswith(before), "rows written before the kills changed"
    assert len(_check_whole(out)) == N_SCANS


def _run_in_process(capsys, *args: str) -> tuple[int, str]:
    code = main(["metrics", *args])
    return code, capsys.readouterr().err


def test_read_only_output_gives_a_clear_error(scan_folder, tmp_path, capsys, monkeypatch):
    import mmrqa.cli.metrics as metrics_cli

    out = tmp_path / "results" / "iqms.tsv"
    scans = sorted(scan_folder.glob("*.nii.gz"))[:2]
    code, _ = _run_in_process(capsys, *map(str, scans[:1]), "-o", str(out))
    assert code == 0
    before = out.read_bytes()

    def read_only_open(file, mode="r", *a, **kw):
        if Path(file) == out and any(m in mode for m in "wax+"):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(file))
        return open(file, mode, *a, **kw)

    monkeypatch.setattr(metrics_cli, "open", read_only_open, raising=False)
    code, err = _run_in_process(capsys, *map(str, scans), "-o", str(out))
    assert code == 2
    assert err.startswith("error: ") and "Read-only file system" in err and str(out) in err
    assert "Traceback" not in err
    assert out.read_bytes() == before


def test_full_disk_gives_a_clear_error_and_keeps_earlier_rows(scan_folder, tmp_path, capsys, monkeypatch):
    import mmrqa.cli.metrics as metrics_cli

    out = tmp_path / "iqms.tsv"
    scans = sorted(scan_folder.glob("*.nii.gz"))[:3]
    code, _ = _run_in_process(capsys, str(scans[0]), "-o", str(out))
    assert code == 0
    before = out.read_bytes()

    # a disk with 10 bytes left: the first write past them fails with ENOSPC
    monkeypatch.setattr(metrics_cli, "open", lambda *a, **kw: FullDisk(open(*a, **kw), 10), raising=False)
    code, err = _run_in_process(capsys, *map(str, scans), "-o", str(out))
    assert code == 2 and err.startswith("error: ") and "No space left on device" in err
    assert out.read_bytes().startswith(before), "earlier rows were changed"
    monkeypatch.undo()
    # space is back: the rerun drops the torn row and completes the table
    code, _ = _run_in_process(capsys, *map(str, scans), "-o", str(out))
    assert code == 0
    assert out.read_bytes().startswith(before)
    assert len(_check_whole(out)) == 3
