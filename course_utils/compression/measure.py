"""Codecs measured on real files: bytes, bpp, PSNR and SSIM of the decoded image, and time.

Every codec, standard or learned, is used the same way: :meth:`encode` an image to the bytes
of a file, :meth:`decode` the bytes back. :func:`code_image` does both and scores the decoded
image with the compression task's recipe (:class:`course_utils.tasks.Compression`: RGB,
uint8, full image); :func:`code_images` does it for a set of images, at a quality or at a
target rate per image (:func:`quality_for_bpp`), which is how codecs are compared at equal
file size.

Examples
--------
>>> import numpy as np
>>> image = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
>>> row, data, decoded = code_image(get_codec("jpeg"), image, 50)
>>> row["bpp"] == 8 * len(data) / (64 * 64)
True
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from ..checks import check_image
from ..images import as_rgb
from ..tasks import Compression
from .bitstream import compress, decompress
from .codecs import PillowCodec, get_codec
from .rd import bits_per_pixel

__all__ = ["CodingResult", "LearnedCodec", "code_image", "code_images", "codec_for_bpp",
           "quality_for_bpp"]


@dataclass(frozen=True)
class LearnedCodec:
    """A trained learned codec (:class:`~course_utils.models.codec.FactorizedCodec`) with the
    interface of :class:`~course_utils.compression.codecs.PillowCodec`: its rate is set by
    the :math:`\\lambda` it was trained for, so it takes no quality."""

    model: torch.nn.Module
    name: str = "model"
    extension: str = ".tlc"

    def encode(self, image: np.ndarray, quality: float | None = None) -> bytes:
        return compress(self.model, image).data

    def decode(self, data: bytes) -> np.ndarray:
        return decompress(self.model, data)


Codec = PillowCodec | LearnedCodec


def code_image(codec: Codec, image: np.ndarray,
               quality: float | None = None) -> tuple[dict, bytes, np.ndarray]:
    """Encode ``image`` to a file's bytes, decode them, and score the decoded image.

    Returns
    -------
    row : dict
        ``bytes``, ``bpp`` (:math:`8 \\cdot \\text{bytes} / (H W)`), ``psnr`` and ``ssim``
        of the decoded image against the 8-bit RGB original, ``encode_seconds`` and
        ``decode_seconds``, and the ``quality`` used (None for a learned codec, whose row
        also gives ``estimated_bpp``, :math:`-\\sum \\log_2 P(\\hat y) / (H W)`).
    data : the file's bytes
    decoded : the decoded uint8 RGB image
    """
    target = as_rgb(Compression().target(check_image(image)))
    pixels = target.shape[0] * target.shape[1]
    start = time.perf_counter()
    if isinstance(codec, LearnedCodec):  # also the rate its entropy model predicts
        packed = compress(codec.model, target)
        data, estimate = packed.data, {"estimated_bpp": packed.estimated_bits / pixels}
    else:
        data, estimate = codec.encode(target, quality), {}
    encoded = time.perf_counter()
    decoded = codec.decode(data)
    decode_seconds = time.perf_counter() - encoded
    row = {"quality": quality, "bytes": len(data), "bpp": bits_per_pixel(len(data), pixels),
           **estimate, **Compression().score(decoded, target),
           "encode_seconds": encoded - start, "decode_seconds": decode_seconds}
    return row, data, decoded


def _bpp(codec: PillowCodec, image: np.ndarray, quality: float) -> float:
    return bits_per_pixel(len(codec.encode(image, quality)), image.shape[0] * image.shape[1])


def quality_for_bpp(codec: PillowCodec, image: np.ndarray, bpp: float,
                    steps: int = 12) -> float:
    """The highest quality at which ``codec`` writes ``image`` in at most ``bpp`` bits per
    pixel (its lowest quality if even that needs more), found by bisection.

    The file size grows with the quality, so bisection finds it in :math:`\\log_2` of the
    quality range encodings (7 for JPEG's 1-100); a continuous quality (JPEG 2000's target
    PSNR) is narrowed ``steps`` times. The comparison at equal rate then never gives the
    standard codec more bits than the target.
    """
    if not isinstance(bpp, int | float) or not 0 < bpp < math.inf:
        raise ValueError(f"bpp must be a positive number of bits per pixel (e.g. 0.4), got "
                         f"{bpp!r}.")
    low, high = codec.quality
    if _bpp(codec, image, low) > bpp:
        return low
    if codec.quality_option == "quality_layers":  # a continuous quality
        for _ in range(steps):
            middle = (low + high) / 2
            low, high = (middle, high) if _bpp(codec, image, middle) <= bpp else (low, middle)
        return low
    low, high = int(low), int(high)  # the highest integer quality that fits: low fits
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if _bpp(codec, image, middle) <= bpp else (low, middle - 1)
    return low


def codec_for_bpp(codecs: Sequence[LearnedCodec], image: np.ndarray,
                  bpp: float) -> LearnedCodec:
    """Of learned codecs trained for different rates, the one whose file of ``image`` is the
    largest of at most ``bpp`` bits per pixel (the one of the fewest bits if none fits): the
    rule of :func:`quality_for_bpp`, over the codecs' :math:`\\lambda` instead of a quality."""
    if not isinstance(bpp, int | float) or not 0 < bpp < math.inf:
        raise ValueError(f"bpp must be a positive number of bits per pixel (e.g. 0.4), got "
                         f"{bpp!r}.")
    if not codecs:
        raise ValueError("no learned codec to choose from.")
    pixels = image.shape[0] * image.shape[1]
    rates = [bits_per_pixel(len(c.encode(image)), pixels) for c in codecs]
    fitting = [(rate, i) for i, rate in enumerate(rates) if rate <= bpp]
    return codecs[max(fitting)[1] if fitting else int(np.argmin(rates))]


