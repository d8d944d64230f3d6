"""The course's image conventions, in one place.

* An image is a NumPy array, ``(H, W)`` grayscale or ``(H, W, 3)`` RGB, channels last
  (``(H, W, 1)`` is accepted as grayscale).
* Pixel values are float in [0, 1], or an integer type whose full range maps to [0, 1]:
  uint8 is divided by 255, uint16 by 65535 (:func:`to_float`). :func:`to_uint8` is the
  inverse that saving an 8-bit PNG performs: clip, scale, round.
* A network sees a ``(N, C, H, W)`` float32 tensor in [0, 1] (:func:`image_to_tensor`).
* Colour: ITU-R BT.601 YCbCr in studio range, as MATLAB's ``rgb2ycbcr``, the conversion behind
  every published super-resolution table (:func:`rgb_to_ycbcr`, :func:`rgb_to_y`).
"""

from __future__ import annotations

import numpy as np
import torch

from .checks import check_image

__all__ = [
    "GRAY_WEIGHTS",
    "STRIP_ROWS",
    "YCBCR_MATRIX",
    "YCBCR_OFFSET",
    "as_rgb",
    "image_to_tensor",
    "is_gray",
    "rgb_to_y",
    "rgb_to_y_torch",
    "rgb_to_ycbcr",
    "tensor_to_image",
    "to_float",
    "to_gray",
    "to_uint8",
    "y_channel",
    "ycbcr_to_rgb",
]


def to_float(image: np.ndarray, alpha: bool = False) -> np.ndarray:
    """Convert an image to float64 in [0, 1]: integer types are divided by their maximum.

    .. math:: x_{float} = x / (2^b - 1)

    for a ``b``-bit unsigned integer image (255 for uint8, 65535 for uint16). Float images
    are returned as float64, values unchanged. ``alpha=True`` also takes the 2- and
    4-channel arrays (gray+alpha, RGBA) that files hold.
    """
    image = check_image(image, alpha=alpha)
    if np.issubdtype(image.dtype, np.integer):
        return image / float(np.iinfo(image.dtype).max)
    return image.astype(np.float64)


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Quantise an image to uint8: clip to [0, 1], multiply by 255, round half up.

    This is what saving a float image as an 8-bit PNG does. uint8 input is returned as is;
    uint16 input is rescaled. NaN or inf values raise ``ValueError`` (they have no 8-bit value).
    """
    image = check_image(image)
    if image.dtype == np.uint8:
        return image
    out = np.empty(image.shape, dtype=np.uint8)
    # STRIP_ROWS at a time: the float temporaries of a 36-megapixel RGB image would take 1.7 GB
    for top in range(0, image.shape[0], STRIP_ROWS):
        strip = to_float(image[top:top + STRIP_ROWS])
        if not np.isfinite(strip).all():
            raise ValueError("the image holds NaN or inf values, which have no 8-bit value: a "
                             "computation or a model diverged; check it before scoring or "
                             "saving.")
        out[top:top + STRIP_ROWS] = np.floor(np.clip(strip, 0.0, 1.0) * 255.0 + 0.5)
    return out


def is_gray(image: np.ndarray) -> bool:
    """True for a single-channel image, ``(H, W)`` or ``(H, W, 1)``."""
    return image.ndim == 2 or image.shape[2] == 1


def as_rgb(image: np.ndarray) -> np.ndarray:
    """A gray image repeated into R = G = B, ``(H, W, 3)``; an RGB image is returned as is."""
    image = check_image(image)
    if not is_gray(image):
        return image
    return np.repeat(image.reshape(image.shape[0], image.shape[1], 1), 3, axis=2)


#: MATLAB's ``rgb2gray`` weights of R, G and B (BT.601 luma, full range), to all their digits.
GRAY_WEIGHTS = np.array([0.298936021293775, 0.587043074451121, 0.114020904255103])


def to_gray(image: np.ndarray) -> np.ndarray:
    """A colour image as MATLAB's ``rgb2gray`` makes it: uint8, rounded, full range.

    .. math:: g = 0.2989\\,R + 0.5870\\,G + 0.1140\\,B

    on the 8-bit values (the gray images of the denoising benchmarks, BSD68 and Set12, were
    made this way). A gray image is returned as uint8 (:func:`to_uint8`), unchanged otherwise.
    """
    pixels = to_uint8(image)
    if is_gray(pixels):
        return pixels.reshape(pixels.shape[:2])
    return np.floor(pixels @ GRAY_WEIGHTS + 0.5).astype(np.uint8)


#: BT.601 studio-range matrix of MATLAB's ``rgb2ycbcr`` (rows Y, Cb, Cr; RGB in [0, 1]).
YCBCR_MATRIX = np.array([[65.481, 128.553, 24.966],
                         [-37.797, -74.203, 112.0],
                         [112.0, -93.786, -18.214]])
YCBCR_OFFSET = np.array([16.0, 128.0, 128.0])


def rgb_to_ycbcr(image: np.ndarray) -> np.ndarray:
    """YCbCr of ITU-R BT.601 in studio range, on the 8-bit scale (MATLAB's ``rgb2ycbcr``).

    .. math:: [Y, C_b, C_r]^T = [16, 128, 128]^T + M [R, G, B]^T

    with R, G, B in [0, 1] (:func:`to_float`) and M = :data:`YCBCR_MATRIX`. Returns float64
    ``(H, W, 3)``: Y in [16, 235], Cb and Cr in [16, 240]. Not rounded. A gray image is
    treated as R = G = B (:func:`as_rgb`) and gives Cb = Cr = 128.
    """
    return _by_rows(image, lambda rows: YCBCR_OFFSET + as_rgb(to_float(rows)) @ YCBCR_MATRIX.T,
                    (3,))


#: Rows per strip of the conversions that work a strip at a time (:func:`rgb_to_ycbcr`,
#: :func:`rgb_to_y`; the imresize and the scores of large images): a strip's float64 arrays
#: stay a few MB per 1000 pixels of width, whatever the image's height.
STRIP_ROWS = 64


def _by_rows(image: np.ndarray, convert, channels: tuple[int, ...]) -> np.ndarray:
    """``convert(image)`` as float64, computed ``STRIP_ROWS`` rows at a time, so that no
    float64 copy of the whole input is made. NumPy's matrix products work row by row, so
    each strip's values are bit for bit those of the whole (the tests check it)."""
    image = check_image(image)
    out = np.empty(image.shape[:2] + channels)
    for top in range(0, image.shape[0], STRIP_ROWS):
        out[top:top + STRIP_ROWS] = convert(image[top:top + STRIP_ROWS])
    return out


def ycbcr_to_rgb(ycbcr: np.ndarray) -> np.ndarray:
    """Inverse of :func:`rgb_to_ycbcr`: RGB float in [0, 1] (clipped) from 8-bit-scale YCbCr."""
    if ycbcr.ndim != 3 or ycbcr.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) YCbCr array, got shape {ycbcr.shape}.")
    rgb = (ycbcr - YCBCR_OFFSET) @ np.linalg.inv(YCBCR_MATRIX).T
    return np.clip(rgb, 0.0, 1.0)


