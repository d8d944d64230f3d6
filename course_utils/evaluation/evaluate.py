"""Evaluate a reconstruction method on clean images, with the scoring recipe of a task.

For each clean image: the task makes the target (8 bits; modcropped for SR) and the input
(:mod:`course_utils.tasks`: MATLAB-style bicubic ``imresize(HR, 1/s)`` for SR, noise, blur,
a mask or JPEG for restoration, seeded per image), or a given input image is read; the method
reconstructs it, timed; the task scores the result (SR: PSNR/SSIM on Y with a border of ``s``
pixels cropped; restoration: on the clipped uint8 image, no border). Used by ``python -m
course_utils evaluate``.

A *method* is given by name or as a function:

* a name of :data:`METHODS`, the functions ``(input, scale) -> output`` of unit 01 (the
  interpolators; ``"none"`` is the no-restoration baseline, the degraded input itself);
* a name of :data:`~course_utils.evaluation.classical.CLASSICAL`, the classical restoration
  methods, which are also told the degradation (kernel, mask, noise level) through the task's
  :class:`~course_utils.tasks.Observation`;
* a function ``(input, scale) -> output``, such as a trained model wrapped by
  :func:`model_method`.
"""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from torch import nn

from ..data.io import MAX_PIXELS, ImageFolder
from ..degrade import imresize, resize
from ..images import to_float, to_uint8
from ..tasks import Observation, Task, get_task
from .classical import CLASSICAL, classical_for
from .inference import NonFiniteOutput, reconstruct

__all__ = ["METHODS", "EvaluationResult", "default_method", "evaluate_folder", "evaluate_images",
           "method_names", "model_method", "resolve_method"]

#: A method as callers give it: ``(input, scale) -> output``.
Method = Callable[[np.ndarray, int], np.ndarray]
#: A method as the evaluation runs it: the task's observation in, the output image out.
Restorer = Callable[[Observation], np.ndarray]


def _bicubic(lr: np.ndarray, scale: int) -> np.ndarray:
    # MATLAB upscales the uint8 LR image and returns uint8, as in the published baseline.
    return imresize(to_uint8(lr), scale)


def _none(x: np.ndarray, scale: int) -> np.ndarray:
    if scale != 1:
        raise ValueError(f"'none' keeps the input's size, so it only scores restoration "
                         f"tasks (scale 1), not x{scale}; use 'bicubic' for super-resolution.")
    return to_float(x)


def _interpolator(method: str) -> Method:
    def upscale_with(lr: np.ndarray, scale: int) -> np.ndarray:
        return resize(lr, scale, method)

    upscale_with.__name__ = method
    return upscale_with


#: Methods ``(input, scale) -> output`` by name: the no-restoration baseline (``"none"``, the
#: degraded input itself) and the interpolators of unit 01.
METHODS: dict[str, Method] = {
    "none": _none,
    "bicubic": _bicubic,
    "nearest": _interpolator("nearest"),
    "bilinear": _interpolator("bilinear"),
    "lanczos": _interpolator("lanczos"),
    "bicubic-pil": _interpolator("bicubic-pil"),
    "bicubic-torch": _interpolator("bicubic-torch"),
}


def default_method(task: Task | str) -> str:
    """The baseline of a task's table: ``"bicubic"`` for SR, ``"none"`` (the degraded input
    itself) for restoration."""
    return "bicubic" if get_task(task).scale > 1 else "none"


def method_names(task: Task | str | None = None) -> list[str]:
    """The method names: every one, or those that serve ``task`` (the interpolators for SR;
    ``none`` and the classical methods of its kind for restoration)."""
    if task is None:
        return [*METHODS, *CLASSICAL]
    task = get_task(task)
    if task.scale > 1:
        return [m for m in METHODS if m != "none"]
    return ["none", *classical_for(task.kind)]


