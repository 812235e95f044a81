"""``mmrqa info``: per-scan summaries, per-input errors, exit status, fast start."""

from __future__ import annotations

import json
import subprocess
import sys

import nibabel as nib
import numpy as np

from mmrqa.cli import main
from mmrqa.data import sample_path


def test_text_output_lists_geometry_and_metadata(capsys):
    assert main(["info", str(sample_path("t1")), str(sample_path("dicom_mr2"))]) == 0
    out = capsys.readouterr().out
    assert "anatomical.nii" in out and "33 x 41 x 25" in out and "2 x 2 x 2 mm" in out and "RAS" in out
    assert "MR2_UNCR.dcm" in out and "Philips" in out and "1.5 T" in out and "350 ms" in out


def test_a_coronal_acquisition_says_where_its_slices_are(tmp_path, capsys):
    """RAS+ reorientation moves a coronal acquisition's slices to array axis 1: info says so (the per-slice metrics
    run over them); an axial file gets no such line."""
    coronal = np.array([[-1.0, 0, 0, 0], [0, 0, 3.0, 0], [0, 1.0, 0, 0], [0, 0, 0, 1]])  # stored L, S, A
    data = np.random.default_rng(0).random((20, 18, 12)).astype(np.float32)
    nib.save(nib.Nifti1Image(data, coronal), tmp_path / "coronal.nii.gz")
    assert main(["info", str(tmp_path / "coronal.nii.gz"), str(sample_path("t1"))]) == 0
    out = capsys.readouterr().out
    assert "20 x 12 x 18" in out and "acquired slices:     along axis 1 (12 of 3 mm" in out
    assert out.count("acquired slices") == 1


def test_json_output_and_per_input_errors(tmp_path, capsys):
    bad = tmp_path / "broken.nii.gz"
    bad.write_bytes(b"\x1f\x8b garbage")
    code = main(["info", "--format", "json", str(tmp_path / "missing.nii"), str(bad), str(sample_path("dicom_t2"))])
    captured = capsys.readouterr()
    assert code == 2
    summaries = json.loads(captured.out)
    assert len(summaries) == 1 and summaries[0]["format"] == "dicom" and summaries[0]["shape"] == [64, 64, 1]
    assert summaries[0]["spacing"] == [0.3125, 0.3125, 0.8]
    errors = [line for line in captured.err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 2 and "missing.nii" in errors[0] and "broken.nii.gz" in errors[1]
    assert "Traceback" not in captured.err


def test_folder_is_expanded_and_4d_index(tmp_path, capsys):
    data = np.random.default_rng(0).random((6, 6, 4, 3), dtype=np.float32)
    nib.save(nib.Nifti1Image(data, np.eye(4)), tmp_path / "sub-01_bold.nii.gz")
    (tmp_path / "sub-01_bold.json").write_text("{}")
    assert main(["info", str(tmp_path)]) == 2
    assert "(6, 6, 4, 3)" in capsys.readouterr().err
    assert main(["info", "--volume-index", "2", "--format", "json", str(tmp_path)]) == 0
    (summary,) = json.loads(capsys.readouterr().out)
    assert summary["shape"] == [6, 6, 4] and summary["volume_index"] == 2


def test_help_and_light_imports():
    code = (
        "import sys, contextlib, io\n"
        "import mmrqa.cli, mmrqa.io, mmrqa.data\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        "        mmrqa.cli.main(['info', '--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "mmrqa.cli.main(['info', mmrqa.data.sample_path('t1').as_posix()])\n"
        "heavy = [m for m in ('torch', 'transformers', 'gradio', 'torchio', 'nilearn') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "anatomical.nii" in result.stdout
    help_text = subprocess.run(
        [sys.executable, "-c", "import sys, mmrqa.cli; sys.exit(mmrqa.cli.main())", "info", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert help_text.returncode == 0 and "--format" in help_text.stdout
