"""The checks of unit 00's exercises: right answers pass, ``...`` waits, typical mistakes get
specific feedback. Also: the course map of unit 00 agrees with every notebook's own header."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
from PIL import Image

from course_utils.data import load_image, save_image
from course_utils.evaluation import evaluate
from course_utils.exercises import unit00 as check
from course_utils.exercises.common import WrongAnswer
from course_utils.images import rgb_to_y
from course_utils.tasks import SuperResolution

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def test_placeholder_waits_for_an_answer(capsys):
    assert check.exercise_1(..., ...) is False
    assert check.exercise_2(..., ".", SuperResolution(3)) is False
    assert check.exercise_3(..., ..., np.zeros((4, 4, 3))) is False
    assert capsys.readouterr().out.count("no answer yet") == 3


# -- exercise 1: the largest and the smallest photo -------------------------------------------

PHOTOS = {"wide": np.zeros((10, 20, 3)), "tall": np.zeros((30, 5, 3)),
          "small": np.zeros((8, 8, 3))}  # 200, 150 and 64 pixels


def test_exercise_1_right_answer_passes():
    sizes = {n: im.shape[0] * im.shape[1] for n, im in PHOTOS.items()}
    assert check.exercise_1(max(sizes, key=sizes.get), min(sizes, key=sizes.get), PHOTOS)


@pytest.mark.parametrize("largest, smallest, message", [
    ("small", "wide", "swapped"),
    ("tall", "small", "most rows"),  # the tallest photo, not the largest
    ("wide", "tall", "'small' has 64"),
    ("Wide", "small", "not one of the photos"),
])
def test_exercise_1_mistakes(largest, smallest, message):
    with pytest.raises(WrongAnswer, match=message):
        check.exercise_1(largest, smallest, PHOTOS)


def test_exercise_1_wants_names_not_images():
    with pytest.raises(WrongAnswer, match="name"):
        check.exercise_1(PHOTOS["wide"], "small", PHOTOS)


# -- exercise 2: the nearest-neighbour baseline -----------------------------------------------

@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("heldout")
    yy, xx = np.mgrid[0:48, 0:60] / 12.0
    for k in range(2):
        smooth = 0.5 + 0.4 * np.sin(xx + k) * np.cos(yy)
        image = np.clip(smooth[..., None] + 0.05 * rng.random((48, 60, 3)), 0, 1)
        save_image(path / f"photo{k}.png", image)
    return path


def test_exercise_2_right_answer_passes(folder, capsys):
    task = SuperResolution(3)
    bicubic = evaluate.evaluate_folder(folder, task, "bicubic")
    assert check.exercise_2(evaluate.evaluate_folder(folder, task, "nearest"), folder, task,
                            bicubic)
    assert "bicubic" in capsys.readouterr().out


def test_exercise_2_mistakes(folder):
    task = SuperResolution(3)
    with pytest.raises(WrongAnswer, match="method 'bicubic'"):
        check.exercise_2(evaluate.evaluate_folder(folder, task, "bicubic"), folder, task)
    with pytest.raises(WrongAnswer, match="sr-x2"):
        check.exercise_2(evaluate.evaluate_folder(folder, SuperResolution(2), "nearest"),
                         folder, task)
    with pytest.raises(WrongAnswer, match="printed table"):
        check.exercise_2(evaluate.evaluate_folder(folder, task, "nearest").table(), folder, task)
    one = {"photo0.png": load_image(folder / "photo0.png")}
    with pytest.raises(WrongAnswer, match="whole folder"):
        check.exercise_2(evaluate.evaluate_images(one, task, "nearest"), folder, task)


def test_exercise_2_recomputes_every_score(folder):
    task = SuperResolution(3)
    result = evaluate.evaluate_folder(folder, task, "nearest")
    result.rows[1]["psnr"] += 0.5
    with pytest.raises(WrongAnswer, match="photo1.png: your PSNR"):
        check.exercise_2(result, folder, task)


# -- exercise 3: a 16-bit image of Y ----------------------------------------------------------

PHOTO = np.random.default_rng(1).random((20, 24, 3))


def save_and_reload(array: np.ndarray, path: Path) -> np.ndarray:
    Image.fromarray(array).save(path)
    return load_image(path)


def _saved(gray16: np.ndarray, folder: Path) -> Path:
    path = folder / "y16.png"
    Image.fromarray(gray16).save(path)
    return path


def right_gray16() -> np.ndarray:
    return np.round(rgb_to_y(PHOTO) / 255 * 65535).astype(np.uint16)


def test_exercise_3_right_answer_passes(tmp_path):
    gray16 = right_gray16()
    assert check.exercise_3(gray16, save_and_reload(gray16, tmp_path / "y16.png"), PHOTO)


@pytest.mark.parametrize("make, message", [
    (lambda: np.round(PHOTO.mean(axis=2) * 65535).astype(np.uint16), "mean of R, G and B"),
    (lambda: np.round(PHOTO @ np.array([0.299, 0.587, 0.114]) * 65535).astype(np.uint16),
     "full-range luma"),
    (lambda: np.round(rgb_to_y(PHOTO)).astype(np.uint16), "spans 0-65535"),
    (lambda: (np.round(rgb_to_y(PHOTO) * 65535).astype(np.int64) % 65536).astype(np.uint16),
     "wrapped around"),
    (lambda: np.round(rgb_to_y(PHOTO) / 255 * 65535), "dtype float64"),
    (lambda: np.round(np.stack([rgb_to_y(PHOTO)] * 3, -1) / 255 * 65535).astype(np.uint16),
     "Y is one channel"),
])
def test_exercise_3_mistakes_in_gray16(make, message, tmp_path):
    gray16 = make()
    with pytest.raises(WrongAnswer, match=message):
        check.exercise_3(gray16, np.zeros(PHOTO.shape[:2]), PHOTO)


def test_exercise_3_mistakes_in_reloaded(tmp_path):
    gray16 = right_gray16()
    eight_bit = save_and_reload((gray16 // 257).astype(np.uint8), tmp_path / "y8.png")
    with pytest.raises(WrongAnswer, match="only 8 bits"):
        check.exercise_3(gray16, eight_bit, PHOTO)
    with pytest.raises(WrongAnswer, match="data.load_image"):
        check.exercise_3(gray16, np.asarray(Image.open(_saved(gray16, tmp_path))), PHOTO)


# -- the course map ---------------------------------------------------------------------------

TIME = re.compile(r"\*\*Time to learn\*\*:\s*(\d+)\s*minutes")


def test_course_map_matches_every_notebooks_time_to_learn():
    """Each row of unit 00's course map gives the time that the unit's own Prerequisites
    cell states, and every unit that is listed but has no notebook is marked as coming."""
    welcome = nbformat.read(NOTEBOOKS / "00_welcome.ipynb", as_version=4)
    course_map = next(c.source for c in welcome.cells
                      if c.cell_type == "markdown" and c.source.startswith("## 2. The course map"))
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| (\d{2}) \|.*$", course_map,
                                                         re.MULTILINE)}
    existing = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    assert existing, "no notebooks found"
    for path in existing:
        unit = path.name[:2]
        assert unit in rows, f"unit {unit} ({path.name}) is missing from the course map"
        header = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells[:4])
        minutes = TIME.search(header)
        assert minutes, f"{path.name} states no '**Time to learn**: N minutes'"
        assert f"| {minutes.group(1)} min |" in rows[unit], (
            f"the course map gives unit {unit} another time than {path.name} "
            f"({minutes.group(1)} minutes): {rows[unit]}")
    for unit, row in rows.items():
        if not any(p.name.startswith(unit) for p in existing):
            assert "coming" in row.lower(), f"unit {unit} has no notebook yet: mark it coming"
