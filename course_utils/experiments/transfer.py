"""Unit 04's experiment: SR with an ImageNet encoder, pretrained or not, frozen or fine-tuned.

:func:`natural_photo_data` is the data of the experiment (natural photos, a task, patches);
:func:`transfer_arms` its four arms. Both go to :func:`course_utils.experiments.runner.run_arms`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ..data.catalogue import domain_images
from ..data.io import center_crop
from ..data.pairs import split_for_validation
from ..models.freeze import freeze_stages
from ..models.registry import get_model
from ..tasks import Task, get_task
from ..training.finetune import param_groups
from .runner import Arm, ExperimentData

__all__ = ["natural_photo_data", "transfer_arms"]


def natural_photo_data(task: Task | str, n_photos: int, patch_lr: int, batch: int,
                       steps_per_epoch: int, heldout_side: int | None) -> ExperimentData:
    """The first ``n_photos`` natural training photos and the held-out ones, for ``task``.

    Each training photo's bottom strip is held back
    (:func:`~course_utils.data.pairs.split_for_validation`); a centred square of it is a
    validation image. The held-out photos are cut to centred squares of ``heldout_side``
    pixels (``None`` keeps them whole).
    """
    task = get_task(task)
    photos = domain_images("natural", "train", limit=n_photos)
    train, val = {}, {}
    for name, photo in photos.items():
        train[name], strip = split_for_validation(photo, task.scale)
        val[name] = center_crop(strip, min(strip.shape[:2]))
    heldout = {name: center_crop(image, heldout_side)
               for name, image in domain_images("natural", "heldout").items()}
    return ExperimentData("natural", task, train, val, heldout, patch_lr, batch,
                          steps_per_epoch)


def transfer_arms(scale: int, backbone: str = "efficientnet_lite0", lr: float = 1e-3,
                  encoder_lr_factor: float = 0.1, width: int = 16) -> list[Arm]:
    """The four arms of unit 04's experiment, for RGB super-resolution at ``scale``.

    - ``"ESPCN, residual (scratch)"``: the small sub-pixel network of unit 03, RGB, no encoder,
      on the same bicubic shortcut as the U-Nets (``residual=True``), so that every arm starts
      from the same image;
    - ``"U-Net, random encoder"``: ``backbone-unet`` (:mod:`course_utils.models.encoder_decoder`)
      with a randomly initialised encoder, everything trained at ``lr``;
    - ``"U-Net, frozen pretrained"``: ImageNet encoder frozen, only the decoder trains;
    - ``"U-Net, fine-tuned pretrained"``: ImageNet encoder trained at
      ``encoder_lr_factor * lr``, the decoder at ``lr`` (discriminative learning rates).
    """
    def unet(pretrained: bool) -> Callable[[], nn.Module]:
        return lambda: get_model("backbone-unet", scale=scale, backbone=backbone,
                                 pretrained=pretrained, width=width)

    return [
        Arm("ESPCN, residual (scratch)",
            lambda: get_model("espcn", scale=scale, channels=3, residual=True), lr=lr),
        Arm("U-Net, random encoder", unet(False), lr=lr),
        Arm("U-Net, frozen pretrained", lambda: freeze_stages(unet(True)(), 5), lr=lr),
        Arm("U-Net, fine-tuned pretrained", unet(True), lr=lr,
            optimizer=lambda m: torch.optim.Adam(param_groups(m, lr, encoder_lr_factor * lr))),
    ]
