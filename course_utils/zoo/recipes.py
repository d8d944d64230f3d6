"""How the course's shipped models were trained: the recipes and :func:`pretrain`.

:func:`pretrain` is the one recipe that made the shipped models
(:mod:`course_utils.zoo.shipped`), the SR source models (``python -m course_utils pretrain
--model espcn --scale 3``) and the restoration models (``python -m course_utils pretrain
--model dncnn --task denoise-25-gray``) alike. It is deterministic on a given machine: same
images, seed and settings, same weights.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from ..compression.measure import CodingResult, LearnedCodec, code_images
from ..compression.rd import RateDistortionLoss
from ..data.catalogue import domain_images
from ..data.io import write_text
from ..data.pairs import PairedPatches, split_for_validation, validation_pairs
from ..device import available_cpus, get_device, seed_everything
from ..evaluation.classical import bm3d_available, classical_for
from ..evaluation.evaluate import default_method, evaluate_images, model_method
from ..models.checkpoint import load_checkpoint, save_checkpoint, sha256_of
from ..models.complexity import count_parameters
from ..models.registry import get_model, model_spec
from ..tasks import Compression, SuperResolution, Task, get_task
from ..training.loop import fit
from .cards import hardware, model_card
from .shipped import COURSE_CONFIGS, SHIPPED, load_pretrained

__all__ = ["RECIPES", "TASK_RECIPES", "Recipe", "default_config",
           "codec_heldout_scores", "default_recipe", "earlier_stages", "heldout_scores",
           "pretrain",
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
    input patches (LR patches for SR; Y channel, MSE), learning rate ``lr`` annealed by a
    cosine to 1% over ``epochs`` epochs; validation PSNR after each epoch. ``clip_grad_norm``
    (optional) bounds each step's gradient norm (:func:`~course_utils.training.loop.fit`).
    """

    steps: int = 15000
    epochs: int = 15
    batch_size: int = 32
    patch_lr: int = 24
    lr: float = 1e-3
    seed: int = 0
    threads: int | None = None
    clip_grad_norm: float | None = None

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
    # DnCNN (its course configuration, COURSE_CONFIGS): 48-pixel patches (the paper's are 40;
    # the half-size sub-images of the unshuffle see 24).
    "dncnn": Recipe(steps=6000, epochs=6, batch_size=32, patch_lr=48, lr=1e-3),
    # The learned codec: 128-pixel RGB patches (CompressAI's are 256, batch 16, for millions
    # of steps on a GPU); 0.33-0.4 s a step on one CPU thread. The gradient is clipped to
    # norm 1 as CompressAI's train.py does: unclipped, lr 1e-3 diverged within 600 steps.
    # With clipping and the mid-gray decoder start the first 800 steps reach the training loss
    # that 8000 unclipped steps at lr 5e-4 with the old zero start reached. It trained the
    # four shipped codecs (52-57 min each). On the held-out photos they beat JPEG at equal
    # rate below about 0.4 bpp and lose above it (their cards, README's codec table): 8000
    # steps are a small fraction of the training behind the paper's curves.
    "factorized-codec": Recipe(steps=8000, epochs=8, batch_size=8, patch_lr=128, lr=1e-3,
                               clip_grad_norm=1.0),
}

#: Recipes for one task of an architecture, by (architecture, task kind; the SR scale as
#: ``sr-xS``), where the architecture's recipe fell short or is more than the task needs.
#: ESPCN x2 and x3 gained 1.77 and 1.27 dB over bicubic after 15,000 steps, 2.17 and 1.60 dB
#: after 45,000 (about 30 minutes on one CPU core). The JPEG remover is fine-tuned from the
#: shipped denoiser (``pretrain --init dncnn_denoise-25-gray``), at a tenth of the learning
#: rate: from random weights, 5,000 steps did not beat the JPEG input on the held-out photos
#: (29.17 against 29.18 dB), and 250 steps from the denoiser gained 1.0 dB on validation.
TASK_RECIPES = {
    ("espcn", "sr-x2"): Recipe(steps=45000, epochs=45, lr=1e-3),
    ("espcn", "sr-x3"): Recipe(steps=45000, epochs=45, lr=1e-3),
    ("dncnn", "jpeg"): replace(RECIPES["dncnn"], steps=1500, epochs=3, lr=1e-4),
}