def _with_scale(function: Method) -> Restorer:
    def run(obs: Observation) -> np.ndarray:
        return function(obs.image, obs.scale)

    run.__name__ = getattr(function, "__name__", "model")
    return run


def resolve_method(method: str | Method, task: Task | str | None = None) -> tuple[str, Restorer]:
    """``(label, function of an Observation)`` of a method given by name (a key of
    :data:`METHODS` or of :data:`~course_utils.evaluation.classical.CLASSICAL`) or as a
    function ``(input, scale) -> output``. With ``task``, a name that does not serve it is
    refused (``wiener`` cannot denoise)."""
    if callable(method):
        return getattr(method, "__name__", "model"), _with_scale(method)
    if method not in METHODS and method not in CLASSICAL:
        raise ValueError(f"unknown method {method!r}; choose one of "
                         f"{', '.join(method_names(task))}.")
    if task is not None and method not in method_names(task):
        task = get_task(task)
        raise ValueError(f"the method {method!r} does not serve {task.name}; choose one of "
                         f"{', '.join(method_names(task))}.")
    if method in CLASSICAL:
        return method, CLASSICAL[method]
    return method, _with_scale(METHODS[method])


@dataclass
class EvaluationResult:
    """Per-image rows and the means, as printed by the evaluation command.

    Each row has the image's name, size, PSNR, SSIM and ``seconds``, the method's wall time on
    it (the degradation and the scoring are not counted). ``skipped`` lists the images that
    could not be scored (unreadable, or too small for the task), each with the reason, as the
    warnings said. ``seed`` seeded the noise and masks (image ``i``: ``(seed, i)``).
    """

    method: str
    task: str
    rows: list[dict] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    seed: int = 0

    @property
    def mean_psnr(self) -> float:
        return float(np.mean([r["psnr"] for r in self.rows]))

    @property
    def mean_ssim(self) -> float:
        return float(np.mean([r["ssim"] for r in self.rows]))

    @property
    def mean_seconds(self) -> float:
        """The method's mean time per image, in seconds."""
        return float(np.mean([r["seconds"] for r in self.rows]))

    def to_dict(self) -> dict:
        """The result as JSON-ready values; an infinite PSNR (output identical to the target)
        becomes ``None`` (JSON ``null``), because JSON has no infinity."""
        def finite(value):
            return value if not isinstance(value, float) or np.isfinite(value) else None

        data = {**asdict(self), "mean_psnr": self.mean_psnr, "mean_ssim": self.mean_ssim,
                "mean_seconds": self.mean_seconds}
        data["rows"] = [{k: finite(v) for k, v in row.items()} for row in data["rows"]]
        return {k: finite(v) for k, v in data.items()}

    def table(self) -> str:
        """A plain-text table: one row per image, then the mean."""
        lines = [f"{'image':<28} {'HxW':>11} {'PSNR (dB)':>10} {'SSIM':>7} {'time (s)':>9}"]
        for r in self.rows:
            size = f"{r['height']}x{r['width']}"
            lines.append(f"{r['image']:<28} {size:>11} {r['psnr']:>10.2f} {r['ssim']:>7.4f} "
                         f"{r['seconds']:>9.3f}")
        lines.append(f"{'mean':<28} {'':>11} {self.mean_psnr:>10.2f} {self.mean_ssim:>7.4f} "
                     f"{self.mean_seconds:>9.3f}")
        if self.skipped:
            lines.append(f"skipped {len(self.skipped)} of "
                         f"{len(self.skipped) + len(self.rows)} images: "
                         + ", ".join(s["image"] for s in self.skipped) + " (see the warnings)")
        return "\n".join(lines)


def _pair_key(name: str) -> str:
    # img_001_SRF_3_HR.png and img_001_SRF_3_LR.png pair up: drop extension and HR/LR tag.
    stem = Path(name).stem.lower()
    return re.sub(r"[_\-.]?(hr|lr)$", "", stem)


