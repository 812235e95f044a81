"""Reference tables generated from the code: the metric catalogue, the artifact registry and its presets, and the
question-type registry.

The same rows feed the dataset card (``dataset_builder/dataset_card.py``) and the README, so the documentation cannot
drift from the code. ``python -m mmrqa.docs README.md`` (:mod:`mmrqa.docs.__main__`) rewrites the README's generated
sections (between ``<!-- generated:NAME -->`` and ``<!-- /generated:NAME -->``); a test fails when they are out of
date.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from mmrqa.artifacts import KINDS
from mmrqa.artifacts.presets import PRESETS
from mmrqa.artifacts.registry import ARTIFACT_KINDS, SEVERITIES
from mmrqa.metrics import CATALOGUE
from mmrqa.qa import PHRASINGS, QUESTION_TYPES, question_type

SEVERITY_COLUMNS = SEVERITIES[1:]  # the registry's severities but "none" (the identity has no parameters)


def cell(text: object) -> str:
    """One markdown table cell: pipes escaped, whitespace collapsed."""
    return " ".join(str(text).replace("|", "\\|").split())


def catalogue_rows(profile: str = "default") -> list[dict[str, str]]:
    """The catalogue entries of one metric profile: name, meaning, unit, better, acceptable range, reference."""
    rows = []
    for info in CATALOGUE.values():
        if getattr(info, "profile", "default") != profile:
            continue
        rng = info.reference_range
        rows.append(
            {
                "name": info.name,
                "meaning": cell(info.meaning),
                "unit": cell(info.unit),
                "better": {True: "higher", False: "lower", None: "-"}[info.higher_is_better],
                "range": "-" if rng is None else f"{rng[0]:g} to {rng[1]:g}",
                "reference": cell(info.reference),
            }
        )
    return rows


def preset_rows(kinds: Sequence[str] | None = None) -> list[dict[str, str]]:
    """The sampling ranges of each artifact kind's parameters at each severity."""

    def ranges(params: dict[str, tuple]) -> str:
        return "; ".join(f"{p} {lo:g}" if lo == hi else f"{p} {lo:g}-{hi:g}" for p, (lo, hi) in params.items())

    return [{"kind": k, **{s: ranges(PRESETS[k][s]) for s in SEVERITY_COLUMNS}} for k in (kinds or KINDS)]


def kind_rows() -> list[dict[str, str]]:
    """The artifact registry: each kind's words, the synonyms the answer parser accepts, its indicator metric."""
    return [
        {"kind": k.name, "words": k.words, "synonyms": ", ".join(k.synonyms), "indicator": k.indicator}
        for k in ARTIFACT_KINDS
    ]


#: how ``mmrqa evaluate`` scores each kind of field (mmrqa.evaluation.suite).
SCORE_NAMES = {"classification": "accuracy, macro-F1", "ordinal": "SRCC, PLCC", "value": "absolute error"}


def question_rows(types: Sequence[str] | None = None) -> list[dict[str, str]]:
    """One example phrasing of each question type, and what ``mmrqa evaluate`` scores of its answers."""
    fill = {"artifact": "motion", "metric": "snr_total"}
    return [
        {
            "type": t,
            "example": cell(PHRASINGS[t][0].format(**fill)),
            "scored": "; ".join(f"`{f.name}` ({SCORE_NAMES[f.kind]})" for f in question_type(t).fields),
        }
        for t in (types or QUESTION_TYPES)
    ]


def markdown_table(rows: list[dict[str, str]], columns: dict[str, str], code: Sequence[str] = ()) -> str:
    """A markdown table of ``rows`` with ``columns`` (key -> header); keys in ``code`` are shown as code."""
    lines = ["| " + " | ".join(columns.values()) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        values = [f"`{row[k]}`" if k in code else row[k] for k in columns]
        lines.append("| " + " | ".join(values) + " |")
    return "\n".join(lines)


def _catalogue_section() -> str:
    columns = {"name": "metric", "meaning": "meaning", "unit": "unit", "better": "better", "range": "acceptable range"}
    columns["reference"] = "reference"
    return (
        "Profile `default` (`mmrqa metrics`, used by the dataset and the pipeline):\n\n"
        + markdown_table(catalogue_rows("default"), columns, code=("name",))
        + "\n\nProfile `mrqy` (MRQy 0.0.3 columns, same values as MRQy):\n\n"
        + markdown_table(catalogue_rows("mrqy"), columns, code=("name",))
    )


def _presets_section() -> str:
    columns = {"kind": "kind", **{s: s for s in SEVERITY_COLUMNS}}
    return markdown_table(preset_rows(), columns, code=("kind",))


def _kinds_section() -> str:
    columns = {"kind": "kind", "words": "said as", "synonyms": "the answer parser accepts", "indicator": "indicator"}
    return markdown_table(kind_rows(), columns, code=("kind", "indicator"))


def _questions_section() -> str:
    columns = {"type": "question type", "example": "example phrasing", "scored": "scored by `mmrqa evaluate`"}
    return markdown_table(question_rows(), columns, code=("type",))


SECTIONS: dict[str, Callable[[], str]] = {
    "catalogue": _catalogue_section,
    "kinds": _kinds_section,
    "presets": _presets_section,
    "questions": _questions_section,
}


def render_generated(text: str) -> str:
    """``text`` with every generated section replaced by its current content."""
    for name, make in SECTIONS.items():
        begin, end = f"<!-- generated:{name} -->", f"<!-- /generated:{name} -->"
        if begin not in text or end not in text:
            continue
        head, rest = text.split(begin, 1)
        text = f"{head}{begin}\n{make()}\n{end}{rest.split(end, 1)[1]}"
    return text
