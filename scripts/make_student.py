#!/usr/bin/env python3
"""Student copies of the notebooks (``make student``): no solutions, no outputs, exercises intact.

    python scripts/make_student.py [--output-dir build/student] [NOTEBOOK ...]

Default: every ``notebooks/*.ipynb``. There is one source, the instructor notebooks, which mark
their solutions once, in two ways:

- an exercise's answer key is a code cell tagged ``solution`` (folded in JupyterLab);
- a question's written answer is a ``<details><summary>Answer</summary> ... </details>`` block
  in a markdown cell (``Answers`` for several).

A student copy replaces each solution (one cell or several in a row) by a short note in its
place, so the exercise keeps its shape (the task, the answer cell with ``...``, the check),
and each answer block by a note; it drops the launch badges (they open the instructor
notebooks) and clears every output, execution count and saved widget state. The checks need no
solution: while an answer is ``...`` they say how to go on (``course_utils.exercises``), so a
student copy runs top to bottom. Copies are written atomically (a temporary file, then a
rename): build/student/ never holds half a notebook.
"""

from __future__ import annotations

import argparse
import copy
import glob
import os
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent

#: A question's written answer in a markdown cell (any attributes, any case; the template test
#: requires every ``<details`` block of a notebook to be one of these).
ANSWER_BLOCK = re.compile(r"<details[^>]*>\s*<summary>\s*Answers?\s*</summary>.*?</details>",
                          re.DOTALL | re.IGNORECASE)
#: The launch badges of the first cell: they open the instructor notebooks, solutions included.
BADGE = re.compile(r"^\[!\[(Open In Colab|Binder)\]\(.*\n?", re.MULTILINE)
SOLUTION_NOTE = "**Solution:** not in the student copy; your instructor has it."
ANSWER_NOTE = "*(The written answer is not in the student copy; ask your instructor.)*"


def is_solution(cell: dict) -> bool:
    """Whether ``cell`` is an exercise's answer key (tagged ``solution``)."""
    return "solution" in cell.get("metadata", {}).get("tags", [])


def student_copy(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The student copy of the instructor notebook ``nb`` (which is not changed)."""
    nb = copy.deepcopy(nb)
    nb.cells[0].source = BADGE.sub("", nb.cells[0].source)
    cells = []
    for cell in nb.cells:
        if is_solution(cell):
            if cells and cells[-1].source == SOLUTION_NOTE:
                continue  # a solution of several cells: one note
            note = nbformat.v4.new_markdown_cell(SOLUTION_NOTE)
            if cell.get("id"):
                note.id = cell.id  # the same place in the notebook, the same cell id
            else:
                note.pop("id", None)  # a notebook of nbformat < 4.5 has no cell ids
            cells.append(note)
            continue
        if cell.cell_type == "markdown":
            cell.source = ANSWER_BLOCK.sub(ANSWER_NOTE, cell.source)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            cell.metadata.pop("execution", None)
        cells.append(cell)
    nb.cells = cells
    nb.metadata.pop("widgets", None)
    return nb


def write(nb: nbformat.NotebookNode, target: Path) -> None:
    """Write ``nb`` to ``target`` through a temporary file and a rename (atomic)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        nbformat.write(nb, partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="instructor notebooks (default: notebooks/*.ipynb)")
    parser.add_argument("--output-dir", type=Path, default=ROOT / "build" / "student")
    args = parser.parse_args(argv)
    paths = args.notebooks or [Path(p) for p in sorted(glob.glob(str(ROOT / "notebooks" /
                                                                    "*.ipynb")))]
    for path in paths:
        if not path.is_file():
            parser.error(f"{path}: no such notebook; give paths of notebooks/*.ipynb files.")
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception as err:  # noqa: BLE001  (any unreadable file: name it, say what to do)
            parser.error(f"{path} is not a notebook nbformat can read ({err}); give a .ipynb "
                         "file of notebooks/.")
        student = student_copy(nb)
        write(student, args.output_dir / path.name)
        removed = sum(map(is_solution, nb.cells))
        answers = sum(len(ANSWER_BLOCK.findall(c.source)) for c in nb.cells
                      if c.cell_type == "markdown")
        print(f"{args.output_dir / path.name}: {removed} solution cell(s) and {answers} "
              "written answer(s) taken out")
    return 0


if __name__ == "__main__":
    sys.exit(main())