def rgb_to_y(image: np.ndarray) -> np.ndarray:
    """Luma Y of ITU-R BT.601 in studio range, the first channel of :func:`rgb_to_ycbcr`.

    .. math:: Y = 16 + 65.481 R + 128.553 G + 24.966 B

    with R, G, B in [0, 1]; Y lies in [16, 235] on the 8-bit scale. A gray image is treated
    as R = G = B = g, giving :math:`Y = 16 + 219 g` (the Y-channel models' input). Not
    rounded: see :func:`y_channel`.
    """
    return _by_rows(image, lambda rows: 16.0 + as_rgb(to_float(rows)) @ YCBCR_MATRIX[0], ())


def y_channel(image: np.ndarray) -> np.ndarray:
    """Y as the evaluation scripts compute it: quantise to 8 bits, convert, round.

    MATLAB's ``rgb2ycbcr`` on a uint8 image returns uint8, so published numbers are computed
    on integer Y. Returns float64 values in [16, 235].
    """
    return np.floor(rgb_to_y(to_uint8(image)) + 0.5)


def image_to_tensor(image: np.ndarray, mode: str = "rgb") -> torch.Tensor:
    """An image as a ``(1, C, H, W)`` float32 tensor in [0, 1], the networks' input.

    Parameters
    ----------
    image : ndarray, shape (H, W) or (H, W, 3)
        uint8, uint16 or float in [0, 1].
    mode : {"rgb", "y", "gray"}
        ``"rgb"``: three channels (a gray image is repeated, :func:`as_rgb`); ``"gray"``:
        the channels as they are (a gray image gives C = 1, an RGB one C = 3); ``"y"``: the
        BT.601 luma of :func:`rgb_to_y` scaled to [0, 1] as ``Y / 255``, the input of the
        Y-channel models.
    """
    image = check_image(image)
    if mode == "y":
        array = rgb_to_y(image)[..., None] / 255.0
    elif mode == "rgb":
        array = as_rgb(to_float(image))
    elif mode == "gray":
        array = to_float(image)
        array = array[..., None] if array.ndim == 2 else array
    else:
        raise ValueError(f"mode must be 'rgb', 'gray' or 'y', got {mode!r}.")
    return torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1), np.float32))[None]


def tensor_to_image(tensor: torch.Tensor) -> np.ndarray:
    """Inverse of :func:`image_to_tensor` for ``mode="rgb"`` or ``"gray"``: ``(1, C, H, W)``
    to an ``(H, W)`` or ``(H, W, C)`` float64 array, clipped to [0, 1]."""
    if tensor.ndim != 4 or tensor.shape[0] != 1:
        raise ValueError(f"expected a (1, C, H, W) tensor, got shape {tuple(tensor.shape)}.")
    array = tensor[0].detach().double().clamp(0, 1).cpu().numpy().transpose(1, 2, 0)
    return array[..., 0] if array.shape[2] == 1 else array


def rgb_to_y_torch(x: torch.Tensor) -> torch.Tensor:
    """Y of an ``(N, 3, H, W)`` batch in [0, 1], scaled to [0, 1]: :math:`Y_{8bit} / 255`.

    The same BT.601 formula as :func:`rgb_to_y`, without rounding, for training on Y.
    """
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"expected an (N, 3, H, W) RGB batch, got {tuple(x.shape)}.")
    weights = torch.tensor(YCBCR_MATRIX[0], dtype=x.dtype, device=x.device)
    return (16.0 + torch.einsum("nchw,c->nhw", x, weights))[:, None] / 255.0
