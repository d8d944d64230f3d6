"""The checks of unit 04's exercises: the solution passes, typical mistakes get specific
feedback, an unanswered exercise waits."""

from __future__ import annotations

import dataclasses

import pytest

from conftest import make_smooth
from course_utils.exercises import unit04 as check
from course_utils.exercises.common import WrongAnswer
from course_utils.experiments import Arm, ExperimentData, run_arms
from course_utils.models import get_model
from course_utils.models.freeze import freeze_stages, trainable_summary

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def unfrozen_counts(part=lambda parts: parts["encoder"][0]):
    model = get_model("backbone-unet", scale=4, pretrained=False)
    counts = {}
    for k in (5, 3, 1, 0):
        freeze_stages(model, k)
        counts[k] = part(trainable_summary(model))
    return counts


def test_exercise_1_waits_for_an_answer(capsys):
    assert check.exercise_1(...) is False
    assert "no answer yet" in capsys.readouterr().out


def test_exercise_1_accepts_the_solution(capsys):
    assert check.exercise_1(unfrozen_counts()) is True
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize(("wrong", "match"), [
    (lambda parts: sum(t for t, _ in parts.values()), "counts the decoder and head too"),
    (lambda parts: parts["encoder"][1] - parts["encoder"][0], "frozen"),
])
def test_exercise_1_names_the_typical_mistakes(wrong, match):
    answer = unfrozen_counts(wrong)
    with pytest.raises(WrongAnswer, match=match):
        check.exercise_1(answer)


def test_exercise_1_wants_every_count():
    answer = unfrozen_counts()
    del answer[0]
    with pytest.raises(WrongAnswer, match=r"missing: \[0\]"):
        check.exercise_1(answer)


@pytest.fixture(scope="module")
def tiny():
    data = ExperimentData("smooth", "sr-x2",
                          train={f"t{i}": make_smooth(48, 48, None, seed=i) for i in range(2)},
                          val={"v": make_smooth(32, 32, None, seed=4)},
                          heldout={"a": make_smooth(36, 36, None, seed=5)},
                          patch_lr=8, batch=2, steps_per_epoch=1)
    arm = Arm("U-Net", lambda: get_model("backbone-unet", scale=2, backbone="resnet18",
                                         pretrained=False, width=4))
    return data, run_arms([arm], data, epochs=1, progress=False)[0]


def test_exercise_2(tiny):
    data, result = tiny
    assert check.exercise_2(result, data.heldout, data.task) is True
    with pytest.raises(WrongAnswer, match="store the run itself"):
        check.exercise_2(result.model, data.heldout, data.task)
    wrong = dataclasses.replace(result, heldout=dataclasses.replace(result.heldout, rows=[
        {**row, "psnr": row["psnr"] + 1} for row in result.heldout.rows]))
    with pytest.raises(WrongAnswer, match="score it on the same held-out set"):
        check.exercise_2(wrong, data.heldout, data.task)
    espcn = dataclasses.replace(result, model=get_model("espcn", scale=2, channels=3))
    with pytest.raises(WrongAnswer, match="transfer_arms"):
        check.exercise_2(espcn, data.heldout, data.task)


def test_exercise_3(tiny):
    data, _ = tiny
    random = Arm("U-Net, random encoder",
                 lambda: get_model("backbone-unet", scale=2, pretrained=False, width=4))
    frozen = Arm("U-Net, frozen pretrained",
                 lambda: freeze_stages(get_model("backbone-unet", scale=2, width=4), 5))
    arms = (random.name, frozen.name)
    sizes = {n: run_arms([random, frozen], data, epochs=1, n_images=n, progress=False)
             for n in (1, 2)}
    assert check.exercise_3(sizes, (1, 2), arms, data.heldout, data.task) is True
    with pytest.raises(WrongAnswer, match="should have the keys"):
        check.exercise_3({1: sizes[1]}, (1, 2), arms, data.heldout, data.task)
    swapped = {1: sizes[2], 2: sizes[1]}
    with pytest.raises(WrongAnswer, match="trained on 2 photos, not 1"):
        check.exercise_3(swapped, (1, 2), arms, data.heldout, data.task)
    with pytest.raises(WrongAnswer, match="should hold"):
        check.exercise_3({1: sizes[1][:1], 2: sizes[2]}, (1, 2), arms, data.heldout, data.task)
