"""The explorers work in a real browser: JupyterLab in headless Chromium (issue 12, point 10).

For each notebook with an explorer, the test opens it in JupyterLab, runs all its cells in fast
mode, then moves every control of every explorer, one at a time, as a student would, and
checks after each move that

* the explorer's figure was redrawn: its PNG differs from the one before the move;
* the new figure is not blank: it has at least half as many non-white pixels as the one
  before (a blank or half-drawn figure is what kernel subshells produced, see
  scripts/lab-settings/overrides.json);
* the explorer shows no error output;

and, at the end, that the browser console logged no error. Screenshots of every step go to
build/browser/ (not committed). Run it with ``make browser-test``; conftest.py says what it
needs and how the server is started.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import time
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
SCREENSHOTS = ROOT / "build" / "browser"
RUN_ALL_TIMEOUT = 900  # seconds for a whole notebook; fast mode takes at most about 60 s
REDRAW_TIMEOUT = 120  # seconds for a figure to be redrawn after a control moved
INK_LEVEL = 250  # a pixel darker than this (0-255 gray) is "ink"
MIN_INK_RATIO = 0.5  # a redrawn figure has at least this share of the previous figure's ink


def explorer_notebooks() -> list[Path]:
    """The notebooks with a code cell that builds an explorer."""
    found = []
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        if any(c["cell_type"] == "code" and "explorer(" in "".join(c["source"]) for c in cells):
            found.append(path)
    return found


NOTEBOOKS_WITH_EXPLORERS = explorer_notebooks()


def test_explorer_notebooks_found():
    assert NOTEBOOKS_WITH_EXPLORERS, f"no notebook in {NOTEBOOKS} builds an explorer"


# ----------------------------------------------------------------------------------------------
# JupyterLab through window.jupyterapp (exposed by --LabApp.expose_app_in_browser)
# ----------------------------------------------------------------------------------------------

KERNEL_STATUS = """
const app = window.jupyterapp;
const panel = app && app.shell.currentWidget;
const kernel = panel && panel.sessionContext && panel.sessionContext.session
               && panel.sessionContext.session.kernel;
return kernel ? kernel.status : null;
"""

RUN_ALL = """
const done = arguments[arguments.length - 1];
window.jupyterapp.commands.execute('notebook:run-all-cells')
    .then(ok => done(ok === true ? 'ok' : 'a cell failed'), error => done(String(error)));
"""

# An explorer is the VBox around an ipywidgets `interactive`; its figure is the <img> of the
# output area after it (course_utils/widgets.py).
EXPLORERS = """
const panel = window.jupyterapp.shell.currentWidget;
return [...panel.node.querySelectorAll('.widget-interact')].map(e => e.parentElement);
"""
CONTROLS = "return [...arguments[0].querySelectorAll(" \
           "':scope > .widget-interact select, :scope > .widget-interact .noUi-handle')];"
FIGURE = "const img = arguments[0].querySelector(':scope > .widget-output img');" \
         "return img ? img.src : null;"
SCROLL_TO = "arguments[0].scrollIntoView({block: 'start'});"
ERRORS = """
return [...arguments[0].querySelectorAll(
    '[data-mime-type="application/vnd.jupyter.stderr"], .jp-RenderedText.jp-mod-error'
)].map(e => e.innerText);
"""
# From the notebook's model, not its page: JupyterLab renders only the cells near the view.
CELL_ERRORS = """
const cells = window.jupyterapp.shell.currentWidget.content.model.cells;
const errors = [];
for (let i = 0; i < cells.length; i++) {
  const cell = cells.get(i);
  if (cell.type !== 'code') continue;
  for (const out of cell.outputs.toJSON()) {
    if (out.output_type === 'error') {
      errors.push(`cell ${i}: ${out.ename}: ${out.evalue}\\n` + out.traceback.join("\\n"));
    }
  }
}
return errors;
"""


def wait_for(condition, timeout: float, what: str, interval: float = 0.25):
    """Call ``condition()`` until it returns something truthy; return that, or fail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}", pytrace=False)


def save_png(name: str, png: bytes) -> Path:
    """Write ``png`` to build/browser/<name>.png, atomically; return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"{name}.png"
    partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
    try:
        partial.write_bytes(png)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def save_screenshot(driver, name: str) -> Path:
    """Write a screenshot of the browser window to build/browser/<name>.png."""
    return save_png(name, driver.get_screenshot_as_png())


def png_of(src: str) -> bytes:
    """The PNG bytes of an <img> data URL."""
    header, _, data = src.partition(",")
    assert header == "data:image/png;base64", f"the figure is not an inline PNG: {header[:40]}"
    return base64.b64decode(data)


def ink(png: bytes) -> float:
    """Share of a figure's pixels that are not (near) white, on a white background."""
    image = Image.open(io.BytesIO(png)).convert("RGBA")
    on_white = Image.alpha_composite(Image.new("RGBA", image.size, "white"), image)
    gray = np.asarray(on_white.convert("L"))
    return float((gray < INK_LEVEL).mean())


