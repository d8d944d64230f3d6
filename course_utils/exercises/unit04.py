"""Checks of unit 04's exercises (pretrained backbones)."""

from __future__ import annotations

from collections.abc import Mapping
from types import EllipsisType

import numpy as np
import torch

from ..evaluation.evaluate import evaluate_images, model_method
from ..experiments.runner import ArmResult
from ..models.backbones import load_backbone
from ..models.freeze import freeze_stages, trainable_summary
from ..models.registry import get_model
from ..tasks import Task
from .common import attempted, expect, expect_keys, passed

__all__ = ["exercise_1", "exercise_2", "exercise_3"]


def exercise_1(unfrozen: Mapping[int, int] | EllipsisType, scale: int = 4,
               backbone: str = "efficientnet_lite0") -> bool:
    """``unfrozen[k]``: the trainable *encoder* parameters of a pretrained U-Net with its first
    ``k`` of five stages frozen, for k = 5, 3, 1, 0.

    The expected counts are recomputed with :func:`~course_utils.models.freeze.freeze_stages`
    and :func:`~course_utils.models.freeze.trainable_summary`.
    """
    if not attempted(unfrozen, 1):
        return False
    expect_keys(unfrozen, {5, 3, 1, 0}, "unfrozen")
    model = get_model("backbone-unet", scale=scale, backbone=backbone, pretrained=False)
    total_model = sum(p.numel() for p in model.parameters())
    for k in (5, 3, 1, 0):
        freeze_stages(model, k)
        parts = trainable_summary(model)
        want, got = parts["encoder"][0], unfrozen[k]
        mistakes = {  # a typical wrong count -> what went wrong
            sum(t for t, _ in parts.values()): "counts the decoder and head too; count the "
            "encoder's trainable parameters only (trainable_summary(model)['encoder'][0])",
            parts["encoder"][1] - want: "is the number of *frozen* encoder parameters; the "
            "question asks for the trainable ones",
            total_model: "is every parameter of the model",
        }
        expect(got == want, f"unfrozen[{k}] = {got:,}" + (
            f" {mistakes[got]}." if got in mistakes else
            f"; with the first {k} stages frozen, {want:,} encoder parameters train."))
    return passed(1, "The last two stages hold most of the encoder's weights.")


def exercise_2(result: ArmResult | EllipsisType, heldout: Mapping[str, np.ndarray],
               task: Task) -> bool:
    """``result``: one run of a ResNet-18 U-Net arm (``run_arms(...)[0]``), scored on
    ``heldout``; its model's encoder must be a ResNet-18 and its held-out PSNR the model's own.
    """
    if not attempted(result, 2):
        return False
    expect(isinstance(result, ArmResult),
           f"store the run itself (run_arms([...], ...)[0], an ArmResult), got "
           f"{type(result).__name__}.")
    expect(getattr(result.model, "backbone", None) == "resnet18",
           f"the model's encoder is {getattr(result.model, 'backbone', None)!r}; build the arm "
           "with transfer_arms(SCALE, 'resnet18').")
    expect(np.isfinite(result.heldout.mean_psnr), "the held-out PSNR is not finite.")
    again = evaluate_images(heldout, task, model_method(result.model)).mean_psnr
    expect(abs(again - result.heldout.mean_psnr) < 1e-6,
           f"the run's held-out PSNR is {result.heldout.mean_psnr:.3f} dB but its model scores "
           f"{again:.3f} dB on these held-out photos: score it on the same held-out set.")
    return passed(2)


def exercise_3(sizes: Mapping[int, list[ArmResult]] | EllipsisType,
               counts: tuple[int, int], arms: tuple[str, str],
               heldout: Mapping[str, np.ndarray], task: Task,
               backbone: str = "efficientnet_lite0") -> bool:
    """``sizes[n]``: the runs (one seed) of the random-encoder and the frozen-pretrained arms
    with ``n`` training photos, for ``n`` in ``counts``.

    Checked: the sizes and arms; each run trained on ``n`` photos; the frozen encoder is still
    the ImageNet one; one model's held-out PSNR is recomputed.
    """
    if not attempted(sizes, 3):
        return False
    expect_keys(sizes, set(counts), "sizes")
    fresh = load_backbone(backbone).state_dict()
    for n, runs in sizes.items():
        expect(sorted(r.arm for r in runs) == sorted(arms),
               f"sizes[{n}] holds the arms {[r.arm for r in runs]}; it should hold {list(arms)}.")
        for r in runs:
            expect(r.n_images == n, f"sizes[{n}]: {r.arm!r} trained on {r.n_images} photos, "
                                    f"not {n}: pass the data made with {n} photos.")
            if "frozen" in r.arm:
                moved = [k for k, v in r.model.encoder.state_dict().items()
                         if not torch.equal(v, fresh[k])]
                expect(not moved, f"sizes[{n}]: the frozen encoder moved ({moved[:2]} ...).")
    last = sizes[counts[-1]][-1]
    again = evaluate_images(heldout, task, model_method(last.model)).mean_psnr
    expect(abs(again - last.heldout.mean_psnr) < 1e-6,
           f"{last.arm!r} with {counts[-1]} photos: its held-out PSNR is "
           f"{last.heldout.mean_psnr:.3f} dB but its model scores {again:.3f} dB.")
    return passed(3)
