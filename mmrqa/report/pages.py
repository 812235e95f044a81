"""The HTML of the report: the group page (``index.html``) and one page per scan (``scans/<id>.html``).

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
from mmrqa.report.cohort import Cohort, CohortScan
from mmrqa.report.outliers import Z_FLAG
from mmrqa.report.view import flagged_metrics

VERDICT_CLASS = {"good": "good", "medium": "medium", "bad": "bad"}
#: below this many measured scans the group page warns that the flags are unstable.
SMALL_COHORT = 10
LIGHT_WORDS = {"green": "in range", "amber": "near the limit", "red": "out of range", "grey": "no range"}


def _json_script(element_id: str, data: Any) -> str:
    """A ``<script type="application/json">`` block; ``</`` is escaped so that no value can close the element."""
    text = json.dumps(data, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    return f'<script type="application/json" id="{element_id}">{text}</script>'


def _head(title: str, root: str) -> str:
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title>"
        f'<link rel="stylesheet" href="{root}assets/report.css">'
        f'<script src="{root}assets/plotly.min.js"></script></head>\n<body>\n'
    )


def _num(value: Any, digits: int = 3) -> str:
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
        _head(settings.get("title", "MMRQA cohort report"), "")
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
        + _json_script("cohort-data", data)
        + '\n<script src="assets/report.js"></script>\n</body></html>\n'
    )


# -- scan pages --------------------------------------------------------------------------------------------------------
def _nav(prev: CohortScan | None, nxt: CohortScan | None) -> str:
    parts = ['<a href="../index.html">&larr; cohort</a>']
    if prev is not None and prev.page:
        parts.append(f'<a rel="prev" href="{escape(prev.page.split("/")[-1])}">previous: {escape(prev.name)}</a>')
    if nxt is not None and nxt.page:
        parts.append(f'<a rel="next" href="{escape(nxt.page.split("/")[-1])}">next: {escape(nxt.name)}</a>')
    return '<nav class="scan-nav">' + " | ".join(parts) + "</nav>"


def _assessment_rows(assessment: dict[str, Any], verdict: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, HTML) rows of the assessment: the same conclusions and trust fields as the Assessment's other forms."""
    rows = [("Made by", escape(verdict["mode"]))]
    if assessment.get("in_domain") is False:
        reason = assessment.get("domain_reason") or "it is unlike the scans the tool was trained on"
        rows += [
            ("Domain", f'<span class="flag">outside what the tool was trained on: {escape(reason)}</span>'),
            ("Rating", "not rated (the verdict of the tool means nothing on such an input)"),
        ]
        return rows
    rating = verdict["rating"]
    rows.append(("Rating", f'<span class="verdict {VERDICT_CLASS.get(rating, "")}">{escape(rating)}</span>'))
    confidence = assessment.get("confidence")
    if confidence is not None:
        low = confidence < LOW_CONFIDENCE
        rows.append(
            (
                "Confidence",
                f"{confidence:.2f}" + (' <span class="flag">(low: look at the images)</span>' if low else ""),
            )
        )
    usability = {"usable": "usable for diagnosis", "repeat": "repeat the scan"}.get(verdict["usability"], "?")
    rows += [("Artifacts", escape(verdict["artifacts"])), ("Usability", escape(usability))]
    lights = assessment.get("lights") or {}
    metrics = assessment.get("metrics") or {}
    drivers = [
        f'<span class="light {lights.get(n, "grey")}" title="{LIGHT_WORDS.get(lights.get(n, "grey"), "")}"></span> '
        f"{escape(n)} {_num(metrics.get(n))}"
        for n in assessment.get("drivers") or []
    ]
    if drivers:
        rows.append(("Drivers", "; ".join(drivers)))
    estimate = assessment.get("signal_estimate") or {}
    if estimate:
        rows.append(
            (
                "Classifier probabilities",
                escape(
                    f"quality {estimate.get('quality_probability', float('nan')):.2f}, artifact "
                    f"{estimate.get('artifact', '?')} {estimate.get('artifact_probability', float('nan')):.2f}, "
                    f"severity {estimate.get('severity', '?')} {estimate.get('severity_probability', float('nan')):.2f}"
                ),
            )
        )
    return rows


