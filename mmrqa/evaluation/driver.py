"""Run an MMRQA model on a dataset split and score it side by side with baselines (``mmrqa evaluate``).

Every row of the split is one question about one example (TRL conversational format: ``images`` + ``messages``);
its type is the ``question_type`` column when present, else recognised from the question's phrasing
(:func:`mmrqa.pipeline.interpret.classify_question`). The reference is the dataset's own answer parsed with the same
parser as the model's (dataset answers are grounded by construction, :mod:`mmrqa.qa.grounding`). Scores come from
:func:`mmrqa.evaluation.evaluate_predictions` (accuracy, macro-F1, SRCC/PLCC, metric-value error, grounding rate,
bootstrap intervals).

Systems, all on the same rows:
- the model as given (signal-enhanced prompts as stored in the dataset), and the ablation with the signal summary
  removed from the prompts;
- the base model zero-shot (the adapter switched off; only when the model is a LoRA adapter);
- the signal-only classifier (the recipe of :mod:`mmrqa.classifier`, fitted on the dataset's train split metrics and
  labels, or on the train split of ``baseline_dataset`` when the scored rows are a held-out set of their own; the
  shipped model when there is neither; a withheld verdict answers nothing), which answers the question types whose
  truth follows from the labels (rating, presence, artifact type, severity, usability, report: ``SIGNAL_TYPES``);
- the majority class of that train split's answers per question type (and, for reference in the caption, the
  majority class of the scored answers themselves: the best any constant answer can do on them).
A system is only scored on the question types it answers; the others show as "n/a", never as a filled-in number.
What each question type scores (``scored_values``) is registered with the type (:mod:`mmrqa.qa.questions`); the
parse rate of each model system (share of answers its type's parser could read) is reported per question type.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from mmrqa.classifier import decide, load_model
from mmrqa.classifier.model import fit_baseline
from mmrqa.errors import InvalidArgumentError, MMRQAError
from mmrqa.evaluation.baselines import MajorityBaseline
from mmrqa.evaluation.grounding_rate import grounding_counts
from mmrqa.evaluation.reporting import comparison_table, model_index, paper_table, parse_rate_table
from mmrqa.evaluation.suite import evaluate_predictions
from mmrqa.pipeline import interpret
from mmrqa.pipeline.model import generate
from mmrqa.qa.answers import default_catalogue
from mmrqa.qa.bank import Question, truth
from mmrqa.qa.labels import Labels
from mmrqa.qa.questions import QUESTIONS, SCORED_FIELDS, question_type

# datasets (~1.6 s) is imported where a split is loaded.

logger = logging.getLogger(__name__)

SIGNAL_LINE = re.compile(r"^.*Signal metrics:.*$\n?", re.M)
#: the split name that stands for every split of a dataset together (``load_split``).
ALL_SPLITS = "all"
#: what the bootstrap can resample (:func:`assign_clusters`): a subject's questions together, a volume's (the scan or
#: one simulated copy of it), a scan's, each question on its own (``row``: the plain bootstrap), or ``auto``.
CLUSTER_UNITS = ("auto", "subject", "volume", "scan", "row")

#: the systems of the evaluation, in the order of the MMRQA paper's comparison table (the table's rows).
MODEL = "MMRQA (this model), signal-enhanced"
SUMMARY_REMOVED = "MMRQA (this model), signal summary removed (ablation)"
TRAINED_WITHOUT = "MMRQA trained without signal summaries (ablation)"
BASE = "Base model zero-shot (adapter off)"
SIGNAL = "Signal-only classifier"
MAJORITY = "Majority class"
UNSEEN = "MMRQA (this model), zero-shot on an unseen anatomy"
SYSTEMS = (MODEL, SUMMARY_REMOVED, TRAINED_WITHOUT, BASE, SIGNAL, MAJORITY, UNSEEN)
#: question types the signal-only classifier answers: those whose truth follows from an example's labels (model
#: systems answer all types).
SIGNAL_TYPES = tuple(q.name for q in QUESTIONS if q.from_labels)
#: scored fields a majority class is fitted for (the classifications).
MAJORITY_FIELDS = tuple(f.name for f in SCORED_FIELDS if f.kind == "classification")


@dataclass
class Example:
    """One evaluation row: images, the user message, the question, the reference answer and the row's metrics."""

    images: list
    user: dict
    question: Question
    reference: str
    metrics: dict[str, float] = field(default_factory=dict)
    labels: dict[str, Any] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)
    cluster: str = ""


