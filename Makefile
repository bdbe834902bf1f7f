# Everything a new machine needs, from nothing but python3 (plus the other Pythons to test on).
#   make test          ruff, mypy --strict and the docs build once, then pytest on every Python in
#                      PYTHONS (3.11, 3.12 and 3.13), each in a venv of its own
#   make pytest-3.12   pytest on one Python
#   make coverage      line and branch coverage of intercom_async, CLI subprocesses included
#   make mutate        mutation testing of MUTATE_MODULES with mutmut, scored per module
#   make demo          fetch tickets from a local fake Intercom, with progress
#   make bench         the bulk-fetch benchmark: medians of 5 interleaved rounds, import times,
#                      peak RSS at 2k vs 20k ids (docs/performance.md)
#
# Interpreters: for version 3.X, $PYTHON3X if set, else python3.X, else python3 if it is 3.X,
# else pyenv's versions/3.X.*/bin/python3.X (tools/find-python). A missing one fails `make test`;
# to leave one out on purpose: PYTHONS="3.11 3.12" make test. Under CI=true every supported
# Python is tested, whatever PYTHONS says.

MAKEFLAGS += --no-builtin-rules
.SUFFIXES:
# One thing at a time, even under -j: the test suites time rate-limit windows and backoffs, and
# two of them side by side on a small machine could fail for want of CPU.
.NOTPARALLEL:

SUPPORTED_PYTHONS := 3.11 3.12 3.13
PYTHONS ?= $(SUPPORTED_PYTHONS)
ifeq ($(CI),true)
override PYTHONS := $(SUPPORTED_PYTHONS)
endif

# .venv is the main venv (lint, types, docs, demo, coverage, mutate), made from $(PYTHON); it
# also runs pytest for its own version. Every other version gets .venv-3.X.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
MAIN_VERSION := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
venv_of = $(if $(filter $(MAIN_VERSION),$(1)),$(VENV),.venv-$(1))

# What the venvs install: the main one builds the docs too; the others only run the tests.
# arq (the arq example's test) pins redis-py below 6: in the main venv only, so that the others
# test the newest redis-py.
MAIN_EXTRAS := test,cli,docs,redis,arq
TEST_EXTRAS := test,cli,redis

# Mutation testing: the modules whose mutants are run and scored. Add a module here when the
# core is split (e.g. intercom_async/_pacer.py). [tool.mutmut] in pyproject.toml says which
# tests run (and why); tools/mutation_score.py scores the results.
MUTATE_MODULES ?= intercom_async/_ratelimit.py intercom_async/_skew.py \
                  intercom_async/_pacer.py intercom_async/_protocol.py \
                  intercom_async/_retry.py intercom_async/_bulk.py intercom_async/_shared.py \
                  intercom_async/_limits.py
MUTATE_SURVIVORS ?= mutants/survivors.txt
# Mutants tested at once (mutmut's default is one per core). The tests mostly wait on timers
# (rate-limit windows, backoffs), and a mutant that hangs a test sleeps until that test's 60 s
# timeout (pytest-timeout, [tool.mutmut] in pyproject.toml), so ten at once keep two cores busy.
# `make mutate` of the eight modules (1,873 mutants) took 32 minutes on 2 cores with ten.
MUTATE_JOBS ?= 10

.PHONY: test venvs check-pythons redis-server lint typecheck pytest no-python docs coverage mutate \
        demo bench clean

# make_venv DIR, VERSION, INTERPRETER (a shell word), EXTRAS: (re)create DIR unless its python
# runs and is VERSION, then install the project into it, editable, with EXTRAS.
define make_venv
	@if ! $(1)/bin/python -c 'import sys; sys.exit("%d.%d" % sys.version_info[:2] != "$(2)")' \
	        2>/dev/null; then \
	    py=$(3) && echo "creating $(1) with $$py" && "$$py" -m venv --clear $(1); \
	fi
	$(1)/bin/python -m pip install --quiet --upgrade pip
	$(1)/bin/python -m pip install --quiet -e '.[$(4)]'
	touch $(1)/.installed
endef

$(STAMP): pyproject.toml
	$(call make_venv,$(VENV),$(MAIN_VERSION),$(PYTHON),$(MAIN_EXTRAS))

.PRECIOUS: .venv-%/.installed
.venv-%/.installed: pyproject.toml
	$(call make_venv,.venv-$*,$*,"$$(tools/find-python $*)",$(TEST_EXTRAS))

# Every venv that PYTHONS needs (named here, so that make keeps their stamps).
venvs: $(foreach v,$(PYTHONS),$(call venv_of,$(v))/.installed)

# The lint, types and docs go first (they are quicker), then pytest on each Python in turn.
test: check-pythons redis-server lint typecheck docs $(addprefix pytest-,$(PYTHONS))

check-pythons:
	@tools/find-python --check $(PYTHONS)

# Debian's redis-server for the Redis tests, where this machine allows (root and apt-get);
# elsewhere they skip. INSTALL_REDIS=no skips the install.
redis-server:
	@tools/ensure-redis-server

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir site

# pytest on the main venv's Python only.
pytest: $(if $(MAIN_VERSION),pytest-$(MAIN_VERSION),no-python)

no-python:
	@echo "$(PYTHON) does not run: set PYTHON=/path/to/python3 (3.11 or newer)" >&2; exit 1

# (A pattern rule, not a phony target, so that any version in PYTHONS has one.)
.SECONDEXPANSION:
pytest-%: $$(call venv_of,$$*)/.installed
	@echo "=== pytest on Python $* ($(call venv_of,$*)) ==="
	$(call venv_of,$*)/bin/pytest

# coverage starts before pytest loads its plugins (our pytest11 entry point imports the package,
# which `pytest --cov` would miss), follows the CLI tests' subprocesses and measures branches:
# [tool.coverage] in pyproject.toml.
coverage: $(STAMP)
	rm -f .coverage .coverage.*
	$(BIN)/coverage run -m pytest
	$(BIN)/coverage combine --quiet
	$(BIN)/coverage report
	@$(BIN)/coverage json --quiet -o - | $(BIN)/python tools/coverage_totals.py

# A fresh mutmut run each time (its stats of which test reaches which function are redone too),
# on the mutants of MUTATE_MODULES only; then the score per module, setting aside mutants that
# only change the wording of a message, and the surviving mutants' diffs in MUTATE_SURVIVORS.
mutate: $(VENV)/.installed-mutate
	rm -rf mutants
	$(BIN)/mutmut run --max-children $(MUTATE_JOBS) \
	    $(foreach m,$(MUTATE_MODULES),'$(subst /,.,$(basename $(m))).*')
	$(BIN)/python tools/mutation_score.py --survivors $(MUTATE_SURVIVORS) $(MUTATE_MODULES)

$(VENV)/.installed-mutate: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[$(MAIN_EXTRAS),mutate]'
	touch $@

demo: $(STAMP)
	$(BIN)/intercom-async demo

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'   # the official SDK, to compare with
	$(BIN)/python benchmarks/bulk_fetch.py --json bench.json
	$(BIN)/python benchmarks/bulk_fetch.py --observe   # no observer, OTel API alone, OTel SDK
	$(BIN)/python benchmarks/bulk_fetch.py --memory

clean:
	rm -rf $(VENV) .venv-* site mutants .mypy_cache .pytest_cache .ruff_cache .hypothesis \
	    .coverage .coverage.*
