# multistore developer commands. `make help` lists them.
# `make demo` and `make test` create .venv with the machine's python3 when it is missing.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help install demo test test-fast lint typecheck docs docs-serve bench clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install multistore with its dev tools

demo: $(STAMP) ## Run the demo chain on the embedded SQLite default (multistore-demo.db)
	$(VENV)/bin/multistore demo

test: $(STAMP) ## Run the whole test suite (PostgreSQL/Redis tests need MULTISTORE_TEST_*_URL)
	$(PY) -m pytest -n 2 $(PYTEST_ARGS)

lint: $(STAMP) ## ruff, mypy --strict and the import-linter architecture contracts
	$(VENV)/bin/ruff check src tests benchmarks examples
	$(VENV)/bin/ruff format --check src tests benchmarks examples
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

typecheck: $(STAMP) ## mypy --strict only
	$(VENV)/bin/mypy

docs: $(STAMP) ## Build the documentation site with mkdocs --strict
	$(VENV)/bin/mkdocs build --strict --site-dir site

docs-serve: $(STAMP) ## Serve the docs locally with live reload
	$(VENV)/bin/mkdocs serve

bench: $(STAMP) ## Run every benchmark module; prints ratios against in-run baselines
	$(PY) -m benchmarks $(BENCH_ARGS)

clean: ## Remove the virtual environment, caches and build output
	rm -rf $(VENV) site .pytest_cache .mypy_cache .ruff_cache .hypothesis multistore-demo.db*
