"""Unit 07's experiments: what changes an autoencoder's result, and overfitting made visible.

Every arm trains the plain :class:`~course_utils.models.codec.ConvAutoencoder` (RGB, by
default a code of 16 maps at a quarter of each side) on clean photos, the compress task's
target being its input, through the one experiment runner
(:mod:`course_utils.experiments.runner`), so every arm of a study sees the same patches:

- :func:`optimizer_arms`: SGD, SGD with momentum and Adam;
- :func:`learning_rate_arms`: Adam over a sweep of learning rates;
- :func:`loss_arms`: MSE, L1, SSIM and binary cross-entropy (a sigmoid output);
- :func:`capacity_arms`: the width of the network, the code fixed;
- :func:`run_batch_sizes`: batch sizes at the same number of training patches;
- :func:`tiny_data`, :func:`overfitting_arms` and :func:`run_overfitting`: a deliberately tiny
  training set, trained far past its best epoch, then each remedy (early stopping, weight
  decay, an L1 penalty on the code, a smaller model, augmentation) against the same baseline.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

import numpy as np
import torch
from torch import nn

from ..models.registry import get_model
from ..training.losses import CodeL1Loss, SSIMLoss
from .runner import Arm, ExperimentData, Results, run_arms

__all__ = ["AUTOENCODER", "capacity_arms", "learning_rate_arms", "loss_arms",
           "optimizer_arms", "overfitting_arms", "run_batch_sizes", "run_overfitting",
           "tiny_data"]

#: The autoencoder every study varies one thing of (``get_model("autoencoder", **...)``).
AUTOENCODER = {"channels": 3, "code_channels": 16, "levels": 2, "features": 32}


def _autoencoder(**changes) -> Callable[[], nn.Module]:
    return lambda: get_model("autoencoder", **{**AUTOENCODER, **changes})


def optimizer_arms(adam_lr: float = 1e-3, sgd_lr: float = 0.05,
                   momentum: float = 0.9) -> list[Arm]:
    """SGD, SGD with momentum and Adam, each at a learning rate usual for it.

    SGD steps by :math:`-\\eta g`; momentum keeps a running direction
    :math:`v \\leftarrow \\mu v + g`, steps by :math:`-\\eta v` (about :math:`1 / (1 - \\mu)`
    times further along a steady gradient); Adam divides each weight's step by a running
    root mean square of its gradients, so its steps are about :math:`\\eta` whatever the
    gradient's scale.

    References
    ----------
    .. [1] B. T. Polyak, "Some methods of speeding up the convergence of iteration methods",
           USSR Computational Mathematics and Mathematical Physics 4(5), 1964.
    .. [2] D. P. Kingma, J. Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015.
           arXiv:1412.6980
    """
    def sgd(mu: float) -> Callable[[nn.Module], torch.optim.Optimizer]:
        return lambda model: torch.optim.SGD(model.parameters(), lr=sgd_lr, momentum=mu)

    return [Arm(f"SGD, lr {sgd_lr:g}", _autoencoder(), optimizer=sgd(0.0)),
            Arm(f"SGD + momentum {momentum:g}, lr {sgd_lr:g}", _autoencoder(),
                optimizer=sgd(momentum)),
            Arm(f"Adam, lr {adam_lr:g}", _autoencoder(), lr=adam_lr)]


def learning_rate_arms(lrs: Iterable[float] = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2)) -> list[Arm]:
    """Adam at each learning rate of ``lrs`` (cosine-annealed to 1 % of it, as every arm)."""
    return [Arm(f"Adam, lr {lr:g}", _autoencoder(), lr=lr) for lr in lrs]


def loss_arms(lr: float = 1e-3) -> list[Arm]:
    """MSE, L1, :math:`1 - \\mathrm{SSIM}` and binary cross-entropy, the same network.

    Binary cross-entropy treats each pixel value in [0, 1] as a probability,
    :math:`-[x \\log \\hat x + (1 - x) \\log (1 - \\hat x)]`, so its autoencoder ends with a
    sigmoid; ``"MSE, sigmoid output"`` has the same sigmoid with MSE, so that the loss and the
    output layer can be told apart. Every arm is scored the same way (PSNR and SSIM): a loss
    is a choice of what to be good at.
    """
    return [Arm("MSE", _autoencoder(), lr=lr, loss="mse"),
            Arm("L1", _autoencoder(), lr=lr, loss="l1"),
            Arm("SSIM (1 - SSIM)", _autoencoder(), lr=lr, loss=lambda model: SSIMLoss()),
            Arm("binary cross-entropy", _autoencoder(sigmoid=True), lr=lr, loss="bce"),
            Arm("MSE, sigmoid output", _autoencoder(sigmoid=True), lr=lr, loss="mse")]


def capacity_arms(features: Iterable[int] = (8, 16, 32, 64), lr: float = 1e-3) -> list[Arm]:
    """The network's width (channels of the first stage; the others double, up to 4x) over
    ``features``, with the same code: capacity without a bigger bottleneck."""
    return [Arm(f"width {f}", _autoencoder(features=f), lr=lr) for f in features]


def run_batch_sizes(data: ExperimentData, batches: Sequence[int], *, epochs: int,
                    samples_per_epoch: int, lr: float = 1e-3, seeds: Iterable[int] = (0,),
                    device: torch.device | str = "cpu", progress: bool = True) -> Results:
    """Train the autoencoder with each batch size of ``batches``, at the same number of
    training patches per epoch (``samples_per_epoch``, so a batch of ``b`` makes
    ``samples_per_epoch // b`` steps) and the same Adam learning rate.

    Larger batches average the gradient over more patches (less noise per step) but take
    fewer steps for the same data; the train-time column says what they cost on this
    machine. (The linear scaling rule [1]_ would raise the learning rate with the batch;
    this study keeps it, to show the batch alone.)

    References
    ----------
    .. [1] P. Goyal et al., "Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour",
           2017. arXiv:1706.02677
    """
    results = Results()
    for batch in batches:
        if not 1 <= batch <= samples_per_epoch:
            raise ValueError(f"a batch of {batch} does not fit {samples_per_epoch} samples per "
                             "epoch; give batch sizes from 1 to samples_per_epoch.")
        sized = replace(data, batch=batch, steps_per_epoch=samples_per_epoch // batch)
        results.extend(run_arms([Arm(f"batch {batch}", _autoencoder(), lr=lr)], sized,
                                epochs=epochs, seeds=seeds, device=device, progress=progress))
    return results


def tiny_data(data: ExperimentData, crops: int, side: int, steps_per_epoch: int,
              batch: int | None = None) -> ExperimentData:
    """A deliberately tiny training set: ``crops`` squares of ``side`` pixels cut at random
    places (seed 0) from the training photos of ``data``, one photo after another, as whole
    training images, without augmentation.

    A training image the size of the patch is the same patch at every step, so the network
    sees exactly ``crops`` images: it can learn them by heart. The validation and held-out
    images are those of ``data``, so a model's score is comparable with the full data's.
    """
    if crops < 1 or side < 8:
        raise ValueError(f"tiny_data needs at least one crop of at least 8 pixels, got "
                         f"crops={crops}, side={side}.")
    photos = list(data.train.items())
    rng = np.random.default_rng(0)
    train = {}
    for k in range(crops):
        name, photo = photos[k % len(photos)]
        h, w = photo.shape[:2]
        if min(h, w) < side:
            raise ValueError(f"training photo {name} ({w}x{h}) is smaller than side={side}.")
        y, x = rng.integers(0, h - side + 1), rng.integers(0, w - side + 1)
        train[f"{name}_{k}"] = np.ascontiguousarray(photo[y:y + side, x:x + side])
    return replace(data, train=train, patch_lr=side // data.task.scale,
                   batch=batch or min(crops, data.batch), steps_per_epoch=steps_per_epoch,
                   augment=False)


def overfitting_arms(lr: float = 1e-3, weight_decay: float = 1e-4, beta: float = 1e-2,
                     small_features: int = 8) -> list[Arm]:
    """The baseline of the overfitting study and the remedies that need no other data.

    - ``"no remedy (last epoch)"``: trained to the end, its last weights kept;
    - ``"early stopping"``: the same training, the weights of the best validation epoch
      kept (training runs to the end; stopping at that epoch would give the same weights);
    - ``"weight decay"``: an L2 penalty :math:`\\tfrac{w_d}{2}\\lVert\\theta\\rVert^2` (Adam's
      ``weight_decay`` adds :math:`w_d \\theta` to each gradient), last epoch;
    - ``"L1 on the code"``: :class:`~course_utils.training.losses.CodeL1Loss`, last epoch;
    - ``"smaller model"``: width ``small_features`` instead of 32, last epoch.

    Augmentation changes the data, not the arm: :func:`run_overfitting` adds it.
    """
    def decayed(model: nn.Module) -> torch.optim.Optimizer:
        return torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)

    return [Arm("no remedy (last epoch)", _autoencoder(), lr=lr, keep_best=False),
            Arm("early stopping", _autoencoder(), lr=lr),
            Arm(f"weight decay {weight_decay:g}", _autoencoder(), optimizer=decayed,
                keep_best=False),
            Arm(f"L1 on the code, beta {beta:g}", _autoencoder(), lr=lr, keep_best=False,
                loss=lambda model: CodeL1Loss(model, beta)),
            Arm(f"smaller model (width {small_features})",
                _autoencoder(features=small_features), lr=lr, keep_best=False)]


def run_overfitting(data: ExperimentData, *, epochs: int, seeds: Iterable[int] = (0,),
                    lr: float = 1e-3, device: torch.device | str = "cpu",
                    progress: bool = True, **remedies) -> Results:
    """The overfitting study on the tiny ``data`` (:func:`tiny_data`): every arm of
    :func:`overfitting_arms` (``remedies`` are its options), then ``"augmentation"``: the
    baseline trained on the same crops with random flips and 90-degree rotations (8 views of
    each), its last epoch kept."""
    seeds = list(seeds)
    results = run_arms(overfitting_arms(lr, **remedies), data, epochs=epochs, seeds=seeds,
                       device=device, progress=progress)
    augmented = replace(data, augment=True)
    results.extend(run_arms([Arm("augmentation", _autoencoder(), lr=lr, keep_best=False)],
                            augmented, epochs=epochs, seeds=seeds, device=device,
                            progress=progress))
    return results

