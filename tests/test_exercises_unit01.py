"""The checks of unit 01's exercises: right answers pass, ``...`` waits, typical mistakes get
specific feedback."""

from __future__ import annotations

import math

import numpy as np
import pytest

from course_utils import degrade, images, metrics
from course_utils.exercises import unit01 as check
from course_utils.exercises.common import WrongAnswer


def test_placeholder_waits_for_an_answer(capsys):
    assert check.exercise_1(...) is False
    assert check.exercise_2(..., ...) is False
    assert check.exercise_3(..., ..., ..., np.zeros((6, 6, 3))) is False
    assert capsys.readouterr().out.count("no answer yet") == 3


# -- exercise 1: the cubic kernel -------------------------------------------------------------

def keys(x, a=-0.5):
    x = np.abs(np.asarray(x, dtype=float))
    near = (a + 2) * x**3 - (a + 3) * x**2 + 1
    far = a * x**3 - 5 * a * x**2 + 8 * a * x - 4 * a
    return np.where(x <= 1, near, np.where(x <= 2, far, 0.0))


def test_exercise_1_right_answer_passes():
    assert check.exercise_1(keys)


def no_abs(x, a=-0.5):
    x = np.asarray(x, dtype=float)
    near = (a + 2) * x**3 - (a + 3) * x**2 + 1
    far = a * x**3 - 5 * a * x**2 + 8 * a * x - 4 * a
    return np.where(np.abs(x) <= 1, near, np.where(np.abs(x) <= 2, far, 0.0))


@pytest.mark.parametrize("answer, message", [
    (lambda x, a=-0.75: keys(x, a), "uses a = -0.75"),
    (lambda x, a=-0.5: keys(x, -0.5), "ignores a"),
    (no_abs, "depends on \\|d\\|"),
    (lambda x, a=-0.5: np.where(np.abs(x) <= 2, keys(np.minimum(np.abs(x), 2), a), 1e-3),
     "beyond \\|d\\| = 2"),
    (lambda x, a=-0.5: keys(x, a) + 0.01, "d = 0, 1, 2 are"),
    (lambda x, a: keys(x, a), "give a a default"),
    (lambda x: keys(x), "second parameter"),
    (lambda x, a=-0.5: np.where(np.abs(x) <= 1, keys(x, a), -keys(x, a)), "1 < \\|d\\| <= 2 piece"),
    (lambda x, a=-0.5: float(keys(np.ravel(x)[0], a)), "element-wise"),
])
def test_exercise_1_mistakes(answer, message):
    with pytest.raises(WrongAnswer, match=message):
        check.exercise_1(answer)


# -- exercise 2: one output pixel by hand -----------------------------------------------------

def hand_weights(u, stretch=True, first_j=1):
    s = 0.5
    j = np.arange(first_j, first_j + 16)
    w = s * degrade.cubic(s * (u - j)) if stretch else degrade.cubic(u - j)
    return w / w.sum()


def test_exercise_2_right_answer_passes(capsys):
    u = 4 / 0.5 + 0.5 * (1 - 1 / 0.5)
    assert check.exercise_2(u, hand_weights(u))
    assert "8 input pixels" in capsys.readouterr().out


@pytest.mark.parametrize("u, message", [
    (5.5, "output pixel 3"),  # 0-based x = 3
    (8.0, "half-pixel shift"),
    ("7.5 px", "should be a number"),
])
def test_exercise_2_wrong_coordinate(u, message):
    with pytest.raises(WrongAnswer, match=message):
        check.exercise_2(u, hand_weights(7.5))


@pytest.mark.parametrize("weights, message", [
    (hand_weights(7.5, stretch=False), "stretch the kernel"),
    (hand_weights(7.5, first_j=0), "shifted by one pixel"),
    (2 * hand_weights(7.5), "sum to 2"),
    (hand_weights(7.5)[:8], "shape \\(16,\\)"),
])
def test_exercise_2_wrong_weights(weights, message):
    with pytest.raises(WrongAnswer, match=message):
        check.exercise_2(7.5, weights)


# -- exercise 3: one resize for every kernel --------------------------------------------------

