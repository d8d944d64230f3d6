"""How fast pretrained weights may move when fine-tuning: learning rates by part, and L2-SP.

- **discriminative learning rates**: the pretrained encoder learns with a smaller rate than the
  new, randomly initialised layers (one optimiser, two parameter groups, :func:`param_groups`);
- **L2-SP**: let every weight move, but penalise its distance from the source model's value
  (:func:`l2_sp_penalty`, :class:`L2SPLoss`).

Which weights may move at all (freezing) is part of the models:
:mod:`course_utils.models.freeze`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["L2SPLoss", "distance_to_source", "l2_sp_penalty", "param_groups"]


def param_groups(model: nn.Module, lr: float, encoder_lr: float) -> list[dict]:
    """Two parameter groups for one optimiser: the encoder at ``encoder_lr``, the rest at ``lr``.

    Only trainable parameters are included (a frozen part contributes nothing). Pass the
    result to an optimiser, e.g. ``torch.optim.Adam(param_groups(model, 1e-3, 1e-4))``;
    :func:`course_utils.training.loop.fit` accepts such an optimiser.
    """
    if not hasattr(model, "encoder"):
        raise ValueError("param_groups needs a model with an `encoder` sub-module, such as "
                         "course_utils.models.encoder_decoder.BackboneUNet.")
    encoder_ids = {id(p) for p in model.encoder.parameters()}
    encoder = [p for p in model.encoder.parameters() if p.requires_grad]
    rest = [p for p in model.parameters() if p.requires_grad and id(p) not in encoder_ids]
    groups = [{"params": rest, "lr": lr, "name": "decoder/head"}]
    if encoder:
        groups.append({"params": encoder, "lr": encoder_lr, "name": "encoder"})
    return groups


def distance_to_source(model: nn.Module, source: nn.Module) -> float:
    """:math:`\\lVert\\theta - \\phi\\rVert_2`: how far ``model``'s weights (and buffers) are from
    ``source``'s, the models having the same state-dict keys. L2-SP (:func:`l2_sp_penalty`)
    penalises the square of this distance over the trainable weights."""
    reference = source.state_dict()
    return float(sum((p.detach() - reference[k]).pow(2).sum()
                     for k, p in model.state_dict().items()) ** 0.5)


def l2_sp_penalty(model: nn.Module, source: dict[str, torch.Tensor], alpha: float = 0.01,
                  beta: float = 0.01) -> torch.Tensor:
    r"""The L2-SP regulariser: keep fine-tuned weights close to the source model's.

    .. math:: \Omega(\theta) = \frac{\alpha}{2} \lVert \theta_S - \theta_S^0 \rVert_2^2
              + \frac{\beta}{2} \lVert \theta_{\bar S} \rVert_2^2

    :math:`\theta_S` are the trainable parameters that exist in the source model
    (``source``, its ``state_dict``, with the same names and shapes) and :math:`\theta_S^0`
    their source values: the "starting point" (SP) replaces zero as the centre of weight
    decay. :math:`\theta_{\bar S}` are new parameters (a new head), with ordinary weight
    decay. This is the :math:`R(\theta, \phi)` term of the joint objective of cross-domain
    fine-tuning.

    References
    ----------
    .. [1] X. Li, Y. Grandvalet, F. Davoine, "Explicit Inductive Bias for Transfer Learning
           with Convolutional Networks", ICML 2018. arXiv:1802.01483
    """
    shared = torch.zeros((), device=next(model.parameters()).device)
    new = torch.zeros_like(shared)
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        start = source.get(name)
        if start is not None and start.shape == p.shape:
            shared = shared + (p - start.to(p.device)).pow(2).sum()
        else:
            new = new + p.pow(2).sum()
    return alpha / 2 * shared + beta / 2 * new


class L2SPLoss:
    """A training loss plus :func:`l2_sp_penalty`, usable as ``fit(..., loss=L2SPLoss(...))``.

    The source weights are copied when the loss is made, so make it right after loading the
    source model, before any fine-tuning step.
    """

    def __init__(self, model: nn.Module, base=F.mse_loss, alpha: float = 0.01,
                 beta: float = 0.01) -> None:
        self.model, self.base, self.alpha, self.beta = model, base, alpha, beta
        self.source = {k: v.detach().clone() for k, v in model.state_dict().items()}

    def __call__(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.base(output, target) + l2_sp_penalty(self.model, self.source,
                                                         self.alpha, self.beta)
