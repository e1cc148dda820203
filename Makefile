# The two commands a person needs are `make run` and `make test`; `make setup` is their shared prerequisite.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup run test test-fast browser-deps bench clean typecheck

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

test: setup browser-deps
	$(PY) -m pytest

# Everything but the real-browser tests: the quick loop while developing.
test-fast: setup
	$(PY) -m pytest -m "not browser and not slow"

# Type checks (pyproject.toml [tool.mypy]): strict for the ZStack client and the write path.
typecheck: setup
	$(PY) -m mypy

bench: setup
	$(PY) scripts/bench.py

clean:
	rm -rf $(VENV) node_modules var artifacts
