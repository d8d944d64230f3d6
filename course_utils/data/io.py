"""Image files in and out: reading with the field's readers, atomic writing, folders.

* Files are read with Pillow (PNG, JPEG, BMP, TIFF ...); 16-bit colour PNGs and TIFFs, which
  Pillow would silently cut to 8 bits, are read with pypng and tifffile.
* Memory is bounded: an image of more than :data:`MAX_PIXELS` pixels is refused from its
  header, before it is decoded (``max_pixels`` raises the limit), and :class:`ImageFolder`
  reads a folder's images one at a time, when each is used.
* What comes back follows :mod:`course_utils.images`: float64 in [0, 1], ``(H, W)`` or
  ``(H, W, 3)``. Every conversion (bit depth, palette, CMYK, EXIF rotation, alpha) is
  documented in :func:`load_image`; transparency is never dropped silently.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import numpy as np
import tifffile
from PIL import Image, ImageOps, UnidentifiedImageError

from ..checks import check_image
from ..images import to_float, to_uint8

__all__ = ["IMAGE_EXTENSIONS", "MAX_PIXELS", "ImageFolder", "ImageTooLarge", "center_crop",
           "list_images", "load_image", "remove_dead_partials", "save_image", "sha256_of",
           "write_atomically", "write_text"]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")

#: The largest image :func:`load_image` decodes by default: 36 megapixels, a 6000x6000 photo,
#: which the evaluation command was measured to score in under 1.5 GB for the whole process at
#: super-resolution and in under 2.7 GB at restoration (an RGB photo's noise and noisy copy are
#: float64 images; ``benchmarks/memory.py``, README). A small file can hold a huge image: a PNG
#: of 9600x9600 zeros is 89 KB.
MAX_PIXELS = 36_000_000


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


class ImageTooLarge(ValueError):
    """An image file holds more pixels than the limit (:data:`MAX_PIXELS`)."""


def _check_size(path: Path, width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise ImageTooLarge(
            f"{path} is {width}x{height} pixels ({width * height / 1e6:.1f} MP), more than the "
            f"limit of {max_pixels / 1e6:g} MP that keeps memory bounded (scoring a 36 MP "
            "image takes about 1.4 GB); it was not decoded. Use a smaller image, or raise the "
            "limit (load_image(..., max_pixels=N); the evaluate command's --max-pixels).")


def _read_tiff16(path: Path) -> np.ndarray:
    # tifffile keeps every bit of 16-bit colour TIFFs, which Pillow cuts to 8 bits.
    array = tifffile.imread(path)
    if array.ndim == 3 and array.shape[0] in (3, 4) and array.shape[2] not in (3, 4):
        array = np.moveaxis(array, 0, -1)  # planar (C, H, W) storage
    return array


def load_image(path: str | os.PathLike, *, alpha: str = "raise",
               max_pixels: int = MAX_PIXELS, as_float: bool = True) -> np.ndarray:
    """Read an image file as float64 in [0, 1], shape (H, W) or (H, W, 3).

    Conversions (all documented, none silent):

    * 8-bit grayscale/RGB: divided by 255; 16-bit: divided by 65535; 1-bit: 0 or 1.
    * Palette images are expanded to RGB (or grayscale if the palette is gray).
    * CMYK JPEGs are converted to RGB by Pillow; an EXIF orientation tag is applied.
    * An alpha channel (RGBA, LA): if every pixel is opaque it is dropped. Otherwise,
      ``alpha="raise"`` (default) raises, ``alpha="drop"`` drops it, ``alpha="warn"`` drops it
      with a warning that names the file, and ``alpha="white"`` composites the image over a
      white background.

    Parameters
    ----------
    path : str or path-like
    alpha : {"raise", "drop", "warn", "white"}
    max_pixels : int
        Refuse images with more pixels (:data:`MAX_PIXELS`), checked from the file's header
        before anything is decoded.
    as_float : bool
        ``False`` returns the stored integers instead, uint8 or uint16 (1-bit images as uint8
        0 or 255), which :func:`~course_utils.images.to_float` turns into exactly the float
        image: 1/8 of the memory for an 8-bit image (108 MB instead of 864 MB for a 6000x6000
        RGB photo). A transparent image composited over white (``alpha="white"``) is float64
        either way.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file is not a readable image (corrupt, truncated, or another format), it is
        larger than ``max_pixels``, or it has transparency and ``alpha="raise"``.
    """
    if alpha not in ("raise", "drop", "warn", "white"):
        raise ValueError(f"alpha must be 'raise', 'drop', 'warn' or 'white', got {alpha!r}.")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no image file at {path}.")
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb limit (89 MP: a warning, 179 MP: an error) is replaced by
            # max_pixels, checked below from the header before anything is decoded.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            saved, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
            try:
                im = Image.open(path)
            finally:
                Image.MAX_IMAGE_PIXELS = saved
        with im:
            _check_size(path, *im.size, max_pixels)
            header = _png_header(path)
            bits = im.tag_v2.get(258, (8,)) if im.format == "TIFF" else (8,)
            # 16-bit RGB, gray+alpha, RGBA (colour types 2, 4, 6): Pillow would cut them to 8 bits.
            if header is not None and header[0] == 16 and header[1] in (2, 4, 6):
                array = _read_png16_colour(path)
            elif max(bits) > 8 and len(bits) > 1:  # a 16-bit colour TIFF
                array = _read_tiff16(path)
            else:
                # Phone photos store their rotation in EXIF; apply it as viewers do.
                im = ImageOps.exif_transpose(im)
                im.load()
                array = _pil_to_array(im)
    except ImageTooLarge:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            tifffile.TiffFileError) as err:
        raise ValueError(
            f"could not read {path} as an image ({type(err).__name__}: {err}). The file may be "
            "truncated or corrupt, or not an image at all; supported: PNG, JPEG, BMP, TIFF."
        ) from err

    if array.dtype == bool:
        image = array * 1.0 if as_float else array.astype(np.uint8) * np.uint8(255)
    else:
        image = to_float(array, alpha=True) if as_float else array
    if image.ndim == 3 and image.shape[2] in (2, 4):
        image = _remove_alpha(image, alpha, path)
    return image.astype(np.float64, copy=False) if as_float else image


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
    # float in [0, 1], or the stored integers (load_image(as_float=False)): opaque is their max
    opaque = np.iinfo(image.dtype).max if np.issubdtype(image.dtype, np.integer) else 1.0
    if alpha == "white":
        image = to_float(image, alpha=True)
    colour, opacity = image[..., :-1], image[..., -1:]
    if alpha == "white":
        image = colour * opacity + (1.0 - opacity)
    elif alpha == "drop" or np.all(opacity == opaque):
        image = colour
    elif alpha == "warn":
        warnings.warn(f"{path} has transparent pixels: its alpha channel was dropped (the "
                      "colours are scored as they are stored)", stacklevel=3)
        image = colour
    else:
        raise ValueError(
            f"{path} has transparent pixels (alpha channel). Choose what they mean: "
            "load_image(path, alpha='drop') keeps the colours, alpha='white' composites over white."
        )
    return image[..., 0] if image.shape[2] == 1 else image


def sha256_of(path: str | os.PathLike) -> str:
    """SHA-256 of a file, in hex (read in 1 MiB blocks: memory stays small)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_dead_partials(folder: Path, prefix: str) -> None:
    """Remove the temporary files or folders ``PREFIX<pid>-...`` in ``folder`` whose process
    is gone: what a process killed outright (SIGKILL) left behind. A live process's are kept,
    so that several processes can work in one cache at once."""
    for stale in folder.glob(f"{prefix}*"):
        pid = stale.name[len(prefix):].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            if stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
            else:
                stale.unlink(missing_ok=True)


