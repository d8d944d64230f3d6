"""How the course's source models were trained: the recipes and :func:`pretrain`.

:func:`pretrain` is the one recipe that made the shipped models
(:mod:`course_utils.zoo.shipped`), run by ``python -m course_utils pretrain --model espcn
--scale 3``. It is deterministic on a given machine: same images, seed and settings, same
weights.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from ..data.catalogue import domain_images
from ..data.io import write_text
from ..data.pairs import PairedPatches, split_for_validation, validation_pairs
from ..device import available_cpus, get_device, seed_everything
from ..evaluation.evaluate import evaluate_images, model_method
from ..models.checkpoint import save_checkpoint, sha256_of
from ..models.complexity import count_parameters
from ..models.registry import get_model
from ..tasks import SuperResolution
from ..training.loop import fit
from .cards import hardware, model_card

__all__ = ["RECIPES", "SCALE_RECIPES", "Recipe", "default_recipe", "pretrain",
           "source_training_images"]


def source_training_images() -> dict[str, np.ndarray]:
    """The source models' training photos: the natural domain's training split, then the
    grayscale natural photos (a Y-channel model sees a gray photo as it sees the luma of a
    colour one)."""
    return {**domain_images("natural", "train"), **domain_images("natural-gray", "train")}


@dataclass
class Recipe:
    """Settings of :func:`pretrain` (the defaults made the shipped models).

    ``steps`` optimiser steps of Adam on batches of ``batch_size`` random ``patch_lr``-pixel
    LR patches (Y channel, MSE), learning rate ``lr`` annealed by a cosine to 1% over
    ``epochs`` epochs; validation PSNR after each epoch.
    """

    steps: int = 15000
    epochs: int = 15
    batch_size: int = 32
    patch_lr: int = 24
    lr: float = 1e-3
    seed: int = 0
    threads: int | None = None

    def __post_init__(self) -> None:
        for key in ("steps", "epochs", "batch_size", "patch_lr"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key} must be at least 1, got {getattr(self, key)}.")
        if self.steps % self.epochs:
            raise ValueError(f"steps ({self.steps}) must be a multiple of epochs "
                             f"({self.epochs}), so that every epoch has the same steps.")


#: The recipe of each shipped architecture. FSRCNN (PReLU, a deconvolution initialised near
#: zero) converges more slowly than ESPCN: it gets a higher learning rate and more steps. Each
#: model trains in under an hour on one CPU core (the model cards give the measured times).
RECIPES = {
    "espcn": Recipe(lr=1e-3),
    "fsrcnn": Recipe(steps=24000, epochs=24, lr=2e-3),
}

#: Longer schedules for the scales where the architecture's recipe fell short of the course's
#: quality targets: ESPCN x2 and x3 gained 1.77 and 1.27 dB over bicubic after 15,000 steps,
#: 2.17 and 1.60 dB after 45,000 (about 30 minutes on one CPU core).
SCALE_RECIPES = {
    ("espcn", 2): Recipe(steps=45000, epochs=45, lr=1e-3),
    ("espcn", 3): Recipe(steps=45000, epochs=45, lr=1e-3),
}


def default_recipe(name: str, scale: int | None = None) -> Recipe:
    """The recipe :func:`pretrain` uses for ``name`` at ``scale`` (ESPCN's for unshipped
    models): :data:`SCALE_RECIPES` if it has one, else :data:`RECIPES`."""
    return replace(SCALE_RECIPES.get((name, scale)) or RECIPES.get(name, Recipe()))


def reproduce_command(name: str, scale: int, recipe: Recipe,
                      hr_folder: str | os.PathLike | None = None) -> str:
    """The ``pretrain`` command line that trains this model again: the options that differ
    from :func:`default_recipe`, and ``--hr`` if the images came from a folder."""
    parts = [f"python -m course_utils pretrain --model {name} --scale {scale}"]
    if hr_folder is not None:
        parts.append(f"--hr {hr_folder}")
    default = asdict(default_recipe(name, scale))
    for key, value in asdict(recipe).items():
        if key != "threads" and value != default[key]:  # threads do not change the model
            parts.append(f"--{key.replace('_', '-')} {value:g}" if isinstance(value, float)
                         else f"--{key.replace('_', '-')} {value}")
    return " ".join(parts)


def pretrain(
    name: str,
    scale: int,
    images: Mapping[str, np.ndarray] | None = None,
    recipe: Recipe | None = None,
    out: str | os.PathLike | None = None,
    progress: bool = True,
    device: torch.device | str | None = None,
    hr_folder: str | os.PathLike | None = None,
) -> tuple[torch.nn.Module, dict]:
    """Train a source model with the course recipe and save it with its model card.

    Parameters
    ----------
    name : a registered SR architecture that takes ``channels`` (the classic networks of
        :mod:`course_utils.models.sr`); it is trained on the Y channel
    scale : int
    images : {name: HR image}, optional
        Training photos; default :func:`source_training_images`. The bottom 20 % of each is
        kept for validation (:func:`course_utils.data.pairs.split_for_validation`).
    recipe : Recipe, optional
    out : path, optional
        Where to write the ``.safetensors`` checkpoint; a ``.md`` model card is written
        beside it. Nothing is written if omitted.
    progress : show a progress bar
    device : default :func:`course_utils.device.get_device`
    hr_folder : the folder ``images`` were read from, for the card's reproduce command

    Returns
    -------
    (model, card) : the trained model and the facts of its model card (a dict).
    """
    recipe = recipe or default_recipe(name, scale)
    # Default: the CPUs this process may use (a container's quota), never more threads.
    torch.set_num_threads(recipe.threads or min(torch.get_num_threads(), available_cpus()))
    seed_everything(recipe.seed)
    task = SuperResolution(scale)
    source = "natural photos (course_utils.zoo.recipes.source_training_images())"
    if images is None:
        images = source_training_images()
    else:
        source = f"{len(images)} given HR images"
    train_parts, val_parts = zip(*(split_for_validation(im, scale) for im in images.values()),
                                  strict=True)
    patches = PairedPatches(list(train_parts), task, patch_size=recipe.patch_lr * scale,
                            mode="y",
                            samples_per_epoch=recipe.steps // recipe.epochs * recipe.batch_size,
                            seed=recipe.seed)
    loader = DataLoader(patches, batch_size=recipe.batch_size, shuffle=False)
    val_pairs = validation_pairs(list(val_parts), task)
    model = get_model(name, scale=scale, channels=1)
    device = torch.device(device) if device is not None else get_device()

    start = time.perf_counter()
    history = fit(model, loader, val_pairs, epochs=recipe.epochs, lr=recipe.lr,
                  border=task.border, device=device, progress=progress)
    seconds = time.perf_counter() - start
    model = model.cpu().eval()

    heldout = domain_images("natural", "heldout")
    ours = evaluate_images(heldout, task, model_method(model))
    bicubic = evaluate_images(heldout, task, "bicubic")
    card = {
        "model": name,
        "scale": scale,
        "task": task.name,
        "parameters": count_parameters(model),
        "channels": "Y (BT.601); Cb, Cr enlarged with bicubic",
        "training_data": f"{source}: {', '.join(images)}; top 80 % of each photo for "
                         "training, bottom 20 % for validation",
        "training_images": len(images),
        "degradation": "MATLAB-style bicubic imresize(HR, 1/s) on uint8",
        "recipe": asdict(recipe),
        "training_seconds": round(seconds, 1),
        "reproduce": reproduce_command(name, scale, recipe, hr_folder),
        "hardware": hardware(),
        "torch": torch.__version__,
        "best_epoch": history.best_epoch + 1,
        "val_psnr_y": round(history.best_psnr, 3),
        "heldout": {
            "images": list(heldout),
            "psnr": round(ours.mean_psnr, 3), "ssim": round(ours.mean_ssim, 4),
            "bicubic_psnr": round(bicubic.mean_psnr, 3),
            "bicubic_ssim": round(bicubic.mean_ssim, 4),
            "per_image": [{"image": a["image"], "psnr": round(a["psnr"], 3),
                           "ssim": round(a["ssim"], 4), "bicubic_psnr": round(b["psnr"], 3),
                           "bicubic_ssim": round(b["ssim"], 4)}
                          for a, b in zip(ours.rows, bicubic.rows, strict=True)],
        },
        "history": {"val_psnr": [round(v, 3) for v in history.val_psnr],
                    "train_loss": history.train_loss, "seconds": history.seconds},
    }
    if out is not None:
        out = Path(out)
        save_checkpoint(out, model, card)
        write_text(out.with_suffix(".md"), model_card(card, sha256_of(out)))
    return model, card