def _assessment_block(record: dict[str, Any]) -> str:
    assessment = record.get("assessment") or {}
    verdict = record.get("verdict")
    if not verdict:
        return "<section><h2>Assessment</h2><p>No assessment (the scan could not be read).</p></section>"
    table = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in _assessment_rows(assessment, verdict))
    report = assessment.get("report") or ""
    answers = assessment.get("answers") or []
    answer_rows = "".join(
        f"<tr><td>{a.get('slice_index')}</td><td>{escape(a.get('question') or '')}</td>"
        f"<td>{escape(a.get('answer') or '')}</td></tr>"
        for a in answers
    )
    evidence = (
        '<h3>Model answers per slice</h3><table class="small"><tr><th>slice</th><th>question</th><th>answer</th></tr>'
        f"{answer_rows}</table>"
        if answer_rows
        else ""
    )
    return (
        f'<section id="assessment"><h2>Assessment</h2><table class="kv">{table}</table>'
        + (f"<h3>Report</h3><blockquote>{escape(report).replace(chr(10), '<br>')}</blockquote>" if report else "")
        + evidence
        + "</section>"
    )


def _metrics_block(cohort: Cohort, k: int | None, record: dict[str, Any]) -> str:
    from mmrqa.metrics.context import ScanContext
    from mmrqa.metrics.ranges import catalogue_for
    from mmrqa.presentation import metric_rows

    values = {name: (math.nan if v is None else v) for name, v in (record.get("values") or {}).items()}
    context = (record.get("assessment") or {}).get("scan_context")
    catalogue = catalogue_for(ScanContext.from_dict(context) if context else None)  # the ranges that fit this scan
    reference = (record.get("assessment") or {}).get("reference") or "this kind of scan"
    reference = reference.removeprefix("ranges for ")
    if not values:
        return ""
    z = {} if k is None else dict(zip(cohort.metrics, cohort.outliers.z[k], strict=True))
    rows = []
    for row in metric_rows(values, catalogue):
        zk = z.get(row.name)
        flagged = zk is not None and math.isfinite(zk) and abs(zk) > Z_FLAG
        zt = "" if zk is None or not math.isfinite(zk) else f"{zk:+.2f}"
        rows.append(
            f'<tr class="{"flagged" if flagged else ""}"><td><span class="light {row.light}" title="{LIGHT_WORDS[row.light]}">'
            f'</span> {LIGHT_WORDS[row.light]}</td><td><b>{escape(row.name)}</b></td><td class="num">{escape(row.text)}</td>'
            f"<td>{escape(row.unit)}</td><td>{escape(row.acceptable or 'no reference range')}</td>"
            f'<td>{escape(row.better)}</td><td class="num">{zt}{" flagged" if flagged else ""}</td>'
            f'<td class="meaning">{escape(row.meaning)}</td></tr>'
        )
    return (
        '<section id="metrics"><h2>Metrics</h2><p class="hint">Acceptable range from the metrics catalogue, as it '
        f"applies to {escape(reference)}; robust z against this report's cohort (flagged when |z| &gt; {Z_FLAG}).</p>"
        '<table class="metrics"><thead><tr><th>light</th><th>metric</th><th>value</th><th>unit</th>'
        "<th>acceptable range</th><th>better</th><th>robust z</th><th>meaning</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def _images_block(record: dict[str, Any], scan_id: str) -> str:
    images = record.get("images") or {}
    if not images:
        return ""
    planes = "".join(
        f'<figure><img src="{escape(scan_id)}/{escape(images[p])}" alt="{p} slices"><figcaption>{p}</figcaption></figure>'
        for p in ("axial", "coronal", "sagittal")
        if p in images
    )
    display = record.get("display") or {}
    note = (
        "Window stretched to the background's 99th percentile: noise is grain, ghosts are copies of the head along "
        "the phase-encoding axis, wrap-around is anatomy folded in from the opposite edge."
    )
    background = ((record.get("assessment") or {}).get("scan_context") or {}).get("background")
    if display.get("background_varies") is False or background == "zero-filled":
        note = "The background is constant (zero-filled, masked or a template): there is no noise to see."
    elif background == "none":
        note = (
            "There is no air in the field of view (the scan is cropped to the object): this view shows the darkest "
            "tissue, not the noise floor."
        )
    return (
        f'<section id="slices"><h2>Slices</h2><div class="mosaics">{planes}</div></section>'
        f'<section id="background"><h2>Background (contrast-stretched)</h2>'
        f'<figure><img src="{escape(scan_id)}/{escape(images["background"])}" alt="background view">'
        f"<figcaption>{escape(note)} Rows: axial, coronal, sagittal; slices spread over the whole field of view."
        "</figcaption></figure></section>"
    )


def _profile_block(record: dict[str, Any], metrics_from_table: bool) -> str:
    profile = record.get("profile")
    if not profile:
        why = (
            "The metrics came from a table: the per-slice profile is measured only when the report measures the "
            "scan itself (<code>mmrqa report SCANS</code> without <code>--metrics</code>)."
            if metrics_from_table
            else "No per-slice profile for this scan."
        )
        return f'<section id="profile"><h2>Per-slice profile</h2><p class="hint">{why}</p></section>'
    return (
        '<section id="profile"><h2>Per-slice profile</h2><p class="hint">Per axial slice; the menu picks the measure.'
        '</p><div class="plot" id="profile-plot"></div>'
        f"{_json_script('profile-data', json.loads(profile))}</section>"
    )


def _outlier_block(cohort: Cohort, k: int | None) -> str:
    if k is None:
        return ""
    out = cohort.outliers
    flagged = flagged_metrics(cohort, k)
    verdict = "flagged" if out.flags[k] else "not flagged"
    listed = ", ".join(f"{escape(m)} (z {z:+.1f})" for m, z in flagged) or "none"
    return (
        f'<section id="outlier"><h2>Within the cohort</h2><table class="kv"><tr><th>Over all metrics</th>'
        f'<td class="{"flag" if out.flags[k] else ""}">{verdict}: score {out.score[k]:.2f} (threshold '
        f"{out.threshold:.2f})</td></tr><tr><th>Metrics flagged</th><td>{listed}</td></tr></table></section>"
    )


def _fact(key: str, value: Any) -> str:
    if key == "intensity_range" and isinstance(value, list) and len(value) == 2:
        return f"{value[0]:g} .. {value[1]:g}"
    if isinstance(value, list):
        return " x ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value) + (
            " mm" if key == "spacing" else ""
        )
    return f"{value:g}" if isinstance(value, float) else str(value)