def default_config(name: str, task: Task | str | int) -> dict:
    """The config :func:`pretrain` builds ``name`` with for ``task``: one channel (Y, or the
    gray image), the task's scale for SR families, :data:`COURSE_CONFIGS` for restoration."""
    task = _task_of(task)
    family = model_spec(name).task
    if family == "sr":
        return {"scale": task.scale, "channels": 1}
    if family == "compression":  # RGB, as codecs are compared
        return dict(COURSE_CONFIGS.get(name, {}))
    return {"channels": 1, **COURSE_CONFIGS.get(name, {})}


def default_recipe(name: str, task: Task | str | int | None = None) -> Recipe:
    """The recipe :func:`pretrain` uses for ``name`` and ``task`` (an integer is an SR scale;
    ESPCN's recipe for unshipped models): :data:`TASK_RECIPES` if it has one, else
    :data:`RECIPES`."""
    specific = None
    if task is not None:
        task = _task_of(task)
        specific = TASK_RECIPES.get((name, f"sr-x{task.scale}" if task.scale > 1 else task.kind))
    return replace(specific or RECIPES.get(name, Recipe()))


def _task_of(task: Task | str | int) -> Task:
    # An integer is a super-resolution scale: pretrain("espcn", 3).
    return SuperResolution(task) if isinstance(task, int) else get_task(task)


def reproduce_command(name: str, task: Task | str | int, recipe: Recipe,
                      hr_folder: str | os.PathLike | None = None,
                      init: str | os.PathLike | None = None) -> str:
    """The ``pretrain`` command line that trains this model again: the options that differ
    from :func:`default_recipe`, ``--hr`` if the images came from a folder and ``--init`` if
    the weights started from another model's."""
    task = _task_of(task)
    chosen = f"--scale {task.scale}" if task.scale > 1 else f"--task {task.name}"
    parts = [f"python -m course_utils pretrain --model {name} {chosen}"]
    if init is not None:
        parts.append(f"--init {init}")
    if hr_folder is not None:
        parts.append(f"--hr {hr_folder}")
    default, given = (asdict(r) for r in (default_recipe(name, task), recipe))
    for values in (default, given):  # no clipping is --clip-grad-norm 0 on the command line
        values["clip_grad_norm"] = values["clip_grad_norm"] or 0.0
    for key, value in given.items():
        if key != "threads" and value != default[key]:  # threads do not change the model
            parts.append(f"--{key.replace('_', '-')} {value:g}" if isinstance(value, float)
                         else f"--{key.replace('_', '-')} {value}")
    return " ".join(parts)


def codec_heldout_scores(model: torch.nn.Module, heldout: dict) -> dict:
    """A learned codec's held-out scores: the measured rate of the files it writes (bpp),
    the rate its entropy model predicts, PSNR/SSIM (RGB) of the decoded images and the time
    to encode and decode; beside them JPEG (4:2:0) at the same rate per image (the highest
    quality whose file is no larger, :func:`~course_utils.compression.measure.quality_for_bpp`)."""
    ours = code_images(heldout, LearnedCodec(model))
    jpeg = CodingResult("jpeg", [
        code_images({row["image"]: heldout[row["image"]]}, "jpeg", bpp=row["bpp"]).rows[0]
        for row in ours.rows])
    return {
        "images": list(heldout), "bpp": round(ours.mean_bpp, 4),
        "estimated_bpp": round(ours.mean("estimated_bpp"), 4),
        "psnr": round(ours.mean_psnr, 3), "ssim": round(ours.mean_ssim, 4),
        "seconds": round(ours.mean("encode_seconds") + ours.mean("decode_seconds"), 3),
        "encode_seconds": round(ours.mean("encode_seconds"), 3),
        "decode_seconds": round(ours.mean("decode_seconds"), 3),
        "baselines": {"jpeg": {
            "bpp": round(jpeg.mean_bpp, 4), "psnr": round(jpeg.mean_psnr, 3),
            "ssim": round(jpeg.mean_ssim, 4),
            "seconds": round(jpeg.mean("encode_seconds") + jpeg.mean("decode_seconds"), 3)}},
        "per_image": [{"image": a["image"], "bpp": round(a["bpp"], 4),
                       "estimated_bpp": round(a["estimated_bpp"], 4),
                       "psnr": round(a["psnr"], 3), "ssim": round(a["ssim"], 4),
                       "jpeg_quality": b["quality"], "jpeg_bpp": round(b["bpp"], 4),
                       "jpeg_psnr": round(b["psnr"], 3), "jpeg_ssim": round(b["ssim"], 4)}
                      for a, b in zip(ours.rows, jpeg.rows, strict=True)],
    }


