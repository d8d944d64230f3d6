"""Every notebook in notebooks/ follows the course template.

Title and launch badges, the required sections in order, the one set-up cell of
scripts/sync_setup_cell.py, one `parameters` cell that reads the course's fast-mode switch,
assert cells, no stored outputs, the python3 kernel, and file names numbered 00, 01, 02 ...
without gaps.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import nbformat
import pytest

from course_utils.config import BRANCH, REPO, REPO_GIT

ROOT = Path(__file__).resolve().parent.parent
_SPEC = importlib.util.spec_from_file_location("sync_setup_cell",
                                               ROOT / "scripts" / "sync_setup_cell.py")
sync_setup_cell = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(sync_setup_cell)
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))

FILE_NAME = re.compile(r"^(\d{2})_[a-z0-9]+(?:_[a-z0-9]+)*\.ipynb$")
TITLE = re.compile(r"^# (\d{2}) · \S.*$", re.MULTILINE)
LINK = re.compile(r"\]\((https?://[^)\s]+)\)|href=\"(https?://[^\"]+)\"")
SECTIONS = ["Overview", "Prerequisites", "Setup", "Exercises", "Summary", "What's next"]

# One test per notebook, or one skipped test while there are none yet.
notebook_params = pytest.mark.parametrize(
    "path",
    [pytest.param(p, id=p.name) for p in NOTEBOOKS]
    or [pytest.param(None, id="no-notebooks",
                     marks=pytest.mark.skip(reason="no notebooks in notebooks/ yet"))],
)


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def links(text: str) -> list[str]:
    return [a or b for a, b in LINK.findall(text)]


def level2_headings(nb) -> list[tuple[int, str]]:
    """(cell index, heading text) of every '## ' heading in the markdown cells."""
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("## "):
                    found.append((index, line[3:].strip()))
    return found


def section_text(nb, title: str) -> str:
    """The markdown from the heading '## title' up to the next '## ' heading."""
    lines, inside = [], False
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            if line.startswith("## "):
                if inside:
                    return "\n".join(lines)
                inside = line[3:].strip() == title
            elif inside:
                lines.append(line)
    return "\n".join(lines)


def test_notebooks_are_numbered_consecutively_from_00():
    if not NOTEBOOKS:
        pytest.skip("no notebooks in notebooks/ yet")
    bad = [p.name for p in NOTEBOOKS if not FILE_NAME.match(p.name)]
    assert not bad, f"name notebooks NN_lower_case_words.ipynb: {bad}"
    numbers = [int(FILE_NAME.match(p.name).group(1)) for p in NOTEBOOKS]
    assert numbers == list(range(len(NOTEBOOKS))), f"numbers must be 00, 01, ...: {numbers}"


@notebook_params
def test_notebook_is_valid_nbformat(path):
    nbformat.validate(read(path))


@notebook_params
def test_first_cell_has_title_and_launch_badges(path):
    nb = read(path)
    first = nb.cells[0]
    assert first.cell_type == "markdown", "the first cell must be markdown (title and badges)"
    title = TITLE.search(first.source)
    assert title, "the first cell needs a title '# NN · Title'"
    assert title.group(1) == path.name[:2], "the title's number must match the file name"
    urls = links(first.source)
    colab = [u for u in urls if "colab.research.google.com/github/" in u]
    assert colab, "the first cell needs a Colab badge linking colab.research.google.com/github/"
    assert all(u.endswith(f"notebooks/{path.name}") for u in colab), (
        f"the Colab link must open this notebook (.../notebooks/{path.name}): {colab}")
    assert any("mybinder.org" in u for u in urls), "the first cell needs a Binder badge"


@notebook_params
def test_required_sections_in_order(path):
    headings = [text for _, text in level2_headings(read(path))]
    positions = []
    for section in SECTIONS:
        assert section in headings, f"missing heading '## {section}'"
        positions.append(headings.index(section))
    assert positions == sorted(positions), f"sections must come in the order {SECTIONS}"


@notebook_params
def test_overview_lists_three_to_five_objectives(path):
    text = section_text(read(path), "Overview")
    objectives = re.findall(r"^\d+\.\s+\S", text, re.MULTILINE)
    assert 3 <= len(objectives) <= 5, (
        f"## Overview needs a numbered list of 3-5 learning objectives, found {len(objectives)}")


@notebook_params
def test_one_parameters_cell_reading_the_fast_switch(path):
    cells = [c for c in read(path).cells
             if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, f"exactly one code cell tagged 'parameters', found {len(cells)}"
    assert "fast_mode" in cells[0].source, "the parameters cell must read the fast_mode switch"


@notebook_params
def test_has_assert_cells(path):
    assert any(c.cell_type == "code" and "assert " in c.source for c in read(path).cells), (
        "the notebook needs at least one assert cell (its checks make CI meaningful)")


@notebook_params
def test_committed_clean(path):
    dirty = [i for i, c in enumerate(read(path).cells)
             if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count"))]
    assert not dirty, f"cells {dirty} have outputs or an execution count; clear them"


@notebook_params
def test_kernel_is_python3(path):
    kernelspec = read(path).metadata.get("kernelspec", {})
    assert kernelspec.get("name") == "python3", f"kernelspec name must be python3: {kernelspec}"


@notebook_params
def test_setup_cell_is_the_single_source(path):
    """The first code cell is scripts/sync_setup_cell.py's SETUP_CELL, character for character."""
    cell = sync_setup_cell.first_code_cell(read(path))
    assert cell.source == sync_setup_cell.SETUP_CELL, (
        "the set-up cell differs from scripts/sync_setup_cell.py: edit it there and run "
        "`python scripts/sync_setup_cell.py`")


