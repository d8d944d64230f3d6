"""A learned codec's latent written to bytes with a range coder, and read back.

:func:`compress` runs the analysis transform, rounds the latent and entropy-codes every
channel with that channel's probability table (:meth:`FactorizedPrior.tables
<course_utils.compression.entropy.FactorizedPrior.tables>`), using the range coder of the
``constriction`` package. :func:`decompress` decodes the same integers from the bytes and
runs the synthesis transform, so the image it returns is exactly the one :func:`compress`
reports.

File layout (big-endian): ``b"TLC1"``, the image's height and width (2 bytes each), then the
range coder's 32-bit words. Nothing else: the decoder knows the model, and with it the
latent's shape and every table. The file therefore opens only with the model that wrote it.

Why ``constriction`` and not CompressAI: CompressAI is the field's library, but its wheel
requires ``numpy<2`` (the course's lock has numpy 2) and pulls in torch-geometric;
``constriction`` (MIT/Apache-2.0) has current wheels, and its range coder takes the tables
as they are, so the entropy model here stays the course's own, short and readable.

Encoder and decoder must compute the same tables: they do on the same machine with the same
model file and library versions (floating-point tables computed elsewhere may differ in the
last bit, the limit every learned codec that computes its tables in floating point shares).

References
----------
.. [1] R. Bamler, "Understanding Entropy Coding With Asymmetric Numeral Systems (ANS): a
       Statistician's Perspective", 2022. arXiv:2201.01741 (the ``constriction`` paper)
"""

from __future__ import annotations

import struct
import warnings
from dataclasses import dataclass

import constriction
import numpy as np
import torch
import torch.nn.functional as F

from ..checks import check_image
from ..images import as_rgb, to_uint8
from .rd import estimated_bits

__all__ = ["MAGIC", "Compressed", "compress", "decompress"]

#: The first bytes of every file the course's codecs write.
MAGIC = b"TLC1"
_HEADER = struct.Struct(">4sHH")


@dataclass(frozen=True)
class Compressed:
    """What :func:`compress` made.

    Attributes
    ----------
    data : the file's bytes
    reconstruction : the decoded image (uint8 RGB), what :func:`decompress` of ``data`` gives
    estimated_bits : :math:`-\\sum \\log_2 P(\\hat y)`, the rate the entropy model predicts
    """

    data: bytes
    reconstruction: np.ndarray
    estimated_bits: float


def _to_tensor(image: np.ndarray) -> torch.Tensor:
    pixels = as_rgb(to_uint8(check_image(image)))
    # np.array copies: the image may be a read-only view (torch warns on those)
    return torch.from_numpy(np.array(pixels)).permute(2, 0, 1)[None].float() / 255


def _to_image(x: torch.Tensor, height: int, width: int) -> np.ndarray:
    x = x[0, :, :height, :width].clamp(0, 1)
    return torch.round(x * 255).to(torch.uint8).permute(1, 2, 0).numpy()


def _coding_models(model) -> tuple[np.ndarray, np.ndarray, list]:
    """The lowest and highest value of each channel's support, and its coder's model."""
    low, pmfs = model.entropy_model.tables()
    high = low.numpy() + np.array([len(p) - 1 for p in pmfs])
    return low.numpy(), high, [constriction.stream.model.Categorical(p, perfect=False)
                               for p in pmfs]


@torch.no_grad()
def compress(model, image: np.ndarray) -> Compressed:
    """Encode ``image`` (RGB or gray, 8-bit or float) with a learned codec to bytes.

    The image is padded at the bottom and right (edge pixels repeated) to a multiple of
    ``model.stride``; the decoder crops the padding off again.

    Parameters
    ----------
    model : a :class:`~course_utils.models.codec.FactorizedCodec` (put in eval mode here)
    image : (H, W, 3) or (H, W) array, at most 65535 pixels on a side

    Warns
    -----
    UserWarning
        When latent values fall outside the model's support (each side's tail holds less
        than 1e-9 of the mass): they are clamped into it, and the reconstruction returned is
        the one of the clamped values (what the decoder will see).
    """
    model.eval()
    x = _to_tensor(image)
    height, width = x.shape[-2:]
    if max(height, width) > 65535:
        raise ValueError(f"the image is {height}x{width}; the course's codec files store "
                         "sizes up to 65535 pixels: cut the image into tiles first.")
    s = model.stride
    x = F.pad(x, (0, -width % s, 0, -height % s), mode="replicate")
    y_hat = torch.round(model.g_a(x))
    low, high, coding_models = _coding_models(model)
    low_t, high_t = (torch.from_numpy(v).to(y_hat)[None, :, None, None] for v in (low, high))
    outside = int(((y_hat < low_t) | (y_hat > high_t)).sum())
    if outside:
        warnings.warn(f"{outside} latent values lie outside the model's range and were "
                      "clamped into it; the reconstruction is that of the clamped values.",
                      stacklevel=2)
        y_hat = torch.maximum(torch.minimum(y_hat, high_t), low_t)
    encoder = constriction.stream.queue.RangeEncoder()
    symbols = (y_hat[0] - low_t[0]).to(torch.int32).numpy()
    for c, coding_model in enumerate(coding_models):
        encoder.encode(symbols[c].ravel(), coding_model)
    data = _HEADER.pack(MAGIC, height, width) + encoder.get_compressed().astype(">u4").tobytes()
    bits = float(estimated_bits(model.entropy_model.pmf(y_hat)))
    return Compressed(data, _to_image(model.g_s(y_hat), height, width), bits)


@torch.no_grad()
def decompress(model, data: bytes) -> np.ndarray:
    """The uint8 RGB image of a file :func:`compress` wrote with the same ``model``.

    Raises
    ------
    ValueError
        Bytes that are not such a file (wrong magic, truncated).
    """
    model.eval()
    if len(data) < _HEADER.size or data[:4] != MAGIC:
        raise ValueError(f"these {len(data)} bytes are not a file of the course's learned "
                         f"codec (it starts with {MAGIC!r}); decode other files with their "
                         "own codec (--codec jpeg, webp, ...).")
    _, height, width = _HEADER.unpack_from(data)
    payload = data[_HEADER.size:]
    if len(payload) % 4:
        raise ValueError(f"the file is truncated: {len(payload)} bytes of coded data is not a "
                         "whole number of 32-bit words; compress the image again.")
    s = model.stride
    latent_shape = (-(-height // s), -(-width // s))
    low, _, coding_models = _coding_models(model)
    decoder = constriction.stream.queue.RangeDecoder(
        np.frombuffer(payload, dtype=">u4").astype(np.uint32))
    count = latent_shape[0] * latent_shape[1]
    channels = [decoder.decode(m, count).reshape(latent_shape) + low[c]
                for c, m in enumerate(coding_models)]
    y_hat = torch.from_numpy(np.stack(channels)).float()[None]
    return _to_image(model.g_s(y_hat), height, width)
