"""Evaluate a reconstruction method on clean images, with the scoring recipe of a task.

For each clean image: the task makes the target (8 bits; modcropped for SR) and the input
(:mod:`course_utils.tasks`: MATLAB-style bicubic ``imresize(HR, 1/s)`` for SR, noise, blur,
a mask or JPEG for restoration), or a given input image is read; the method reconstructs it;
the task scores the result (SR: PSNR/SSIM on Y with a border of ``s`` pixels cropped;
restoration: on the uint8 image, no border). Used by ``python -m course_utils evaluate``.

A *method* is a function ``(input, scale) -> output``: an interpolation of :data:`METHODS`
(``"identity"`` is the no-restoration baseline: the degraded input itself), or a trained
model wrapped by :func:`model_method`.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from torch import nn

from ..data.io import list_images, load_image
from ..degrade import imresize, resize
from ..images import to_float, to_uint8
from ..tasks import Task, get_task
from .inference import reconstruct

__all__ = ["METHODS", "EvaluationResult", "default_method", "evaluate_folder", "evaluate_images",
           "model_method", "resolve_method"]

Method = Callable[[np.ndarray, int], np.ndarray]


def _bicubic(lr: np.ndarray, scale: int) -> np.ndarray:
    # MATLAB upscales the uint8 LR image and returns uint8, as in the published baseline.
    return imresize(to_uint8(lr), scale)


def _identity(x: np.ndarray, scale: int) -> np.ndarray:
    if scale != 1:
        raise ValueError(f"'identity' keeps the input's size, so it only scores restoration "
                         f"tasks (scale 1), not x{scale}; use 'bicubic' for super-resolution.")
    return to_float(x)


def _interpolator(method: str) -> Method:
    def upscale_with(lr: np.ndarray, scale: int) -> np.ndarray:
        return resize(lr, scale, method)

    upscale_with.__name__ = method
    return upscale_with


#: Methods by name: the no-restoration baseline and the interpolators of unit 01.
METHODS: dict[str, Method] = {
    "identity": _identity,
    "bicubic": _bicubic,
    "nearest": _interpolator("nearest"),
    "bilinear": _interpolator("bilinear"),
    "lanczos": _interpolator("lanczos"),
    "bicubic-pil": _interpolator("bicubic-pil"),
    "bicubic-torch": _interpolator("bicubic-torch"),
}


def default_method(task: Task | str) -> str:
    """The baseline of a task's table: ``"bicubic"`` for SR, ``"identity"`` (the degraded
    input itself) for restoration."""
    return "bicubic" if get_task(task).scale > 1 else "identity"


def resolve_method(method: str | Method) -> tuple[str, Method]:
    """``(label, function)`` of a method given by name (a key of :data:`METHODS`) or as a
    function ``(input, scale) -> output``."""
    if callable(method):
        return getattr(method, "__name__", "model"), method
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}.")
    return method, METHODS[method]


@dataclass
class EvaluationResult:
    """Per-image rows and the means, as printed by the evaluation command."""

    method: str
    task: str
    rows: list[dict] = field(default_factory=list)

    @property
    def mean_psnr(self) -> float:
        return float(np.mean([r["psnr"] for r in self.rows]))

    @property
    def mean_ssim(self) -> float:
        return float(np.mean([r["ssim"] for r in self.rows]))

    def to_dict(self) -> dict:
        return {**asdict(self), "mean_psnr": self.mean_psnr, "mean_ssim": self.mean_ssim}

    def table(self) -> str:
        """A plain-text table: one row per image, then the mean."""
        lines = [f"{'image':<28} {'HxW':>11} {'PSNR (dB)':>10} {'SSIM':>7}"]
        for r in self.rows:
            size = f"{r['height']}x{r['width']}"
            lines.append(f"{r['image']:<28} {size:>11} {r['psnr']:>10.2f} {r['ssim']:>7.4f}")
        lines.append(f"{'mean':<28} {'':>11} {self.mean_psnr:>10.2f} {self.mean_ssim:>7.4f}")
        return "\n".join(lines)


def _read_folder(folder: Path, role: str) -> dict[str, tuple[Path, np.ndarray]]:
    paths, others = list_images(folder)
    for p in others:
        warnings.warn(f"skipping {p.name} in the {role} folder: not an image file", stacklevel=3)
    images = {}
    for p in paths:
        try:
            images[p.name] = (p, load_image(p, alpha="drop"))
        except ValueError as err:
            warnings.warn(f"skipping {p.name} in the {role} folder: {err}", stacklevel=3)
    if not images:
        raise ValueError(f"the {role} folder {folder} holds no readable images "
                         "(PNG, JPEG, BMP or TIFF).")
    return images


def _pair_key(name: str) -> str:
    # img_001_SRF_3_HR.png and img_001_SRF_3_LR.png pair up: drop extension and HR/LR tag.
    stem = Path(name).stem.lower()
    return re.sub(r"[_\-.]?(hr|lr)$", "", stem)


def evaluate_folder(
    hr_dir: str | Path,
    task: Task | str,
    method: str | Method | None = None,
    lr_dir: str | Path | None = None,
) -> EvaluationResult:
    """Score ``method`` on the task ``task`` for every image of ``hr_dir``.

    Parameters
    ----------
    hr_dir : folder of clean (HR) images (PNG/JPEG/BMP/TIFF; RGB or grayscale). Other files
        are skipped with a warning.
    task : a :mod:`course_utils.tasks` task or its spec (``"sr-x3"``, ``"denoise-25"`` ...)
    method : a key of :data:`METHODS`, or a function ``(input, scale) -> output``; default
        the task's baseline (:func:`default_method`)
    lr_dir : optional folder of given input (LR) images, paired with the HR images by file
        name (an ``_HR``/``_LR`` suffix is ignored). Without it, the task makes them.

    Raises
    ------
    ValueError
        Empty folder, unpaired images, or an input image whose size times the scale is not
        the target's size.
    """
    task = get_task(task)
    method = method or default_method(task)
    resolve_method(method)  # an unknown name fails before any image is read
    hr_images = _read_folder(Path(hr_dir), "HR")
    lr_images = None
    if lr_dir is not None:
        lr_by_key = {_pair_key(n): v for n, v in _read_folder(Path(lr_dir), "LR").items()}
        missing = [n for n in hr_images if _pair_key(n) not in lr_by_key]
        if missing:
            raise ValueError(f"no LR image in {lr_dir} for the HR images {missing}; LR files "
                             "must have the same names (an _HR/_LR suffix may differ).")
        lr_images = {n: lr_by_key[_pair_key(n)] for n in hr_images}

    hr = {name: image for name, (_, image) in hr_images.items()}
    return evaluate_images(hr, task, method, lr_images)


def evaluate_images(
    hr_images: Mapping[str, np.ndarray],
    task: Task | str,
    method: str | Method | None = None,
    lr_images: Mapping[str, tuple[Path, np.ndarray]] | None = None,
    seed: int = 0,
) -> EvaluationResult:
    """Score ``method`` on the task ``task`` for in-memory clean images, ``{name: image}``.

    ``method`` is a key of :data:`METHODS` or a function ``(input, scale) -> output``, such
    as a trained model wrapped by :func:`model_method` (default: :func:`default_method`).
    ``lr_images`` optionally gives the input of each image, as ``{name: (path, image)}``;
    otherwise the task makes it (image ``i`` degraded with a generator seeded ``(seed, i)``,
    as :func:`course_utils.data.pairs.validation_pairs` does).
    """
    task = get_task(task)
    label, run = resolve_method(method or default_method(task))
    scale = task.scale
    result = EvaluationResult(method=label, task=task.name)
    for i, (name, clean) in enumerate(hr_images.items()):
        hr = task.target(clean)
        if lr_images is None:
            lr = task.degrade(hr, np.random.default_rng((seed, i)))
        else:
            lr_path, lr = lr_images[name]
            if lr.ndim != hr.ndim and lr.ndim == 3 and np.ptp(lr, axis=2).max() == 0:
                lr = lr[..., 0]  # an RGB file holding a gray image
            expected = (hr.shape[0] // scale, hr.shape[1] // scale)
            if lr.shape[:2] != expected:
                raise ValueError(
                    f"{lr_path.name} is {lr.shape[1]}x{lr.shape[0]} (WxH) but {name} at x{scale} "
                    f"needs {expected[1]}x{expected[0]} (modcropped HR / scale)."
                )
        sr = run(lr, scale)
        if sr.ndim != hr.ndim:
            raise ValueError(f"{name}: the method returned {sr.shape}, but HR is {hr.shape}.")
        result.rows.append({"image": name, "height": hr.shape[0], "width": hr.shape[1],
                            **task.score(sr, hr)})
    return result


def model_method(model: nn.Module, name: str | None = None, tile: int = 128) -> Method:
    """Wrap a reconstruction model as a method ``(input, scale) -> output`` for the evaluation.

    The model runs on whole images, tiled (:func:`course_utils.evaluation.inference.reconstruct`).
    """
    def run_model(x: np.ndarray, scale: int) -> np.ndarray:
        return reconstruct(model, x, scale, tile=tile)

    config = getattr(model, "config", {})
    run_model.__name__ = name or f"{config.get('name', 'model')}-x{model.scale}"
    return run_model
