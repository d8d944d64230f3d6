"""The checks of unit 05's exercises: the solution passes, typical mistakes get specific
feedback, an unanswered exercise waits."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import make_smooth
from course_utils.data.medical import window
from course_utils.evaluation.evaluate import evaluate_images, model_method
from course_utils.exercises import unit05 as check
from course_utils.exercises.common import WrongAnswer
from course_utils.experiments import ExperimentData, cross_domain_arms, run_arms
from course_utils.training import distance_to_source
from course_utils.zoo import load_pretrained

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def hu():
    """A CT-like slice in Hounsfield units: air, soft tissue, lung and bone."""
    rng = np.random.default_rng(0)
    return rng.choice([-1000, -700, 40, 60, 900], size=(64, 64)).astype(float)


def fractions(hu, c, w):
    shown = window(hu, c, w)
    return float(np.mean(shown == 0)), float(np.mean(shown == 1))


def test_exercise_1(hu, capsys):
    assert check.exercise_1(..., hu) is False and "no answer yet" in capsys.readouterr().out
    right = {label: fractions(hu, c, w) for label, (c, w) in check.WINDOWS.items()}
    assert check.exercise_1(right, hu) is True
    with pytest.raises(WrongAnswer, match=r"is \(white, black\); store \(black, white\)"):
        check.exercise_1({k: v[::-1] for k, v in right.items()}, hu)
    with pytest.raises(WrongAnswer, match="looks like percentages"):
        check.exercise_1({k: (100 * v[0], 100 * v[1]) for k, v in right.items()}, hu)
    narrow = {label: fractions(hu, c, w / 4) for label, (c, w) in check.WINDOWS.items()}
    with pytest.raises(WrongAnswer, match="Apply window"):  # a wrong window
        check.exercise_1(narrow, hu)
    with pytest.raises(WrongAnswer, match="missing"):
        check.exercise_1({"lung": right["lung"]}, hu)


@pytest.fixture(scope="module")
def scans():
    return ExperimentData("smooth", "sr-x3",
                          train={f"t{i}": make_smooth(72, 72, None, seed=i) for i in range(2)},
                          val={"v": make_smooth(48, 48, None, seed=4)},
                          heldout={"a": make_smooth(54, 54, None, seed=5)},
                          patch_lr=8, batch=2, steps_per_epoch=2)


def l2sp_run(scans, alpha):
    arm = next(a for a in cross_domain_arms(l2sp_alpha=alpha) if a.name == "L2-SP")
    return run_arms([arm], scans, epochs=1, n_images=1, progress=False)[0]


def test_exercise_2(scans):
    source = load_pretrained("espcn_x3")[0]
    runs = {alpha: l2sp_run(scans, alpha) for alpha in (0.0, 0.1, 10.0)}
    plain = next(a for a in cross_domain_arms() if a.name == "fine-tune all")
    plain = run_arms([plain], scans, epochs=1, n_images=1, progress=False)[0]
    right = {a: (distance_to_source(r.model, source), r.heldout.mean_psnr) for a, r in runs.items()}
    assert check.exercise_2(right, source, plain) is True
    with pytest.raises(WrongAnswer, match=r"is \(PSNR, distance\)"):
        check.exercise_2({a: v[::-1] for a, v in right.items()}, source, plain)
    shifted = {**right, 0.0: (right[0.0][0], right[0.0][1] + 0.5)}
    with pytest.raises(WrongAnswer, match="alpha = 0 is plain fine-tuning"):
        check.exercise_2(shifted, source, plain)
    backwards = {**right, 10.0: (right[0.0][0] + 1, right[10.0][1])}
    with pytest.raises(WrongAnswer, match="strong pull"):
        check.exercise_2(backwards, source, plain)


def test_exercise_3(scans):
    source = load_pretrained("espcn_x3")[0]
    arm = next(a for a in cross_domain_arms() if a.name == "fine-tune all")
    tuned = run_arms([arm], scans, epochs=1, progress=False)[0]
    right = {"bicubic": evaluate_images(scans.heldout, scans.task, "bicubic").mean_psnr,
             "source zero-shot": evaluate_images(scans.heldout, scans.task,
                                                 model_method(source)).mean_psnr,
             "fine-tune all": tuned.heldout.mean_psnr}
    assert check.exercise_3(right, scans, source, tuned) is True
    on_train = {**right, "bicubic": evaluate_images(scans.train, scans.task, "bicubic").mean_psnr}
    with pytest.raises(WrongAnswer, match="score on the training tiles"):
        check.exercise_3(on_train, scans, source, tuned)
    with pytest.raises(WrongAnswer, match="should be the run"):
        check.exercise_3(right, scans, source, tuned.model)
