"""Sources on small real inputs: BIDS, a folder (DICOM, NIfTI, a labels file, a corrupt scan), fastMRI HDF5."""

from __future__ import annotations

import shutil

import h5py
import nibabel as nib
import numpy as np
import pytest
from datasets import load_dataset
from pydicom.data import get_testdata_file

from dataset_builder.__main__ import main
from dataset_builder.sources import discover
from mmrqa.data import sample_path
from mmrqa.errors import InvalidArgumentError, ScanNotFoundError

SMALL = ["--n-slices", "1", "--artifacts-per-scan", "1", "--seed", "1"]


def _build(capsys, source, root, out, *extra):
    code = main(["--source", source, "--input", str(root), "--output", str(out), "--no-cache", *SMALL, *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_bids_finds_anatomical_images_only(tmp_path, capsys):
    root = tmp_path / "bids"
    (root / "sub-01" / "anat").mkdir(parents=True)
    (root / "sub-01" / "func").mkdir(parents=True)
    (root / "sub-02" / "ses-1" / "anat").mkdir(parents=True)
    shutil.copy(sample_path("t1"), root / "sub-01" / "anat" / "sub-01_T1w.nii")
    shutil.copy(sample_path("t1"), root / "sub-01" / "func" / "sub-01_task-rest_bold.nii")
    shutil.copy(sample_path("epi"), root / "sub-02" / "ses-1" / "anat" / "sub-02_ses-1_T2w.nii.gz")
    shutil.copy(sample_path("epi"), root / "sub-02" / "ses-1" / "anat" / "sub-02_ses-1_dwi.nii.gz")
    (root / "sub-01" / "anat" / "sub-01_T1w.json").write_text("{}")
    tasks = discover("bids", root)
    assert [(t.subject, t.scan) for t in tasks] == [
        ("01", "sub-01/anat/sub-01_T1w"),
        ("02", "sub-02/ses-1/anat/sub-02_ses-1_T2w"),
    ]
    code, out, err = _build(capsys, "bids", root, tmp_path / "out", "--no-signal-enhanced")
    assert code == 0 and err == "" and "2 scan(s): 2 computed" in out
    ds = load_dataset(str(tmp_path / "out"))
    assert set(ds) == {"train", "validation"}  # 2 subjects: train and validation (documented rule)
    rows = [r for split in ds.values() for r in split.remove_columns("images")]
    assert {r["source"] for r in rows} == {"bids"} and {r["label_source"] for r in rows} == {
        "assumed_clean",
        "simulated",
    }
    assert not any("Signal metrics" in r["messages"][0]["content"][-1]["text"] for r in rows)  # ablation flag


def test_folder_reads_any_format_honours_labels_and_skips_a_bad_scan(tmp_path, capsys):
    root = tmp_path / "scans"
    (root / "patient7").mkdir(parents=True)
    shutil.copy(get_testdata_file("MR_small.dcm"), root / "patient7" / "t2.dcm")
    shutil.copy(sample_path("t1"), root / "t1.nii")
    (root / "bad").mkdir()
    shutil.copy(get_testdata_file("MR_truncated.dcm"), root / "bad" / "broken.dcm")  # a DICOM folder = one scan
    (root / "labels.tsv").write_text("path\tquality\tartifact\tseverity\nt1.nii\t3\tmotion\tsevere\n")
    code, out, err = _build(capsys, "folder", root, tmp_path / "out")
    assert code == 0
    assert err.startswith("error: ") and "broken.dcm" in err and err.count("error: ") == 1
    assert "3 scan(s): 2 computed, 0 from cache, 1 failed" in out
    ds = load_dataset(str(tmp_path / "out"))
    rows = [r for split in ds.values() for r in split.remove_columns("images")]
    t1 = [r for r in rows if r["scan"] == "t1"]
    assert {(r["variant"], r["quality"], r["artifact"], r["severity"], r["label_source"]) for r in t1} == {
        ("original", 3, "motion", "severe", "labels_file")  # labelled: not augmented
    }
    dicom = {r["variant"] for r in rows if r["subject"] == "patient7"}
    assert "original" in dicom and len(dicom) == 2  # clean: one simulated copy
    assert "skipped during the build: 1 (bad)" in (tmp_path / "out" / "README.md").read_text()


def test_fastmri_files_are_one_subject_each(tmp_path, capsys):
    t1 = np.asarray(nib.load(sample_path("t1")).dataobj, dtype=np.float32)
    root = tmp_path / "knee"
    root.mkdir()
    for k in range(2):
        with h5py.File(root / f"file_brain_{k}.h5", "w") as f:
            f.create_dataset("reconstruction_rss", data=np.moveaxis(t1 * (1 + k), 2, 0)[6:18])
            f.create_dataset("kspace", data=np.zeros((12, 1, 4, 4), np.complex64))
    code, out, err = _build(capsys, "fastmri", root, tmp_path / "out", "--kinds", "undersampling,spike")
    assert code == 0 and err == "", err
    ds = load_dataset(str(tmp_path / "out"))
    rows = [r for split in ds.values() for r in split.remove_columns("images")]
    assert {r["subject"] for r in rows} == {"file_brain_0", "file_brain_1"} and {r["source"] for r in rows} == {
        "fastmri"
    }
    assert {r["artifact"] for r in rows} <= {"none", "undersampling", "spike"}


def test_mrart_without_scores_and_empty_inputs_are_errors(tmp_path, capsys):
    (tmp_path / "sub-01" / "anat").mkdir(parents=True)
    with pytest.raises(ScanNotFoundError, match="scores.tsv"):
        discover("mr-art", tmp_path)
    with pytest.raises(ScanNotFoundError, match="no scan found"):
        discover("bids", tmp_path)
    with pytest.raises(InvalidArgumentError, match="unknown source"):
        discover("xnat", tmp_path)
    (tmp_path / "derivatives").mkdir()
    (tmp_path / "derivatives" / "scores.tsv").write_text("bids_name\tscore\nsub-01_acq-standard_T1w\t7\n")
    with pytest.raises(InvalidArgumentError, match="1, 2 or 3"):
        discover("mr-art", tmp_path)
    code, _, err = _build(capsys, "folder", tmp_path / "nowhere", tmp_path / "out")
    assert code == 2 and err.startswith("error: ") and "nowhere" in err and "Traceback" not in err
