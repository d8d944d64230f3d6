"""Restoration networks: DnCNN, the residual denoiser that the field's tables compare against.

A restoration network keeps the image's size (``scale = 1``): it takes the degraded image
``(N, C, H, W)`` in [0, 1] (noisy inputs may leave that range) and returns the restored one.
The unit 04 U-Net (``get_model("backbone-unet", scale=1)``) is the other restoration design of
the course, with an ImageNet encoder.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .registry import register_model

__all__ = ["DnCNN", "dncnn"]


class DnCNN(nn.Module):
    """DnCNN: ``depth`` 3x3 convolutions that predict the *residual* (the noise) of the input.

    .. math:: \\hat x = y - \\mathcal{R}(y)

    :math:`\\mathcal{R}` is Conv+ReLU, then ``depth - 2`` blocks of Conv+BN+ReLU, then Conv,
    all with ``features`` channels (the paper: depth 17, 64 features, 556k parameters for
    gray images; a receptive field of ``2 * depth + 1`` pixels). Learning the residual is
    easier than learning the clean image: the noise is small and has no structure, and batch
    normalisation keeps the deep stack trainable.
    One network serves every degradation of scale 1 (DnCNN-3 does Gaussian denoising, SR
    after bicubic upscaling and JPEG deblocking).

    ``unshuffle = 2`` is FFDNet's reversible downsampling: the image is cut into its four
    pixel-interleaved half-size sub-images (:class:`torch.nn.PixelUnshuffle`), the stack runs
    on those, 4 channels in and out, and :class:`torch.nn.PixelShuffle` puts them back. Each
    layer then costs a quarter and the receptive field doubles, which is what makes the
    course's shipped denoiser trainable on a laptop CPU in an hour.

    The course's one-channel models see a gray image as the Y-channel SR models do
    (:func:`course_utils.images.image_to_tensor` mode ``"y"``: :math:`(16 + 219 g) / 255`), so
    one tensor convention serves every Y model; its noise of sigma 25 is
    :math:`25 \\cdot 219/255 \\approx 21.5` in those units, and the output is clamped to
    [16, 235] / 255 (:func:`course_utils.evaluation.inference.reconstruct`).

    Parameters
    ----------
    channels : {1, 3}
        1 for gray images (the Y channel of colour ones), 3 for RGB.
    depth : int
        Number of convolution layers (the receptive field is ``2 * depth + 1`` pixels).
    features : int
        Channels of the hidden layers.
    unshuffle : int
        1 (the paper) or the factor of the reversible downsampling (2, FFDNet's).

    References
    ----------
    .. [1] K. Zhang, W. Zuo, Y. Chen, D. Meng, L. Zhang, "Beyond a Gaussian Denoiser:
           Residual Learning of Deep CNN for Image Denoising", IEEE TIP 26(7), 2017.
           arXiv:1608.03981
    .. [2] K. Zhang, W. Zuo, L. Zhang, "FFDNet: Toward a Fast and Flexible Solution for
           CNN-Based Image Denoising", IEEE TIP 27(9), 2018. arXiv:1710.04026
    """

    scale = 1

    def __init__(self, channels: int = 1, depth: int = 17, features: int = 64,
                 unshuffle: int = 1) -> None:
        super().__init__()
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 (gray) or 3 (RGB), got {channels!r}.")
        self.channels, self.unshuffle = channels, unshuffle
        c = channels * unshuffle**2
        layers = [nn.PixelUnshuffle(unshuffle)] if unshuffle > 1 else []
        layers += [nn.Conv2d(c, features, 3, padding=1), nn.ReLU(inplace=True)]
        for _ in range(depth - 2):
            layers += [nn.Conv2d(features, features, 3, padding=1, bias=False),
                       nn.BatchNorm2d(features), nn.ReLU(inplace=True)]
        layers.append(nn.Conv2d(features, c, 3, padding=1))
        layers += [nn.PixelShuffle(unshuffle)] if unshuffle > 1 else []
        self.residual = nn.Sequential(*layers)

    @property
    def receptive_radius(self) -> int:
        """Pixels of context each output pixel sees on each side: one per 3x3 layer, at the
        stack's resolution (the overlap that makes tiled inference exact, with tiles that
        start on multiples of ``unshuffle``, as :func:`~course_utils.evaluation.inference.run_tiled`
        makes them)."""
        return sum(isinstance(m, nn.Conv2d) for m in self.residual) * self.unshuffle

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        h, w = y.shape[-2:]
        u = self.unshuffle
        if h % u or w % u:  # odd sizes: mirror a row or column, then crop it off again
            padded = F.pad(y, (0, -w % u, 0, -h % u), mode="reflect")
            return (padded - self.residual(padded))[..., :h, :w]
        return y - self.residual(y)


@register_model("dncnn", task="restoration",
                limits={"channels": {1, 3}, "depth": (3, 30), "features": (4, 128),
                        "unshuffle": (1, 4)})
def dncnn(channels: int = 1, depth: int = 17, features: int = 64, unshuffle: int = 1) -> DnCNN:
    """DnCNN (``depth``, ``features``); the paper's DnCNN-S is (17, 64): 556k parameters
    (``unshuffle``: FFDNet's reversible downsampling)."""
    return DnCNN(channels, depth, features, unshuffle)
