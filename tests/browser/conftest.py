"""Fixtures of the browser test: a JupyterLab server on 127.0.0.1 and headless Chromium.

The test needs three things that the locked environment does not hold: Debian's ``chromium``
and ``chromium-driver`` (``apt-get install -y chromium chromium-driver``) and selenium, which
``make browser-test`` installs into a folder of its own (scripts/browser-deps.sh). Without them
the test is skipped with the reason, so that ``pytest tests`` stays green anywhere; with
``COURSE_BROWSER_REQUIRED=1`` (set by ``make browser-test``) a missing part fails instead, so
that the target never passes without running.

The server is started as ``make lab`` starts it: the same JupyterLab settings folder
(``--LabApp.app_settings_dir``, see scripts/lab-settings/overrides.json; ``COURSE_LAB_SETTINGS``
points it elsewhere, e.g. at an empty folder to see the test fail without the fix),
``--allow-root`` when run as root, the repository root on the kernels' PYTHONPATH, and
COURSE_FAST=1. It serves copies of the notebooks in a temporary folder, so that JupyterLab's
autosave never writes outputs into the repository, and its user settings, workspaces and
Jupyter config are temporary too, so that neither the user's own settings change the result
nor the test changes them.
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
LAB_SETTINGS = Path(os.environ.get("COURSE_LAB_SETTINGS", ROOT / "scripts" / "lab-settings"))
SERVER_START_TIMEOUT = 120  # seconds; JupyterLab starts in about 5 s on a 2-core machine


def pytest_configure(config: pytest.Config) -> None:
    # Registered here, not in pyproject.toml, so that the marker lives with the only tests that
    # use it; --strict-markers accepts it all the same.
    config.addinivalue_line(
        "markers", "browser: drives JupyterLab in headless Chromium (make browser-test)")


def missing(what: str, action: str) -> NoReturn:
    """Skip the test because ``what`` is missing, or fail if the browser test is required."""
    message = f"{what} is missing: {action}"
    if os.environ.get("COURSE_BROWSER_REQUIRED") == "1":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(autouse=True)
def _isolated_cache():
    """Overrides tests/conftest.py's fixture of this name: the notebooks run as a student runs
    them, with the course's data cache (its downloads), not with an empty temporary one."""
    yield


@dataclass
class Lab:
    """A running JupyterLab server: its address, token and the folder it serves."""

    url: str
    token: str
    root: Path
    log: Path

    def api(self, method: str, path: str) -> object:
        """Call the server's REST API; return the decoded JSON answer (None if empty)."""
        request = urllib.request.Request(f"{self.url}/api/{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            body = answer.read()
        return json.loads(body) if body else None

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _lab_environment(home: Path) -> dict[str, str]:
    """The server's (and so the kernels') environment: this one, plus what `make lab` sets."""
    env = dict(os.environ)
    path = env.get("PYTHONPATH", "")
    env.update(
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), path) if p),
        PATH=os.pathsep.join((str(Path(sys.executable).parent), env.get("PATH", ""))),
        COURSE_FAST="1",
        JUPYTER_PREFER_ENV_PATH="1",
        JUPYTER_PLATFORM_DIRS="1",
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
    )
    return env


def _wait_until_up(lab: Lab, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"JupyterLab exited with code {process.returncode}:\n{lab.log_tail()}",
                        pytrace=False)
        try:
            lab.api("GET", "status")
            return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"JupyterLab did not answer within {SERVER_START_TIMEOUT} s:\n{lab.log_tail()}",
                pytrace=False)


def _quiet_user_settings(folder: Path) -> None:
    """Answer JupyterLab's "notified about Jupyter news?" question (no), whose toast would
    cover part of every screenshot."""
    path = folder / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"fetchNews": "false"}), encoding="utf-8")


@pytest.fixture(scope="module")
def lab(chromium: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """A JupyterLab server on 127.0.0.1 serving copies of the notebooks; stopped at the end.
    (It asks for ``chromium`` first, so that nothing starts when the browser is missing.)"""
    if not (LAB_SETTINGS / "overrides.json").is_file() and "COURSE_LAB_SETTINGS" not in os.environ:
        pytest.fail(f"{LAB_SETTINGS / 'overrides.json'} is missing: it holds the JupyterLab "
                    "settings that `make lab` uses", pytrace=False)
    home = tmp_path_factory.mktemp("lab")
    served = home / "notebooks"
    shutil.copytree(NOTEBOOKS, served, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    port, token = _free_port(), secrets.token_hex(16)
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        f"--ServerApp.token={token}", f"--ServerApp.root_dir={served}",
        f"--LabApp.app_settings_dir={LAB_SETTINGS}",
        f"--LabApp.user_settings_dir={home / 'user-settings'}",
        f"--LabApp.workspaces_dir={home / 'workspaces'}",
        # Exposes the application as window.jupyterapp, the hook JupyterLab's own UI tests
        # (Galata) use: the test runs commands through it instead of clicking menus.
        "--LabApp.expose_app_in_browser=True",
    ]
    if os.geteuid() == 0:  # as `make lab` does; JupyterLab refuses to run as root otherwise
        command.append("--allow-root")
    _quiet_user_settings(home / "user-settings")
    log = home / "jupyterlab.log"
    lab = Lab(url=f"http://127.0.0.1:{port}", token=token, root=served, log=log)
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=served, env=_lab_environment(home),
                                   stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_until_up(lab, process)
        yield lab
    finally:
        process.terminate()  # JupyterLab shuts its kernels down on SIGTERM
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _program(chosen: str | None, *names: str) -> str | None:
    """The path of ``chosen`` (an environment variable's value) if set, else of the first of
    ``names`` on PATH; None if that is not an executable file."""
    if chosen:
        return shutil.which(chosen)
    return next((path for name in names if (path := shutil.which(name))), None)


@pytest.fixture(scope="module")
def chromium() -> tuple[str, str]:
    """Paths of Chromium and its driver, once selenium imports; or skip (fail) naming what is
    missing."""
    if importlib.util.find_spec("selenium") is None:
        missing("selenium", "run `make browser-test`, which installs it")
    browser = _program(os.environ.get("CHROMIUM"), "chromium", "chromium-browser")
    if browser is None:
        missing("Chromium", "apt-get install -y chromium chromium-driver (or set CHROMIUM to "
                "the browser's path)")
    driver = _program(os.environ.get("CHROMEDRIVER"), "chromedriver")
    if driver is None:
        missing("chromedriver", "apt-get install -y chromium-driver (or set CHROMEDRIVER to "
                "the driver's path)")
    return browser, driver


@pytest.fixture
def browser(chromium: tuple[str, str], lab: Lab):
    """Headless Chromium driven by selenium, with its console log kept; one per test."""
    # Imported here: only the browser test needs selenium, and it is not in the lock (see
    # scripts/browser-test-requirements.txt); the `chromium` fixture checked that it imports.
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = chromium
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--window-size=1400,1600",
                     "--disable-dev-shm-usage",  # containers have a small /dev/shm
                     # Chromium's sandbox cannot start as root (containers, CI); the page is
                     # the test's own local server.
                     *(["--no-sandbox"] if os.geteuid() == 0 else [])):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        for session in lab.api("GET", "sessions"):  # free the kernel's memory for the next one
            lab.api("DELETE", f"sessions/{session['id']}")
