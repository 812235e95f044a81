"""Philips PAR/REC through mmrqa.io (nibabel's reader): nibabel's real phantom EPI loads as MR with its voxel size and
values, one volume of its dynamics at a time; a truncated or half-missing pair is refused with a clear error."""

from __future__ import annotations

import importlib.resources
import shutil

import nibabel as nib
import numpy as np
import pytest

from mmrqa.errors import CorruptScanError, DimensionalityError
from mmrqa.io import find_scans, load_volume

DATA = importlib.resources.files("nibabel.tests") / "data"
PHANTOM = DATA / "phantom_EPI_asc_CLEAR_2_1.PAR"


def test_phantom_epi_loads_one_dynamic_with_its_values_and_voxel_size():
    volume = load_volume(PHANTOM, canonical=False, volume_index=1)
    stored = np.asarray(nib.load(str(PHANTOM)).dataobj, dtype=np.float32)[..., 1]
    assert volume.shape == (64, 64, 9) and np.array_equal(volume.data, stored)
    assert volume.spacing == pytest.approx((3.75, 3.75, 8.0))
    assert volume.meta["format"] == "parrec" and volume.meta["modality"] == "MR"
    assert volume.meta["repetition_time"] > 0
    canonical = load_volume(DATA / "phantom_EPI_asc_CLEAR_2_1.REC", volume_index=1)  # the data file works too
    assert sorted(canonical.shape) == sorted(volume.shape) and canonical.data.sum() == pytest.approx(stored.sum())


def test_dynamics_need_a_volume_index():
    with pytest.raises(DimensionalityError, match="3 volumes"):
        load_volume(PHANTOM)


def test_a_truncated_pair_or_a_missing_rec_is_a_clear_error(tmp_path):
    with pytest.raises(CorruptScanError, match="not a readable PAR/REC file"):
        load_volume(DATA / "phantom_truncated.PAR", volume_index=0)
    alone = tmp_path / "alone.PAR"
    shutil.copy(PHANTOM, alone)
    with pytest.raises(CorruptScanError, match=r"needs both files; its \.REC file is not beside it"):
        load_volume(alone, volume_index=0)


def test_a_folder_lists_a_pair_once_by_its_par():
    """The .REC is the data half of the scan its .PAR describes: a folder walk must not measure the scan twice."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        for suffix in (".PAR", ".REC"):
            shutil.copy(DATA / f"phantom_EPI_asc_CLEAR_2_1{suffix}", Path(folder) / f"scan{suffix}")
        shutil.copy(
            DATA / "phantom_EPI_asc_CLEAR_2_1.REC", Path(folder) / "orphan.REC"
        )  # no .PAR: listed, and refused
        assert [p.name for p in find_scans(folder)] == ["orphan.REC", "scan.PAR"]
        assert load_volume(Path(folder) / "scan.PAR", volume_index=0).shape == (64, 64, 9)
        with pytest.raises(CorruptScanError, match="needs both files"):
            load_volume(Path(folder) / "orphan.REC", volume_index=0)


def test_damaged_headers_give_a_scan_or_an_mmrqa_error(tmp_path):
    """Truncated, cut or overwritten PAR text: nibabel's parser raises several kinds of exception on it (including
    AttributeError); each must reach the user as an MMRQAError naming the file, or the scan loads."""
    import random

    from mmrqa.errors import MMRQAError

    rng = random.Random(0)
    header = PHANTOM.read_bytes()
    shutil.copy(DATA / "phantom_EPI_asc_CLEAR_2_1.REC", tmp_path / "x.REC")
    refused = 0
    for case in range(60):
        damaged = bytearray(header)
        if case % 3 == 0:
            damaged = damaged[: rng.randrange(len(damaged))]
        elif case % 3 == 1:
            lines = damaged.split(b"\n")
            k = rng.randrange(len(lines))
            lines[k] = lines[k][: rng.randrange(len(lines[k]) + 1)]
            damaged = bytearray(b"\n".join(lines))
        else:
            for _ in range(20):
                damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        (tmp_path / "x.PAR").write_bytes(bytes(damaged))
        try:
            load_volume(tmp_path / "x.PAR", volume_index=0)
        except MMRQAError as exc:
            assert "x.PAR" in str(exc)
            refused += 1
    assert refused > 10
