"""Evaluation: run a model on whole images, and score methods with a task's recipe.

Modules
-------
inference  tiled reconstruction of whole images (bounded memory), throughput
classical  the classical restoration baselines (NL-means, wavelet, TV, BM3D, Wiener,
           Richardson-Lucy, biharmonic inpainting), given the task's observation
evaluate   methods by name, ``evaluate_images`` / ``evaluate_folder`` for any task
"""

from .classical import CLASSICAL
from .evaluate import (
    METHODS,
    EvaluationResult,
    evaluate_folder,
    evaluate_images,
    method_names,
    model_method,
)
from .inference import reconstruct, run_tiled, throughput

__all__ = ["CLASSICAL", "METHODS", "EvaluationResult", "evaluate_folder", "evaluate_images",
           "method_names", "model_method", "reconstruct", "run_tiled", "throughput"]
