"""Reconstruction networks built around a pretrained ImageNet encoder.

Two designs, both taking an RGB image ``(N, 3, h, w)`` in [0, 1] and returning
``(N, 3, s*h, s*w)`` (``s = 1`` for restoration: denoising, deblurring, JPEG artefacts):

- :class:`BackboneUNet`: a U-Net whose encoder is a backbone of
  :mod:`course_utils.models.backbones`. The decoder climbs back from the deepest stage, each step
  upsampling and concatenating the encoder's feature map of the same size (skip connections),
  then a sub-pixel head (:class:`torch.nn.PixelShuffle`) produces the residual that is added to
  the bicubic enlargement of the input.
- :class:`FeatureSubPixelSR`: the joint "feature extractor + generator" design of cross-domain
  SR: the first stages of a pretrained backbone give features that are brought to the LR grid
  and concatenated with the features of a small ESPCN-style body, and a sub-pixel convolution
  generates the HR image.

In both, the encoder is an ordinary sub-module (``model.encoder``), so
:mod:`course_utils.models.freeze` can freeze it or unfreeze it stage by stage, and
:mod:`course_utils.training.finetune` give it a lower learning rate. Both are registered
(``backbone-unet``, ``feature-subpixel-sr``): ``get_model("backbone-unet", scale=1)`` is a
restoration network, and its checkpoints load like any other model's.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .backbones import (
    BACKBONES,
    as_encoder,
    backbone_stages,
    load_backbone,
    stage_channels,
    stage_features,
)
from .freeze import freeze, keep_frozen_norms_in_eval
from .registry import register_model
from .sr import bicubic_upscale

__all__ = ["BackboneUNet", "FeatureSubPixelSR", "backbone_unet", "feature_subpixel_sr"]


class _Fuse(nn.Module):
    """Decoder step: upsample to the skip's size, concatenate, two 3x3 convolutions."""

    def __init__(self, c_in: int, c_skip: int, c_out: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(c_in + c_skip, c_out, 3, padding=1),
                                  nn.ReLU(inplace=True),
                                  nn.Conv2d(c_out, c_out, 3, padding=1), nn.ReLU(inplace=True))

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.body(torch.cat([x, skip], dim=1))


class BackboneUNet(nn.Module):
    """U-Net with a pretrained encoder, for SR (``scale >= 2``) or restoration (``scale = 1``).

    .. math:: \\hat{y} = \\mathrm{bicubic}_s(x) + \\mathrm{PS}_s(D(E_1(x), \\dots, E_5(x), x))

    :math:`E_1 \\dots E_5` are the backbone's five stages (:func:`stage_features`), :math:`D`
    the decoder (one :class:`_Fuse` step per skip, the last one at the input's own
    resolution), :math:`\\mathrm{PS}_s` a 3x3 convolution to :math:`3 s^2` channels and
    :class:`~torch.nn.PixelShuffle`. Learning only the residual over bicubic makes the
    untrained network start at the bicubic baseline.

    Parameters
    ----------
    backbone : {"efficientnet_lite0", "resnet18", "vgg16"}
    scale : int
        1 (restoration) or the SR factor.
    pretrained : bool
        ImageNet weights (default) or a random initialisation of the encoder.
    width : int
        Channels of the decoder's last two steps; the deeper steps have 2, 4 and 8 times more.

    References
    ----------
    .. [1] O. Ronneberger, P. Fischer, T. Brox, "U-Net: Convolutional Networks for Biomedical
           Image Segmentation", MICCAI 2015. arXiv:1505.04597
    """

    def __init__(self, backbone: str = "efficientnet_lite0", scale: int = 4,
                 pretrained: bool = True, width: int = 16) -> None:
        super().__init__()
        if scale < 1:
            raise ValueError(f"scale must be 1 (restoration) or more, got {scale}.")
        self.scale, self.channels, self.backbone = scale, 3, backbone
        self.encoder = as_encoder(load_backbone(backbone, pretrained=pretrained))
        skips = stage_channels(self.encoder)  # shallow to deep
        self.fuse = nn.ModuleList()
        c_in = skips[-1]
        for c_skip, c_out in zip(skips[-2::-1], (8 * width, 4 * width, 2 * width, width),
                                 strict=True):
            self.fuse.append(_Fuse(c_in, c_skip, c_out))
            c_in = c_out
        self.fuse.append(_Fuse(width, 3, width))  # last step: the input itself, full size
        self.head = nn.Conv2d(width, 3 * scale**2, 3, padding=1)
        self.shuffle = nn.PixelShuffle(scale)
        nn.init.zeros_(self.head.weight)  # start exactly at the bicubic baseline
        nn.init.zeros_(self.head.bias)

    def train(self, mode: bool = True) -> BackboneUNet:
        super().train(mode)
        keep_frozen_norms_in_eval(self.encoder)
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = stage_features(self.encoder, x)
        y = features[-1]
        for fuse, skip in zip(self.fuse, list(reversed(features[:-1])) + [x], strict=True):
            y = fuse(y, skip)
        return bicubic_upscale(x, self.scale) + self.shuffle(self.head(y))


