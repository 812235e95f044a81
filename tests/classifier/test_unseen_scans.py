"""The shipped classifier on real scans it never saw (``TEST_SCANS``, kept out of its fit): clean as they are, and a
severe simulated artifact on them is found. The scans come from the Debian packages of
``make debian-data``; a test skips when its scan is not on the machine."""

from __future__ import annotations

import pytest

from mmrqa.classifier import classify, load_model
from mmrqa.classifier.data import TEST_SCANS, real_scans

#: severe artifacts the shipped model must find on unseen test scans. Severe blur and severe motion are not asserted:
#: the shipped model misses severe motion on 11 of 15 seeds (every seed of the two 2D slices) and severe blur on every
#: seed of the head T1 (found 9/15 overall; it reads them as clean; see benchmarks/RESULTS.md, Evaluation) -- what
#: issue 17 still asks for
SEVERE_KINDS = ("ghosting", "spike", "noise", "ringing", "undersampling", "bias_field")
SEEDS = 5
#: measured on the shipped model, 5 seeds per kind (``python benchmarks/unseen_scans.py``): itk_t1_head 28/30 found
#: (ghosting 4/5, spike 4/5), itk_abdomen 25/30 (undersampling 3/5, bias field 3/5, spike 4/5), itk_sagittal_t1 30/30
#: (the model before the air features: 27, 27, 30). A scan passes at 25/30, every kind at 3/5: one seed is
#: not a measurement (a single seed per kind passed before the classifier read scans in their stored order, and
#: missed ghosting on the head T1 once it did)
MIN_FOUND, MIN_FOUND_PER_KIND = 25, 3


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
    found = {}
    for k, kind in enumerate(SEVERE_KINDS):
        found[kind] = 0
        for seed in range(SEEDS):
            verdict = classify(simulate(clean, kind, "severe", 100 + 10 * k + seed)[0])
            found[kind] += bool(verdict.in_domain and verdict.present and verdict.severity in ("moderate", "severe"))
    assert sum(found.values()) >= MIN_FOUND, found
    assert min(found.values()) >= MIN_FOUND_PER_KIND, found


#: severe artifacts found on every seed when written in the scan's own orientation by ``mmrqa simulate`` and read
#: back through the loader (which reorients the coronal ITK T1 to RAS+). Measured on 3 seeds: severe ghosting 2/3,
#: bias field 2/3 and blur 0/3 are found, which is why they are not asserted here
ROUND_TRIP_KINDS = ("motion", "spike", "noise", "ringing", "undersampling")


@pytest.mark.parametrize("kind", ROUND_TRIP_KINDS)
def test_artifact_written_in_acquisition_orientation_is_found_after_reorientation(kind, tmp_path):
    """The ITK head T1 is stored coronal (slices along the anterior axis): a ghost or k-space line pattern simulated
    in its acquired plane must still be found once the loader has turned it to RAS+."""
    from mmrqa.cli import main
    from mmrqa.io import load_volume

    scan = _scan("itk_t1_head")
    assert load_volume(scan.path).meta.get("stored_axes"), "the ITK T1 is expected to be stored non-axial"
    missed = []
    for seed in range(3):
        out = tmp_path / f"{kind}-{seed}.nii.gz"
        assert (
            main(["simulate", scan.path, str(out), "--artifact", kind, "--severity", "severe", "--seed", str(seed)])
            == 0
        )
        verdict = classify(load_volume(out))
        if not (verdict.in_domain and verdict.present and verdict.severity in ("moderate", "severe")):
            missed.append((seed, verdict.artifact, verdict.severity))
    assert not missed, missed
