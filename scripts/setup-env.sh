#!/usr/bin/env bash
# Set up the course's Python environment (once) and print its path.
#
# Usage: scripts/setup-env.sh [--print-path | --check | --help]
#   (no option)    build the environment if it is missing or incomplete, then print its path
#                  as the only line on stdout (progress and pip output go to stderr), e.g.
#                      venv="$(scripts/setup-env.sh)" && "$venv/bin/jupyter" lab
#   --print-path   print the path the environment has (or will have); build nothing
#   --check        exit 0 if the environment is complete, 1 if not; build nothing
#
# Where it lives: a virtual environment built from requirements.lock, in a cache folder keyed by
# the lock's hash, shared by every clone of the course on this machine:
#     ${COURSE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tl-recon-course}/venv-<12 hex of sha256(lock)>
# COURSE_VENV=PATH overrides the whole path. COURSE_PYTHON picks the interpreter it is built
# with (default: python3, or python3.11 ... python3.13 if python3 is older than the lock needs).
# COURSE_LOCK_FILE installs another lock file (used by the tests).
#
# Why it is built in place: a virtual environment is not relocatable (pip writes its absolute
# path into the scripts' shebangs: jupyter, pytest, ruff ...), so building it elsewhere and
# renaming it would leave broken scripts. Instead it is built at its final path with a
# ".course-env-building" file in it, and ".course-env-complete" (holding the lock's hash) is
# written last. Only a folder with the complete marker, matching hash, no building marker and a
# working interpreter is used; any other folder this script made is deleted and rebuilt, so an
# interrupted build never passes for a finished one. A lock folder (<path>.lock) serialises
# concurrent set-ups; one left by a dead process is removed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCK="${COURSE_LOCK_FILE:-$ROOT/requirements.lock}"
COMPLETE=.course-env-complete
BUILDING=.course-env-building

log() { printf 'setup-env: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; }

mode=ensure
case "${1:-}" in
  "") ;;
  --print-path) mode=print ;;
  --check) mode=check ;;
  -h | --help) usage; exit 0 ;;
  *) usage >&2; exit 2 ;;
esac

# A PYTHONHOME or PYTHONPATH from the caller must not leak into the build.
unset PYTHONHOME PYTHONPATH

[[ -f "$LOCK" ]] || die "lock file not found: $LOCK"

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d' ' -f1
  else
    python3 -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$1"
  fi
}