def heldout_scores(model: torch.nn.Module, task: Task, heldout: dict) -> dict:
    """The model's held-out scores against the task's baselines: bicubic for SR (the keys
    ``bicubic_psnr`` ...); for restoration the degraded input (``none``) and every classical
    method of the task's kind (BM3D when its optional package is installed), each with its
    mean time per image; for compression :func:`codec_heldout_scores`."""
    if isinstance(task, Compression):
        return codec_heldout_scores(model, heldout)
    ours = evaluate_images(heldout, task, model_method(model))
    scores = {"images": list(heldout), "psnr": round(ours.mean_psnr, 3),
              "ssim": round(ours.mean_ssim, 4), "seconds": round(ours.mean_seconds, 3)}
    if task.scale > 1:
        bicubic = evaluate_images(heldout, task, "bicubic")
        scores.update(
            bicubic_psnr=round(bicubic.mean_psnr, 3), bicubic_ssim=round(bicubic.mean_ssim, 4),
            per_image=[{"image": a["image"], "psnr": round(a["psnr"], 3),
                        "ssim": round(a["ssim"], 4), "bicubic_psnr": round(b["psnr"], 3),
                        "bicubic_ssim": round(b["ssim"], 4)}
                       for a, b in zip(ours.rows, bicubic.rows, strict=True)])
        return scores
    methods = [default_method(task)] + [m for m in classical_for(task.kind)
                                        if m != "bm3d" or bm3d_available()]
    baselines = {m: evaluate_images(heldout, task, m) for m in methods}
    scores["baselines"] = {m: {"psnr": round(r.mean_psnr, 3), "ssim": round(r.mean_ssim, 4),
                               "seconds": round(r.mean_seconds, 3)}
                           for m, r in baselines.items()}
    scores["per_image"] = [
        {"image": row["image"], "psnr": round(row["psnr"], 3), "ssim": round(row["ssim"], 4),
         **{f"{m}_psnr": round(r.rows[i]["psnr"], 3) for m, r in baselines.items()}}
        for i, row in enumerate(ours.rows)]
    return scores


def earlier_stages(start_card: dict) -> list[dict]:
    """The training stages a model fine-tuned from ``start_card``'s model went through before
    its own, oldest first: each stage's reproduce command, training time and hardware.

    A model card adds them up, so that a model trained in stages states its whole cost and
    every command that rebuilds it, not only its last one.
    """
    stage = {key: start_card.get(key) for key in ("reproduce", "training_seconds", "hardware")}
    return [*start_card.get("earlier_stages", []), stage]


def _initial_model(init: str | os.PathLike) -> tuple[torch.nn.Module, dict]:
    """The model and card of ``--init``: a shipped model (hash-verified) or a checkpoint."""
    if str(init) in {m.name for m in SHIPPED}:
        return load_pretrained(str(init))
    return load_checkpoint(init)


