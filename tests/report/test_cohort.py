"""Reading metrics tables (TSV, CSV, JSON lines), metric and grouping columns, and each rejection."""

from __future__ import annotations

import json
import math

import pytest

from mmrqa.errors import InvalidArgumentError, ScanNotFoundError
from mmrqa.report import cohort_from_table, cohort_view, read_metrics_table


def test_tsv_of_mmrqa_metrics_with_a_site_column(metrics_table):
    rows, metrics, groups = read_metrics_table(metrics_table)
    assert len(rows) == 12 and groups == ["site"]
    assert metrics[0] == "snr_dark" or "snr_dark" in metrics  # catalogue order
    assert {row["site"] for row in rows} == {"hospital 1", "hospital 2"}
    assert all(isinstance(row["cjv"], float) for row in rows)


def test_csv_and_na_and_numeric_groups(tmp_path):
    table = tmp_path / "t.csv"
    lines = ["path,field,cjv,efc"] + [
        f"s{k}.nii,{1.5 if k % 2 else 3},{0.3 + k / 100},{'n/a' if k == 0 else 0.5}" for k in range(20)
    ]
    table.write_text("\n".join(lines) + "\n")
    rows, metrics, groups = read_metrics_table(table)
    assert metrics == ["cjv", "efc"] and groups == ["field"]
    assert math.isnan(rows[0]["efc"]) and rows[1]["field"] == "1.5" and rows[0]["field"] == "3"


def test_json_lines_of_mmrqa_metrics(tmp_path):
    table = tmp_path / "m.json"
    records = [
        {"profile": "default", "meta": {"path": f"s{k}.nii", "shape": [2, 2, 2]}, "values": {"cjv": k, "efc": None}}
        for k in range(3)
    ]
    table.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    rows, metrics, _groups = read_metrics_table(table)
    assert [r["path"] for r in rows] == ["s0.nii", "s1.nii", "s2.nii"] and "cjv" in metrics


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("scan_id\tcjv\nx\t1\n", "no 'path' column"),
        ("path\tsite\na\tx\n", "no numeric metric"),
        ("path\tcjv\na\t1\t2\n", "line 2 has 3 cells"),
        ("path\n", "header row"),
        ('{"meta": \n', "not JSON"),
    ],
)
def test_invalid_tables_are_rejected(tmp_path, text, message):
    table = tmp_path / "bad.tsv"
    table.write_text(text)
    with pytest.raises(InvalidArgumentError, match=message):
        read_metrics_table(table)


def test_missing_table():
    with pytest.raises(ScanNotFoundError, match="no such metrics table"):
        read_metrics_table("/nonexistent/iqms.tsv")


def test_cohort_view_groups_figures_and_table(metrics_table):
    view = cohort_view(metrics_table)
    assert view.group_by == "site"
    figure = view.strip("cjv")
    assert list(figure.layout.xaxis.ticktext) == ["hospital 1", "hospital 2"]
    assert len(figure.data[0].y) == 12
    header, rows = view.table()
    assert header[:2] == ["scan", "site"] and len(rows) == 12
    scores = [r[header.index("outlier score")] for r in rows]
    assert scores == sorted(scores, reverse=True)
    assert "flagged over all metrics" in view.summary()
    assert cohort_view(metrics_table, "no such column").group_by is None
    assert len(view.embedding().data) == 1 + 2  # points + one legend entry per group


def test_cohort_from_table_names_scans_below_their_common_folder(metrics_table):
    cohort = cohort_from_table(metrics_table)
    assert {s.name.split("/")[0] for s in cohort.scans} == {"site1", "site2"}
    assert len({s.id for s in cohort.scans}) == 12
