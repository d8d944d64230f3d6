"""``pip install .`` (not editable) gives a working course: the wheel and an install of it.

A wheel is built from a copy of what the build reads (``pyproject.toml``, ``README.md``,
``course_utils/``), with the locked environment's setuptools and no build isolation, so the test
needs no network. Its file list must hold every shipped file: the download registry, every
model the registry lists, their model cards and the data README (``course_utils/assets/``,
package data).

The install test then puts that wheel in a fresh virtual environment and runs the evaluation
command from a folder outside the checkout. Honestly stated: the new environment is made with
``--without-pip`` and sees the locked environment's third-party packages through a ``.pth``
file, because downloading torch into a clean environment does not fit a CI run; only the wheel
is installed (``--no-deps --no-index``). So the dependencies come from the lock; what is tested
is the wheel's own contents: that ``course_utils`` is imported from the new environment's
site-packages, not from the checkout, and that the registry and the model come from the wheel
(no download: the cache folder stays empty and any connection goes to a closed local port).

Binder's path is tested the same way: ``postBuild`` runs in a copy of the checkout with a fresh
environment first on ``PATH`` (repo2docker itself cannot run here).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from course_utils.evaluation import evaluate_folder, model_method
from course_utils.zoo import SHIPPED, load_pretrained

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "course_utils" / "assets"
MODEL = "espcn_x3"


def _run(command: list, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, (f"{' '.join(map(str, command))} failed "
                                    f"({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The course's wheel, built offline from a copy of the checkout's build inputs."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "course_utils", source / "course_utils",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*"))
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
          "--no-index", "--disable-pip-version-check", "-q", "-w", work / "dist", "."], source)
    wheels = list((work / "dist").glob("tl_recon_course-*.whl"))
    assert len(wheels) == 1, f"expected one wheel, found {wheels}"
    return wheels[0]


def _registry_models(text: str) -> dict[str, str]:
    """``{file under assets/: sha256}`` of the registry's shipped models."""
    rows = [r for r in csv.reader(io.StringIO(text), delimiter="\t")
            if r and not r[0].startswith("#")]
    return {row[0]: row[2] for row in rows[1:] if row[0].startswith("models/")}


def test_the_wheel_holds_the_shipped_data(wheel):
    with zipfile.ZipFile(wheel) as whl:
        names = set(whl.namelist())
        prefix = "course_utils/assets/"
        assert f"{prefix}registry.tsv" in names, f"{wheel.name} has no registry: {sorted(names)}"
        models = _registry_models(whl.read(f"{prefix}registry.tsv").decode())
        assert set(models) == {m.file for m in SHIPPED}, f"the wheel's registry: {sorted(models)}"
        for file, sha256 in models.items():
            assert prefix + file in names, f"{wheel.name} lacks {prefix}{file}"
            assert hashlib.sha256(whl.read(prefix + file)).hexdigest() == sha256, file
            card = prefix + file.removesuffix(".safetensors") + ".md"
            assert sha256 in whl.read(card).decode(), f"{card}: missing, or not this model's"
    # Everything in the checkout's assets folder and every module is in the wheel: a new kind
    # of shipped file needs its pattern in pyproject's [tool.setuptools.package-data].
    on_disk = {p.relative_to(ROOT).as_posix() for p in ASSETS.rglob("*")
               if p.is_file() and not p.name.startswith(".")}
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "course_utils").rglob("*.py")}
    assert on_disk - names == set(), "add these to pyproject's package-data patterns"
    assert modules - names == set(), "not packaged: check [tool.setuptools.packages.find]"
    assert "course_utils/assets/README.md" in on_disk


def _venv_seeing_the_lock(tmp_path: Path) -> Path:
    """A fresh venv (no pip of its own) that sees the lock's packages through a .pth file.

    Returns its python.
    """
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], tmp_path)
    python = venv / "bin" / "python"
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                     tmp_path).stdout.strip())
    locked = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "locked_environment.pth").write_text("\n".join(sorted(locked)) + "\n")
    return python


def _clean_environment(tmp_path: Path, wheel: Path) -> Path:
    """:func:`_venv_seeing_the_lock` with only the wheel installed. Returns its python."""
    python = _venv_seeing_the_lock(tmp_path)
    _run([python, "-m", "pip", "install", "--no-deps", "--no-index",
          "--disable-pip-version-check", "-q", wheel], tmp_path)
    return python


