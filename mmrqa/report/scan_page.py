"""The HTML of one scan's page (``scans/<id>.html``): the assessment with its evidence, the scan within the cohort,
slice mosaics and the background view, the metrics against the ranges that fit the scan, the per-slice profile,
links back to the group page and to the neighbouring scans. Shared page parts come from :mod:`mmrqa.report.pages`.
"""

from __future__ import annotations

import dataclasses
import json
import math
from html import escape
from typing import Any

from mmrqa.pipeline.assessment import LOW_CONFIDENCE
from mmrqa.presentation import LIGHT_PHRASES
from mmrqa.qa.questions.usability import USABILITY_WORDS
from mmrqa.report.cohort import Cohort, CohortScan
from mmrqa.report.outliers import Z_FLAG
from mmrqa.report.pages import VERDICT_CLASS, head, json_script, number
from mmrqa.report.view import flagged_metrics


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
    usability = USABILITY_WORDS.get(verdict["usability"], "?")
    rows += [("Artifacts", escape(verdict["artifacts"])), ("Usability", escape(usability))]
    lights = assessment.get("lights") or {}
    metrics = assessment.get("metrics") or {}
    known = (assessment.get("signal_estimate") or {}).get("driver_values") or {}
    drivers = [
        f"{escape(n)} {number(known[n]['value'])} (clean scans' median {number(known[n]['clean_median'])})"
        if metrics.get(n) is None and n in known
        else f'<span class="light {lights.get(n, "grey")}" title="{LIGHT_PHRASES.get(lights.get(n, "grey"), "")}">'
        f"</span> {escape(n)} {number(metrics.get(n))}"
        for n in assessment.get("drivers") or []
    ]
    if drivers:
        rows.append(("Drivers", "; ".join(drivers)))
    if assessment.get("notes"):  # what mmrqa.pipeline.consistency changed to keep the verdict one story
        rows.append(("Consistency", escape("; ".join(assessment["notes"]))))
    if assessment.get("cohort_note"):  # what the reference cohort changed (mmrqa.classifier.cohort)
        rows.append(("Cohort", escape(assessment["cohort_note"])))
    probabilities = classifier_probabilities((assessment.get("signal_estimate") or {}).get("probabilities") or {})
    if probabilities:
        rows.append(("Classifier probabilities", escape(probabilities)))
    return rows


def classifier_probabilities(heads: dict[str, dict[str, float]]) -> str:
    """The signal classifier's heads in words: P(clean) of the presence head, then the two most probable artifact
    kinds and severities (``Verdict.probabilities``); empty when the classifier did not judge the scan."""

    def top(head: str, label: str) -> str:
        ranked = sorted((heads.get(head) or {}).items(), key=lambda kv: -kv[1])[:2]
        return f"{label} " + ", ".join(f"{k.replace('_', ' ')} {p:.2f}" for k, p in ranked) if ranked else ""

    parts = []
    if "none" in (heads.get("presence") or {}):
        parts.append(f"P(clean) {heads['presence']['none']:.2f}")
    parts += [text for text in (top("artifact", "kind"), top("severity", "severity")) if text]
    return "; ".join(parts)


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
    outside = (record.get("assessment") or {}).get("in_domain") is False  # MR ranges say nothing about it
    rows = []
    for row in metric_rows(values, catalogue):
        row = dataclasses.replace(row, light="grey") if outside else row
        zk = z.get(row.name)
        flagged = zk is not None and math.isfinite(zk) and abs(zk) > Z_FLAG
        zt = "" if zk is None or not math.isfinite(zk) else f"{zk:+.2f}"
        rows.append(
            f'<tr class="{"flagged" if flagged else ""}"><td><span class="light {row.light}" title="{LIGHT_PHRASES[row.light]}">'
            f'</span> {LIGHT_PHRASES[row.light]}</td><td><b>{escape(row.name)}</b></td><td class="num">{escape(row.text)}</td>'
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
    if display.get("background_varies") is False or (
        background == "zero-filled" and "background_varies" not in display
    ):
        note = "The background is constant (zero-filled, masked or a template): there is no noise to see."
    elif background == "zero-filled":  # the air is exactly zero, the view is not: anything shown there is suspect
        note = (
            "Most of the background is exactly zero (zero-filled or masked): there is no noise to see, so anything "
            "that shows around the head is signal that should not be there (ghosts are copies of the head along the "
            "phase-encoding axis, wrap-around is anatomy folded in from the opposite edge, stripes are spikes)."
        )
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
        f"{json_script('profile-data', json.loads(profile))}</section>"
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
        head(f"{scan.name} - MMRQA", "../")
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
