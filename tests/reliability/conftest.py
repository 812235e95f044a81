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


def _builder_fixtures():
    """tests/dataset_builder/conftest.py, imported by path: its MR-ART build is shared by the kill, write-failure
    and Hub-failure tests (session scope: built once)."""
    import importlib.util

    name = "mmrqa_tests_builder_conftest"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(HERE).parent / "dataset_builder" / "conftest.py")
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


mrart = _builder_fixtures().mrart
helpers = _builder_fixtures().helpers
