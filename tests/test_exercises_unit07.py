"""The checks of unit 07's exercises: the solution passes, typical mistakes get specific
feedback, an unanswered exercise waits."""

from __future__ import annotations

import math

import pytest
import torch

from conftest import make_smooth
from course_utils.compression import get_codec
from course_utils.exercises import unit07 as check
from course_utils.exercises.common import WrongAnswer
from course_utils.images import to_uint8
from course_utils.models import get_model

pytestmark = pytest.mark.usefixtures("one_torch_thread")

CONFIGS = [(4, 2), (16, 3)]


def test_exercise_1(capsys):
    assert check.exercise_1(..., CONFIGS) is False and "no answer yet" in capsys.readouterr().out
    right = {(c, levels): c / (3 * 4**levels) for c, levels in CONFIGS}
    assert check.exercise_1(right, CONFIGS) is True
    with pytest.raises(WrongAnswer, match="3 numbers per pixel"):
        check.exercise_1({(c, levels): c / 4**levels for c, levels in CONFIGS}, CONFIGS)
    with pytest.raises(WrongAnswer, match="not 2\\*\\*L"):
        check.exercise_1({(c, levels): c / (3 * 2**levels) for c, levels in CONFIGS}, CONFIGS)
    with pytest.raises(WrongAnswer, match="missing"):
        check.exercise_1({CONFIGS[0]: right[CONFIGS[0]]}, CONFIGS)
    # counted on a real code, not taken from the formula
    assert check.code_numbers_per_value(8, 2) == pytest.approx(8 / 48)


def test_exercise_2(capsys):
    image = make_smooth(64, 96, 3, seed=3)
    model = get_model("factorized-codec", N=8, M=8).eval()
    with torch.no_grad():
        likelihoods = model(torch.from_numpy(image).permute(2, 0, 1)[None].float()).likelihoods
    assert check.exercise_2(..., likelihoods, image) is False
    bits = float(-torch.log2(likelihoods).sum())
    assert check.exercise_2(bits / (64 * 96), likelihoods, image) is True
    with pytest.raises(WrongAnswer, match="in nats"):
        check.exercise_2(bits * math.log(2) / (64 * 96), likelihoods, image)
    with pytest.raises(WrongAnswer, match="bits per latent value"):
        check.exercise_2(bits / likelihoods.numel(), likelihoods, image)
    with pytest.raises(WrongAnswer, match="every colour value"):
        check.exercise_2(bits / (3 * 64 * 96), likelihoods, image)


def test_exercise_3():
    image = to_uint8(make_smooth(64, 96, 3, seed=4))
    jpeg = get_codec("jpeg")
    budget = len(jpeg.encode(image, 50)) + 1  # quality 50 fits, 51 may not
    qualities = [q for q in range(1, 101) if len(jpeg.encode(image, q)) <= budget]
    best = max(qualities)
    assert check.exercise_3(..., ..., image, budget) is False
    assert check.exercise_3(best, len(jpeg.encode(image, best)), image, budget) is True
    too_big = min(q for q in range(1, 101) if len(jpeg.encode(image, q)) > budget)
    with pytest.raises(WrongAnswer, match="may not spend more bits"):
        check.exercise_3(too_big, len(jpeg.encode(image, too_big)), image, budget)
    with pytest.raises(WrongAnswer, match="take the highest quality that fits"):
        check.exercise_3(qualities[0], len(jpeg.encode(image, qualities[0])), image, budget)
    with pytest.raises(WrongAnswer, match="bytes"):
        check.exercise_3(best, 1, image, budget)
