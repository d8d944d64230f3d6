"""Checks of unit 06's exercises (transfer to restoration)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import EllipsisType

import numpy as np
from scipy import ndimage
from skimage.restoration import estimate_sigma

from ..experiments.restoration import learned_alphas
from ..experiments.runner import ArmResult
from .common import attempted, expect, expect_keys, passed

__all__ = ["SIGMAS", "exercise_1", "exercise_2", "exercise_3", "self_supervised_losses"]

#: The noise levels of exercise 1 (0-255 scale).
SIGMAS = (15, 25, 50)

#: Donoho's constant: the median of |N(0, 1)| is 0.6745, so median(|d|) / 0.6745 estimates sigma.
_MAD = 0.6745


def exercise_1(sigma_hat: Mapping[int, float] | EllipsisType,
               noisy: Mapping[int, np.ndarray]) -> bool:
    """``sigma_hat[s]``: the noise sigma of ``noisy[s]`` (a gray image in [0, 1] units, noise
    of sigma ``s`` on the 0-255 scale), estimated from that image alone, on the 0-255 scale, as
    :func:`skimage.restoration.estimate_sigma` does (median absolute deviation of the finest
    diagonal wavelet coefficients, db2)."""
    if not attempted(sigma_hat, 1):
        return False
    expect_keys(sigma_hat, set(SIGMAS), "sigma_hat")
    for s in SIGMAS:
        want = 255 * float(estimate_sigma(noisy[s]))
        got = float(sigma_hat[s])
        expect(not np.isclose(got * 255, want, rtol=0.01),
               f"sigma_hat[{s}] = {got:.4f} is on the [0, 1] scale of the image; multiply by "
               "255 for the 0-255 scale the tables use.")
        expect(not np.isclose(got, want * _MAD, rtol=0.01),
               f"sigma_hat[{s}] = {got:.2f} is the median of |d| itself; divide it by 0.6745 "
               "(the median of |N(0, 1)|) to estimate sigma.")
        expect(np.isclose(got, want, rtol=0.01),
               f"sigma_hat[{s}] = {got:.2f}; estimate_sigma gives {want:.2f}. Take the db2 "
               "wavelet transform of the noisy image (pywt.dwt2(image, 'db2')), the finest "
               "diagonal coefficients d, and compute median(|d|) / 0.6745 * 255.")
    return passed(1, "Compare each estimate with the true sigma: the photo's own fine texture "
                     "counts as noise, most at the lowest sigma.")


def self_supervised_losses(noisy: np.ndarray, clean: np.ndarray) -> dict[str, tuple[float, float]]:
    """For the 3x3 box filter and the ring filter (the mean of the 8 neighbours, the centre
    left out), ``(mean (f(y) - y)^2, mean (f(y) - x)^2)``: the loss a self-supervised method can
    compute, and the true error (borders mirrored, ``scipy.ndimage`` ``"reflect"``)."""
    box = ndimage.uniform_filter(noisy, 3, mode="reflect")
    ring = (9 * box - noisy) / 8
    return {name: (float(np.mean((f - noisy) ** 2)), float(np.mean((f - clean) ** 2)))
            for name, f in (("box", box), ("ring", ring))}


def exercise_2(losses: Mapping[str, tuple[float, float]] | EllipsisType, noisy: np.ndarray,
               clean: np.ndarray) -> bool:
    """``losses[name] = (self-supervised loss, true MSE)`` of the box and the ring filter on
    ``noisy``, in [0, 1] units (:func:`self_supervised_losses`)."""
    if not attempted(losses, 2):
        return False
    expect_keys(losses, {"box", "ring"}, "losses")
    want = self_supervised_losses(noisy, clean)
    for name, pair in losses.items():
        expect(len(tuple(pair)) == 2, f"losses[{name!r}] should be a pair (self, true).")
    got = {k: tuple(float(v) for v in losses[k]) for k in want}
    expect(not np.allclose(got["box"], want["ring"], rtol=0.02),
           "losses['box'] holds the ring filter's numbers and losses['ring'] the box's.")
    for name in want:
        (s, t), (ws, wt) = got[name], want[name]
        expect(not np.allclose((s, t), (wt, ws), rtol=0.02),
               f"losses[{name!r}] is (true, self); store (self-supervised loss, true MSE).")
        expect(not np.allclose((s, t), (255**2 * ws, 255**2 * wt), rtol=0.02),
               f"losses[{name!r}] is on the 0-255 scale; give the MSE of [0, 1] images.")
        expect(np.allclose((s, t), (ws, wt), rtol=0.02),
               f"losses[{name!r}] = ({s:.3g}, {t:.3g}); it should be ({ws:.3g}, {wt:.3g}). "
               + ("The box filter is the mean of the 3x3 neighbourhood with the centre; "
                  if name == "box" else
                  "The ring filter is the mean of the 8 neighbours, without the centre: "
                  "(9 * box - y) / 8; ")
               + "the self-supervised loss compares f(y) with the noisy y, the true MSE "
                 "with the clean x.")
    return passed(2, "The ring's self-supervised loss is its true MSE plus the noise variance; "
                     "the box filter's is not, because it sees each pixel's own noise.")


def exercise_3(jpeg_alpha: Sequence[float] | EllipsisType, jpeg_run: ArmResult) -> bool:
    """``jpeg_alpha``: the mean learned alpha of each of the two layers of ``jpeg_run``, the
    run of ``"fusion, learned per layer"`` on a JPEG task."""
    if not attempted(jpeg_alpha, 3):
        return False
    expect(isinstance(jpeg_run, ArmResult),
           f"jpeg_run should be the run of the fusion arm (run_arms(...)[0]), got "
           f"{type(jpeg_run).__name__}.")
    expect(jpeg_run.arm == "fusion, learned per layer",
           f"jpeg_run is a run of {jpeg_run.arm!r}; train 'fusion, learned per layer'.")
    expect(jpeg_run.heldout.task.startswith("jpeg"),
           f"jpeg_run was trained and scored on {jpeg_run.heldout.task}; build the data with "
           "a JPEG task (e.g. 'jpeg-10-gray').")
    values = [float(v) for v in jpeg_alpha]
    expect(len(values) == 2, f"jpeg_alpha should hold two values (layers 1 and 2), got "
                             f"{len(values)}.")
    model = jpeg_run.model
    logits = [float(model.a1.detach().mean()), float(model.a2.detach().mean())]
    expect(not np.allclose(values, logits, atol=1e-6) or np.allclose(logits, 0),
           f"jpeg_alpha = {values} are the free parameters a; alpha is sigmoid(a): read "
           "model.alphas() or learned_alphas(model).")
    want = [row["mean α"] for row in learned_alphas(model)]
    expect(np.allclose(values, want, atol=1e-6),
           f"jpeg_alpha = {[round(v, 4) for v in values]}; the run learned "
           f"{[round(v, 4) for v in want]}.")
    return passed(3)
