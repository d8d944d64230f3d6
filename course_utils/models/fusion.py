"""Restoration networks on the feature layers of the course's SR source models (unit 06).

The shipped ESPCN source models (unit 03) begin with two feature layers, a 5x5 convolution
to 64 channels and a 3x3 one to 32, both with tanh, run on the LR image. Nothing in those
layers depends on the SR scale, so they can run on any image at its own resolution and feed
a restoration head. Two designs:

- :class:`FeatureRestorer`: those layers :math:`F`, then a head :math:`R` of 3x3
  convolutions that predicts the residual, :math:`\\hat x = y - R(F(y))`. Random weights
  are the scratch arm; weights copied from a source model (:func:`copy_sr_features`) the
  transfer arm, fine-tuned or frozen. With ``tasks > 1`` it has one last layer per task on
  one shared trunk: the multi-task model (DnCNN-3's idea with a head per task).
- :class:`FusionRestorer`: two streams of those layers, the pretrained one :math:`F_p`
  (frozen) and a task-specific one :math:`F_t`, mixed after each layer,
  :math:`F = \\alpha F_p + (1 - \\alpha) F_t`, with :math:`\\alpha` fixed (swept) or learned
  per layer or per channel.

Both keep the image's size (``scale = 1``) and start, untrained, as the identity (the last
layer is zero): the first row of every table, the degraded input itself.
"""

from __future__ import annotations

import torch
from torch import nn

from .registry import register_model

__all__ = ["ESPCNFeatures", "FeatureRestorer", "FusionRestorer", "OneTask", "copy_sr_features",
           "feature_restorer", "fusion_restorer"]

#: How a fusion weight is shared: one fixed value, one learned value per layer, or one per channel.
FUSION = ("fixed", "layer", "channel")


class ESPCNFeatures(nn.Module):
    """ESPCN's two feature layers: :math:`F(y) = \\tanh(W_2 * \\tanh(W_1 * y + b_1) + b_2)`,
    5x5 to ``features[0]`` channels, then 3x3 to ``features[1]`` (the paper's 64 and 32)."""

    def __init__(self, channels: int = 1, features: tuple[int, int] = (64, 32)) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, features[0], 5, padding=2)
        self.conv2 = nn.Conv2d(features[0], features[1], 3, padding=1)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.conv2(torch.tanh(self.conv1(y))))


def _trunk(c_in: int, width: int, layers: int) -> nn.Sequential:
    # ``layers`` 3x3 convolutions with ReLU: the head's hidden part.
    body = []
    for i in range(layers):
        body += [nn.Conv2d(c_in if i == 0 else width, width, 3, padding=1), nn.ReLU(inplace=True)]
    return nn.Sequential(*body)


def _last(width: int, channels: int) -> nn.Conv2d:
    conv = nn.Conv2d(width, channels, 3, padding=1)
    nn.init.zeros_(conv.weight)  # the untrained model is the identity: x_hat = y
    nn.init.zeros_(conv.bias)
    return conv


def copy_sr_features(features: ESPCNFeatures, source: nn.Module) -> ESPCNFeatures:
    """Copy an ESPCN source model's ``conv1`` and ``conv2`` weights into ``features``.

    Raises
    ------
    ValueError
        ``source`` has no ESPCN feature layers of the same shapes (another family, other
        channels or widths).
    """
    state = {k: v for k, v in source.state_dict().items() if k.split(".")[0] in ("conv1", "conv2")}
    mine = features.state_dict()
    if set(state) != set(mine) or any(state[k].shape != mine[k].shape for k in mine):
        raise ValueError("the source model has no ESPCN feature layers of the same shapes "
                         f"(it has {sorted(source.state_dict())[:4]} ...); use an ESPCN "
                         "source model with the same channels and features, e.g. espcn_x3.")
    features.load_state_dict(state)
    return features


class FeatureRestorer(nn.Module):
    """ESPCN feature layers and a residual head: :math:`\\hat x = y - R_k(F(y))`.

    :math:`F` is :class:`ESPCNFeatures`; :math:`R_k` is ``depth - 1`` 3x3 convolutions of
    ``width`` channels with ReLU (the shared trunk) and the last 3x3 convolution of task
    :math:`k` (one per task; the only per-task weights).

    Parameters
    ----------
    channels : {1, 3}
    features : (int, int)
        Widths of the two feature layers; (64, 32) to take an ESPCN source model's weights.
    depth : int
        Convolutions of the head, the last included.
    width : int
        Channels of the head.
    tasks : int
        Number of last layers; ``forward(y, k)`` uses the ``k``-th.
    """

    scale = 1

    def __init__(self, channels: int = 1, features: tuple[int, int] = (64, 32), depth: int = 4,
                 width: int = 32, tasks: int = 1) -> None:
        super().__init__()
        self.channels = channels
        self.features = ESPCNFeatures(channels, features)
        self.trunk = _trunk(features[1], width, depth - 1)
        self.heads = nn.ModuleList(_last(width, channels) for _ in range(tasks))

    @property
    def receptive_radius(self) -> int:
        """Context pixels on each side: 2 (5x5) + 1 (3x3) + one per head convolution."""
        return 3 + len(self.trunk) // 2 + 1

    def forward(self, y: torch.Tensor, task: int | torch.Tensor = 0) -> torch.Tensor:
        h = self.trunk(self.features(y))
        if isinstance(task, int):
            return y - self.heads[task](h)
        # A batch that mixes tasks (multi-task training): every head, then each sample's own.
        residuals = torch.stack([head(h) for head in self.heads])
        return y - residuals[task, torch.arange(y.shape[0], device=y.device)]

    def for_task(self, task: int) -> OneTask:
        """A view of this model that restores for ``task`` only (for the evaluation)."""
        if not 0 <= task < len(self.heads):
            raise ValueError(f"task must be 0 to {len(self.heads) - 1}, got {task}.")
        return OneTask(self, task)


