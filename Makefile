# The two commands a person needs are `make run` and `make test`; `make setup` is their shared prerequisite.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
COVERAGE_FLOOR := 89

.PHONY: setup run lint format typecheck test test-fast browser-deps bench clean

setup: $(STAMP)

# Re-install only when a requirements file changed, so `make run` and `make test` stay fast and idempotent.
$(STAMP): requirements.txt requirements-dev.txt scripts/find-python.sh scripts/make-venv.sh
	@scripts/make-venv.sh $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	@touch $(STAMP)

# The browser tests need Debian's chromium (never a downloaded browser) and axe-core from the npm registry.
browser-deps:
	@scripts/ensure-browser-deps.sh

run: setup
	@scripts/run-demo.sh

# The quick check (also the first step of `make test`): ruff's lint rules and the import-linter layer contracts,
# both configured in pyproject.toml. It never rewrites a file.
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

# Rewrites files: ruff's formatter, then its safe lint fixes (import order). Run it before committing.
format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# What CI runs (.ci/run): lint, then the whole suite, browser tests included, with the coverage floor.
# The floor is a few points under the measured total so a change that drops tested code fails the run.
test: setup browser-deps lint typecheck
	$(PY) -m pytest --cov --cov-report=term:skip-covered --cov-fail-under=$(COVERAGE_FLOOR)

# Everything but the real-browser and slow tests: the quick loop while developing, one pytest process per core
# (pytest-xdist). `make test` stays in one process: its browser and production-mode tests time real servers.
test-fast: setup
	$(PY) -m pytest -m "not browser and not slow" -n auto

# Type checks (pyproject.toml [tool.mypy]): strict for the ZStack client and the write path.
typecheck: setup
	$(PY) -m mypy

# Figures, not tests (the suite asserts no timings): the console's pages over ZStack, then the simulator's page query.
bench: setup
	$(PY) scripts/bench.py
	$(PY) -m simulator.bench

clean:
	rm -rf $(VENV) node_modules var artifacts
