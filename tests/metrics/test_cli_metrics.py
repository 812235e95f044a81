"""``mmrqa metrics``: rows per scan, per-input errors, resume after a crash."""

from __future__ import annotations

import json
import os

import nibabel as nib
import numpy as np
import pytest
from nibabel.testing import data_path

from mmrqa.cli import main

T1 = os.path.join(data_path, "anatomical.nii")


@pytest.fixture()
def scans(tmp_path):
    good = tmp_path / "a_t1.nii"
    good.write_bytes(open(T1, "rb").read())
    flat = tmp_path / "b_flat.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros((16, 16, 4), np.float32), np.eye(4)), flat)
    return good, flat


def test_rows_errors_and_exit_status(scans, tmp_path, capsys):
    good, flat = scans
    out = tmp_path / "iqms.tsv"
    assert main(["metrics", str(good), str(flat), "--profile", "mrqy", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "b_flat" in err
    lines = out.read_text().splitlines()
    assert lines[0].split("\t")[:3] == ["path", "NUM", "ROWS"] and len(lines) == 2
    assert lines[1].split("\t")[0] == str(good)


def test_resume_skips_done_scans_and_drops_a_torn_line(scans, tmp_path, capsys):
    good, _ = scans
    other = tmp_path / "c_t1.nii"
    other.write_bytes(good.read_bytes())
    out = tmp_path / "iqms.tsv"
    assert main(["metrics", str(good), "-o", str(out)]) == 0
    first = out.read_text()
    out.write_text(first + str(other) + "\t1.0")  # a crash mid-row
    assert main(["metrics", str(good), str(other), "-o", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert lines[:2] == first.splitlines() and len(lines) == 3 and lines[2].startswith(str(other) + "\t")
    assert main(["metrics", str(good), "-o", str(out), "--overwrite"]) == 0
    assert len(out.read_text().splitlines()) == 2


def test_json_and_per_slice(scans, capsys):
    good, _ = scans
    assert main(["metrics", str(good), "--format", "json", "--per-slice"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["profile"] == "default" and len(record["per_slice"]["fg_mean"]) == len(record["slice_indices"])
    assert main(["metrics", str(good), "--format", "csv", "--per-slice", "--profile", "mrqy"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("path,slice,MEAN") and len(lines) == 1 + nib.load(T1).shape[2] - 1


def test_no_torch_on_the_metrics_path():
    import subprocess
    import sys

    code = "import sys, mmrqa.cli.metrics, mmrqa.metrics; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_metrics_of_one_volume_of_a_4d_scan(tmp_path, capsys):
    """--volume-index measures the chosen volume of a 4D scan (the rows differ between volumes); without it the scan
    is an error line that says how to choose."""
    epi4d = os.path.join(data_path, "example4d.nii.gz")
    assert main(["metrics", epi4d, "-o", str(tmp_path / "none.tsv")]) == 2
    assert "--volume-index" in capsys.readouterr().err
    rows = []
    for k in (0, 1):
        out = tmp_path / f"v{k}.tsv"
        assert main(["metrics", "--volume-index", str(k), epi4d, "-o", str(out)]) == 0
        header, row = out.read_text().splitlines()[:2]
        rows.append(dict(zip(header.split("\t"), row.split("\t"), strict=True)))
    assert rows[0]["fg_mean"] != rows[1]["fg_mean"]
    # the rows do not say which volume they measured: resuming v0.tsv with another volume would mix volumes silently
    before = (tmp_path / "v0.tsv").read_text()
    assert main(["metrics", "--volume-index", "1", epi4d, "-o", str(tmp_path / "v0.tsv")]) == 2
    assert "cannot resume it" in capsys.readouterr().err and (tmp_path / "v0.tsv").read_text() == before
    assert main(["metrics", "--volume-index", "1", epi4d, "-o", str(tmp_path / "v0.tsv"), "--overwrite"]) == 0
    assert (tmp_path / "v0.tsv").read_text() == (tmp_path / "v1.tsv").read_text()
