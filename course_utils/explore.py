"""Plain functions behind the notebooks' interactive explorers and demonstrations.

Each widget in the course is a thin ``ipywidgets`` layer over a function here, so the tests
call exactly what a student moves the sliders of.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .checks import check_image, check_scale
from .compression.codecs import get_codec
from .compression.measure import LearnedCodec, code_image, quality_for_bpp
from .degrade import (
    JPEG,
    Blur,
    Noise,
    Pipeline,
    add_gaussian_noise,
    gaussian_blur,
    jpeg_compress,
    make_lr,
    modcrop,
    resize,
)
from .evaluation.evaluate import METHODS, Method, resolve_method
from .evaluation.inference import reconstruct
from .images import to_float, to_uint8, y_channel
from .metrics import mse, psnr, sr_metrics, ssim
from .tasks import Task, get_task
from .viz import compare

__all__ = [
    "CLASSICAL_CHOICE",
    "CODEC_LEVELS",
    "DISTORTIONS",
    "LR_MAKERS",
    "RESTORATION_LEVELS",
    "codec_compare",
    "codec_explorer_figure",
    "degrade_and_upscale",
    "distort",
    "distortion_metrics",
    "match_mse",
    "restoration_explorer_figure",
    "restoration_figure",
    "restore_compare",
    "sr_comparison_figure",
    "super_resolve_compare",
]


def degrade_and_upscale(
    hr: np.ndarray,
    scale: int,
    method: str = "bicubic",
    blur_sigma: float = 0.0,
    noise_sigma: float = 0.0,
    jpeg_quality: int | None = None,
    seed: int = 0,
) -> dict:
    """Degrade an HR image, upscale it back with ``method``, and score the result.

    The degradation is blur -> bicubic downsampling by ``scale`` -> noise -> JPEG (each step
    skipped at strength 0 / ``None``); the upscaling uses :func:`course_utils.degrade.resize`.

    Returns
    -------
    dict with ``"hr"`` (modcropped), ``"lr"``, ``"sr"`` (float images), ``"psnr"``, ``"ssim"``
    (standard SR recipe on Y with the border cropped).
    """
    scale = check_scale(scale)
    hr = to_float(modcrop(check_image(hr, "hr"), scale))
    steps = [Blur(blur_sigma)] if blur_sigma > 0 else []
    lr = Pipeline(steps, seed=seed)(hr) if steps else hr
    lr = resize(lr, 1 / scale, "bicubic")
    steps = ([Noise(noise_sigma)] if noise_sigma > 0 else []) + (
        [JPEG(jpeg_quality)] if jpeg_quality is not None else []
    )
    lr = np.clip(Pipeline(steps, seed=seed)(lr) if steps else lr, 0.0, 1.0)
    sr = np.clip(resize(lr, scale, method), 0.0, 1.0)
    p, s = sr_metrics(sr, hr, scale)
    return {"hr": hr, "lr": lr, "sr": sr, "psnr": p, "ssim": s}


#: Distortions of the "equal MSE, different SSIM" demonstration; strength is in their units.
DISTORTIONS = {
    "mean shift": "added constant (fraction of full range)",
    "contrast stretch": "fractional change of contrast around the mean",
    "blur": "Gaussian sigma (pixels)",
    "noise": "Gaussian noise sigma (fraction of full range)",
    "jpeg": "100 - JPEG quality",
}


def distort(image: np.ndarray, kind: str, strength: float, seed: int = 0) -> np.ndarray:
    """Apply one distortion of :data:`DISTORTIONS` at ``strength``; float in [0, 1] out.

    ``"mean shift"`` adds ``strength``; ``"contrast stretch"`` scales deviations from the
    image mean by ``1 + strength``; ``"blur"`` uses :func:`gaussian_blur`; ``"noise"``
    :func:`add_gaussian_noise` (seeded); ``"jpeg"`` :func:`jpeg_compress` at quality
    ``100 - strength``. Results are clipped to [0, 1].
    """
    image = to_float(image)
    if kind not in DISTORTIONS:
        raise ValueError(f"unknown distortion {kind!r}; choose one of {', '.join(DISTORTIONS)}.")
    if kind == "mean shift":
        out = image + strength
    elif kind == "contrast stretch":
        out = image.mean() + (1 + strength) * (image - image.mean())
    elif kind == "blur":
        out = gaussian_blur(image, strength)
    elif kind == "noise":
        out = add_gaussian_noise(image, strength, rng=seed)
    else:
        quality = int(round(100 - strength))
        out = jpeg_compress(image, min(max(quality, 1), 95))
    return np.clip(out, 0.0, 1.0)


def distortion_metrics(image: np.ndarray, kind: str, strength: float, seed: int = 0) -> dict:
    """Distort ``image`` and return the distorted image with its MSE, PSNR and SSIM.

    Metrics are on the [0, 1] scale (PSNR with peak 1) and SSIM on Y (``data_range=255``)
    for RGB images, on the image itself for grayscale ones.
    """
    reference = to_float(image)
    distorted = distort(reference, kind, strength, seed)
    if reference.ndim == 3:
        s = ssim(y_channel(reference), y_channel(distorted), data_range=255.0)
    else:
        s = ssim(reference, distorted, data_range=1.0)
    return {
        "image": distorted,
        "mse": mse(reference, distorted),
        "psnr": psnr(reference, distorted, data_range=1.0),
        "ssim": s,
    }


_SEARCH_RANGE = {
    "mean shift": (0.0, 0.5),
    "contrast stretch": (0.0, 2.0),
    "blur": (0.0, 10.0),
    "noise": (0.0, 0.5),
    "jpeg": (0.0, 99.0),
}


def match_mse(
    image: np.ndarray, kind: str, target_mse: float, seed: int = 0, iterations: int = 40
) -> tuple[float, float]:
    """Find the strength of a distortion whose MSE is closest to ``target_mse``.

    Bisection on the strength: MSE grows monotonically with every continuous distortion
    here. JPEG quality is an integer, so its MSE can only be matched to the nearest step.

    Returns
    -------
    (strength, achieved_mse)
    """
    if target_mse <= 0:
        raise ValueError(f"target_mse must be positive, got {target_mse}.")
    lo, hi = _SEARCH_RANGE[kind] if kind in _SEARCH_RANGE else (None, None)
    if lo is None:
        raise ValueError(f"unknown distortion {kind!r}; choose one of {', '.join(DISTORTIONS)}.")
    reference = to_float(image)

    def error(strength: float) -> float:
        return mse(reference, distort(reference, kind, strength, seed))

    if error(hi) < target_mse:
        raise ValueError(f"{kind} cannot reach an MSE of {target_mse:g} on this image "
                         f"(at most {error(hi):g}); choose a smaller target.")
    if kind == "jpeg":
        candidates = np.arange(int(lo), int(hi) + 1)
        errors = np.array([error(float(c)) for c in candidates])
        best = int(np.argmin(np.abs(errors - target_mse)))
        return float(candidates[best]), float(errors[best])
    for _ in range(iterations):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if error(mid) < target_mse else (lo, mid)
    strength = (lo + hi) / 2
    return strength, error(strength)


#: How an LR image can be made from the HR image in :func:`super_resolve_compare`.
LR_MAKERS = {
    "MATLAB bicubic (as in training)": "bicubic",
    "PIL bicubic": "bicubic-pil",
    "torch bicubic (antialias)": "bicubic-torch",
    "bicubic without antialiasing (OpenCV-like)": "no-antialias",
}


def _shrink_without_antialias(hr: np.ndarray, scale: int) -> np.ndarray:
    # What OpenCV's INTER_CUBIC and torch's default interpolate do when shrinking: the cubic
    # kernel is not widened, so fine detail aliases instead of being filtered out.
    x = torch.from_numpy(np.ascontiguousarray(np.atleast_3d(hr).transpose(2, 0, 1)))[None]
    y = F.interpolate(x, scale_factor=1 / scale, mode="bicubic", align_corners=False,
                      antialias=False)
    out = y[0].numpy().transpose(1, 2, 0)
    return out[..., 0] if hr.ndim == 2 else out


def super_resolve_compare(hr: np.ndarray, model: nn.Module, lr_maker: str = "bicubic") -> dict:
    """Make an LR image from ``hr``, enlarge it with bicubic and with ``model``, and score both.

    Parameters
    ----------
    hr : the ground-truth image (modcropped to the model's scale here)
    model : an SR model of :mod:`course_utils.models` (it carries its ``scale``)
    lr_maker : a value of :data:`LR_MAKERS`: the resize that makes the LR image. The
        course's models were trained on MATLAB-style bicubic LR only.

    Returns
    -------
    dict with ``"hr"``, ``"lr"``, ``"bicubic"``, ``"model"`` (float images) and
    ``"psnr"``/``"ssim"`` dicts keyed by ``"bicubic"`` and ``"model"`` (standard SR recipe).
    """
    scale = model.scale
    if lr_maker not in LR_MAKERS.values():
        raise ValueError(f"lr_maker must be one of {sorted(LR_MAKERS.values())}, "
                         f"got {lr_maker!r}.")
    hr = to_float(modcrop(check_image(hr, "hr"), scale))
    if lr_maker == "bicubic":
        lr = make_lr(hr, scale)
    elif lr_maker == "no-antialias":
        lr = to_uint8(_shrink_without_antialias(hr, scale))
    else:
        lr = to_uint8(resize(hr, 1 / scale, lr_maker))
    bicubic = to_float(METHODS["bicubic"](lr, scale))  # the published baseline
    sr = reconstruct(model, lr, scale)
    scores = {name: sr_metrics(image, hr, scale) for name, image in
              (("bicubic", bicubic), ("model", sr))}
    return {"hr": hr, "lr": to_float(lr), "bicubic": bicubic, "model": sr,
            "psnr": {k: v[0] for k, v in scores.items()},
            "ssim": {k: v[1] for k, v in scores.items()}}


def sr_comparison_figure(hr: np.ndarray, model: nn.Module, lr_maker: str = "bicubic",
                         label: str = "model", zoom: tuple[int, int, int, int] | None = None,
                         title: str | None = None):
    """Bicubic, ``model`` and the ground truth side by side, each captioned with its PSNR /
    SSIM (:func:`super_resolve_compare`), zoomed on ``zoom`` (default: a centred square of a
    quarter of the image's side); returns the figure. What the notebooks' explorers draw."""
    out = super_resolve_compare(hr, model, lr_maker)
    h, w = out["hr"].shape[:2]
    side = min(h, w) // 4
    zoom = zoom or ((h - side) // 2, (w - side) // 2, side, side)
    captions = {"bicubic": f"{out['psnr']['bicubic']:.2f} dB / {out['ssim']['bicubic']:.4f}",
                label: f"{out['psnr']['model']:.2f} dB / {out['ssim']['model']:.4f}"}
    return compare({"bicubic": out["bicubic"], label: out["model"], "ground truth": out["hr"]},
                   zoom=zoom, captions=captions, title=title)


#: The restoration explorer's tasks: for each kind, a weak, a medium and a strong one (gray).
RESTORATION_LEVELS = {
    "denoise": ("denoise-15-gray", "denoise-25-gray", "denoise-50-gray"),
    "deblur": ("deblur-gaussian:1,0.01-gray", "deblur-gaussian:1.6,0.01-gray",
               "deblur-gaussian:2.5,0.01-gray"),
    "inpaint": ("inpaint-random:0.3-gray", "inpaint-random:0.5-gray",
                "inpaint-random:0.7-gray"),
    "jpeg": ("jpeg-30-gray", "jpeg-20-gray", "jpeg-10-gray"),
}

#: The classical method the explorer shows for each kind (JPEG artefacts have none here).
CLASSICAL_CHOICE = {"denoise": "nlm", "deblur": "richardson-lucy", "inpaint": "biharmonic"}


def restore_compare(clean: np.ndarray, task: Task | str, method: str | Method,
                    seed: int = 0) -> dict:
    """Degrade ``clean`` with ``task``, restore it with ``method`` and score both, exactly as
    :func:`course_utils.evaluation.evaluate.evaluate_images` does for its first image.

    Parameters
    ----------
    clean : the clean image (made gray by a ``-gray`` task)
    task : a restoration task or its spec (``"denoise-25-gray"``)
    method : a method name that serves the task (``"none"``, ``"nlm"`` ...) or a function
        ``(input, scale) -> output``, e.g. a model wrapped by
        :func:`~course_utils.evaluation.evaluate.model_method`
    seed : the degradation is drawn with a generator seeded ``(seed, 0)``

    Returns
    -------
    dict with ``"clean"``, ``"degraded"`` (clipped to [0, 1], as scored) and ``"restored"``
    float images, ``"label"`` (the method's name), and ``"psnr"`` / ``"ssim"`` dicts keyed by
    ``"degraded"`` and ``"restored"`` (the task's recipe, :meth:`~course_utils.tasks.Task.score`).
    """
    task = get_task(task)
    if task.scale != 1:
        raise ValueError(f"{task.name} is super-resolution; use super_resolve_compare.")
    label, run = resolve_method(method, task)
    target = task.target(check_image(clean, "clean"))
    observation = task.observe(target, np.random.default_rng((seed, 0)))
    degraded = resolve_method("none", task)[1](observation)
    restored = to_float(run(observation))
    scores = {"degraded": task.score(degraded, target), "restored": task.score(restored, target)}
    return {"clean": to_float(target), "degraded": np.clip(to_float(degraded), 0, 1),
            "restored": np.clip(restored, 0, 1), "label": label,
            "psnr": {k: v["psnr"] for k, v in scores.items()},
            "ssim": {k: v["ssim"] for k, v in scores.items()}}


def restoration_figure(clean: np.ndarray, task: Task | str, method: str | Method,
                       label: str | None = None, zoom: tuple[int, int, int, int] | None = None,
                       title: str | None = None, seed: int = 0):
    """The degraded image, its restoration by ``method`` and the clean image side by side,
    captioned with PSNR / SSIM (:func:`restore_compare`) and zoomed on ``zoom`` (default: a
    centred square of a quarter of the image's side); returns the figure."""
    out = restore_compare(clean, task, method, seed)
    h, w = out["clean"].shape[:2]
    side = min(h, w) // 4
    zoom = zoom or ((h - side) // 2, (w - side) // 2, side, side)
    label = label or out["label"]
    captions = {k: f"{out['psnr'][key]:.2f} dB / {out['ssim'][key]:.4f}"
                for k, key in (("degraded", "degraded"), (label, "restored"))}
    return compare({"degraded": out["degraded"], label: out["restored"], "clean": out["clean"]},
                   zoom=zoom, captions=captions, title=title or get_task(task).name)


def restoration_explorer_figure(clean: np.ndarray, kind: str, strength: int, method: str,
                                learned: dict[str, Method]) -> object:
    """What unit 06's explorer draws: ``kind`` at ``strength`` (1 weak to 3 strong,
    :data:`RESTORATION_LEVELS`) restored by ``method``: ``"none"``, ``"classical"``
    (:data:`CLASSICAL_CHOICE`; for JPEG, which has none, the JPEG image itself, labelled so)
    or ``"learned"`` (``learned[kind]``, a method ``(input, scale) -> output``)."""
    if kind not in RESTORATION_LEVELS:
        raise ValueError(f"kind must be one of {sorted(RESTORATION_LEVELS)}, got {kind!r}.")
    if strength not in (1, 2, 3):
        raise ValueError(f"strength must be 1 (weak), 2 or 3 (strong), got {strength!r}.")
    task = RESTORATION_LEVELS[kind][strength - 1]
    if method == "none":
        return restoration_figure(clean, task, "none", "none (the input)")
    if method == "classical":
        if kind not in CLASSICAL_CHOICE:
            return restoration_figure(clean, task, "none", "no classical method: the input")
        return restoration_figure(clean, task, CLASSICAL_CHOICE[kind])
    if method == "learned":
        if kind not in learned:
            raise ValueError(f"no learned model for {kind}; learned has {sorted(learned)}.")
        return restoration_figure(clean, task, learned[kind],
                                  getattr(learned[kind], "__name__", "learned"))
    raise ValueError(f"method must be 'none', 'classical' or 'learned', got {method!r}.")


#: The qualities of unit 07's explorer, rate level 1 (fewest bits) to 4, per standard codec:
#: about the rates of the shipped learned codecs (0.2-1 bpp on the held-out photos).
#: JPEG 2000's quality is its target PSNR in dB.
CODEC_LEVELS = {"jpeg": (8, 20, 40, 70), "jpeg444": (8, 20, 40, 70), "webp": (5, 20, 45, 75),
                "jpeg2000": (26, 29, 32, 35), "avif": (20, 35, 50, 65)}


def codec_compare(image: np.ndarray, codec: str, level: int,
                  learned: list[LearnedCodec]) -> dict:
    """Code ``image`` with ``codec`` at rate ``level`` (1 fewest bits to 4), and with JPEG
    (4:2:0) at the highest quality whose file is no larger: unit 07's comparison at equal
    rate, on real files.

    Parameters
    ----------
    image : an RGB image
    codec : a standard codec of :data:`CODEC_LEVELS`, or ``"learned"``
    level : 1 to 4: the codec's quality :data:`CODEC_LEVELS` ``[codec][level - 1]``, or the
        ``level``-th of ``learned`` (the shipped codecs, lowest rate first)
    learned : the learned codecs (:func:`course_utils.zoo.load_codec`), lowest rate first

    Returns
    -------
    dict with ``"original"`` (uint8 RGB), ``"decoded"`` and ``"jpeg"`` (the decoded images),
    ``"label"``, and ``"row"`` / ``"jpeg_row"`` (:func:`~course_utils.compression.measure.
    code_image`: bytes, bpp, PSNR, SSIM, times).
    """
    if level not in (1, 2, 3, 4):
        raise ValueError(f"level must be 1 (fewest bits) to 4, got {level!r}.")
    if codec == "learned":
        if len(learned) < level:
            raise ValueError(f"level {level} needs {level} learned codecs; got {len(learned)}.")
        chosen, quality, label = learned[level - 1], None, learned[level - 1].name
    elif codec in CODEC_LEVELS:
        quality = CODEC_LEVELS[codec][level - 1]
        chosen, label = get_codec(codec), f"{codec} (quality {quality})"
    else:
        raise ValueError(f"codec must be 'learned' or one of {sorted(CODEC_LEVELS)}, got "
                         f"{codec!r}.")
    row, _, decoded = code_image(chosen, image, quality)
    original = to_uint8(check_image(image, "image"))
    jpeg = get_codec("jpeg")
    jpeg_quality = quality_for_bpp(jpeg, original, row["bpp"])
    jpeg_row, _, jpeg_decoded = code_image(jpeg, original, jpeg_quality)
    return {"original": original, "decoded": decoded, "jpeg": jpeg_decoded, "label": label,
            "row": row, "jpeg_row": jpeg_row}


def codec_explorer_figure(image: np.ndarray, codec: str, level: int,
                          learned: list[LearnedCodec]) -> object:
    """What unit 07's explorer draws: :func:`codec_compare`'s decoded image beside JPEG at
    the same rate and the original, each captioned with its bpp and PSNR / SSIM, zoomed on a
    centred square of a quarter of the image's side; returns the figure."""
    out = codec_compare(image, codec, level, learned)
    h, w = out["original"].shape[:2]
    side = min(h, w) // 4
    jpeg_label = f"JPEG at the same rate (quality {out['jpeg_row']['quality']})"
    captions = {label: f"{r['bpp']:.3f} bpp, {r['psnr']:.2f} dB / {r['ssim']:.4f}"
                for label, r in ((out["label"], out["row"]), (jpeg_label, out["jpeg_row"]))}
    return compare({out["label"]: out["decoded"], jpeg_label: out["jpeg"],
                    "original": out["original"]},
                   zoom=((h - side) // 2, (w - side) // 2, side, side), captions=captions,
                   title="the same photo at (about) the same file size")
