"""Evaluate an upscaling method on a folder of HR images with the standard SR recipe.

For each HR image: modcrop to a multiple of the scale; make the LR image with MATLAB-style
bicubic ``imresize(HR, 1/s)`` on uint8 (or read a given LR image); upscale it with the
method; score PSNR/SSIM on Y with a border of ``s`` pixels cropped
(:func:`course_utils.metrics.sr_metrics`). Used by ``python -m course_utils evaluate``.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .checks import check_scale
from .data import list_images, load_image, to_uint8
from .degrade import imresize, modcrop, resize
from .metrics import sr_metrics

__all__ = ["UPSCALERS", "EvaluationResult", "evaluate_folder", "evaluate_images", "make_lr",
           "model_upscaler", "upscale"]

Upscaler = Callable[[np.ndarray, int], np.ndarray]


def _bicubic(lr: np.ndarray, scale: int) -> np.ndarray:
    # MATLAB upscales the uint8 LR image and returns uint8, as in the published baseline.
    return imresize(to_uint8(lr), scale)


def _interpolator(method: str) -> Upscaler:
    def upscale_with(lr: np.ndarray, scale: int) -> np.ndarray:
        return resize(lr, scale, method)

    upscale_with.__name__ = method
    return upscale_with


#: Upscaling methods by name. Later units register trained models here.
UPSCALERS: dict[str, Upscaler] = {
    "bicubic": _bicubic,
    "nearest": _interpolator("nearest"),
    "bilinear": _interpolator("bilinear"),
    "lanczos": _interpolator("lanczos"),
    "bicubic-pil": _interpolator("bicubic-pil"),
    "bicubic-torch": _interpolator("bicubic-torch"),
}


def make_lr(hr: np.ndarray, scale: int) -> np.ndarray:
    """The benchmark LR image: ``imresize(uint8(HR), 1/s)``, MATLAB-style, as uint8."""
    scale = check_scale(scale)
    return imresize(to_uint8(modcrop(hr, scale)), 1 / scale)


def upscale(lr: np.ndarray, scale: int, method: str = "bicubic") -> np.ndarray:
    """Upscale an LR image by ``scale`` with a method of :data:`UPSCALERS`."""
    if method not in UPSCALERS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(UPSCALERS)}.")
    return UPSCALERS[method](lr, check_scale(scale))


@dataclass
class EvaluationResult:
    """Per-image rows and the means, as printed by the evaluation command."""

    method: str
    scale: int
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
    scale: int,
    method: str | Upscaler = "bicubic",
    lr_dir: str | Path | None = None,
) -> EvaluationResult:
    """Score ``method`` at ``scale`` on every image of ``hr_dir``.

    Parameters
    ----------
    hr_dir : folder of HR images (PNG/JPEG/BMP/TIFF; RGB or grayscale). Other files are
        skipped with a warning.
    scale : int
    method : a key of :data:`UPSCALERS`, or a function ``(lr, scale) -> sr``
    lr_dir : optional folder of given LR images, paired with the HR images by file name
        (an ``_HR``/``_LR`` suffix is ignored). Without it, LR images are made with
        :func:`make_lr`.

    Raises
    ------
    ValueError
        Empty folder, unpaired images, or an LR image whose size times the scale is not the
        modcropped HR size.
    """
    scale = check_scale(scale)
    if scale < 2:
        raise ValueError(f"scale must be 2 or more for super-resolution, got {scale}.")
    if not callable(method) and method not in UPSCALERS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(UPSCALERS)}.")
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
    return evaluate_images(hr, scale, method, lr_images)


def evaluate_images(
    hr_images: dict[str, np.ndarray],
    scale: int,
    method: str | Upscaler = "bicubic",
    lr_images: dict[str, tuple[Path, np.ndarray]] | None = None,
) -> EvaluationResult:
    """Score ``method`` at ``scale`` on in-memory HR images, ``{name: image}``.

    ``method`` is a key of :data:`UPSCALERS` or a function ``(lr, scale) -> sr``, such as
    a trained model wrapped by :func:`model_upscaler`. ``lr_images`` optionally gives the LR
    image of each HR image, as ``{name: (path, image)}``; otherwise :func:`make_lr` makes it.
    """
    scale = check_scale(scale)
    if callable(method):
        label, upscaler = getattr(method, "__name__", "model"), method
    else:
        if method not in UPSCALERS:
            raise ValueError(f"unknown method {method!r}; choose one of {', '.join(UPSCALERS)}.")
        label, upscaler = method, UPSCALERS[method]
    result = EvaluationResult(method=label, scale=scale)
    for name, hr in hr_images.items():
        hr = modcrop(hr, scale)
        if lr_images is None:
            lr = make_lr(hr, scale)
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
        sr = upscaler(lr, scale)
        if sr.ndim != hr.ndim:
            raise ValueError(f"{name}: the method returned {sr.shape}, but HR is {hr.shape}.")
        p, s = sr_metrics(sr, hr, scale)
        result.rows.append({"image": name, "height": hr.shape[0], "width": hr.shape[1],
                            "psnr": p, "ssim": s})
    return result


def model_upscaler(model, name: str | None = None, tile: int = 128) -> Upscaler:
    """Wrap an SR model as an upscaling method ``(lr, scale) -> sr`` for the evaluation.

    The model runs on whole images, tiled (:func:`course_utils.inference.super_resolve`).
    """
    from .inference import super_resolve

    def upscale_with_model(lr: np.ndarray, scale: int) -> np.ndarray:
        return super_resolve(model, lr, scale, tile=tile)

    upscale_with_model.__name__ = name or f"{getattr(model, 'name', 'model')}-x{model.scale}"
    return upscale_with_model
