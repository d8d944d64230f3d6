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

Models are built by name from :data:`MODELS` with :func:`build_model`, which is also what a
checkpoint stores to rebuild its model (:func:`model_config`).
"""

from __future__ import annotations

from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from .checks import check_scale

__all__ = ["ESPCN", "FSRCNN", "MODELS", "SRCNN", "build_model", "count_macs",
           "count_parameters", "model_config"]


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (weights and biases) of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def count_macs(model: nn.Module, input_shape: tuple[int, ...]) -> int:
    r"""Multiply-accumulate operations of one forward pass on an input of ``input_shape``.

    Counts the convolutions, which dominate these networks:
    :math:`H_{out} W_{out} C_{out} \cdot k_h k_w C_{in} / \text{groups}` for a convolution and
    :math:`H_{in} W_{in} C_{in} \cdot k_h k_w C_{out} / \text{groups}` for a transposed one
    (each input pixel is spread over a ``k x k`` window of every output channel).
    """
    total = 0

    def conv_hook(module, inputs, output):
        nonlocal total
        k = module.kernel_size[0] * module.kernel_size[1]
        if isinstance(module, nn.ConvTranspose2d):
            total += inputs[0].numel() * k * module.out_channels // module.groups
        else:
            total += output.numel() * k * module.in_channels // module.groups

    hooks = [m.register_forward_hook(conv_hook) for m in model.modules()
             if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    try:
        with torch.no_grad():
            model(torch.zeros(input_shape))
    finally:
        for hook in hooks:
            hook.remove()
    return total


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
    model is 9-1-5 (8,129 parameters for one channel); 9-5-5 (57,281) is its better,
    slower variant. Because every layer runs on the enlarged image, SRCNN costs about
    ``s**2`` times more than a network of the same size that works at low resolution.

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
    expanding ``1x1, d``; deconvolution ``9x9``, stride = scale. FSRCNN(56, 12, 4) has the
    paper's 12,464 convolution weights (12,809 parameters with biases and PReLU slopes) and
    runs on the LR image, so it is much cheaper than SRCNN and more accurate.

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
    21,284 / 22,729 / 24,752 parameters at x2 / x3 / x4.

    Parameters
    ----------
    scale : int
    channels : {1, 3}
    features : (int, int)
        Widths of the two feature layers; the paper's are (64, 32). Change them to trade
        parameters for accuracy.

    References
    ----------
    .. [1] W. Shi et al., "Real-Time Single Image and Video Super-Resolution Using an
           Efficient Sub-Pixel Convolutional Neural Network", CVPR 2016. arXiv:1609.05158
    """

    def __init__(self, scale: int, channels: int = 1,
                 features: tuple[int, int] = (64, 32)) -> None:
        super().__init__()
        self.scale = _check_scale(scale)
        self.channels = _check_channels(channels)
        n1, n2 = features
        self.conv1 = nn.Conv2d(channels, n1, 5, padding=2)
        self.conv2 = nn.Conv2d(n1, n2, 3, padding=1)
        self.conv3 = nn.Conv2d(n2, channels * scale**2, 3, padding=1)
        self.shuffle = nn.PixelShuffle(scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.tanh(self.conv1(x))
        x = torch.tanh(self.conv2(x))
        return self.shuffle(self.conv3(x))


#: Model builders by name. Each takes ``scale`` and ``channels`` as keywords.
MODELS = {
    "srcnn-915": partial(SRCNN, kernel_sizes=(9, 1, 5)),
    "srcnn-955": partial(SRCNN, kernel_sizes=(9, 5, 5)),
    "fsrcnn": FSRCNN,
    "fsrcnn-s": partial(FSRCNN, d=32, s=5, m=1),
    "espcn": ESPCN,
}


def build_model(name: str, scale: int, channels: int = 1) -> nn.Module:
    """Build a fresh (randomly initialised) model of :data:`MODELS`.

    Examples
    --------
    >>> model = build_model("espcn", scale=3)
    >>> count_parameters(model)
    22729
    """
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}.")
    model = MODELS[name](scale=scale, channels=channels)
    model.name = name  # kept so that checkpoints can record how to rebuild the model
    return model


def model_config(model: nn.Module) -> dict:
    """What :func:`build_model` needs to rebuild ``model``: name, scale and channels."""
    name = getattr(model, "name", None)
    if name not in MODELS:
        raise ValueError("this model was not made by build_model(), so its config is unknown; "
                         "build it with course_utils.models.build_model(name, scale).")
    return {"name": name, "scale": model.scale, "channels": model.channels}