def resize_with_kernel(image, scale, kernel, support, antialias=True, mirror_borders=True):
    """The notebook's solution, with two switches that make typical mistakes."""
    out = np.asarray(image, dtype=float)
    for axis in (0, 1):
        n_in = out.shape[axis]
        n_out = math.ceil(round(n_in * scale, 10))
        stretch = min(scale, 1.0) if antialias else 1.0
        width = 2 * support / stretch
        u = np.arange(1, n_out + 1) / scale + 0.5 * (1 - 1 / scale)
        j = np.floor(u - width / 2)[:, None] + np.arange(math.ceil(width) + 2)
        w = stretch * kernel(stretch * (u[:, None] - j))
        w /= w.sum(axis=1, keepdims=True)
        if mirror_borders:
            mirror = np.concatenate([np.arange(n_in), np.arange(n_in - 1, -1, -1)])
            idx = mirror[(j.astype(int) - 1) % (2 * n_in)]
        else:
            idx = np.clip(j.astype(int) - 1, 0, n_in - 1)
        moved = np.moveaxis(out, axis, 0)
        out = np.moveaxis(np.einsum("ot,ot...->o...", w, moved[idx]), 0, axis)
    return out


@pytest.fixture(scope="module")
def hr3():
    yy, xx = np.mgrid[0:36, 0:42] / 5.0
    smooth = 0.5 + 0.35 * np.sin(xx) * np.cos(yy)
    noise = 0.1 * np.random.default_rng(2).random((36, 42, 3))
    return degrade.modcrop(np.clip(smooth[..., None] + noise, 0, 1), 3)


def scores(hr, function=resize_with_kernel):
    lr = images.to_float(degrade.make_lr(hr, 3))
    return {a: metrics.sr_metrics(np.clip(function(lr, 3, lambda d, a=a: degrade.cubic(d, a), 2),
                                          0, 1), hr, 3)[0]
            for a in (-0.5, -0.75)}


def test_exercise_3_right_answer_passes(hr3):
    found = scores(hr3)
    assert check.exercise_3(resize_with_kernel, found, max(found, key=found.get), hr3)


def test_exercise_3_checks_the_function_before_the_scores(capsys):
    assert check.exercise_3(resize_with_kernel, ..., ..., np.zeros((6, 6, 3))) is False
    out = capsys.readouterr().out
    assert "reproduces imresize" in out and "no answer yet" in out


@pytest.mark.parametrize("function, message", [
    (lambda im, s, k, n: resize_with_kernel(im, s, k, n, antialias=False), "without antialiasing"),
    (lambda im, s, k, n: resize_with_kernel(im, s, k, n, mirror_borders=False),
     "mirror the indices"),
    (lambda im, s, k, n: degrade.imresize(im, s), "triangle"),  # one kernel only
    (lambda im, s, k, n: np.moveaxis(resize_with_kernel(np.moveaxis(im, 0, 1), s, k, n), 0, 1)[:-1],
     "shape"),
    (lambda im, s, k, n: resize_with_kernel(im[..., None], s, k, n)[..., 0] if im.ndim == 3
     else 1 / 0, "ZeroDivisionError"),
])
def test_exercise_3_wrong_functions(function, message, hr3):
    with pytest.raises(WrongAnswer, match=message):
        check.exercise_3(function, ..., ..., hr3)


def test_exercise_3_wrong_scores(hr3):
    found = scores(hr3)
    best = max(found, key=found.get)
    worst = min(found, key=found.get)
    with pytest.raises(WrongAnswer, match="better_a"):
        check.exercise_3(resize_with_kernel, found, worst, hr3)
    with pytest.raises(WrongAnswer, match="swapped"):
        check.exercise_3(resize_with_kernel, {-0.5: found[-0.75], -0.75: found[-0.5]}, best, hr3)
    with pytest.raises(WrongAnswer, match="one number"):
        check.exercise_3(resize_with_kernel, {a: (p, 0.9) for a, p in found.items()}, best, hr3)
    with pytest.raises(WrongAnswer, match="keys"):
        check.exercise_3(resize_with_kernel, {"a=-0.5": 1.0, "a=-0.75": 2.0}, best, hr3)
    # LR made with PIL's bicubic instead of the benchmark's make_lr
    lr = images.to_float(images.to_uint8(np.clip(degrade.resize(hr3, 1 / 3, "bicubic-pil"), 0, 1)))
    pil = {a: metrics.sr_metrics(np.clip(resize_with_kernel(lr, 3, lambda d, a=a:
                                                            degrade.cubic(d, a), 2), 0, 1),
                                 hr3, 3)[0] for a in (-0.5, -0.75)}
    with pytest.raises(WrongAnswer, match="make_lr"):
        check.exercise_3(resize_with_kernel, pil, max(pil, key=pil.get), hr3)
