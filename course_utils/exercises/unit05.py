"""Checks of unit 05's exercises (cross-domain fine-tuning)."""

from __future__ import annotations

from collections.abc import Mapping
from types import EllipsisType

import numpy as np
from torch import nn

from ..data.medical import window
from ..evaluation.evaluate import evaluate_images, model_method
from ..experiments.runner import ArmResult, ExperimentData
from ..training.finetune import distance_to_source
from .common import attempted, expect, expect_close, expect_keys, passed

__all__ = ["WINDOWS", "exercise_1", "exercise_2", "exercise_3"]

#: The two CT windows of exercise 1, (centre, width) in Hounsfield units.
WINDOWS = {"soft tissue": (40, 400), "lung": (-600, 1500)}


def exercise_1(saturated: Mapping[str, tuple[float, float]] | EllipsisType,
               hu: np.ndarray) -> bool:
    """``saturated[label]``: the fractions of pixels of ``hu`` (a CT in Hounsfield units) that
    come out pure black and pure white through each window of :data:`WINDOWS`."""
    if not attempted(saturated, 1):
        return False
    expect_keys(saturated, set(WINDOWS), "saturated")
    for label, (c, w) in WINDOWS.items():
        shown = window(hu, c, w)
        black, white = float(np.mean(shown == 0)), float(np.mean(shown == 1))
        got = tuple(saturated[label])
        expect(len(got) == 2, f"saturated[{label!r}] should be a pair (black, white).")
        expect(black == white or not np.allclose(got, (white, black)),
               f"saturated[{label!r}] is (white, black); store (black, white).")
        if max(got) > 1:
            expect(not np.allclose(got, (100 * black, 100 * white)),
                   f"saturated[{label!r}] = {got} looks like percentages; store fractions "
                   "between 0 and 1.")
        expect(np.allclose(got, (black, white), atol=1e-9),
               f"saturated[{label!r}] = ({got[0]:.4f}, {got[1]:.4f}); through the {label} window "
               f"{c}/{w} HU, {black:.4f} of the pixels are black (0) and {white:.4f} white (1). "
               "Apply window(pixels, centre, width) and count values equal to 0 and to 1.")
    return passed(1)


def exercise_2(sweep: Mapping[float, tuple[float, float]] | EllipsisType,
               source: nn.Module, plain: ArmResult) -> bool:
    """``sweep[alpha] = (distance to the source weights, held-out PSNR)`` for alpha = 0, 0.1
    and 10, fine-tuned on one scan; ``plain`` is the plain fine-tuning run on that scan, seed
    and budget (alpha = 0 must reproduce it)."""
    if not attempted(sweep, 2):
        return False
    expect_keys(sweep, {0.0, 0.1, 10.0}, "sweep")
    for alpha, pair in sweep.items():
        expect(len(tuple(pair)) == 2, f"sweep[{alpha}] should be a pair (distance, PSNR).")
    d0, p0 = sweep[0.0]
    want_d, want_p = distance_to_source(plain.model, source), plain.heldout.mean_psnr
    expect(abs(d0 - want_p) > 1e-6 or abs(p0 - want_d) > 1e-6,
           "sweep[0.0] is (PSNR, distance); store (distance, PSNR).")
    expect_close(p0, want_p, "sweep[0.0]'s held-out PSNR (alpha = 0 is plain fine-tuning on "
                             "the same scan, seed and steps)", tol=1e-6)
    expect_close(d0, want_d, "sweep[0.0]'s distance to the source weights", tol=1e-6)
    expect(sweep[10.0][0] < sweep[0.0][0],
           f"with alpha = 10 the distance is {sweep[10.0][0]:.4f}, not below alpha = 0's "
           f"{sweep[0.0][0]:.4f}: a strong pull towards the source keeps the weights nearer it.")
    return passed(2)


def exercise_3(astronomy: Mapping[str, float] | EllipsisType, sky: ExperimentData,
               source: nn.Module, finetuned: ArmResult) -> bool:
    """``astronomy``: held-out PSNRs of bicubic, the zero-shot source and the fine-tuned model
    (``finetuned``, its run) on the held-out tiles of ``sky``, which must share no tile with its
    training tiles."""
    if not attempted(astronomy, 3):
        return False
    expect_keys(astronomy, {"bicubic", "source zero-shot", "fine-tune all"}, "astronomy")
    expect(not set(sky.train) & set(sky.heldout),
           "tiles in both the training and the held-out sets: "
           f"{sorted(set(sky.train) & set(sky.heldout))}.")
    expect(isinstance(finetuned, ArmResult),
           f"finetuned should be the run of 'fine-tune all' (run_arms(...)[0]), got "
           f"{type(finetuned).__name__}.")
    methods = {"bicubic": "bicubic", "source zero-shot": model_method(source),
               "fine-tune all": model_method(finetuned.model)}
    for label, method in methods.items():
        want = evaluate_images(sky.heldout, sky.task, method).mean_psnr
        on_train = evaluate_images(sky.train, sky.task, method).mean_psnr
        got = astronomy[label]
        expect(abs(got - on_train) > 1e-6 or abs(want - on_train) < 1e-6,
               f"astronomy[{label!r}] = {got:.3f} dB is the score on the training tiles; score "
               "the held-out ones.")
        expect_close(got, want, f"astronomy[{label!r}] (dB, on the held-out tiles)", tol=1e-3)
    return passed(3)