class FeatureSubPixelSR(nn.Module):
    """Pretrained features + a sub-pixel generator (the joint design of cross-domain SR).

    The LR image goes through two paths: the first ``stages`` stages of a pretrained backbone
    (their last feature map bilinearly resized back to the LR grid), and ESPCN's first layer
    (5x5, 64, tanh). The two are concatenated and ESPCN's remaining layers (3x3, 32, tanh;
    3x3 to :math:`3 s^2` channels) and :class:`~torch.nn.PixelShuffle` generate the residual
    over bicubic.

    Parameters
    ----------
    backbone : str
    scale : int
    stages : int
        How many backbone stages feed the generator (1 to 5; shallow features are the most
        generic, deep ones cost more and are more specific to ImageNet's classes). The deeper
        stages are never run; they are frozen so that they do not count as trainable.
    pretrained : bool
    """

    def __init__(self, backbone: str = "efficientnet_lite0", scale: int = 4, stages: int = 2,
                 pretrained: bool = True) -> None:
        super().__init__()
        if not 1 <= stages <= 5:
            raise ValueError(f"stages must be 1 to 5, got {stages}.")
        if scale < 2:
            raise ValueError(f"FeatureSubPixelSR is a super-resolution model: scale must be 2 "
                             f"or more, got {scale}.")
        self.scale, self.channels, self.backbone, self.stages = scale, 3, backbone, stages
        self.encoder = as_encoder(load_backbone(backbone, pretrained=pretrained))
        for unused in backbone_stages(self.encoder)[stages:]:
            freeze(unused)  # never run, so never trained: keep them out of trainable counts
        c_feat = stage_channels(self.encoder)[stages - 1]
        self.body = nn.Conv2d(3, 64, 5, padding=2)
        self.generator = nn.Sequential(nn.Conv2d(64 + c_feat, 32, 3, padding=1), nn.Tanh(),
                                       nn.Conv2d(32, 3 * scale**2, 3, padding=1),
                                       nn.PixelShuffle(scale))
        nn.init.zeros_(self.generator[2].weight)
        nn.init.zeros_(self.generator[2].bias)

    def train(self, mode: bool = True) -> FeatureSubPixelSR:
        super().train(mode)
        keep_frozen_norms_in_eval(self.encoder)
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = stage_features(self.encoder, x, stages=self.stages)[-1]
        features = F.interpolate(features, size=x.shape[-2:], mode="bilinear",
                                 align_corners=False)
        y = torch.cat([torch.tanh(self.body(x)), features], dim=1)
        return bicubic_upscale(x, self.scale) + self.generator(y)


@register_model("backbone-unet", task="any",
                limits={"backbone": set(BACKBONES), "scale": (1, 8), "width": (1, 256)})
def backbone_unet(scale: int, backbone: str = "efficientnet_lite0", pretrained: bool = True,
                  width: int = 16) -> BackboneUNet:
    """U-Net on an ImageNet encoder: SR at scale 2 or more, restoration at scale 1."""
    return BackboneUNet(backbone, scale, pretrained=pretrained, width=width)


@register_model("feature-subpixel-sr", task="sr",
                limits={"backbone": set(BACKBONES), "scale": (2, 8), "stages": (1, 5)})
def feature_subpixel_sr(scale: int, backbone: str = "efficientnet_lite0", stages: int = 2,
                        pretrained: bool = True) -> FeatureSubPixelSR:
    """Pretrained ImageNet features + an ESPCN-style sub-pixel generator (joint design)."""
    return FeatureSubPixelSR(backbone, scale, stages=stages, pretrained=pretrained)