def load_split(dataset: str, split: str, revision: str | None = None):
    """A split of a Hub-layout dataset (local folder or Hub id, pinned to ``revision`` when given) via ``datasets``.

    ``split="all"`` (when the dataset has no split of that name) adds one: every split's rows together, e.g. to score
    a model zero-shot on a dataset none of whose rows it was trained on.
    """
    from datasets import concatenate_datasets, load_dataset

    try:
        splits = load_dataset(str(dataset), revision=revision)
    except Exception as exc:  # noqa: BLE001 - any loading failure is the user's dataset argument
        raise MMRQAError(f"cannot load dataset {dataset}: {exc}") from exc
    if split == ALL_SPLITS and split not in splits:
        splits[ALL_SPLITS] = concatenate_datasets([splits[name] for name in splits])
    if split not in splits:
        raise InvalidArgumentError(f"dataset {dataset} has no split {split!r} (splits: {', '.join(splits)})")
    missing = [c for c in ("images", "messages") if c not in splits[split].column_names]
    if missing:
        raise InvalidArgumentError(f"dataset {dataset} split {split} lacks column(s) {missing}")
    return splits


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(p.get("text") or "" for p in content if p.get("type") == "text")


def _metrics(value: Any) -> dict[str, float]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return {}
    values = value.get("values", value) if isinstance(value, dict) else {}
    return {k: float(v) for k, v in values.items() if isinstance(v, int | float)}


def examples(rows, limit: int | None = None, cluster_by: str = "subject") -> list[Example]:
    """The scorable rows (question type known, one user and one assistant turn) of a split, in order, with their
    bootstrap clusters assigned (:func:`assign_clusters`)."""
    if cluster_by not in CLUSTER_UNITS:
        raise InvalidArgumentError(f"cluster_by must be one of {', '.join(CLUSTER_UNITS)}, got {cluster_by!r}")
    out = []
    for number, row in enumerate(rows):
        messages = row["messages"]
        users = [m for m in messages if m["role"] == "user"]
        answers = [m for m in messages if m["role"] == "assistant"]
        if not users or not answers:
            continue
        question = interpret.classify_question(_text(users[0]["content"]))
        if row.get("question_type"):
            question = Question(row["question_type"], question.text, row.get("question_target") or question.target)
        if question.type is None:
            continue
        labels = {k: row.get(k) for k in ("quality", "artifact", "severity")}
        out.append(
            Example(
                list(row["images"]),
                users[0],
                question,
                _text(answers[0]["content"]),
                _metrics(row.get("metrics")),
                labels,
                _groups(row, number),
            )
        )
        if limit is not None and len(out) >= limit:
            break
    assign_clusters(out, cluster_by)
    return out


def _groups(row: dict, number: int) -> dict[str, str]:
    own = f"row {number}"
    subject, scan = row.get("subject"), row.get("scan")
    volume = "/".join(str(row.get(k) or "") for k in ("subject", "scan", "variant")) if subject or scan else None
    return {"subject": subject or own, "scan": scan or own, "volume": volume or own, "row": own}


def assign_clusters(items: list[Example], unit: str) -> str:
    """Set each example's bootstrap ``cluster`` and return the unit used.

    ``subject`` (the unit the splits hold out), ``volume`` (a scan or one simulated copy of it), ``scan``, ``row``
    (each question alone): the row's column, or the row itself when the column is missing. ``auto``: ``subject``
    when the items hold at least two subjects, else ``volume`` (one held-out subject gives no subject-level
    interval; its volumes at least show how the score varies over them, and the table's caption says so).
    """
    if unit == "auto":
        unit = "subject" if len({ex.groups["subject"] for ex in items}) >= 2 else "volume"
    for ex in items:
        ex.cluster = ex.groups[unit]
    return unit


def scored_values(question: Question, parsed: Any) -> dict[str, Any]:
    """Evaluation entries (scored fields) stated by a parsed answer, as its question type scores it; None where
    unreadable; nothing for a free question."""
    if question.type is None:
        return {}
    return question_type(question.type).score(parsed)


def parse_rates(items: list[Example], parsed: list[Any]) -> dict[str, float]:
    """Question type -> share of the answers whose parser read a value (in registry order)."""
    counts: dict[str, list[int]] = {}
    for ex, value in zip(items, parsed, strict=True):
        counts.setdefault(ex.question.type, []).append(value is not None)
    return {q.name: sum(counts[q.name]) / len(counts[q.name]) for q in QUESTIONS if q.name in counts}