def evaluate_folder(
    hr_dir: str | Path,
    task: Task | str,
    method: str | Method | None = None,
    lr_dir: str | Path | None = None,
    max_pixels: int = MAX_PIXELS,
    seed: int = 0,
) -> EvaluationResult:
    """Score ``method`` on the task ``task`` for every image of ``hr_dir``.

    The images are read one at a time (:class:`~course_utils.data.io.ImageFolder`), so the
    memory used is that of the largest image, not of the folder.

    Parameters
    ----------
    hr_dir : folder of clean (HR) images (PNG/JPEG/BMP/TIFF; RGB or grayscale). Other files,
        unreadable images and images too small for the task are skipped with a warning.
    task : a :mod:`course_utils.tasks` task or its spec (``"sr-x3"``, ``"denoise-25"`` ...)
    method : a method name (:func:`method_names`), or a function ``(input, scale) ->
        output``; default the task's baseline (:func:`default_method`)
    lr_dir : optional folder of given input (LR) images, paired with the HR images by file
        name (an ``_HR``/``_LR`` suffix is ignored). Without it, the task makes them.
    max_pixels : images with more pixels are refused before they are decoded
        (:data:`~course_utils.data.io.MAX_PIXELS`).
    seed : seeds the noise and masks: image ``i`` (in file-name order) is degraded with a
        generator seeded ``(seed, i)``, so a run is reproducible.

    Raises
    ------
    ValueError
        Empty folder, unpaired images, an input image whose size times the scale is not
        the target's size, or no image that could be scored.
    """
    task = get_task(task)
    method = method or default_method(task)
    resolve_method(method, task)  # an unknown name fails before any image is read
    # The stored 8-bit integers, not float64: the same scores from 1/8 of the memory.
    hr = ImageFolder(hr_dir, "HR", max_pixels=max_pixels, as_float=False)
    lr = None
    if lr_dir is not None:
        lr_names = {_pair_key(n): n for n in ImageFolder(lr_dir, "LR")}
        missing = [n for n in hr if _pair_key(n) not in lr_names]
        if missing:
            raise ValueError(f"no LR image in {lr_dir} for the HR images {missing}; LR files "
                             "must have the same names (an _HR/_LR suffix may differ).")
        lr = ImageFolder(lr_dir, "LR", names={n: lr_names[_pair_key(n)] for n in hr},
                         max_pixels=max_pixels, as_float=False)
    return evaluate_images(hr, task, method, lr, seed=seed)


