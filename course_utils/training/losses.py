"""Training losses: the pixel ones, SSIM and perceptual (feature) losses, a sparse code.

Pixel losses (MSE, L1, binary cross-entropy; :data:`LOSSES`, by name for
:func:`course_utils.training.loop.fit`) compare images value by value. The two others compare
what the eye and a pretrained network see:

- :class:`SSIMLoss`: :math:`1 - \\mathrm{SSIM}(\\hat y, y)`, with the course's differentiable
  SSIM (:func:`course_utils.metrics.ssim_torch`);
- :class:`PerceptualLoss`: the mean squared distance between the feature maps of a frozen
  ImageNet backbone, :math:`\\sum_k \\lVert \\phi_k(\\hat y) - \\phi_k(y) \\rVert_2^2 / N_k`
  (Johnson et al., 2016), usually added to a pixel loss with a small weight.

:class:`CodeL1Loss` adds an L1 penalty on an autoencoder's code to a pixel loss: a sparse
code, one of unit 07's remedies for overfitting.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ..metrics import ssim_torch
from ..models.backbones import as_encoder, load_backbone, stage_features
from ..models.freeze import freeze

__all__ = ["LOSSES", "CodeL1Loss", "PerceptualLoss", "SSIMLoss", "binary_cross_entropy"]


def binary_cross_entropy(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of images in [0, 1], each pixel value a probability:
    :math:`-\\tfrac{1}{N}\\sum_i [x_i \\log \\hat x_i + (1 - x_i) \\log (1 - \\hat x_i)]`.

    ``output`` must be in [0, 1] too (a model with a sigmoid last layer; torch refuses other
    values). Computed in float32 outside mixed precision: CUDA's autocast refuses it, as
    float16 logarithms near 0 and 1 lose too much."""
    with torch.autocast(device_type=output.device.type, enabled=False):
        return F.binary_cross_entropy(output.float(), target.float())


#: Pixel losses by name.
LOSSES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "mse": F.mse_loss,
    "l1": F.l1_loss,
    "bce": binary_cross_entropy,
}