def _collect(items: list[Example], predicted: list[dict[str, Any]], references: list[dict[str, Any]], types=None):
    """Scored field -> predictions, references and the examples' clusters (rows with a reference only)."""
    preds: dict[str, list] = {}
    refs: dict[str, list] = {}
    clusters: dict[str, list] = {}
    for ex, pred, ref in zip(items, predicted, references, strict=True):
        if types is not None and ex.question.type not in types:
            continue
        for key, value in ref.items():
            if value is None:
                continue
            refs.setdefault(key, []).append(value)
            preds.setdefault(key, []).append(pred.get(key))
            clusters.setdefault(key, []).append(ex.cluster)
    return preds, refs, clusters


def signal_answers(items: list[Example], classifier) -> list[dict[str, Any]]:
    """What the signal-only classifier answers to each row: the truth of the row's question for the labels it
    estimates from the row's metrics, scored like a parsed answer (nothing for a type it cannot answer)."""
    catalogue, indicators = default_catalogue()
    out = []
    for ex in items:
        if ex.question.type not in SIGNAL_TYPES:
            out.append({})
            continue
        verdict = decide(classifier, ex.metrics)
        if verdict.quality is None or verdict.artifact is None:  # withheld: out of the domain, or kind not settled
            out.append({})
            continue
        labels = Labels(verdict.quality, verdict.artifact, verdict.severity)
        expected = truth(ex.question, SimpleNamespace(values=ex.metrics), labels, catalogue, indicators)
        out.append(scored_values(ex.question, expected))
    return out


def fit_signal_baseline(train_rows) -> Any:
    """The signal classifier's recipe fitted on the distinct (metrics, labels) of the train split's rows."""
    seen, metrics, labels = set(), [], {"artifact": [], "severity": []}
    for row in train_rows.select_columns([c for c in ("metrics", "quality", "artifact", "severity")]):
        key = (row["metrics"], row["quality"], row["artifact"], row["severity"])
        if key in seen or row["quality"] is None or row["artifact"] is None or row["severity"] is None:
            continue
        seen.add(key)
        metrics.append(_metrics(row["metrics"]))
        for name in labels:
            labels[name].append(row[name])
    if len(set(labels["severity"])) < 2:
        raise InvalidArgumentError("the train split has fewer than two severities: cannot fit the signal baseline")
    return fit_baseline(metrics, labels)


def _strip_signal(user: dict) -> dict:
    """The user turn with the signal summary line(s) removed (the ablation's prompt)."""
    content = [dict(p) for p in user["content"]]
    for part in content:
        if part.get("type") == "text" and part.get("text"):
            part["text"] = SIGNAL_LINE.sub("", part["text"])
    return {"role": "user", "content": content}


def _references(items: list[Example]) -> list[dict[str, Any]]:
    return [scored_values(ex.question, interpret.parse(ex.question, ex.reference)) for ex in items]


def score_model(
    loaded,
    items: list[Example],
    *,
    use_adapter: bool = True,
    strip_signal: bool = False,
    max_new_tokens: int = 128,
    batch_size: int = 8,
    n_resamples: int = 1000,
) -> tuple[dict[str, Any], dict[str, float], list[str]]:
    """A loaded model's scores (clusters resampled together), parse rates per question type and answers on
    ``items``; ``strip_signal`` removes the signal summary from the prompts, ``use_adapter=False`` switches a LoRA
    adapter off (the base model)."""
    prompts = [(ex.images, _strip_signal(ex.user) if strip_signal else ex.user) for ex in items]
    texts, _ = generate(loaded, prompts, max_new_tokens=max_new_tokens, batch_size=batch_size, use_adapter=use_adapter)
    parsed = [interpret.parse(ex.question, t) for ex, t in zip(items, texts, strict=True)]
    predicted = [scored_values(ex.question, value) for ex, value in zip(items, parsed, strict=True)]
    preds, refs, clusters = _collect(items, predicted, _references(items))
    grounding = grounding_counts(texts, [SimpleNamespace(values=ex.metrics) for ex in items])
    scores = evaluate_predictions(
        preds,
        refs,
        grounding=grounding,
        n_resamples=n_resamples,
        seed=0,
        clusters=clusters,
        grounding_clusters=[ex.cluster for ex in items],
    )
    return scores, parse_rates(items, parsed), texts


