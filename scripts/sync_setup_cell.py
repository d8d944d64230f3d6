#!/usr/bin/env python3
"""The notebooks' set-up cell and launch badges, and README's clone command, from one setting.

    python scripts/sync_setup_cell.py          # rewrite them from course_utils.config
    python scripts/sync_setup_cell.py --check  # exit 1 if a notebook or README differs

Every notebook's first code cell must be :data:`SETUP_CELL`, character for character, and its
Colab and Binder badges, like README's badges and ``git clone`` command, must point at
``course_utils.config.REPO`` (branch ``BRANCH``); ``tests/test_notebook_template.py`` checks
both. Edit the cell here and the repository there, never in a notebook, then run this
script: a fork sets ``REPO`` to its own ``owner/name`` and runs it once.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from course_utils.config import BRANCH, REPO, REPO_GIT  # noqa: E402

#: The first code cell of every notebook: a local checkout, Colab or Binder.
SETUP_CELL = '''\
# Local checkout, Colab or Binder: install the course package only where it is missing.
import importlib.util
import subprocess
import sys
from pathlib import Path

if importlib.util.find_spec("course_utils") is None:
    if "google.colab" in sys.modules:  # Colab: fetch the course; pip keeps Colab's own torch
        repo = "REPO_GIT"
        subprocess.run(["git", "clone", "-q", "--depth", "1", "--branch", "BRANCH", repo,
                        "/content/course"], check=True)
        # with the readers and the packages that ship the target domains' scans (unit 05)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-e",
                        "/content/course[medical,satellite]"], check=True)
        sys.path.insert(0, "/content/course")
    else:  # a checkout (Binder, laptop): notebooks/ sits beside course_utils/
        sys.path.insert(0, str(Path.cwd().parent))'''.replace("REPO_GIT", REPO_GIT).replace(
    "BRANCH", BRANCH)  # a placeholder, not an f-string: the cell may hold braces of its own


#: The links that name the repository: Colab's and Binder's launch URLs (their path kept) and
#: a ``git clone`` of the course; each with the replacement's pattern for ``repo`` and ``branch``.
LINKS = [
    (re.compile(r"https://colab\.research\.google\.com/github/[\w.-]+/[\w.-]+/blob/[\w.-]+/"),
     "https://colab.research.google.com/github/{repo}/blob/{branch}/"),
    (re.compile(r"https://mybinder\.org/v2/gh/[\w.-]+/[\w.-]+/[\w.-]+\?"),
     "https://mybinder.org/v2/gh/{repo}/{branch}?"),
    (re.compile(r"git clone https://github\.com/[\w.-]+/[\w.-]+?\.git"),
     "git clone https://github.com/{repo}.git"),
]


def point_links(text: str, repo: str = REPO, branch: str = BRANCH) -> str:
    """``text`` with every launch and clone link of :data:`LINKS` pointing at ``repo``
    (GitHub ``owner/name``) and ``branch``."""
    for pattern, replacement in LINKS:
        text = pattern.sub(replacement.format(repo=repo, branch=branch), text)
    return text


def first_code_cell(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    return next(c for c in nb.cells if c.cell_type == "code")


def synced(nb: nbformat.NotebookNode) -> bool:
    """Bring ``nb``'s set-up cell and first cell's badges to the setting; True if they were."""
    cell, title = first_code_cell(nb), nb.cells[0]
    badges = point_links(title.source)
    same = cell.source == SETUP_CELL and badges == title.source
    cell.source, title.source = SETUP_CELL, badges
    return same


def _replace(path: Path, write) -> None:
    tmp = path.with_name(f".{path.name}.partial")
    write(tmp)
    tmp.replace(path)  # atomic: a killed run leaves the old file whole


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", REPO) or not re.fullmatch(r"[\w.-]+", BRANCH):
        parser.error(f"course_utils.config: REPO must be GitHub's owner/name and BRANCH a "
                     f"branch name without '/' (the badges' URLs), got {REPO!r}, {BRANCH!r}.")
    parser.add_argument("--check", action="store_true", help="only report differing copies")
    args = parser.parse_args()
    differing = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        if not synced(nb):
            differing.append(path.name)
            if not args.check:
                _replace(path, lambda tmp, nb=nb: nbformat.write(nb, tmp))
    readme = ROOT / "README.md"
    text = readme.read_text()
    if point_links(text) != text:
        differing.append(readme.name)
        if not args.check:
            _replace(readme, lambda tmp: tmp.write_text(point_links(text)))
    if args.check and differing:
        print(f"set-up cells or repository links differ from scripts/sync_setup_cell.py and "
              f"course_utils.config.REPO: {differing}")
        return 1
    print(f"{'differ' if args.check else 'updated'}: {differing or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
