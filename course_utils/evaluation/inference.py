"""Run a reconstruction model on whole images of any size, tile by tile so that memory stays
bounded: super-resolution (scale 2 or more) and restoration (scale 1) alike.

Y-channel models on colour images follow the convention of the classic papers: the model
reconstructs the luma Y (BT.601), the chroma Cb and Cr are enlarged with MATLAB-style bicubic
interpolation (kept as they are at scale 1), and the result is converted back to RGB.

Memory: a tile of ``tile + 2 * overlap`` LR pixels per side is in the model at a time, so the
peak grows with the tile size, not with the image (``benchmarks/inference.py`` measures it).
"""

from __future__ import annotations

import resource
import time

import numpy as np
import torch
from torch import nn

from ..checks import check_image, check_scale
from ..degrade import imresize
from ..images import image_to_tensor, is_gray, rgb_to_ycbcr, to_uint8, ycbcr_to_rgb

__all__ = ["reconstruct", "run_tiled", "throughput"]


@torch.no_grad()
def run_tiled(model: nn.Module, x: torch.Tensor, scale: int, tile: int = 128,
              overlap: int = 16) -> torch.Tensor:
    """Apply ``model`` to a ``(1, C, h, w)`` LR tensor in tiles; returns ``(1, C, s*h, s*w)``.

    The LR image is cut into ``tile x tile`` pieces; each is run with ``overlap`` extra LR
    pixels of real context on every side, and only its centre is kept. With an overlap at
    least the model's receptive radius (4 LR pixels for ESPCN, about 8 for FSRCNN and SRCNN)
    the result equals running the whole image at once, while memory grows with the tile
    size, not the image size.
    """
    if x.ndim != 4 or x.shape[0] != 1:
        raise ValueError(f"expected a (1, C, h, w) tensor, got shape {tuple(x.shape)}.")
    if tile < 1 or overlap < 0:
        raise ValueError(f"tile must be >= 1 and overlap >= 0, got {tile} and {overlap}.")
    _, c, h, w = x.shape
    if h <= tile and w <= tile:
        return model(x)
    out = torch.empty(1, c, h * scale, w * scale, dtype=x.dtype, device=x.device)
    for top in range(0, h, tile):
        for left in range(0, w, tile):
            bottom, right = min(top + tile, h), min(left + tile, w)
            t0, l0 = max(top - overlap, 0), max(left - overlap, 0)
            b0, r0 = min(bottom + overlap, h), min(right + overlap, w)
            piece = model(x[:, :, t0:b0, l0:r0])
            dt, dl = (top - t0) * scale, (left - l0) * scale
            out[:, :, top * scale:bottom * scale, left * scale:right * scale] = \
                piece[:, :, dt:dt + (bottom - top) * scale, dl:dl + (right - left) * scale]
    return out


def _check_model(model: nn.Module, scale: int | None) -> int:
    model_scale = getattr(model, "scale", None)
    if model_scale is None:
        raise ValueError("the model has no `scale` attribute; build it with "
                         "course_utils.models.get_model.")
    if scale is not None and check_scale(scale) != model_scale:
        raise ValueError(
            f"this model works at scale {model_scale}, not {scale}: use scale={model_scale}, or "
            f"a model trained for scale {scale} (`python -m course_utils models` lists the "
            "shipped ones)."
        )
    return model_scale


def reconstruct(model: nn.Module, lr: np.ndarray, scale: int | None = None,
                tile: int = 128, overlap: int = 16) -> np.ndarray:
    """Run a reconstruction model on a whole image; returns a float image in [0, 1].

    Parameters
    ----------
    model : nn.Module
        A model of :mod:`course_utils.models` (it carries ``scale`` and ``channels``):
        an SR model enlarges by its scale, a restoration model (scale 1) keeps the size.
    lr : ndarray, shape (h, w) or (h, w, 3)
        The degraded input: uint8, uint16 or float (noisy inputs may leave [0, 1]).
    scale : int, optional
        If given, it must be the model's scale (a x3 model cannot do x4).
    tile, overlap : int
        Tiling of large images (:func:`run_tiled`).

    Returns
    -------
    ndarray, shape (s*h, s*w) or (s*h, s*w, 3)
        Same kind of image as the input: gray in, gray out; RGB in, RGB out.

    Notes
    -----
    Channel conversions, documented rather than refused:

    - 1-channel (Y) model, RGB input: the model enlarges Y; Cb and Cr are enlarged with
      bicubic ``imresize``.
    - 1-channel model, gray input: gray g is the luma ``Y = 16 + 219 g``; the output is
      converted back the same way.
    - 3-channel model, gray input: the gray image is repeated into R, G and B; the output's
      three channels are averaged back into one.
    """
    scale = _check_model(model, scale)
    lr = check_image(lr, "lr")
    gray = is_gray(lr)
    device = next(model.parameters()).device
    model.eval()

    if model.channels == 1:
        ycbcr = rgb_to_ycbcr(lr)
        x = image_to_tensor(lr, "y").to(device)
        y = run_tiled(model, x, scale, tile, overlap)[0, 0].clamp(16 / 255, 235 / 255)
        y = y.double().cpu().numpy() * 255.0
        if gray:
            return np.clip((y - 16.0) / 219.0, 0.0, 1.0)
        chroma = (imresize(ycbcr, scale) if scale > 1 else ycbcr)[..., 1:]
        return ycbcr_to_rgb(np.concatenate([y[..., None], chroma], axis=2))

    x = image_to_tensor(lr, "rgb").to(device)
    out = run_tiled(model, x, scale, tile, overlap)[0].clamp(0, 1)
    out = out.double().cpu().numpy().transpose(1, 2, 0)
    return out.mean(axis=2) if gray else out


def throughput(model: nn.Module, output_size: int = 512, repeats: int = 5,
               tile: int = 128) -> dict:
    """Images per second and peak memory of :func:`reconstruct` for one output size.

    Runs a random RGB input of ``output_size / scale`` pixels per side ``repeats`` times
    (after one warm-up run) and returns ``{"images_per_s", "seconds_per_image",
    "peak_mib"}``; peak memory is the process's resident peak (CPU) or the CUDA allocator's
    peak, in MiB. Used by ``benchmarks/inference.py``.
    """
    scale = _check_model(model, None)
    rng = np.random.default_rng(0)
    lr = to_uint8(rng.random((output_size // scale, output_size // scale, 3)))
    device = next(model.parameters()).device
    reconstruct(model, lr, tile=tile)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    for _ in range(repeats):
        reconstruct(model, lr, tile=tile)
    if device.type == "cuda":
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() / 2**20
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    seconds = (time.perf_counter() - start) / repeats
    return {"images_per_s": 1 / seconds, "seconds_per_image": seconds, "peak_mib": peak}
