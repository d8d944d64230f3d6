"""Image degradations: resizing, blur, noise, JPEG, and a seeded pipeline of them.

The degradation model of super-resolution and restoration is

.. math:: y = \\big((x * k)\\downarrow_s + n\\big)_{\\text{JPEG}_q}

a high-resolution image :math:`x` is blurred by a kernel :math:`k`, downsampled by the scale
:math:`s`, corrupted by noise :math:`n` and compressed. The published SR benchmarks use the
simplest case, :math:`y = \\text{imresize}(x, 1/s)` with MATLAB's antialiased bicubic, which
:func:`imresize` reproduces.

All images are channel-last NumPy arrays, ``(H, W)`` or ``(H, W, 3)``, float in [0, 1]
unless a function says otherwise.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage

from .checks import check_image, check_scale
from .images import STRIP_ROWS, to_float, to_uint8

__all__ = [
    "MASK_TEXT",
    "METHODS",
    "JPEG",
    "Blur",
    "Downsample",
    "Noise",
    "Pipeline",
    "add_gaussian_noise",
    "add_poisson_gaussian_noise",
    "apply_mask",
    "block_mask",
    "blur",
    "check_kernel",
    "check_mask_spec",
    "cubic",
    "gaussian_blur",
    "gaussian_kernel",
    "imresize",
    "imresize_rows",
    "jpeg_compress",
    "make_lr",
    "mask_pixels",
    "modcrop",
    "motion_kernel",
    "parse_kernel",
    "parse_mask",
    "random_mask",
    "resize",
    "resize_weights",
    "text_mask",
]


# --------------------------------------------------------------------------------------------
# MATLAB-compatible bicubic resize
# --------------------------------------------------------------------------------------------


def cubic(x: np.ndarray, a: float = -0.5) -> np.ndarray:
    """Keys' cubic convolution kernel, as used by MATLAB's ``imresize``.

    .. math::

        k(x) = \\begin{cases}
            (a+2)|x|^3 - (a+3)|x|^2 + 1 & |x| \\le 1 \\\\
            a|x|^3 - 5a|x|^2 + 8a|x| - 4a & 1 < |x| \\le 2 \\\\
            0 & \\text{otherwise}
        \\end{cases}

    With :math:`a = -0.5` (MATLAB, PIL) this is :math:`1.5|x|^3 - 2.5|x|^2 + 1` and
    :math:`-0.5|x|^3 + 2.5|x|^2 - 4|x| + 2`. PyTorch's bicubic uses :math:`a = -0.75`.

    References
    ----------
    .. [1] R. Keys, "Cubic convolution interpolation for digital image processing",
           IEEE Trans. ASSP 29(6), 1981.
    """
    x = np.abs(np.asarray(x, dtype=np.float64))
    x2, x3 = x**2, x**3
    near = (a + 2) * x3 - (a + 3) * x2 + 1
    far = a * x3 - 5 * a * x2 + 8 * a * x - 4 * a
    return np.where(x <= 1, near, np.where(x <= 2, far, 0.0))


def _output_length(in_length: int, scale: float) -> int:
    # MATLAB: ceil(in * scale). Rounding to 10 decimals first keeps 255 * (1/3) at 85, not 86.
    return int(math.ceil(round(in_length * scale, 10)))


def resize_weights(
    in_length: int,
    out_length: int,
    scale: float,
    antialiasing: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Weights and source indices of MATLAB's bicubic ``imresize`` along one axis.

    Output pixel ``x`` (1-based) sits at input coordinate
    :math:`u = x / s + 0.5 (1 - 1/s)`. When shrinking (:math:`s < 1`) with antialiasing, the
    kernel is stretched to width :math:`4/s` and scaled, :math:`w = s\\,k(s (u - j))`, so it
    also low-pass filters; otherwise :math:`w = k(u - j)` over a width of 4. Each row of
    weights is normalised to sum to one, indices outside the image are mirrored
    (``1..N, N..1``), and tap columns whose weights are all zero are dropped.

    Parameters
    ----------
    in_length, out_length : int
        Number of pixels along the axis before and after resizing.
    scale : float
        ``out / in`` (MATLAB's scale factor).
    antialiasing : bool
        Stretch the kernel when shrinking (MATLAB's default).

    Returns
    -------
    weights : ndarray, shape (out_length, taps)
    indices : ndarray of int, shape (out_length, taps)
        0-based indices into the input axis.
    """
    if scale < 1 and antialiasing:
        width = 4.0 / scale

        def kernel(d: np.ndarray) -> np.ndarray:
            return scale * cubic(scale * d)
    else:
        width = 4.0
        kernel = cubic

    x = np.arange(1, out_length + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(u - width / 2)
    taps = int(math.ceil(width)) + 2
    indices = left[:, None] + np.arange(taps)[None, :]  # 1-based, may fall outside 1..N
    weights = kernel(u[:, None] - indices)
    weights /= weights.sum(axis=1, keepdims=True)

    mirror = np.concatenate([np.arange(in_length), np.arange(in_length - 1, -1, -1)])
    indices = mirror[np.mod(indices.astype(np.int64) - 1, mirror.size)]

    keep = np.any(weights != 0, axis=0)
    return weights[:, keep], indices[:, keep]


def imresize(
    image: np.ndarray,
    scale: float | None = None,
    output_shape: tuple[int, int] | None = None,
    antialiasing: bool = True,
) -> np.ndarray:
    """Resize like MATLAB's ``imresize(image, scale, 'bicubic')``.

    This is the resize behind every published SR table: the benchmark LR images are
    ``imresize(HR, 1/s)``. The algorithm is separable: both axes are resized with
    :func:`resize_weights`, the axis with the smaller scale first (height first when the
    scales are equal, as in SR).

    Output size is :math:`\\lceil \\text{in} \\cdot s \\rceil` per axis.

    Parameters
    ----------
    image : ndarray, shape (H, W) or (H, W, C)
        uint8, uint16 or float. Integer input is rounded (half away from zero) and clipped
        to its type after *each* pass, exactly as MATLAB does, and the output keeps the
        input type; float input is neither rounded nor clipped.
    scale : float, optional
        Scale factor (``0.25`` shrinks by 4, ``3`` enlarges by 3). Give this or
        ``output_shape``.
    output_shape : (int, int), optional
        Target ``(height, width)``; the scale per axis is then ``out / in``.
    antialiasing : bool
        MATLAB's ``'Antialiasing'`` option. Turn it off to see aliasing when shrinking.

    Returns
    -------
    ndarray
        The resized image, same dtype as the input.

    References
    ----------
    .. [1] MATLAB ``imresize`` documentation and source (``contributions``, ``cubic``).
    """
    image = check_image(image)
    out_shape, _ = _resize_shapes(image.shape[:2], scale, output_shape)
    out = np.empty(out_shape + image.shape[2:], dtype=image.dtype)
    for top, band in imresize_rows(image, scale, output_shape, antialiasing):
        out[top:top + band.shape[0]] = band
    return out


def _taps(source: np.ndarray, weights: np.ndarray, indices: np.ndarray,
          axis: int) -> np.ndarray:
    """``sum_t weights[o, t] * source[indices[o, t]]`` along ``axis``, in float64.

    The taps are added one at a time, in order, which is exactly how ``np.einsum`` sums
    them (the tests check it): each output value depends only on its own row of weights,
    so any band of the output is computed the same way as the whole.
    """
    shape = [1] * source.ndim
    shape[axis] = -1
    total = np.take(source, indices[:, 0], axis=axis) * weights[:, 0].reshape(shape)
    for t in range(1, weights.shape[1]):
        total += np.take(source, indices[:, t], axis=axis) * weights[:, t].reshape(shape)
    return total


def imresize_rows(
    image: np.ndarray,
    scale: float | None = None,
    output_shape: tuple[int, int] | None = None,
    antialiasing: bool = True,
    rows: int = STRIP_ROWS,
) -> Iterator[tuple[int, np.ndarray]]:
    """:func:`imresize`, ``rows`` output rows at a time: yields ``(first_row, band)``.

    The bands, stacked, are exactly (bit for bit) ``imresize(image, scale)``: the resize is
    separable and each output row depends only on its own row of weights, so a band needs
    only the input rows under its taps. Memory is that of one band, not of the whole image
    in float64 (a 6000x6000 RGB image takes 864 MB as float64, a band of 64 rows 9 MB).

    Parameters are those of :func:`imresize`, and ``rows``: output rows per band.
    """
    image = check_image(image)
    if rows < 1:
        raise ValueError(f"rows must be at least 1, got {rows!r}.")
    in_shape = image.shape[:2]
    out_shape, scales = _resize_shapes(in_shape, scale, output_shape)
    (wh, ih), (ww, iw) = (resize_weights(in_shape[a], out_shape[a], scales[a], antialiasing)
                          for a in (0, 1))
    is_int = np.issubdtype(image.dtype, np.integer)

    def settle(values: np.ndarray) -> np.ndarray:
        # Integer input is rounded (half up) and clipped after each pass, as MATLAB does.
        if not is_int:
            return values
        info = np.iinfo(image.dtype)
        return np.clip(np.floor(values + 0.5), info.min, info.max)

    height_first = scales[0] <= scales[1]  # the smaller scale first; height on a tie
    for top in range(0, out_shape[0], rows):
        bottom = min(top + rows, out_shape[0])
        if height_first:
            band = settle(_taps(image, wh[top:bottom], ih[top:bottom], 0))
            band = settle(_taps(band, ww, iw, 1))
        else:  # resize the input rows under this band's taps along the width first
            needed, local = np.unique(ih[top:bottom], return_inverse=True)
            part = settle(_taps(image[needed], ww, iw, 1))
            band = settle(_taps(part, wh[top:bottom], local.reshape(bottom - top, -1), 0))
        yield top, band.astype(image.dtype)


def _resize_shapes(
    in_shape: tuple[int, int],
    scale: float | None,
    output_shape: tuple[int, int] | None,
) -> tuple[tuple[int, int], tuple[float, float]]:
    """``(output shape, (height scale, width scale))`` of an :func:`imresize` call."""
    if (scale is None) == (output_shape is None):
        raise ValueError("Give exactly one of scale (e.g. 0.5) or output_shape (height, width).")
    if scale is not None:
        if not np.isfinite(scale) or scale <= 0:
            raise ValueError(f"scale must be a positive number, got {scale!r}.")
        return (tuple(_output_length(n, scale) for n in in_shape),
                (float(scale), float(scale)))
    if len(output_shape) != 2 or min(output_shape) < 1:
        raise ValueError(f"output_shape must be (height, width) >= 1, got {output_shape!r}.")
    out_shape = tuple(int(n) for n in output_shape)
    return out_shape, (out_shape[0] / in_shape[0], out_shape[1] / in_shape[1])


# --------------------------------------------------------------------------------------------
# Other interpolation methods, for comparison
# --------------------------------------------------------------------------------------------

_PIL_FILTERS = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic-pil": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
}

