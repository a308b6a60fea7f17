# SPDX-License-Identifier: Apache-2.0
# Developer commands. `make dev-setup` once, then `make test`; see README.md.

VENV ?= .venv
# The virtualenv's interpreter: the Python the Docker image ships (3.12) where the machine has
# it, so that the whole suite runs on what production runs and coverage measures through
# sys.monitoring (3.12+) at a fraction of its line tracer's cost; else python3. The unit
# tests also run on every other supported Python (make test-matrix).
PYTHON ?= $(or $(shell bash .ci/python-for.sh 3.12),python3)
BIN := $(VENV)/bin
PY := $(BIN)/python
SOURCES := bot cogs migrations tests benchmarks
# The test PostgreSQL; `make test` starts the machine's cluster and creates this role.
export HELIOS_TEST_POSTGRES_URL ?= postgresql://helios:helios@127.0.0.1:5432/postgres
MATRIX ?= 3.11 3.12 3.13

.PHONY: dev-setup venv hooks test test-quick test-matrix lint lint-fix security pr-ready run \
	sandbox migrate postgres clean

dev-setup: venv hooks tests/schemas/node_modules/.installed

venv: $(VENV)/.installed

# uv installs the project in seconds where pip takes half a minute (CI makes three of these).
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip uv
	$(VENV)/bin/uv pip install --quiet --python $(PY) -e '.[dev]'
	touch $@

# ruff, ruff format and the SPDX check before every commit (.ci/pre-commit.sh).
hooks:
	@bash .ci/install-hooks.sh $(VENV)

# GitHub's published webhook schemas and REST API description, which the simulator's payloads
# and answers are checked against (Discord's description is in tests/schemas/discord/).
tests/schemas/node_modules/.installed: tests/schemas/package-lock.json
	npm ci --prefix tests/schemas --no-audit --no-fund --silent
	touch $@

postgres:
	@bash .ci/postgres.sh

# One worker per core: every test has its own database, directory and ports. Tests marked
# xdist_group share a worker (tests/e2e/test_pairing_restarts.py: one month played once per
# database, for two tests); the others are spread one by one.
test: dev-setup postgres
	COVERAGE_CORE=$$($(PY) -c 'import sys; print("sysmon" if sys.version_info >= (3, 12) else "ctrace")') \
		$(PY) -m pytest -n auto --dist loadgroup --cov --cov-report=term -q

# Unit tests need neither node (the webhook schemas) nor PostgreSQL.
test-quick: venv
	$(PY) -m pytest tests/unit -q -p no:cacheprovider

# The main virtualenv serves its own Python version; the others get one each.
test-matrix: venv
	@main=$$($(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])'); \
	for version in $(MATRIX); do \
		interpreter=$$(bash .ci/python-for.sh $$version); \
		if [ -z "$$interpreter" ]; then \
			echo "python$$version not found"; [ -n "$$CI" ] && exit 1; continue; \
		fi; \
		venv=.venv-$$version; [ "$$version" = "$$main" ] && venv=$(VENV); \
		if [ "$$version" = "$$main" ] && [ -n "$(MATRIX_SKIP_MAIN)" ]; then \
			echo "== unit tests on Python $$version: run by make test"; continue; \
		fi; \
		echo "== unit tests on $$($$interpreter --version)"; \
		$(MAKE) --no-print-directory VENV=$$venv PYTHON=$$interpreter venv && \
		$$venv/bin/python -m pytest tests/unit -n auto -q -p no:cacheprovider || exit 1; \
	done

lint: dev-setup
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/ruff format --check $(SOURCES)
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(PY) .ci/check_spdx.py

lint-fix: dev-setup
	$(BIN)/ruff check --fix $(SOURCES)
	$(BIN)/ruff format $(SOURCES)

# B101: asserts here only narrow types for mypy; input is validated with real errors.
security: dev-setup
	$(BIN)/bandit -q -r bot cogs -x bot/sandbox -s B101
	@bash .ci/pip-audit.sh $(BIN)

pr-ready: lint security test

run: dev-setup
	$(BIN)/helios-bot run

# Trying the bot needs only the virtualenv. SCRIPT=examples/first-week.toml plays a scenario
# and exits; CONFIG=config.toml dry-runs an organiser's configuration.
sandbox: venv
	$(BIN)/helios-bot sandbox $(if $(SCRIPT),--script $(SCRIPT)) $(if $(CONFIG),--config $(CONFIG))

migrate: dev-setup
	$(BIN)/helios-bot migrate

clean:
	rm -rf $(VENV) .venv-3.* .coverage .coverage.* .pytest_cache .mypy_cache .ruff_cache
