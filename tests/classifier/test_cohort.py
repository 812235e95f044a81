"""The verdict read beside the user's reference cohort (``mmrqa.classifier.cohort``): the cohort finds what one scan
alone cannot, questions (never clears) a finding typical of the user's own scans, and says so; nothing changes outside
the domain."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mmrqa.artifacts import simulate
from mmrqa.classifier.cohort import cohort_verdict, implicated, misfit, outside
from mmrqa.classifier.predict import Verdict
from mmrqa.cli import main
from mmrqa.data import load_sample
from mmrqa.metrics import compute_metrics
from mmrqa.metrics.cohort import CohortReference
from mmrqa.pipeline import MMRQAPipeline

RAMP = np.linspace(-1.0, 1.0, 20)  # 20 scans: red beyond ~7.5 robust SD, amber beyond ~4.3


def _cohort() -> CohortReference:
    rows = [
        {"noise_local": 2.0 + 0.2 * r, "pe_correlation": -10.0 + r, "inu_cv": 0.2 + 0.02 * r, "efc": 0.5 + 0.01 * r}
        for r in RAMP
    ]
    return CohortReference.from_values(rows, "test.tsv (20 scans)")


TYPICAL = {"noise_local": 2.1, "pe_correlation": -9.5, "inu_cv": 0.21, "efc": 0.5}


def _verdict(artifact: str, severity: str, p_kind: dict[str, float], p_sev: dict[str, float]) -> Verdict:
    quality = {"none": 1, "mild": 2}.get(severity, 3)
    return Verdict(
        True,
        artifact=artifact,
        severity=severity,
        quality=quality,
        confidence=0.9,
        probabilities={"artifact": p_kind, "severity": p_sev, "presence": {"none": 0.9, "artifact": 0.1}},
        drivers=["spike_energy"],
    )


P_SEV = {"none": 0.6, "mild": 0.1, "moderate": 0.25, "severe": 0.05}


def test_a_red_indicator_reports_what_the_classifier_called_clean():
    cohort = _cohort()
    noisy = {**TYPICAL, "noise_local": 6.0}  # ~26 robust SD above the cohort's noise
    assert set(implicated(noisy, cohort)) == {"noise"}
    verdict, note = cohort_verdict(_verdict("none", "none", {"noise": 0.2, "blur": 0.8}, P_SEV), noisy, cohort)
    assert (verdict.artifact, verdict.severity, verdict.quality) == ("noise", "moderate", 3)  # severity head: moderate
    assert verdict.confidence is None and verdict.drivers == ["noise_local"]
    assert "noise_local z +" in note and "test.tsv (20 scans)" in note and "called clean with confidence 0.9" in note
    assert "noise_local z +25.6 lies far outside (red)" in note  # (6.0 - 2.0) / its robust SD


def test_kinds_sharing_a_red_indicator_are_told_apart_by_the_artifact_head():
    cohort = _cohort()
    ghost = {**TYPICAL, "pe_correlation": 5.0}
    assert set(implicated(ghost, cohort)) == {"ghosting", "undersampling"}
    p_kind = {"ghosting": 0.2, "undersampling": 0.7, "noise": 0.1}
    verdict, _ = cohort_verdict(_verdict("none", "none", p_kind, P_SEV), ghost, cohort)
    assert verdict.artifact == "undersampling"


def test_a_finding_typical_of_the_cohort_in_every_light_is_questioned_not_cleared():
    cohort = _cohort()
    assert outside(TYPICAL, cohort) == {}
    found = _verdict("bias_field", "severe", {"bias_field": 0.9}, {"severe": 0.7, "none": 0.3})
    verdict, note = cohort_verdict(found, TYPICAL, cohort)
    assert verdict is found  # a mixed cohort would clear real artifacts: the verdict stands
    assert "does not support the bias field" in note and "look at the images" in note
    uncertain = _verdict(None, "moderate", {"noise": 0.4}, P_SEV)
    uncertain.uncertain = True
    verdict, note = cohort_verdict(uncertain, TYPICAL, cohort)
    assert verdict is uncertain and "does not support the artifact of uncertain kind the classifier found" in note


def test_otherwise_the_classifier_verdict_stands():
    cohort = _cohort()
    amber = {**TYPICAL, "efc": 0.5 + 6 * cohort.spread["efc"]}  # not an indicator, but outside: not typical
    found = _verdict("bias_field", "severe", {"bias_field": 0.9}, P_SEV)
    assert cohort_verdict(found, amber, cohort) == (found, "")
    clean = _verdict("none", "none", {"noise": 0.5}, P_SEV)
    assert cohort_verdict(clean, amber, cohort) == (clean, "")  # amber, not red, and no indicator: still clean
    outside_domain = Verdict(False, "a photograph")
    assert cohort_verdict(outside_domain, {**TYPICAL, "noise_local": 50.0}, cohort) == (outside_domain, "")


def test_a_scan_unlike_the_cohort_as_a_whole_gets_a_caution_and_nothing_else_changes():
    cohort = _cohort()
    assert misfit(TYPICAL, cohort) < 0.2
    elsewhere = {"noise_local": 9.0, "pe_correlation": 40.0, "inu_cv": 0.9, "efc": 0.5}  # 3 of 4 far beyond red
    assert misfit(elsewhere, cohort) > 1.0
    found = _verdict("bias_field", "severe", {"bias_field": 0.9}, P_SEV)
    verdict, note = cohort_verdict(found, elsewhere, cohort)
    assert verdict is found and note.startswith("against your cohort test.tsv (20 scans), more than half")
    assert "assess it without the cohort" in note
    clean = _verdict("none", "none", {"noise": 0.5, "ghosting": 0.3}, P_SEV)
    verdict, note = cohort_verdict(clean, elsewhere, cohort)  # rule 1 still reports, and the caution follows
    assert verdict.artifact in ("noise", "ghosting", "bias_field") and "called clean" in note
    assert note.endswith("if this scan is not of your cohort's protocol, assess it without the cohort")


@pytest.fixture(scope="module")
def noise_protocol():
    """A protocol on the real packaged T1: six acquisitions that differ in their noise (Rician, SNR ~45)."""
    base = load_sample("t1")
    scans = [simulate(base, "noise", "mild", seed)[0] for seed in range(7)]
    rows = [dict(compute_metrics(scan).values) for scan in scans[:6]]
    return base, scans[6], CohortReference.from_values(rows, "protocol (6 scans)")


def test_on_a_real_scan_the_cohort_finds_moderate_noise_the_classifier_alone_passes(noise_protocol):
    base, new_scan, cohort = noise_protocol
    noisier = simulate(new_scan, "noise", "moderate", 7)[0]
    alone = MMRQAPipeline.metrics_only()(noisier)
    assert alone.rating == "good"  # one scan alone: a noisier protocol looks the same
    result = MMRQAPipeline.metrics_only(reference=cohort)(noisier)
    assert result.rating == "bad" and [a.kind for a in result.artifacts] == ["noise"]
    assert result.metric_info["noise_local"]["light"] == "red" and result.drivers == ["noise_local"]
    assert result.confidence is None and "noise_local z +" in result.cohort_note
    assert "Cohort:" in result.to_text() and "**Cohort:**" in result.trust_markdown()
    assert result.to_dict()["cohort_note"] == result.cohort_note
    same = MMRQAPipeline.metrics_only(reference=cohort)(new_scan)  # another scan of the protocol: unchanged
    assert same.rating == "good" and same.cohort_note == "" and same.artifacts == []
    assert "more than half" not in result.cohort_note  # one artifact moves a few metrics, not most


def test_a_scan_of_another_protocol_is_flagged_as_unlike_the_cohort(noise_protocol):
    """The packaged 2 mm EPI judged against a cohort of T1 scans: most of its metrics lie far outside."""
    _, _, cohort = noise_protocol
    epi = load_sample("epi")
    assert misfit(dict(compute_metrics(epi).values), cohort) > 1.0
    result = MMRQAPipeline.metrics_only(reference=cohort)(epi)
    assert "more than half of this scan's metrics lie beyond the red limit" in result.cohort_note
    assert "assess it without the cohort" in result.to_text()


def test_cli_assess_with_a_reference_shows_the_cohort_verdict(tmp_path, capsys):
    """The user's workflow: ``mmrqa metrics`` over the protocol's scans, then ``mmrqa assess --reference``."""
    from mmrqa.data import sample_path

    protocol = tmp_path / "protocol"
    protocol.mkdir()
    for seed in range(6):
        args = ["--artifact", "noise", "--severity", "mild", "--seed", str(seed)]
        assert main(["simulate", str(sample_path("t1")), str(protocol / f"s{seed}.nii.gz"), *args]) == 0
    table = tmp_path / "cohort.tsv"
    assert main(["metrics", str(protocol), "-o", str(table)]) == 0
    new_scan, noisy = tmp_path / "new.nii.gz", tmp_path / "noisy.nii.gz"
    assert (
        main(
            [
                "simulate",
                str(sample_path("t1")),
                str(new_scan),
                "--artifact",
                "noise",
                "--severity",
                "mild",
                "--seed",
                "6",
            ]
        )
        == 0
    )
    assert main(["simulate", str(new_scan), str(noisy), "--artifact", "noise", "--severity", "moderate"]) == 0
    capsys.readouterr()
    assert main(["assess", str(new_scan), str(noisy), "--reference", str(table), "--format", "json"]) == 0
    same, worse = (json.loads(line) for line in capsys.readouterr().out.splitlines()[:2])
    assert same["rating"] == "good" and same["cohort_note"] == ""
    assert worse["rating"] == "bad" and worse["artifacts"][0]["kind"] == "noise"
    assert "against your cohort cohort.tsv (6 scans)" in worse["cohort_note"]
    # the folder itself as the reference: measured once, the same verdict and note (a bad file is reported, left out)
    (protocol / "broken.nii.gz").write_bytes(b"not a scan")
    assert main(["assess", str(noisy), "--reference", str(protocol), "--format", "json"]) == 0
    captured = capsys.readouterr()
    from_folder = json.loads(captured.out.splitlines()[0])
    assert "error: reference cohort:" in captured.err and "broken.nii.gz" in captured.err
    assert from_folder["cohort_note"] == worse["cohort_note"].replace("cohort.tsv (6 scans)", "protocol/ (6 scans)")
    assert from_folder["artifacts"] == worse["artifacts"] and from_folder["metrics"] == worse["metrics"]


def test_cohort_benchmark_runs_on_a_folder_of_one_protocol(tmp_path):
    """``benchmarks/cohort_verdict.py DIR``: each scan held out against slabs of the others, both verdicts scored."""
    import importlib.util
    from pathlib import Path

    from mmrqa.data import sample_path

    script = Path(__file__).resolve().parents[2] / "benchmarks" / "cohort_verdict.py"
    spec = importlib.util.spec_from_file_location("cohort_verdict", script)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    for seed in range(5):
        args = ["--artifact", "noise", "--severity", "mild", "--seed", str(seed)]
        assert main(["simulate", str(sample_path("t1")), str(tmp_path / f"s{seed}.nii.gz"), *args]) == 0
    out = tmp_path / "result.json"
    assert bench.main([str(tmp_path), "--slabs", "2", "--seeds", "1", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert set(result["folds"]) == {f"s{k}.nii.gz" for k in range(5)}
    assert all(
        fold["cohort_entries"] == 8 and fold["classifier"] == "shipped model" for fold in result["folds"].values()
    )
    assert len(result["variants"]) == 5 * 2 * (1 + 8 * 3)
    alone, cohort = result["alone"]["scores"], result["cohort"]["scores"]
    assert alone["n_clean"] == cohort["n_clean"] == 10 and alone["n_modsev"] == 160
    found = result["changes"]["found"].get("moderate+severe", 0)
    assert cohort["modsev_presence"] == pytest.approx(alone["modsev_presence"] + found / 160)
    assert found > 0  # the cohort knows this protocol's noise: it finds what one scan alone cannot
