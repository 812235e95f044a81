"""The Space's rating panel (``mmrqa.presentation.verdict_markdown``) shows what the assessment says about its own
trust: domain, confidence, drivers."""

from __future__ import annotations

from mmrqa.pipeline import Assessment
from mmrqa.presentation import verdict_markdown


def _result(**kwargs) -> Assessment:
    info = {"efc": {"reference_range": [0.0, 0.7], "acceptable": False, "light": "red"}}
    return Assessment(
        "scan.nii.gz", metrics={"efc": 0.9}, metric_info=info, rating="bad", usability="repeat", **kwargs
    )


def test_panel_cites_confidence_and_drivers():
    panel = verdict_markdown(_result(confidence=0.4, in_domain=True, drivers=["efc"]), "notice")
    assert "Rating: bad" in panel and "0.40 (low: the verdict is uncertain" in panel
    assert "efc 0.900 🔴 out of range" in panel


def test_panel_outside_the_domain_has_no_rating():
    panel = verdict_markdown(_result(in_domain=False, domain_reason="a CT scan (Hounsfield units)"), "notice")
    assert "Not rated" in panel and "outside what the tool was trained on: a CT scan (Hounsfield units)" in panel
    assert "bad" not in panel and "repeat" not in panel