class SSIMLoss(nn.Module):
    """:math:`1 - \\mathrm{SSIM}` averaged over the batch (images of at least 11x11 pixels)."""

    def forward(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return 1 - ssim_torch(output, target).mean()


class PerceptualLoss(nn.Module):
    """Feature distance in a frozen ImageNet backbone, plus an optional pixel term.

    .. math:: \\mathcal{L} = w_{pix} \\lVert \\hat y - y \\rVert_2^2 / N
              + w_{feat} \\sum_{k \\le K}
              \\lVert \\phi_k(\\hat y) - \\phi_k(y) \\rVert_2^2 / N_k

    The two terms have very different sizes: on natural-photo patches in [0, 1], the feature
    term of EfficientNet-Lite0's first three stages is tens of thousands of times the pixel MSE
    of a bicubic enlargement, so an unweighted sum is a feature loss alone. :meth:`terms`
    returns both, unweighted, so that ``feature_weight`` can be chosen to balance them, e.g. to
    make them equal on the untrained model's output (unit 04 does so).

    Parameters
    ----------
    backbone : str
        A backbone of :mod:`course_utils.models.backbones` (VGG-16 in the paper; EfficientNet-Lite0
        works offline).
    stages : int
        Compare the feature maps of the first ``stages`` stages (shallow features: edges and
        textures).
    pixel_weight : float
        Weight of the MSE term that keeps colours and low frequencies right.
    feature_weight : float
        Weight of the feature term.

    References
    ----------
    .. [1] J. Johnson, A. Alahi, L. Fei-Fei, "Perceptual Losses for Real-Time Style Transfer
           and Super-Resolution", ECCV 2016. arXiv:1603.08155
    """

    def __init__(self, backbone: str = "efficientnet_lite0", stages: int = 3,
                 pixel_weight: float = 1.0, feature_weight: float = 1.0) -> None:
        super().__init__()
        if pixel_weight < 0 or feature_weight < 0:
            raise ValueError(f"the weights must be >= 0, got pixel_weight={pixel_weight} and "
                             f"feature_weight={feature_weight}.")
        self.stages, self.pixel_weight, self.feature_weight = stages, pixel_weight, feature_weight
        self.net = freeze(as_encoder(load_backbone(backbone)))

    def train(self, mode: bool = True) -> PerceptualLoss:
        super().train(mode)
        self.net.eval()  # the loss network's batch norms always use ImageNet statistics
        return self

    def terms(self, output: torch.Tensor, target: torch.Tensor) -> dict[str, torch.Tensor]:
        """The unweighted terms: ``{"pixel": MSE, "feature": sum of the stages' MSEs}``."""
        if output.shape != target.shape or output.ndim != 4 or output.shape[1] not in (1, 3):
            raise ValueError(f"expected two (N, 1 or 3, H, W) tensors of the same shape, got "
                             f"{tuple(output.shape)} and {tuple(target.shape)}.")
        pixel = F.mse_loss(output, target)
        if output.shape[1] == 1:  # a Y/gray image: the backbone wants three channels
            output, target = output.expand(-1, 3, -1, -1), target.expand(-1, 3, -1, -1)
        with torch.no_grad():
            wanted = stage_features(self.net, target, stages=self.stages)
        feature = sum(F.mse_loss(got, want) for got, want in
                      zip(stage_features(self.net, output, stages=self.stages), wanted,
                          strict=True))
        return {"pixel": pixel, "feature": feature}

    def forward(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        terms = self.terms(output, target)
        return self.pixel_weight * terms["pixel"] + self.feature_weight * terms["feature"]


class CodeL1Loss:
    """A pixel loss plus an L1 penalty on the code of an autoencoder (a *sparse* code).

    .. math:: \\mathcal{L} = \\ell(\\hat x, x) + \\beta \\, \\frac{1}{|z|} \\sum_i |z_i|,
              \\qquad z = E(x)

    The code :math:`z` is read from ``model.encoder``'s output on each forward pass (a
    forward hook), so the loss works with :func:`~course_utils.training.loop.fit` unchanged:
    build it for the model being trained, ``CodeL1Loss(model, beta=1e-2)``.

    Parameters
    ----------
    model : nn.Module
        A model with an ``encoder`` sub-module, e.g.
        :class:`~course_utils.models.codec.ConvAutoencoder`.
    beta : float
        Weight of the penalty (>= 0).
    pixel : str
        The pixel loss, a name of :data:`LOSSES`.

    References
    ----------
    .. [1] A. Ng, "Sparse autoencoder", CS294A lecture notes, Stanford, 2011.
    .. [2] I. Goodfellow, Y. Bengio, A. Courville, "Deep Learning", MIT Press, 2016,
           section 14.2.1 (sparse autoencoders).
    """

    def __init__(self, model: nn.Module, beta: float = 1e-2, pixel: str = "mse") -> None:
        if not hasattr(model, "encoder"):
            raise ValueError("CodeL1Loss needs a model with an `encoder` sub-module, such as "
                             "course_utils.models.codec.ConvAutoencoder.")
        if beta < 0:
            raise ValueError(f"beta must be >= 0, got {beta}.")
        if pixel not in LOSSES:
            raise ValueError(f"unknown pixel loss {pixel!r}; choose one of {', '.join(LOSSES)}.")
        self.beta, self.pixel, self.code = beta, LOSSES[pixel], None
        model.encoder.register_forward_hook(self._keep_code)

    def _keep_code(self, module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        self.code = output

    def __call__(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self.code is None:
            raise RuntimeError("CodeL1Loss saw no code: call the model before the loss.")
        return self.pixel(output, target) + self.beta * self.code.abs().mean()
