"""The checks of unit 03's exercises: right answers pass, ``...`` waits, typical mistakes get
specific feedback."""

from __future__ import annotations

import pytest
import torch

from course_utils.exercises import unit03 as check
from course_utils.exercises.common import WrongAnswer
from course_utils.models import count_macs, count_parameters, get_model
from course_utils.models.sr import ESPCN


def test_placeholder_waits_for_an_answer(capsys):
    assert check.exercise_1(...) is False
    assert check.exercise_2(..., 3) is False
    assert check.exercise_3(..., 3) is False
    assert check.exercise_4(...) is False
    assert capsys.readouterr().out.count("no answer yet") == 4


# -- exercise 1: ESPCN's parameters by hand ---------------------------------------------------

def espcn_parameters(scale, n1=64, n2=32, biases=True):
    layers = [(5, 1, n1), (3, n1, n2), (3, n2, scale**2)]
    return sum(k * k * c_in * c_out + (c_out if biases else 0) for k, c_in, c_out in layers)


def test_exercise_1_right_answer_passes():
    assert check.exercise_1(espcn_parameters)


def test_the_papers_convention_is_the_weights_only():
    """SRCNN's paper counts 8,032 (9-1-5) and 57,184 (9-5-5) weights; with biases 8,129 and
    57,281. The check's weights-only count follows that convention."""
    for name, weights, total in (("srcnn-915", 8_032, 8_129), ("srcnn-955", 57_184, 57_281)):
        model = get_model(name, scale=3)
        assert check._weights(model) == weights
        assert count_parameters(model) == total


@pytest.mark.parametrize("answer, message", [
    (lambda s, n1=64, n2=32, biases=True: espcn_parameters(s, n1, n2, False),
     "counted the weights only"),
    (lambda s, n1=64, n2=32, biases=True: espcn_parameters(s, n1, n2, True),
     "leave out the .* biases"),
    (lambda s, n1=64, n2=32, biases=True:
     espcn_parameters(s, n1, n2, biases) - (9 * n2 + biases) * (s**2 - s), "not scale = "),
    (lambda s, n1=64, n2=32, biases=True: espcn_parameters(s, 64, 32, biases), "paper's widths"),
    (lambda s, n1=64, n2=32: espcn_parameters(s, n1, n2), "biases=True"),
    (lambda s, n1=64, n2=32, biases=True: espcn_parameters(s, n1, n2, biases) + 1,
     "Layers: 5x5"),
    (lambda s, n1=64, n2=32, biases=True: espcn_parameters(s, n1, n2, biases) / 1000,
     "whole number"),
])
def test_exercise_1_mistakes(answer, message):
    with pytest.raises(WrongAnswer, match=message):
        check.exercise_1(answer)


# -- exercise 2: width against accuracy -------------------------------------------------------

def width_rows(scale=3, psnrs=(25.1, 26.0, 26.4)):
    """Rows as the solution builds them; the PSNRs stand in for three short trainings."""
    return [{"features": str(f), "parameters": count_parameters(ESPCN(scale, features=f)),
             "best val PSNR (dB)": p} for f, p in zip(check.WIDTHS, psnrs, strict=True)]


def test_exercise_2_right_answer_passes():
    assert check.exercise_2(width_rows(), 3)
    tuples = [row | {"features": tuple(check.WIDTHS[i])} for i, row in enumerate(width_rows())]
    assert check.exercise_2(tuples, 3)


def test_exercise_2_mistakes():
    rows = width_rows()
    with pytest.raises(WrongAnswer, match="weights only"):
        check.exercise_2([rows[0] | {"parameters": check._weights(ESPCN(3, features=(16, 8)))},
                          *rows[1:]], 3)
    with pytest.raises(WrongAnswer, match="model for scale 2"):
        check.exercise_2(width_rows(scale=2), 3)
    with pytest.raises(WrongAnswer, match="not a loss"):
        check.exercise_2(width_rows(psnrs=(0.004, 0.003, 0.002)), 3)
    with pytest.raises(WrongAnswer, match="same PSNR"):
        check.exercise_2(width_rows(psnrs=(26.0, 26.0, 26.0)), 3)
    with pytest.raises(WrongAnswer, match="in that order"):
        check.exercise_2(rows[::-1], 3)
    with pytest.raises(WrongAnswer, match="one per width"):
        check.exercise_2(rows[:2], 3)
    with pytest.raises(WrongAnswer, match="missing"):
        check.exercise_2([{"features": "(16, 8)"}, *rows[1:]], 3)


