#!/usr/bin/env bash
# Install the browser test's Python driver (once) and print the folder it is in.
#
# Usage: scripts/browser-deps.sh VENV
#   VENV is the course environment (what scripts/setup-env.sh prints). The packages of
#   scripts/browser-test-requirements.txt (selenium and what it needs beyond requirements.lock)
#   are installed with that environment's pip into a folder of their own,
#       VENV-browser-<first 12 hex digits of sha256(browser-test-requirements.txt)>
#   and that folder's path is printed as the only line on stdout. `make browser-test` puts it
#   on PYTHONPATH for the test run only.
#
# Why a folder of its own, not requirements.lock: the lock's hash names the environment, so
# adding selenium to it would rebuild the 5 GB environment for every student, for a test that
# only maintainers run; and installing into the environment would make it differ from the lock.
# --no-deps installs exactly the pinned packages; the rest of what selenium needs (urllib3,
# certifi ...) is already in the environment at the lock's versions. The folder is filled under
# a temporary name and renamed when complete, so an interrupted install is never used.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REQUIREMENTS="$ROOT/scripts/browser-test-requirements.txt"

log() { printf 'browser-deps: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[[ $# -eq 1 ]] || die "usage: scripts/browser-deps.sh VENV (the path scripts/setup-env.sh prints)"
VENV="${1%/}"
PY="$VENV/bin/python"
[[ -x "$PY" ]] || die "no Python at $PY; run scripts/setup-env.sh first"

sha="$("$PY" -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest()[:12])' "$REQUIREMENTS")"
DEST="$VENV-browser-$sha"
if [[ -d "$DEST" ]]; then
  printf '%s\n' "$DEST"
  exit 0
fi

tmp="$DEST.partial-$$"
trap 'rm -rf "$tmp"' EXIT
log "installing the browser test's driver (selenium) into $DEST"
"$PY" -m pip install --disable-pip-version-check --no-input --quiet --no-deps \
  --target "$tmp" -r "$REQUIREMENTS" >&2 \
  || die "pip could not install $REQUIREMENTS (is PyPI reachable?)"
PYTHONPATH="$tmp" "$PY" -c 'import selenium.webdriver' \
  || die "selenium does not import from $tmp"
# os.rename refuses to replace a non-empty folder: if another run finished first, keep its copy.
"$PY" -c 'import os, sys; os.rename(sys.argv[1], sys.argv[2])' "$tmp" "$DEST" 2>/dev/null \
  || [[ -d "$DEST" ]] || die "could not rename $tmp to $DEST"
printf '%s\n' "$DEST"
