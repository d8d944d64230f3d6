"""Which weights may train: freeze and unfreeze modules, encoder stages or all but the last layers.

Transfer learning is a set of choices about which pretrained weights may move:

- **freeze** a part (``requires_grad = False``): its weights stay exactly as pretrained;
- **unfreeze** stage by stage, from the deepest (most task-specific) towards the input
  (:func:`freeze_stages`), or keep only the last layers trainable (:func:`train_last_layers`).

Frozen batch-norm layers also keep their ImageNet running statistics: models that hold an
encoder call :func:`keep_frozen_norms_in_eval` from their ``train()``, so that
``model.train()`` does not let the batch statistics of a few target images overwrite them.
How fast the trainable weights move (discriminative learning rates, L2-SP) is training's
business: :mod:`course_utils.training.finetune`.
"""

from __future__ import annotations

from torch import nn

from .backbones import backbone_stages

__all__ = ["encoder_parameters", "freeze", "freeze_stages", "keep_frozen_norms_in_eval",
           "train_last_layers", "trainable_summary", "unfreeze"]


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
    The encoder is ``model.encoder`` (as in :mod:`course_utils.models.encoder_decoder`) or ``model``
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


def trainable_summary(model: nn.Module) -> dict[str, tuple[int, int]]:
    """``{child name: (trainable parameters, all parameters)}`` of each top-level part."""
    summary = {}
    for name, child in model.named_children():
        params = list(child.parameters())
        if params:
            summary[name] = (sum(p.numel() for p in params if p.requires_grad),
                             sum(p.numel() for p in params))
    return summary


def encoder_parameters(model: nn.Module) -> tuple[int, int]:
    """``(trainable, all)`` parameters of the encoder stages that ``model`` runs.

    A U-Net runs all five stages of ``model.encoder``; a design that runs only the first
    ``model.stages`` (:class:`~course_utils.models.encoder_decoder.FeatureSubPixelSR`) is
    counted over those, not over the stages it holds but never evaluates.
    """
    run = backbone_stages(model.encoder)[:getattr(model, "stages", 5)]
    params = [p for stage in run for p in stage.parameters()]
    return sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params)
