"""The course's own pretrained source models: how they are trained, shipped and loaded.

The shipped models (ESPCN and FSRCNN at x2, x3 and x4, Y channel) live in
``data/models/<model>_x<scale>.safetensors``, each with its SHA-256 in ``data/registry.tsv``
and a model card ``<model>_x<scale>.md`` beside it. :func:`load_pretrained` verifies the hash
before loading, so a truncated or edited file is refused with a clear message.

:func:`pretrain` is the one recipe that made them, run by
``python -m course_utils pretrain --model espcn --scale 3``. It is deterministic on a given
machine: same images, seed and settings, same weights.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from .data import DataUnavailableError, data_dir, default_registry, natural_images, to_uint8
from .degrade import modcrop
from .device import get_device, seed_everything
from .evaluate import evaluate_images, make_lr, model_upscaler
from .models import build_model, count_parameters
from .patches import SRPatches, image_to_tensor
from .train import CheckpointError, fit, load_checkpoint, save_checkpoint, sha256_of

__all__ = ["RECIPES", "SCALE_RECIPES", "SHIPPED", "CheckpointError", "Recipe", "default_recipe",
           "load_pretrained", "model_card", "pretrain", "pretrained_path",
           "split_for_validation", "validation_pairs"]

#: The shipped source models, (model name, scale).
SHIPPED = tuple((name, scale) for name in ("espcn", "fsrcnn") for scale in (2, 3, 4))


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


def split_for_validation(image: np.ndarray, scale: int,
                         fraction: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """Split an image into a top part for training and a bottom strip for validation.

    Splitting each training photo by rows keeps all photos in training while validation
    pixels are never trained on. The held-out test photos stay untouched for the final
    evaluation. The cut is on a multiple of ``scale``.
    """
    rows = image.shape[0]
    cut = int(round(rows * (1 - fraction))) // scale * scale
    return image[:cut], image[cut:]


def validation_pairs(images: list[np.ndarray], scale: int, mode: str = "y") -> list:
    """Whole-image ``(LR, HR)`` tensor pairs for :func:`course_utils.train.fit`.

    Each HR image is modcropped and its LR image made with the standard MATLAB-style bicubic
    ``imresize`` on uint8 (:func:`course_utils.evaluate.make_lr`), the degradation of the
    training patches and of the benchmarks. ``mode`` is that of
    :func:`course_utils.patches.image_to_tensor`: ``"y"`` for Y-channel models, ``"rgb"``
    for RGB ones (a gray image then gives one channel).
    """
    pairs = []
    for image in images:
        hr = modcrop(image, scale)
        lr = make_lr(hr, scale)
        pairs.append((image_to_tensor(lr, mode), image_to_tensor(to_uint8(hr), mode)))
    return pairs


def pretrained_path(name: str, scale: int) -> Path:
    """Where the shipped checkpoint of ``name`` at ``scale`` lives in ``data/``."""
    return data_dir() / "models" / f"{name}_x{scale}.safetensors"


def _registry_name(name: str, scale: int) -> str:
    return f"models/{name}_x{scale}.safetensors"


def load_pretrained(name: str, scale: int, device: torch.device | str = "cpu"):
    """Load a shipped source model, verifying its SHA-256 against ``data/registry.tsv``.

    Parameters
    ----------
    name : {"espcn", "fsrcnn"}
    scale : {2, 3, 4}
    device : where to put the model (returned in eval mode)

    Returns
    -------
    (model, card) : the model and its training facts (the metadata of its checkpoint).

    Raises
    ------
    ValueError
        A model or scale that is not shipped.
    CheckpointError
        The file does not match its registered hash (truncated, corrupt or edited).
    DataUnavailableError
        The file is missing and cannot be downloaded.
    """
    if (name, scale) not in SHIPPED:
        shipped = ", ".join(f"{n} x{s}" for n, s in SHIPPED)
        raise ValueError(f"no shipped model {name!r} at x{scale}; shipped: {shipped}. Train "
                         f"one with `python -m course_utils pretrain --model {name} "
                         f"--scale {scale}`.")
    registry = default_registry()
    entry = registry.entries.get(_registry_name(name, scale))
    if entry is None:
        raise DataUnavailableError(f"{_registry_name(name, scale)} is not in data/registry.tsv.")
    path = pretrained_path(name, scale)
    if not path.exists():  # e.g. a package install without data/: use the download cache
        path = registry.fetch(entry.name)
    return load_checkpoint(path, sha256=entry.sha256, device=device)


def _hardware() -> str:
    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    name = platform.processor() or platform.machine()
    try:  # Linux names the CPU model here; platform.processor() is often empty
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"CPU ({name}), {torch.get_num_threads()} torch thread(s)"


def pretrain(
    name: str,
    scale: int,
    images: Mapping[str, np.ndarray] | None = None,
    recipe: Recipe | None = None,
    out: str | os.PathLike | None = None,
    progress: bool = True,
    device: torch.device | str | None = None,
) -> tuple[torch.nn.Module, dict]:
    """Train a source model with the course recipe and save it with its model card.

    Parameters
    ----------
    name : a model of :data:`course_utils.models.MODELS`
    scale : int
    images : {name: HR image}, optional
        Training photos; default the natural domain's training split with its grayscale
        photos (``natural_images("train", gray=True)``). The bottom 20 % of each is kept for
        validation (:func:`split_for_validation`).
    recipe : Recipe, optional
    out : path, optional
        Where to write the ``.safetensors`` checkpoint; a ``.md`` model card is written
        beside it. Nothing is written if omitted.
    progress : show a progress bar
    device : default :func:`course_utils.device.get_device`

    Returns
    -------
    (model, card) : the trained model and the facts of its model card (a dict).
    """
    recipe = recipe or default_recipe(name, scale)
    if recipe.threads:
        torch.set_num_threads(recipe.threads)
    seed_everything(recipe.seed)
    source = "natural photos (course_utils.data.natural_images('train', gray=True))"
    if images is None:
        images = natural_images("train", gray=True)
    else:
        source = f"{len(images)} given HR images"
    if recipe.steps % recipe.epochs:
        raise ValueError(f"steps ({recipe.steps}) must be a multiple of epochs ({recipe.epochs}).")
    train_parts, val_parts = zip(*(split_for_validation(im, scale) for im in images.values()),
                                  strict=True)
    patches = SRPatches(list(train_parts), scale, patch_size=recipe.patch_lr * scale, mode="y",
                        samples_per_epoch=recipe.steps // recipe.epochs * recipe.batch_size,
                        seed=recipe.seed)
    loader = DataLoader(patches, batch_size=recipe.batch_size, shuffle=False)
    val_pairs = validation_pairs(list(val_parts), scale)
    model = build_model(name, scale, channels=1)
    device = torch.device(device) if device is not None else get_device()

    start = time.perf_counter()
    history = fit(model, loader, val_pairs, epochs=recipe.epochs, lr=recipe.lr, border=scale,
                  device=device, progress=progress)
    seconds = time.perf_counter() - start
    model = model.cpu().eval()

    heldout = natural_images("heldout")
    ours = evaluate_images(heldout, scale, model_upscaler(model))
    bicubic = evaluate_images(heldout, scale, "bicubic")
    card = {
        "model": name,
        "scale": scale,
        "parameters": count_parameters(model),
        "channels": "Y (BT.601); Cb, Cr enlarged with bicubic",
        "training_data": f"{source}: {', '.join(images)}; top 80 % of each photo for "
                         "training, bottom 20 % for validation",
        "training_images": len(images),
        "degradation": "MATLAB-style bicubic imresize(HR, 1/s) on uint8",
        "recipe": asdict(recipe),
        "training_seconds": round(seconds, 1),
        "hardware": _hardware(),
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
        out.with_suffix(".md").write_text(model_card(card, sha256_of(out)))
    return model, card


def model_card(card: dict, sha256: str | None = None, inference: dict | None = None) -> str:
    """The Markdown model card of a checkpoint's facts (as :func:`pretrain` returns them).

    ``inference`` optionally adds a speed line: a row of ``benchmarks/inference.py --json``.
    """
    h = card["heldout"]
    r = card["recipe"]
    lines = [
        f"# {card['model'].upper()} x{card['scale']}: course source model",
        "",
        f"- **Architecture**: `{card['model']}` from `course_utils.models` "
        f"({card['parameters']:,} parameters), input {card['channels']}.",
        f"- **Training data**: {card['training_data']}.",
        f"- **Degradation**: {card['degradation']}.",
        f"- **Recipe**: {r['steps']:,} Adam steps, batch {r['batch_size']} of "
        f"{r['patch_lr']}x{r['patch_lr']} LR patches (random crops, flips, 90-degree rotations), "
        f"MSE, learning rate {r['lr']:g} with cosine decay to 1 %, {r['epochs']} epochs, "
        f"seed {r['seed']}; the best validation epoch ({card['best_epoch']}) is kept.",
        f"- **Training time**: {card['training_seconds'] / 60:.1f} min on {card['hardware']}, "
        f"torch {card['torch']}.",
        f"- **Reproduce**: `python -m course_utils pretrain --model {card['model']} "
        f"--scale {card['scale']}`.",
    ]
    if sha256:
        lines.append(f"- **SHA-256**: `{sha256}`.")
    if inference:
        lines.append(
            f"- **Inference** (`benchmarks/inference.py`): {inference['images_per_s']:.1f} "
            f"images/s for a {inference['size']}x{inference['size']} RGB output, peak memory "
            f"{inference['peak_mib']:.0f} MiB (whole process, torch included), "
            f"{inference['device_name']}.")
    lines += [
        "",
        "## Held-out natural photos (standard recipe: Y, border = scale)",
        "",
        "| image | bicubic PSNR / SSIM | model PSNR / SSIM | gain (dB) |",
        "| --- | --- | --- | --- |",
    ]
    for row in h["per_image"]:
        lines.append(f"| {row['image']} | {row['bicubic_psnr']:.2f} / {row['bicubic_ssim']:.4f} | "
                     f"{row['psnr']:.2f} / {row['ssim']:.4f} | "
                     f"{row['psnr'] - row['bicubic_psnr']:+.2f} |")
    lines.append(f"| **mean** | {h['bicubic_psnr']:.2f} / {h['bicubic_ssim']:.4f} | "
                 f"{h['psnr']:.2f} / {h['ssim']:.4f} | {h['psnr'] - h['bicubic_psnr']:+.2f} |")
    lines += [
        "",
        "Benchmark sets (Set5, Set14) are scored by the evaluation command, which downloads "
        "them: `python -m course_utils evaluate --benchmark Set5 "
        f"--scale {card['scale']} --model {card['model']}`.",
        "",
        f"Limitations: trained on {card['training_images']} photos for a short "
        "CPU budget, where the papers trained on 91 images (or ImageNet) for days, so expect "
        "its benchmark scores below the published ones; Y channel only; only for bicubic "
        "(MATLAB) degradation. On LR images made another way (PIL, OpenCV, camera blur, "
        "noise, JPEG) expect lower gains.",
        "",
    ]
    return "\n".join(lines)

