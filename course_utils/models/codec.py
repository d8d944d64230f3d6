"""Autoencoders: a plain one to read, and a learned image codec (Ballé's factorized prior).

:class:`ConvAutoencoder` squeezes an image into a small code and rebuilds it: an encoder of
stride-2 convolutions, a bottleneck of ``code_channels`` maps at ``1 / 2**levels`` of the
size, and a decoder that mirrors the encoder. Trained on clean images it compresses (the code
has ``code_channels / (3 * 4**levels)`` numbers per input value); trained on noisy/clean
pairs it is a *denoising autoencoder*.

:class:`FactorizedCodec` is the codec of Ballé et al. (2018, "bmshj2018-factorized"): an
analysis transform :math:`g_a` with GDN, a quantised latent :math:`\\hat y` whose rate an
entropy model measures (:class:`~course_utils.compression.entropy.FactorizedPrior`), and a
synthesis transform :math:`g_s` with inverse GDN, trained for :math:`\\lambda D + R`
(:class:`course_utils.compression.rd.RateDistortionLoss`).
:mod:`course_utils.compression.bitstream` writes its latent to bytes and reads it back.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from ..compression.entropy import FactorizedPrior
from .registry import register_model

__all__ = ["GDN", "CodecOutput", "ConvAutoencoder", "FactorizedCodec", "autoencoder",
           "factorized_codec"]


class GDN(nn.Module):
    """Generalized divisive normalization, the nonlinearity of Ballé's codecs.

    .. math:: y_i = \\frac{x_i}{\\sqrt{\\beta_i + \\sum_j \\gamma_{ij} x_j^2}}

    (``inverse=True``: :math:`y_i = x_i \\sqrt{\\beta_i + \\sum_j \\gamma_{ij} x_j^2}`, the
    decoder's IGDN). It divides each channel by a learned local energy of all channels,
    which Gaussianizes natural-image responses better than a ReLU. :math:`\\beta` and
    :math:`\\gamma` are kept positive by storing their square roots.

    References
    ----------
    .. [1] J. Ballé, V. Laparra, E. P. Simoncelli, "Density Modeling of Images using a
           Generalized Normalization Transformation", ICLR 2016. arXiv:1511.06281
    """

    def __init__(self, channels: int, inverse: bool = False) -> None:
        super().__init__()
        self.inverse = inverse
        self.beta_root = nn.Parameter(torch.ones(channels))
        self.gamma_root = nn.Parameter(0.1**0.5 * torch.eye(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        beta = self.beta_root**2 + 1e-6
        gamma = self.gamma_root**2
        norm = torch.sqrt(F.conv2d(x * x, gamma[:, :, None, None], beta))  # a 1x1 convolution
        return x * norm if self.inverse else x / norm


class CodecOutput(NamedTuple):
    """What a codec's forward returns: the reconstruction and the likelihood of every latent
    value (the rate is :math:`-\\sum \\log_2` of them)."""

    x_hat: torch.Tensor
    likelihoods: torch.Tensor


def _down(cin: int, cout: int) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 5, stride=2, padding=2)


def _up(cin: int, cout: int) -> nn.ConvTranspose2d:
    return nn.ConvTranspose2d(cin, cout, 5, stride=2, padding=2, output_padding=1)


class FactorizedCodec(nn.Module):
    """Ballé et al.'s learned codec with a factorized prior (CompressAI's
    ``bmshj2018-factorized``).

    .. math:: y = g_a(x),\\quad \\hat y = \\mathrm{round}(y),\\quad \\hat x = g_s(\\hat y),
              \\quad R = -\\sum \\log_2 P(\\hat y)

    :math:`g_a` is four 5x5 stride-2 convolutions with GDN between them (the latent has
    ``M`` channels at 1/16 of the size); :math:`g_s` mirrors it with transposed
    convolutions and inverse GDN. The paper uses ``N = 128, M = 192`` for its low rates;
    the course's shipped codecs are narrower, to train in an hour on a CPU.

    Parameters
    ----------
    N : int
        Channels of the hidden layers.
    M : int
        Channels of the latent :math:`y`.

    References
    ----------
    .. [1] J. Ballé, D. Minnen, S. Singh, S. J. Hwang, N. Johnston, "Variational image
           compression with a scale hyperprior", ICLR 2018. arXiv:1802.01436
    .. [2] J. Bégaint, F. Racapé, S. Feltman, A. Pushparaja, "CompressAI: a PyTorch library
           and evaluation platform for end-to-end compression research", 2020.
           arXiv:2011.03029
    """

    scale = 1
    channels = 3
    #: Height and width of the image must be multiples of this (four stride-2 layers);
    #: :mod:`~course_utils.compression.bitstream` pads to it.
    stride = 16

    def __init__(self, N: int = 64, M: int = 96) -> None:
        super().__init__()
        self.g_a = nn.Sequential(_down(3, N), GDN(N), _down(N, N), GDN(N), _down(N, N), GDN(N),
                                 _down(N, M))
        self.g_s = nn.Sequential(_up(M, N), GDN(N, inverse=True), _up(N, N),
                                 GDN(N, inverse=True), _up(N, N), GDN(N, inverse=True),
                                 _up(N, 3))
        # Start the decoder at mid-gray, not at 0: it then starts out near the images' mean
        # level, and the first steps go to structure (a 400-step trial, lr 1e-3, no clipping:
        # lambda * 255^2 * MSE + bpp of the held-out photos 3.5 instead of 9.4).
        nn.init.constant_(self.g_s[-1].bias, 0.5)
        self.entropy_model = FactorizedPrior(M)

    def forward(self, x: torch.Tensor) -> CodecOutput:
        h, w = x.shape[-2:]
        s = self.stride  # pad to a multiple of the stride (edge pixels repeated), then crop
        y = self.g_a(F.pad(x, (0, -w % s, 0, -h % s), mode="replicate"))
        y_hat, likelihoods = self.entropy_model(y)
        return CodecOutput(self.g_s(y_hat)[..., :h, :w], likelihoods)


class ConvAutoencoder(nn.Module):
    """A plain convolutional autoencoder: ``levels`` stride-2 encoder stages down to a code of
    ``code_channels`` maps, and a decoder that mirrors them.

    .. math:: z = E(x) \\in \\mathbb{R}^{c \\times H/2^L \\times W/2^L},\\quad
              \\hat x = D(z)

    Each encoder stage is a 3x3 stride-2 convolution and a 3x3 convolution, with ReLUs; each
    decoder stage a 2x nearest-neighbour upsampling and two 3x3 convolutions (upsampling then
    convolving avoids the checkerboard artefacts of transposed convolutions, Odena et al.
    2016). The code is linear (no ReLU), so it can take any sign.

    Parameters
    ----------
    channels : {1, 3}
        Image channels.
    code_channels : int
        Channels of the code: with ``levels`` it sets the bottleneck.
    levels : int
        Stride-2 stages: the code is ``2**levels`` times smaller on each side.
    features : int
        Channels of the first stage; each further stage doubles them, up to 4x.
    sigmoid : bool
        End with a sigmoid, so that every output value is in (0, 1): what a binary
        cross-entropy loss needs (``loss="bce"``). The default output is linear.

    References
    ----------
    .. [1] G. E. Hinton, R. R. Salakhutdinov, "Reducing the Dimensionality of Data with
           Neural Networks", Science 313(5786), 2006.
    .. [2] A. Odena, V. Dumoulin, C. Olah, "Deconvolution and Checkerboard Artifacts",
           Distill, 2016. doi:10.23915/distill.00003
    """

    scale = 1

    def __init__(self, channels: int = 3, code_channels: int = 16, levels: int = 2,
                 features: int = 32, sigmoid: bool = False) -> None:
        super().__init__()
        widths = [channels] + [features * min(2**k, 4) for k in range(levels)]
        encoder = []
        for cin, cout in zip(widths[:-1], widths[1:], strict=True):
            encoder += [nn.Conv2d(cin, cout, 3, stride=2, padding=1), nn.ReLU(inplace=True),
                        nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU(inplace=True)]
        encoder.append(nn.Conv2d(widths[-1], code_channels, 1))
        decoder = [nn.Conv2d(code_channels, widths[-1], 1), nn.ReLU(inplace=True)]
        for cin, cout in zip(widths[:0:-1], widths[-2::-1], strict=True):
            decoder += [nn.Upsample(scale_factor=2), nn.Conv2d(cin, cin, 3, padding=1),
                        nn.ReLU(inplace=True), nn.Conv2d(cin, cout, 3, padding=1)]
            if cout != channels:
                decoder.append(nn.ReLU(inplace=True))
        if sigmoid:
            decoder.append(nn.Sigmoid())
        self.encoder, self.decoder = nn.Sequential(*encoder), nn.Sequential(*decoder)
        self.channels, self.stride = channels, 2**levels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        s = self.stride
        if h % s or w % s:  # mirror up to a multiple of the stride, then crop
            padded = F.pad(x, (0, -w % s, 0, -h % s), mode="reflect")
            return self.decoder(self.encoder(padded))[..., :h, :w]
        return self.decoder(self.encoder(x))


@register_model("autoencoder", task="restoration",
                limits={"channels": {1, 3}, "code_channels": (1, 256), "levels": (1, 4),
                        "features": (4, 128)})
def autoencoder(channels: int = 3, code_channels: int = 16, levels: int = 2,
                features: int = 32, sigmoid: bool = False) -> ConvAutoencoder:
    """A plain convolutional autoencoder (a bottleneck of ``code_channels`` maps at
    ``1 / 2**levels`` of the size; ``sigmoid``: outputs in (0, 1), for a BCE loss)."""
    return ConvAutoencoder(channels, code_channels, levels, features, sigmoid)


@register_model("factorized-codec", task="compression",
                limits={"N": (8, 256), "M": (8, 320)})
def factorized_codec(N: int = 64, M: int = 96) -> FactorizedCodec:
    """Ballé et al.'s learned codec with a factorized prior (bmshj2018-factorized; the paper's
    is N = 128, M = 192)."""
    return FactorizedCodec(N, M)
