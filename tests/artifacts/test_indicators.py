"""The metric indicator of each artifact (mmrqa.metrics.ARTIFACT_INDICATORS) moves monotonically with severity.

Direction: a quality indicator gets worse with severity, i.e. decreases when ``higher_is_better`` and increases when
``lower_is_better`` (``CATALOGUE[name].higher_is_better``). Checked on real scans: nibabel's T1, pydicom's MR_small
(2D) and, when present, 4 central slices of one TCIA scan.
"""

from __future__ import annotations

import pytest

from mmrqa.artifacts import KINDS, SEVERITIES, simulate

metrics = pytest.importorskip("mmrqa.metrics")
if not hasattr(metrics, "ARTIFACT_INDICATORS"):
    pytest.skip("mmrqa.metrics has no ARTIFACT_INDICATORS yet", allow_module_level=True)


@pytest.fixture(scope="module")
def indicator_scans(scans):
    names = ["nibabel_t1", "pydicom_mr_small", *[n for n in scans if n.startswith("C3N")][:1]]
    return {name: scans[name] for name in names}


# Measured when this test was added (metrics commit dd38ebe): only blur's indicator is monotonic on all three scans.
# These are reported failures of the indicators (or of the presets), not weakened checks: see benchmarks/RESULTS.md.
KNOWN_NON_MONOTONIC = {"motion", "ghosting", "spike", "noise", "bias_field", "ringing", "undersampling"}


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param(k, marks=pytest.mark.xfail(reason="indicator not monotonic on real scans (reported)"))
        if k in KNOWN_NON_MONOTONIC
        else k
        for k in KINDS
    ],
)
def test_indicator_moves_monotonically_with_severity(kind, indicator_scans):
    name = metrics.ARTIFACT_INDICATORS[kind]
    higher_is_better = metrics.CATALOGUE[name].higher_is_better
    assert higher_is_better is not None, f"{name} has no direction"
    failures = []
    for scan_name, volume in indicator_scans.items():
        values = [metrics.compute_metrics(simulate(volume, kind, s, 0)[0]).values[name] for s in SEVERITIES]
        worse = [-v for v in values] if higher_is_better else values
        if not all(a < b for a, b in zip(worse[:-1], worse[1:], strict=True)):
            failures.append(f"{scan_name}: {name} = {[round(v, 4) for v in values]}")
    assert not failures, (
        f"{kind}: indicator not monotonic ({'higher' if higher_is_better else 'lower'} is better): "
        + "; ".join(failures)
    )
