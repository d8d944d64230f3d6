"""Repository-wide pytest set-up.

* Collection: .py tests only from tests/, notebooks (.ipynb, executed by nbval) only from
  notebooks/, whatever paths pytest is given.
* The notebook kernels that nbval starts inherit this process's environment: the repository
  root is put on their PYTHONPATH so that they import this checkout's ``course_utils``
  (``make test`` exports it too; this covers a plain ``pytest`` run).
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent
TESTS = ROOT / "tests"
NOTEBOOKS = ROOT / "notebooks"

_path = os.environ.get("PYTHONPATH", "")
if str(ROOT) not in _path.split(os.pathsep):
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), _path) if p)


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder)


def pytest_ignore_collect(collection_path: Path, config) -> bool | None:
    if collection_path.suffix == ".py" and collection_path.name != "conftest.py":
        return True if not _inside(collection_path, TESTS) else None
    if collection_path.suffix == ".ipynb":
        return True if not _inside(collection_path, NOTEBOOKS) else None
    return None
