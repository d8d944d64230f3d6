# The course's commands. Every target first sets up the locked environment (built once, in a
# cache folder keyed by requirements.lock's hash; see scripts/setup-env.sh), then runs inside it
# with the repository root on PYTHONPATH, so kernels and tests import this checkout's
# course_utils.
#
#   make lab           set up, then open the course in JupyterLab
#   make test          set up, then lint and run every test and notebook (fast mode)
#   make browser-test  set up, then run the notebooks' explorers in JupyterLab in headless
#                      Chromium (needs: apt-get install chromium chromium-driver)
#   make html          set up, then execute every notebook and write HTML copies to build/html/
#   make bench         set up, then time every notebook in fast and full mode
#                      (build/benchmark.json), the SR models' inference (build/inference.json),
#                      unit 04's experiment arm by arm (build/transfer.json), unit 05's
#                      domain by domain (build/crossdomain.json), the evaluation's
#                      memory against image size (build/memory.json), every
#                      restoration method on the held-out photos (build/restoration.json)
#                      and the codecs' RD curves (build/compression.json, .png)
#   make test-bm3d     set up, then add the optional bm3d package (non-commercial licence,
#                      so outside the lock) in build/bm3d and run the tests that use it
#   make lint          set up, then ruff over the code and the notebooks
#   make student       set up, then write student copies of the notebooks to build/student/
#                      (solutions and written answers taken out, outputs cleared)
#   make site          set up, then build the course website in build/site/ (Sphinx and
#                      myst-nb: the notebooks executed, through a cache; COURSE_FAST=1 for
#                      fast mode), failing on a failed cell or a broken internal link
#   make env           set up only, and print the environment's path
#   make clean         delete build/ (HTML copies, benchmark results, screenshots)
#   make help          print this list (also what a bare `make` does)
#
# `make help` prints this list: every line above that starts with "#   make" or, for a
# continued description, with "#" and 8 or more spaces.

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

# JupyterLab settings of `make lab` and `make browser-test` (its overrides.json, see below).
LAB_SETTINGS ?= $(ROOT)/scripts/lab-settings
# make browser-test: extra pytest arguments, e.g. BROWSER_TEST_ARGS="-k 02_quality"
BROWSER_TEST_ARGS ?=
# JupyterLab refuses to start as root ("Running as root is not recommended. Use --allow-root
# to bypass."), which is how containers and many cloud machines run; there the user is root
# on purpose, so pass --allow-root when the user id is 0 (and only then).
ALLOW_ROOT = $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: help env lab test test-bm3d browser-test lint html student site bench clean

help:
	@sed -n -e 's/^#   make /make /p' -e 's/^#   \(      *\)/\1/p' Makefile

env:
	@$(SETUP)

# --LabApp.app_settings_dir: JupyterLab reads its default settings from overrides.json there.
# Ours turns "comms over kernel subshells" off: with it on (JupyterLab >= 4.4, ipykernel >= 7)
# a widget's callback runs on a second kernel thread while the main one may also draw with
# matplotlib, which is not thread-safe, and an explorer's figure came out blank at the first
# change after Run All (jupyterlab/jupyterlab#19719; tests/browser shows it). A setting the
# user chose in JupyterLab's Settings Editor still wins over these defaults.
lab:
	@$(IN_ENV) jupyter lab --LabApp.app_settings_dir="$(LAB_SETTINGS)" $(ALLOW_ROOT) $(LAB_ARGS) \
	notebooks/00_welcome.ipynb

# One pytest run: tests/*.py and, through nbval, every notebook. COURSE_FAST is exported (not set
# on one command only) so that the notebook kernels inherit it.
test:
	@$(IN_ENV) export COURSE_FAST=1; \
	ruff check .; \
	python -m pytest $(wildcard tests notebooks) --nbval-lax --nbval-current-env -p no:cacheprovider

# The explorers in a real browser: tests/browser starts JupyterLab as `make lab` does and
# drives it with selenium in headless Chromium (fast mode; screenshots in build/browser/).
# selenium is not in the lock: scripts/browser-deps.sh installs it once into a folder of its
# own, put on PYTHONPATH for this run only. COURSE_BROWSER_REQUIRED=1 makes a missing Chromium
# fail the target instead of skipping the test. LAB_SETTINGS=/some/empty/folder runs it without
# our JupyterLab settings, to see the bug they avoid.
browser-test:
	@$(IN_ENV) driver="$$(bash scripts/browser-deps.sh "$$venv")"; \
	export PYTHONPATH="$$PYTHONPATH:$$driver" COURSE_FAST=1 COURSE_BROWSER_REQUIRED=1 \
	COURSE_LAB_SETTINGS="$(LAB_SETTINGS)"; \
	python -m pytest tests/browser -p no:cacheprovider $(BROWSER_TEST_ARGS)

lint:
	@$(IN_ENV) ruff check .

# Executes each notebook headless (cwd = notebooks/) and renders it; honours COURSE_FAST if set.
# A failing notebook does not stop the others; the target fails at the end. (Not `jupyter
# nbconvert --execute`: its ipywidgets Output emulation can hang on the explorers, see
# scripts/nbrun.py.)
html:
	@$(IN_ENV) python scripts/build_html.py --output-dir build/html --timeout $(CELL_TIMEOUT)

# One source: solution cells are tagged "solution", written answers are <details> blocks
# (scripts/make_student.py); tests/test_student.py runs every copy top to bottom.
student:
	@$(IN_ENV) python scripts/make_student.py --output-dir build/student

# The website: docs/site/conf.py says what it holds and why Sphinx with myst-nb. Executed
# notebooks are cached in build/jupyter_cache/{fast,full}: an unchanged notebook is not re-run.
site:
	@$(IN_ENV) sphinx-build -W --keep-going -q -b html -c docs/site . build/site
	@echo "site: build/site/index.html"

# The bm3d package and its bm4d engine, pinned here and not in requirements.lock: their licence
# allows non-commercial use only, so `make lab` and `make test` never install them.
BM3D_PINS := bm3d==4.0.3 bm4d==4.2.5

# Without the package index (offline) the install fails: then say so and skip, as the tests
# that need bm3d skip in `make test`.
test-bm3d:
	@$(IN_ENV) if python -m pip install --quiet --no-deps --target build/bm3d $(BM3D_PINS); \
	then PYTHONPATH="$$PYTHONPATH:$(ROOT)/build/bm3d" python -m pytest tests/test_classical.py \
	  -k bm3d -p no:cacheprovider -q; \
	else echo "test-bm3d: could not install $(BM3D_PINS) (no package index?); the BM3D tests" \
	  "did not run" >&2; fi

bench:
	@$(IN_ENV) mkdir -p build; \
	python benchmarks/notebooks.py $(BENCH_ARGS) --json build/benchmark.json; \
	python benchmarks/inference.py --json build/inference.json; \
	python benchmarks/transfer.py --json build/transfer.json; \
	python benchmarks/crossdomain.py --joint --json build/crossdomain.json; \
	python benchmarks/memory.py --json build/memory.json; \
	python benchmarks/restoration.py --json build/restoration.json; \
	python benchmarks/compression.py --json build/compression.json --figure build/compression.png

clean:
	rm -rf build
