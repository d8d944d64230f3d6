"""Controlled transfer experiments: several "arms" trained on the same data, same budget.

An :class:`Arm` says how to build a fresh model and its optimiser; :func:`run_arms` trains every
arm once per seed with :func:`course_utils.train.fit` (same patches, same steps, same
validation), scores each trained model on held-out images with the standard SR recipe, and
returns one :class:`ArmResult` per (arm, seed). :func:`summarize` turns them into a table of
mean and spread, the table a notebook draws its conclusions from.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from .device import seed_everything
from .evaluate import EvaluationResult, evaluate_images, model_upscaler
from .models import count_parameters
from .patches import SRPatches
from .train import History, fit

__all__ = ["Arm", "ArmResult", "SRData", "run_arms", "sr_experiment_data", "summarize",
           "train_and_score", "transfer_arms"]


@dataclass
class Arm:
    """One way of training a model, e.g. "pretrained encoder, frozen".

    Parameters
    ----------
    name : str
    build : callable () -> nn.Module
        Makes a fresh model (called once per seed, after seeding).
    lr : float
        Learning rate of the default Adam optimiser.
    optimizer : callable (model) -> torch.optim.Optimizer, optional
        For parameter groups with learning rates of their own
        (:func:`course_utils.finetune.param_groups`).
    loss : str or callable
        Passed to :func:`course_utils.train.fit`.
    make_loss : callable (model) -> loss, optional
        For a loss that depends on the model being trained, e.g. the L2-SP penalty towards
        its own starting weights (:class:`course_utils.finetune.L2SPLoss`); overrides ``loss``.
    data : {"paired", "self-supervised"}
        What the arm trains on (unit 05): LR/HR pairs of the target images, or pairs made
        from the LR images alone by shrinking them once more (ZSSR-style).
    mode : {"y", "rgb"}
        The channels the model takes (:class:`course_utils.patches.SRPatches`).
    """

    name: str
    build: Callable[[], nn.Module]
    lr: float = 1e-3
    optimizer: Callable[[nn.Module], torch.optim.Optimizer] | None = None
    loss: str | Callable = "mse"
    make_loss: Callable[[nn.Module], Callable] | None = None
    data: str = "paired"
    mode: str = "rgb"


@dataclass
class ArmResult:
    """What one (arm, seed) run gave."""

    arm: str
    seed: int
    history: History
    heldout: EvaluationResult
    seconds: float
    trainable: int
    model: nn.Module = field(repr=False)
    n_images: int | None = None  # target training images (unit 05's data-efficiency curve)


def run_arms(
    arms: Iterable[Arm],
    make_loader: Callable[[int], Iterable],
    val_pairs: list,
    heldout: Mapping[str, np.ndarray],
    scale: int,
    *,
    epochs: int,
    seeds: Iterable[int] = (0,),
    device: torch.device | str = "cpu",
    progress: bool = True,
) -> list[ArmResult]:
    """Train every arm with every seed on the same data and budget; score it on ``heldout``.

    Parameters
    ----------
    arms : iterable of Arm
    make_loader : callable (seed) -> DataLoader
        Training batches for a seed; every arm of a seed sees the same patches.
    val_pairs : validation pairs for :func:`course_utils.train.fit`
    heldout : {name: HR image}
        Scored after training with :func:`course_utils.evaluate.evaluate_images`.
    scale : int
    epochs : int
    seeds : iterable of int
    device : where to train (evaluation runs on the CPU)
    progress : a progress bar per run

    Returns
    -------
    list of ArmResult, in the order (seed, arm).
    """
    results = []
    for seed in seeds:
        loader = make_loader(seed)  # built once: every arm of this seed sees the same patches
        for arm in arms:
            results.append(train_and_score(arm, loader, val_pairs, heldout, scale, epochs=epochs,
                                           seed=seed, device=device, progress=progress))
    return results


def train_and_score(arm: Arm, loader: Iterable, val_pairs: list,
                    heldout: Mapping[str, np.ndarray], scale: int, *, epochs: int, seed: int,
                    device: torch.device | str = "cpu", progress: bool = True) -> ArmResult:
    """Build ``arm``'s model after seeding, train it with :func:`~course_utils.train.fit`,
    and score it on ``heldout`` with :func:`~course_utils.evaluate.evaluate_images` (on the
    CPU). One run of :func:`run_arms`."""
    seed_everything(seed)
    model = arm.build()
    optimizer = arm.optimizer(model) if arm.optimizer is not None else None
    loss = arm.make_loss(model) if arm.make_loss is not None else arm.loss
    start = time.perf_counter()
    history = fit(model, loader, val_pairs, epochs=epochs, lr=arm.lr, loss=loss,
                  optimizer=optimizer, border=scale, device=device, progress=progress)
    seconds = time.perf_counter() - start
    model = model.cpu().eval()
    scores = evaluate_images(heldout, scale, model_upscaler(model, arm.name))
    return ArmResult(arm.name, seed, history, scores, seconds,
                     count_parameters(model, trainable_only=True), model)


def _spread(values: np.ndarray) -> float:
    return float(values.std(ddof=1)) if values.size > 1 else 0.0


def summarize(results: Iterable[ArmResult],
              baseline: EvaluationResult | Sequence[EvaluationResult] | None = None
              ) -> list[dict]:
    """One row per arm: held-out PSNR and SSIM, mean and standard deviation over seeds.

    ``baseline`` (e.g. bicubic on the same images), or several untrained methods with the
    reference first, adds first rows and a gain column (over the first). The standard
    deviation is the sample one (``ddof=1``); with one seed it is reported as 0.
    """
    by_arm: dict[str, list[ArmResult]] = {}
    for r in results:
        by_arm.setdefault(r.arm, []).append(r)
    rows = []
    baselines = [baseline] if isinstance(baseline, EvaluationResult) else list(baseline or [])
    reference = baselines[0] if baselines else None
    for base in baselines:
        rows.append({"arm": base.method, "seeds": "-", "PSNR (dB)": base.mean_psnr,
                     "± PSNR": 0.0, "SSIM": base.mean_ssim, "± SSIM": 0.0,
                     "gain (dB)": base.mean_psnr - reference.mean_psnr,
                     "trainable parameters": 0, "train time (s)": 0.0})
    baseline = reference
    for arm, runs in by_arm.items():
        psnr = np.array([r.heldout.mean_psnr for r in runs])
        ssim = np.array([r.heldout.mean_ssim for r in runs])
        row = {"arm": arm, "seeds": len(runs), "PSNR (dB)": float(psnr.mean()),
               "± PSNR": _spread(psnr), "SSIM": float(ssim.mean()), "± SSIM": _spread(ssim)}
        if baseline is not None:
            row["gain (dB)"] = float(psnr.mean()) - baseline.mean_psnr
        row["trainable parameters"] = runs[0].trainable
        row["train time (s)"] = float(np.mean([r.seconds for r in runs]))
        rows.append(row)
    return rows


@dataclass
class SRData:
    """The data of one SR experiment: training photos, validation pairs, held-out images.

    Made by :func:`sr_experiment_data`; :meth:`make_loader` gives the training batches of a
    seed (what :func:`run_arms` takes as ``make_loader``).
    """

    names: list[str]  # of the training photos
    train_parts: list[np.ndarray]
    val_pairs: list
    heldout: dict[str, np.ndarray]
    scale: int
    patch_lr: int
    batch: int
    steps_per_epoch: int
    mode: str = "rgb"

    def make_loader(self, seed: int) -> DataLoader:
        patches = SRPatches(self.train_parts, self.scale, patch_size=self.patch_lr * self.scale,
                            mode=self.mode, samples_per_epoch=self.steps_per_epoch * self.batch,
                            seed=seed)
        return DataLoader(patches, batch_size=self.batch)


def sr_experiment_data(scale: int, n_photos: int, patch_lr: int, batch: int,
                       steps_per_epoch: int, heldout_side: int | None,
                       mode: str = "rgb") -> SRData:
    """Unit 04's data: the first ``n_photos`` natural training photos and the held-out ones.

    Each training photo's bottom strip is held back (:func:`~course_utils.pretrained.
    split_for_validation`); a centred square of it is a validation pair. The held-out photos
    are cut to centred squares of ``heldout_side`` pixels (``None`` keeps them whole).
    """
    from .data import center_crop, natural_images
    from .pretrained import split_for_validation, validation_pairs

    photos = natural_images("train", limit=n_photos)
    train_parts, val_parts = zip(*(split_for_validation(p, scale) for p in photos.values()),
                                  strict=True)
    val_pairs = validation_pairs([center_crop(v, min(v.shape[:2])) for v in val_parts], scale,
                                 mode=mode)
    heldout = {name: center_crop(image, heldout_side)
               for name, image in natural_images("heldout").items()}
    return SRData(list(photos), list(train_parts), val_pairs, heldout, scale, patch_lr, batch,
                  steps_per_epoch, mode)


def transfer_arms(scale: int, backbone: str = "efficientnet_lite0", lr: float = 1e-3,
                  encoder_lr_factor: float = 0.1, width: int = 16) -> list[Arm]:
    """The four arms of unit 04's experiment, for RGB super-resolution at ``scale``.

    - ``"ESPCN (scratch)"``: the small sub-pixel network of unit 03, RGB, no encoder;
    - ``"U-Net, random encoder"``: :class:`~course_utils.encoder_decoder.BackboneUNet` with a
      randomly initialised encoder, everything trained at ``lr``;
    - ``"U-Net, frozen pretrained"``: ImageNet encoder frozen, only the decoder trains;
    - ``"U-Net, fine-tuned pretrained"``: ImageNet encoder trained at
      ``encoder_lr_factor * lr``, the decoder at ``lr`` (discriminative learning rates).
    """
    from .encoder_decoder import BackboneUNet
    from .finetune import freeze_stages, param_groups
    from .models import build_model

    def unet(pretrained: bool) -> Callable[[], nn.Module]:
        return lambda: BackboneUNet(backbone, scale, pretrained=pretrained, width=width)

    return [
        Arm("ESPCN (scratch)", lambda: build_model("espcn", scale, channels=3), lr=lr),
        Arm("U-Net, random encoder", unet(False), lr=lr),
        Arm("U-Net, frozen pretrained", lambda: freeze_stages(unet(True)(), 5), lr=lr),
        Arm("U-Net, fine-tuned pretrained", unet(True), lr=lr,
            optimizer=lambda m: torch.optim.Adam(param_groups(m, lr, encoder_lr_factor * lr))),
    ]