# -- exercise 3: the cost of FSRCNN's deconvolution -------------------------------------------

def deconv_share(scale=3, side=170):
    fsrcnn = get_model("fsrcnn", scale=scale)
    return (count_macs(fsrcnn.deconv, (1, 56, side, side))
            / count_macs(fsrcnn, (1, 1, side, side)))


SMALL = 34  # LR side of the quick tests: the share does not depend on the image size


def test_exercise_3_right_answer_passes():
    assert check.exercise_3(deconv_share(), 3)
    assert check.exercise_3(deconv_share(2, SMALL), 2, lr_side=SMALL)


@pytest.mark.parametrize("wrong, message", [
    (lambda share: 100 * share, "percentage"),
    (lambda share: 1 / share, "total / deconvolution"),
    (lambda share: 1 - share, "except the deconvolution"),
    (lambda share: 9 * share, "HR pixels"),
    (lambda share: "36%", "should be a number"),
    (lambda share: share * 1.1, "a share of"),
])
def test_exercise_3_mistakes(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check.exercise_3(wrong(deconv_share(3, SMALL)), 3, lr_side=SMALL)


def test_exercise_3_parameter_share_is_named():
    fsrcnn = get_model("fsrcnn", scale=3)
    share = sum(p.numel() for p in fsrcnn.deconv.parameters()) / count_parameters(fsrcnn)
    with pytest.raises(WrongAnswer, match="share of the parameters"):
        check.exercise_3(share, 3, lr_side=SMALL)


# -- exercise 4: PixelShuffle by hand ---------------------------------------------------------

def my_pixel_shuffle(t, r):
    n, c_r2, h, w = t.shape
    c = c_r2 // (r * r)
    return t.reshape(n, c, r, r, h, w).permute(0, 1, 4, 2, 5, 3).reshape(n, c, h * r, w * r)


def swapped_offsets(t, r):  # channel i r + j sent to offset (j, i)
    n, c_r2, h, w = t.shape
    c = c_r2 // (r * r)
    return t.reshape(n, c, r, r, h, w).permute(0, 1, 4, 3, 5, 2).reshape(n, c, h * r, w * r)


def channels_last(t, r):  # channels split as (r, r, C) instead of (C, r, r)
    n, c_r2, h, w = t.shape
    c = c_r2 // (r * r)
    return t.reshape(n, r, r, c, h, w).permute(0, 3, 4, 1, 5, 2).reshape(n, c, h * r, w * r)


def test_exercise_4_right_answer_passes():
    assert check.exercise_4(my_pixel_shuffle)
    assert check.exercise_4(lambda t, r: torch.nn.functional.pixel_shuffle(t, r))


@pytest.mark.parametrize("answer, message", [
    (swapped_offsets, "output channel 0, row 0, column 1 holds input channel 2"),
    (channels_last, "right with one output channel, wrong with C = 3"),
    (lambda t, r: t.reshape(t.shape[0], -1, t.shape[2] * r, t.shape[3] * r),
     "output channel 0, row 0, column 1 holds input channel 0 at \\(row 0, column 1\\)"),
    (lambda t, r: my_pixel_shuffle(t, r) + 0.5, "no input value"),
    (lambda t, r: my_pixel_shuffle(t, r)[:, :, ::2], "returned shape"),
    (lambda t, r: my_pixel_shuffle(t, r).numpy(), "should return a tensor"),
    (lambda t: t, "raised TypeError"),
])
def test_exercise_4_mistakes(answer, message):
    with pytest.raises(WrongAnswer, match=message):
        check.exercise_4(answer)
