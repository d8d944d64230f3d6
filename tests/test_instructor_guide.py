"""The instructor guide (docs/instructor/): one page per unit, the same six parts, a 90-minute
timing plan that adds up, and the run times of README's measured table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "instructor"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
PARTS = ["## Goal", "## Timing plan (90 minutes)", "## Run live / show pre-rendered",
         "## Discussion questions", "## Common mistakes and their symptoms",
         "## CPU and GPU guidance"]


def measured_times() -> dict[tuple[str, str], str]:
    """README's run-time table: {(notebook, mode): wall seconds as written}."""
    readme = (ROOT / "README.md").read_text()
    rows = re.findall(r"^\| (\d\d_\w+) \| (fast|full) \| ([\d.]+)", readme, re.M)
    return {(name, mode): seconds for name, mode, seconds in rows}


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_unit_has_a_guide_page_with_the_six_parts(notebook):
    page = GUIDE / f"{notebook.stem}.md"
    assert page.is_file(), f"no instructor page for {notebook.name}: write {page}"
    text = page.read_text()
    positions = [text.find(part + "\n") for part in PARTS]
    assert -1 not in positions, f"{page.name} lacks {PARTS[positions.index(-1)]!r}"
    assert positions == sorted(positions), f"{page.name}: the parts are out of order"
    assert f"({page.name})" in (GUIDE / "README.md").read_text(), "the index does not link it"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_timing_plan_adds_up_to_90_minutes(notebook):
    text = (GUIDE / f"{notebook.stem}.md").read_text()
    plan = text.split("## Timing plan (90 minutes)")[1].split("\n## ")[0]
    minutes = [int(m) for m in re.findall(r"^\| +(\d+) \|", plan, re.M)]
    assert len(minutes) >= 4 and sum(minutes) == 90, minutes


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_guide_quotes_the_measured_run_times(notebook):
    times = measured_times()
    guidance = (GUIDE / f"{notebook.stem}.md").read_text().split("## CPU and GPU guidance")[1]
    for mode in ("fast", "full"):
        seconds = times[notebook.stem, mode]
        assert f"{mode} {seconds} s" in guidance, (
            f"{notebook.stem}: README measured {mode} mode at {seconds} s; the guide's CPU "
            "guidance should say so")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_discussion_questions_come_with_answer_notes(notebook):
    text = (GUIDE / f"{notebook.stem}.md").read_text()
    questions = text.split("## Discussion questions")[1].split("\n## ")[0]
    numbered = re.findall(r"^\d\. ", questions, re.M)
    assert len(numbered) >= 3 and questions.count("Answer") >= len(numbered)
