"""``write_report`` and ``mmrqa report``: the folder it writes, the cache, failures, the CLI's error contract."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mmrqa.errors import InvalidArgumentError
from mmrqa.report import write_report

REPO = Path(__file__).resolve().parents[2]


def _mmrqa(*args, cwd=REPO) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mmrqa.cli", *map(str, args)], capture_output=True, text=True, cwd=cwd
    )


def test_report_folder_is_self_contained(report_dir):
    assert (report_dir / "assets" / "plotly.min.js").stat().st_size > 1_000_000
    pages = sorted((report_dir / "scans").glob("*.html"))
    assert len(pages) == 12
    for html in [report_dir / "index.html", *pages]:
        text = html.read_text()
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", text), f"{html} refers to the network"
        assert text.count("plotly.min.js") == 1  # the script is referenced, never inlined
    index = (report_dir / "index.html").read_text()
    assert index.count('class="plot strip"') == len(json.loads(_data(index))["metrics"])
    for page in pages:
        folder = report_dir / "scans" / page.stem
        assert {"axial.jpg", "coronal.jpg", "sagittal.jpg", "background.jpg", "thumb.jpg"} <= {
            p.name for p in folder.iterdir()
        }


def _data(index: str) -> str:
    return index.split('<script type="application/json" id="cohort-data">', 1)[1].split("</script>", 1)[0]


def test_artifact_scans_are_flagged(report_dir):
    data = json.loads(_data((report_dir / "index.html").read_text()))
    table = (report_dir / "index.html").read_text()
    for kind in ("ghosting", "spike"):
        row = re.search(rf'<tr class="([a-z]*)" data-scan="[^"]*{kind}[^"]*">', table)
        assert row and row.group(1) == "flagged", kind
    assert sum('class="flagged"' in line for line in table.split("<tr")) <= 4
    assert len(data["pages"]) == 12


def test_scan_page_shows_ranges_assessment_profile_and_links(report_dir):
    page = next((report_dir / "scans").glob("*ghosting*.html")).read_text()
    for needed in (
        "acceptable range",
        "Assessment",
        "Per-slice profile",
        "profile-data",
        "../index.html",
        "Background (contrast-stretched)",
        "robust z",
        "flagged",
    ):
        assert needed in page, needed


def test_scan_page_gives_the_classifier_probabilities_as_numbers(report_dir):
    """The metrics-only verdict's heads on the page (P(clean), the leading kinds and severities), never 'nan'."""
    page = next((report_dir / "scans").glob("*ghosting*.html")).read_text()
    row = re.search(r"<th>Classifier probabilities</th><td>([^<]*)</td>", page)
    assert row, "no classifier probabilities on the page"
    assert "nan" not in row.group(1) and re.match(r"P\(clean\) 0\.\d\d; kind \w", row.group(1)), row.group(1)


def test_classifier_probabilities_in_words():
    from mmrqa.report.scan_page import classifier_probabilities

    heads = {
        "presence": {"none": 0.02, "artifact": 0.98},
        "artifact": {"ghosting": 0.83, "bias_field": 0.1, "motion": 0.07},
        "severity": {"severe": 0.75, "moderate": 0.2, "none": 0.05},
    }
    text = classifier_probabilities(heads)
    assert text == "P(clean) 0.02; kind ghosting 0.83, bias field 0.10; severity severe 0.75, moderate 0.20"
    assert classifier_probabilities({}) == ""


def test_rerun_reuses_finished_scans_and_redoes_changed_ones(report_dir, cohort_dir, fresh_copy, tmp_path):
    out = fresh_copy(report_dir)
    again = write_report([cohort_dir], out, progress=False)
    assert again.reused == 12 and again.done == 0
    scans = fresh_copy(cohort_dir)
    write_report([scans], tmp_path / "r2", progress=False)
    touched = next(scans.rglob("sub-00.nii.gz"))
    os.utime(touched, ns=(touched.stat().st_atime_ns, touched.stat().st_mtime_ns + 10**9))
    third = write_report([scans], tmp_path / "r2", progress=False)
    assert third.done == 1 and third.reused == 11


