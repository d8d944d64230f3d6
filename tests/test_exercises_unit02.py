"""The checks of unit 02's exercises: right answers pass, ``...`` waits, typical mistakes get
specific feedback."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import metrics as skm

from course_utils import degrade, explore, images, metrics
from course_utils.exercises import unit02 as check
from course_utils.exercises.common import WrongAnswer


def smooth_photo(side: int = 64) -> np.ndarray:
    """A small RGB image with edges, texture and bright regions that clip at white."""
    yy, xx = np.mgrid[0:side, 0:side] / side
    rng = np.random.default_rng(1)
    base = 0.5 + 0.45 * np.sin(6 * xx) * np.cos(4 * yy)
    image = np.stack([base, 0.8 * base + 0.2 * xx, np.clip(base + 0.3 * yy, 0, 1)], axis=-1)
    image = degrade.gaussian_blur(image + 0.05 * rng.standard_normal(image.shape), 1.0)
    return np.clip(image, 0.0, 1.0)


@pytest.fixture(scope="module")
def pair():
    reference = smooth_photo()
    return reference, degrade.add_gaussian_noise(reference, 0.05, rng=0)


def test_placeholder_waits_for_an_answer(capsys, pair):
    reference, noisy = pair
    assert check.exercise_1(..., ..., ...) is False
    assert check.exercise_2(..., images.y_channel(reference), images.y_channel(noisy)) is False
    assert check.exercise_3(..., ..., ..., ..., reference, noisy) is False
    assert check.exercise_4(..., ..., reference) is False
    assert capsys.readouterr().out.count("no answer yet") == 4


# -- exercise 1: PSNR from MSE ----------------------------------------------------------------

def psnr_from_mse(mse, data_range):
    return 10 * np.log10(data_range**2 / mse)


def test_exercise_1_right_answer_passes():
    assert check.exercise_1(psnr_from_mse, psnr_from_mse(1.0, 255.0),
                            psnr_from_mse((1 / 255) ** 2, 1.0))


RIGHT = psnr_from_mse(1.0, 255.0)


@pytest.mark.parametrize("function, level_8bit, level_float, message", [
    (lambda m, L: 20 * np.log10(L**2 / m), RIGHT, RIGHT, "Twice that: 20 log10"),
    (lambda m, L: 10 * np.log10(L / m), RIGHT, RIGHT, "divided L, not L\\^2"),
    (lambda m, L: 10 * np.log(L**2 / m), RIGHT, RIGHT, "natural logarithm"),
    (lambda m, L: 10 * np.log10(m / L**2), RIGHT, RIGHT, "sign is flipped"),
    (lambda m: 10 * np.log10(255**2 / m), RIGHT, RIGHT, "raised TypeError"),
    (psnr_from_mse, psnr_from_mse(1.0, 1.0), RIGHT, "You used L = 1"),
    (psnr_from_mse, RIGHT, psnr_from_mse(1 / 255, 1.0), "MSE as 1/255"),
    (psnr_from_mse, RIGHT, psnr_from_mse(1.0, 1.0), "whole range"),
    (psnr_from_mse, "48 dB", RIGHT, "should be a number"),
])
def test_exercise_1_mistakes(function, level_8bit, level_float, message):
    with pytest.raises(WrongAnswer, match=message):
        check.exercise_1(function, level_8bit, level_float)


# -- exercise 2: SSIM with a uniform window ---------------------------------------------------

@pytest.fixture(scope="module")
def gray(pair):
    reference, noisy = pair
    return images.y_channel(reference), images.y_channel(noisy)


def test_exercise_2_right_answer_passes(gray):
    x, y = gray
    # what the solution computes: the notebook's my_ssim with a 7x7 window of weights 1/49
    window = np.full((7, 7), 1 / 49)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def local_mean(image):
        view = np.lib.stride_tricks.sliding_window_view(image, window.shape)
        return np.einsum("ijkl,kl->ij", view, window)

    mu_x, mu_y = local_mean(x), local_mean(y)
    var_x, var_y = local_mean(x * x) - mu_x**2, local_mean(y * y) - mu_y**2
    cov = local_mean(x * y) - mu_x * mu_y
    ssim_map = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / (
        (mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    assert check.exercise_2(ssim_map.mean(), x, y)


@pytest.mark.parametrize("answer, message", [
    (lambda x, y: metrics.ssim(x, y, data_range=255.0), "Gaussian 11x11"),
    (lambda x, y: skm.structural_similarity(x, y, data_range=255), "N - 1"),
    (lambda x, y: skm.structural_similarity(x, y, data_range=1.0, gaussian_weights=False,
                                            win_size=7, use_sample_covariance=False), "L = 1"),
    (lambda x, y: skm.structural_similarity(x, y, data_range=255, gaussian_weights=False,
                                            win_size=11, use_sample_covariance=False),
     "11x11 uniform"),
    (lambda x, y: 0.5, "the uniform 7x7 SSIM is"),
    (lambda x, y: None, "should be a number"),
])
def test_exercise_2_mistakes(gray, answer, message):
    x, y = gray
    with pytest.raises(WrongAnswer, match=message):
        check.exercise_2(answer(x, y), x, y)


# -- exercise 3: a brightness change as bad as noise -----------------------------------------

def test_exercise_3_right_answer_passes(pair):
    reference, noisy = pair
    shift, _ = explore.match_mse(reference, "mean shift", metrics.mse(reference, noisy))
    shifted = explore.distort(reference, "mean shift", shift)
    assert check.exercise_3(shift, shifted, metrics.ssim(reference, shifted),
                            metrics.ssim(reference, noisy), reference, noisy)


def test_exercise_3_mistakes(pair):
    reference, noisy = pair
    shift, _ = explore.match_mse(reference, "mean shift", metrics.mse(reference, noisy))
    shifted = np.clip(reference + shift, 0, 1)
    right = metrics.ssim(reference, shifted), metrics.ssim(reference, noisy)
    root = np.sqrt(metrics.mse(reference, noisy))
    assert shift > root * 1.01, "the test image must clip enough for sqrt(MSE) to be wrong"
    with pytest.raises(WrongAnswer, match="Your shift is sqrt\\(MSE\\)"):
        naive = np.clip(reference + root, 0, 1)
        check.exercise_3(root, naive, metrics.ssim(reference, naive), right[1], reference, noisy)
    with pytest.raises(WrongAnswer, match="clip it to \\[0, 1\\]"):
        check.exercise_3(shift, reference + shift, *right, reference, noisy)
    with pytest.raises(WrongAnswer, match="not the reference plus shift"):
        check.exercise_3(shift + 0.01, shifted, *right, reference, noisy)
    with pytest.raises(WrongAnswer, match="swapped"):
        check.exercise_3(shift, shifted, right[1], right[0], reference, noisy)
    y_ssim = metrics.ssim(images.y_channel(reference), images.y_channel(shifted),
                          data_range=255.0)
    with pytest.raises(WrongAnswer, match="SSIM on Y"):
        check.exercise_3(shift, shifted, y_ssim, right[1], reference, noisy)
    with pytest.raises(WrongAnswer, match="shape"):
        check.exercise_3(shift, shifted[..., 0], *right, reference, noisy)


# -- exercise 4: same errors, different signs -------------------------------------------------

def sign_answers(reference, seed=0, clip=False, one_sign=False):
    e = degrade.gaussian_blur(reference, 1.5) - reference
    rng = np.random.default_rng(seed)
    signs = rng.choice([-1.0, 1.0]) if one_sign else rng.choice([-1.0, 1.0], size=e.shape)
    built = {"blurred": reference + e, "sharpened": reference - e,
             "scrambled": reference + signs * e}
    if clip:
        built = {name: np.clip(image, 0, 1) for name, image in built.items()}
    return {name: metrics.ssim(reference, image) for name, image in built.items()}


def test_exercise_4_right_answer_passes(pair):
    reference, _ = pair
    sign_ssim = sign_answers(reference)
    assert check.exercise_4(sign_ssim, max(sign_ssim, key=sign_ssim.get), reference)
    # other signs drawn (another seed) are accepted too
    assert check.exercise_4(sign_answers(reference, seed=5), max(sign_ssim, key=sign_ssim.get),
                            reference)


def test_exercise_4_mistakes(pair):
    reference, _ = pair
    right = sign_answers(reference)
    best = max(right, key=right.get)
    swapped = right | {"blurred": right["sharpened"], "sharpened": right["blurred"]}
    with pytest.raises(WrongAnswer, match="are swapped"):
        check.exercise_4(swapped, best, reference)
    clipped = sign_answers(reference, clip=True)
    assert abs(clipped["sharpened"] - right["sharpened"]) > 1e-6, "the test image must clip"
    with pytest.raises(WrongAnswer, match="SSIM of the clipped image"):
        check.exercise_4(clipped, best, reference)
    one_sign = right | {"scrambled": right["blurred"]}
    with pytest.raises(WrongAnswer, match="one random sign per value"):
        check.exercise_4(one_sign, best, reference)
    worst = min(right, key=right.get)
    with pytest.raises(WrongAnswer, match=f"the highest SSIM is the {best} image"):
        check.exercise_4(right, worst, reference)
    with pytest.raises(WrongAnswer, match="should be one of"):
        check.exercise_4(right, "sharp", reference)
    with pytest.raises(WrongAnswer, match="missing"):
        check.exercise_4({"blurred": 0.9}, best, reference)