def write_atomically(path: str | os.PathLike, write: Callable[[str], object]) -> Path:
    """Write a file with ``write(tmp)`` to a temporary file beside ``path``, then rename it
    into place: an interrupted write (a crash, Ctrl-C, SIGTERM, a full disk) never leaves half
    a file at ``path``, and an existing file stays whole until the new one is complete.

    The temporary file (``.NAME.PID-XXXX.partial``) is removed on any error; one left by a
    process killed outright (SIGKILL) is removed by the next write to ``path``. The file gets
    the permissions of any new file (``0o666`` minus the umask), not ``mkstemp``'s ``0o600``.
    Every file the course writes goes through here (images, model cards, JSON results,
    checkpoints).
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"cannot write {path}: it is a folder; give a file name "
                                f"inside it, e.g. {path / 'results.json'}.")
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_dead_partials(path.parent, f".{path.name}.")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}-",
                               suffix=".partial")
    os.close(fd)
    try:
        write(tmp)
        umask = os.umask(0)  # read the umask (there is no other way), then put it back
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # after write: a writer may replace the file
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
    return write_atomically(path, lambda tmp: Image.fromarray(pixels).save(
        tmp, format=formats[path.suffix.lower()]))


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write a text file (a model card, a JSON report, a registry) atomically."""
    return write_atomically(Path(path), lambda tmp: Path(tmp).write_text(text))


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



class ImageFolder(Mapping):
    """The image files of a folder as ``{key: image}``, each read only when it is looked up.

    Nothing is decoded up front: scoring a folder of photos holds one of them in memory at a
    time, not the whole folder. Files that are not images (by extension) are skipped with a
    warning; an unreadable image raises ``ValueError`` when it is looked up, naming the file. A
    transparent image's alpha channel is dropped with a warning (``load_image(alpha="warn")``).

    Parameters
    ----------
    folder : path
    role : str
        What the folder holds, for messages ("HR", "LR").
    names : mapping, optional
        ``{key: file name}`` to look images up under other keys (LR files paired with HR
        names); default: every image file under its own name.
    max_pixels : int
        :func:`load_image`'s limit.
    as_float : bool
        ``False``: each image as its stored integers (:func:`load_image`'s ``as_float``),
        1/8 of the memory of float64 for an 8-bit image; the evaluation reads them so.
    """

    def __init__(self, folder: str | os.PathLike, role: str = "image",
                 names: Mapping[str, str] | None = None, max_pixels: int = MAX_PIXELS,
                 as_float: bool = True) -> None:
        folder = Path(folder)
        paths, others = list_images(folder)
        for p in others:
            warnings.warn(f"skipping {p.name} in the {role} folder: not an image file",
                          stacklevel=2)
        if not paths:
            raise ValueError(f"the {role} folder {folder} holds no image files (PNG, JPEG, BMP "
                             "or TIFF).")
        by_name = {p.name: p for p in paths}
        self.paths = {key: by_name[name] for key, name in names.items()} if names else by_name
        self.role, self.max_pixels, self.as_float = role, max_pixels, as_float

    def __getitem__(self, key: str) -> np.ndarray:
        return load_image(self.paths[key], alpha="warn", max_pixels=self.max_pixels,
                          as_float=self.as_float)

    def __iter__(self) -> Iterator[str]:
        return iter(self.paths)

    def __len__(self) -> int:
        return len(self.paths)