def test_failed_scan_is_listed_and_the_rest_is_written(cohort_dir, fresh_copy, tmp_path):
    scans = fresh_copy(cohort_dir)
    (scans / "site1" / "broken.nii.gz").write_bytes(b"not a nifti at all")
    errors: list[str] = []
    result = write_report([scans], tmp_path / "out", progress=False, on_error=errors.append)
    assert len(result.failed) == 1 and "broken.nii.gz" in errors[0]
    index = (tmp_path / "out" / "index.html").read_text()
    assert "Scans with errors (1)" in index and "broken.nii.gz" in index
    assert len(list((tmp_path / "out" / "scans").glob("*.html"))) == 13
    again = write_report([scans], tmp_path / "out", progress=False)
    assert again.reused == 12 and again.done == 1  # the failure is tried again, the rest is not


def test_report_from_a_metrics_table_does_not_measure_again(metrics_table, tmp_path, monkeypatch):
    """The table's metrics are not measured again; only the signal classifier measures each scan once, on its own
    grid (at most MAX_SIDE voxels a side: its features include per-slice aggregates that a table does not hold)."""
    import sys

    import mmrqa.metrics
    from mmrqa.classifier.features import MAX_SIDE

    measure, calls = mmrqa.metrics.compute_metrics, []

    def spy(volume, *args, **kwargs):
        calls.append((sys._getframe(1).f_globals["__name__"], max(volume.shape)))
        return measure(volume, *args, **kwargs)

    monkeypatch.setattr(mmrqa.metrics, "compute_metrics", spy)
    result = write_report(metrics_table=metrics_table, output=tmp_path / "r", progress=False, group_by="site")
    assert result.scans == 12 and not result.failed
    assert len(calls) == 12 and all(caller == "mmrqa.classifier.features" for caller, _ in calls)
    assert all(side <= MAX_SIDE for _, side in calls)
    index = (tmp_path / "r" / "index.html").read_text()
    assert '<option value="site" selected>' in index
    page = next((tmp_path / "r" / "scans").glob("*.html")).read_text()
    assert "came from a table" in page and "Rating" in page


def test_table_rows_whose_scan_is_missing_keep_their_metrics(metrics_table, tmp_path):
    text = metrics_table.read_text().splitlines()
    first = text[1].split("\t")
    first[0] = "/gone/sub-99.nii.gz"
    table = tmp_path / "t.tsv"
    table.write_text("\n".join([text[0], "\t".join(first), *text[2:]]) + "\n")
    result = write_report(metrics_table=table, output=tmp_path / "r", progress=False)
    assert len(result.failed) == 1
    data = json.loads(_data((tmp_path / "r" / "index.html").read_text()))
    assert len(data["pages"]) == 12  # the missing scan is still a point of the plots


def test_a_cohort_where_every_scan_fails_still_gets_its_page(tmp_path):
    broken = tmp_path / "broken.nii.gz"
    broken.write_bytes(b"garbage")
    result = write_report([broken], tmp_path / "r", progress=False)
    assert len(result.failed) == 1 and result.flagged == 0
    assert "Scans with errors (1)" in (tmp_path / "r" / "index.html").read_text()


def test_invalid_arguments():
    with pytest.raises(InvalidArgumentError, match="nothing to report"):
        write_report([], "x")
    with pytest.raises(InvalidArgumentError, match="workers"):
        write_report(["x"], "x", workers=0)


def test_cli_contract(cohort_dir, tmp_path):
    out = tmp_path / "cli"
    done = _mmrqa("report", cohort_dir / "site2", tmp_path / "missing.nii.gz", "-o", out)
    assert done.returncode == 2
    assert "error: " in done.stderr and "missing.nii.gz" in done.stderr and "Traceback" not in done.stderr
    assert (out / "index.html").is_file() and done.stdout.strip().startswith("file://")
    bad = _mmrqa("report", "--metrics", tmp_path / "none.tsv", "-o", out)
    assert bad.returncode == 2 and bad.stderr.startswith("error: ") and "Traceback" not in bad.stderr
    nothing = _mmrqa("report", "-o", out)
    assert nothing.returncode == 2 and "nothing to report" in nothing.stderr
