"""The checks of unit 06's exercises: the solution passes, typical mistakes get specific
feedback, an unanswered exercise waits."""

from __future__ import annotations

import numpy as np
import pytest
import pywt

from conftest import make_smooth
from course_utils.exercises import unit06 as check
from course_utils.exercises.common import WrongAnswer
from course_utils.experiments import ExperimentData, fusion_arms, learned_alphas, run_arms

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def noisy():
    clean = make_smooth(96, 96, None, seed=1)
    rng = np.random.default_rng(0)
    return {s: clean + rng.normal(0, s / 255, clean.shape) for s in check.SIGMAS}


def mad_sigma(image):
    _, (_, _, d) = pywt.dwt2(image, "db2")
    return float(np.median(np.abs(d)) / 0.6745 * 255)


def test_exercise_1(noisy, capsys):
    assert check.exercise_1(..., noisy) is False and "no answer yet" in capsys.readouterr().out
    right = {s: mad_sigma(noisy[s]) for s in check.SIGMAS}
    assert check.exercise_1(right, noisy) is True
    assert abs(right[25] - 25) < 2  # the estimate works on a smooth image
    with pytest.raises(WrongAnswer, match="multiply by 255"):
        check.exercise_1({s: v / 255 for s, v in right.items()}, noisy)
    with pytest.raises(WrongAnswer, match="divide it by 0.6745"):
        check.exercise_1({s: v * 0.6745 for s, v in right.items()}, noisy)
    with pytest.raises(WrongAnswer, match="estimate_sigma gives"):
        check.exercise_1({s: float(s) * 1.3 for s in check.SIGMAS}, noisy)
    with pytest.raises(WrongAnswer, match="missing"):
        check.exercise_1({25: right[25]}, noisy)


def test_exercise_2():
    clean = make_smooth(64, 64, None, seed=2)
    noisy = clean + np.random.default_rng(1).normal(0, 0.1, clean.shape)
    right = check.self_supervised_losses(noisy, clean)
    assert check.exercise_2(right, noisy, clean) is True
    # The lesson the check teaches: the ring's self-supervised loss is its error + sigma^2.
    self_loss, true_mse = right["ring"]
    assert self_loss == pytest.approx(true_mse + 0.01, rel=0.1)
    assert right["box"][0] < right["box"][1] + 0.01 - 0.001  # 2 sigma^2 / 9 lower
    with pytest.raises(WrongAnswer, match="holds the ring filter's numbers"):
        check.exercise_2({"box": right["ring"], "ring": right["box"]}, noisy, clean)
    with pytest.raises(WrongAnswer, match=r"is \(true, self\)"):
        check.exercise_2({k: v[::-1] for k, v in right.items()}, noisy, clean)
    with pytest.raises(WrongAnswer, match="0-255 scale"):
        check.exercise_2({k: (255**2 * v[0], 255**2 * v[1]) for k, v in right.items()},
                         noisy, clean)
    with pytest.raises(WrongAnswer, match="without the centre"):  # the ring with the centre
        check.exercise_2({"box": right["box"], "ring": right["box"]}, noisy, clean)


def test_exercise_3(capsys):
    photos = {f"p{i}": make_smooth(64, 64, seed=i) for i in range(2)}
    data = ExperimentData("tiny", "jpeg-10-gray", photos, {"v": make_smooth(48, 48, seed=5)},
                          {"h": make_smooth(48, 48, seed=6)}, patch_lr=16, batch=2,
                          steps_per_epoch=2)
    arm = fusion_arms(alphas=(), learned=("layer",))[0]
    run = run_arms([arm], data, epochs=1, progress=False)[0]
    assert check.exercise_3(..., run) is False and "no answer yet" in capsys.readouterr().out
    right = [row["mean α"] for row in learned_alphas(run.model)]
    assert check.exercise_3(right, run) is True
    with pytest.raises(WrongAnswer, match="free parameters a"):
        check.exercise_3([float(run.model.a1.detach()), float(run.model.a2.detach())], run)
    with pytest.raises(WrongAnswer, match="the run learned"):
        check.exercise_3([0.5, 0.5], run)
    denoise = ExperimentData("tiny", "denoise-25-gray", photos, data.val, data.heldout,
                             patch_lr=16, batch=2, steps_per_epoch=2)
    other = run_arms([arm], denoise, epochs=1, progress=False)[0]
    with pytest.raises(WrongAnswer, match="with a JPEG task"):
        check.exercise_3(right, other)
