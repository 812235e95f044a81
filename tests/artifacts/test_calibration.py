"""Severity calibration on real scans: NRMSE to the clean scan strictly increases with severity for every kind,
and the NRMSE ranges of the levels do not overlap across scans (a severity means the same on every scan).

Motion, ghosting, blur and undersampling reach a per-scan target NRMSE by a closed loop (mmrqa.artifacts.calibration);
the others are relative by construction (noise sigma, spike energy, bias log-std, kept k-space fraction)."""

from __future__ import annotations

import pytest

from mmrqa.artifacts import KINDS, SEVERITIES, simulate

from .conftest import nrmse

SEEDS = (0, 1)


@pytest.fixture(scope="module")
def table(scans):
    """kind -> severity -> scan -> [NRMSE per seed]."""
    result = {}
    for kind in KINDS:
        result[kind] = {
            severity: {
                name: [nrmse(simulate(volume, kind, severity, seed)[0].data, volume.data) for seed in SEEDS]
                for name, volume in scans.items()
            }
            for severity in SEVERITIES
        }
    return result


@pytest.mark.parametrize("kind", KINDS)
def test_nrmse_strictly_increases_with_severity_on_every_scan(kind, table, scans):
    for name in scans:
        for i, seed in enumerate(SEEDS):
            values = [table[kind][severity][name][i] for severity in SEVERITIES]
            assert values[0] == 0.0
            assert values[0] < values[1] < values[2] < values[3], f"{kind} on {name}, seed {seed}: {values}"


@pytest.mark.parametrize("kind", KINDS)
def test_severity_ranges_do_not_overlap_across_scans(kind, table):
    levels = SEVERITIES[1:]
    for lower, upper in zip(levels[:-1], levels[1:], strict=True):
        worst_lower = max(max(v) for v in table[kind][lower].values())
        best_upper = min(min(v) for v in table[kind][upper].values())
        assert worst_lower < best_upper, (
            f"{kind}: {lower} reaches NRMSE {worst_lower:.3f} but {upper} starts at {best_upper:.3f}"
        )


@pytest.mark.parametrize("kind", ["motion", "ghosting", "blur", "undersampling"])
def test_closed_loop_reaches_the_recorded_target(kind, scans):
    """The calibrated kinds land within 15% of the target they record, and replaying the record needs no loop."""
    from mmrqa.artifacts import replay

    volume = scans["pydicom_mr_small"]
    for severity in SEVERITIES[1:]:
        out, record = simulate(volume, kind, severity, 3)
        target = record.params["target_nrmse"]
        assert nrmse(out.data, volume.data) == pytest.approx(target, rel=0.15), (kind, severity)
        assert (replay(volume, record).data == out.data).all()
