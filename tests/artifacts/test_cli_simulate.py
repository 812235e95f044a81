"""`mmrqa simulate`: NIfTI + JSON sidecar out, replayable; `error: ...` and exit 2 on bad input."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from mmrqa.artifacts import ArtifactRecord, replay
from mmrqa.cli import main
from mmrqa.volume import Volume

T1 = (
    Path(next(iter(importlib.util.find_spec("nibabel").submodule_search_locations)))
    / "tests"
    / "data"
    / "anatomical.nii"
)


def test_simulate_writes_nifti_and_replayable_record(tmp_path, capsys):
    out = tmp_path / "sub" / "t1_motion.nii.gz"
    assert main(["simulate", str(T1), str(out), "--artifact", "motion", "--severity", "moderate", "--seed", "4"]) == 0
    record = ArtifactRecord.from_json((tmp_path / "sub" / "t1_motion.json").read_text())
    assert (record.kind, record.severity, record.seed) == ("motion", "moderate", 4)
    written = nib.load(out)
    clean = nib.load(T1)
    assert written.shape == clean.shape and np.allclose(written.affine, clean.affine)
    volume = Volume(np.asarray(clean.dataobj, dtype=np.float32), clean.header.get_zooms()[:3], clean.affine)
    np.testing.assert_array_equal(np.asarray(written.dataobj), replay(volume, record).data)
    assert "t1_motion.json" in capsys.readouterr().out
    assert not list(out.parent.glob(".*.tmp"))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--artifact", "wobble", "--severity", "mild"], "unknown artifact kind 'wobble'"),
        (["--artifact", "noise", "--severity", "awful"], "unknown severity 'awful'"),
        (["--artifact", "noise", "--severity", "mild", "--seed", "-3"], "seed"),
    ],
)
def test_invalid_arguments_exit_2(tmp_path, capsys, argv, message):
    assert main(["simulate", str(T1), str(tmp_path / "o.nii"), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err
    assert not (tmp_path / "o.nii").exists()


def test_bad_input_and_output_exit_2(tmp_path, capsys):
    assert (
        main(
            [
                "simulate",
                str(tmp_path / "missing.nii"),
                str(tmp_path / "o.nii"),
                "--artifact",
                "noise",
                "--severity",
                "mild",
            ]
        )
        == 2
    )
    assert "missing.nii" in capsys.readouterr().err
    broken = tmp_path / "broken.nii"
    broken.write_bytes(b"not a nifti at all")
    assert main(["simulate", str(broken), str(tmp_path / "o.nii"), "--artifact", "noise", "--severity", "mild"]) == 2
    assert capsys.readouterr().err.startswith("error: ")
    assert main(["simulate", str(T1), str(tmp_path / "o.png"), "--artifact", "noise", "--severity", "mild"]) == 2
    assert ".nii" in capsys.readouterr().err


def test_none_severity_roundtrips_the_values(tmp_path):
    out = tmp_path / "same.nii"
    assert main(["simulate", str(T1), str(out), "--artifact", "blur", "--severity", "none"]) == 0
    clean = np.asarray(nib.load(T1).dataobj, dtype=np.float32)
    np.testing.assert_array_equal(np.asarray(nib.load(out).dataobj), clean)
    assert json.loads((tmp_path / "same.json").read_text())["params"] == {}


def test_simulate_one_volume_of_a_4d_scan(tmp_path, capsys):
    """A 4D scan needs --volume-index; with it the output is that volume, corrupted, in 3D."""
    import importlib.resources

    epi4d = str(importlib.resources.files("nibabel.tests") / "data" / "example4d.nii.gz")
    out = tmp_path / "noisy.nii.gz"
    assert main(["simulate", epi4d, str(out), "--artifact", "noise", "--severity", "severe"]) == 2
    assert "--volume-index" in capsys.readouterr().err
    assert (
        main(["simulate", epi4d, str(out), "--artifact", "noise", "--severity", "severe", "--volume-index", "1"]) == 0
    )
    assert nib.load(str(out)).shape == (128, 96, 24)
