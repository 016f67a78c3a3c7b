# SoleFlipper: `make run` (whole pipeline on demo data) and `make test`. Nothing else needed:
# the targets create the virtual environment, install the pinned stack and start PostgreSQL.
SHELL := /bin/bash
# The interpreter that creates the venv (found before the venv's bin goes first on PATH).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PYTHON := $(PYTHON)
BIN := $(CURDIR)/$(VENV)/bin
UV_VERSION := 0.13.9
# dagster-dbt looks for `dbt` on PATH: put the venv's bin first.
export PATH := $(BIN):$(PATH)
export UV_PYTHON_DOWNLOADS := never
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

# uv lives in the venv itself (and in requirements.lock, so `uv pip sync` keeps it).
UV := $(BIN)/uv
STAMP := $(VENV)/.installed
MANIFEST := dbt_project/target/manifest.json
DBT_FILES := $(shell find dbt_project \( -path dbt_project/target -o -path dbt_project/logs \) -prune -o \( -name '*.sql' -o -name '*.yml' -o -name '*.csv' \) -print 2>/dev/null)

.PHONY: run test browser dev install lock setup db-start db-stop db-status db-url dbt-build dbt-docs dbt-docs-serve lint smoke clean help

help:
	@echo "make run     set up and run the whole pipeline on demo data, then print a summary"
	@echo "make test    set up and run the test suite"
	@echo "make dev     start the Dagster UI on http://127.0.0.1:3000 (same instance as make run)"
	@echo "make db-start / db-stop / db-status / db-url   the project-local PostgreSQL"
	@echo "make dbt-build   dbt build against the warehouse;  make lint   ruff + sqlfluff"
	@echo "make dbt-docs    the dbt docs site as one file (dbt_project/target/static_index.html)"
	@echo "make dbt-docs-serve   the dbt docs site on http://127.0.0.1:8080"

$(UV):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# requirements.lock pins the whole dependency tree with hashes (`make lock` regenerates it).
$(STAMP): pyproject.toml requirements.lock | $(UV)
	$(UV) pip sync --quiet --python $(BIN)/python --require-hashes requirements.lock
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $@

lock: | $(UV)
	$(UV) pip compile pyproject.toml --group dev --python-version 3.11 --generate-hashes --quiet -o requirements.lock

$(MANIFEST): $(STAMP) $(DBT_FILES)
	cd dbt_project && $(BIN)/dbt parse --quiet --profiles-dir .

install: $(STAMP) $(MANIFEST)

setup: install
	$(BIN)/soleflipper setup

run: install
	$(BIN)/soleflipper run

# Two pytest-xdist workers (TEST_WORKERS=0: one process): the suite waits on dbt, PostgreSQL and
# subprocesses as much as it computes. A file's tests stay together (tests/conftest.py).
TEST_WORKERS ?= 2
test: install browser
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

# The browser test (tests/e2e/test_dagster_ui_browser.py) drives headless Chromium. Install
# Debian's chromium when it is missing and apt-get is usable as root; otherwise a one-line note
# (the test then skips, saying why). Never fails the build.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian chromium for the browser test (apt-get)..."; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	        --no-install-recommends chromium fonts-liberation; } >/dev/null 2>&1 \
	      || echo "note: apt-get could not install chromium: the browser test will be skipped"; \
	  else \
	    echo "note: no chromium and no apt-get as root: the browser test will be skipped"; \
	  fi; }

dev: install
	$(BIN)/soleflipper dev

db-start: install
	$(BIN)/soleflipper db start
db-stop: install
	$(BIN)/soleflipper db stop
db-status: install
	$(BIN)/soleflipper db status
db-url: install
	@$(BIN)/soleflipper db-url

dbt-build: setup
	$(BIN)/soleflipper dbt build

# Docs with the warehouse's catalog (column types, row counts): one self-contained HTML file
# to open in a browser or share; `make dbt-docs-serve` serves the same site locally.
DOCS := dbt_project/target/static_index.html
dbt-docs: setup
	$(BIN)/soleflipper dbt docs generate --static
	@echo "dbt docs: $(CURDIR)/$(DOCS)"

dbt-docs-serve: dbt-docs
	$(BIN)/soleflipper dbt docs serve --host 127.0.0.1 --port 8080 --no-browser

lint: install
	$(BIN)/ruff check .
	cd dbt_project && $(BIN)/sqlfluff lint models tests

# End-to-end smoke test against an existing server: CI sets SOLEFLIPPER_TEST_DATABASE_URL to
# the PostgreSQL 15 service on :5432 (the oldest version we support).
smoke: install
	$(BIN)/pytest -q tests/e2e/test_cli.py tests/integration/test_warehouse_loader.py

# Benchmarks, written to benchmarks/RESULTS.md (not part of `make test`; BENCH_ARGS="--quick" or
# "--cases ingest" to narrow). The server: SOLEFLIPPER_DATABASE_URL, else the local cluster. dlt,
# which the ingest case measures against, installs from its own lock, only here; regenerate it with
#   uv pip compile pyproject.toml --group bench -c requirements.lock --python-version 3.11 --generate-hashes -o benchmarks/requirements-bench.lock
.PHONY: bench
bench: install
	$(UV) pip install --quiet --python $(BIN)/python --require-hashes -r benchmarks/requirements-bench.lock
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) dbt_project/target dbt_project/logs .pytest_cache