def evaluate_images(
    hr_images: Mapping[str, np.ndarray],
    task: Task | str,
    method: str | Method | None = None,
    lr_images: Mapping[str, np.ndarray] | None = None,
    seed: int = 0,
) -> EvaluationResult:
    """Score ``method`` on the task ``task`` for clean images, ``{name: image}``.

    ``method`` is a method name (:func:`method_names`: the interpolators, ``"none"``, the
    classical restoration methods) or a function ``(input, scale) -> output``, such as a
    trained model wrapped by :func:`model_method` (default: :func:`default_method`).
    ``lr_images`` optionally gives the input of each image under the same names; otherwise
    the task makes it (image ``i`` degraded with a generator seeded ``(seed, i)``, as
    :func:`course_utils.data.pairs.validation_pairs` does). Each image is looked up only when
    it is scored, so an :class:`~course_utils.data.io.ImageFolder` is read one image at a time.

    An image that cannot be read (``ValueError`` on look-up), is smaller than the task can
    score (:attr:`~course_utils.tasks.Task.min_side`) or than its degradation (a mask's
    block) is skipped with a warning and listed in ``result.skipped``.

    Raises
    ------
    ValueError
        The method returned NaN or inf values, or an output of the wrong shape; a given input
        of the wrong size; every image was skipped.
    """
    task = get_task(task)
    label, run = resolve_method(method or default_method(task), task)
    scale = task.scale
    result = EvaluationResult(method=label, task=task.name, seed=seed)

    def skip(name: str, reason: str) -> None:
        warnings.warn(f"skipping {name}: {reason}", stacklevel=3)
        result.skipped.append({"image": name, "reason": reason})

    for i, name in enumerate(hr_images):
        try:
            clean = hr_images[name]
        except ValueError as err:  # an unreadable file of a folder, read only now
            skip(name, str(err))
            continue
        hr = task.target(clean)
        if min(hr.shape[:2]) < task.min_side:
            skip(name, f"it is {hr.shape[1]}x{hr.shape[0]} pixels (WxH, after modcrop), and "
                       f"{task.name} scores images of at least {task.min_side}x{task.min_side} "
                       "(SSIM's 11-pixel window after the border crop); use larger images")
            continue
        if lr_images is None:
            try:
                observation = task.observe(hr, np.random.default_rng((seed, i)))
            except ValueError as err:  # e.g. a mask's block larger than the image
                skip(name, str(err))
                continue
        else:
            lr = lr_images[name]
            if lr.ndim != hr.ndim and lr.ndim == 3 and np.ptp(lr, axis=2).max() == 0:
                lr = lr[..., 0]  # an RGB file holding a gray image
            expected = (hr.shape[0] // scale, hr.shape[1] // scale)
            if lr.shape[:2] != expected:
                given = (lr_images.paths[name].name if isinstance(lr_images, ImageFolder)
                         else f"the input image of {name}")
                raise ValueError(
                    f"{given} is {lr.shape[1]}x{lr.shape[0]} (WxH), but "
                    f"{name} at x{scale} needs {expected[1]}x{expected[0]} (modcropped HR / "
                    "scale)."
                )
            observation = task.given(lr)
        diverged = (f"{name}: {label} returned NaN or inf values, which have no score (a "
                    "diverged model?). Check the model's weights, or retrain it with a lower "
                    "learning rate.")
        start = time.perf_counter()
        try:
            sr = run(observation)
        except NonFiniteOutput:  # model_method's 8-bit output: the model gave NaN or inf
            raise ValueError(diverged) from None
        if sr.ndim != hr.ndim:
            raise ValueError(f"{name}: the method returned {sr.shape}, but HR is {hr.shape}.")
        # (an integer image cannot hold NaN: no need for a full-size boolean array)
        if sr.dtype.kind == "f" and not np.isfinite(sr).all():
            raise ValueError(diverged)
        seconds = time.perf_counter() - start
        result.rows.append({"image": name, "height": hr.shape[0], "width": hr.shape[1],
                            **task.score(sr, hr), "seconds": seconds})
    if result.skipped and not result.rows:
        raise ValueError(f"none of the {len(result.skipped)} images could be scored: "
                         + "; ".join(f"{s['image']}: {s['reason']}" for s in result.skipped))
    return result


def model_method(model: nn.Module, name: str | None = None, tile: int | None = None) -> Method:
    """Wrap a reconstruction model as a method ``(input, scale) -> output`` for the evaluation.

    The model runs on whole images, tiled (:func:`course_utils.evaluation.inference.reconstruct`),
    and returns its 8-bit output (``uint8=True``): exactly what the scores quantise the float
    output to, from 1/8 of the memory. ``tile`` defaults to 128 input pixels for SR and 512
    for restoration: a restoration model keeps the image's size, so 512-pixel tiles hold
    the same memory as 128-pixel LR tiles at x4, and the overlap that tiles recompute (the
    model's receptive radius) costs less on larger tiles.
    """
    if tile is None:
        tile = 128 if model.scale > 1 else 512

    def run_model(x: np.ndarray, scale: int) -> np.ndarray:
        return reconstruct(model, x, scale, tile=tile, uint8=True)

    config = getattr(model, "config", {})
    run_model.__name__ = name or f"{config.get('name', 'model')}-x{model.scale}"
    return run_model