#: Interpolation methods understood by :func:`resize`.
METHODS = ("nearest", "bilinear", "bicubic", "bicubic-pil", "bicubic-torch", "lanczos")


def _resize_pil(image: np.ndarray, shape: tuple[int, int], method: str) -> np.ndarray:
    # PIL's mode "F" resizes 32-bit float planes, so no 8-bit rounding sneaks in.
    planes = image[..., None] if image.ndim == 2 else image
    out = [
        np.asarray(
            Image.fromarray(planes[..., c].astype(np.float32), mode="F").resize(
                (shape[1], shape[0]), _PIL_FILTERS[method]
            )
        )
        for c in range(planes.shape[2])
    ]
    stacked = np.stack(out, axis=-1)
    return stacked[..., 0] if image.ndim == 2 else stacked


def _resize_torch(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    planes = image[..., None] if image.ndim == 2 else image
    x = torch.from_numpy(np.ascontiguousarray(planes.transpose(2, 0, 1), dtype=np.float32))
    y = F.interpolate(x[None], size=shape, mode="bicubic", align_corners=False,
                      antialias=shape[0] < image.shape[0] or shape[1] < image.shape[1])
    out = y[0].numpy().transpose(1, 2, 0)
    return out[..., 0] if image.ndim == 2 else out


def resize(image: np.ndarray, scale: float, method: str = "bicubic") -> np.ndarray:
    """Resize a float image by ``scale`` with one of several interpolation methods.

    Parameters
    ----------
    image : ndarray, shape (H, W) or (H, W, 3)
        Float in [0, 1]; uint8/uint16 input is converted with
        :func:`course_utils.images.to_float` first.
    scale : float
        ``0.25`` shrinks by 4, ``4`` enlarges by 4; output size is
        :math:`\\lceil \\text{in} \\cdot s \\rceil` for every method.
    method : str
        ``"bicubic"`` (MATLAB-compatible, :func:`imresize`), ``"nearest"``,
        ``"bilinear"``, ``"bicubic-pil"`` and ``"lanczos"`` (Pillow, antialiased when
        shrinking), or ``"bicubic-torch"`` (``F.interpolate``: :math:`a=-0.75` when
        enlarging; when shrinking, ``antialias=True`` switches to PIL's antialiased
        :math:`a=-0.5` algorithm).

    Returns
    -------
    ndarray, float64
        Not clipped: cubic and Lanczos kernels overshoot slightly outside [0, 1].
    """
    image = check_image(image)
    if method not in METHODS:
        raise ValueError(f"Unknown method {method!r}; choose one of {', '.join(METHODS)}.")
    if not np.isfinite(scale) or scale <= 0:
        raise ValueError(f"scale must be a positive number, got {scale!r}.")

    image = to_float(image)  # uint8/uint16 -> [0, 1], not 0..255 floats
    shape = tuple(_output_length(n, scale) for n in image.shape[:2])
    if method == "bicubic":
        return imresize(image, scale)
    if method == "bicubic-torch":
        return _resize_torch(image, shape).astype(np.float64)
    return _resize_pil(image, shape, method).astype(np.float64)


def modcrop(image: np.ndarray, scale: int) -> np.ndarray:
    """Crop the bottom and right so height and width are multiples of ``scale``.

    The first step of the SR evaluation recipe: an HR image of size
    :math:`(s \\lfloor H/s \\rfloor, s \\lfloor W/s \\rfloor)` downsamples to an LR image that
    upsamples back to exactly the HR size.
    """
    image = check_image(image)
    scale = check_scale(scale)
    h, w = image.shape[:2]
    h, w = h - h % scale, w - w % scale
    if h == 0 or w == 0:
        raise ValueError(
            f"image of size {image.shape[:2]} is smaller than the scale {scale}; "
            "nothing is left after modcrop."
        )
    return image[:h, :w]


def make_lr(hr: np.ndarray, scale: int) -> np.ndarray:
    """The benchmark LR image: ``imresize(uint8(modcrop(HR, s)), 1/s)``, MATLAB-style, uint8.

    The degradation behind every published SR table, and the one the course's patch dataset,
    validation pairs and evaluation all use (through
    :class:`course_utils.tasks.SuperResolution`).
    """
    scale = check_scale(scale)
    return imresize(to_uint8(modcrop(hr, scale)), 1 / scale)


# --------------------------------------------------------------------------------------------
# Blur, noise, JPEG
# --------------------------------------------------------------------------------------------


def gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Blur with an isotropic Gaussian kernel of standard deviation ``sigma`` pixels.

    .. math:: k(x, y) \\propto \\exp\\left(-\\frac{x^2 + y^2}{2\\sigma^2}\\right)

    Borders are mirrored (``scipy.ndimage`` mode ``"reflect"``, MATLAB's ``'symmetric'``);
    channels are blurred independently. ``sigma = 0`` returns a copy.
    """
    image = check_image(image)
    if not np.isfinite(sigma) or sigma < 0:
        raise ValueError(f"sigma must be a non-negative number of pixels, got {sigma!r}.")

    image = to_float(image)  # uint8/uint16 -> [0, 1]
    if sigma == 0:
        return image.copy()
    sigmas = (sigma, sigma) if image.ndim == 2 else (sigma, sigma, 0)
    return ndimage.gaussian_filter(image, sigmas, mode="reflect")


def _as_rng(rng: np.random.Generator | int | None) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def add_gaussian_noise(
    image: np.ndarray,
    sigma: float,
    rng: np.random.Generator | int | None = None,
    clip: bool = True,
) -> np.ndarray:
    """Add white Gaussian noise, :math:`y = x + n,\\ n \\sim \\mathcal{N}(0, \\sigma^2)`.

    ``sigma`` is in the image's [0, 1] units (``25/255`` is the common denoising level).
    With ``clip=True`` the result is clipped to [0, 1], as a real sensor saturates.
    """
    image = check_image(image)
    if not np.isfinite(sigma) or sigma < 0:
        raise ValueError(f"sigma must be non-negative (in [0, 1] units), got {sigma!r}.")

    # uint8/uint16 -> [0, 1] first: sigma is in [0, 1] units and the result is clipped to [0, 1].
    noisy = to_float(image) + _as_rng(rng).normal(0.0, sigma, size=image.shape)
    return np.clip(noisy, 0.0, 1.0) if clip else noisy


def jpeg_compress(image: np.ndarray, quality: int) -> np.ndarray:
    """Round-trip an image through JPEG at ``quality`` (1-100; 75 is Pillow's default) with Pillow.

    The image is quantised to 8 bits, encoded (4:2:0 chroma subsampling for RGB, Pillow's
    default) and decoded back to float in [0, 1].
    """
    image = check_image(image)
    if not isinstance(quality, (int, np.integer)) or not 1 <= quality <= 100:
        raise ValueError(f"quality must be an integer from 1 to 100, got {quality!r}.")
    buffer = io.BytesIO()
    pixels = to_uint8(image)
    if pixels.ndim == 3 and pixels.shape[2] == 1:  # (H, W, 1): Pillow wants (H, W)
        pixels = pixels[..., 0]
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=int(quality))
    buffer.seek(0)
    decoded = np.asarray(Image.open(buffer), dtype=np.float64) / 255.0
    return decoded.reshape(image.shape)


def mask_pixels(image: np.ndarray, fraction: float, rng: np.random.Generator | int | None = None,
                fill: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Remove a random ``fraction`` of the pixels, as in inpainting benchmarks.

    Each pixel is missing independently with probability ``fraction`` (all channels of a
    pixel together) and set to ``fill``:

    .. math:: y = m \\odot x + (1 - m)\\,\\text{fill},\\qquad m_{ij} \\sim \\text{Bernoulli}(1 - p)

    Returns
    -------
    (masked, known) : the float image with the missing pixels filled, and the boolean
        ``(H, W)`` map of the pixels that are kept.
    """
    image = check_image(image)
    known = random_mask(image.shape[:2], fraction, rng)
    return apply_mask(image, known, fill), known


# --------------------------------------------------------------------------------------------
# Blur kernels (point-spread functions) for deblurring
# --------------------------------------------------------------------------------------------


def gaussian_kernel(sigma: float) -> np.ndarray:
    """An isotropic Gaussian kernel of standard deviation ``sigma`` pixels, summing to 1.

    .. math:: k(x, y) \\propto \\exp\\left(-\\frac{x^2 + y^2}{2\\sigma^2}\\right),\\quad
              |x|, |y| \\le r = \\lfloor 4\\sigma + 0.5 \\rfloor

    cut at 4 sigma as ``scipy.ndimage.gaussian_filter`` cuts it, so that
    ``blur(image, gaussian_kernel(s))`` is :func:`gaussian_blur` ``(image, s)``, the same blur
    (one made separably, fast; this one explicit, for the deconvolutions that need the
    kernel).
    """
    if not np.isfinite(sigma) or not 0 < sigma <= 20:
        raise ValueError(f"a Gaussian kernel's sigma is its width in pixels, in (0, 20]; got "
                         f"{sigma!r}.")
    radius = int(4 * sigma + 0.5)
    x = np.arange(-radius, radius + 1)
    g = np.exp(-(x**2) / (2 * sigma**2))
    kernel = np.outer(g, g)
    return kernel / kernel.sum()


def motion_kernel(length: float, angle: float = 0.0) -> np.ndarray:
    """A linear motion-blur kernel: a line ``length`` pixels long at ``angle`` degrees
    (counter-clockwise from the x axis), summing to 1.

    The line runs ``length - 1`` pixels between the centres of its two end pixels, sampled
    every 0.05 pixels, each sample spread bilinearly over its four neighbouring pixels, so
    lengths and angles need not be whole or axis-aligned. At angle 0 it covers ``length``
    pixels, the two ends with half the weight of the others (MATLAB's ``fspecial('motion')``
    gives them equal weights). The kernel is square, of odd side, centred on the line.
    """
    if not np.isfinite(length) or not 1 <= length <= 64:
        raise ValueError(f"a motion kernel's length is in pixels, from 1 to 64; got "
                         f"{length!r}.")
    if not np.isfinite(angle):
        raise ValueError(f"a motion kernel's angle is in degrees, got {angle!r}.")
    radius = math.ceil(length / 2) + 1
    kernel = np.zeros((2 * radius + 1, 2 * radius + 1))
    t = np.linspace(-(length - 1) / 2, (length - 1) / 2, max(2, round(length * 20)))
    theta = np.deg2rad(angle)
    x, y = radius + t * np.cos(theta), radius - t * np.sin(theta)  # rows grow downwards
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    fx, fy = x - x0, y - y0
    for dy, dx, w in ((0, 0, (1 - fy) * (1 - fx)), (0, 1, (1 - fy) * fx),
                      (1, 0, fy * (1 - fx)), (1, 1, fy * fx)):
        np.add.at(kernel, (y0 + dy, x0 + dx), w)
    return kernel / kernel.sum()


def parse_kernel(spec: str) -> np.ndarray:
    """The kernel of a spec: ``"gaussian:SIGMA"`` (:func:`gaussian_kernel`) or
    ``"motion:LENGTH:ANGLE"`` (:func:`motion_kernel`; the angle defaults to 0).

    Examples
    --------
    >>> parse_kernel("gaussian:2.0").shape
    (17, 17)
    >>> parse_kernel("motion:9:45").shape
    (13, 13)
    """
    kind, *values = str(spec).split(":")
    usage = ("write gaussian:SIGMA (e.g. gaussian:2.0) or motion:LENGTH:ANGLE (e.g. "
             "motion:15:30, pixels and degrees)")
    makers = {"gaussian": (gaussian_kernel, 1), "motion": (motion_kernel, 2)}
    if kind not in makers or not 1 <= len(values) <= makers[kind][1]:
        raise ValueError(f"unknown kernel {spec!r}; {usage}.")
    try:
        numbers = [float(v) for v in values]
    except ValueError:
        raise ValueError(f"kernel {spec!r}: its parameters must be numbers; {usage}.") from None
    return makers[kind][0](*numbers)


def check_kernel(kernel: np.ndarray) -> np.ndarray:
    """Check a blur kernel: a 2-D float array of odd sides, finite, non-negative, summing to 1
    (a kernel that does not would change the image's brightness)."""
    kernel = np.asarray(kernel)
    if kernel.ndim != 2 or kernel.shape[0] % 2 == 0 or kernel.shape[1] % 2 == 0:
        raise ValueError(f"a blur kernel must be a 2-D array with odd sides (so that it has a "
                         f"centre), got shape {kernel.shape}.")
    if not np.issubdtype(kernel.dtype, np.floating) or not np.isfinite(kernel).all():
        raise ValueError(f"a blur kernel must hold finite floats, got {kernel.dtype}.")
    if kernel.min() < 0 or not np.isclose(kernel.sum(), 1.0, atol=1e-6):
        raise ValueError(f"a blur kernel must be non-negative and sum to 1 (it sums to "
                         f"{kernel.sum():.4g}); divide it by its sum.")
    return kernel


def blur(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Convolve an image with a blur kernel, :math:`y = x * k`, channels independently.

    Borders are mirrored (``scipy.ndimage`` mode ``"reflect"``, MATLAB's ``'symmetric'``),
    so the result has the image's size and no dark frame. Returns float in [0, 1].
    """
    image, kernel = to_float(check_image(image)), check_kernel(kernel)
    if image.ndim == 2:
        return ndimage.convolve(image, kernel, mode="reflect")
    return np.stack([ndimage.convolve(image[..., c], kernel, mode="reflect")
                     for c in range(image.shape[2])], axis=2)


def add_poisson_gaussian_noise(
    image: np.ndarray,
    peak: float,
    sigma: float = 0.0,
    rng: np.random.Generator | int | None = None,
) -> np.ndarray:
    """Poisson-Gaussian noise, the model of a photon-counting sensor (X-ray, CT, low light).

    .. math:: y = \\frac{\\mathcal{P}(\\text{peak} \\cdot x)}{\\text{peak}} + n,\\qquad
              n \\sim \\mathcal{N}(0, \\sigma^2)

    The signal-dependent part has variance :math:`x / \\text{peak}` (a white pixel collects
    ``peak`` photons on average; fewer photons, noisier image), the read noise ``sigma`` is in
    the image's [0, 1] units. Not clipped, like the Gaussian denoising task.

    References
    ----------
    .. [1] A. Foi, M. Trimeche, V. Katkovnik, K. Egiazarian, "Practical Poissonian-Gaussian
           noise modeling and fitting for single-image raw-data", IEEE TIP 17(10), 2008.
    """
    image = check_image(image)
    if not np.isfinite(peak) or peak <= 0:
        raise ValueError(f"peak is the photon count of a white pixel, greater than 0; got "
                         f"{peak!r}.")
    if not np.isfinite(sigma) or sigma < 0:
        raise ValueError(f"sigma must be non-negative (in [0, 1] units), got {sigma!r}.")
    rng = _as_rng(rng)
    x = np.clip(to_float(image), 0.0, 1.0)
    return rng.poisson(peak * x) / peak + rng.normal(0.0, sigma, size=x.shape)


# --------------------------------------------------------------------------------------------
# Inpainting masks
# --------------------------------------------------------------------------------------------

#: The text of the ``text`` masks (any words would do; these are the pangram's).
MASK_TEXT = "the quick brown fox jumps over the lazy dog"


def random_mask(shape: tuple[int, int], fraction: float,
                rng: np.random.Generator | int | None = None) -> np.ndarray:
    """Known pixels of a random mask: each pixel is missing with probability ``fraction``,
    :math:`m_{ij} \\sim \\text{Bernoulli}(1 - p)`. Returns a boolean ``(H, W)`` array, True
    where the pixel is kept."""
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"fraction must be in [0, 1), the share of missing pixels; got "
                         f"{fraction!r}.")
    return _as_rng(rng).random(shape) >= fraction


def block_mask(shape: tuple[int, int], size: int,
               rng: np.random.Generator | int | None = None) -> np.ndarray:
    """Known pixels around one missing ``size`` x ``size`` square at a random position
    (wholly inside the image): the hole of object-removal inpainting."""
    height, width = shape
    if not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"a block's side is a whole number of pixels, 1 or more; got "
                         f"{size!r}.")
    if size >= min(height, width):
        raise ValueError(f"a {size}-pixel block does not fit in a {width}x{height} image "
                         "with known pixels around it; use a smaller block or larger images.")
    rng = _as_rng(rng)
    top, left = rng.integers(0, height - size + 1), rng.integers(0, width - size + 1)
    known = np.ones(shape, dtype=bool)
    known[top:top + size, left:left + size] = False
    return known


def text_mask(shape: tuple[int, int], size: int = 16,
              rng: np.random.Generator | int | None = None) -> np.ndarray:
    """Known pixels around lines of text ``size`` pixels high drawn over the image (the
    "remove the caption" inpainting case), one line every ``2 * size`` rows, each shifted
    sideways at random."""
    height, width = shape
    if not isinstance(size, (int, np.integer)) or not 6 <= size <= 128:
        raise ValueError(f"the text's size is its height in pixels, a whole number from 6 to "
                         f"128; got {size!r}.")
    rng = _as_rng(rng)
    canvas = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default(size=size)
    for top in range(size // 2, height, 2 * size):
        shift = int(rng.integers(0, 4 * size))
        draw.text((-shift, top), (MASK_TEXT + " ") * (width // size + 4), fill=255, font=font,
                  stroke_width=max(1, size // 12), stroke_fill=255)
    return np.asarray(canvas) == 0


_MASK_USAGE = ("write random:FRACTION (e.g. random:0.5), block:SIZE (e.g. block:32) or "
               "text:SIZE (e.g. text:16)")


def check_mask_spec(spec: str) -> tuple[str, float | int]:
    """``(kind, value)`` of a mask spec, checked without drawing a mask: ``random:P`` with P
    in (0, 1), ``block:SIZE`` with a whole SIZE of 1 or more, ``text:SIZE`` with a whole SIZE
    from 6 to 128 (``text`` alone is 16)."""
    kind, _, value = str(spec).partition(":")
    if kind not in ("random", "block", "text") or (kind != "text" and not value):
        raise ValueError(f"unknown mask {spec!r}; {_MASK_USAGE}.")
    if kind == "random":
        try:
            fraction = float(value)
        except ValueError:
            raise ValueError(f"mask {spec!r}: {value!r} is not a number; "
                             f"{_MASK_USAGE}.") from None
        if not 0 < fraction < 1:
            raise ValueError(f"mask {spec!r}: the share of missing pixels must be in (0, 1), "
                             "e.g. random:0.5.")
        return kind, fraction
    if not value:
        return kind, 16
    if not value.isdigit():
        raise ValueError(f"mask {spec!r}: {value!r} is not a whole number of pixels; "
                         f"{_MASK_USAGE}.")
    size = int(value)
    if kind == "block" and size < 1:
        raise ValueError(f"mask {spec!r}: a block's side is 1 pixel or more.")
    if kind == "text" and not 6 <= size <= 128:
        raise ValueError(f"mask {spec!r}: the text's size is its height in pixels, from 6 to "
                         "128.")
    return kind, size


def parse_mask(spec: str, shape: tuple[int, int],
               rng: np.random.Generator | int | None = None) -> np.ndarray:
    """The known pixels (True where a pixel is kept) of a mask spec for an image of ``shape``
    (H, W): ``"random:P"`` (:func:`random_mask`), ``"block:SIZE"`` (:func:`block_mask`) or
    ``"text:SIZE"`` (:func:`text_mask`; ``"text"`` is 16-pixel text); see
    :func:`check_mask_spec`.

    The course calls the kept pixels ``known``; scikit-image's inpainting takes the opposite,
    the ``mask`` of the missing pixels (``~known``).
    """
    kind, value = check_mask_spec(spec)
    if kind == "random":
        return random_mask(shape, value, rng)
    if kind == "block":
        return block_mask(shape, value, rng)
    return text_mask(shape, value, rng)


def apply_mask(image: np.ndarray, known: np.ndarray, fill: float = 0.0) -> np.ndarray:
    """The float image with its unknown pixels (``known`` False; all channels) set to
    ``fill``: :math:`y = m \\odot x + (1 - m)\\,\\text{fill}`."""
    image = to_float(check_image(image))
    if known.shape != image.shape[:2] or known.dtype != bool:
        raise ValueError(f"the mask must be a boolean array of the image's (H, W) = "
                         f"{image.shape[:2]}, got {known.dtype} {known.shape}.")
    return np.where(known if image.ndim == 2 else known[..., None], image, fill)


# --------------------------------------------------------------------------------------------
# A composable, seeded pipeline
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Blur:
    """Gaussian blur step; see :func:`gaussian_blur`."""

    sigma: float

    def __call__(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return gaussian_blur(image, self.sigma)


@dataclass(frozen=True)
class Downsample:
    """Downsampling step by an integer ``scale``; see :func:`resize`."""

    scale: int
    method: str = "bicubic"

    def __call__(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return resize(image, 1 / check_scale(self.scale), self.method)


@dataclass(frozen=True)
class Noise:
    """Additive Gaussian noise step; see :func:`add_gaussian_noise`."""

    sigma: float

    def __call__(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return add_gaussian_noise(image, self.sigma, rng)


@dataclass(frozen=True)
class JPEG:
    """JPEG compression step; see :func:`jpeg_compress`."""

    quality: int

    def __call__(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return jpeg_compress(np.clip(image, 0.0, 1.0), self.quality)


Step = Callable[[np.ndarray, np.random.Generator], np.ndarray]


class Pipeline:
    """Apply degradation steps in order, with reproducible randomness.

    Parameters
    ----------
    steps : sequence of callables ``step(image, rng) -> image``
        Usually :class:`Blur`, :class:`Downsample`, :class:`Noise`, :class:`JPEG`.
    seed : int
        Seeds the generator each call uses unless one is passed, so the same pipeline on
        the same image always gives the same result.

    Examples
    --------
    >>> degrade = Pipeline([Blur(1.0), Downsample(4), Noise(0.01), JPEG(75)], seed=0)
    >>> lr = degrade(hr)                      # doctest: +SKIP
    """

    def __init__(self, steps: Sequence[Step], seed: int = 0) -> None:
        for step in steps:
            if not callable(step):
                raise TypeError(f"pipeline steps must be callables, got {step!r}.")
        self.steps = list(steps)
        self.seed = seed

    def __call__(
        self, image: np.ndarray, rng: np.random.Generator | int | None = None
    ) -> np.ndarray:
        image = check_image(image)
        if not np.issubdtype(image.dtype, np.floating):
            raise TypeError(
                f"a Pipeline takes float images in [0, 1], got {image.dtype}; "
                "convert with course_utils.images.to_float first."
            )
        image = image.astype(np.float64)
        rng = _as_rng(self.seed if rng is None else rng)
        for step in self.steps:
            image = step(image, rng)
        return image

    def __repr__(self) -> str:
        inner = ", ".join(repr(s) for s in self.steps)
        return f"Pipeline([{inner}], seed={self.seed})"
