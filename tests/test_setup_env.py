"""scripts/setup-env.sh: the cache path keyed by the lock's hash, its overrides, and the
build-in-place protocol (complete marker written last; incomplete folders rebuilt; folders the
script did not make left alone). The builds here use a tiny lock file, so they take seconds."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "setup-env.sh"
LOCK = ROOT / "requirements.lock"

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="bash script")


def run(env_overrides: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if k not in ("COURSE_VENV", "COURSE_CACHE_DIR", "COURSE_LOCK_FILE", "XDG_CACHE_HOME")}
    env.update(env_overrides)
    return subprocess.run(["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True,
                          check=check, stdin=subprocess.DEVNULL)


def last_line(proc: subprocess.CompletedProcess) -> str:
    return proc.stdout.strip().splitlines()[-1]


def test_default_path_is_keyed_by_the_lock_hash(tmp_path):
    digest = hashlib.sha256(LOCK.read_bytes()).hexdigest()[:12]
    out = run({"COURSE_CACHE_DIR": str(tmp_path)}, "--print-path")
    assert last_line(out) == str(tmp_path / f"venv-{digest}")
    out = run({"XDG_CACHE_HOME": str(tmp_path)}, "--print-path")
    assert last_line(out) == str(tmp_path / "tl-recon-course" / f"venv-{digest}")
    assert not any(tmp_path.iterdir()), "--print-path must not build anything"


def test_course_venv_overrides_the_whole_path(tmp_path):
    out = run({"COURSE_CACHE_DIR": str(tmp_path / "cache"), "COURSE_VENV": str(tmp_path / "env")},
              "--print-path")
    assert last_line(out) == str(tmp_path / "env")


def test_check_reports_missing_environment(tmp_path):
    assert run({"COURSE_CACHE_DIR": str(tmp_path)}, "--check", check=False).returncode == 1


@pytest.fixture
def tiny_lock(tmp_path) -> Path:
    lock = tmp_path / "tiny.lock"
    lock.write_text("# a lock with no packages, for a fast build\n# min-python: 3.10\n")
    return lock


def test_builds_in_place_reuses_and_rebuilds(tmp_path, tiny_lock):
    env = {"COURSE_CACHE_DIR": str(tmp_path / "cache"), "COURSE_LOCK_FILE": str(tiny_lock),
           "COURSE_PYTHON": sys.executable}
    venv = Path(last_line(run(env, "--print-path")))

    # A half-built environment from an interrupted run (removed and rebuilt), and the lock
    # folder of a process that is gone (removed).
    venv.mkdir(parents=True)
    (venv / ".course-env-building").touch()
    (venv / "leftover").write_text("from the interrupted build")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lockdir = Path(f"{venv}.lock")
    lockdir.mkdir()
    (lockdir / "pid").write_text(f"{dead.pid}\n")

    out = run(env)
    assert out.stdout.strip() == str(venv), "stdout must hold only the path"
    assert not (venv / "leftover").exists()
    assert not (venv / ".course-env-building").exists()
    marker = (venv / ".course-env-complete").read_text()
    assert f"lock-sha256={hashlib.sha256(tiny_lock.read_bytes()).hexdigest()}" in marker
    assert (venv / "bin" / "python").exists()
    assert not lockdir.exists(), "the lock folder must be released"
    assert run(env, "--check", check=False).returncode == 0

    start = time.perf_counter()
    again = run(env)
    assert last_line(again) == str(venv)
    assert time.perf_counter() - start < 5, "reusing a complete environment must be instant"
    assert "building" not in again.stderr

    # With COURSE_VENV the path does not change with the lock: the marker's hash does.
    env = {**env, "COURSE_VENV": str(venv)}
    tiny_lock.write_text(tiny_lock.read_text() + "# changed\n")
    assert run(env, "--check", check=False).returncode == 1, "a changed lock must not match"
    assert last_line(run(env)) == str(venv)
    marker = (venv / ".course-env-complete").read_text()
    assert hashlib.sha256(tiny_lock.read_bytes()).hexdigest() in marker


def test_never_deletes_a_folder_it_did_not_make(tmp_path, tiny_lock):
    foreign = tmp_path / "my-own-env"
    foreign.mkdir()
    (foreign / "precious.txt").write_text("keep me")
    out = run({"COURSE_VENV": str(foreign), "COURSE_LOCK_FILE": str(tiny_lock),
               "COURSE_PYTHON": sys.executable}, check=False)
    assert out.returncode != 0
    assert "not a course environment" in out.stderr
    assert (foreign / "precious.txt").read_text() == "keep me"


def test_make_help_lists_every_target_whole():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    phony = set(re.search(r"^\.PHONY:(.*)$", makefile, re.M).group(1).split())
    out = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert {line.split()[1] for line in out if line.startswith("make ")} == phony
    assert not any(line.startswith("#") for line in out)
    assert "memory against image size (build/memory.json)" in "\n".join(out)  # continued


def test_make_lab_allows_root_only_as_root():
    # JupyterLab refuses root without --allow-root (containers run as root on purpose).
    dry = subprocess.run(["make", "-n", "lab"], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "COURSE_VENV": str(ROOT / "no-such-venv")})
    assert ("--allow-root" in dry.stdout) == (os.getuid() == 0)
    assert "--LabApp.app_settings_dir" in dry.stdout
