"""mmrqa.scan_session (what the Space computes, without Gradio) and mmrqa.upload_sweeper, on real scans."""

from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mmrqa.data import is_sample_copy, sample_path
from mmrqa.errors import CorruptScanError
from mmrqa.metrics import compute_metrics
from mmrqa.pipeline import MMRQAPipeline
from mmrqa.presentation import artifact_table, lights_sentence, metric_table, report_markdown, verdict_markdown
from mmrqa.scan_session import (
    METRICS_ONLY_NOTE,
    ScanSession,
    SessionFiles,
    chat_examples,
    choose_pipeline,
    pipeline_from_env,
)
from mmrqa.upload_sweeper import UploadSweeper, upload_grace
from mmrqa.uploads import load_upload


@pytest.fixture(scope="module")
def t1() -> ScanSession:
    return ScanSession.open(sample_path("t1"))


@pytest.fixture(scope="module")
def pipe() -> MMRQAPipeline:
    return MMRQAPipeline.metrics_only()


def test_open_computes_this_scans_metrics_and_names_it_by_the_users_name(tmp_path):
    session = ScanSession.open(sample_path("dicom_t2"), name="my scan.dcm")
    expected = compute_metrics(load_upload(sample_path("dicom_t2")))
    assert session.name == "my scan.dcm" and session.assessment is None and len(session.id) == 32
    assert session.report.values == pytest.approx(expected.values, nan_ok=True)
    data = session.metrics_json()
    assert data["scan"] == "my scan.dcm" and "path" not in data and "path" not in data["meta"]
    assert json.loads(json.dumps(data))["values"]["efc"] == pytest.approx(expected.values["efc"])
    (tmp_path / "empty.nii").write_bytes(b"")
    with pytest.raises(CorruptScanError, match="empty"):
        ScanSession.open(tmp_path / "empty.nii")


def test_viewing_planes_slices_and_the_plot(t1):
    assert [t1.n_slices(p) for p in ("axial", "coronal", "sagittal")] == [25, 41, 33]  # 33 x 41 x 25
    assert t1.clip("axial", -3) == 0 and t1.clip("axial", 99) == 24 and t1.clip("axial", 3.6) == 4
    assert t1.clip("axial", None) == 0
    assert 0 < t1.default_slice("axial") < 24
    image = t1.render("coronal", 20)
    assert image.size == (33, 25) and np.asarray(image).std() > 5
    assert not np.array_equal(np.asarray(t1.render("axial", 3)), np.asarray(t1.render("axial", 20)))
    columns = t1.plot_columns("slice_snr", "axial", 3)
    snr = [v for v, s in zip(columns["value"], columns["series"], strict=True) if s == "slice_snr"]
    marker = [(i, v) for i, v, s in zip(*columns.values(), strict=True) if s == "current slice"]
    assert len(snr) == 25 and marker == [(3, min(snr)), (3, max(snr))]
    assert "current slice" not in t1.plot_columns("slice_snr", "coronal", 3)["series"]  # per-slice runs axially
    assert t1.plot_columns("no such series", "coronal", 3)["series"][0] == next(iter(t1.series))
    summary = t1.summary_markdown()
    assert (
        summary.startswith("**anatomical.nii** loaded.") and lights_sentence(t1.report.values, t1.catalogue) in summary
    )
    assert "(ranges for a 3D scan of unknown anatomy" in summary and t1.context.background == "none"


def test_assessment_and_its_wording_match_the_pipeline(t1, pipe):
    session = t1.assessed(pipe)
    direct = pipe(sample_path("t1"))
    assert t1.assessment is None and session.id == t1.id  # a new session, the same id
    assert session.assessment.rating == direct.rating and session.assessment.report == direct.report
    verdict = verdict_markdown(session.assessment)
    assert f"Rating: {direct.rating}" in verdict and "**Mode:** metrics-only" in verdict
    assert report_markdown(direct).startswith("> Overall quality") and verdict_markdown(direct, "N").endswith("\nN")
    outside = dataclasses.replace(direct, in_domain=False, domain_reason="not an MRI")
    assert report_markdown(outside) == "> (not rated: outside the domain)"
    assert verdict_markdown(outside).startswith("## Not rated") and "Rating" not in verdict_markdown(outside)
    rows = artifact_table(session.assessment)
    assert rows == [["none detected", "", "", ""]] or (rows[0][0] == direct.artifacts[0].kind and rows[0][3] == "")
    table = metric_table(t1.report.values)
    assert t1.metric_table() == metric_table(t1.report.values, t1.catalogue)
    assert table and {row[0] for row in table} <= {"ok", "borderline", "out", "n/a"} and "efc" in [r[1] for r in table]


