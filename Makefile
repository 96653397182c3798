# PPAS — the two commands: `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PPAS := $(VENV)/bin/ppas
PYTEST := $(VENV)/bin/pytest
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PYTHON ?= python3

.PHONY: run test install install-test system-test-deps migrate demo serve test-sqlite test-postgres schema guides mutation mutation-report

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(PY) pyproject.toml
	$(PY) -m pip install --quiet -e .
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

install: $(VENV)/.installed node_modules/.installed

migrate: install
	$(PPAS) migrate

demo: migrate
	$(PPAS) demo

serve: install
	$(PPAS) serve --host 127.0.0.1 --port 8000

## make run: install, migrate var/ppas.sqlite3, load the demo, serve http://127.0.0.1:8000
run: demo serve

# The portal runs in production unless told otherwise; these targets serve the demo over
# plain http on the loopback, so they say development (cookies without Secure, the mail page).
run demo serve migrate: export PPAS_DEVELOPMENT = 1

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

system-test-deps:
	@if ! command -v chromium >/dev/null || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  echo "Installing chromium and postgresql (Debian packages)"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium postgresql >/dev/null; \
	fi

install-test: install $(VENV)/.installed-test system-test-deps

# pytest exits 5 when it collected no test: for this suite that is a failure, said plainly.
define run_pytest
	@echo "=== test suite on $(1) ==="
	@PPAS_TEST_DATABASE=$(1) $(PYTEST) $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no test on $(1): failing"; exit 1; fi; exit $$rc
endef

test-sqlite: install-test
	$(call run_pytest,sqlite)

test-postgres: install-test
	$(call run_pytest,postgres)

## make test: install test needs, run the whole suite on SQLite, then on PostgreSQL
test: install-test
	$(call run_pytest,sqlite)
	$(call run_pytest,postgres)

schema: install
	$(PPAS) export-schema

## make guides: retake the guides' screenshots from the real pages into static/guides/ (commit them)
guides: install-test
	@PPAS_GUIDES=1 PPAS_TEST_DATABASE=sqlite $(PYTEST) -m browser -q tests/browser/test_guide_screenshots.py

## make mutation: mutmut over ppas/domain against tests/domain, one module at a time, and the
## score per module (not part of make test). MODULES=periods,file_names re-runs a subset and
## keeps the other modules' results; make mutation-report prints the table of the last runs.
## bench/mutation_equivalents.txt lists the survivors that no test can tell from the original.
MODULES ?=
MUTATION_CHILDREN ?= 2
mutation: $(VENV)/.installed-test
	$(if $(MODULES),,rm -rf mutants)
	$(PY) bench/mutation_score.py --modules "$(MODULES)" --max-children $(MUTATION_CHILDREN)

mutation-report: $(VENV)/.installed-test
	$(PY) bench/mutation_score.py --report-only --survivors
