"""find_scans: recursive expansion, DICOM folders as one scan, sidecars and hidden files skipped."""

from __future__ import annotations

import shutil

import pytest

from mmrqa.errors import ScanNotFoundError
from mmrqa.io import find_scans, load_volume


def test_bids_like_tree(anatomical, mr_small, tmp_path):
    anat = tmp_path / "sub-01" / "anat"
    anat.mkdir(parents=True)
    shutil.copy(anatomical, anat / "sub-01_T1w.nii")
    (anat / "sub-01_T1w.json").write_text("{}")
    (tmp_path / "participants.tsv").write_text("participant_id\nsub-01\n")
    (tmp_path / ".hidden.nii").write_bytes(anatomical.read_bytes())
    dicom = tmp_path / "sub-02" / "dicom"
    dicom.mkdir(parents=True)
    shutil.copy(mr_small, dicom / "IM0001")  # no extension: found by the DICM magic
    (dicom / "notes.txt").write_text("x")
    found = find_scans([tmp_path])
    assert found == [anat / "sub-01_T1w.nii", dicom]
    assert load_volume(found[1]).shape == (64, 64, 1)


def test_explicit_files_kept_and_sorted(anatomical, tmp_path):
    b, a = tmp_path / "b.nii", tmp_path / "a.nii"
    shutil.copy(anatomical, b)
    shutil.copy(anatomical, a)
    assert find_scans([b, a, a]) == [a, b]
    assert find_scans(str(a)) == [a]


def test_missing_path(tmp_path):
    with pytest.raises(ScanNotFoundError, match="nope"):
        find_scans([tmp_path / "nope"])
