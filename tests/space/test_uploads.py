"""mmrqa.uploads: size limits before reading, hostile archives refused, scans inside archives found, temp files gone."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest

from mmrqa.errors import CorruptScanError, InvalidArgumentError, ScanTooLargeError, UnsupportedFormatError
from mmrqa.io import load_volume
from mmrqa.uploads import (
    UnsafeArchiveError,
    check_upload_size,
    is_zip,
    load_upload,
    max_upload_bytes,
    open_upload,
    safe_extract,
)


def _zip(path: Path, entries: dict[str, bytes], *, symlinks: tuple[str, ...] = ()) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, payload in entries.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if name in symlinks:
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, payload)
    return path


def test_size_limit_is_checked_from_stat_before_reading(tmp_path, monkeypatch):
    monkeypatch.delenv("MMRQA_MAX_UPLOAD_BYTES", raising=False)  # the default limit
    big = tmp_path / "big.nii"
    with open(big, "wb") as handle:  # sparse: 3 GiB on paper, nothing on disk; reading it would take minutes
        handle.truncate(3 * 1024**3)
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("the upload was read"))
    with pytest.raises(ScanTooLargeError, match=r"big\.nii: 3072\.0 MiB is over the upload limit of 512\.0 MiB"):
        load_upload(big)


def test_empty_missing_and_folder_uploads(tmp_path):
    (tmp_path / "empty.nii").write_bytes(b"")
    with pytest.raises(CorruptScanError, match=r"empty\.nii: empty file"):
        load_upload(tmp_path / "empty.nii")
    with pytest.raises(CorruptScanError, match="did not arrive"):
        check_upload_size(tmp_path / "gone.nii")
    with pytest.raises(CorruptScanError, match="not a regular file"):
        check_upload_size(tmp_path)


def test_limit_from_environment(monkeypatch):
    monkeypatch.setenv("MMRQA_MAX_UPLOAD_BYTES", "1e6")
    assert max_upload_bytes() == 1_000_000
    assert max_upload_bytes(10) == 10
    monkeypatch.setenv("MMRQA_MAX_UPLOAD_BYTES", "lots")
    with pytest.raises(InvalidArgumentError, match="MMRQA_MAX_UPLOAD_BYTES"):
        max_upload_bytes()
    with pytest.raises(InvalidArgumentError):
        max_upload_bytes(0)


def test_wrong_type_names_the_upload_not_the_server_path(tmp_path):
    folder = tmp_path / "server-side-temp"
    folder.mkdir()
    notes = folder / "notes.txt"
    notes.write_text("not a scan")
    with pytest.raises(UnsupportedFormatError) as info:
        load_upload(notes, name="my notes.txt")
    assert "my notes.txt" in str(info.value) and str(folder) not in str(info.value)


def test_corrupt_nifti_is_a_clear_error(tmp_path, scans):
    broken = tmp_path / "broken.nii"
    broken.write_bytes(Path(scans["nifti"]).read_bytes()[:200])
    with pytest.raises(CorruptScanError, match=r"broken\.nii"):
        load_upload(broken)


def test_not_a_zip_despite_its_name(tmp_path):
    fake = tmp_path / "series.zip"
    fake.write_bytes(b"PK\x03\x04 this is not really a zip archive")
    with pytest.raises(CorruptScanError, match=r"series\.zip: not a readable zip archive"):
        load_upload(fake)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("../../evil.dcm", "path traversal"),
        ("ok/../../evil.dcm", "path traversal"),
        ("..\\..\\evil.dcm", "path traversal"),
        ("/etc/evil.dcm", "absolute path"),
        ("C:/evil.dcm", "absolute path"),
    ],
)
def test_path_traversal_entries_are_refused(tmp_path, entry, message):
    archive = _zip(tmp_path / "evil.zip", {"fine.txt": b"x", entry: b"payload"})
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(UnsafeArchiveError, match=message):
        safe_extract(archive, out)
    assert list(out.rglob("*")) == []  # judged from the central directory: nothing written
    assert not (tmp_path / "evil.dcm").exists()


def test_symlink_entries_are_refused(tmp_path):
    archive = _zip(tmp_path / "link.zip", {"scan.dcm": b"/etc/passwd"}, symlinks=("scan.dcm",))
    with pytest.raises(UnsafeArchiveError, match="symbolic link"):
        safe_extract(archive, tmp_path / "out")


def test_too_many_entries(tmp_path):
    archive = _zip(tmp_path / "many.zip", {f"f{k}.dcm": b"x" for k in range(30)})
    with pytest.raises(UnsafeArchiveError, match="30 entries, over the limit of 20"):
        safe_extract(archive, tmp_path / "out", max_entries=20)


def test_zip_bomb_by_ratio_and_by_total_size(tmp_path):
    bomb = _zip(tmp_path / "bomb.zip", {"zeros.dcm": bytes(64 * 1024**2)})
    assert bomb.stat().st_size < 200_000  # ~1000:1
    with pytest.raises(UnsafeArchiveError, match=r"compressed \d+:1 .*zip bomb"):
        safe_extract(bomb, tmp_path / "out")
    with pytest.raises(UnsafeArchiveError, match="unpacks to more than"):
        safe_extract(bomb, tmp_path / "out2", max_ratio=1e9, max_unpacked_bytes=1024**2)


def test_size_lies_in_the_central_directory_are_caught_while_extracting(tmp_path):
    archive = _zip(tmp_path / "liar.zip", {"a.dcm": bytes(3 * 1024**2)})
    with zipfile.ZipFile(archive) as zf:
        info = zf.infolist()[0]
    members = [info]
    info.file_size = 10  # what a forged directory would claim
    from mmrqa.uploads import check_archive

    assert check_archive(members, "liar.zip", max_unpacked_bytes=1024**2)  # the directory alone looks fine
    with pytest.raises(UnsafeArchiveError, match="unpacks to more than"):
        safe_extract(archive, tmp_path / "out", max_unpacked_bytes=1024**2, max_ratio=1e9)


def test_encrypted_entries_are_refused(tmp_path):
    archive = _zip(tmp_path / "secret.zip", {"scan.dcm": b"x" * 100})
    raw = bytearray(archive.read_bytes())
    central = raw.rfind(b"PK\x01\x02")  # set the "encrypted" flag bit in the central directory entry
    raw[central + 8] |= 0x1
    archive.write_bytes(bytes(raw))
    with pytest.raises(UnsafeArchiveError, match="encrypted"):
        safe_extract(archive, tmp_path / "out")


def test_dicom_series_zip_loads_like_the_folder_and_temp_files_go(tmp_path, scans):
    assert is_zip(scans["dicom_zip"])
    extract_root = tmp_path / "tmp"
    extract_root.mkdir()
    volume = load_upload(scans["dicom_zip"], tmp_root=extract_root)
    assert volume.meta["format"] == "dicom_series" and volume.shape == (64, 64, 6)
    assert volume.meta["source"] == "series.zip!study/series1"
    with zipfile.ZipFile(scans["dicom_zip"]) as zf:
        zf.extractall(tmp_path / "plain")
    reference = load_volume(tmp_path / "plain" / "study" / "series1")
    np.testing.assert_array_equal(volume.data, reference.data)
    assert list(extract_root.iterdir()) == []  # the extraction folder is removed


def test_metaimage_pair_zip_and_cleanup_on_error(tmp_path, scans):
    volume = load_upload(scans["mhd_zip"], canonical=False)  # as stored: the array written into scan.raw
    np.testing.assert_array_equal(volume.data, load_volume(scans["nifti"]).data)
    assert volume.meta["format"] == "metaimage" and volume.spacing == (2.0, 2.0, 2.0)
    assert volume.meta["source"] == "t1_mhd.zip!scan.mhd"
    root = tmp_path / "tmp"
    root.mkdir()
    with pytest.raises(RuntimeError), open_upload(scans["mhd_zip"], tmp_root=root) as scan:
        assert scan.name == "scan.mhd" and scan.is_file()
        raise RuntimeError("the caller fails")
    assert list(root.iterdir()) == []


def test_archive_without_a_scan_or_with_several(tmp_path, scans):
    empty = _zip(tmp_path / "notes.zip", {"readme.txt": b"hello", "__MACOSX/._x": b"junk"})
    with pytest.raises(UnsupportedFormatError, match=r"notes\.zip: the archive holds no scan"):
        load_upload(empty)
    two = _zip(
        tmp_path / "two.zip",
        {"a.nii": Path(scans["nifti"]).read_bytes(), "b.dcm": Path(scans["dicom"]).read_bytes()},
    )
    with pytest.raises(
        UnsupportedFormatError, match=r"two\.zip: .*2 scans \(a DICOM series at the top level, a\.nii\); upload one"
    ):
        load_upload(two)


def test_a_plain_scan_passes_through_unchanged(scans):
    with open_upload(scans["nifti"]) as path:
        assert path == Path(scans["nifti"])
    volume = load_upload(scans["nifti"], name="brain.nii")
    assert volume.meta["source"] == "brain.nii" and volume.meta["upload_name"] == "brain.nii"
