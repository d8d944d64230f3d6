"""Training: the loop, the losses, and the fine-tuning tools of transfer learning.

Modules
-------
loop      ``fit``: the one training loop of every unit, its ``History``, ``evaluate_psnr``
losses    pixel losses by name, SSIM and perceptual losses
finetune  discriminative learning rates (parameter groups), the L2-SP regulariser and the
          distance to the source weights
noise2self  self-supervised denoising from noisy images alone (masked training)
"""

from .finetune import L2SPLoss, distance_to_source, l2_sp_penalty, param_groups
from .loop import History, evaluate_psnr, fit
from .losses import LOSSES, PerceptualLoss, SSIMLoss
from .noise2self import Noise2Self, mask_pixels_out

__all__ = ["LOSSES", "History", "L2SPLoss", "Noise2Self", "PerceptualLoss", "SSIMLoss",
           "distance_to_source", "evaluate_psnr", "fit", "l2_sp_penalty", "mask_pixels_out",
           "param_groups"]
