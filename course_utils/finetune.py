"""Fine-tuning tools: freeze and unfreeze by stage, discriminative learning rates.

Transfer learning is a set of choices about which pretrained weights may move, and how fast:

- **freeze** a part (``requires_grad = False``): its weights stay exactly as pretrained;
- **unfreeze** stage by stage, from the deepest (most task-specific) towards the input;
- **discriminative learning rates**: the pretrained encoder learns with a smaller rate than the
  new, randomly initialised layers (one optimiser, two parameter groups).

Frozen batch-norm layers also keep their ImageNet running statistics: models that hold an
encoder call :func:`keep_frozen_norms_in_eval` from their ``train()``, so that
``model.train()`` does not let the batch statistics of a few target images overwrite them.
"""

from __future__ import annotations

from torch import nn

from .backbones import backbone_stages

__all__ = ["freeze", "freeze_stages", "keep_frozen_norms_in_eval", "param_groups",
           "trainable_summary", "unfreeze"]


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
