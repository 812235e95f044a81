"""Fixtures of the reliability tests: the fuzz seed corpus (real scans in every format)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The fuzz helpers (fuzz_corpus, fuzz_mutators, fuzz_runner) live next to the tests and are shared with
# benchmarks/fuzz_readers.py; tests/ is not a package under --import-mode=importlib.
HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)


@pytest.fixture(scope="session")
def fuzz_seeds() -> dict:
    """Every fuzz seed by name (see fuzz_corpus.build_seeds)."""
    from fuzz_corpus import build_seeds

    return build_seeds()
