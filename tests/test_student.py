"""Student copies (scripts/make_student.py): no solution leaks, the exercises stay, they run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from make_student import ANSWER_BLOCK, SOLUTION_NOTE, is_solution, student_copy  # noqa: E402
from nbrun import notebook_client  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _text(nb: nbformat.NotebookNode) -> str:
    return "\n".join(cell.source for cell in nb.cells)


def _secret_lines(nb: nbformat.NotebookNode) -> list[str]:
    """Lines of the solutions and written answers that appear nowhere else in ``nb``."""
    elsewhere = [ANSWER_BLOCK.sub("", c.source) for c in nb.cells if not is_solution(c)]
    elsewhere = "\n".join(elsewhere)
    secrets = [c.source for c in nb.cells if is_solution(c)]
    secrets += [block for c in nb.cells if c.cell_type == "markdown"
                for block in ANSWER_BLOCK.findall(c.source)]
    lines = {line.strip() for text in secrets for line in text.splitlines()}
    return [line for line in lines if len(line) >= 20 and line not in elsewhere]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_student_copy_keeps_the_exercises_and_leaks_no_solution(path):
    nb = nbformat.read(path, as_version=4)
    secrets = _secret_lines(nb)
    assert sum(map(is_solution, nb.cells)) >= 2 and len(secrets) > 10, "nothing to hide?"
    markdown = [c.source for c in nb.cells if c.cell_type == "markdown"]
    assert sum(m.lower().count("<details") for m in markdown) == sum(
        len(ANSWER_BLOCK.findall(m)) for m in markdown), "a <details> block make_student misses"
    student = student_copy(nb)
    text = _text(student)
    assert "colab.research.google.com/github" not in text and "mybinder.org/v2" not in text
    leaked = [line for line in secrets if line in text]
    assert not leaked, f"solution text in the student copy: {leaked[:3]}"
    assert not any(map(is_solution, student.cells)) and "<details>" not in text
    kept = [c for c in nb.cells if not is_solution(c)]
    assert [c.source for c in kept if c.cell_type == "code"] == [
        c.source for c in student.cells if c.cell_type == "code"], "the other code cells, intact"
    assert all(c.outputs == [] and c.execution_count is None
               for c in student.cells if c.cell_type == "code")
    runs = sum(1 for i, c in enumerate(nb.cells)
               if is_solution(c) and not (i and is_solution(nb.cells[i - 1])))
    assert sum(c.source == SOLUTION_NOTE for c in student.cells) == runs, "one note a solution"
    answers = [c for c in student.cells if c.cell_type == "code" and "= ..." in c.source]
    checks = [c for c in student.cells if c.cell_type == "code" and "check.exercise_" in c.source]
    assert len(answers) >= 2 and len(checks) >= len(answers)
    assert nbformat.validate(student) is None
    assert "solution" in nb.cells[[is_solution(c) for c in nb.cells].index(True)].metadata.tags


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_student_copy_runs_top_to_bottom_and_each_check_waits_for_an_answer(path,
                                                                             monkeypatch):
    monkeypatch.setenv("COURSE_FAST", "1")
    student = student_copy(nbformat.read(path, as_version=4))
    notebook_client(student, path, timeout=600).execute()  # cwd: notebooks/, as the original
    waiting = [c for c in student.cells if c.cell_type == "code"
               and "check.exercise_" in c.source and "= ..." not in c.source]
    assert waiting
    for cell in waiting:
        printed = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        assert "no answer yet" in printed, cell.source


def test_make_student_writes_every_copy_and_names_a_bad_path(tmp_path):
    out = tmp_path / "student"
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_student.py"),
                           "--output-dir", str(out)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.glob("*.ipynb")) == [p.name for p in NOTEBOOKS]
    assert not list(out.glob(".*partial*")), "a temporary file was left behind"
    assert "solution cell(s)" in done.stdout
    bad = tmp_path / "notes.ipynb"
    bad.write_text("not json")
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_student.py"),
                           str(bad), "--output-dir", str(out)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2 and "notes.ipynb" in done.stderr and "not a notebook" in done.stderr
