"""The factorized entropy model of Ballé et al.: a learned density for each latent channel.

A learned codec sends the rounded latent :math:`\\hat y = \\mathrm{round}(y)` with an entropy
coder, which needs the probability of every integer value. The *factorized prior* gives each
channel :math:`c` its own density, the same at every position, learned with the codec. It
models the cumulative distribution :math:`F_c` directly, as a small monotone network of the
scalar value (the paper's appendix 6.1): with filters ``(1, 3, 3, 3, 1)``,

.. math:: f_k(x) = g_k(H^{(k)} x + b^{(k)}),\\quad
          g_k(x) = x + \\tanh(a^{(k)}) \\odot \\tanh(x),\\quad F_c = \\sigma \\circ f_K \\circ
          \\dots \\circ f_1

where :math:`H^{(k)} = \\mathrm{softplus}(\\cdot)` keeps every weight positive and
:math:`\\tanh(a) > -1` keeps every :math:`g_k` increasing, so that :math:`F_c` is a
cumulative distribution. The probability of an integer :math:`n` is the mass of the bin
around it,

.. math:: P(\\hat y = n) = F_c(n + \\tfrac12) - F_c(n - \\tfrac12),

and in training, where rounding has no gradient, :math:`y` is replaced by
:math:`\\tilde y = y + u`, :math:`u \\sim U(-\\tfrac12, \\tfrac12)`, whose density is that
same bin mass at :math:`\\tilde y`. The rate is :math:`R = -\\sum \\log_2 P`, in bits.

CompressAI's ``EntropyBottleneck`` is the field's version of this model. It also learns a
median per channel and quantises around it, which saves a little rate; this one rounds to
integers, which keeps the coder simple (one of the course's deliberate simplifications).

References
----------
.. [1] J. Ballé, V. Laparra, E. P. Simoncelli, "End-to-end Optimized Image Compression",
       ICLR 2017. arXiv:1611.01704
.. [2] J. Ballé, D. Minnen, S. Singh, S. J. Hwang, N. Johnston, "Variational image
       compression with a scale hyperprior", ICLR 2018, appendix 6.1. arXiv:1802.01436
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["LIKELIHOOD_BOUND", "FactorizedPrior", "quantize"]

#: Smallest likelihood the model returns: a bound that keeps -log2 P finite (CompressAI's).
LIKELIHOOD_BOUND = 1e-9


def quantize(y: torch.Tensor, training: bool) -> torch.Tensor:
    """:math:`y + U(-\\frac12, \\frac12)` in training (a differentiable stand-in for
    rounding), :math:`\\mathrm{round}(y)` at test time."""
    if training:
        return y + torch.empty_like(y).uniform_(-0.5, 0.5)
    return torch.round(y)


class FactorizedPrior(nn.Module):
    """A learned cumulative distribution per channel (see the module docstring).

    Parameters
    ----------
    channels : int
        Latent channels :math:`M`.
    filters : tuple of int
        Widths of the hidden layers of the density network (the paper's ``(3, 3, 3)``).
    init_scale : float
        Rough width of the initial densities (CompressAI's default, 10).
    """

    def __init__(self, channels: int, filters: tuple[int, ...] = (3, 3, 3),
                 init_scale: float = 10.0) -> None:
        super().__init__()
        widths = (1, *filters, 1)
        scale = init_scale ** (1 / (len(widths) - 1))
        self.matrices, self.biases, self.factors = (nn.ParameterList() for _ in range(3))
        for k in range(len(widths) - 1):
            init = math.log(math.expm1(1 / scale / widths[k + 1]))  # softplus^-1
            self.matrices.append(nn.Parameter(torch.full((channels, widths[k + 1], widths[k]),
                                                         init)))
            self.biases.append(nn.Parameter(torch.rand(channels, widths[k + 1], 1) - 0.5))
            if k < len(widths) - 2:
                self.factors.append(nn.Parameter(torch.zeros(channels, widths[k + 1], 1)))
        self.channels = channels

    def logits_cdf(self, x: torch.Tensor) -> torch.Tensor:
        """:math:`f_K \\circ \\dots \\circ f_1 (x)` of values ``x`` of shape (C, 1, N): the
        logit of :math:`F_c(x)`, each row with its channel's network."""
        for k, (matrix, bias) in enumerate(zip(self.matrices, self.biases, strict=True)):
            x = torch.matmul(F.softplus(matrix), x) + bias
            if k < len(self.factors):
                x = x + torch.tanh(self.factors[k]) * torch.tanh(x)
        return x

    def pmf(self, y: torch.Tensor) -> torch.Tensor:
        """:math:`F_c(y + \\frac12) - F_c(y - \\frac12)` of ``y`` (N, C, H, W), lower-bounded
        by :data:`LIKELIHOOD_BOUND`."""
        n, c, h, w = y.shape
        values = y.transpose(0, 1).reshape(c, 1, -1)
        mass = _bin_mass(self.logits_cdf(values - 0.5), self.logits_cdf(values + 0.5))
        return mass.clamp(min=LIKELIHOOD_BOUND).reshape(c, n, h, w).transpose(0, 1)

    def forward(self, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(y_hat, likelihoods)``: the quantised latent (noisy in training, rounded in
        eval mode) and the probability the model gives each of its values."""
        y_hat = quantize(y, self.training)
        return y_hat, self.pmf(y_hat)

    @torch.no_grad()
    def tables(self, tail: float = 1e-9, limit: int = 512) -> tuple[torch.Tensor, list]:
        """The probability table of every channel for an entropy coder.

        Returns ``(low, pmfs)``: ``low[c]`` is the smallest integer of channel ``c``'s
        support and ``pmfs[c]`` the probabilities of ``low[c], low[c] + 1, ...`` up to the
        largest integer whose bin holds more than ``tail`` (at least two integers, the
        least a range coder takes); the integers below and above hold less than ``tail``
        of the mass each.

        Parameters
        ----------
        tail : float
            Mass left outside the support on each side.
        limit : int
            The support is searched within ``[-limit, limit]``.
        """
        grid = torch.arange(-limit, limit + 1, dtype=torch.float32)
        values = grid.expand(self.channels, 1, -1)
        lower, upper = self.logits_cdf(values - 0.5)[:, 0], self.logits_cdf(values + 0.5)[:, 0]
        mass = _bin_mass(lower, upper)
        cut = math.log(tail / (1 - tail))  # F > tail and F < 1 - tail, on the logit scale
        low, pmfs = [], []
        for c in range(self.channels):
            index = torch.nonzero((upper[c] > cut) & (lower[c] < -cut)).flatten()
            first, last = (int(index[0]), int(index[-1])) if len(index) else (limit, limit)
            if not mass[c, first:last + 1].nan_to_num().sum() > 0:  # a degenerate density
                # (all its mass lost in float32): centre the support on its median
                first = last = int(torch.argmin((lower[c] + upper[c]).abs()))
            # at least two integers: a channel that training switched off puts all its mass
            # on one, and a range coder cannot use a one-symbol table
            if first == last:
                first, last = (first, first + 1) if first < 2 * limit else (first - 1, first)
            pmf = torch.nan_to_num(mass[c, first:last + 1].double(), nan=0.0)
            if not pmf.sum() > 0:
                pmf[0] = 1.0
            low.append(int(grid[first]))
            pmfs.append(pmf.numpy())
        return torch.tensor(low), pmfs


def _bin_mass(lower: torch.Tensor, upper: torch.Tensor) -> torch.Tensor:
    """:math:`\\sigma(u) - \\sigma(l)` of logits :math:`l \\le u`, computed in the tail where
    the sigmoids are far from 1 (CompressAI's trick): for large values,
    :math:`\\sigma(-l) - \\sigma(-u)` is the same number without the loss of precision."""
    # (where l + u = 0 either form is exact; torch.sign would give 0 there, and a mass of 0)
    sign = torch.where(lower + upper > 0, -1.0, 1.0).to(lower).detach()
    return torch.abs(torch.sigmoid(sign * upper) - torch.sigmoid(sign * lower))
