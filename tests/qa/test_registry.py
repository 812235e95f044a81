"""Every registered question type is covered by every consumer of the question vocabulary.

Parametrised over :data:`mmrqa.qa.questions.QUESTIONS`: a new type is checked here without editing this file (its
phrasings, that the pipeline recognises them, that its parser reads back the answers it generates, its score and
the evaluation of that score, the signal-only baseline, the dataset config and the generated docs).
"""

from __future__ import annotations

import string
from pathlib import Path

import pytest

from mmrqa.artifacts import simulate
from mmrqa.data import load_sample
from mmrqa.metrics import compute_metrics
from mmrqa.qa import QUESTIONS, SCORED_FIELDS, Labels, make_conversations, parse_answer, question_type
from mmrqa.render import render_slices

TYPE_IDS = [q.name for q in QUESTIONS]
README = Path(__file__).resolve().parents[2] / "README.md"
#: examples whose labels span every answer: clean, each severity, a second artifact for the comparison.
CORRUPTIONS = [("noise", "none"), ("ghosting", "mild"), ("blur", "moderate"), ("spike", "severe"), ("noise", "severe")]


@pytest.fixture(scope="module")
def examples():
    volume = load_sample("t1")
    out = []
    for seed, (kind, severity) in enumerate(CORRUPTIONS):
        corrupted, record = simulate(volume, kind, severity, seed=seed)
        _, images = render_slices(corrupted, 1)
        out.append((images, compute_metrics(corrupted), Labels.from_record(record)))
    return out


@pytest.fixture(scope="module")
def generated(examples):
    """question type -> [(example row, answer text)] over all examples, each paired with the next for comparisons."""
    rows: dict[str, list] = {}
    for k, (images, report, labels) in enumerate(examples):
        partner = examples[(k + 1) % len(examples)]
        for seed in range(3):
            for ex in make_conversations(images, report, labels, seed=seed, comparison=partner, with_meta=True):
                rows.setdefault(ex["question_type"], []).append((ex, ex["messages"][1]["content"][0]["text"]))
    return rows


def test_names_are_unique_and_fields_are_registered_once():
    assert len(set(TYPE_IDS)) == len(TYPE_IDS)
    names = [f.name for f in SCORED_FIELDS]
    assert len(set(names)) == len(names)
    assert {f.name for q in QUESTIONS for f in q.fields} == set(names)


@pytest.mark.parametrize("qtype", QUESTIONS, ids=TYPE_IDS)
def test_phrasings_use_only_the_target_placeholder(qtype):
    assert qtype.phrasings and len(set(qtype.phrasings)) == len(qtype.phrasings)
    for text in qtype.phrasings:
        fields = {name for _, name, _, _ in string.Formatter().parse(text) if name}
        assert fields == ({qtype.target} if qtype.target else set()), text


@pytest.mark.parametrize("qtype", QUESTIONS, ids=TYPE_IDS)
def test_the_pipeline_recognises_every_phrasing(qtype):
    from mmrqa.pipeline.interpret import classify_question

    target = {"artifact": "bias_field", "metric": "snr_total", None: None}[qtype.target]
    for text in qtype.phrasings:
        asked = text.format(artifact="bias field", metric="snr_total")
        question = classify_question(f"Signal metrics: EFC=0.5.\n{asked}")
        assert (question.type, question.target) == (qtype.name, target), asked


@pytest.mark.parametrize("qtype", QUESTIONS, ids=TYPE_IDS)
def test_parser_reads_back_every_generated_answer(qtype, generated):
    rows = generated[qtype.name]
    assert len(rows) >= 5, f"too few {qtype.name} questions generated to test"
    assert len({text for _, text in rows}) > 1, "every generated answer is the same"
    for example, text in rows:
        assert len(example["images"]) == qtype.images
        parsed = parse_answer(qtype.name, text)
        assert parsed is not None, text
        assert question_type(qtype.name).parse(text) == parsed
    assert parse_answer(qtype.name, "") is None and parse_answer(qtype.name, None) is None


@pytest.mark.parametrize("qtype", QUESTIONS, ids=TYPE_IDS)
def test_score_fills_its_fields_and_a_perfect_answer_scores_perfectly(qtype, generated):
    from mmrqa.evaluation import evaluate_predictions

    scored = [qtype.score(parse_answer(qtype.name, text)) for _, text in generated[qtype.name]]
    for values in scored:
        assert set(values) == {f.name for f in qtype.fields}
        for field in qtype.fields:
            if field.kind == "classification":
                assert values[field.name] in field.labels
            else:
                assert isinstance(values[field.name], int | float)
    assert set(qtype.score(None)) == {f.name for f in qtype.fields}  # an unreadable answer still scores (as wrong)
    assert all(value is None for value in qtype.score(None).values())
    columns = {f.name: [v[f.name] for v in scored] for f in qtype.fields}
    results = evaluate_predictions(columns, columns, n_resamples=0)
    for field in qtype.fields:
        score = {"classification": "accuracy", "ordinal": "srcc", "value": "mae"}[field.kind]
        expected = {"accuracy": 1.0, "mae": 0.0}.get(score)
        if expected is not None:
            assert results[field.name][score] == pytest.approx(expected)
        assert results[field.name]["n_invalid"] == 0


@pytest.mark.parametrize("qtype", QUESTIONS, ids=TYPE_IDS)
def test_evaluate_scores_the_type_and_reports_its_parse_rate(qtype, generated):
    from mmrqa.classifier import load_model as load_classifier
    from mmrqa.evaluation.driver import SIGNAL_TYPES, Example, parse_rates, scored_values, signal_answers
    from mmrqa.qa import Question

    example, text = generated[qtype.name][0]
    question = Question(qtype.name, "?", example["question_target"])
    assert scored_values(question, parse_answer(qtype.name, text)) == qtype.score(parse_answer(qtype.name, text))
    items = [Example([], {}, question, text), Example([], {}, question, "gibberish")]
    assert parse_rates(items, [parse_answer(qtype.name, text), None]) == {qtype.name: 0.5}
    if qtype.from_labels:
        assert qtype.name in SIGNAL_TYPES
        metrics = dict(compute_metrics(load_sample("t1")).values)
        answer = signal_answers([Example([], {}, question, text, metrics)], load_classifier())[0]
        assert set(answer) == {f.name for f in qtype.fields}
    else:
        assert qtype.name not in SIGNAL_TYPES


@pytest.mark.parametrize("qtype", QUESTIONS, ids=TYPE_IDS)
def test_every_consumer_lists_the_type(qtype):
    from dataset_builder.config import BuildConfig
    from mmrqa.docs import question_rows
    from mmrqa.evaluation import HEADLINE_SCORES, QUESTION_TYPES

    assert qtype.name in BuildConfig().question_types
    assert qtype.name in {row["type"] for row in question_rows()}
    assert f"| `{qtype.name}` |" in README.read_text(encoding="utf-8"), "regenerate: python -m mmrqa.docs README.md"
    for field in qtype.fields:
        assert field.name in QUESTION_TYPES and any(h[0] == field.name for h in HEADLINE_SCORES)
