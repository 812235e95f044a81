"""Property-based fuzzing of ``load_volume`` and ``compute_metrics`` on mutated real scans of every format.

Property (issue 11): whatever the bytes, the outcome is a valid Volume/MetricReport or an ``MMRQAError``; never
another exception, never over the per-case time bound, never an allocation far beyond the memory budget.
``make test`` runs a few hundred derandomized cases (seconds); ``benchmarks/fuzz_readers.py`` runs >= 10,000.
"""

from __future__ import annotations

import logging

import pytest
from fuzz_mutators import STRUCTURED, mutate, mutators_for
from fuzz_runner import run_case
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.filterwarnings("ignore")  # readers warn on every oddity they repair; outcomes are checked

FORMAT_FAMILIES = {"nifti1", "nifti2", "mgh", "dicom", "metaimage", "fastmri", "image"}


@pytest.fixture(autouse=True)
def _quiet_readers():
    """nibabel and pydicom log every oddity they fix; thousands of lines would drown the report."""
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    yield
    logging.disable(previous)


def _assert_contract(outcome, label: str) -> None:
    assert not outcome.failed, f"{label}: {outcome.status} in {outcome.stage}\n{outcome.detail}"


def test_corpus_covers_every_format(fuzz_seeds):
    assert {seed.family for seed in fuzz_seeds.values()} == FORMAT_FAMILIES
    extensions = {seed.main.split(".", 1)[-1] if "." in seed.main else "dir" for seed in fuzz_seeds.values()}
    assert {"nii", "nii.gz", "mgz", "dcm", "dir", "mha", "mhd", "h5", "png", "jpg", "tiff"} <= extensions


def test_unmutated_seeds_load_and_measure(fuzz_seeds):
    """The seeds are valid scans: they load, and the default metrics run on every one of them."""
    for name, seed in fuzz_seeds.items():
        outcome = run_case(seed, profiles=("default",))
        assert outcome.status == "ok", f"{name}: {outcome.detail}"


def _structured_cases() -> list[tuple[str, str, int]]:
    from fuzz_corpus import build_seeds

    cases = []
    for name, seed in sorted(build_seeds().items()):
        for mutator in sorted(STRUCTURED[seed.family]):
            cases.extend((name, mutator, k) for k in range(4))
    return cases


@pytest.mark.parametrize(("seed_name", "mutator", "case_seed"), _structured_cases())
def test_structured_mutation(fuzz_seeds, seed_name, mutator, case_seed):
    """Every format-aware mutator on every seed of its format (header fields, payload dtypes, NaN/Inf)."""
    case = mutate(fuzz_seeds[seed_name], mutator, case_seed)
    _assert_contract(run_case(case, profiles=()), f"{seed_name}/{mutator}/{case_seed}")


def _pairs() -> list[tuple[str, str]]:
    from fuzz_corpus import build_seeds

    return [(name, m) for name, seed in sorted(build_seeds().items()) for m in sorted(mutators_for(seed))]


@settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None)
@given(pair=st.sampled_from(_pairs()), case_seed=st.integers(0, 2**32 - 1))
def test_fuzz_load_volume(fuzz_seeds, pair, case_seed):
    name, mutator = pair
    case = mutate(fuzz_seeds[name], mutator, case_seed)
    _assert_contract(run_case(case, profiles=()), f"{name}/{mutator}/{case_seed}")


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None)
@given(pair=st.sampled_from(_pairs()), case_seed=st.integers(0, 2**32 - 1))
def test_fuzz_load_and_metrics(fuzz_seeds, pair, case_seed):
    """Mutated scans that still load go through both metric profiles."""
    name, mutator = pair
    case = mutate(fuzz_seeds[name], mutator, case_seed)
    _assert_contract(run_case(case, profiles=("default", "mrqy")), f"{name}/{mutator}/{case_seed}")
