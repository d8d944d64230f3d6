"""The classic super-resolution networks: SRCNN, FSRCNN and ESPCN.

Every model here takes the low-resolution image, a tensor of shape ``(N, C, h, w)`` with
values in [0, 1], and returns the super-resolved image of shape ``(N, C, s*h, s*w)``. They
differ in *where* the upsampling happens:

- SRCNN works at high resolution: the LR input is first enlarged with bicubic
  interpolation, then three convolutions restore the detail. Every layer pays for
  ``s**2`` times more pixels.
- FSRCNN and ESPCN work at low resolution and upsample only at the end, with a learned
  transposed convolution (FSRCNN) or a sub-pixel convolution followed by
  :class:`torch.nn.PixelShuffle` (ESPCN).

All convolutions use "same" padding so that output sizes are exactly ``s`` times the input
(the papers used unpadded convolutions and trimmed the targets instead).

Each is registered (:mod:`course_utils.models.registry`) under the names of the papers'
variants: ``srcnn-915``, ``srcnn-955``, ``fsrcnn``, ``fsrcnn-s`` and ``espcn``; build one with
``get_model("espcn", scale=3)``.

Parameter counts come in two conventions, and the docstrings below give both: the SRCNN and
FSRCNN papers count the convolution *weights* only; *parameters* are the weights plus the
biases (and FSRCNN's PReLU slopes), which is what
:func:`~course_utils.models.complexity.count_parameters` and PyTorch count. All counts are for
one channel (Y).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..checks import check_scale
from .registry import register_model

__all__ = ["ESPCN", "FSRCNN", "SRCNN", "bicubic_upscale", "espcn", "fsrcnn", "fsrcnn_s",
           "srcnn_915", "srcnn_955"]


def bicubic_upscale(x: torch.Tensor, scale: int) -> torch.Tensor:
    """PyTorch's bicubic enlargement (Keys' kernel with a = -0.75, not MATLAB's a = -0.5): the
    starting point of the residual models, which learn only what bicubic misses."""
    if scale == 1:
        return x
    return F.interpolate(x, scale_factor=scale, mode="bicubic", align_corners=False)


def _check_scale(scale: object) -> int:
    scale = check_scale(scale)
    if scale < 2:
        raise ValueError(f"a super-resolution model needs a scale of 2 or more, got {scale}.")
    return scale


def _check_channels(channels: object) -> int:
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 (the Y channel) or 3 (RGB), got {channels!r}.")
    return int(channels)


class SRCNN(nn.Module):
    """SRCNN: patch extraction, non-linear mapping and reconstruction, at high resolution.

    The LR input is upscaled with bicubic interpolation (torch's, inside ``forward``), then

    .. math:: F(Y) = W_3 * \\max(0, W_2 * \\max(0, W_1 * Y + B_1) + B_2) + B_3

    with ``f1 x f1 x 64``, ``f2 x f2 x 32`` and ``f3 x f3 x C`` filters. The paper's base
    model is 9-1-5: 8,032 weights for one channel, the paper's count (8,129 parameters with
    the 97 biases); 9-5-5, its better and slower variant, has 57,184 weights (57,281
    parameters). Because every layer runs on the enlarged image, SRCNN costs about ``s**2``
    times more than a network of the same size that works at low resolution.

    Parameters
    ----------
    scale : int
        Upscaling factor (2 or more).
    channels : {1, 3}
        1 for the Y channel (as in the paper), 3 for RGB.
    kernel_sizes : (int, int, int)
        ``(f1, f2, f3)``; ``(9, 1, 5)`` or ``(9, 5, 5)`` in the paper.

    References
    ----------
    .. [1] C. Dong, C. C. Loy, K. He, X. Tang, "Image Super-Resolution Using Deep
           Convolutional Networks", IEEE TPAMI 38(2), 2016. arXiv:1501.00092
    """

    def __init__(self, scale: int, channels: int = 1,
                 kernel_sizes: tuple[int, int, int] = (9, 1, 5)) -> None:
        super().__init__()
        self.scale = _check_scale(scale)
        self.channels = _check_channels(channels)
        f1, f2, f3 = kernel_sizes
        self.kernel_sizes = (f1, f2, f3)
        self.extract = nn.Conv2d(channels, 64, f1, padding=f1 // 2)
        self.map = nn.Conv2d(64, 32, f2, padding=f2 // 2)
        self.reconstruct = nn.Conv2d(32, channels, f3, padding=f3 // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=self.scale, mode="bicubic", align_corners=False)
        x = F.relu(self.extract(x))
        x = F.relu(self.map(x))
        return self.reconstruct(x)


class FSRCNN(nn.Module):
    """FSRCNN: a small network at low resolution with a learned deconvolution at the end.

    Five parts, each convolution followed by PReLU except the last:
    feature extraction ``5x5, d``; shrinking ``1x1, s``; mapping ``m x (3x3, s)``;
    expanding ``1x1, d``; deconvolution ``9x9``, stride = scale. FSRCNN(56, 12, 4) has 12,464
    convolution weights for one channel at any scale, the paper's count (12,809 parameters with
    the biases and PReLU slopes); FSRCNN-s (32, 5, 1) has 3,937 weights (4,086 parameters).
    It runs on the LR image, so it is much cheaper than SRCNN and more accurate.

    Parameters
    ----------
    scale : int
    channels : {1, 3}
    d, s, m : int
        Feature width, shrunk width and number of mapping layers; the paper's model is
        (56, 12, 4), its fast variant FSRCNN-s is (32, 5, 1).

    References
    ----------
    .. [1] C. Dong, C. C. Loy, X. Tang, "Accelerating the Super-Resolution Convolutional
           Neural Network", ECCV 2016. arXiv:1608.00367
    """

    def __init__(self, scale: int, channels: int = 1, d: int = 56, s: int = 12,
                 m: int = 4) -> None:
        super().__init__()
        self.scale = _check_scale(scale)
        self.channels = _check_channels(channels)
        self.d, self.s, self.m = d, s, m
        layers: list[nn.Module] = [nn.Conv2d(channels, d, 5, padding=2), nn.PReLU(d),
                                   nn.Conv2d(d, s, 1), nn.PReLU(s)]
        for _ in range(m):
            layers += [nn.Conv2d(s, s, 3, padding=1), nn.PReLU(s)]
        layers += [nn.Conv2d(s, d, 1), nn.PReLU(d)]
        self.body = nn.Sequential(*layers)
        # padding and output_padding make the output exactly scale * input in size.
        self.deconv = nn.ConvTranspose2d(d, channels, 9, stride=scale, padding=4,
                                         output_padding=scale - 1)
        # The paper initialises the deconvolution with a small Gaussian (std 0.001).
        nn.init.normal_(self.deconv.weight, std=0.001)
        nn.init.zeros_(self.deconv.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.deconv(self.body(x))


class ESPCN(nn.Module):
    """ESPCN: convolutions at low resolution, then a sub-pixel convolution layer.

    Two feature layers (``5x5, 64`` and ``3x3, 32``, tanh) and a last ``3x3`` convolution
    with ``C * r**2`` output channels. :class:`torch.nn.PixelShuffle` then rearranges
    ``(N, C*r**2, h, w)`` into ``(N, C, r*h, r*w)``: each group of ``r**2`` channels becomes
    an ``r x r`` block of output pixels. All the work is done on the small image, so ESPCN
    is about ``r**2`` times cheaper than SRCNN at the same depth. For one channel it has
    21,284 / 22,729 / 24,752 parameters (weights and biases) at x2 / x3 / x4, of which
    21,184 / 22,624 / 24,640 are weights.

    Parameters
    ----------
    scale : int
    channels : {1, 3}
    features : (int, int)
        Widths of the two feature layers; the paper's are (64, 32). Change them to trade
        parameters for accuracy.
    residual : bool
        Add the output to the bicubic enlargement of the input (:func:`bicubic_upscale`), with
        the last layer starting at zero, so that the untrained network *is* bicubic; the
        paper's ESPCN (the default) has no such shortcut and starts far below bicubic.

    References
    ----------
    .. [1] W. Shi et al., "Real-Time Single Image and Video Super-Resolution Using an
           Efficient Sub-Pixel Convolutional Neural Network", CVPR 2016. arXiv:1609.05158
    """

    def __init__(self, scale: int, channels: int = 1,
                 features: tuple[int, int] = (64, 32), residual: bool = False) -> None:
        super().__init__()
        self.scale = _check_scale(scale)
        self.channels = _check_channels(channels)
        self.residual = residual
        n1, n2 = features
        self.conv1 = nn.Conv2d(channels, n1, 5, padding=2)
        self.conv2 = nn.Conv2d(n1, n2, 3, padding=1)
        self.conv3 = nn.Conv2d(n2, channels * scale**2, 3, padding=1)
        self.shuffle = nn.PixelShuffle(scale)
        if residual:  # start exactly at bicubic
            nn.init.zeros_(self.conv3.weight)
            nn.init.zeros_(self.conv3.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.tanh(self.conv1(x))
        y = torch.tanh(self.conv2(y))
        y = self.shuffle(self.conv3(y))
        return bicubic_upscale(x, self.scale) + y if self.residual else y


_SR_LIMITS = {"scale": (2, 8), "channels": {1, 3}}


@register_model("srcnn-915", task="sr", limits=_SR_LIMITS)
def srcnn_915(scale: int, channels: int = 1) -> SRCNN:
    """SRCNN 9-1-5, the paper's base model (8,032 weights, 8,129 parameters, one channel)."""
    return SRCNN(scale, channels, kernel_sizes=(9, 1, 5))