@dataclass
class CodingResult:
    """The per-image rows of :func:`code_images` and their means."""

    codec: str
    rows: list[dict] = field(default_factory=list)

    def mean(self, key: str) -> float:
        """The mean of a column of the rows (``"bpp"``, ``"encode_seconds"`` ...)."""
        return float(np.mean([r[key] for r in self.rows])) if self.rows else math.nan

    @property
    def mean_bpp(self) -> float:
        return self.mean("bpp")

    @property
    def mean_psnr(self) -> float:
        return self.mean("psnr")

    @property
    def mean_ssim(self) -> float:
        return self.mean("ssim")

    def to_dict(self) -> dict:
        return {"codec": self.codec, "rows": self.rows, "mean_bpp": self.mean_bpp,
                "mean_psnr": self.mean_psnr, "mean_ssim": self.mean_ssim,
                "mean_encode_seconds": self.mean("encode_seconds"),
                "mean_decode_seconds": self.mean("decode_seconds")}

    def table(self) -> str:
        lines = [f"{'image':<24} {'quality':>8} {'bytes':>8} {'bpp':>7} {'PSNR':>7} "
                 f"{'SSIM':>7} {'enc s':>7} {'dec s':>7}"]
        for r in self.rows:
            quality = "-" if r["quality"] is None else f"{r['quality']:g}"
            lines.append(f"{r['image']:<24} {quality:>8} {r['bytes']:>8} {r['bpp']:>7.3f} "
                         f"{r['psnr']:>7.2f} {r['ssim']:>7.4f} {r['encode_seconds']:>7.3f} "
                         f"{r['decode_seconds']:>7.3f}")
        lines.append(f"{'mean':<24} {'':>8} {'':>8} {self.mean_bpp:>7.3f} "
                     f"{self.mean_psnr:>7.2f} {self.mean_ssim:>7.4f}")
        return "\n".join(lines)


def code_images(images: Mapping[str, np.ndarray],
                codec: Codec | str | Sequence[LearnedCodec],
                quality: float | None = None, bpp: float | None = None,
                keep: Callable[[str, bytes, np.ndarray, Codec], None] | None = None
                ) -> CodingResult:
    """:func:`code_image` for every image, at ``quality`` or at ``bpp`` per image.

    An image that cannot be read is skipped with a warning that names it.

    Parameters
    ----------
    images : {name: image}, e.g. an :class:`~course_utils.data.io.ImageFolder`
    codec : a codec, the name of a standard one (:data:`~.codecs.CODECS`), or several
        learned codecs to choose from per image at ``bpp`` (:func:`codec_for_bpp`; each
        row then names its ``model``)
    quality : the standard codec's quality (a learned codec takes none)
    bpp : instead of a quality, the rate to match per image (:func:`quality_for_bpp`);
        each row then records its ``target_bpp``
    keep : called with each image's name, file bytes, decoded image and codec (to write
        them)

    Raises
    ------
    ValueError
        Neither or both of ``quality`` and ``bpp`` for a standard codec, a quality for a
        learned one, or no image that could be coded.
    """
    codec = get_codec(codec) if isinstance(codec, str) else codec
    choices = list(codec) if isinstance(codec, Sequence) else None
    learned = choices is not None or isinstance(codec, LearnedCodec)
    if choices is not None and bpp is None:
        raise ValueError("choosing among learned codecs needs a target bpp.")
    if learned and quality is not None:
        raise ValueError("a learned codec takes no quality: its rate is set by the lambda "
                         "it was trained for; choose the model, or give a target bpp.")
    if not learned and (quality is None) == (bpp is None):
        raise ValueError(f"{codec.name}: give either a quality or a target bpp.")
    result = CodingResult("model" if choices is not None else codec.name)
    for name, image in images.items():
        try:
            target = as_rgb(Compression().target(check_image(image, name)))
        except ValueError as err:  # an unreadable file of a folder, a wrong shape
            warnings.warn(f"skipping {name}: {err}", stacklevel=2)
            continue
        used, chosen = codec, quality
        if choices is not None:
            used = codec_for_bpp(choices, target, bpp)
        elif bpp is not None and not learned:
            chosen = quality_for_bpp(codec, target, bpp)
        row, data, decoded = code_image(used, target, chosen)
        row = {"image": name, **({"model": used.name} if choices is not None else {}), **row,
               **({"target_bpp": bpp} if bpp is not None else {})}
        result.rows.append(row)
        if keep is not None:
            keep(name, data, decoded, used)
    if not result.rows:
        raise ValueError("no image could be coded (see the warnings).")
    return result
