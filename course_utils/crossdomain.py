"""Cross-domain fine-tuning (unit 05): adapt a source SR model to a target domain.

The source model :math:`\\phi` was trained on plentiful natural photos; the target domain
(medical scans, satellite tiles: :mod:`course_utils.domains`) has few paired images. The
arms of the experiment differ in how much of :math:`\\phi` they keep. Fine-tuning minimises,
over the target pairs :math:`(x_i, y_i)`,

.. math:: \\min_\\theta \\ \\frac{1}{n} \\sum_{i=1}^{n} \\lVert f_\\theta(x_i) - y_i \\rVert^2
          + R(\\theta, \\phi)

starting from :math:`\\theta = \\phi`: :math:`R = 0` is plain fine-tuning, freezing layers
fixes part of :math:`\\theta` to :math:`\\phi`, and L2-SP makes :math:`R` the squared
distance to :math:`\\phi` (:func:`course_utils.finetune.l2_sp_penalty`). Training from
scratch starts from random :math:`\\theta` instead. When the target has no HR images at all,
the self-supervised arm (in the style of ZSSR, Shocher et al., CVPR 2018) makes its pairs
from the LR images themselves: each LR image is shrunk once more by the scale, and the model
learns to undo that, which it then applies to the LR image.

:class:`DomainData` holds a domain's splits and makes the training batches and validation
pairs of an arm; :func:`run_domain_arms` trains the arms on the same target images, patches
and budget (:func:`course_utils.experiment.train_and_score`); :func:`data_efficiency` repeats
that for growing numbers of target images.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from .evaluate import make_lr
from .experiment import Arm, ArmResult, train_and_score
from .patches import SRPatches

__all__ = ["DomainData", "cross_domain_arms", "data_efficiency", "efficiency_rows",
           "joint_arms", "load_domain_data", "pretrain_joint", "run_domain_arms"]


def _rgb(image: np.ndarray) -> np.ndarray:
    return np.repeat(image[..., None], 3, axis=2) if image.ndim == 2 else image


@dataclass
class DomainData:
    """A target domain's images and how its arms are fed.

    ``train``, ``val`` and ``heldout`` never share a scan (:mod:`course_utils.domains`).
    Training batches are ``batch`` random patches of ``patch_lr`` LR pixels
    (:class:`~course_utils.patches.SRPatches`), ``steps_per_epoch`` per epoch.
    """

    domain: str
    scale: int
    train: dict[str, np.ndarray]
    val: dict[str, np.ndarray]
    heldout: dict[str, np.ndarray]
    patch_lr: int = 16
    batch: int = 16
    steps_per_epoch: int = 50

    def choose(self, n_images: int | None, seed: int) -> list[str]:
        """``n_images`` training images drawn at random for ``seed`` (``None``: all of them)."""
        names = list(self.train)
        if n_images is None:
            return names
        if not 1 <= n_images <= len(names):
            raise ValueError(f"n_images must be 1 to {len(names)} (the {self.domain} training "
                             f"images), got {n_images}.")
        order = np.random.default_rng(seed).permutation(len(names))
        return [names[i] for i in sorted(order[:n_images])]

    def _images(self, names: Sequence[str], data: str, mode: str) -> list[np.ndarray]:
        images = [self.train[n] for n in names]
        if data == "self-supervised":
            # Only LR images exist: those of the training scans and the held-out inputs. Each
            # becomes an "HR" image whose LR version is shrunk once more by the scale.
            lrs = [make_lr(im, self.scale) for im in images + list(self.heldout.values())]
            images = [im for im in lrs if min(im.shape[:2]) >= self.patch_lr * self.scale]
        elif data != "paired":
            raise ValueError(f"data must be 'paired' or 'self-supervised', got {data!r}.")
        return [_rgb(im) for im in images] if mode == "rgb" else images

    def loader(self, names: Sequence[str], seed: int, data: str = "paired",
               mode: str = "y") -> DataLoader:
        """The training batches of an arm that trains on ``data`` from the images ``names``."""
        patches = SRPatches(self._images(names, data, mode), self.scale,
                            patch_size=self.patch_lr * self.scale, mode=mode,
                            samples_per_epoch=self.steps_per_epoch * self.batch, seed=seed)
        return DataLoader(patches, batch_size=self.batch)

    def val_pairs(self, data: str = "paired", mode: str = "y") -> list:
        """Validation pairs; self-supervised arms validate on LR images only, too."""
        from .pretrained import validation_pairs

        images = list(self.val.values())
        if data == "self-supervised":
            images = [make_lr(im, self.scale) for im in images]
        return validation_pairs([_rgb(im) for im in images] if mode == "rgb" else images,
                                self.scale, mode=mode)


def load_domain_data(domain: str, scale: int, *, train_limit: int | None = None,
                     heldout_limit: int | None = None, **settings) -> DomainData:
    """Load a domain of :mod:`course_utils.domains` into a :class:`DomainData`.

    ``train_limit`` and ``heldout_limit`` keep the first images of those splits (fast mode);
    ``settings`` are :class:`DomainData`'s ``patch_lr``, ``batch`` and ``steps_per_epoch``.
    """
    from .domains import domain_images

    return DomainData(domain, scale, domain_images(domain, "train", train_limit),
                      domain_images(domain, "val"), domain_images(domain, "heldout",
                                                                  heldout_limit), **settings)


def cross_domain_arms(model: str = "espcn", scale: int = 3, lr: float = 3e-3,
                      finetune_lr: float = 3e-4, last_layers: int = 2,
                      l2sp_alpha: float = 0.1) -> list[Arm]:
    """The trained arms of unit 05, all on the shipped source ``model`` (Y channel).

    - ``"scratch"``: the same architecture, randomly initialised, learning rate ``lr`` (the
      best of 1e-3, 3e-3, 5e-3 and 1e-2 for 800 steps in the course's sweep);
    - ``"fine-tune all"``: every weight from the source, learning rate ``finetune_lr``;
    - ``"fine-tune last layers"``: the first layers frozen, the last ``last_layers`` train;
    - ``"L2-SP"``: fine-tune all with :class:`~course_utils.finetune.L2SPLoss`
      (:math:`\\alpha` = ``l2sp_alpha``; no new layers, so :math:`\\beta` plays no part);
    - ``"self-supervised (ZSSR-style)"``: fine-tune all on pairs made from LR images only.

    The untrained baselines (bicubic, the source model zero-shot) are scored directly.
    """
    from .finetune import L2SPLoss, train_last_layers
    from .models import build_model
    from .pretrained import load_pretrained

    def source() -> nn.Module:
        return load_pretrained(model, scale)[0]

    return [
        Arm("scratch", lambda: build_model(model, scale), lr=lr, mode="y"),
        Arm("fine-tune all", source, lr=finetune_lr, mode="y"),
        Arm("fine-tune last layers", lambda: train_last_layers(source(), last_layers),
            lr=finetune_lr, mode="y"),
        Arm("L2-SP", source, lr=finetune_lr, mode="y",
            make_loss=lambda m: L2SPLoss(m, alpha=l2sp_alpha)),
        Arm("self-supervised (ZSSR-style)", source, lr=finetune_lr, mode="y",
            data="self-supervised"),
    ]


def pretrain_joint(scale: int, steps: int, *, epochs: int = 4, batch: int = 16,
                   patch_lr: int = 24, lr: float = 1e-3, seed: int = 0,
                   device: torch.device | str = "cpu", progress: bool = True) -> dict:
    """Pretrain the joint design (:class:`~course_utils.encoder_decoder.FeatureSubPixelSR`)
    on the source domain, RGB natural photos; returns its ``state_dict``.

    The ImageNet encoder trains at a tenth of ``lr``, the new generator at ``lr``, for
    ``steps`` steps of ``batch`` patches.
    """
    from .encoder_decoder import FeatureSubPixelSR
    from .experiment import sr_experiment_data
    from .finetune import param_groups

    if steps < epochs:
        raise ValueError(f"steps ({steps}) must be at least epochs ({epochs}).")
    data = sr_experiment_data(scale, n_photos=7, patch_lr=patch_lr, batch=batch,
                              steps_per_epoch=steps // epochs, heldout_side=None)
    arm = Arm("joint, source-pretrained", lambda: FeatureSubPixelSR(scale=scale),
              optimizer=lambda m: torch.optim.Adam(param_groups(m, lr, lr / 10)))
    result = train_and_score(arm, data.make_loader(seed), data.val_pairs, {}, scale,
                             epochs=epochs, seed=seed, device=device, progress=progress)
    return {k: v.detach().clone() for k, v in result.model.state_dict().items()}


def joint_arms(scale: int, source_state: dict | None, lr: float = 1e-3,
               encoder_lr_factor: float = 0.1) -> list[Arm]:
    """The joint design on the target: ImageNet features + sub-pixel generator.

    - ``"joint, ImageNet only"``: the generator starts from scratch on the target;
    - ``"joint, source-pretrained"`` (if ``source_state`` is given, from
      :func:`pretrain_joint`): encoder and generator pretrained for SR on natural photos,
      then fine-tuned jointly on the target.

    Both train the encoder at ``encoder_lr_factor * lr``, the rest at ``lr``.
    """
    from .encoder_decoder import FeatureSubPixelSR
    from .finetune import param_groups

    def pretrained() -> nn.Module:
        model = FeatureSubPixelSR(scale=scale)
        model.load_state_dict(source_state)
        return model

    groups = lambda m: torch.optim.Adam(param_groups(m, lr, encoder_lr_factor * lr))  # noqa: E731
    arms = [Arm("joint, ImageNet only", lambda: FeatureSubPixelSR(scale=scale),
                optimizer=groups, mode="rgb")]
    if source_state is not None:
        arms.append(Arm("joint, source-pretrained", pretrained, optimizer=groups, mode="rgb"))
    return arms


def run_domain_arms(arms: Iterable[Arm], data: DomainData, *, epochs: int,
                    n_images: int | None = None, seeds: Iterable[int] = (0,),
                    device: torch.device | str = "cpu", progress: bool = True
                    ) -> list[ArmResult]:
    """Train every arm on ``n_images`` target images (all if ``None``) for every seed.

    For a seed, every arm gets the same images (drawn by :meth:`DomainData.choose`) and, per
    kind of data and channels, the same patches; then it is scored on the held-out images.
    Returns one :class:`~course_utils.experiment.ArmResult` per (seed, arm), with
    ``n_images`` set.
    """
    arms = list(arms)
    results = []
    for seed in seeds:
        names = data.choose(n_images, seed)
        loaders, val = {}, {}
        for arm in arms:
            key = (arm.data, arm.mode)
            if key not in loaders:
                loaders[key] = data.loader(names, seed, arm.data, arm.mode)
                val[key] = data.val_pairs(arm.data, arm.mode)
            result = train_and_score(arm, loaders[key], val[key], data.heldout, data.scale,
                                     epochs=epochs, seed=seed, device=device,
                                     progress=progress)
            result.n_images = len(names)
            results.append(result)
    return results


def data_efficiency(arms: Iterable[Arm], data: DomainData, sizes: Iterable[int | None], *,
                    epochs: int, seeds: Iterable[int] = (0, 1, 2),
                    device: torch.device | str = "cpu", progress: bool = False
                    ) -> list[ArmResult]:
    """:func:`run_domain_arms` for each number of target images in ``sizes`` (``None``: all).

    Each seed draws its own images, so the spread over seeds includes which images a
    student happened to have, not only the random initialisation and patches.
    """
    arms, seeds = list(arms), list(seeds)
    results = []
    for n in sizes:
        results += run_domain_arms(arms, data, epochs=epochs, n_images=n, seeds=seeds,
                                   device=device, progress=progress)
    return results


def efficiency_rows(results: Iterable[ArmResult]) -> list[dict]:
    """One row per (arm, number of images): held-out PSNR mean and sample standard deviation."""
    groups: dict[tuple[str, int], list[float]] = {}
    for r in results:
        groups.setdefault((r.arm, r.n_images), []).append(r.heldout.mean_psnr)
    rows = []
    for (arm, n), values in groups.items():
        v = np.array(values)
        rows.append({"arm": arm, "images": n, "seeds": v.size, "PSNR (dB)": float(v.mean()),
                     "± PSNR": float(v.std(ddof=1)) if v.size > 1 else 0.0})
    return rows
