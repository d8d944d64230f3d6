"""Training: the loop, the losses, and the fine-tuning tools of transfer learning.

Modules
-------
loop      ``fit``: the one training loop of every unit, its ``History``, ``evaluate_psnr``
losses    pixel losses by name, SSIM and perceptual losses
finetune  discriminative learning rates (parameter groups), the L2-SP regulariser and the
          distance to the source weights
"""

from .finetune import L2SPLoss, distance_to_source, l2_sp_penalty, param_groups
from .loop import History, evaluate_psnr, fit
from .losses import LOSSES, PerceptualLoss, SSIMLoss

__all__ = ["LOSSES", "History", "L2SPLoss", "PerceptualLoss", "SSIMLoss", "distance_to_source",
           "evaluate_psnr", "fit", "l2_sp_penalty", "param_groups"]
