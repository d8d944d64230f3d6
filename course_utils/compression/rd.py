"""Rate and distortion: bits per pixel, the rate-distortion loss, and the BD-rate.

* **bpp** = 8 · bytes / pixels, of the file that was written (the measured rate), or
  :math:`-\\sum \\log_2 P(\\hat y) / \\text{pixels}` from an entropy model (the estimated
  rate a learned codec trains with).
* **Rate-distortion loss** (Ballé et al. 2017; CompressAI's convention):
  :math:`L = \\lambda \\cdot 255^2 \\cdot \\mathrm{MSE}(x, \\hat x) + R_{bpp}`. A larger
  :math:`\\lambda` buys quality with bits; CompressAI's eight qualities of
  bmshj2018-factorized use :math:`\\lambda` = 0.0018, 0.0035, 0.0067, 0.0130, 0.0250, 0.0483,
  0.0932, 0.1800.
* **BD-rate** (Bjøntegaard, VCEG-M33, 2001): the average difference in rate between two
  rate-distortion curves at equal quality, in per cent; negative means fewer bits.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

__all__ = ["RateDistortionLoss", "bd_rate", "bits_per_pixel", "estimated_bits"]


def bits_per_pixel(num_bytes: int, pixels: int) -> float:
    """:math:`8 \\cdot \\text{bytes} / \\text{pixels}`: the rate of a file, the field's
    ``bpp`` (pixels, not values: an RGB pixel is one pixel)."""
    if pixels <= 0:
        raise ValueError(f"pixels must be positive, got {pixels}.")
    return 8.0 * num_bytes / pixels


def estimated_bits(likelihoods: torch.Tensor) -> torch.Tensor:
    """:math:`-\\sum \\log_2 P`: the bits an ideal entropy coder needs for values of these
    likelihoods (Shannon's bound, which a range coder comes within a fraction of a per cent
    of)."""
    return -torch.log2(likelihoods).sum()


class RateDistortionLoss(nn.Module):
    """:math:`\\lambda \\cdot 255^2 \\cdot \\mathrm{MSE} + \\mathrm{bpp}` of a codec's output.

    Call it with the :class:`~course_utils.models.codec.CodecOutput` of a codec and the
    target batch. :meth:`terms` gives the two parts.

    Parameters
    ----------
    lmbda : float
        The trade-off :math:`\\lambda` (CompressAI's scale: 0.0018 to 0.18).
    """

    def __init__(self, lmbda: float) -> None:
        super().__init__()
        if not isinstance(lmbda, int | float) or not 0 < lmbda < math.inf:
            raise ValueError(f"lmbda must be a positive number (e.g. 0.0067), got {lmbda!r}.")
        self.lmbda = float(lmbda)

    def terms(self, output, target: torch.Tensor) -> dict[str, torch.Tensor]:
        """``{"mse": ..., "bpp": ...}`` of a :class:`CodecOutput` against ``target``."""
        n, _, h, w = target.shape
        return {"mse": torch.mean((output.x_hat - target) ** 2),
                "bpp": estimated_bits(output.likelihoods) / (n * h * w)}

    def forward(self, output, target: torch.Tensor) -> torch.Tensor:
        terms = self.terms(output, target)
        return self.lmbda * 255**2 * terms["mse"] + terms["bpp"]


def bd_rate(rate_ref, psnr_ref, rate_test, psnr_test) -> float:
    """Bjøntegaard delta rate of ``test`` against ``ref``, in per cent.

    Each curve's :math:`\\log R` is fitted by a cubic polynomial in PSNR; the BD-rate is
    :math:`\\exp(\\overline{\\Delta \\log R}) - 1`, the mean difference of the two fits over
    the PSNR range both curves cover. -20 means the test codec needs 20 % fewer bits for the
    same PSNR.

    Parameters
    ----------
    rate_ref, psnr_ref : sequences of at least 4 points (bpp, dB), the reference (e.g. JPEG)
    rate_test, psnr_test : the same for the codec under test

    Raises
    ------
    ValueError
        Fewer than 4 points, rates that are not positive, or curves whose PSNR ranges do not
        overlap.

    References
    ----------
    .. [1] G. Bjøntegaard, "Calculation of average PSNR differences between RD-curves",
           ITU-T VCEG-M33, 2001.
    """
    curves = []
    for name, rate, psnr in (("ref", rate_ref, psnr_ref), ("test", rate_test, psnr_test)):
        rate, psnr = np.asarray(rate, dtype=float), np.asarray(psnr, dtype=float)
        if rate.shape != psnr.shape or rate.ndim != 1 or len(rate) < 4:
            raise ValueError(f"bd_rate: the {name} curve needs at least 4 (rate, PSNR) points "
                             f"of equal count, got {rate.shape} and {psnr.shape}.")
        if not (np.all(rate > 0) and np.all(np.isfinite(rate)) and np.all(np.isfinite(psnr))):
            raise ValueError(f"bd_rate: the {name} curve needs positive, finite rates and "
                             "finite PSNRs.")
        curves.append((np.log(rate), psnr))
    low = max(curves[0][1].min(), curves[1][1].min())
    high = min(curves[0][1].max(), curves[1][1].max())
    if low >= high:
        raise ValueError(f"bd_rate: the PSNR ranges do not overlap (ref "
                         f"{curves[0][1].min():.2f}-{curves[0][1].max():.2f} dB, test "
                         f"{curves[1][1].min():.2f}-{curves[1][1].max():.2f} dB); choose "
                         "qualities that cover a common range.")
    means = []
    for log_rate, psnr in curves:
        integral = np.polyint(np.polyfit(psnr, log_rate, 3))
        means.append((np.polyval(integral, high) - np.polyval(integral, low)) / (high - low))
    return float((math.exp(means[1] - means[0]) - 1) * 100)
