# The course's commands. Every target first sets up the locked environment (built once, in a
# cache folder keyed by requirements.lock's hash; see scripts/setup-env.sh), then runs inside it
# with the repository root on PYTHONPATH, so kernels and tests import this checkout's
# course_utils.
#
#   make lab     set up, then open the course in JupyterLab
#   make test    set up, then lint and run every test and notebook (fast mode)
#   make html    set up, then execute every notebook and write HTML copies to build/html/
#   make bench   set up, then time every notebook in fast and full mode (build/benchmark.json),
#                the SR models' inference (build/inference.json), unit 04's experiment
#                arm by arm (build/transfer.json) and unit 05's domain by domain
#                (build/crossdomain.json)
#   make lint    set up, then ruff over the code and the notebooks
#   make env     set up only, and print the environment's path

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

ROOT := $(CURDIR)
SETUP := bash "$(ROOT)/scripts/setup-env.sh"
LAB_ARGS ?=
BENCH_ARGS ?= --mode both
# make html: seconds a single cell may run before it counts as hung
CELL_TIMEOUT ?= 1800

# Prefix of every recipe: set up, then put the environment first on PATH.
# JUPYTER_PREFER_ENV_PATH makes Jupyter use the environment's kernel ("python3") before any
# user-wide kernel of that name; JUPYTER_PLATFORM_DIRS silences a migration warning.
IN_ENV = venv="$$($(SETUP))"; \
	export VIRTUAL_ENV="$$venv" PATH="$$venv/bin:$$PATH" \
	PYTHONPATH="$(ROOT)$${PYTHONPATH:+:$$PYTHONPATH}" \
	JUPYTER_PREFER_ENV_PATH=1 JUPYTER_PLATFORM_DIRS=1;

.PHONY: help env lab test lint html bench clean

help:
	@sed -n 's/^#   make /make /p' Makefile

env:
	@$(SETUP)

lab:
	@$(IN_ENV) jupyter lab $(LAB_ARGS) notebooks/00_welcome.ipynb

# One pytest run: tests/*.py and, through nbval, every notebook. COURSE_FAST is exported (not set
# on one command only) so that the notebook kernels inherit it.
test:
	@$(IN_ENV) export COURSE_FAST=1; \
	ruff check .; \
	python -m pytest $(wildcard tests notebooks) --nbval-lax --nbval-current-env -p no:cacheprovider

lint:
	@$(IN_ENV) ruff check .

# Executes each notebook headless (cwd = notebooks/) and renders it; honours COURSE_FAST if set.
# A failing notebook does not stop the others; the target fails at the end. (Not `jupyter
# nbconvert --execute`: its ipywidgets Output emulation can hang on the explorers, see
# scripts/nbrun.py.)
html:
	@$(IN_ENV) python scripts/build_html.py --output-dir build/html --timeout $(CELL_TIMEOUT)

bench:
	@$(IN_ENV) mkdir -p build; \
	python benchmarks/notebooks.py $(BENCH_ARGS) --json build/benchmark.json; \
	python benchmarks/inference.py --json build/inference.json; \
	python benchmarks/transfer.py --json build/transfer.json; \
	python benchmarks/crossdomain.py --joint --json build/crossdomain.json

clean:
	rm -rf build
