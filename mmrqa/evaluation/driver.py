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
  labels; the shipped model when there is no train split; a withheld verdict answers nothing), which answers the question types whose truth follows from the labels
  (rating, presence, artifact type, severity, usability, report: ``SIGNAL_TYPES``);
- the majority class of the train split's answers per question type.
A system is only scored on the question types it answers; the others show as "n/a", never as a filled-in number.
What each question type scores (``scored_values``) is registered with the type (:mod:`mmrqa.qa.questions`); the
parse rate of each model system (share of answers its type's parser could read) is reported per question type.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from mmrqa.classifier import decide, load_model
from mmrqa.classifier.model import fit_baseline
from mmrqa.errors import InvalidArgumentError, MMRQAError
from mmrqa.evaluation.baselines import MajorityBaseline
from mmrqa.evaluation.grounding_rate import grounding_counts
from mmrqa.evaluation.reporting import comparison_table, model_index, parse_rate_table
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


def load_split(dataset: str, split: str, revision: str | None = None):
    """A split of a Hub-layout dataset (local folder or Hub id, pinned to ``revision`` when given) via ``datasets``."""
    from datasets import load_dataset

    try:
        splits = load_dataset(str(dataset), revision=revision)
    except Exception as exc:  # noqa: BLE001 - any loading failure is the user's dataset argument
        raise MMRQAError(f"cannot load dataset {dataset}: {exc}") from exc
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


def examples(rows, limit: int | None = None) -> list[Example]:
    """The scorable rows (question type known, one user and one assistant turn) of a split, in order."""
    out = []
    for row in rows:
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
            )
        )
        if limit is not None and len(out) >= limit:
            break
    return out


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
    preds: dict[str, list] = {}
    refs: dict[str, list] = {}
    for ex, pred, ref in zip(items, predicted, references, strict=True):
        if types is not None and ex.question.type not in types:
            continue
        for key, value in ref.items():
            if value is None:
                continue
            refs.setdefault(key, []).append(value)
            preds.setdefault(key, []).append(pred.get(key))
    return preds, refs


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


def evaluate_model(
    pipe,
    dataset: str,
    *,
    split: str = "test",
    baselines: bool = True,
    limit: int | None = None,
    n_resamples: int = 1000,
    progress: Callable | None = None,
) -> dict[str, Any]:
    """Score ``pipe``'s model (an :class:`MMRQAPipeline` with a model) and the baselines on ``split``."""
    if pipe.loaded is None:
        raise InvalidArgumentError("evaluate needs a model (--model); the metrics-only mode is scored as a baseline")
    splits = load_split(dataset, split)
    items = examples(splits[split], limit)
    if not items:
        raise InvalidArgumentError(f"dataset {dataset} split {split} has no question of a known type to score")
    references = [scored_values(ex.question, interpret.parse(ex.question, ex.reference)) for ex in items]
    reports = [SimpleNamespace(values=ex.metrics) for ex in items]
    systems: dict[str, dict] = {}
    answers: dict[str, list[str]] = {}
    rates: dict[str, dict[str, float]] = {}

    def run_model(name: str, use_adapter: bool, strip_signal: bool) -> None:
        prompts = []
        for ex in items:
            user = ex.user
            if strip_signal:
                content = [dict(p) for p in user["content"]]
                for part in content:
                    if part.get("type") == "text" and part.get("text"):
                        part["text"] = SIGNAL_LINE.sub("", part["text"])
                user = {"role": "user", "content": content}
            prompts.append((ex.images, user))
        texts, _ = generate(
            pipe.loaded,
            prompts,
            max_new_tokens=pipe.max_new_tokens,
            batch_size=pipe.batch_size,
            use_adapter=use_adapter,
        )
        parsed = [interpret.parse(ex.question, t) for ex, t in zip(items, texts, strict=True)]
        predicted = [scored_values(ex.question, value) for ex, value in zip(items, parsed, strict=True)]
        rates[name] = parse_rates(items, parsed)
        preds, refs = _collect(items, predicted, references)
        grounding = grounding_counts(texts, reports)
        systems[name] = evaluate_predictions(preds, refs, grounding=grounding, n_resamples=n_resamples, seed=0)
        answers[name] = texts
        if progress:
            progress(name)

    label = "MMRQA (this model)"
    run_model(f"{label}, signal-enhanced", True, False)
    if baselines:
        run_model(f"{label}, signal summary removed (ablation)", True, True)
        if pipe.loaded.is_adapter:
            run_model("Base model zero-shot (adapter off)", False, False)
        train = splits["train"] if "train" in splits and split != "train" else None
        if train is not None:
            clf, clf_source = fit_signal_baseline(train), "fitted on the train split"
        else:
            clf, clf_source = load_model(), "shipped default (no train split)"
        preds, refs = _collect(items, signal_answers(items, clf), references, types=SIGNAL_TYPES)
        systems["Signal-only classifier"] = evaluate_predictions(preds, refs, n_resamples=n_resamples, seed=0)
        train_items = examples(train) if train is not None else items
        train_refs = [scored_values(ex.question, interpret.parse(ex.question, ex.reference)) for ex in train_items]
        _, fit_refs = _collect(train_items, train_refs, train_refs)
        majority = MajorityBaseline().fit(fit_refs)
        _, test_refs = _collect(items, references, references)
        counts = {k: len(v) for k, v in test_refs.items() if k in majority.majority_ and k in MAJORITY_FIELDS}
        systems["Majority class"] = evaluate_predictions(
            majority.predict(counts), {k: test_refs[k] for k in counts}, n_resamples=n_resamples, seed=0
        )
    note = f"Model {pipe.loaded.name} on {dataset} [{split}], {len(items)} questions, greedy, max_new_tokens {pipe.max_new_tokens}."
    result = {
        "model": pipe.loaded.name,
        "base_model": pipe.loaded.base,
        "dataset": str(dataset),
        "split": split,
        "n_questions": len(items),
        "question_types": dict(sorted(_count(ex.question.type for ex in items).items())),
        "systems": systems,
        "table": comparison_table(systems, note=note) + "\n" + parse_rate_table(rates),
        "parse_rate": rates,
        "model_index": model_index(systems, dataset_name=str(dataset), dataset_type=str(dataset), split=split),
        "answers": {name: texts for name, texts in answers.items()},
    }
    if baselines:
        result["signal_classifier"] = clf_source
        result["majority_fitted_on"] = "train split" if train is not None else f"{split} split (no train split)"
    return result


def _count(values) -> dict[str, int]:
    counts: dict[str, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return counts
