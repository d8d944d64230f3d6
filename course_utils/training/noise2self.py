"""Self-supervised denoising when no clean image exists: Noise2Self's masked training.

If the noise of each pixel is independent of the others' (Gaussian, Poisson) and has zero
mean, a function that does not look at a pixel cannot predict that pixel's noise. Training
:math:`f` to predict the *noisy* pixels it is not shown,

.. math:: \\min_f \\ \\mathbb{E} \\, \\lVert f(y_{J^c})_J - y_J \\rVert^2

(:math:`J` a random set of pixels, :math:`y_{J^c}` the image with :math:`J` hidden), then
minimises :math:`\\lVert f(y) - x \\rVert^2 + \\sigma^2` for the clean image :math:`x`: the
clean image is the best answer, and no clean image was needed. Hidden pixels are replaced by
the mean of their eight neighbours, as Noise2Self's masker does.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["Noise2Self", "mask_pixels_out"]

#: The 3x3 ring: a hidden pixel becomes the mean of its 8 neighbours.
_RING = torch.tensor([[1.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 1.0]]) / 8


def mask_pixels_out(y: torch.Tensor, hidden: torch.Tensor) -> torch.Tensor:
    """``y`` with the pixels where ``hidden`` is True replaced by the mean of their 8
    neighbours (reflected at the borders), channel by channel."""
    c = y.shape[1]
    ring = _RING.to(y).expand(c, 1, 3, 3)
    neighbours = F.conv2d(F.pad(y, (1, 1, 1, 1), mode="reflect"), ring, groups=c)
    return torch.where(hidden, neighbours, y)


class Noise2Self(nn.Module):
    """Train ``net`` on noisy images alone, and run it so that no output pixel sees its own
    input pixel.

    In training mode each forward pass hides a random ``1 / grid**2`` of the pixels and
    returns ``net``'s prediction there and the input elsewhere, so that ``mse(model(y), y)``
    is the masked loss above, times the hidden share (:meth:`loss` divides it back). In
    evaluation mode it is the J-invariant reconstruction: the image is split into the
    ``grid**2`` interleaved sets of pixels ``(r mod grid, c mod grid)``, each set is hidden
    in turn and its pixels take ``net``'s prediction from that pass (``grid**2`` passes).
    Running ``net`` on the whole image instead would let a residual network pass each
    noisy pixel through its shortcut, which the masked training never penalised.

    Parameters
    ----------
    net : a restoration model (``scale = 1``)
    grid : int
        Spacing of the hidden pixels; Noise2Self's masker uses 4 (1/16 of the pixels).

    References
    ----------
    .. [1] J. Batson, L. Royer, "Noise2Self: Blind Denoising by Self-Supervision", ICML 2019.
           arXiv:1901.11365
    """

    scale = 1

    def __init__(self, net: nn.Module, grid: int = 4) -> None:
        super().__init__()
        if not isinstance(grid, int) or grid < 2:
            raise ValueError(f"grid must be an integer of at least 2, got {grid!r}.")
        self.net, self.grid = net, grid
        self.fraction = 1 / grid**2
        self.channels = net.channels
        self.receptive_radius = getattr(net, "receptive_radius", 16)

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The masked MSE: the mean over all pixels divided by the hidden share (the shown
        pixels contribute 0), so that the gradient's size does not depend on ``grid``."""
        return F.mse_loss(output, target) / self.fraction

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        h, w = y.shape[-2:]
        if self.training:
            hidden = torch.rand(y.shape[0], 1, h, w, device=y.device) < self.fraction
            return torch.where(hidden, self.net(mask_pixels_out(y, hidden)), y)
        rows = torch.arange(h, device=y.device).view(-1, 1) % self.grid
        cols = torch.arange(w, device=y.device).view(1, -1) % self.grid
        out = torch.empty_like(y)
        for i in range(self.grid):
            for j in range(self.grid):
                hidden = ((rows == i) & (cols == j)).expand_as(y)
                out = torch.where(hidden, self.net(mask_pixels_out(y, hidden)), out)
        return out