LOCK_SHA="$(sha256_of "$LOCK")"
CACHE_DIR="${COURSE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tl-recon-course}"
VENV="${COURSE_VENV:-$CACHE_DIR/venv-${LOCK_SHA:0:12}}"
[[ "$VENV" == /* ]] || VENV="$PWD/$VENV"
VENV="${VENV%/}"

is_complete() {
  [[ -f "$VENV/$COMPLETE" && ! -e "$VENV/$BUILDING" ]] || return 1
  grep -qx "lock-sha256=$LOCK_SHA" "$VENV/$COMPLETE" || return 1
  # The interpreter the environment links to must still exist.
  "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1
}

case "$mode" in
  print) printf '%s\n' "$VENV"; exit 0 ;;
  check) is_complete; exit $? ;;
esac

if is_complete; then  # the common case: instant
  printf '%s\n' "$VENV"
  exit 0
fi

# ---------------------------------------------------------------------------------------------
# Build. First take the lock, so that two set-ups (make lab and make test at once) do not build
# into the same folder.
LOCKDIR="$VENV.lock"
have_lock=0
build_started=0
build_finished=0
cleanup() {
  if ((build_started && !build_finished)); then
    log "build did not finish; removing the incomplete $VENV"
    rm -rf "$VENV"
  fi
  if ((have_lock)); then rm -rf "$LOCKDIR"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$(dirname "$VENV")"
waited=0
until mkdir "$LOCKDIR" 2>/dev/null; do
  owner="$(cat "$LOCKDIR/pid" 2>/dev/null || true)"
  if [[ -n "$owner" ]] && ! kill -0 "$owner" 2>/dev/null; then
    log "removing the stale lock of process $owner, which is gone"
    rm -rf "$LOCKDIR"
    continue
  fi
  if [[ -z "$owner" ]] && [[ -n "$(find "$LOCKDIR" -maxdepth 0 -mmin +5 2>/dev/null)" ]]; then
    log "removing a lock without an owner older than 5 minutes: $LOCKDIR"
    rm -rf "$LOCKDIR"
    continue
  fi
  if ((waited % 30 == 0)); then
    log "waiting for another set-up (process ${owner:-?}) to finish $VENV ..."
  fi
  sleep 2
  waited=$((waited + 2))
done
have_lock=1
echo $$ >"$LOCKDIR/pid"

if is_complete; then  # another set-up finished it while we waited
  printf '%s\n' "$VENV"
  exit 0
fi

# Remove a previous attempt; never delete a folder this script did not make.
if [[ -e "$VENV" ]]; then
  if [[ -e "$VENV/$BUILDING" || -e "$VENV/$COMPLETE" ]] \
    || [[ -z "${COURSE_VENV:-}" ]] \
    || [[ -d "$VENV" && -z "$(ls -A "$VENV")" ]]; then
    log "removing the incomplete or outdated environment $VENV"
    rm -rf "$VENV"
  else
    die "COURSE_VENV=$VENV exists and is not a course environment (no $COMPLETE in it);" \
      "remove it or choose another path"
  fi
fi

# Pick an interpreter that the lock's packages support (the lock's "# min-python:" line).
MIN_PY="$(sed -n 's/^# min-python: *//p' "$LOCK" | head -n1)"
MIN_PY="${MIN_PY:-3.10}"
py_ok() {
  "$1" -c 'import sys
need = tuple(int(x) for x in sys.argv[1].split("."))
sys.exit(0 if sys.version_info[:len(need)] >= need else 1)' "$MIN_PY" >/dev/null 2>&1
}
PY=""
if [[ -n "${COURSE_PYTHON:-}" ]]; then
  py_ok "$COURSE_PYTHON" || die "COURSE_PYTHON=$COURSE_PYTHON is not Python >= $MIN_PY"
  PY="$COURSE_PYTHON"
else
  for candidate in python3 python3.11 python3.12 python3.13; do
    if command -v "$candidate" >/dev/null 2>&1 && py_ok "$candidate"; then
      PY="$candidate"
      break
    fi
  done
  [[ -n "$PY" ]] || die "the locked environment needs Python >= $MIN_PY (python3 is" \
    "$(python3 -V 2>&1 || echo missing)); install it, or set COURSE_PYTHON=/path/to/python3.11"
fi

start=$SECONDS
log "building the course environment (once per lock file: about 5 GB, a few minutes)"
log "  where: $VENV"
log "  with:  $("$PY" -c 'import sys; print(sys.executable, sys.version.split()[0])')"
build_started=1
mkdir -p "$VENV"
: >"$VENV/$BUILDING"
if grep -qv '^[[:space:]]*\(#.*\)\{0,1\}$' "$LOCK"; then
  "$PY" -m venv "$VENV" >&2 \
    || die "'$PY -m venv' failed (on Debian/Ubuntu: apt install python3-venv)"
  "$VENV/bin/python" -m pip install --disable-pip-version-check --no-input -r "$LOCK" >&2
else  # a lock without packages (the tests use one): nothing to install, so no pip either
  "$PY" -m venv --without-pip "$VENV" >&2
fi

# Smoke test before declaring it complete: torchvision's compiled ops must load and run (they do
# not with a CPU-only local torch build).
if grep -q '^torchvision==' "$LOCK"; then
  "$VENV/bin/python" - >&2 <<'EOF'
import torch
import torchvision

boxes = torch.tensor([[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0]])
keep = torchvision.ops.nms(boxes, torch.tensor([1.0, 0.5]), 0.5)
assert keep.tolist() == [0], keep
print(f"setup-env: torch {torch.__version__}, torchvision {torchvision.__version__}: ops work")
EOF
fi

{
  echo "lock-sha256=$LOCK_SHA"
  echo "python=$("$VENV/bin/python" -c 'import sys; print(sys.version.split()[0])')"
  echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "build-seconds=$((SECONDS - start))"
} >"$VENV/$COMPLETE.tmp"
mv "$VENV/$COMPLETE.tmp" "$VENV/$COMPLETE"
rm -f "$VENV/$BUILDING"
build_finished=1
log "done in $((SECONDS - start)) s: $VENV"
printf '%s\n' "$VENV"