def open_and_run(driver, lab, notebook: str) -> None:
    """Open a notebook in JupyterLab, wait for its kernel, run all cells; fail if one fails."""
    driver.get(f"{lab.url}/lab/tree/{quote(notebook)}?reset&token={lab.token}")
    wait_for(lambda: driver.execute_script(KERNEL_STATUS) == "idle", 120,
             f"the kernel of {notebook} to start")
    driver.set_script_timeout(RUN_ALL_TIMEOUT)
    outcome = driver.execute_async_script(RUN_ALL)
    if outcome != "ok":
        errors = "\n---\n".join(driver.execute_script(CELL_ERRORS)) or "(no error output)"
        errors = re.sub(r"\x1b\[[0-9;]*m", "", errors)  # the traceback's terminal colours
        save_screenshot(driver, f"{Path(notebook).stem}-failed")
        pytest.fail(f"Run All of {notebook}: {outcome}\n{errors}\nJupyterLab's log:\n"
                    f"{lab.log_tail()}", pytrace=False)
    wait_for(lambda: driver.execute_script(KERNEL_STATUS) == "idle", 60,
             f"the kernel of {notebook} to be idle after Run All")


# ----------------------------------------------------------------------------------------------
# Moving a control
# ----------------------------------------------------------------------------------------------


def move(driver, control) -> str | None:
    """Change a control's value as a user would: the next option of a dropdown, one step of a
    slider (back if it is at its maximum). Return what was done, or None if it cannot move."""
    # Imported here: selenium is optional (conftest.py skips the test without it).
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.select import Select

    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", control)
    if control.tag_name == "select":
        select = Select(control)
        options = [o.text for o in select.options]
        if len(options) < 2:
            return None
        index = options.index(select.first_selected_option.text)
        new = (index + 1) % len(options)
        select.select_by_index(new)
        return f"{options[index]!r} -> {options[new]!r}"
    before = control.get_attribute("aria-valuenow")
    at_max = before == control.get_attribute("aria-valuemax")
    control.send_keys(Keys.ARROW_LEFT if at_max else Keys.ARROW_RIGHT)
    after = wait_for(lambda: (v := control.get_attribute("aria-valuenow")) != before and v, 10,
                     "the slider to move")
    return f"{before} -> {after}"


def redrawn(driver, explorer, before: str):
    """The figure's new data URL once it differs from ``before``, is stable and the kernel is
    idle; None until then."""
    src = driver.execute_script(FIGURE, explorer)
    if not src or src == before or driver.execute_script(KERNEL_STATUS) != "idle":
        return None
    time.sleep(0.5)
    return src if driver.execute_script(FIGURE, explorer) == src else None


def check_explorer(driver, explorer, name: str) -> list[str]:
    """Move each control of one explorer; check every redraw. Return what was done."""
    done = []
    controls = driver.execute_script(CONTROLS, explorer)
    assert controls, f"{name}: no dropdown or slider found"
    src = wait_for(lambda: driver.execute_script(FIGURE, explorer), 60, f"{name}'s first figure")
    for number, control in enumerate(controls):
        step = move(driver, control)
        if step is None:
            done.append(f"control {number}: one option only, not moved")
            continue
        new = wait_for(lambda old=src: redrawn(driver, explorer, old), REDRAW_TIMEOUT,
                       f"{name}'s figure to change after control {number} moved ({step})")
        driver.execute_script(SCROLL_TO, explorer)
        save_screenshot(driver, f"{name}-control{number}")
        figure = save_png(f"{name}-control{number}-figure", png_of(new))
        errors = driver.execute_script(ERRORS, explorer)
        assert not errors, f"{name}, control {number} ({step}): error output:\n{errors}"
        old_ink, new_ink = ink(png_of(src)), ink(png_of(new))
        assert new_ink >= MIN_INK_RATIO * old_ink, (
            f"{name}, control {number} ({step}): the new figure is (nearly) blank: "
            f"{new_ink:.1%} of its pixels are not white, against {old_ink:.1%} before; "
            f"see {figure}")
        done.append(f"control {number} {step}: figure {hashlib.sha256(png_of(src)).hexdigest()[:8]}"
                    f" -> {hashlib.sha256(png_of(new)).hexdigest()[:8]}, ink {old_ink:.1%} -> "
                    f"{new_ink:.1%}")
        src = new
    return done


def console_errors(driver) -> list[str]:
    """The browser console's SEVERE entries, less the launch badges' failed loads.

    The notebooks' first cell shows the Colab and Binder badges, images on the internet; the test
    runs offline, so Chromium logs their loads as failed. Only those (network entries for an
    address that is not the local server) are left out.
    """
    errors = []
    for entry in driver.get_log("browser"):
        if entry["level"] != "SEVERE":
            continue
        external = not entry["message"].startswith("http://127.0.0.1:")
        if entry.get("source") == "network" and external:
            continue
        errors.append(entry["message"])
    return errors


@pytest.mark.parametrize("notebook", NOTEBOOKS_WITH_EXPLORERS, ids=lambda p: p.stem)
def test_explorers_redraw(lab, browser, notebook: Path, capsys):
    open_and_run(browser, lab, notebook.name)
    explorers = browser.execute_script(EXPLORERS)
    assert explorers, f"{notebook.name}: Run All showed no explorer"
    save_screenshot(browser, f"{notebook.stem}-run-all")
    for number, explorer in enumerate(explorers):
        name = f"{notebook.stem}-explorer{number}"
        for line in check_explorer(browser, explorer, name):
            with capsys.disabled():
                print(f"\n  {name}: {line}", end="")
    errors = console_errors(browser)
    assert not errors, f"{notebook.name}: the browser console logged errors:\n" + "\n".join(errors)