def _smooth_images(folder: Path) -> None:
    """Two small RGB images (smooth, so that a 3x model has detail to recover)."""
    folder.mkdir()
    y, x = np.mgrid[0:48, 0:60]
    for i in range(2):
        image = np.stack([128 + 100 * np.sin(x / (4 + i) + c) * np.cos(y / 6) for c in range(3)],
                         axis=-1)
        Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).save(folder / f"img{i}.png")


def test_a_wheel_install_runs_evaluate_with_a_shipped_model(wheel, tmp_path):
    python = _clean_environment(tmp_path, wheel)
    work = tmp_path / "elsewhere"  # outside the checkout: nothing imports from it
    work.mkdir()
    _smooth_images(work / "hr")
    cache = tmp_path / "cache"
    cache.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "COURSE_DATA_DIR", "PYTHONHOME", "VIRTUAL_ENV")}
    proxy = "http://127.0.0.1:9"  # a closed port: a download attempt fails at once, offline
    env.update(COURSE_DATA_CACHE=str(cache), HTTP_PROXY=proxy, HTTPS_PROXY=proxy,
               http_proxy=proxy, https_proxy=proxy, OMP_NUM_THREADS="1", NO_PROXY="")

    probe = _run([python, "-c",
                  "import json, course_utils; from course_utils.data import data_dir; "
                  "from course_utils.zoo import shipped_model; "
                  f"print(json.dumps([course_utils.__file__, str(data_dir()), "
                  f"str(shipped_model('{MODEL}').path)]))"], work, env)
    package, data, model = (Path(p) for p in json.loads(probe.stdout))
    site = python.parent.parent / "lib"
    assert site in package.parents and ROOT not in package.parents, package
    assert data == package.parent / "assets" and site in data.parents, data
    assert model.is_file() and site in model.parents, model

    result = _run([python, "-m", "course_utils", "evaluate", "--hr", "hr", "--model", MODEL,
                   "--json", "scores.json"], work, env)
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"method: {MODEL} (shipped), task: sr-x3"), result.stdout
    assert lines[1].split() == ["image", "HxW", "PSNR", "(dB)", "SSIM", "time", "(s)"], \
        result.stdout
    assert [line.split()[0] for line in lines[2:5]] == ["img0.png", "img1.png", "mean"]
    assert list(cache.iterdir()) == [], "the installed course downloaded instead of using the wheel"
    # The same scores as the checkout's model on the same images, in this process.
    scores = json.loads((work / "scores.json").read_text())
    ours = evaluate_folder(work / "hr", "sr-x3", model_method(load_pretrained(MODEL)[0]))
    assert scores["mean_psnr"] == pytest.approx(ours.mean_psnr, abs=1e-6)
    assert scores["mean_psnr"] > 30, scores


def test_postbuild_installs_the_course_as_binder_runs_it(tmp_path):
    """repo2docker cannot run here: run postBuild as Binder does (bash, in the repository root,
    after environment.yml's packages) in a copy of the checkout, with a fresh venv first on
    PATH. It must install the course editable (``import course_utils`` from the copy, from any
    folder) and put the course's JupyterLab settings where JupyterLab reads them."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in ("pyproject.toml", "README.md", "postBuild"):
        shutil.copy2(ROOT / name, repo / name)
    for folder in ("course_utils", "scripts/lab-settings"):
        shutil.copytree(ROOT / folder, repo / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*"))
    python = _venv_seeing_the_lock(tmp_path)
    venv = python.parent.parent
    lab = tmp_path / "lab"  # JupyterLab's application folder, as Binder's image has its own
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.update(PATH=f"{venv / 'bin'}:{Path(sys.executable).parent}:{env.get('PATH', '')}",
               # offline: no index, and no build isolation (pip reads PIP_NO_BUILD_ISOLATION
               # inverted: "0" turns isolation off), so the lock's setuptools builds it
               JUPYTERLAB_DIR=str(lab), PIP_NO_INDEX="1", PIP_NO_BUILD_ISOLATION="0",
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    _run(["bash", "postBuild"], repo, env)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    found = _run([python, "-c", "import course_utils; print(course_utils.__file__)"], elsewhere,
                 env).stdout.strip()
    assert Path(found).resolve() == (repo / "course_utils" / "__init__.py").resolve()
    course_settings = ROOT / "scripts" / "lab-settings" / "overrides.json"
    assert (lab / "settings" / "overrides.json").read_text() == course_settings.read_text()
