"""The HTML of the report's group page (``index.html``) and the page parts every page shares (the scan pages are
:mod:`mmrqa.report.scan_page`).

Pages are plain HTML5 with every value escaped; their plots are plotly figures (:mod:`mmrqa.report.figures`) drawn
by the one copy of plotly.js in ``assets/``, with ``assets/report.js`` (grouping, lazy drawing, click-through,
sorting) and ``assets/report.css``. Nothing refers to the network.
"""

from __future__ import annotations

import json
import math
from html import escape
from typing import Any

from mmrqa.pipeline.assessment import LOW_CONFIDENCE
from mmrqa.report.cohort import Cohort
from mmrqa.report.outliers import Z_FLAG

VERDICT_CLASS = {"good": "good", "medium": "medium", "bad": "bad"}
#: below this many measured scans the group page warns that the flags are unstable.
SMALL_COHORT = 10


def json_script(element_id: str, data: Any) -> str:
    """A ``<script type="application/json">`` block; ``</`` is escaped so that no value can close the element."""
    text = json.dumps(data, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    return f'<script type="application/json" id="{element_id}">{text}</script>'


def head(title: str, root: str) -> str:
    """The start of a page up to ``<body>``: its title, the style and plotly.js from ``<root>assets/``."""
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title>"
        f'<link rel="stylesheet" href="{root}assets/report.css">'
        f'<script src="{root}assets/plotly.min.js"></script></head>\n<body>\n'
    )


