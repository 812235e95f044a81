"""Every registered artifact kind is covered by every consumer of the artifact vocabulary.

Parametrised over :data:`mmrqa.artifacts.registry.ARTIFACT_KINDS`: a new kind is checked here without editing this
file (its simulator, presets, words and synonyms, its indicator in the metric catalogue, and each place that lists
kinds: labels, question bank, answer parser, evaluation label set, dataset config, generated docs).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mmrqa.artifacts import SEVERITIES, simulate
from mmrqa.artifacts.presets import PRESETS, preset
from mmrqa.artifacts.registry import (
    ARTIFACT_KINDS,
    KINDS,
    SEVERITY_SYNONYMS,
    artifact_kind,
    artifact_words,
    kind_from_words,
)
from mmrqa.errors import InvalidArgumentError

KIND_IDS = [kind.name for kind in ARTIFACT_KINDS]
README = Path(__file__).resolve().parents[2] / "README.md"


def test_names_words_and_synonyms_are_unique():
    assert len(set(KINDS)) == len(KINDS)
    assert len({kind.words for kind in ARTIFACT_KINDS}) == len(KINDS)
    synonyms = [s.lower() for kind in ARTIFACT_KINDS for s in kind.synonyms]
    assert len(set(synonyms)) == len(synonyms), "a synonym names two kinds: the parser could not tell them apart"
    with pytest.raises(InvalidArgumentError, match="unknown artifact kind"):
        artifact_kind("wobble")


@pytest.mark.parametrize("kind", ARTIFACT_KINDS, ids=KIND_IDS)
def test_kind_has_words_synonyms_and_a_simulator(kind):
    import importlib

    assert re.fullmatch(r"[a-z][a-z_]*", kind.name) and kind.words and kind.words in kind.synonyms
    assert artifact_words(kind.name) == kind.words and kind_from_words(kind.words) == kind.name
    module = importlib.import_module(f"mmrqa.artifacts.{kind.name}")
    assert callable(module.apply) and (hasattr(module, "sample_params") or hasattr(module, "sample_and_apply"))


@pytest.mark.parametrize("kind", ARTIFACT_KINDS, ids=KIND_IDS)
def test_presets_exist_for_every_severity(kind):
    assert set(kind.presets) == set(SEVERITIES) - {"none"} == set(SEVERITY_SYNONYMS)
    for severity in SEVERITIES[1:]:
        assert preset(kind.name, severity) == PRESETS[kind.name][severity] == dict(kind.presets[severity])
        assert all(low <= high for low, high in kind.presets[severity].values())


@pytest.mark.parametrize("kind", ARTIFACT_KINDS, ids=KIND_IDS)
def test_simulate_records_the_kind(kind, dicom2d):
    _, record = simulate(dicom2d, kind.name, "mild", seed=0)
    assert (record.kind, record.severity) == (kind.name, "mild")


@pytest.mark.parametrize("kind", ARTIFACT_KINDS, ids=KIND_IDS)
def test_indicator_is_in_the_metric_catalogue(kind):
    from mmrqa.metrics import ARTIFACT_INDICATORS, CATALOGUE

    assert ARTIFACT_INDICATORS[kind.name] == kind.indicator
    assert kind.indicator in CATALOGUE and CATALOGUE[kind.indicator].higher_is_better is not None


@pytest.mark.parametrize("kind", ARTIFACT_KINDS, ids=KIND_IDS)
def test_synonyms_round_trip_through_the_parser(kind):
    from mmrqa.qa import parse_answer

    for word in kind.synonyms:
        assert parse_answer("artifact_type", word) == kind.name, word
        assert parse_answer("artifact_type", f"This scan shows {word}.") == kind.name, word
        assert parse_answer("report", f"Overall quality: bad.\nArtifact: {word}, severe.")["artifact"] == kind.name


@pytest.mark.parametrize("kind", ARTIFACT_KINDS, ids=KIND_IDS)
def test_every_consumer_lists_the_kind(kind):
    from dataset_builder.config import BuildConfig
    from mmrqa.docs import preset_rows
    from mmrqa.evaluation import ARTIFACT_LABELS
    from mmrqa.qa import PHRASINGS, Labels

    assert Labels(2, kind.name, "mild").artifact == kind.name
    assert kind.name in ARTIFACT_LABELS
    assert kind.name in BuildConfig().kinds
    assert kind.words in PHRASINGS["artifact_type"][0] and kind.words in PHRASINGS["artifact_type"][2]
    assert kind.name in {row["kind"] for row in preset_rows()}
    assert f"| `{kind.name}` |" in README.read_text(encoding="utf-8"), "regenerate: python -m mmrqa.docs README.md"


def test_severity_synonyms_round_trip_through_the_parser():
    from mmrqa.qa import parse_answer

    for severity, words in SEVERITY_SYNONYMS.items():
        for word in words:
            assert parse_answer("severity", f"The noise is {word}.") == severity
