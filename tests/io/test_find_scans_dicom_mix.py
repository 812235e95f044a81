"""find_scans on folders of DICOM files: one series is one scan; unrelated single-file series are scans each."""

import shutil

from mmrqa.data import sample_path
from mmrqa.io import find_scans, load_volume


def test_unrelated_single_file_series_in_one_folder_are_separate_scans(tmp_path):
    for name in ("dicom_t2", "dicom_enhanced"):
        shutil.copy(sample_path(name), tmp_path / sample_path(name).name)
    scans = find_scans(tmp_path)
    assert scans == sorted(tmp_path / sample_path(n).name for n in ("dicom_t2", "dicom_enhanced"))
    assert sorted(load_volume(s).shape[2] for s in scans) == [1, 10]  # MR_small (1 slice), emri_small (10 frames)


def test_a_folder_of_one_series_is_one_scan(tmp_path):
    series = tmp_path / "series"
    series.mkdir()
    shutil.copy(sample_path("dicom_t2"), series / "IM0001.dcm")
    assert find_scans(tmp_path) == [series]