@register_model("srcnn-955", task="sr", limits=_SR_LIMITS)
def srcnn_955(scale: int, channels: int = 1) -> SRCNN:
    """SRCNN 9-5-5, the paper's better, slower variant (57,184 weights, 57,281 parameters)."""
    return SRCNN(scale, channels, kernel_sizes=(9, 5, 5))


@register_model("fsrcnn", task="sr", limits={**_SR_LIMITS, "m": (0, 16)})
def fsrcnn(scale: int, channels: int = 1, d: int = 56, s: int = 12, m: int = 4) -> FSRCNN:
    """FSRCNN(d, s, m); the paper's model is (56, 12, 4): 12,464 weights, 12,809 parameters."""
    return FSRCNN(scale, channels, d, s, m)


@register_model("fsrcnn-s", task="sr", limits=_SR_LIMITS)
def fsrcnn_s(scale: int, channels: int = 1) -> FSRCNN:
    """FSRCNN-s (32, 5, 1), the paper's fast variant: 3,937 weights, 4,086 parameters."""
    return FSRCNN(scale, channels, d=32, s=5, m=1)


@register_model("espcn", task="sr", limits=_SR_LIMITS)
def espcn(scale: int, channels: int = 1, features: tuple[int, int] = (64, 32),
          residual: bool = False) -> ESPCN:
    """ESPCN with feature widths (64, 32), as in the paper (``residual``: over bicubic)."""
    return ESPCN(scale, channels, features, residual)
