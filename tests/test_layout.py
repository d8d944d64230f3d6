"""The package's layout: layers that import only downwards, a map of every module, and imports
at module top.

The layers, bottom-up, are those of the ``course_utils`` package docstring. A module may import
from its own layer or a lower one, never from a higher one, so that a student can read the
package bottom-up and a change in training never reaches the image conventions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "course_utils"

#: Module (dotted, relative to course_utils) -> layer; a package's modules share its layer.
LAYERS = {
    "config": 0, "checks": 0, "device": 0,
    "images": 1, "degrade": 2, "metrics": 3, "tasks": 4, "domain_gap": 5, "viz": 5,
    "data": 6, "compression": 6, "models": 7, "evaluation": 8, "training": 9, "zoo": 10,
    "experiments": 11,
    "explore": 12, "widgets": 12, "exercises": 12, "__main__": 13,
}


def modules() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts:
            found.append(".".join(parts))
    return found


def layer(module: str) -> int:
    top = module.split(".")[0]
    if top not in LAYERS:
        raise AssertionError(f"course_utils.{module} has no layer: add it to LAYERS and to the "
                             "package docstring's map")
    return LAYERS[top]


def imported(module: str) -> list[tuple[int, str]]:
    """(line, course_utils module) of every relative import of ``module``."""
    path = PACKAGE / Path(*module.split("."))
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    package = module.split(".")[:-1] if path.name != "__init__.py" else module.split(".")
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[:len(package) - node.level + 1]
            target = ".".join([*base, *(node.module.split(".") if node.module else [])])
            if target:
                found.append((node.lineno, target))
            else:  # from . import a, b: the submodules themselves
                found += [(node.lineno, alias.name) for alias in node.names]
    return found


@pytest.mark.parametrize("module", modules())
def test_imports_run_downwards(module):
    upward = [f"line {line}: course_utils.{target} (layer {layer(target)})"
              for line, target in imported(module) if layer(target) > layer(module)]
    assert not upward, (f"course_utils.{module} (layer {layer(module)}) imports from higher "
                        f"layers: {upward}")


def test_the_package_docstring_maps_every_module():
    doc = (PACKAGE / "__init__.py").read_text()
    packages = {m.split(".")[0] for m in modules() if "." in m}
    missing = [m for m in modules() if m not in packages and f"``{m}``" not in doc]
    assert not missing, f"add these modules to the map in course_utils/__init__.py: {missing}"


@pytest.mark.parametrize("package", sorted(p.name for p in PACKAGE.iterdir()
                                           if (p / "__init__.py").exists()))
def test_each_subpackage_docstring_lists_its_modules(package):
    doc = ast.get_docstring(ast.parse((PACKAGE / package / "__init__.py").read_text())) or ""
    listed = {line.split()[0] for line in doc.splitlines() if line and not line[0].isspace()}
    missing = [p.stem for p in (PACKAGE / package).glob("*.py")
               if p.stem != "__init__" and p.stem not in listed]
    assert not missing, f"course_utils/{package}/__init__.py's docstring lacks {missing}"


@pytest.mark.parametrize("module", modules())
def test_imports_sit_at_module_top(module):
    """An import inside a function is allowed only for an optional dependency, and says so."""
    path = PACKAGE / Path(*module.split("."))
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    lines = path.read_text().splitlines()
    inner = []
    for node in ast.walk(ast.parse("\n".join(lines))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for child in ast.walk(node):
                if isinstance(child, ast.Import | ast.ImportFrom):
                    context = " ".join(lines[max(child.lineno - 4, 0):child.lineno]).lower()
                    if "optional" not in context:
                        inner.append(f"line {child.lineno}: {lines[child.lineno - 1].strip()}")
    assert not inner, (f"course_utils.{module} imports inside functions without saying why "
                       f"(a comment with 'optional'): {inner}")
