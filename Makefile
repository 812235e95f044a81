# The README's two commands: `make demo` and `make test`. Both set up .venv on first use (idempotent).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo table test lint format space publish-space bench setup browser

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

# Every row of the MMRQA table on the demo's test subjects (trains a second model without signal summaries; scores
# the TCIA pelvic scans of ../shared/data/tcia when present) and writes it into benchmarks/RESULTS.md.
table: $(STAMP)
	$(PY) -m mmrqa.demo --table --results benchmarks/RESULTS.md

test: $(STAMP) browser
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest

format: $(STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

space: $(STAMP)
	$(PY) space/app.py

# Publish a self-contained Space (app, card, requirements and the mmrqa package) to the Hub: REPO_ID=user/name.
publish-space: $(STAMP)
	$(PY) space/publish.py --repo-id $(REPO_ID)

# The CPU benchmarks of benchmarks/RESULTS.md, one after another (about an hour on 2 cores; MRQy is installed into a
# throw-away venv by bench_metrics.py's instructions). GPU benchmarks: see RESULTS.md (train_throughput.py,
# bench_pipeline.py --real-size).
bench: $(STAMP)
	OMP_NUM_THREADS=1 $(PY) benchmarks/bench_metrics.py
	$(PY) benchmarks/bench_artifacts.py --repeats 2
	$(PY) benchmarks/bench_builder.py
	$(PY) benchmarks/bench_builder_memory.py --sizes 200 2000
	$(PY) benchmarks/indicator_monotonicity.py
	$(PY) benchmarks/bench_pipeline.py --tiny
	$(PY) benchmarks/bench_ray.py --scans 200 --big 2000
	$(PY) benchmarks/fuzz_readers.py --cases 10000 --workers 2 -o benchmarks/results/fuzz_readers.json
	$(PY) benchmarks/load_test_space.py --clients 20 --seconds 60
	$(PY) benchmarks/montage.py
	$(PY) benchmarks/bench_report.py

# The Space's browser test drives Debian's Chromium with Playwright (never `playwright install`). Installed when
# missing and possible (root + apt); otherwise that one test skips.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) ; } || \
		echo "warning: chromium not installed; the browser test will be skipped"
