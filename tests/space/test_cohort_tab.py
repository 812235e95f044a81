"""The Space's cohort tab: an uploaded metrics table gives the group view (the library's ``mmrqa.report.cohort_view``),
driven through its API endpoint the way the page drives it."""

from __future__ import annotations

import numpy as np
import pytest

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402


@pytest.fixture
def client(space_app) -> Client:
    return Client(space_app[1], verbose=False)


@pytest.fixture
def table(tmp_path):
    """A metrics table as `mmrqa metrics` writes it, with a site column joined by the user; scan 7 is far out."""
    rng = np.random.default_rng(0)
    lines = ["path\tsite\tcjv\tefc\tsnr_total\tfber"]
    for k in range(24):
        cjv, efc, snr, fber = 0.4 + rng.normal(0, 0.02), 0.5 + rng.normal(0, 0.01), 10 + rng.normal(0, 0.5), 900.0
        if k == 7:
            cjv, efc, snr = 0.9, 0.75, 3.0
        lines.append(f"scans/sub-{k:02d}.nii.gz\t{'A' if k % 2 else 'B'}\t{cjv:.4f}\t{efc:.4f}\t{snr:.3f}\t{fber + k}")
    path = tmp_path / "iqms.tsv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_cohort_tab_shows_the_group_view(client, table):
    summary, group_by, metric, strip, embedding, scans = client.predict(
        handle_file(str(table)), "", "", api_name="/show_cohort"
    )
    assert "24" in summary and "flagged over all metrics" in summary
    assert group_by["value"] == "site" and metric["value"] == "snr_total"  # catalogue order
    assert strip is not None and embedding is not None
    assert scans["headers"][:2] == ["scan", "site"]
    assert scans["data"][0][0] == "sub-07.nii.gz"  # most suspicious first
    again = client.predict(handle_file(str(table)), "", "cjv", api_name="/show_cohort")
    assert again[2]["value"] == "cjv"


def test_cohort_tab_explains_a_bad_table(client, tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("scan_id\tcjv\nx\t1\n")
    with pytest.raises(AppError, match="no 'path' column"):
        client.predict(handle_file(str(bad)), "", "", api_name="/show_cohort")