class OneTask(nn.Module):
    """A multi-task :class:`FeatureRestorer` seen as the model of one task (shared weights)."""

    scale = 1

    def __init__(self, model: FeatureRestorer, task: int) -> None:
        super().__init__()
        self.model, self.task = model, task
        self.channels = model.channels
        self.receptive_radius = model.receptive_radius

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        return self.model(y, self.task)


class FusionRestorer(nn.Module):
    """Feature fusion of a pretrained and a task-specific stream.

    .. math::

        f_1 = \\alpha_1 p_1 + (1 - \\alpha_1) t_1, \\quad
        f_2 = \\alpha_2 p_2 + (1 - \\alpha_2) \\tanh(W^t_2 * f_1 + b^t_2), \\quad
        \\hat x = y - R(f_2)

    :math:`p_1, p_2` are the two layers of the pretrained stream (an SR source model's
    :class:`ESPCNFeatures`, frozen by the caller), :math:`t_1` the first layer of the
    task-specific stream (same shapes, trained); the task stream's second layer reads the
    fused features. :math:`\\alpha = 1` is the frozen feature extractor with a trained head,
    :math:`\\alpha = 0` a network trained from scratch. A learned :math:`\\alpha` is
    :math:`\\sigma(a)` of a free parameter :math:`a` (one per layer, or one per channel of
    each layer), started at ``alpha``.

    Parameters
    ----------
    channels, features, depth, width : as :class:`FeatureRestorer`
    alpha : float in [0, 1]
        The fixed weight, or the start of the learned ones (then strictly between 0 and 1).
    fusion : {"fixed", "layer", "channel"}

    References
    ----------
    .. [1] J. Yosinski, J. Clune, Y. Bengio, H. Lipson, "How transferable are features in
           deep neural networks?", NeurIPS 2014. arXiv:1411.1792 (what layers transfer)
    """

    scale = 1

    def __init__(self, channels: int = 1, features: tuple[int, int] = (64, 32), depth: int = 4,
                 width: int = 32, alpha: float = 0.5, fusion: str = "fixed") -> None:
        super().__init__()
        if fusion not in FUSION:
            raise ValueError(f"fusion must be one of {FUSION}, got {fusion!r}.")
        if not 0 <= alpha <= 1 or (fusion != "fixed" and alpha in (0, 1)):
            raise ValueError(f"alpha must be in [0, 1] (strictly inside to be learned), got "
                             f"{alpha}.")
        self.channels, self.fusion = channels, fusion
        self.pretrained = ESPCNFeatures(channels, features)
        self.target = ESPCNFeatures(channels, features)
        self.trunk = _trunk(features[1], width, depth - 1)
        self.head = _last(width, channels)
        start = torch.logit(torch.tensor(float(alpha))) if fusion != "fixed" else None
        for i, c in enumerate(features, start=1):
            if fusion == "fixed":
                self.register_buffer(f"a{i}", torch.tensor(float(alpha)))
            else:
                shape = (1,) if fusion == "layer" else (c, 1, 1)
                self.register_parameter(f"a{i}", nn.Parameter(start.expand(shape).clone()))

    def alphas(self) -> list[torch.Tensor]:
        """:math:`\\alpha` of each layer (a scalar, or one value per channel)."""
        return [a if self.fusion == "fixed" else torch.sigmoid(a) for a in (self.a1, self.a2)]

    @property
    def receptive_radius(self) -> int:
        return 3 + len(self.trunk) // 2 + 1

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        a1, a2 = self.alphas()
        p1 = torch.tanh(self.pretrained.conv1(y))
        p2 = torch.tanh(self.pretrained.conv2(p1))
        f1 = a1 * p1 + (1 - a1) * torch.tanh(self.target.conv1(y))
        f2 = a2 * p2 + (1 - a2) * torch.tanh(self.target.conv2(f1))
        return y - self.head(self.trunk(f2))


_LIMITS = {"channels": {1, 3}, "depth": (1, 16), "width": (4, 128)}


@register_model("feature-restorer", task="restoration", limits={**_LIMITS, "tasks": (1, 8)})
def feature_restorer(channels: int = 1, features: tuple[int, int] = (64, 32), depth: int = 4,
                     width: int = 32, tasks: int = 1) -> FeatureRestorer:
    """ESPCN's feature layers and a residual head of ``depth`` convolutions (``tasks`` heads)."""
    return FeatureRestorer(channels, features, depth, width, tasks)


@register_model("fusion-restorer", task="restoration",
                limits={**_LIMITS, "alpha": (0.0, 1.0), "fusion": set(FUSION)})
def fusion_restorer(channels: int = 1, features: tuple[int, int] = (64, 32), depth: int = 4,
                    width: int = 32, alpha: float = 0.5, fusion: str = "fixed") -> FusionRestorer:
    """Two ESPCN feature streams mixed by ``alpha`` (fixed, or learned per layer or channel)."""
    return FusionRestorer(channels, features, depth, width, alpha, fusion)
