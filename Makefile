# oceanguard: `make demo` runs the pipeline on the embedded sample data; `make test` runs the tests.
# Both create (once) and reuse a virtual environment in .venv and the report assets in node_modules.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: serve setup demo test test-slow test-fast nbdev-test pytest check-sync lab bench browser clean-artifacts

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Chromium (Debian package) for the report's browser test; test tools cannot download their own browsers.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "install Debian's chromium (sudo apt-get install chromium) for the browser test"; fi; }

# The main job: materialise the embedded sample data (its hash matches data.dvc) and run the DVC pipeline.
demo: setup
	$(BIN)/oceanguard samples --out data
	$(BIN)/dvc repro
	@$(BIN)/oceanguard summary

# The API over the demo store (made by `make demo`): http://127.0.0.1:8000 (QGIS: add an OGC API - Features connection to it).
serve: setup
	@test -d artifacts/store || { echo "no demo store at artifacts/store: run make demo first"; exit 1; }
	rm -rf artifacts/serve && mkdir -p artifacts/serve && cp -r artifacts/store artifacts/serve/store   # the pipeline's store stays as DVC made it
	$(BIN)/oceanguard detect artifacts/serve/store --out artifacts/serve/store   # its anomalies table: what the service serves
	$(BIN)/oceanguard serve artifacts/serve/store --models artifacts/models --host 127.0.0.1 --port 8000

# The whole test suite: notebooks (nbdev-test) then pytest.
test: setup browser nbdev-test pytest

nbdev-test: setup
	$(BIN)/nbdev-test --n-workers 2 --timing

pytest: setup
	$(BIN)/python -m pytest -n 2 -q -m "not slow" tests; rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 1; fi; exit $$rc

# The slow tests (whole real day, 1M-sentence NMEA corpus): a separate CI step.
test-slow: setup
	$(BIN)/python -m pytest -n 2 -q -m slow tests

# Notebooks and package agree: nbdev-clean and nbdev-export must leave git clean.
check-sync: setup
	$(BIN)/nbdev-clean
	@git diff --quiet -- nbs || { echo "nbdev-clean changed notebooks: run nbdev-clean and commit"; git status --short nbs; exit 1; }
	$(BIN)/nbdev-export
	@test -z "$$(git status --porcelain -- oceanguard)" || { echo "nbdev-export changed the package: notebooks and oceanguard/ are out of sync"; git status --short oceanguard; exit 1; }

lab: setup
	$(BIN)/jupyter lab

bench: setup
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b --quick || exit 1; done

clean-artifacts:
	rm -rf artifacts

# The installable package: build the wheel (Leaflet assets copied in by setup.py), install it in a fresh venv outside
# the repository and write a report with it.
.PHONY: wheel-check
wheel-check: setup
	$(BIN)/python -m pytest -q tests/test_wheel.py
