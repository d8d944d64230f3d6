"""Evaluation: run a model on whole images, and score methods with a task's recipe.

Modules
-------
inference  tiled reconstruction of whole images (bounded memory), throughput
evaluate   methods by name, ``evaluate_images`` / ``evaluate_folder`` for any task
"""

from .evaluate import METHODS, EvaluationResult, evaluate_folder, evaluate_images, model_method
from .inference import reconstruct, run_tiled, throughput

__all__ = ["METHODS", "EvaluationResult", "evaluate_folder", "evaluate_images", "model_method",
           "reconstruct", "run_tiled", "throughput"]
