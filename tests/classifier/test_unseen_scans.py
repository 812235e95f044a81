"""The shipped classifier on real scans it never saw (``TEST_SCANS``, kept out of its fit): clean as they are, and a
severe simulated artifact on them is found. The scans come from the Debian packages of
``make debian-data``; a test skips when its scan is not on the machine."""

from __future__ import annotations

import pytest

from mmrqa.classifier import classify, load_model
from mmrqa.classifier.data import TEST_SCANS, real_scans

#: severe artifacts that the shipped model must find on every unseen test scan. Severe blur and severe motion are not
#: asserted: the shipped model misses them on two of the three test scans (it reads them as clean; see
#: benchmarks/RESULTS.md, Evaluation) -- what issue 17 still asks for
SEVERE_KINDS = ("ghosting", "spike", "noise", "ringing", "undersampling", "bias_field")


def _scan(name: str):
    found = [s for s in real_scans() if s.name == name]
    if not found:
        pytest.skip(f"test scan {name} is not installed here (make debian-data)")
    return found[0]


def test_test_scans_are_not_in_the_shipped_model():
    provenance = load_model().meta["provenance"]
    assert set(provenance["test_only"]) <= set(TEST_SCANS)
    seen = set(provenance["trained_on"]) | set(provenance["calibrated_on"])
    assert not seen & set(TEST_SCANS)


@pytest.mark.parametrize("name", TEST_SCANS)
def test_unseen_clean_scan_is_usable(name):
    verdict = classify(_scan(name).load())
    assert verdict.in_domain, verdict.domain_reason
    assert verdict.quality in (1, 2) and verdict.severity != "severe", verdict


@pytest.mark.parametrize("name", TEST_SCANS)
def test_severe_artifact_on_an_unseen_scan_is_found(name):
    from mmrqa.artifacts import simulate
    from mmrqa.classifier.features import decimate

    clean = decimate(_scan(name).load())
    missed = []
    for k, kind in enumerate(SEVERE_KINDS):
        corrupted, _ = simulate(clean, kind, "severe", 100 + k)
        verdict = classify(corrupted)
        if not (verdict.in_domain and verdict.present and verdict.severity in ("moderate", "severe")):
            missed.append((kind, verdict.artifact, verdict.severity))
    assert not missed, missed
