"""Compression: the standard codecs, a learned codec's entropy model and bitstream, and rate.

Modules
-------
codecs      JPEG (4:2:0 and 4:4:4), WebP, JPEG 2000 and AVIF through Pillow: real files
entropy     the factorized prior of Ballé et al.: a learned density per latent channel
bitstream   a learned codec's latent to bytes with a range coder (``constriction``) and back
rd          bits per pixel, the rate-distortion loss, the BD-rate
measure     any codec on real files: bytes, bpp, PSNR/SSIM, time; matching a target rate

The learned models (:class:`~course_utils.models.codec.FactorizedCodec`, the autoencoder) are
in :mod:`course_utils.models.codec`, built through the one model registry.
"""

from .bitstream import Compressed, compress, decompress
from .codecs import CODECS, CURVE_QUALITIES, PillowCodec, available_codecs, get_codec
from .entropy import FactorizedPrior, quantize
from .measure import CodingResult, LearnedCodec, code_image, code_images, quality_for_bpp
from .rd import RateDistortionLoss, bd_rate, bits_per_pixel, estimated_bits

__all__ = ["CODECS", "CURVE_QUALITIES", "CodingResult", "Compressed", "FactorizedPrior",
           "LearnedCodec", "PillowCodec", "RateDistortionLoss", "available_codecs", "bd_rate",
           "bits_per_pixel", "code_image", "code_images", "compress", "decompress",
           "estimated_bits", "get_codec", "quality_for_bpp", "quantize"]