def scan_page(
    cohort: Cohort, scan: CohortScan, k: int | None, record: dict[str, Any], prev: CohortScan | None,
    nxt: CohortScan | None, *, metrics_from_table: bool,
) -> str:  # fmt: skip
    """The HTML of one scan's page (``k``: its index among the cohort's measured scans, None if it has no metrics)."""
    summary = record.get("summary") or {}
    facts = "".join(
        f"<tr><th>{escape(str(key).replace('_', ' '))}</th><td>{escape(_fact(key, v))}</td></tr>"
        for key, v in summary.items()
        if key != "source"
    )
    groups = "".join(
        f"<tr><th>{escape(c)}</th><td>{escape(v)}</td></tr>" for c, v in scan.groups.items() if c not in summary
    )
    error = f'<p class="error">Error: {escape(scan.error)}</p>' if scan.error else ""
    return (
        _head(f"{scan.name} - MMRQA", "../")
        + f'<header>{_nav(prev, nxt)}<h1>{escape(scan.name)}</h1><p class="source">{escape(scan.source)}</p>'
        + "</header>\n<main>"
        + error
        + '<div class="columns"><div>'
        + _assessment_block(record)
        + _outlier_block(cohort, k)
        + "</div><div>"
        + (f'<section><h2>Scan</h2><table class="kv">{facts}{groups}</table></section>' if facts or groups else "")
        + "</div></div>"
        + _images_block(record, scan.id)
        + _metrics_block(cohort, k, record)
        + _profile_block(record, metrics_from_table)
        + f"{_nav(prev, nxt)}</main>\n"
        + '<script src="../assets/report.js"></script>\n</body></html>\n'
    )
