"""The zoo: the course's trained, shipped models, and the recipes that trained them.

Modules
-------
shipped  which checkpoints ship (file, SHA-256, task), loading them with the hash verified;
         loading a learned codec, shipped or your own
recipes  the training recipes and ``pretrain``, which made them
cards    model cards (Markdown) and the hardware line
"""

from .cards import hardware, model_card
from .recipes import (
           RECIPES,
           TASK_RECIPES,
           Recipe,
           default_recipe,
           pretrain,
           source_training_images,
)
from .shipped import (
    CODEC_LAMBDAS,
    SHIPPED,
    ShippedModel,
    load_codec,
    load_pretrained,
    shipped_codecs,
    shipped_model,
    zoo_rows,
)

__all__ = ["CODEC_LAMBDAS", "RECIPES", "TASK_RECIPES", "SHIPPED", "Recipe", "ShippedModel",
           "default_recipe", "hardware", "load_codec", "load_pretrained", "model_card",
           "pretrain", "shipped_codecs", "shipped_model", "source_training_images",
           "zoo_rows"]
