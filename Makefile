# CSM Certify. `make run` serves the app; `make test` runs the whole suite on SQLite and PostgreSQL.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi
PG_DIR := $(shell echo $${TMPDIR:-/tmp})/csm-certify-pg-$(shell id -u)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# The suite runs in parallel (pytest-xdist), one worker a CPU up to six; each worker has a
# database of its own. `make test PYTEST_WORKERS=0` runs it in one process.
PYTEST_WORKERS ?= $(shell n=$$(nproc); [ $$n -gt 6 ] && n=6; echo $$n)
PYTEST := $(BIN)/pytest -n $(PYTEST_WORKERS)

.PHONY: help run test lint test-sqlite test-later test-postgres bench system-deps migration clean

help:
	@echo "make run     set up and serve the app on http://127.0.0.1:5000 (SQLite in instance/)"
	@echo "make test    lint, the suite on SQLite, again three years ahead (faketime), and on PostgreSQL 15"
	@echo "make bench   run the benchmarks and print their tables"

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstalled whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

run: export PUBLIC_BASE_URL ?= http://127.0.0.1:5000
run: $(VENV)/.installed
	$(BIN)/flask init-db
	$(BIN)/flask demo-data
	$(BIN)/flask run --host 127.0.0.1 --port 5000

# Debian packages the tests need: Chromium for the browser tests, PostgreSQL 15, faketime for
# the date-moved run, wrk for benchmarks, Node.js for the independent credential verifier.
system-deps:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v faketime >/dev/null || missing="$$missing faketime"; \
	[ -x /usr/lib/postgresql/15/bin/initdb ] || missing="$$missing postgresql-15"; \
	command -v wrk >/dev/null || missing="$$missing wrk"; \
	command -v node >/dev/null || missing="$$missing nodejs npm"; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

# A type error fails the build like a lint error (mypy's settings are in pyproject.toml).
lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/mypy

test-sqlite: $(VENV)/.installed-test system-deps node-deps
	$(PYTEST)

# The suite without the browser tests, on a machine clock three years ahead: a test that
# depends on today's date (rather than the test clock) fails here long before the calendar
# catches up with it. Monotonic clocks stay real, so timed waits still end. The API fuzz is
# left out to keep this run under two minutes: it drives the routes the other tests cover.
# So is the test of limits shared through Redis across gunicorn workers: those servers run
# on the machine's clock, which faketime would move under them.
test-later: $(VENV)/.installed-test system-deps
	FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -f +3y $(PYTEST) -p no:cacheprovider \
		-m "not browser" --ignore=tests/core/test_api_contract.py \
		--ignore=tests/core/test_shared_limits.py

test-postgres: $(VENV)/.installed-test system-deps node-deps
	@set -e; \
	url=$$(scripts/postgres-cluster.sh start $(PG_DIR)); \
	trap 'scripts/postgres-cluster.sh stop $(PG_DIR)' EXIT; \
	echo "PostgreSQL test cluster at $$url"; \
	TEST_POSTGRES=1 TEST_DATABASE_URL=$$url $(PYTEST)

test: lint test-sqlite test-later test-postgres

bench: $(VENV)/.installed-test system-deps
	$(BIN)/python bench/run.py
	$(BIN)/python bench/item_import.py
	$(BIN)/python bench/exam_assembly.py
	$(BIN)/python bench/exam_autosave.py
	$(BIN)/python bench/exam_page.py
	$(BIN)/python bench/exam_start_spike.py
	$(BIN)/python bench/exam_fault.py
	$(BIN)/python bench/exam_start_spike.py --database postgres --servers 2
	$(BIN)/python bench/exam_start_spike.py --database postgres --servers 2 --candidates 3000 --aim-s 5
	$(BIN)/python bench/exam_autosave.py --database postgres
	$(BIN)/python bench/exam_fault.py --database postgres --servers 2
	$(BIN)/python bench/grading.py
	$(BIN)/python bench/calibration.py
	$(BIN)/python bench/certificate_verify.py
	$(BIN)/python bench/accreditation_queue.py
	$(BIN)/python bench/test_centre.py

# The independent Node verifier of issued credentials (tests/verifiers/node/README.md);
# reinstalled whenever its package-lock.json changes.
tests/verifiers/node/node_modules/.installed: tests/verifiers/node/package-lock.json
	cd tests/verifiers/node && npm ci --no-audit --no-fund --silent
	touch $@

# axe-core, which the accessibility test injects into every page (tests/browser/axe).
tests/browser/axe/node_modules/.installed: tests/browser/axe/package-lock.json
	cd tests/browser/axe && npm ci --no-audit --no-fund --silent
	touch $@

.PHONY: node-deps
node-deps: tests/verifiers/node/node_modules/.installed tests/browser/axe/node_modules/.installed

# make migration m="what changed"
migration: $(VENV)/.installed
	$(BIN)/alembic revision --autogenerate -m "$(m)"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
