"""Images in and out, the course's image domains, and checksummed downloads.

Conventions used everywhere in the course:

* an image is a NumPy array, ``(H, W)`` grayscale or ``(H, W, 3)`` RGB, channels last;
* pixel values are float in [0, 1]: 8-bit files are divided by 255, 16-bit files by 65535;
* files are read with Pillow (PNG, JPEG, BMP, TIFF ...); 16-bit colour PNGs, which Pillow
  would silently cut to 8 bits, are read with pypng.

Downloads go through a registry (name, URL, SHA-256, licence) in ``data/registry.tsv`` and
land in a cache folder (``COURSE_DATA_CACHE`` overrides it). Every use re-verifies the
cached file's hash; a download is written to a temporary file and only moved into place once
its hash matches, so an interrupted or corrupted download never poisons the cache.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .checks import check_image

__all__ = [
    "IMAGE_EXTENSIONS",
    "DOMAIN_SAMPLES",
    "NATURAL_GRAY_PHOTOS",
    "NATURAL_PHOTOS",
    "DataUnavailableError",
    "Registry",
    "cache_dir",
    "center_crop",
    "data_dir",
    "domain_samples",
    "fetch",
    "fetch_benchmark",
    "list_images",
    "load_image",
    "natural_images",
    "save_image",
    "to_float",
    "to_uint8",
]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


# --------------------------------------------------------------------------------------------
# Reading and writing images
# --------------------------------------------------------------------------------------------


def to_float(image: np.ndarray) -> np.ndarray:
    """Convert an integer image to float64 in [0, 1] (divide by 255 or 65535).

    Float images are returned as float64 unchanged.
    """
    image = check_image(image)
    if np.issubdtype(image.dtype, np.integer):
        return image / float(np.iinfo(image.dtype).max)
    return image.astype(np.float64)


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Quantise an image to uint8: clip to [0, 1], multiply by 255, round to nearest.

    This is what saving a float image as an 8-bit PNG does. uint8 input is returned as is;
    uint16 input is rescaled.
    """
    image = check_image(image)
    if image.dtype == np.uint8:
        return image
    image = to_float(image)
    return np.floor(np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def _png_header(path: Path) -> tuple[int, int] | None:
    """Return (bit depth, colour type) of a PNG file, or None if it is not a PNG."""
    with open(path, "rb") as f:
        head = f.read(26)
    if len(head) < 26 or head[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return head[24], head[25]


def _read_png16_colour(path: Path) -> np.ndarray:
    import png  # pypng: pure Python, keeps all 16 bits of colour PNGs

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

    image = array / float(np.iinfo(array.dtype).max) if array.dtype != bool else array * 1.0
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


def save_image(path: str | os.PathLike, image: np.ndarray) -> Path:
    """Save an image as 8-bit (float images are quantised with :func:`to_uint8`).

    The format follows the file extension. The file is written to a temporary name and
    renamed, so a crash never leaves a half-written image.
    """
    path = Path(path)
    pixels = to_uint8(image)
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[..., 0]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    Image.fromarray(pixels).save(tmp, format=Image.registered_extensions().get(
        path.suffix.lower(), "PNG"))
    os.replace(tmp, path)
    return path


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


# --------------------------------------------------------------------------------------------
# Shipped data: the natural-photo domain
# --------------------------------------------------------------------------------------------


def data_dir() -> Path:
    """The course's ``data/`` folder (beside ``course_utils/``; ``COURSE_DATA_DIR`` overrides)."""
    override = os.environ.get("COURSE_DATA_DIR")
    return Path(override) if override else Path(__file__).resolve().parent.parent / "data"


@dataclass(frozen=True)
class Photo:
    """A real photo shipped inside an installed package."""

    name: str
    package: str
    relative_path: str
    licence: str
    split: str  # "train" or "heldout"

    def path(self) -> Path:
        """Locate the file in the installed package (raises if the package is missing)."""
        import importlib

        try:
            module = importlib.import_module(self.package)
        except ImportError as err:
            raise DataUnavailableError(
                f"the photo {self.name!r} ships with the package {self.package!r}, which is not "
                f"installed; run `pip install {self.package.replace('_', '-')}` "
                "(or set up the course environment with `make lab`)."
            ) from err
        return Path(module.__file__).parent / self.relative_path

    def load(self) -> np.ndarray:
        return load_image(self.path())


#: The natural-photo source domain: real photos from installed packages, split once, for good.
#: Held-out photos are never used for training in any unit.
NATURAL_PHOTOS = (
    Photo("astronaut", "skimage", "data/astronaut.png",
          "public domain (NASA), via scikit-image", "train"),
    Photo("chelsea", "skimage", "data/chelsea.png",
          "CC0 (Stefan van der Walt), via scikit-image", "train"),
    Photo("rocket", "skimage", "data/rocket.jpg",
          "public domain (SpaceX), via scikit-image", "train"),
    Photo("motorcycle", "skimage", "data/motorcycle_left.png",
          "Middlebury 2014 stereo benchmark (Scharstein et al.), via scikit-image", "train"),
    Photo("china", "sklearn", "datasets/images/china.jpg",
          "CC BY 2.0 (danielbuechele on Flickr), via scikit-learn", "train"),
    Photo("department_store", "mahotas", "demos/data/DepartmentStore.jpg",
          "MIT (mahotas package data)", "train"),
    Photo("luispedro", "mahotas", "demos/data/luispedro.jpg",
          "MIT (mahotas package data)", "train"),
    Photo("coffee", "skimage", "data/coffee.png",
          "CC0 (Rachel Michetti), via scikit-image", "heldout"),
    Photo("flower", "sklearn", "datasets/images/flower.jpg",
          "CC BY 2.0 (vultilion on Flickr), via scikit-learn", "heldout"),
    Photo("grace_hopper", "matplotlib", "mpl-data/sample_data/grace_hopper.jpg",
          "public domain (US Navy), via matplotlib", "heldout"),
)

#: Grayscale natural photos, for training the Y-channel source models only. They add scenes
#: and fine texture (brick, grass, gravel) to the training data; a Y-channel model sees a gray
#: photo exactly as it sees the luma of a colour one. Kept apart from :data:`NATURAL_PHOTOS`,
#: whose photos are all RGB; ``natural_images("train", gray=True)`` adds them.
NATURAL_GRAY_PHOTOS = (
    Photo("camera", "skimage", "data/camera.png",
          "CC0 (Lav Varshney), via scikit-image", "train"),
    Photo("coins", "skimage", "data/coins.png",
          "no known copyright restrictions (Brooklyn Museum), via scikit-image", "train"),
    Photo("brick", "skimage", "data/brick.png",
          "CC0 (CC0Textures), via scikit-image", "train"),
    Photo("grass", "skimage", "data/grass.png",
          "CC0 (linolafett on DeviantArt), via scikit-image", "train"),
    Photo("gravel", "skimage", "data/gravel.png",
          "CC0 (CC0Textures), via scikit-image", "train"),
)

#: One sample of each other domain the course adapts to, for the welcome gallery. Units 05+
#: read the medical domains with pydicom and nibabel.
DOMAIN_SAMPLES = (
    Photo("retina (medical, fundus)", "skimage", "data/retina.jpg",
          "CC0 (Mikael Häggström), via scikit-image", "sample"),
    Photo("histology (microscopy)", "skimage", "data/ihc.png",
          "no known copyright restrictions (CMMI), via scikit-image", "sample"),
    Photo("Hubble deep field (astronomy)", "skimage", "data/hubble_deep_field.jpg",
          "public domain (NASA), via scikit-image", "sample"),
)


def domain_samples() -> dict[str, np.ndarray]:
    """Load one sample image of each non-natural domain in :data:`DOMAIN_SAMPLES`."""
    return {p.name: p.load() for p in DOMAIN_SAMPLES}


def natural_images(split: str = "train", limit: int | None = None,
                   gray: bool = False) -> dict[str, np.ndarray]:
    """Load the natural-photo domain, ``{name: image}``, RGB float in [0, 1].

    Parameters
    ----------
    split : {"train", "heldout", "all"}
    limit : int, optional
        Keep only the first ``limit`` photos of the split (fast mode uses fewer).
    gray : bool
        Also include the grayscale training photos of :data:`NATURAL_GRAY_PHOTOS` (shape
        ``(H, W)``), after the RGB ones; they belong to the training split only. The shipped
        Y-channel source models are trained on both.
    """
    if split not in ("train", "heldout", "all"):
        raise ValueError(f"split must be 'train', 'heldout' or 'all', got {split!r}.")
    pool = NATURAL_PHOTOS + (NATURAL_GRAY_PHOTOS if gray else ())
    photos = [p for p in pool if split == "all" or p.split == split]
    if limit is not None:
        photos = photos[:limit]
    return {p.name: p.load() for p in photos}


# --------------------------------------------------------------------------------------------
# Checksummed downloads
# --------------------------------------------------------------------------------------------


class DataUnavailableError(RuntimeError):
    """A data file is neither in the cache nor downloadable (offline, moved, or corrupted)."""


def cache_dir() -> Path:
    """Where downloads are cached: ``COURSE_DATA_CACHE``, else the OS cache folder."""
    override = os.environ.get("COURSE_DATA_CACHE")
    if override:
        return Path(override)
    import pooch

    return Path(pooch.os_cache("tl-recon-course"))


@dataclass(frozen=True)
class Entry:
    """One downloadable file: where it comes from, its SHA-256 and its licence."""

    name: str
    url: str
    sha256: str
    licence: str = ""


class Registry:
    """A set of downloadable files, fetched into ``cache`` with their hashes verified.

    Parameters
    ----------
    entries : iterable of Entry
    cache : path-like, optional
        Defaults to :func:`cache_dir` at fetch time.
    """

    def __init__(self, entries, cache: str | os.PathLike | None = None) -> None:
        self.entries = {e.name: e for e in entries}
        self._cache = Path(cache) if cache is not None else None

    @classmethod
    def from_file(cls, path: str | os.PathLike, cache=None) -> Registry:
        """Read a tab-separated registry with columns name, url, sha256, licence."""
        with open(path, newline="") as f:
            rows = [r for r in csv.reader(f, delimiter="\t") if r and not r[0].startswith("#")]
        header, *rows = rows
        short = [r[0] for r in rows if len(r) < 3]
        if short:
            raise ValueError(f"{path}: rows {short} need at least name, url and sha256 "
                             "separated by tabs.")
        if header[:3] != ["name", "url", "sha256"]:
            raise ValueError(f"{path}: first line must be the header name, url, sha256, licence")
        return cls((Entry(*row) for row in rows), cache)

    @property
    def cache(self) -> Path:
        return self._cache if self._cache is not None else cache_dir()

    def __contains__(self, name: str) -> bool:
        return name in self.entries

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries.values())

    def path(self, name: str) -> Path:
        """Where ``name`` lives (or will live) in the cache."""
        return self.cache / self.entries[name].name

    def fetch(self, name: str, progress: bool = False) -> Path:
        """Return the local path of ``name``, downloading and verifying it if needed.

        A cached file is re-hashed on every call; if it does not match (corrupted, edited,
        half-copied) it is downloaded again. A manually downloaded file placed at
        :meth:`path` is used if its hash matches.

        Raises
        ------
        KeyError
            If ``name`` is not registered.
        DataUnavailableError
            If the file cannot be downloaded (offline, server error) or the download does
            not match the registered SHA-256. The message names the URL and the folder to
            place a manually downloaded copy in.
        """
        import pooch

        if name not in self.entries:
            close = [n for n in self.entries if name.split("/")[0] in n][:5]
            raise KeyError(f"{name!r} is not in the registry. Similar names: {close}")
        entry = self.entries[name]
        target = self.path(name)
        existed = target.exists()
        try:
            path = pooch.retrieve(
                entry.url,
                known_hash=f"sha256:{entry.sha256}",
                fname=Path(entry.name).name,
                path=target.parent,
                progressbar=progress,
            )
        except Exception as err:  # pooch raises requests', urllib3's and its own errors
            problem = (
                f"the cached copy at {target} does not match its SHA-256 and could not be "
                "downloaded again"
                if existed
                else f"could not download {name!r}"
            )
            if "hash" in str(err).lower() and "match" in str(err).lower():
                problem = f"the file downloaded for {name!r} does not match its SHA-256"
            raise DataUnavailableError(
                f"{problem}.\n  URL: {entry.url}\n  expected SHA-256: {entry.sha256}\n"
                f"  reason: {type(err).__name__}: {err}\n"
                f"If you are offline, download the file by hand and save it as\n  {target}\n"
                f"(folder {target.parent}); it is used as soon as its hash matches. "
                "Set COURSE_DATA_CACHE to use another cache folder."
            ) from err
        return Path(path)


def default_registry() -> Registry:
    """The course registry shipped in ``data/registry.tsv``."""
    return Registry.from_file(data_dir() / "registry.tsv")


def fetch(name: str, progress: bool = True) -> Path:
    """Fetch a file of the course registry; see :meth:`Registry.fetch`."""
    return default_registry().fetch(name, progress=progress)


BENCHMARKS = {"Set5": 5, "Set14": 14}


def fetch_benchmark(
    name: str, scale: int, registry: Registry | None = None
) -> tuple[list[Path], list[Path]]:
    """Download a standard SR benchmark set and return its (HR paths, LR paths).

    They land in ``<cache>/<name>/x<scale>/HR/`` and ``.../LR/``, ready for the
    evaluation command's ``--hr`` and ``--lr``.

    The files are the Set5/Set14 copies of ``jbhuang0604/SelfExSR``: HR images already
    modcropped for ``scale`` and LR images made with MATLAB's ``imresize``.
    """
    from .checks import check_scale

    if name not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {name!r}; choose one of {sorted(BENCHMARKS)}.")
    scale = check_scale(scale)
    if scale not in (2, 3, 4):
        raise ValueError(f"{name} is registered at scales 2, 3 and 4, not {scale}.")
    registry = registry or default_registry()
    hr, lr = [], []
    for i in range(1, BENCHMARKS[name] + 1):
        hr.append(registry.fetch(f"{name}/x{scale}/HR/img_{i:03d}.png"))
        lr.append(registry.fetch(f"{name}/x{scale}/LR/img_{i:03d}.png"))
    return hr, lr
