"""Cross-domain fine-tuning (unit 05): adapt a source SR model to a target domain.

The source model :math:`\\phi` was trained on plentiful natural photos; the target domain
(medical scans, satellite tiles: :mod:`course_utils.data.catalogue`) has few paired images. The
arms of the experiment differ in how much of :math:`\\phi` they keep. Fine-tuning minimises,
over the target pairs :math:`(x_i, y_i)`,

.. math:: \\min_\\theta \\ \\frac{1}{n} \\sum_{i=1}^{n} \\lVert f_\\theta(x_i) - y_i \\rVert^2
          + R(\\theta, \\phi)

starting from :math:`\\theta = \\phi`: :math:`R = 0` is plain fine-tuning, freezing layers
fixes part of :math:`\\theta` to :math:`\\phi`, and L2-SP makes :math:`R` the squared
distance to :math:`\\phi` (:func:`course_utils.training.finetune.l2_sp_penalty`). Training from
scratch starts from random :math:`\\theta` instead. When the target has no HR images at all,
the self-supervised arm (in the style of ZSSR, Shocher et al., CVPR 2018) makes its pairs
from the LR images themselves: each LR image is shrunk once more by the scale, and the model
learns to undo that, which it then applies to the LR image.

The arms run through the one experiment runner (:mod:`course_utils.experiments.runner`):
:func:`load_domain_data` gives a target domain's
:class:`~course_utils.experiments.runner.ExperimentData`,
:func:`~course_utils.experiments.runner.run_arms` trains the arms on the same target images,
patches and budget, and :func:`data_efficiency` repeats that for growing numbers of target
images.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from ..data.catalogue import domain_images
from ..models.freeze import train_last_layers
from ..models.registry import get_model
from ..tasks import SuperResolution
from ..training.finetune import L2SPLoss, param_groups
from ..zoo.shipped import load_pretrained
from .runner import Arm, ExperimentData, Results, run_arms, train_and_score
from .transfer import natural_photo_data

__all__ = ["cross_domain_arms", "data_efficiency", "joint_arms", "load_domain_data",
           "pretrain_joint"]


def load_domain_data(domain: str, scale: int, *, train_limit: int | None = None,
                     heldout_limit: int | None = None, **settings) -> ExperimentData:
    """A target domain of :mod:`course_utils.data.catalogue` as the data of an SR experiment.

    ``train_limit`` and ``heldout_limit`` keep the first images of those splits (fast mode);
    ``settings`` are :class:`~course_utils.experiments.runner.ExperimentData`'s ``patch_lr``,
    ``batch`` and ``steps_per_epoch``.
    """
    return ExperimentData(domain, SuperResolution(scale),
                          domain_images(domain, "train", train_limit),
                          domain_images(domain, "val"),
                          domain_images(domain, "heldout", heldout_limit), **settings)


def cross_domain_arms(model: str = "espcn", scale: int = 3, lr: float = 3e-3,
                      finetune_lr: float = 1e-3, last_layers: int = 1,
                      l2sp_alpha: float = 0.001) -> list[Arm]:
    """The trained arms of unit 05, all on the shipped source ``model`` (Y channel).

    - ``"scratch"``: the same architecture, randomly initialised, learning rate ``lr``;
    - ``"fine-tune all"``: every weight from the source, learning rate ``finetune_lr``;
    - ``"fine-tune last layer"`` (``last_layers = 1``; ``"fine-tune last N layers"``
      otherwise): the earlier layers frozen, the last ``last_layers`` train. For ESPCN the
      last layer, the sub-pixel convolution, holds about a ninth of the weights at x3 (the
      last two hold 93 %);
    - ``"L2-SP"``: fine-tune all with :class:`~course_utils.training.finetune.L2SPLoss`
      (:math:`\\alpha` = ``l2sp_alpha``; no new layers, so :math:`\\beta` plays no part);
    - ``"self-supervised (ZSSR-style)"``: fine-tune all on pairs made from LR images only.

    The untrained baselines (bicubic, the source model zero-shot) are scored directly. The
    default learning rates and ``l2sp_alpha`` are the best on the domains' *validation* images
    in ``python benchmarks/crossdomain.py --sweep`` (800 steps; the held-out images play no
    part).
    """
    last = "fine-tune last layer" if last_layers == 1 else f"fine-tune last {last_layers} layers"
    def source() -> nn.Module:
        return load_pretrained(f"{model}_x{scale}")[0]

    return [
        Arm("scratch", lambda: get_model(model, scale=scale), lr=lr, mode="y"),
        Arm("fine-tune all", source, lr=finetune_lr, mode="y"),
        Arm(last, lambda: train_last_layers(source(), last_layers),
            lr=finetune_lr, mode="y"),
        Arm("L2-SP", source, lr=finetune_lr, mode="y",
            loss=lambda m: L2SPLoss(m, alpha=l2sp_alpha)),
        Arm("self-supervised (ZSSR-style)", source, lr=finetune_lr, mode="y",
            data="self-supervised"),
    ]


def pretrain_joint(scale: int, steps: int, *, epochs: int = 4, batch: int = 16,
                   patch_lr: int = 24, lr: float = 1e-3, seed: int = 0,
                   device: torch.device | str = "cpu", progress: bool = True) -> nn.Module:
    """Pretrain the joint design (``feature-subpixel-sr``,
    :class:`~course_utils.models.encoder_decoder.FeatureSubPixelSR`) on the source domain,
    RGB natural photos; returns the trained model (save it with
    :func:`course_utils.models.checkpoint.save_checkpoint`).

    The ImageNet encoder trains at a tenth of ``lr``, the new generator at ``lr``, for
    ``steps`` steps of ``batch`` patches.
    """
    if steps < epochs:
        raise ValueError(f"steps ({steps}) must be at least epochs ({epochs}).")
    data = natural_photo_data(SuperResolution(scale), n_photos=7, patch_lr=patch_lr,
                              batch=batch, steps_per_epoch=steps // epochs, heldout_side=None)
    arm = Arm("joint, source-pretrained", lambda: get_model("feature-subpixel-sr", scale=scale),
              optimizer=lambda m: torch.optim.Adam(param_groups(m, lr, lr / 10)))
    result = train_and_score(arm, data.loader(list(data.train), seed, mode=arm.mode),
                             data.val_pairs(mode=arm.mode), {}, data.task, epochs=epochs,
                             seed=seed, device=device, progress=progress)
    return result.model


def joint_arms(scale: int, source: nn.Module | None, lr: float = 1e-3,
               encoder_lr_factor: float = 0.1) -> list[Arm]:
    """The joint design on the target: ImageNet features + sub-pixel generator.

    - ``"joint, ImageNet only"``: the generator starts from scratch on the target;
    - ``"joint, source-pretrained"`` (if ``source`` is given, from :func:`pretrain_joint`):
      encoder and generator pretrained for SR on natural photos, then fine-tuned jointly on
      the target (each seed starts from a copy of ``source``'s weights).

    Both train the encoder at ``encoder_lr_factor * lr``, the rest at ``lr``.
    """
    def pretrained() -> nn.Module:
        model = get_model("feature-subpixel-sr", scale=scale)
        model.load_state_dict(source.state_dict())
        return model

    def groups(model: nn.Module) -> torch.optim.Optimizer:
        return torch.optim.Adam(param_groups(model, lr, encoder_lr_factor * lr))

    arms = [Arm("joint, ImageNet only", lambda: get_model("feature-subpixel-sr", scale=scale),
                optimizer=groups, mode="rgb")]
    if source is not None:
        arms.append(Arm("joint, source-pretrained", pretrained, optimizer=groups, mode="rgb"))
    return arms


def data_efficiency(arms: Iterable[Arm], data: ExperimentData, sizes: Iterable[int | None], *,
                    epochs: int, seeds: Iterable[int] = (0, 1, 2),
                    device: torch.device | str = "cpu", progress: bool = False) -> Results:
    """:func:`~course_utils.experiments.runner.run_arms` for each number of target images in
    ``sizes`` (``None``: all); ``summarize(results, by_images=True)`` tabulates the curve.

    Each seed draws its own images, so the spread over seeds includes which images a
    student happened to have, not only the random initialisation and patches.
    """
    arms, seeds = list(arms), list(seeds)
    results = Results()
    for n in sizes:
        results += run_arms(arms, data, epochs=epochs, n_images=n, seeds=seeds, device=device,
                            progress=progress)
    return results