EXERCISE = re.compile(r"\*\*Exercise (\d+)\b")
CHECK_CALL = re.compile(r"\bcheck\.exercise_(\d+)\(")


def exercise_blocks(nb) -> list[tuple[int, list]]:
    """(exercise number, the cells from its task up to the next exercise or section)."""
    blocks, current = [], None
    for cell in nb.cells:
        if cell.cell_type == "markdown" and (EXERCISE.search(cell.source)
                                             or cell.source.startswith("## ")):
            found = EXERCISE.search(cell.source)
            current = (int(found.group(1)), []) if found else None
            if current:
                blocks.append(current)
            if current:
                current[1].append(cell)
            continue
        if current:
            current[1].append(cell)
    return blocks


@notebook_params
def test_exercises_are_task_answer_check_solution(path):
    """Each exercise: the task, the student's cell (a ``...`` placeholder), a check cell that
    calls ``check.exercise_N`` on the student's answer, then the solution, collapsed in
    JupyterLab (source and outputs) and ending with the same check."""
    blocks = exercise_blocks(read(path))
    assert 2 <= len(blocks) <= 4, f"{len(blocks)} exercises; the template asks for 2-4"
    for number, cells in blocks:
        code = [c for c in cells if c.cell_type == "code"]
        assert len(code) >= 3, f"exercise {number}: task, answer, check and solution cells"
        answer, check, solution = code[0], code[1], code[2]
        assert "..." in answer.source and "solution" not in answer.metadata.get("tags", []), (
            f"exercise {number}: the first code cell is the student's, with a ... placeholder")
        assert [int(n) for n in CHECK_CALL.findall(check.source)] == [number], (
            f"exercise {number}: the cell after the student's calls check.exercise_{number}")
        assert "solution" in solution.metadata.get("tags", []), (
            f"exercise {number}: the third code cell is the solution, tagged 'solution'")
        hidden = solution.metadata.get("jupyter", {})
        assert hidden.get("source_hidden") and hidden.get("outputs_hidden"), (
            f"exercise {number}: collapse the solution (jupyter.source_hidden and outputs_hidden)")
        assert f"check.exercise_{number}(" in solution.source, (
            f"exercise {number}: the solution ends with the check, so CI checks the answer key")
        assert all("solution" not in c.metadata.get("tags", []) for c in code[:2])


@notebook_params
def test_discussion_questions_have_collapsed_answers(path):
    """Every exercise and summary question the text asks ("Why ...?") has a written answer in
    a closed <details> element, which JupyterLab and the HTML copy both show folded."""
    for number, cells in exercise_blocks(read(path)):
        text = "\n".join(c.source for c in cells if c.cell_type == "markdown")
        asks = bool(re.search(r"\?\s*(\*\*|$)", text, re.MULTILINE))
        if asks:
            assert "<details>" in text and "<summary>" in text, (
                f"exercise {number} asks a question: give its answer in "
                "<details><summary>Answer</summary> ... </details>")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_launch_badges_open_this_notebook_of_the_course_setting(path):
    """The badges come from course_utils.config.REPO and BRANCH (scripts/sync_setup_cell.py)."""
    first = read(path).cells[0].source
    assert (f"https://colab.research.google.com/github/{REPO}/blob/{BRANCH}/notebooks/"
            f"{path.name})") in first
    assert f"https://mybinder.org/v2/gh/{REPO}/{BRANCH}?labpath=notebooks%2F{path.name})" in first
    assert f'repo = "{REPO_GIT}"' in sync_setup_cell.SETUP_CELL
    assert f'"--branch", "{BRANCH}"' in sync_setup_cell.SETUP_CELL


def test_readme_clones_and_launches_the_course_setting():
    readme = (ROOT / "README.md").read_text()
    assert f"git clone {REPO_GIT}" in readme
    launches = re.findall(r"https://(?:colab\.research\.google\.com/github|mybinder\.org/v2/gh)"
                          r"/[^)\s]+", readme)
    assert launches and all(f"/{REPO}/" in url for url in launches), launches


def test_a_fork_sets_one_repository_and_every_link_follows():
    readme = (ROOT / "README.md").read_text()
    title = read(NOTEBOOKS[0]).cells[0].source
    for text in (readme, title):
        forked = sync_setup_cell.point_links(text, "someone/my-fork", "dev")
        assert REPO not in forked
        assert "someone/my-fork" in forked
    assert sync_setup_cell.point_links(readme) == readme, "README is not in sync: run the script"
