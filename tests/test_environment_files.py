"""The environment files agree with each other.

* requirements.lock: exact pins (torch with ===), Linux-only packages marked as such;
* environment.yml (Binder): every pip pin equals the lock's version (local labels such as
  +cpu ignored), torch and torchvision included;
* pyproject.toml: lower bounds only, each satisfied by the lock.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version
from setuptools import find_packages

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
ENV_YML = ROOT / "environment.yml"
PYPROJECT = ROOT / "pyproject.toml"
REQUIREMENTS_IN = ROOT / "requirements.in"

LINUX_ONLY = re.compile(r"^(nvidia-.*|cuda-.*|triton)$")
LINUX_MARKER = 'sys_platform == "linux"'


def requirement_lines(path: Path) -> list[str]:
    lines = []
    for raw in path.read_text().splitlines():
        line = raw.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            lines.append(line)
    return lines


def pinned_version(req: Requirement) -> Version:
    """The version of an exact pin (== or ===), without its local label."""
    specs = list(req.specifier)
    assert len(specs) == 1 and specs[0].operator in ("==", "==="), f"not an exact pin: {req}"
    assert "*" not in specs[0].version, f"wildcard pin: {req}"
    return Version(Version(specs[0].version).public)


def lock() -> dict[str, Requirement]:
    reqs = {}
    for line in requirement_lines(LOCK):
        req = Requirement(line)
        name = canonicalize_name(req.name)
        assert name not in reqs, f"{name} is locked twice"
        reqs[name] = req
    return reqs


def env_yml_pip() -> list[str]:
    data = yaml.safe_load(ENV_YML.read_text())
    pip_sections = [d["pip"] for d in data["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip_sections) == 1, "environment.yml needs exactly one pip section"
    return [str(item) for item in pip_sections[0]]


def env_yml_pins() -> dict[str, Requirement]:
    return {canonicalize_name(Requirement(item).name): Requirement(item)
            for item in env_yml_pip() if not item.startswith("-")}


def pyproject_requirements() -> dict[str, list[Requirement]]:
    """The requirements of the dependencies and of each extra the lock installs (not the
    ``unlocked-extras`` of ``[tool.tl-recon-course]``, left out for their licence)."""
    pyproject = tomllib.loads(PYPROJECT.read_text())
    project = pyproject["project"]
    unlocked = set(pyproject["tool"]["tl-recon-course"]["unlocked-extras"])
    groups = {"dependencies": project["dependencies"]}
    for extra, deps in project.get("optional-dependencies", {}).items():
        if extra not in unlocked:
            groups[f"[{extra}]"] = deps
    return {group: [Requirement(d) for d in deps] for group, deps in groups.items()}


# ----- requirements.lock -------------------------------------------------------------------------

def test_lock_pins_every_package_exactly():
    reqs = lock()
    assert len(reqs) > 50, "the lock looks truncated"
    for name, req in reqs.items():
        pinned_version(req)
        assert not req.extras, f"{name}: extras do not belong in a lock"


def test_lock_pins_torch_by_exact_string_and_torchvision():
    reqs = lock()
    torch_spec = list(reqs["torch"].specifier)[0]
    assert torch_spec.operator == "===", "torch must use === so that pip never picks +cpu"
    assert "+" not in torch_spec.version
    tv_spec = list(reqs["torchvision"].specifier)[0]
    assert tv_spec.operator == "==" and "+" not in tv_spec.version


def test_lock_marks_linux_only_packages():
    for name, req in lock().items():
        marker = str(req.marker) if req.marker else ""
        if LINUX_ONLY.match(name):
            assert marker == LINUX_MARKER, f"{name} needs ; {LINUX_MARKER}"
            assert not req.marker.evaluate({"sys_platform": "darwin"})
            assert not req.marker.evaluate({"sys_platform": "win32"})
        else:
            assert not marker, f"{name} is not Linux-only but has the marker {marker!r}"
    assert any(LINUX_ONLY.match(name) for name in lock()), "no CUDA/triton packages: wrong torch?"


def test_lock_leaves_out_pip_and_the_project():
    names = set(lock())
    assert "pip" not in names
    assert "tl-recon-course" not in names
    assert {"psutil", "setuptools", "pyyaml", "packaging"} <= names


def test_lock_header_says_how_to_regenerate_and_which_python():
    text = LOCK.read_text()
    assert "scripts/lock.py" in text
    match = re.search(r"^# min-python: (\d+\.\d+(\.\d+)?)$", text, re.MULTILINE)
    assert match, "setup-env.sh reads the '# min-python:' line"


def test_requirements_in_is_locked():
    reqs = lock()
    for line in requirement_lines(REQUIREMENTS_IN):
        req = Requirement(line)
        name = canonicalize_name(req.name)
        assert name in reqs, f"{name} is in requirements.in but not in the lock"
        assert req.specifier.contains(pinned_version(reqs[name]), prereleases=True) or (
            str(req.specifier) == str(reqs[name].specifier)), f"{name}: lock outside {req}"


# ----- environment.yml ---------------------------------------------------------------------------

def test_environment_yml_basics():
    data = yaml.safe_load(ENV_YML.read_text())
    assert data["name"] == "tl-recon-course"
    assert data["channels"] == ["conda-forge"]
    conda = [d for d in data["dependencies"] if isinstance(d, str)]
    assert "python=3.11" in conda and "pip" in conda
    options = [item for item in env_yml_pip() if item.startswith("-")]
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in options


@pytest.mark.parametrize("name", ["torch", "torchvision"])
def test_torch_and_torchvision_in_both(name):
    assert name in env_yml_pins()
    assert name in lock()


def test_environment_yml_pins_equal_the_lock():
    reqs = lock()
    pins = env_yml_pins()
    assert len(pins) >= 20
    mismatches = []
    for name, req in pins.items():
        assert name in reqs, f"{name} is pinned in environment.yml but not in requirements.lock"
        if pinned_version(req) != pinned_version(reqs[name]):
            mismatches.append(f"{name}: environment.yml {req.specifier}, "
                              f"lock {reqs[name].specifier}")
    assert not mismatches, "\n".join(mismatches)


# ----- pyproject.toml ----------------------------------------------------------------------------

def test_pyproject_has_lower_bounds_only_satisfied_by_the_lock():
    reqs = lock()
    problems = []
    for group, deps in pyproject_requirements().items():
        for req in deps:
            name = canonicalize_name(req.name)
            ops = {spec.operator for spec in req.specifier}
            if ops != {">="}:
                problems.append(f"{group} {req}: use a lower bound (>=) only")
                continue
            if name not in reqs:
                problems.append(f"{group} {req}: not in requirements.lock")
            elif not req.specifier.contains(pinned_version(reqs[name]), prereleases=True):
                problems.append(f"{group} {req}: the lock has {reqs[name].specifier}")
    assert not problems, "\n".join(problems)


def test_pyproject_dependencies_are_in_environment_yml():
    pins = env_yml_pins()
    missing = [str(req) for deps in pyproject_requirements().values() for req in deps
               if canonicalize_name(req.name) not in pins]
    assert not missing, f"not pinned in environment.yml: {missing}"


def test_unlocked_extras_are_extras_outside_the_lock():
    pyproject = tomllib.loads(PYPROJECT.read_text())
    unlocked = pyproject["tool"]["tl-recon-course"]["unlocked-extras"]
    extras = pyproject["project"]["optional-dependencies"]
    reqs, pins = lock(), env_yml_pins()
    for extra in unlocked:
        for req in map(Requirement, extras[extra]):
            name = canonicalize_name(req.name)
            assert name not in reqs and name not in pins, (
                f"{name} is an unlocked extra (its licence), but the lock or environment.yml "
                "installs it")


def test_pyproject_packages_every_subpackage():
    """pip install (Colab) and postBuild (Binder) get every subpackage of course_utils."""
    data = tomllib.loads(PYPROJECT.read_text())
    include = data["tool"]["setuptools"]["packages"]["find"]["include"]
    packaged = set(find_packages(str(ROOT), include=include))
    on_disk = {".".join(p.relative_to(ROOT).parts[:-1])
               for p in (ROOT / "course_utils").rglob("__init__.py")}
    assert on_disk <= packaged, f"not packaged: {sorted(on_disk - packaged)}"
