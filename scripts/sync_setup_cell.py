#!/usr/bin/env python3
"""The notebooks' set-up cell, from one source: this file.

    python scripts/sync_setup_cell.py          # write SETUP_CELL into every notebook
    python scripts/sync_setup_cell.py --check  # exit 1 if a notebook's copy differs

Every notebook's first code cell must be :data:`SETUP_CELL`, character for character
(``tests/test_notebook_template.py`` checks it). Edit the cell here, never in a notebook, then
run this script.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent

#: The first code cell of every notebook: a local checkout, Colab or Binder.
SETUP_CELL = '''\
# Local checkout, Colab or Binder: install the course package only where it is missing.
import importlib.util
import subprocess
import sys
from pathlib import Path

if importlib.util.find_spec("course_utils") is None:
    if "google.colab" in sys.modules:  # Colab: fetch the course; pip keeps Colab's own torch
        repo = "https://github.com/tl-recon/transfer-learning-image-reconstruction.git"
        subprocess.run(["git", "clone", "-q", "--depth", "1", repo, "/content/course"], check=True)
        # with the readers and the packages that ship the target domains' scans (unit 05)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-e",
                        "/content/course[medical,satellite]"], check=True)
        sys.path.insert(0, "/content/course")
    else:  # a checkout (Binder, laptop): notebooks/ sits beside course_utils/
        sys.path.insert(0, str(Path.cwd().parent))'''


def first_code_cell(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    return next(c for c in nb.cells if c.cell_type == "code")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report differing copies")
    args = parser.parse_args()
    differing = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        cell = first_code_cell(nb)
        if cell.source != SETUP_CELL:
            differing.append(path.name)
            if not args.check:
                cell.source = SETUP_CELL
                tmp = path.with_name(f".{path.name}.partial")
                nbformat.write(nb, tmp)
                tmp.replace(path)  # atomic: a killed run leaves the old notebook whole
    if args.check and differing:
        print(f"set-up cells differ from scripts/sync_setup_cell.py: {differing}")
        return 1
    print(f"{'differ' if args.check else 'updated'}: {differing or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
