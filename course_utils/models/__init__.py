"""Architectures, the model registry, and checkpoints of any registered model.

Modules
-------
registry        ``register_model`` / ``get_model`` / ``list_models``, config validation
sr              the classic SR networks: SRCNN, FSRCNN, ESPCN
restoration     DnCNN, the residual restoration network (denoising, JPEG, deblurring)
codec           a plain convolutional autoencoder and Ballé's learned codec (factorized prior)
fusion          restorers on the SR source models' feature layers: transfer, feature fusion
                F = a F_pretrained + (1 - a) F_target, a shared trunk with a head per task
backbones       ImageNet encoders (EfficientNet-Lite0, ResNet-18, VGG-16) and their stages
encoder_decoder U-Net and feature + sub-pixel designs on a pretrained encoder
freeze          which weights train: freeze, unfreeze by stage, the last layers only
complexity      parameter and multiply-accumulate counts
compact         smaller networks after training: magnitude pruning, int8 quantisation
checkpoint      safetensors checkpoints of any registered model (no code from files)

Importing this package registers every family (``sr``, ``restoration``, ``codec``,
``fusion`` and ``encoder_decoder``).
"""

from . import codec, compact, encoder_decoder, fusion, restoration, sr
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint, sha256_of
from .complexity import count_macs, count_parameters
from .registry import check_config, get_model, list_models, model_config, model_spec, register_model

__all__ = ["CheckpointError", "check_config", "codec", "compact", "count_macs", "count_parameters",
           "encoder_decoder", "fusion", "get_model", "list_models", "load_checkpoint",
           "model_config", "model_spec", "register_model", "restoration", "save_checkpoint",
           "sha256_of", "sr"]
