"""Checks of unit 00's exercises (welcome): the photos' sizes, the nearest-neighbour baseline,
a 16-bit image of the course's luma Y."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import EllipsisType

import numpy as np

from ..data.catalogue import NATURAL
from ..data.io import list_images, load_image
from ..evaluation.evaluate import EvaluationResult
from ..images import rgb_to_y, to_float
from ..tasks import Task
from .common import WrongAnswer, attempted, expect, passed

__all__ = ["exercise_1", "exercise_2", "exercise_3"]


def _pixels(image: np.ndarray) -> int:
    return int(image.shape[0] * image.shape[1])


def exercise_1(largest: str | EllipsisType, smallest: str | EllipsisType,
               photos: Mapping[str, np.ndarray] | None = None) -> bool:
    """``largest`` and ``smallest``: the names of the natural photos with the most and the
    fewest pixels (height x width).

    The sizes are recomputed from ``photos`` (default: every photo of
    :data:`course_utils.data.catalogue.NATURAL`, loaded).
    """
    if not (attempted(largest, 1) and attempted(smallest, 1)):
        return False
    if photos is None:
        photos = {p.name: p.load() for p in NATURAL}
    for what, got in (("largest", largest), ("smallest", smallest)):
        expect(isinstance(got, str), f"{what} should be a photo's name (a str), got "
                                     f"{type(got).__name__}.")
        expect(got in photos, f"{what} = {got!r} is not one of the photos: {sorted(photos)}.")
    pixels = {name: _pixels(image) for name, image in photos.items()}
    want_large, want_small = max(pixels, key=pixels.get), min(pixels, key=pixels.get)
    expect((largest, smallest) != (want_small, want_large),
           "largest and smallest are swapped: max(..., key=...) gives the photo with the most "
           "pixels, min(...) the one with the fewest.")
    for what, got, want, pick in (("largest", largest, want_large, max),
                                  ("smallest", smallest, want_small, min)):
        if got == want:
            continue
        tallest = pick(photos, key=lambda n: photos[n].shape[0])
        widest = pick(photos, key=lambda n: photos[n].shape[1])
        hint = (" That is the photo with the " + ("most" if pick is max else "fewest")
                + (" rows" if got == tallest else " columns") + "; count the pixels, "
                "height x width.") if got in (tallest, widest) else ""
        raise WrongAnswer(f"{what} = {got!r} has {pixels[got]:,} pixels, but {want!r} has "
                          f"{pixels[want]:,}.{hint}")
    return passed(1, f"{largest}: {pixels[largest]:,} pixels; {smallest}: "
                     f"{pixels[smallest]:,}.")


def _nearest(lr: np.ndarray, scale: int) -> np.ndarray:
    # Nearest-neighbour upscaling by an integer factor repeats each pixel scale x scale times.
    return np.repeat(np.repeat(to_float(lr), scale, axis=0), scale, axis=1)


def exercise_2(nearest: EvaluationResult | EllipsisType, folder: str | Path, task: Task,
               bicubic: EvaluationResult | None = None) -> bool:
    """``nearest``: what ``evaluate.evaluate_folder(folder, task, "nearest")`` returns.

    Every image's PSNR and SSIM are recomputed from first principles: nearest-neighbour
    upscaling by an integer factor :math:`s` repeats each LR pixel :math:`s \\times s` times.
    With ``bicubic`` (the same folder scored with ``"bicubic"``), the two means are printed.
    """
    if not attempted(nearest, 2):
        return False
    expect(isinstance(nearest, EvaluationResult),
           f"nearest should be what evaluate.evaluate_folder returns (an EvaluationResult), got "
           f"{type(nearest).__name__}" + (" (the printed table? store the result itself)"
                                          if isinstance(nearest, str) else "") + ".")
    expect(nearest.task == task.name,
           f"nearest scores the task {nearest.task!r}; this exercise scores TASK, {task.name!r}.")
    expect(nearest.method == "nearest",
           f"nearest holds the scores of the method {nearest.method!r}; pass \"nearest\".")
    files = [p.name for p in list_images(folder)[0]]
    scored = [r["image"] for r in nearest.rows]
    expect(sorted(scored) == sorted(files),
           f"nearest scores the images {scored}; the folder holds {files}: score the whole "
           "folder.")
    for row in nearest.rows:
        hr = task.target(load_image(Path(folder) / row["image"], alpha="drop"))
        want = task.score(_nearest(task.degrade(hr), task.scale), hr)
        expect(abs(row["psnr"] - want["psnr"]) < 1e-6 and abs(row["ssim"] - want["ssim"]) < 1e-9,
               f"{row['image']}: your PSNR / SSIM are {row['psnr']:.3f} dB / {row['ssim']:.4f}; "
               f"nearest-neighbour upscaling gives {want['psnr']:.3f} dB / {want['ssim']:.4f}.")
    detail = ""
    if bicubic is not None:
        detail = (f"Mean PSNR / SSIM: nearest {nearest.mean_psnr:.2f} dB / "
                  f"{nearest.mean_ssim:.4f}, bicubic {bicubic.mean_psnr:.2f} dB / "
                  f"{bicubic.mean_ssim:.4f}.")
    return passed(2, detail)


def exercise_3(gray16: np.ndarray | EllipsisType, reloaded: np.ndarray | EllipsisType,
               photo: np.ndarray) -> bool:
    """``gray16``: the course's luma of ``photo`` as a 16-bit image,
    :math:`\\mathrm{round}(65535\\, Y / 255)` with :math:`Y = 16 + 65.481 R + 128.553 G +
    24.966 B` (BT.601, :func:`course_utils.images.rgb_to_y`); ``reloaded``: that image saved as
    a 16-bit PNG and read back with :func:`course_utils.data.load_image`.

    Checked: dtype, shape, the values (to one 16-bit step), a channel mean or full-range luma
    in place of Y, 8-bit scaling, and that the PNG kept all 16 bits (to half a step).
    """
    if not (attempted(gray16, 3) and attempted(reloaded, 3)):
        return False
    photo = to_float(photo)
    shape = photo.shape[:2]
    expect(isinstance(gray16, np.ndarray), f"gray16 should be a NumPy array, got "
                                           f"{type(gray16).__name__}.")
    expect(gray16.shape == shape, f"gray16 has shape {gray16.shape}; one value per pixel of the "
                                  f"photo is shape {shape} (Y is one channel).")
    expect(gray16.dtype == np.uint16, f"gray16 has dtype {gray16.dtype}; a 16-bit image is "
                                      "uint16 (.astype(np.uint16) after rounding).")
    steps = gray16.astype(np.float64)
    want = rgb_to_y(photo) / 255 * 65535
    if np.abs(steps - want).max() > 1:
        lookalikes = {
            "Y * 65535, not divided by 255 first (the values wrapped around past 65535)":
                np.round(rgb_to_y(photo) * 65535) % 65536,
        }
        if photo.ndim == 3:
            lookalikes["the mean of R, G and B"] = photo.mean(axis=2) * 65535
            lookalikes["full-range luma (0.299 R + 0.587 G + 0.114 B)"] = (
                photo @ np.array([0.299, 0.587, 0.114]) * 65535)
        for name, values in lookalikes.items():
            apart = np.abs((steps - values + 32768) % 65536 - 32768)  # modulo 2^16: wrap-around
            expect(apart.max() > 1,
                   f"gray16 is {name}; the course's Y is BT.601 studio-range luma, "
                   "images.rgb_to_y(photo) = 16 + 65.481 R + 128.553 G + 24.966 B (8-bit scale, "
                   "16-235): divide it by 255, then scale to 0-65535.")
        expect(steps.max() > 255, f"gray16 goes up to {int(steps.max())}; a 16-bit image "
                                  "spans 0-65535: scale Y / 255 (in [0, 1]) by 65535.")
        raise WrongAnswer(f"gray16 differs from round(65535 Y / 255) by up to "
                          f"{np.abs(steps - want).max():.0f} steps (Y = images.rgb_to_y(photo), "
                          "on the 8-bit scale).")
    expect(isinstance(reloaded, np.ndarray) and reloaded.shape == shape,
           f"reloaded should be the (H, W) image that data.load_image returns, shape {shape}; got "
           f"{getattr(reloaded, 'shape', type(reloaded).__name__)}.")
    expect(np.issubdtype(reloaded.dtype, np.floating),
           f"reloaded has dtype {reloaded.dtype}; read it with data.load_image, which returns "
           "float values in [0, 1].")
    error = np.abs(reloaded * 65535 - steps).max()
    expect(error < 0.5, f"reloaded differs from gray16 by up to {error:.0f} 16-bit steps"
           + (": the PNG kept only 8 bits (save the uint16 array itself, "
              "Image.fromarray(gray16))" if error >= 64 else "") + ".")
    return passed(3, "All 16 bits survived the round trip.")
