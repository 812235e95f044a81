"""Side-by-side tables and Hub ``model-index`` entries from the results of several systems.

A *result* is what ``evaluate_predictions`` returns (question type -> scores with ``ci``). Systems are e.g. the
MMRQA adapter, the base model zero-shot, the signal-only classifier and the majority class, all scored on the same
split. Only measured numbers appear; a score a system did not produce is shown as "n/a", never filled in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mmrqa.evaluation.suite import HEADLINE_SCORES
from mmrqa.qa.questions import QUESTIONS, SCORED_FIELDS

Result = Mapping[str, Mapping[str, Any]]


def _score(result: Result, qtype: str, name: str) -> tuple[float, tuple[float, float] | None]:
    scores = result.get(qtype)
    if not scores or name not in scores:
        return math.nan, None
    ci = scores.get("ci", {}).get(name)
    return float(scores[name]), (float(ci[0]), float(ci[1])) if ci is not None else None


def _cell(value: float, ci: tuple[float, float] | None, digits: int) -> str:
    if not math.isfinite(value):
        return "n/a"
    text = f"{value:.{digits}f}"
    if ci is not None and all(math.isfinite(c) for c in ci):
        text += f" [{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]"
    return text


def comparison_table(
    results: Mapping[str, Result],
    *,
    scores: tuple[tuple[str, str, str, bool], ...] = HEADLINE_SCORES,
    digits: int = 3,
    with_ci: bool = True,
    note: str | None = None,
) -> str:
    """A markdown table: one row per system, one column per headline score ("value [CI low, CI high]").

    Columns that no system has are dropped. ``note`` (e.g. "tiny demo model, random weights: not a real result")
    is printed under the table so that a number cannot be read without its caveat.
    """
    columns = [s for s in scores if any(s[0] in r and s[1] in r[s[0]] for r in results.values())]
    header = "| System | " + " | ".join(f"{label} {'↑' if up else '↓'}" for _, _, label, up in columns) + " |"
    lines = [header, "|" + "---|" * (len(columns) + 1)]
    for system, result in results.items():
        cells = []
        for qtype, name, _, _ in columns:
            value, ci = _score(result, qtype, name)
            cells.append(_cell(value, ci if with_ci else None, digits))
        lines.append(f"| {system} | " + " | ".join(cells) + " |")
    ns = sorted({int(s["n"]) for r in results.values() for s in r.values() if "n" in s})
    foot = [f"Intervals: 95% percentile bootstrap. n per question type: {', '.join(map(str, ns))}."]
    if note:
        foot.append(note)
    return "\n".join(lines) + "\n\n" + "\n".join(foot) + "\n"


def parse_rate_table(rates: Mapping[str, Mapping[str, float]], digits: int = 3) -> str:
    """A markdown table of the parse rate (share of readable answers) of each system per question type."""
    types = list(dict.fromkeys(t for r in rates.values() for t in r))
    if not types:
        return ""
    lines = ["| Parse rate | " + " | ".join(types) + " |", "|" + "---|" * (len(types) + 1)]
    for system, rate in rates.items():
        cells = [f"{rate[t]:.{digits}f}" if t in rate else "n/a" for t in types]
        lines.append(f"| {system} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


#: the columns of the MMRQA paper's table: (scored field, its title, the question type whose parse rate is shown),
#: every classification field that one question type asks about (rating, presence, type, severity, usability,
#: comparison).
PAPER_COLUMNS: tuple[tuple[str, str, str], ...] = tuple(
    (f.name, f.title, q.name)
    for f in SCORED_FIELDS
    if f.kind == "classification"
    for q in QUESTIONS
    if q.fields and q.fields[0].name == f.name
)
#: columns shown only when some system scored them (comparison needs two-image questions in the split).
OPTIONAL_COLUMNS = ("comparison",)


def paper_table(result: Mapping[str, Any], rows: tuple[str, ...], *, digits: int = 2) -> str:
    """The MMRQA paper's comparison table of an evaluation ``result`` (what the evaluation driver returns).

    One line per system of ``rows`` in that order: accuracy of each classification field with its bootstrap
    interval, then the parse rate of each question type. A row the evaluation could not compute
    (``result["not_computed"]``) says why instead of numbers; a field a system does not answer is "n/a". The
    caption says what was resampled (``cluster_by``) and how often, so that no interval is read without it.
    """
    systems, rates = result.get("systems", {}), result.get("parse_rate", {})
    skipped = result.get("not_computed", {})
    columns = [c for c in PAPER_COLUMNS if c[0] not in OPTIONAL_COLUMNS or any(c[0] in r for r in systems.values())]
    header = ["#", "System", *(f"{title} accuracy" for _, title, _ in columns)]
    header += [f"Parse rate: {qtype}" for _, _, qtype in columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for number, system in enumerate(rows, 1):
        if system in systems:
            cells = []
            for field, _, _ in columns:
                value, ci = _score(systems[system], field, "accuracy")
                cells.append(_cell(value, ci, digits))
            rate = rates.get(system)
            cells += [("n/a" if q not in rate else f"{rate[q]:.{digits}f}") if rate else "—" for _, _, q in columns]
        else:
            reason = skipped.get(system, "not run (the evaluation ran without baselines)")
            cells = [f"*not computed: {reason}*", *([""] * (2 * len(columns) - 1))]
        lines.append(f"| {number} | {system} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n\n" + _paper_caption(result, columns, rows, digits) + "\n"


#: a caption names the held-out subjects when there are at most this many (else it counts them).
MAX_NAMED_SUBJECTS = 12


def _paper_caption(result: Mapping[str, Any], columns, rows: tuple[str, ...], digits: int = 2) -> str:
    unit = result.get("cluster_by", "row")
    model = result.get("systems", {}).get(rows[0], {})
    ns = ", ".join(f"{title.lower()} {model[f]['n']}" for f, title, _ in columns if f in model and "n" in model[f])
    name, split = Path(str(result.get("dataset"))).name, result.get("split")
    where = f"every split of `{name}`" if split == "all" else f"the `{split}` split of `{name}`"
    subjects = result.get("subjects") or []
    named = ", ".join(subjects) if 0 < len(subjects) <= MAX_NAMED_SUBJECTS else ""
    counted = _count(len(subjects), "subject") if subjects and unit != "subject" else ""
    held = "held out" + (": " if counted or named else "") + ", ".join(part for part in (counted, named) if part)
    text = (
        f"Accuracy on {where}: {result.get('n_questions')} questions about {_count(result.get('n_clusters'), unit)} "
        f"({held}; questions per field: {ns or 'n/a'}). "
    )
    if unit == "row":
        text += "In brackets: 95% percentile bootstrap interval over questions"
    else:
        what = {"volume": "volumes (a scan or one simulated copy of it)"}.get(unit, f"{unit}s")
        text += (
            f"In brackets: 95% percentile **cluster** bootstrap interval: the {what} are resampled with replacement "
            f"and every question about a drawn {unit} is kept with it (questions about one {unit} are correlated; "
            f"resampling single questions would make the intervals too narrow); n/a with fewer than two {unit}s"
        )
    n_subjects = result.get("n_subjects")
    if unit != "subject" and n_subjects is not None and n_subjects < 2:
        text += (
            f". The split holds {_count(n_subjects, 'subject')}: the intervals show how the scores vary over its "
            f"{_count(result.get('n_clusters'), unit)}, not over subjects, which needs more held-out subjects"
        )
    text += (
        f" ({result.get('n_resamples')} resamples, seed 0). An answer that does not parse counts as wrong. "
        "Parse rate: share of a text model's answers that its question type's parser could read (— : not a text "
        "model). n/a: the system does not answer that field."
    )
    fitted = result.get("majority_fitted_on")
    if fitted:
        text += f" The signal-only classifier and the majority class are fitted on {_shown_path(fitted)}."
    own = result.get("majority_of_scored") or {}
    shown = [
        f"{title.lower()} {_cell(*_score(own.get('scores', {}), field, 'accuracy'), digits)}"
        f" (`{own.get('answers', {}).get(field)}`)"
        for field, title, _ in columns
        if field in own.get("scores", {})
    ]
    if shown:
        text += (
            " The majority class of the scored answers themselves (the best any constant answer can do on them, "
            "fitted on the test answers: a reference, not a system) scores " + ", ".join(shown) + "."
        )
    unseen = result.get("unseen")
    if unseen:
        row = rows.index(unseen["system"]) + 1 if unseen.get("system") in rows else len(rows)
        where = f"`{Path(unseen['dataset']).name}` [{unseen['split']}]"
        size = f"{unseen['n_questions']} questions, {_count(unseen['n_clusters'], unseen.get('cluster_by', unit))}"
        text += f" Row {row} is scored on {where} instead ({size}), none seen in training."
        majority, name = unseen.get("majority") or {}, unseen.get("majority_system")
        shown = [
            f"{title.lower()} {_cell(*_score(majority, field, 'accuracy'), digits)}"
            for field, title, _ in columns
            if field in majority
        ]
        if shown:
            which = f"row {rows.index(name) + 1}" if name in rows else "the majority class"
            fitted_on = _shown_path(fitted or "the train split")
            text += f" On that set the answers of {which} (fitted on {fitted_on}) score " + ", ".join(shown) + "."
    return text


def _shown_path(text: str) -> str:
    """``... of /abs/path/name`` as ``... of `name```: a caption names a dataset folder, not where it was built."""
    head, sep, path = str(text).rpartition(" of ")
    return f"{head}{sep}`{Path(path).name}`" if sep and ("/" in path or "\\" in path) else str(text)


def _count(n: Any, unit: str) -> str:
    noun = "question" if unit == "row" else unit
    return f"{n} {noun}{'' if n == 1 else 's'}"


def replace_section(text: str, begin: str, end: str, section: str) -> str:
    """``text`` with the part from marker ``begin`` to marker ``end`` (both kept) replaced by ``section``; the
    markers and the section are appended when ``text`` has no such part."""
    block = f"{begin}\n{section.strip()}\n{end}"
    if begin in text and end in text.split(begin, 1)[1]:
        head, rest = text.split(begin, 1)
        return head + block + rest.split(end, 1)[1]
    return text.rstrip() + "\n\n" + block + "\n"


#: markers of the evaluation section that ``write_results_section`` replaces in a markdown file (RESULTS.md).
RESULTS_BEGIN = "<!-- mmrqa-table:begin -->"
RESULTS_END = "<!-- mmrqa-table:end -->"


def evaluation_markdown(results: Mapping[str, Any], *, heading: str = "###") -> str:
    """The markdown of an evaluation for a card or a results file: the paper's table (when the baselines ran), then
    every headline score (macro-F1, correlations, grounding) and the parse rates, with how it was run."""
    parts = []
    if results.get("paper_table"):
        parts.append(
            f"{heading} The MMRQA table (accuracy, 95% cluster-bootstrap intervals)\n\n{results['paper_table']}"
        )
    parts.append(f"{heading} Every headline score\n\n{str(results.get('table', '')).strip()}\n")
    return "\n".join(parts)


def write_results_section(path: str | Path, results: Mapping[str, Any], *, title: str) -> None:
    """Write an evaluation into the marked section of a markdown file (e.g. ``benchmarks/RESULTS.md``) so that a
    rerun replaces it; the section is appended with its markers when the file has none."""
    from mmrqa.fileio import write_text_atomic

    path = Path(path)
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    section = f"{title}\n\n{evaluation_markdown(results, heading='####')}"
    write_text_atomic(path, replace_section(text, RESULTS_BEGIN, RESULTS_END, section))


def _metric_type(qtype: str, name: str) -> str:
    return {"accuracy": "accuracy", "macro_f1": "f1", "srcc": "spearmanr", "plcc": "pearsonr", "mae": "mae"}.get(
        name, f"{qtype}_{name}"
    )


def eval_results(
    result: Result,
    *,
    dataset_name: str,
    dataset_type: str,
    split: str = "test",
    task_type: str = "image-text-to-text",
    task_name: str = "MRI quality assessment",
    scores: tuple[tuple[str, str, str, bool], ...] = HEADLINE_SCORES,
) -> list[dict[str, Any]]:
    """The ``results`` list of one model-index entry: task, dataset and the measured headline metrics."""
    metrics = []
    for qtype, name, label, _ in scores:
        value, _ci = _score(result, qtype, name)
        if math.isfinite(value):
            metrics.append({"type": _metric_type(qtype, name), "value": round(value, 4), "name": label})
    return [
        {
            "task": {"type": task_type, "name": task_name},
            "dataset": {"name": dataset_name, "type": dataset_type, "split": split},
            "metrics": metrics,
        }
    ]


def model_index(results: Mapping[str, Result], **kwargs: Any) -> list[dict[str, Any]]:
    """Hub ``model-index`` (a list of ``{"name", "results"}``), one entry per system; kwargs as ``eval_results``."""
    return [{"name": system, "results": eval_results(result, **kwargs)} for system, result in results.items()]
