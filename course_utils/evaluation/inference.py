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
from collections.abc import Iterator

import numpy as np
import torch
from torch import nn

from ..checks import check_image, check_scale
from ..degrade import imresize_rows
from ..images import STRIP_ROWS, image_to_tensor, is_gray, rgb_to_ycbcr, to_uint8, ycbcr_to_rgb

__all__ = ["NonFiniteOutput", "reconstruct", "run_tiled", "throughput"]


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
    # A model that works on pixel-interleaved sub-images (DnCNN's unshuffle) sees another
    # interleaving in a tile that starts on an odd row: tiles and overlaps are rounded up to
    # its factor, so that every tile starts where the whole image's grid does.
    align = getattr(model, "unshuffle", 1)
    tile, overlap = -(-tile // align) * align, -(-overlap // align) * align
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


class NonFiniteOutput(ValueError):
    """The model's output holds NaN or inf values, which have no 8-bit value (and no score)."""


def reconstruct(model: nn.Module, lr: np.ndarray, scale: int | None = None,
                tile: int = 128, overlap: int | None = None, *,
                uint8: bool = False) -> np.ndarray:
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
        Tiling of large images (:func:`run_tiled`). The default overlap is the model's
        ``receptive_radius`` if it has one (DnCNN: its depth times its unshuffle factor),
        else 16 LR pixels (more than ESPCN's, FSRCNN's and SRCNN's radius): tiles then give
        the whole image's result.
    uint8 : bool
        Return the 8-bit image instead (:func:`~course_utils.images.to_uint8` of the float
        result, bit for bit: what saving it as a PNG keeps, and what the scores use), made
        :data:`~course_utils.degrade.STRIP_ROWS` rows at a time, so that the float64 output
        never exists whole: 1/8 of the memory (108 MB instead of 864 MB for a 6000x6000 RGB
        output). A model that outputs NaN or inf then raises :class:`NonFiniteOutput`.

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
    if overlap is None:
        overlap = getattr(model, "receptive_radius", 16)
    gray = is_gray(lr)
    device = next(model.parameters()).device
    model.eval()

    if model.channels == 1:
        x = image_to_tensor(lr, "y").to(device)
        out = run_tiled(model, x, scale, tile, overlap)[0, 0].clamp_(16 / 255, 235 / 255).cpu()
        del x  # (memory: only the output and the LR chroma are needed from here on)
        bands = _luma_bands(out, None if gray else _chroma(lr), scale)
    else:
        x = image_to_tensor(lr, "rgb").to(device)
        out = run_tiled(model, x, scale, tile, overlap)[0].clamp_(0, 1).cpu()
        bands = _rgb_bands(out, gray)
    if uint8 and not torch.isfinite(out).all():
        raise NonFiniteOutput("the model returned NaN or inf values, which have no 8-bit value "
                              "(a diverged model?)")
    result = np.empty(tuple(out.shape[-2:]) + (() if gray else (3,)),
                      dtype=np.uint8 if uint8 else np.float64)
    for top, band in bands:
        result[top:top + band.shape[0]] = to_uint8(band) if uint8 else band
    return result


def _chroma(lr: np.ndarray) -> np.ndarray:
    """Cb and Cr of an RGB image (:func:`~course_utils.images.rgb_to_ycbcr`), made a strip at
    a time: the float64 Y channel is never needed."""
    chroma = np.empty(lr.shape[:2] + (2,))
    for top in range(0, lr.shape[0], STRIP_ROWS):
        chroma[top:top + STRIP_ROWS] = rgb_to_ycbcr(lr[top:top + STRIP_ROWS])[..., 1:]
    return chroma


def _luma_bands(y_out: torch.Tensor, chroma: np.ndarray | None,
                scale: int) -> Iterator[tuple[int, np.ndarray]]:
    """Bands of rows of a Y model's float64 output image: gray (``chroma`` None) or RGB, with
    the LR's Cb and Cr (:func:`_chroma`) enlarged by bicubic imresize (kept as they are at
    scale 1). Each band is computed as the whole image would be, row for row."""
    height = y_out.shape[0]
    if chroma is None:
        bands = ((top, None) for top in range(0, height, STRIP_ROWS))
    elif scale > 1:  # Cb and Cr each (imresize takes 1 or 3 channels), band by band
        bands = ((top, np.stack([cb, cr], axis=2)) for (top, cb), (_, cr)
                 in zip(imresize_rows(chroma[..., 0], scale),
                        imresize_rows(chroma[..., 1], scale), strict=True))
    else:
        bands = ((top, chroma[top:top + STRIP_ROWS]) for top in range(0, height, STRIP_ROWS))
    for top, cbcr in bands:
        y = y_out[top:top + STRIP_ROWS].double().numpy() * 255.0
        if cbcr is None:
            yield top, np.clip((y - 16.0) / 219.0, 0.0, 1.0)
        else:
            yield top, ycbcr_to_rgb(np.concatenate([y[..., None], cbcr], axis=2))


def _rgb_bands(out: torch.Tensor, gray: bool) -> Iterator[tuple[int, np.ndarray]]:
    """Bands of rows of a 3-channel model's ``(3, H, W)`` output as float64 images (the channel
    mean for a gray input)."""
    for top in range(0, out.shape[1], STRIP_ROWS):
        band = out[:, top:top + STRIP_ROWS].double().numpy().transpose(1, 2, 0)
        yield top, band.mean(axis=2) if gray else band


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
