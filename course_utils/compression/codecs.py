"""The standard image codecs, through Pillow: real files, measured in bytes.

=============  ==========================================  =================  ===========
codec          Pillow call                                 quality            extension
=============  ==========================================  =================  ===========
``jpeg``       ``save(format="JPEG", quality=Q)``, 4:2:0    1-100              ``.jpg``
``jpeg444``    the same with ``subsampling=0`` (4:4:4)      1-100              ``.jpg``
``webp``       ``save(format="WEBP", quality=Q)`` (lossy)   0-100              ``.webp``
``jpeg2000``   ``save(format="JPEG2000", quality_mode=      target PSNR in dB  ``.jp2``
               "dB", quality_layers=[Q])``, OpenJPEG's      (15-60)
               irreversible 9/7 wavelet
``avif``       ``save(format="AVIF", quality=Q)``, 4:2:0    0-100              ``.avif``
=============  ==========================================  =================  ===========

A higher quality always means more bytes. Pillow builds may lack a codec (WebP, JPEG 2000 and
AVIF are optional parts of Pillow, each a C library); :func:`available_codecs` lists those
this Pillow has, and :func:`get_codec` says how to get a missing one.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, features

from ..checks import check_image
from ..images import as_rgb, to_uint8

__all__ = ["CODECS", "CURVE_QUALITIES", "PillowCodec", "available_codecs", "get_codec"]


@dataclass(frozen=True)
class PillowCodec:
    """A codec of Pillow: encode an 8-bit RGB image at a quality, decode the bytes.

    Attributes
    ----------
    name : the course's name (``jpeg``, ``jpeg444``, ``webp``, ``jpeg2000``, ``avif``)
    format : Pillow's format name
    feature : the :func:`PIL.features.check` name of the library it needs
    quality : (lowest, highest) quality
    extension : of the files it writes
    options : further arguments of ``Image.save``
    quality_option : the ``Image.save`` argument that takes the quality
    """

    name: str
    format: str
    feature: str
    quality: tuple[float, float]
    extension: str
    options: dict = field(default_factory=dict)
    quality_option: str = "quality"

    @property
    def available(self) -> bool:
        """Whether this Pillow was built with the codec's library."""
        return bool(features.check(self.feature))

    def check_quality(self, quality: float) -> float:
        low, high = self.quality
        if isinstance(quality, bool) or not isinstance(quality, int | float | np.number) \
                or not low <= quality <= high:
            raise ValueError(f"{self.name}: quality must be a number from {low:g} to {high:g}, "
                             f"got {quality!r}.")
        return quality

    def encode(self, image: np.ndarray, quality: float) -> bytes:
        """The file's bytes for ``image`` (RGB, or gray made RGB; quantised to 8 bits) at
        ``quality``."""
        self.check_quality(quality)
        pixels = as_rgb(to_uint8(check_image(image)))
        value = [quality] if self.quality_option == "quality_layers" else int(quality)
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format=self.format,
                                     **{self.quality_option: value, **self.options})
        return buffer.getvalue()

    def decode(self, data: bytes) -> np.ndarray:
        """The 8-bit RGB image of a file's bytes."""
        with Image.open(io.BytesIO(data)) as im:
            return np.asarray(im.convert("RGB"))


#: The codecs by name.
CODECS: dict[str, PillowCodec] = {c.name: c for c in (
    PillowCodec("jpeg", "JPEG", "jpg", (1, 100), ".jpg", {"subsampling": 2}),
    PillowCodec("jpeg444", "JPEG", "jpg", (1, 100), ".jpg", {"subsampling": 0}),
    PillowCodec("webp", "WEBP", "webp", (0, 100), ".webp"),
    PillowCodec("jpeg2000", "JPEG2000", "jpg_2000", (15, 60), ".jp2",
                {"quality_mode": "dB", "irreversible": True}, quality_option="quality_layers"),
    PillowCodec("avif", "AVIF", "avif", (0, 100), ".avif"),
)}


#: The qualities of each codec's rate-distortion curve in unit 07 and
#: ``benchmarks/compression.py``: from about 0.1 to about 1.7 bpp on the held-out photos
#: (JPEG 2000's quality is its target PSNR in dB).
CURVE_QUALITIES = {"jpeg": (5, 10, 20, 35, 50, 75), "jpeg444": (5, 10, 20, 35, 50, 75),
                   "webp": (5, 20, 40, 60, 80), "jpeg2000": (24, 27, 30, 33, 36),
                   "avif": (10, 25, 40, 55, 70)}


def available_codecs() -> list[str]:
    """The names of the codecs this Pillow can run."""
    return [name for name, codec in CODECS.items() if codec.available]


def get_codec(name: str) -> PillowCodec:
    """The codec ``name``; an unknown one lists them, a missing library says what to do.

    Raises
    ------
    ValueError
        An unknown name.
    RuntimeError
        A codec this Pillow was built without.
    """
    if name not in CODECS:
        raise ValueError(f"unknown codec {name!r}; choose one of {', '.join(CODECS)} (or "
                         "--codec model with --model NAME).")
    codec = CODECS[name]
    if not codec.available:
        raise RuntimeError(f"this Pillow ({Image.__version__}) was built without "
                           f"{codec.format} support (PIL.features.check({codec.feature!r}) is "
                           "False): install a Pillow wheel from PyPI (`pip install -U pillow`), "
                           "which includes it, or skip this codec.")
    return codec
