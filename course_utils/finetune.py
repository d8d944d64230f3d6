"""Fine-tuning tools: freeze and unfreeze by stage, discriminative learning rates.

Transfer learning is a set of choices about which pretrained weights may move, and how fast:

- **freeze** a part (``requires_grad = False``): its weights stay exactly as pretrained;
- **unfreeze** stage by stage, from the deepest (most task-specific) towards the input;
- **discriminative learning rates**: the pretrained encoder learns with a smaller rate than the
  new, randomly initialised layers (one optimiser, two parameter groups);
- **L2-SP**: let every weight move, but penalise its distance from the source model's value.

Frozen batch-norm layers also keep their ImageNet running statistics: models that hold an
encoder call :func:`keep_frozen_norms_in_eval` from their ``train()``, so that
``model.train()`` does not let the batch statistics of a few target images overwrite them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .backbones import backbone_stages

__all__ = ["L2SPLoss", "freeze", "freeze_stages", "keep_frozen_norms_in_eval", "l2_sp_penalty",
           "param_groups", "train_last_layers", "trainable_summary", "unfreeze"]


def freeze(module: nn.Module) -> nn.Module:
    """Stop every parameter of ``module`` from training (``requires_grad = False``)."""
    for p in module.parameters():
        p.requires_grad_(False)
    return module


def unfreeze(module: nn.Module) -> nn.Module:
    """Let every parameter of ``module`` train again."""
    for p in module.parameters():
        p.requires_grad_(True)
    return module


def freeze_stages(model: nn.Module, frozen: int) -> nn.Module:
    """Freeze the first ``frozen`` of the five encoder stages of ``model``; the rest train.

    ``frozen=5`` freezes the whole encoder (a fixed feature extractor), ``frozen=0`` fine-tunes
    all of it. Unfreezing stage by stage means calling this with 5, 4, 3 ... as training goes.
    The encoder is ``model.encoder`` (as in :mod:`course_utils.encoder_decoder`) or ``model``
    itself if it is a backbone.
    """
    encoder = getattr(model, "encoder", model)
    stages = backbone_stages(encoder)
    if not 0 <= frozen <= len(stages):
        raise ValueError(f"frozen must be 0 to {len(stages)} stages, got {frozen}.")
    unfreeze(encoder)
    for stage in stages[:frozen]:
        freeze(stage)
    keep_frozen_norms_in_eval(encoder)
    return model


def train_last_layers(model: nn.Module, layers: int) -> nn.Module:
    """Freeze ``model`` except its last ``layers`` weighted layers and what follows them.

    Weighted layers are convolutions (also transposed) and linear layers, in the order the
    model defines them; parameters defined after the first trainable one (a PReLU's slopes,
    say) train too. For ESPCN (``conv1``, ``conv2``, ``conv3``), ``layers=2`` keeps the first
    5x5 feature layer frozen: the generic low-level filters learnt on the source stay as they
    are, and only the later, more task-specific layers adapt.
    """
    leaves = [m for m in model.modules() if not list(m.children())]
    weighted = [i for i, m in enumerate(leaves)
                if isinstance(m, nn.Conv2d | nn.ConvTranspose2d | nn.Linear)]
    if not 1 <= layers <= len(weighted):
        raise ValueError(f"layers must be 1 to {len(weighted)} (the model's weighted layers), "
                         f"got {layers}.")
    freeze(model)
    for module in leaves[weighted[-layers]:]:
        unfreeze(module)
    return model


def keep_frozen_norms_in_eval(module: nn.Module) -> None:
    """Put every batch-norm layer whose parameters are all frozen in eval mode."""
    for m in module.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            params = list(m.parameters())
            if params and not any(p.requires_grad for p in params):
                m.eval()


def param_groups(model: nn.Module, lr: float, encoder_lr: float) -> list[dict]:
    """Two parameter groups for one optimiser: the encoder at ``encoder_lr``, the rest at ``lr``.

    Only trainable parameters are included (a frozen part contributes nothing). Pass the
    result to an optimiser, e.g. ``torch.optim.Adam(param_groups(model, 1e-3, 1e-4))``;
    :func:`course_utils.train.fit` accepts such an optimiser.
    """
    if not hasattr(model, "encoder"):
        raise ValueError("param_groups needs a model with an `encoder` sub-module, such as "
                         "course_utils.encoder_decoder.BackboneUNet.")
    encoder_ids = {id(p) for p in model.encoder.parameters()}
    encoder = [p for p in model.encoder.parameters() if p.requires_grad]
    rest = [p for p in model.parameters() if p.requires_grad and id(p) not in encoder_ids]
    groups = [{"params": rest, "lr": lr, "name": "decoder/head"}]
    if encoder:
        groups.append({"params": encoder, "lr": encoder_lr, "name": "encoder"})
    return groups


def trainable_summary(model: nn.Module) -> dict[str, tuple[int, int]]:
    """``{child name: (trainable parameters, all parameters)}`` of each top-level part."""
    summary = {}
    for name, child in model.named_children():
        params = list(child.parameters())
        if params:
            summary[name] = (sum(p.numel() for p in params if p.requires_grad),
                             sum(p.numel() for p in params))
    return summary


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