def test_metrics_only_answers_come_from_the_same_estimate_as_the_report(t1, pipe):
    index, answer, session = t1.answer(
        pipe, "Rate the overall image quality of this MRI scan as good, medium or bad.", "axial", 40
    )
    assert index == 24 and session.assessment is not None  # assessed on the way, index clipped
    assert session.assessment.rating in answer and answer.endswith(METRICS_ONLY_NOTE)
    _, answer, again = session.answer(
        pipe, "What is the efc of this scan, and is it within the acceptable range?", "axial", 3
    )
    assert again is session and "efc = " in answer and "acceptable" in answer
    _, answer, _ = session.answer(pipe, "Is the patient happy?", "axial", 3)
    assert "question-bank questions" in answer and all(q in answer for q in chat_examples())


def test_session_files_are_atomic_per_session_and_forgotten(t1, pipe, tmp_path):
    files = SessionFiles(tmp_path)
    session = t1.assessed(pipe)
    first = files.slice_png(session, t1.render("axial", 3))
    assert files.slice_png(session, t1.render("axial", 3)) == first  # named by content
    assert Image.open(first).format == "PNG"
    json_path, md_path = files.write_reports(session)
    assert json.loads(Path(json_path).read_text())["rating"] == session.assessment.rating
    assert Path(json_path).name == "anatomical_assessment.json" and Path(md_path).read_text().startswith("### ")
    files.forget(session)
    files.forget(None)
    assert list(tmp_path.iterdir()) == []


def test_model_choice_falls_back_to_metrics_only_and_says_why(tmp_path, monkeypatch):
    pipe, notice = choose_pipeline([("`X`", str(tmp_path / "missing"), ""), ("skipped", "", "")], unset=["y unset"])
    assert pipe.loaded is None and notice.startswith("**Metrics-only mode** (y unset; `X` `")
    assert "could not be loaded" in notice
    monkeypatch.delenv("MMRQA_MODEL", raising=False)
    monkeypatch.setenv("MMRQA_DEMO_ADAPTER", str(tmp_path / "no-adapter"))
    pipe, notice = pipeline_from_env()
    assert pipe.loaded is None and "`MMRQA_MODEL` is not set" in notice and "Set `MMRQA_MODEL`" in notice


def test_sweeper_deletes_uploads_after_the_grace_period_only(tmp_path, monkeypatch):
    uploads = tmp_path / "uploads"
    sweeper = UploadSweeper(lambda: uploads, keep=lambda p: is_sample_copy(p, ["t1"]), grace=0.3)
    stranger = uploads / "abc" / "scan.nii"
    example = uploads / "def" / "anatomical.nii"
    outside = tmp_path / "elsewhere.nii"
    for path, payload in ((stranger, b"x"), (example, sample_path("t1").read_bytes()), (outside, b"y")):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(payload)
    for path in (stranger, example, outside):
        with sweeper.reading(path) as resolved:
            assert resolved == path.resolve()
    time.sleep(0.1)
    sweeper.sweep()
    assert stranger.exists()  # still within its grace period
    deadline = time.monotonic() + 10
    while (stranger.exists() or stranger.parent.exists()) and time.monotonic() < deadline:  # file, then its folder
        time.sleep(0.1)
    assert not stranger.exists() and not stranger.parent.exists()  # the file and its empty folder
    assert example.exists() and outside.exists()  # a bundled example and a file outside the upload folder stay
    monkeypatch.setenv("MMRQA_UPLOAD_GRACE_S", "2.5")
    assert upload_grace() == 2.5 and UploadSweeper(uploads).grace == 2.5
    monkeypatch.setenv("MMRQA_UPLOAD_GRACE_S", "soon")
    assert upload_grace() == 60.0


def test_sweeper_keeps_a_file_while_a_request_reads_it(tmp_path):
    uploads = tmp_path / "uploads"
    path = uploads / "a" / "scan.nii"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"x")
    os.utime(path, (0, 0))
    sweeper = UploadSweeper(uploads, grace=0.0)
    with sweeper.reading(path):
        with sweeper.reading(path):
            pass
        sweeper.sweep()
        assert path.exists()  # the outer request still reads it
    sweeper.sweep()
    assert not path.exists()
