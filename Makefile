# The README's two commands: `make demo` and `make test`. Both set up .venv on first use (idempotent).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint format space bench setup

setup: $(STAMP)

# torch first, pinned to the CPU build on this disk: an open `torch` requirement would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[all]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m mmrqa.demo

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest

format: $(STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

space: $(STAMP)
	$(PY) space/app.py

bench: $(STAMP)
	$(PY) benchmarks/run_all.py