def number(value: Any, digits: int = 3) -> str:
    """A value as shown in the report (3 significant digits as the answers and tables; ``n/a`` when undefined)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    from mmrqa.qa.answers import format_value

    return format_value(float(value)) if digits == 3 else f"{float(value):.{digits}g}"


def _sort_value(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return escape(str(value))


# -- group page --------------------------------------------------------------------------------------------------------
def _summary_line(cohort: Cohort, settings: dict[str, Any]) -> str:
    failed = sum(1 for s in cohort.scans if s.error) + len(settings.get("input_errors", []))
    out = cohort.outliers
    small = (
        f'<p class="error">Only {len(cohort.measured)} scans have metrics: with fewer than {SMALL_COHORT} the '
        "robust statistics are unstable, treat the flags as hints.</p>"
        if len(cohort.measured) < SMALL_COHORT
        else ""
    )
    return small + (
        f'<p class="summary"><b>{len(cohort.scans)}</b> scans, <b>{len(cohort.measured)}</b> with metrics, '
        f'<b>{failed}</b> with errors; <b class="flag">{int(out.flags.sum())}</b> flagged over all metrics, '
        f"<b>{int(out.metric_flags.any(axis=1).sum())}</b> with at least one metric flagged. "
        f"Verdicts: {escape(settings.get('mode', ''))}. Metrics: {escape(settings.get('metrics_source', ''))}. "
        f"Made {escape(settings.get('date', ''))} by mmrqa {escape(settings.get('version', ''))}.</p>"
    )


def _failures(cohort: Cohort, input_errors: list[tuple[str, str]]) -> str:
    failed = [s for s in cohort.scans if s.error]
    if not failed and not input_errors:
        return ""
    items = "".join(f"<li>{escape(message)}</li>" for _source, message in input_errors)
    items += "".join(
        f'<li><a href="{escape(s.page)}">{escape(s.name)}</a>: {escape(s.error or "")}</li>'
        if s.page
        else f"<li>{escape(s.name)}: {escape(s.error or '')}</li>"
        for s in failed
    )
    count = len(failed) + len(input_errors)
    return f'<section id="failures"><h2>Scans with errors ({count})</h2><ul>{items}</ul></section>'


def _cell(value: Any, text: str | None = None, css: str = "") -> str:
    """A table cell whose ``data-v`` (what report.js sorts by) is the raw value."""
    shown = escape(str(value if value is not None else "")) if text is None else text
    return f'<td data-v="{_sort_value(value)}"{f" class={chr(34)}{css}{chr(34)}" if css else ""}>{shown}</td>'


def _table(cohort: Cohort) -> str:
    from mmrqa.report.view import scan_rows

    columns = cohort.group_columns
    table_rows = scan_rows(cohort)
    # most suspicious first: scans with errors, then by outlier score (the "#" column restores the cohort's order)
    table_rows.sort(key=lambda r: (r["score"] is not None, -(r["score"] or 0.0)))
    with_confidence = any(r["confidence"] is not None for r in table_rows)
    head = ["#", "scan", *columns, "rating", *(["confidence"] if with_confidence else [])]
    head += ["usability", "artifacts", "outlier score", "flagged metrics"]
    rows = []
    for row in table_rows:
        scan = row["scan"]
        link = f'<a href="{escape(scan.page)}">{escape(scan.name)}</a>' if scan.page else escape(scan.name)
        thumb = f'<img class="thumb" loading="lazy" alt="" src="{escape(scan.thumb)}">' if scan.thumb else ""
        score, confidence = row["score"], row["confidence"]
        low = confidence is not None and confidence < LOW_CONFIDENCE
        cells = [
            _cell(row["n"]),
            _cell(scan.name, thumb + link),
            *(_cell(row["groups"][c]) for c in columns),
            _cell(row["rating"], css=f"verdict {VERDICT_CLASS.get(row['rating'], '')}"),
            *([_cell(confidence, "" if confidence is None else f"{confidence:.2f}", "num flag" if low else "num")]
              if with_confidence else []),
            _cell(row["usability"]),
            _cell(row["artifacts"]),
            _cell(score, "" if score is None else f"{score:.2f}", "num"),
            _cell(row["metric_flags"], escape(row["error"]) if score is None else
                  f"{row['metric_flags']} {escape(row['flagged_text'])}"),
        ]  # fmt: skip
        row_class = "error" if row["error"] and score is None else "flagged" if row["flagged"] else ""
        rows.append(f'<tr class="{row_class}" data-scan="{escape(scan.id)}">{"".join(cells)}</tr>')
    header = "".join(
        f'<th data-col="{i}" title="click to sort"{" aria-sort=descending" if h == "outlier score" else ""}>'
        f"{escape(h)}</th>"
        for i, h in enumerate(head)
    )
    return (
        '<section><h2>Scans</h2><p class="hint">Most suspicious first (scans with errors, then by outlier score); '
        "click a column header to sort (&#35; is the cohort's order); shaded rows are flagged over all metrics.</p>"
        f'<div class="table-wrap"><table id="scan-table" class="sortable"><thead><tr>{header}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div></section>"
    )


def _method(cohort: Cohort) -> str:
    out = cohort.outliers
    return (
        '<section id="method"><h2>How scans are flagged</h2><ul>'
        f"<li><b>Per metric</b> (red points): robust z = (value - cohort median) / (1.4826 x MAD); flagged when "
        f"|z| &gt; {Z_FLAG} (Iglewicz &amp; Hoaglin's modified z-score).</li>"
        f"<li><b>Over all metrics</b> (orange points, X in the embedding, shaded rows): {escape(out.method)}; "
        f"flagged above {out.threshold:.2f}. Metrics in the scanner's arbitrary intensity unit are left out of this "
        "score (they differ between scanners without a fault).</li>"
        "<li><b>Embedding</b>: the first two principal components of the same robust z-scores.</li>"
        "<li>Flags are relative to <i>this</i> cohort: a scan unlike the others is worth a look; it is not a "
        "diagnosis, and a cohort that is mostly faulty makes the faulty scans look normal.</li></ul></section>"
    )


def _without_names(figure: dict[str, Any]) -> dict[str, Any]:
    """A strip figure without its hover names: ``report.js`` puts back ``names`` (stored once) before drawing, which
    keeps 53 copies of 1,000 names (~1.3 MiB) out of ``index.html``."""
    figure["data"][0].pop("text", None)
    return figure


def group_page(cohort: Cohort, settings: dict[str, Any]) -> str:
    """The HTML of ``index.html``."""
    from mmrqa.report.figures import PALETTE, embedding_figure, figure_dict, jitter, strip_figure

    default = settings.get("group_by") or cohort.default_group()
    groups = {}
    for column in cohort.group_columns:
        codes, labels = cohort.groups(column)
        groups[column] = {"codes": codes.tolist(), "labels": labels}
    data = {
        "pages": [s.page for s in cohort.measured],
        "names": [s.name for s in cohort.measured],
        "palette": list(PALETTE),
        "jitter": [round(float(j), 4) for j in jitter(len(cohort.measured))],
        "groups": groups,
        "group_by": default if default in groups else "",
        "metrics": cohort.metrics,
        "figures": {m: _without_names(figure_dict(strip_figure(cohort, m, default))) for m in cohort.metrics},
        "embedding": figure_dict(embedding_figure(cohort, default)),
    }
    options = ['<option value="">(no grouping)</option>'] + [
        f'<option value="{escape(c)}"{" selected" if c == default else ""}>{escape(c)}</option>'
        for c in cohort.group_columns
    ]
    plots = "".join(
        f'<div class="plot strip" id="plot-{k}" data-metric="{escape(m)}"></div>' for k, m in enumerate(cohort.metrics)
    )
    return (
        head(settings.get("title", "MMRQA cohort report"), "")
        + f"<header><h1>{escape(settings.get('title', 'MMRQA cohort report'))}</h1>"
        + _summary_line(cohort, settings)
        + '<nav class="controls"><label>Group by <select id="group-by">'
        + "".join(options)
        + '</select></label> <span class="legend"><i class="dot plain"></i> scan '
        + '<i class="dot metric"></i> flagged on this metric <i class="dot overall"></i> flagged over all metrics '
        + '<i class="dash"></i> group median. Hover a point for its scan; click it to open the scan\'s page.'
        + "</span></nav></header>\n<main>"
        + _failures(cohort, settings.get("input_errors", []))
        + '<section><h2>Embedding</h2><div class="plot" id="embedding"></div></section>'
        + _table(cohort)
        + f'<section><h2>Metrics ({len(cohort.metrics)})</h2><div class="grid">{plots}</div></section>'
        + _method(cohort)
        + "</main>\n"
        + json_script("cohort-data", data)
        + '\n<script src="assets/report.js"></script>\n</body></html>\n'
    )
