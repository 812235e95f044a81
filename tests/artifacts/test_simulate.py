"""simulate/replay contract for every kind: identity at `none`, seeding, records, rejection of bad arguments."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mmrqa.artifacts import KINDS, SEVERITIES, ArtifactRecord, replay, simulate
from mmrqa.errors import InvalidArgumentError, InvalidScanError
from mmrqa.volume import Volume


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fixture", ["t1", "dicom2d"])
def test_none_is_identity(kind, fixture, request):
    volume = request.getfixturevalue(fixture)
    out, record = simulate(volume, kind, "none", 7)
    np.testing.assert_array_equal(out.data, volume.data)
    assert out.data is not volume.data and out.shape == volume.shape
    assert record.params == {} and record.severity == "none"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fixture", ["t1", "dicom2d"])
def test_same_seed_identical_other_seed_differs(kind, fixture, request):
    volume = request.getfixturevalue(fixture)
    first, record = simulate(volume, kind, "moderate", 11)
    second, _ = simulate(volume, kind, "moderate", 11)
    other, _ = simulate(volume, kind, "moderate", 12)
    np.testing.assert_array_equal(first.data, second.data)
    assert not np.array_equal(first.data, other.data)
    assert not np.array_equal(first.data, volume.data)
    assert first.shape == volume.shape and first.data.dtype == np.float32
    assert np.isfinite(first.data).all()
    if volume.data.min() >= 0:  # magnitude images stay magnitude images
        assert first.data.min() >= 0
    assert first.spacing == volume.spacing and np.array_equal(first.affine, volume.affine)
    assert first.meta["artifact"] == record.to_dict()


@pytest.mark.parametrize("kind", KINDS)
def test_replay_of_json_record_is_bit_identical(kind, t1):
    out, record = simulate(t1, kind, "severe", 3)
    restored = ArtifactRecord.from_json(json.dumps(record.to_dict()))
    assert restored == record
    np.testing.assert_array_equal(replay(t1, restored).data, out.data)
    np.testing.assert_array_equal(replay(t1, record.to_dict()).data, out.data)
    assert record.kind == kind and record.seed == 3 and record.params["pe_axis"] == 1


def test_record_holds_the_phase_encoding_axis_from_metadata(t1):
    volume = t1.with_data(t1.data, phase_encoding_axis=0)
    along0, record = simulate(volume, "ghosting", "severe", 0)
    along1, _ = simulate(t1, "ghosting", "severe", 0)
    assert record.params["pe_axis"] == 0
    assert not np.array_equal(along0.data, along1.data)


@pytest.mark.parametrize("kind", ["motion", "banana", "", None, "Motion"])
def test_invalid_kind_raises(kind, t1):
    if kind == "motion":
        simulate(t1, kind, "mild", 0)
        return
    with pytest.raises(InvalidArgumentError, match="artifact kind"):
        simulate(t1, kind, "mild", 0)


@pytest.mark.parametrize("severity", ["extreme", "", "Mild", 1, None])
def test_invalid_severity_raises(severity, t1):
    with pytest.raises(InvalidArgumentError, match="severity"):
        simulate(t1, "noise", severity, 0)


@pytest.mark.parametrize("seed", [-1, 1.5, "3", None, True, 2**63])
def test_invalid_seed_raises(seed, t1):
    with pytest.raises(InvalidArgumentError, match="seed"):
        simulate(t1, "noise", "mild", seed)


def test_numpy_integer_seed_is_accepted(t1):
    a, _ = simulate(t1, "spike", "mild", np.int64(5))
    b, _ = simulate(t1, "spike", "mild", 5)
    np.testing.assert_array_equal(a.data, b.data)


def test_invalid_volume_raises():
    with pytest.raises(InvalidArgumentError, match="Volume"):
        simulate(np.zeros((4, 4, 4)), "noise", "mild", 0)
    with pytest.raises(InvalidScanError, match="NaN"):
        simulate(Volume(np.full((8, 8, 2), np.nan), meta={"source": "nan.nii"}), "noise", "mild", 0)
    for bad in (np.inf, -np.inf):
        data = np.ones((8, 8, 2))
        data[3, 4, 1] = bad
        with pytest.raises(InvalidScanError, match="infinite"):
            simulate(Volume(data), "motion", "mild", 0)
    with pytest.raises(InvalidScanError, match="all zero"):
        simulate(Volume(np.zeros((8, 8, 2))), "blur", "mild", 0)


def test_replay_rejects_a_volume_of_another_shape(t1, dicom2d):
    _, record = simulate(t1, "motion", "mild", 0)
    with pytest.raises(InvalidArgumentError, match="shape"):
        replay(dicom2d, record)
    with pytest.raises(InvalidArgumentError, match="missing"):
        ArtifactRecord.from_dict({"kind": "noise"})


def test_every_severity_and_kind_is_listed():
    assert KINDS == ("motion", "ghosting", "spike", "noise", "bias_field", "blur", "ringing", "undersampling")
    assert SEVERITIES == ("none", "mild", "moderate", "severe")
