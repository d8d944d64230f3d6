"""Input validation shared by the course modules.

Every public function that takes an image calls these, so a student who passes the wrong
thing gets one clear sentence saying what was wrong and what to do, not a broadcasting error
three calls deeper.
"""

from __future__ import annotations

import numbers

import numpy as np


def check_image(image: np.ndarray, name: str = "image", alpha: bool = False) -> np.ndarray:
    """Check that ``image`` is a course image and return it as an ndarray.

    Course images are channel-last NumPy arrays: ``(H, W)`` for grayscale or ``(H, W, 3)``
    for RGB, either floating point in [0, 1] or an integer type (uint8/uint16). With
    ``alpha=True`` a gray+alpha or RGBA array (2 or 4 channels, as read from a file) passes.
    """
    if not isinstance(image, np.ndarray):
        raise TypeError(
            f"{name} must be a NumPy array, got {type(image).__name__}; "
            "load files with course_utils.data.load_image."
        )
    if image.ndim == 3 and image.shape[2] in (2, 4) and alpha:
        pass
    elif image.ndim == 3 and image.shape[2] == 4:
        raise ValueError(
            f"{name} has 4 channels (RGBA, shape {image.shape}); drop or composite the alpha "
            "channel first, e.g. load_image(path, alpha='drop')."
        )
    elif image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (1, 3)):
        raise ValueError(
            f"{name} must have shape (H, W) for grayscale or (H, W, 3) for RGB (channels last), "
            f"got shape {image.shape}. A torch tensor (C, H, W) must be permuted to (H, W, C)."
        )
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {image.shape}).")
    if not (np.issubdtype(image.dtype, np.floating) or image.dtype in (np.uint8, np.uint16)):
        raise TypeError(
            f"{name} has dtype {image.dtype}; use float in [0, 1], uint8 or uint16."
        )
    return image


def check_same_shape(a: np.ndarray, b: np.ndarray, names: tuple[str, str]) -> None:
    """Raise a clear error if two images differ in shape."""
    if a.shape != b.shape:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same shape, got {a.shape} and {b.shape}. "
            "For super-resolution, modcrop the HR image so its size is a multiple of the scale."
        )


def check_scale(scale: object, name: str = "scale") -> int:
    """Return ``scale`` as an int, or raise if it is not an integer of at least 1.

    Super-resolution scales are integers (x2, x3, x4): the HR grid must align with the LR one.
    ``3.0`` is accepted; ``2.5`` and ``"3"`` are not.
    """
    if isinstance(scale, bool) or not isinstance(scale, numbers.Real):
        raise TypeError(f"{name} must be an integer such as 2, 3 or 4, got {scale!r}.")
    if not float(scale).is_integer() or scale < 1:
        raise ValueError(
            f"{name} must be a whole number of at least 1 (2, 3, 4 ...), got {scale!r}; "
            "for arbitrary resizing use course_utils.degrade.imresize."
        )
    return int(scale)
