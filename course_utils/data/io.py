"""Image files in and out: reading with the field's readers, atomic writing, folders.

* Files are read with Pillow (PNG, JPEG, BMP, TIFF ...); 16-bit colour PNGs, which Pillow
  would silently cut to 8 bits, are read with pypng.
* What comes back follows :mod:`course_utils.images`: float64 in [0, 1], ``(H, W)`` or
  ``(H, W, 3)``. Every conversion (bit depth, palette, CMYK, EXIF rotation, alpha) is
  documented in :func:`load_image`; transparency is never dropped silently.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..checks import check_image
from ..images import to_float, to_uint8

__all__ = ["IMAGE_EXTENSIONS", "center_crop", "list_images", "load_image", "save_image",
           "write_text"]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


def _png_header(path: Path) -> tuple[int, int] | None:
    """Return (bit depth, colour type) of a PNG file, or None if it is not a PNG."""
    with open(path, "rb") as f:
        head = f.read(26)
    if len(head) < 26 or head[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return head[24], head[25]


def _read_png16_colour(path: Path) -> np.ndarray:
    # Optional dependency, imported here: only 16-bit colour PNGs need pypng (pure Python),
    # which keeps all 16 bits where Pillow would cut them to 8.
    try:
        import png
    except ImportError as err:
        raise ValueError(f"{path} is a 16-bit colour PNG, which needs the package pypng to "
                         "keep its 16 bits: run `pip install pypng`.") from err
    try:
        width, height, rows, info = png.Reader(filename=str(path)).asDirect()
        array = np.vstack([np.asarray(row, dtype=np.uint16) for row in rows])
    except png.Error as err:  # pypng's errors (truncated file, bad chunk) are plain Exceptions
        raise ValueError(f"{type(err).__name__}: {err}") from err
    return array.reshape(height, width, info["planes"])


def load_image(path: str | os.PathLike, *, alpha: str = "raise") -> np.ndarray:
    """Read an image file as float64 in [0, 1], shape (H, W) or (H, W, 3).

    Conversions (all documented, none silent):

    * 8-bit grayscale/RGB: divided by 255; 16-bit: divided by 65535; 1-bit: 0 or 1.
    * Palette images are expanded to RGB (or grayscale if the palette is gray).
    * CMYK JPEGs are converted to RGB by Pillow; an EXIF orientation tag is applied.
    * An alpha channel (RGBA, LA): if every pixel is opaque it is dropped. Otherwise,
      ``alpha="raise"`` (default) raises, ``alpha="drop"`` drops it, and ``alpha="white"``
      composites the image over a white background.

    Parameters
    ----------
    path : str or path-like
    alpha : {"raise", "drop", "white"}

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file is not a readable image (corrupt, truncated, or another format), or it
        has transparency and ``alpha="raise"``.
    """
    if alpha not in ("raise", "drop", "white"):
        raise ValueError(f"alpha must be 'raise', 'drop' or 'white', got {alpha!r}.")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no image file at {path}.")
    try:
        header = _png_header(path)
        # 16-bit RGB, gray+alpha, RGBA (colour types 2, 4, 6): Pillow would cut them to 8 bits.
        if header is not None and header[0] == 16 and header[1] in (2, 4, 6):
            array = _read_png16_colour(path)
        else:
            with Image.open(path) as im:
                # Phone photos store their rotation in EXIF; apply it as viewers do.
                im = ImageOps.exif_transpose(im)
                im.load()
                array = _pil_to_array(im)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise ValueError(
            f"could not read {path} as an image ({type(err).__name__}: {err}). The file may be "
            "truncated or corrupt, or not an image at all; supported: PNG, JPEG, BMP, TIFF."
        ) from err

    image = to_float(array, alpha=True) if array.dtype != bool else array * 1.0
    if image.ndim == 3 and image.shape[2] in (2, 4):
        image = _remove_alpha(image, alpha, path)
    return image.astype(np.float64)


def _pil_to_array(im: Image.Image) -> np.ndarray:
    if im.mode == "P":
        palette = np.asarray(im.getpalette() or [0, 0, 0], dtype=np.uint8).reshape(-1, 3)
        gray = bool(np.all(palette == palette[:, :1]))
        transparent = "transparency" in im.info
        im = im.convert(("LA" if transparent else "L") if gray
                        else ("RGBA" if transparent else "RGB"))
    elif im.mode == "CMYK" or im.mode == "YCbCr":
        im = im.convert("RGB")
    elif im.mode in ("I;16", "I;16B", "I;16L"):
        return np.asarray(im).astype(np.uint16)
    elif im.mode == "I":
        # 16-bit grayscale PNGs open as 32-bit "I"; their values still fit 0..65535.
        array = np.asarray(im)
        if array.min() < 0 or array.max() > 65535:
            raise ValueError(f"32-bit integer image with values outside 0..65535 ({im.mode}).")
        return array.astype(np.uint16)
    elif im.mode not in ("1", "L", "LA", "RGB", "RGBA"):
        raise ValueError(f"unsupported image mode {im.mode!r}; convert it to RGB or L first.")
    return np.asarray(im)


def _remove_alpha(image: np.ndarray, alpha: str, path: Path) -> np.ndarray:
    colour, opacity = image[..., :-1], image[..., -1:]
    if alpha == "white":
        image = colour * opacity + (1.0 - opacity)
    elif alpha == "drop" or np.all(opacity == 1.0):
        image = colour
    else:
        raise ValueError(
            f"{path} has transparent pixels (alpha channel). Choose what they mean: "
            "load_image(path, alpha='drop') keeps the colours, alpha='white' composites over white."
        )
    return image[..., 0] if image.shape[2] == 1 else image


def _replace_atomically(path: Path, write) -> Path:
    """Write with ``write(tmp)`` to a temporary file beside ``path``, then rename it into place:
    an interrupted write (a crash, Ctrl-C, a full disk) never leaves half a file at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def save_image(path: str | os.PathLike, image: np.ndarray) -> Path:
    """Save an image as 8-bit (float and uint16 images are quantised with
    :func:`~course_utils.images.to_uint8`), atomically.

    The format follows the file extension (PNG, JPEG, BMP, TIFF).

    Raises
    ------
    ValueError
        An extension that is not an image format (the file would not be what its name says).
    """
    path = Path(path)
    formats = Image.registered_extensions()
    if path.suffix.lower() not in formats:
        raise ValueError(f"cannot save {path}: {path.suffix or 'no extension'} is not an image "
                         "format; use .png (lossless), .jpg, .bmp or .tif.")
    pixels = to_uint8(image)
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[..., 0]
    return _replace_atomically(path, lambda tmp: Image.fromarray(pixels).save(
        tmp, format=formats[path.suffix.lower()]))


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write a text file (a model card, a JSON report, a registry) atomically."""
    return _replace_atomically(Path(path), lambda tmp: Path(tmp).write_text(text))


def center_crop(image: np.ndarray, size: int | None) -> np.ndarray:
    """Cut the central ``size`` x ``size`` square (fast mode's small inputs); ``None`` keeps all.

    Raises
    ------
    ValueError
        If the image is smaller than ``size`` along either axis.
    """
    image = check_image(image)
    if size is None:
        return image
    h, w = image.shape[:2]
    if size < 1 or size > min(h, w):
        raise ValueError(f"cannot cut a {size}x{size} centre crop from an image of size "
                         f"{h}x{w}; choose a size from 1 to {min(h, w)}.")
    top, left = (h - size) // 2, (w - size) // 2
    return image[top:top + size, left:left + size]


def list_images(folder: str | os.PathLike) -> tuple[list[Path], list[Path]]:
    """Split the files of a folder into image files (by extension) and the rest, sorted."""
    folder = Path(folder)
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder} is not a folder.")
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    images = [p for p in files if p.suffix.lower() in IMAGE_EXTENSIONS]
    return images, [p for p in files if p not in images]