def evaluate_model(
    pipe,
    dataset: str,
    *,
    split: str = "test",
    baselines: bool = True,
    limit: int | None = None,
    n_resamples: int = 1000,
    progress: Callable | None = None,
    cluster_by: str = "auto",
    no_summary=None,
    unseen: tuple[str, str] | None = None,
    not_computed: dict[str, str] | None = None,
    baseline_dataset: str | None = None,
) -> dict[str, Any]:
    """Score ``pipe``'s model (an :class:`MMRQAPipeline` with a model) and the baselines on ``split``.

    With ``baselines`` the result holds every row of the MMRQA paper's table (:data:`SYSTEMS`) that can be computed:
    the model, its summary-removed ablation, ``no_summary`` (a pipeline whose model was trained without signal
    summaries, asked without them), the base model, the signal-only classifier, the majority class, and ``unseen``
    (``(dataset, split)`` of an anatomy the model never saw, scored zero-shot; split ``all`` = every split). A row
    that cannot be computed is in ``not_computed`` with the reason (``not_computed`` given by the caller adds
    reasons it knows, e.g. that the unseen-anatomy scans are absent). Intervals resample ``cluster_by`` units
    (:func:`assign_clusters`; ``auto``: subjects, or the volumes of a split that holds a single subject).
    ``baseline_dataset``: the dataset whose train split fits the signal-only classifier and the majority class (the
    training data of the model, when ``dataset`` is a held-out set none of whose subjects it was trained on; split
    ``all`` of such a set scores every one of its rows). ``progress(name, seconds)`` is called after each system.
    """
    if pipe.loaded is None:
        raise InvalidArgumentError("evaluate needs a model (--model); the metrics-only mode is scored as a baseline")
    splits = load_split(dataset, split)
    items = examples(splits[split], limit, "row")
    unit = assign_clusters(items, cluster_by)
    if not items:
        raise InvalidArgumentError(f"dataset {dataset} split {split} has no question of a known type to score")
    references = _references(items)
    systems: dict[str, dict] = {}
    answers: dict[str, list[str]] = {}
    rates: dict[str, dict[str, float]] = {}
    skipped: dict[str, str] = {}
    generation = dict(max_new_tokens=pipe.max_new_tokens, batch_size=pipe.batch_size, n_resamples=n_resamples)

    def timed(name: str, run: Callable[[], Any]) -> None:
        start = time.perf_counter()
        run()
        if progress:
            progress(name, time.perf_counter() - start)

    def run_model(name: str, loaded, on: list[Example], **kwargs) -> None:
        systems[name], rates[name], answers[name] = score_model(loaded, on, **generation, **kwargs)

    timed(MODEL, lambda: run_model(MODEL, pipe.loaded, items))
    unseen_info = None
    if baselines:
        timed(SUMMARY_REMOVED, lambda: run_model(SUMMARY_REMOVED, pipe.loaded, items, strip_signal=True))
        if no_summary is not None:
            timed(TRAINED_WITHOUT, lambda: run_model(TRAINED_WITHOUT, no_summary.loaded, items, strip_signal=True))
        else:
            skipped[TRAINED_WITHOUT] = (
                "no model trained without signal summaries was given (`mmrqa evaluate --no-summary-model DIR`; "
                "`make table` trains one)"
            )
        if pipe.loaded.is_adapter:
            timed(BASE, lambda: run_model(BASE, pipe.loaded, items, use_adapter=False))
        else:
            skipped[BASE] = "the model is not a LoRA adapter: there is no base model to switch to"
        if baseline_dataset is not None:
            train, train_name = (
                load_split(baseline_dataset, "train")["train"],
                f"the train split of {baseline_dataset}",
            )
        else:
            train = splits["train"] if "train" in splits and split not in ("train", ALL_SPLITS) else None
            train_name = "the train split"
        if train is not None:
            clf, clf_source = fit_signal_baseline(train), f"fitted on {train_name}"
        else:
            clf, clf_source = load_model(), "shipped default (no train split)"
        preds, refs, clusters = _collect(items, signal_answers(items, clf), references, types=SIGNAL_TYPES)
        systems[SIGNAL] = evaluate_predictions(preds, refs, n_resamples=n_resamples, seed=0, clusters=clusters)
        train_items = examples(train) if train is not None else items
        train_refs = _references(train_items)
        _, fit_refs, _ = _collect(train_items, train_refs, train_refs)
        majority = MajorityBaseline().fit(fit_refs)
        _, test_refs, test_clusters = _collect(items, references, references)
        counts = {k: len(v) for k, v in test_refs.items() if k in majority.majority_ and k in MAJORITY_FIELDS}
        systems[MAJORITY] = evaluate_predictions(
            majority.predict(counts),
            {k: test_refs[k] for k in counts},
            n_resamples=n_resamples,
            seed=0,
            clusters={k: test_clusters[k] for k in counts},
        )
        own = MajorityBaseline().fit(
            {k: v for k, v in test_refs.items() if k in MAJORITY_FIELDS and any(x is not None for x in v)}
        )
        own_counts = {k: len(v) for k, v in test_refs.items() if k in own.majority_ and k in MAJORITY_FIELDS}
        own_majority = evaluate_predictions(
            own.predict(own_counts),
            {k: test_refs[k] for k in own_counts},
            n_resamples=n_resamples,
            seed=0,
            clusters={k: test_clusters[k] for k in own_counts},
        )
        if unseen is not None:
            unseen_dataset, unseen_split = unseen
            other = examples(load_split(unseen_dataset, unseen_split)[unseen_split], limit, "row")
            unseen_unit = assign_clusters(other, cluster_by)
            if not other:
                skipped[UNSEEN] = f"dataset {unseen_dataset} split {unseen_split} has no question of a known type"
            else:
                timed(UNSEEN, lambda: run_model(UNSEEN, pipe.loaded, other))
                other_refs = _references(other)
                _, unseen_refs, unseen_clusters = _collect(other, other_refs, other_refs)
                fields = [k for k in unseen_refs if k in majority.majority_ and k in MAJORITY_FIELDS]
                unseen_majority = evaluate_predictions(
                    majority.predict({k: len(unseen_refs[k]) for k in fields}),
                    {k: unseen_refs[k] for k in fields},
                    n_resamples=n_resamples,
                    seed=0,
                    clusters={k: unseen_clusters[k] for k in fields},
                )
                unseen_info = {
                    "majority": unseen_majority,
                    "majority_system": MAJORITY,
                    "system": UNSEEN,
                    "dataset": str(unseen_dataset),
                    "split": unseen_split,
                    "n_questions": len(other),
                    "n_clusters": len({ex.cluster for ex in other}),
                    "cluster_by": unseen_unit,
                }
        else:
            skipped[UNSEEN] = "no unseen-anatomy dataset was given (`mmrqa evaluate --unseen-dataset DIR`)"
        for name, reason in (not_computed or {}).items():
            if name not in systems:
                skipped[name] = reason
    note = (
        f"Model {_shown(pipe.loaded.name)} on {_shown(dataset)} [{split}], {len(items)} questions, greedy, "
        f"max_new_tokens {pipe.max_new_tokens}; intervals resample {unit}s (all the questions about one together)."
    )
    result = {
        "model": pipe.loaded.name,
        "base_model": pipe.loaded.base,
        "dataset": str(dataset),
        "split": split,
        "n_questions": len(items),
        "cluster_by": unit,
        "n_clusters": len({ex.cluster for ex in items}),
        "n_subjects": len({ex.groups["subject"] for ex in items}),
        "subjects": sorted({ex.groups["subject"] for ex in items}),
        "n_resamples": n_resamples,
        "question_types": dict(sorted(_count(ex.question.type for ex in items).items())),
        "systems": systems,
        "not_computed": skipped,
        "table": comparison_table(systems, note=note) + "\n" + parse_rate_table(rates),
        "parse_rate": rates,
        "model_index": model_index(
            {name: scores for name, scores in systems.items() if name != UNSEEN},
            dataset_name=str(dataset),
            dataset_type=str(dataset),
            split=split,
        ),
        "answers": {name: texts for name, texts in answers.items()},
    }
    if unseen_info is not None:
        result["unseen"] = unseen_info
        name = unseen_info["dataset"]
        result["model_index"] += model_index(
            {UNSEEN: systems[UNSEEN]}, dataset_name=name, dataset_type=name, split=unseen_info["split"]
        )
    if baselines:
        result["signal_classifier"] = clf_source
        result["majority_fitted_on"] = train_name if train is not None else f"the {split} split (no train split)"
        result["majority_of_scored"] = {"answers": dict(own.majority_), "scores": own_majority}
        result["paper_table"] = paper_table(result, SYSTEMS)
    return result


def _shown(name: Any) -> str:
    """A model or dataset as tables show it: a folder below the working directory relative to it."""
    path = Path(str(name))
    if path.is_absolute() and path.is_relative_to(Path.cwd()):
        return str(path.relative_to(Path.cwd()))
    return str(name)


def _count(values) -> dict[str, int]:
    counts: dict[str, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return counts