def pretrain(
    name: str,
    task: Task | str | int,
    images: Mapping[str, np.ndarray] | None = None,
    recipe: Recipe | None = None,
    out: str | os.PathLike | None = None,
    progress: bool = True,
    device: torch.device | str | None = None,
    hr_folder: str | os.PathLike | None = None,
    init: str | os.PathLike | None = None,
) -> tuple[torch.nn.Module, dict]:
    """Train a model with the course recipe for a task and save it with its model card.

    Parameters
    ----------
    name : a registered architecture that takes ``channels``: the classic SR networks of
        :mod:`course_utils.models.sr`, or a restoration family (DnCNN, built with
        :data:`COURSE_CONFIGS`); it is trained on the Y channel (gray images as they are)
    task : a task or its spec (``"denoise-25-gray"``, ``"jpeg-10-gray"``); an integer is a
        super-resolution scale
    images : {name: clean image}, optional
        Training photos; default :func:`source_training_images`. The bottom 20 % of each is
        kept for validation (:func:`course_utils.data.pairs.split_for_validation`).
    recipe : Recipe, optional
    out : path, optional
        Where to write the ``.safetensors`` checkpoint; a ``.md`` model card is written
        beside it. Nothing is written if omitted.
    progress : show a progress bar
    device : default :func:`course_utils.device.get_device`
    hr_folder : the folder ``images`` were read from, for the card's reproduce command
    init : a shipped model's name or a checkpoint file to start from (transfer learning:
        fine-tune its weights instead of random ones); its architecture must be ``name``

    Returns
    -------
    (model, card) : the trained model and the facts of its model card (a dict).
    """
    task = _task_of(task)
    scale = task.scale
    config = default_config(name, task)
    codec = model_spec(name).task == "compression"
    if codec != isinstance(task, Compression):
        raise ValueError(f"{name} is {'a codec' if codec else 'not a codec'}: it trains for "
                         + ("a compress task (compress-0.0067)." if codec
                            else f"its own kind of task, not {task.name}."))
    if scale == 1 and config.get("channels") == 1 and not task.gray:
        raise ValueError(f"a one-channel restoration model trains on gray images, and "
                         f"{task.name} keeps colour photos in colour: use {task.name}-gray "
                         "(pretrain --gray).")
    recipe = recipe or default_recipe(name, task)
    # Default: the CPUs this process may use (a container's quota), never more threads.
    torch.set_num_threads(recipe.threads or min(torch.get_num_threads(), available_cpus()))
    seed_everything(recipe.seed)
    source = "natural photos (course_utils.zoo.recipes.source_training_images())"
    if images is None and codec:  # a codec sees colour: the colour photos only
        source = "colour natural photos (course_utils.data.domain_images('natural', 'train'))"
        images = domain_images("natural", "train")
    elif images is None:
        images = source_training_images()
    else:
        source = f"{len(images)} given images"
    train_parts, val_parts = zip(*(split_for_validation(im, scale) for im in images.values()),
                                  strict=True)
    patches = PairedPatches(list(train_parts), task, patch_size=recipe.patch_lr * scale,
                            mode="rgb" if codec else "y",
                            samples_per_epoch=recipe.steps // recipe.epochs * recipe.batch_size,
                            seed=recipe.seed)
    loader = DataLoader(patches, batch_size=recipe.batch_size, shuffle=False)
    val_pairs = validation_pairs(list(val_parts), task, mode="rgb" if codec else "y")
    if init is None:
        model = get_model(name, **config)
    else:  # transfer: the weights (and so the config) of another trained model
        model, start_card = _initial_model(init)
        if model.config["name"] != name:
            raise ValueError(f"--init {init} is a {model.config['name']} model, not {name}.")
    device = torch.device(device) if device is not None else get_device()

    start = time.perf_counter()
    # A codec trains for lambda * D + R and keeps its last weights: the best validation PSNR
    # would pick the epoch that spent the most bits.
    history = fit(model, loader, val_pairs, epochs=recipe.epochs, lr=recipe.lr,
                  loss=RateDistortionLoss(task.lmbda) if codec else "mse", keep_best=not codec,
                  clip_grad_norm=recipe.clip_grad_norm, border=task.border, device=device,
                  progress=progress)
    seconds = time.perf_counter() - start
    model = model.cpu().eval()

    card = {
        "model": name,
        "scale": scale,
        "task": task.name,
        "parameters": count_parameters(model),
        "channels": ("Y (BT.601); Cb, Cr enlarged with bicubic" if scale > 1
                     else "RGB" if codec
                     else "gray (the Y channel of colour images; Cb, Cr kept as they are)"),
        "training_data": f"{source}: {', '.join(images)}; top 80 % of each photo for "
                         "training, bottom 20 % for validation",
        "training_images": len(images),
        "degradation": ("MATLAB-style bicubic imresize(HR, 1/s) on uint8" if scale > 1
                        else f"{task.name} (course_utils.tasks.{type(task).__name__}), drawn "
                             "afresh for every training patch" if task.stochastic
                        else f"{task.name} (course_utils.tasks.{type(task).__name__})"),
        "recipe": asdict(recipe),
        "training_seconds": round(seconds, 1),
        "reproduce": reproduce_command(name, task, recipe, hr_folder, init),
        "initialised_from": None if init is None else {
            "model": str(init), "task": start_card.get("task")},
        "earlier_stages": [] if init is None else earlier_stages(start_card),
        "hardware": hardware(),
        "torch": torch.__version__,
        "best_epoch": len(history.val_psnr) if codec else history.best_epoch + 1,
        "val_psnr_y": round(history.val_psnr[-1] if codec else history.best_psnr, 3),
        "heldout": None,  # scored below, once the weights are safe
        "heldout_hardware": hardware(),
        "history": {"val_psnr": [round(v, 3) for v in history.val_psnr],
                    "train_loss": history.train_loss, "seconds": history.seconds},
    }
    try:
        card["heldout"] = heldout_scores(model, task, domain_images("natural", "heldout"))
    except Exception:
        # An hour of training is not lost to a failure of the scoring: keep the weights.
        if out is not None:
            kept = Path(out).with_suffix(".unscored.safetensors")
            save_checkpoint(kept, model, card)
            print(f"scoring on the held-out photos failed; the trained weights are in {kept}",
                  file=sys.stderr)
        raise
    if out is not None:
        out = Path(out)
        save_checkpoint(out, model, card)
        write_text(out.with_suffix(".md"), model_card(card, sha256_of(out)))
    return model, card
