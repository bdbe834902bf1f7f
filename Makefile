# Everything a new machine needs, from nothing but python3.
#   make test   set up .venv, then ruff, mypy --strict, pytest and the docs site build
#   make demo   set up .venv, then fetch tickets from a local fake Intercom, with progress
#   make bench  the bulk-fetch benchmark (see README, "Performance")

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: test lint typecheck pytest docs demo bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,cli,docs]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir site

test: lint typecheck pytest docs

demo: $(STAMP)
	$(BIN)/intercom-async demo

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'   # the official SDK, to compare with
	$(BIN)/python benchmarks/bulk_fetch.py

clean:
	rm -rf $(VENV) site .mypy_cache .pytest_cache .ruff_cache .hypothesis
