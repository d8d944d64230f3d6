"""Checks of unit 02's exercises (quality metrics): PSNR from MSE, SSIM with a uniform window,
a brightness change as bad as noise, and the same errors with different signs."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from types import EllipsisType

import numpy as np
from skimage.metrics import structural_similarity

from ..degrade import gaussian_blur
from ..images import to_float, y_channel
from ..metrics import mse, psnr, ssim
from .common import WrongAnswer, attempted, expect, expect_keys, passed

__all__ = ["exercise_1", "exercise_2", "exercise_3", "exercise_4"]


def _number(value: object, what: str) -> float:
    """``value`` as a float; anything else is a :class:`WrongAnswer` that says so."""
    try:
        return float(value)
    except (TypeError, ValueError):
        raise WrongAnswer(f"{what} should be a number, got {type(value).__name__}.") from None


def exercise_1(psnr_from_mse: Callable[[float, float], float] | EllipsisType,
               psnr_one_level_8bit: float | EllipsisType,
               psnr_one_level_float: float | EllipsisType) -> bool:
    r"""``psnr_from_mse(mse, data_range)``: :math:`10 \log_{10}(L^2 / \mathrm{MSE})`;
    ``psnr_one_level_8bit`` and ``psnr_one_level_float``: the PSNR of an image in which every
    pixel is off by one grey level, on the 0-255 scale and on [0, 1].

    The function is compared with the formula at three (MSE, L) pairs, and the two values with
    :func:`course_utils.metrics.psnr` of a flat 8-bit image against the same image plus one
    (as uint8 with L = 255, and divided by 255 with L = 1). The feedback names the usual
    slips: ``20 log10`` of a power ratio, L instead of L squared, the natural logarithm, the
    MSE of one level on [0, 1] taken as 1/255 instead of (1/255) squared.
    """
    if not (attempted(psnr_from_mse, 1) and attempted(psnr_one_level_8bit, 1)
            and attempted(psnr_one_level_float, 1)):
        return False
    expect(callable(psnr_from_mse),
           f"psnr_from_mse should be a function, got {type(psnr_from_mse).__name__}.")
    for error, peak in ((1.0, 255.0), (0.01, 1.0), (2.5, 255.0)):
        want = 10 * math.log10(peak**2 / error)
        try:
            value = psnr_from_mse(error, peak)
        except Exception as err:  # noqa: BLE001 - any error of the student's code is feedback
            raise WrongAnswer(f"psnr_from_mse({error}, {peak}) raised "
                              f"{type(err).__name__}: {err}") from err
        got = _number(value, f"psnr_from_mse({error}, {peak})")
        if math.isclose(got, want, rel_tol=1e-9):
            continue
        call = f"psnr_from_mse({error}, {peak}) returns {got:.4f}; 10 log10({peak:g}^2 / " \
               f"{error:g}) = {want:.4f} dB"
        slips = {
            2 * want: "twice that: 20 log10 is for amplitude ratios (L / sqrt(MSE)); "
                      "L^2 / MSE is a power ratio, so the factor is 10",
            10 * math.log10(peak / error): "you divided L, not L^2, by the MSE",
            10 * math.log(peak**2 / error): "that is the natural logarithm: use np.log10",
            -want: "the sign is flipped: the ratio is L^2 / MSE, not MSE / L^2",
        }
        hint = next((text for value, text in slips.items()
                     if math.isclose(got, value, rel_tol=1e-9, abs_tol=1e-12)), "")
        raise WrongAnswer(call + (f". {hint[0].upper()}{hint[1:]}." if hint else "."))
    grey = np.full((16, 16), 100, dtype=np.uint8)
    want_8bit = psnr(grey, grey + 1, data_range=255)
    want_float = psnr(grey / 255, (grey + 1) / 255, data_range=1.0)
    got_8bit = _number(psnr_one_level_8bit, "psnr_one_level_8bit")
    if not math.isclose(got_8bit, want_8bit, abs_tol=1e-6):
        hint = (" You used L = 1: the peak of 8-bit data is 255."
                if math.isclose(got_8bit, 0.0, abs_tol=1e-6) else "")
        raise WrongAnswer(f"psnr_one_level_8bit is {got_8bit:.4f} dB; one grey level of error "
                          f"everywhere is MSE = 1 with L = 255, {want_8bit:.4f} dB.{hint}")
    got_float = _number(psnr_one_level_float, "psnr_one_level_float")
    if not math.isclose(got_float, want_float, abs_tol=1e-6):
        slips = {
            10 * math.log10(255): "you took the MSE as 1/255; one level is 1/255 on [0, 1], and "
                                  "the MSE squares it: (1/255)^2",
            0.0: "an error of 1 on [0, 1] is the whole range; one grey level is 1/255",
        }
        hint = next((text for value, text in slips.items()
                     if math.isclose(got_float, value, abs_tol=1e-6)), "")
        raise WrongAnswer(f"psnr_one_level_float is {got_float:.4f} dB; it should be "
                          f"{want_float:.4f} dB" + (f": {hint}." if hint else "."))
    return passed(1, f"Both are {want_8bit:.2f} dB: PSNR does not depend on the scale.")


def exercise_2(ssim_uniform: float | EllipsisType, x: np.ndarray, y: np.ndarray) -> bool:
    """``ssim_uniform``: the SSIM of the gray images ``x`` and ``y`` (Y on the 0-255 scale,
    L = 255) with a uniform 7x7 window, all weights 1/49, variances divided by the sum of
    the weights.

    Recomputed with scikit-image (``gaussian_weights=False, win_size=7,
    use_sample_covariance=False``); the feedback recognises the Gaussian 11x11 SSIM,
    scikit-image's default (sample covariance), a wrong data range and an 11x11 window.
    """
    if not attempted(ssim_uniform, 2):
        return False
    got = _number(ssim_uniform, "ssim_uniform")

    def uniform(data_range: float = 255.0, size: int = 7, sample: bool = False) -> float:
        return float(structural_similarity(x, y, data_range=data_range, gaussian_weights=False,
                                           win_size=size, use_sample_covariance=sample))

    want = uniform()
    if abs(got - want) < 1e-6:
        return passed(2, f"uniform 7x7 SSIM = {want:.6f}.")
    slips = {
        float(ssim(x, y, data_range=255.0)): "that is the Gaussian 11x11 SSIM of section 2: use "
        "a 7x7 window with all weights 1/49",
        uniform(sample=True): "that is scikit-image's default, which divides the local "
        "variances by N - 1 (use_sample_covariance=True); our local_mean divides by the sum "
        "of the weights, 1",
        uniform(data_range=1.0): "that uses L = 1 on 0-255 data: the constants C1 and C2 "
        "need L = 255",
        uniform(size=11): "that is an 11x11 uniform window; the task asks for 7x7",
    }
    hint = next((text for value, text in slips.items() if abs(got - value) < 1e-6), "")
    raise WrongAnswer(f"ssim_uniform is {got:.6f}; the uniform 7x7 SSIM is {want:.6f}"
                      + (f": {hint}." if hint else "."))


def exercise_3(shift: float | EllipsisType, shifted: np.ndarray | EllipsisType,
               ssim_shifted: float | EllipsisType, ssim_noisy: float | EllipsisType,
               reference: np.ndarray, noisy: np.ndarray) -> bool:
    """``shifted``: ``reference + shift`` clipped to [0, 1], with the PSNR of ``noisy`` (to
    0.01 dB); ``ssim_shifted`` and ``ssim_noisy``: the RGB SSIMs (``metrics.ssim``, L = 1) of
    both against ``reference``.

    The PSNRs and SSIMs are recomputed; the feedback recognises a shift of sqrt(MSE) (which
    ignores the clipping at white), a missing clip, SSIM on Y instead of RGB, and the two
    SSIMs swapped.
    """
    if not all(attempted(a, 3) for a in (shift, shifted, ssim_shifted, ssim_noisy)):
        return False
    reference, noisy = to_float(reference), to_float(noisy)
    d = _number(shift, "shift")
    image = np.asarray(shifted, dtype=np.float64)
    expect(image.shape == reference.shape,
           f"shifted has shape {image.shape}; it should be the reference's, {reference.shape}.")
    expect(image.max() <= 1.0 and image.min() >= 0.0,
           f"shifted has values up to {image.max():.3f}: clip it to [0, 1], as a saved image "
           "would be (np.clip or explore.distort).")
    expect(np.abs(image - np.clip(reference + d, 0.0, 1.0)).max() < 1e-9,
           f"shifted is not the reference plus shift = {d:.4f}, clipped to [0, 1].")
    want_psnr, got_psnr = psnr(reference, noisy), psnr(reference, image)
    if abs(got_psnr - want_psnr) >= 0.01:
        root = math.sqrt(mse(reference, noisy))
        hint = (f" Your shift is sqrt(MSE) = {root:.4f}: without clipping it would give the "
                "noisy image's MSE, but the pixels clipped at white keep less than the full "
                "shift, so the shift must be a little larger (explore.match_mse searches it "
                "with the clipping)." if math.isclose(d, root, rel_tol=1e-4) else "")
        raise WrongAnswer(f"the shifted image has a PSNR of {got_psnr:.3f} dB, the noisy one "
                          f"{want_psnr:.3f} dB; they should agree to 0.01 dB.{hint}")
    want = {"ssim_shifted": ssim(reference, image), "ssim_noisy": ssim(reference, noisy)}
    got = {"ssim_shifted": _number(ssim_shifted, "ssim_shifted"),
           "ssim_noisy": _number(ssim_noisy, "ssim_noisy")}
    if all(abs(got[k] - want[k]) < 1e-6 for k in want):
        return passed(3, f"same PSNR ({want_psnr:.2f} dB), SSIM {want['ssim_shifted']:.3f} "
                         f"(shift) against {want['ssim_noisy']:.3f} (noise).")
    expect(not (abs(got["ssim_shifted"] - want["ssim_noisy"]) < 1e-6
                and abs(got["ssim_noisy"] - want["ssim_shifted"]) < 1e-6),
           "ssim_shifted and ssim_noisy are swapped.")
    on_y = {"ssim_shifted": ssim(y_channel(reference), y_channel(image), data_range=255.0),
            "ssim_noisy": ssim(y_channel(reference), y_channel(noisy), data_range=255.0)}
    for name in want:
        expect(abs(got[name] - on_y[name]) >= 1e-6,
               f"{name} is the SSIM on Y; the task asks for the RGB SSIM, "
               "metrics.ssim(reference, image) (mean of the three channels, L = 1).")
        expect(abs(got[name] - want[name]) < 1e-6,
               f"{name} is {got[name]:.6f}; metrics.ssim gives {want[name]:.6f}.")
    return passed(3)


def exercise_4(sign_ssim: Mapping[str, float] | EllipsisType, ssim_prefers: str | EllipsisType,
               reference: np.ndarray, seed: int = 0) -> bool:
    """``sign_ssim``: the RGB SSIMs (L = 1) of ``reference + e``, ``reference - e`` and
    ``reference + signs * e``, with ``e = gaussian_blur(reference, 1.5) - reference``, random
    signs and no clipping, under the keys ``"blurred"``, ``"sharpened"`` and ``"scrambled"``;
    ``ssim_prefers``: the key of the highest one.

    The first two are recomputed exactly; the scrambled one depends on the signs drawn, so it
    is compared with the check's own draw (``np.random.default_rng(seed)``, one sign per
    value), to three times the largest difference that three other draws make. The feedback
    recognises clipped images, swapped names and one sign for the whole image.
    """
    if not (attempted(sign_ssim, 4) and attempted(ssim_prefers, 4)):
        return False
    expect_keys(sign_ssim, {"blurred", "sharpened", "scrambled"}, "sign_ssim")
    reference = to_float(reference)
    e = gaussian_blur(reference, 1.5) - reference
    signs = np.random.default_rng(seed).choice([-1.0, 1.0], size=e.shape)
    images = {"blurred": reference + e, "sharpened": reference - e,
              "scrambled": reference + signs * e}
    want = {name: ssim(reference, image) for name, image in images.items()}
    got = {name: _number(value, f'sign_ssim["{name}"]') for name, value in sign_ssim.items()}
    expect(not (abs(got["blurred"] - want["sharpened"]) < 1e-9
                and abs(got["sharpened"] - want["blurred"]) < 1e-9),
           'sign_ssim["blurred"] and sign_ssim["sharpened"] are swapped: blurred = reference '
           "+ e (e is blur minus reference), sharpened = reference - e.")
    expect(min(abs(got["scrambled"] - want["blurred"]), abs(got["scrambled"] - want["sharpened"]))
           >= 1e-9,
           'sign_ssim["scrambled"] equals the blurred or the sharpened SSIM: draw one random '
           "sign per value of e (size=e.shape), not one for the whole image.")
    # The scrambled SSIM depends on the draw: accept what other draws give.
    draws = [ssim(reference, reference + np.random.default_rng(seed + k).choice(
        [-1.0, 1.0], size=e.shape) * e) for k in range(1, 4)]
    spread = max(abs(d - want["scrambled"]) for d in draws)
    tolerance = {"blurred": 1e-9, "sharpened": 1e-9, "scrambled": max(3 * spread, 1e-4)}
    for name in ("blurred", "sharpened", "scrambled"):
        if abs(got[name] - want[name]) < tolerance[name]:
            continue
        clipped = ssim(reference, np.clip(images[name], 0.0, 1.0))
        expect(abs(got[name] - clipped) >= tolerance[name],
               f'sign_ssim["{name}"] is the SSIM of the clipped image; build the three images '
               "without clipping, so that every pixel keeps exactly the same squared error.")
        raise WrongAnswer(f'sign_ssim["{name}"] is {got[name]:.4f}; metrics.ssim(reference, '
                          f"image) gives {want[name]:.4f} for the {name} image.")
    best = max(want, key=want.get)
    expect(isinstance(ssim_prefers, str) and ssim_prefers in want,
           f'ssim_prefers should be one of "blurred", "sharpened", "scrambled", got '
           f"{ssim_prefers!r}.")
    expect(ssim_prefers == best,
           f'ssim_prefers is "{ssim_prefers}", but the highest SSIM is the {best} image\'s '
           f"({want[best]:.4f}).")
    return passed(4, f"SSIM prefers the {best} image; the MSE is the same for all three.")
