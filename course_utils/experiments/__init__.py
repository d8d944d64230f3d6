"""Experiments: arms trained on the same data and budget, and the course's experiments.

Modules
-------
runner       ``Arm``, ``ExperimentData``, ``run_arms``, ``Results``, ``summarize``, ``versus``,
             for any task
transfer     unit 04: natural-photo data, U-Net arms with a pretrained or random encoder
crossdomain  unit 05: target-domain data, fine-tuning arms, L2-SP, ZSSR-style, the joint design
restoration  unit 06: SR-source and ImageNet transfer to restoration, feature fusion, Noise2Self,
             multi-task sharing, the natural-photo denoiser on medical scans
autoencoder  unit 07: what changes an autoencoder's result (optimiser, learning rate, batch
             size, loss, capacity) and overfitting on a tiny training set, remedy by remedy
codec_transfer unit 07: the natural-photo codecs on medical scans, zero-shot and fine-tuned
"""

from .autoencoder import (
           capacity_arms,
           learning_rate_arms,
           loss_arms,
           optimizer_arms,
           overfitting_arms,
           run_batch_sizes,
           run_overfitting,
           tiny_data,
)
from .codec_transfer import codec_transfer, finetune_codec
from .crossdomain import (
           cross_domain_arms,
           data_efficiency,
           joint_arms,
           load_domain_data,
           pretrain_joint,
)
from .restoration import (
           fusion_arms,
           learned_alphas,
           medical_arms,
           medical_data,
           multitask_table,
           noise2self_arm,
           restoration_arms,
           run_multitask,
)
from .runner import (
           Arm,
           ArmResult,
           ExperimentData,
           Results,
           mean_sd,
           run_arms,
           summarize,
           train_and_score,
           versus,
)
from .transfer import natural_photo_data, transfer_arms

__all__ = ["Arm", "ArmResult", "ExperimentData", "Results", "capacity_arms", "codec_transfer",
           "cross_domain_arms", "data_efficiency", "finetune_codec", "fusion_arms", "joint_arms",
           "learned_alphas", "learning_rate_arms", "load_domain_data", "loss_arms", "mean_sd",
           "medical_arms", "medical_data", "multitask_table", "natural_photo_data",
           "noise2self_arm", "optimizer_arms", "overfitting_arms", "pretrain_joint",
           "restoration_arms", "run_arms", "run_batch_sizes", "run_multitask",
           "run_overfitting", "summarize", "tiny_data", "train_and_score", "transfer_arms",
           "versus"]
