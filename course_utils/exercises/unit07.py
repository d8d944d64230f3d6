"""Checks of unit 07's exercises (autoencoders and learned compression)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from types import EllipsisType

import numpy as np
import torch

from ..compression.codecs import get_codec
from ..compression.measure import quality_for_bpp
from ..compression.rd import bits_per_pixel
from ..models.registry import get_model
from .common import attempted, expect, expect_keys, passed

__all__ = ["code_numbers_per_value", "exercise_1", "exercise_2", "exercise_3"]


def code_numbers_per_value(code_channels: int, levels: int, side: int = 64) -> float:
    """Numbers in the code of the course's ``autoencoder`` per number of an RGB input, counted
    on the code of a ``side`` x ``side`` image (not from the formula)."""
    model = get_model("autoencoder", channels=3, code_channels=code_channels, levels=levels)
    with torch.no_grad():
        code = model.encoder(torch.zeros(1, 3, side, side))
    return code.numel() / (3 * side * side)


def exercise_1(ratio: Mapping[tuple[int, int], float] | EllipsisType,
               configs: Sequence[tuple[int, int]]) -> bool:
    """``ratio[(c, L)]``: how many numbers the code of ``autoencoder(code_channels=c,
    levels=L)`` holds per number of its RGB input."""
    if not attempted(ratio, 1):
        return False
    expect_keys(ratio, set(configs), "ratio")
    for c, levels in configs:
        want, got = code_numbers_per_value(c, levels), float(ratio[c, levels])
        expect(not math.isclose(got, c / 4**levels, rel_tol=1e-9),
               f"ratio[({c}, {levels})] = {got:.6g} counts the code against one channel of the "
               "input; an RGB image has 3 numbers per pixel.")
        expect(not math.isclose(got, c / (3 * 2**levels), rel_tol=1e-9),
               f"ratio[({c}, {levels})] = {got:.6g}: each stride-2 level halves the height AND "
               "the width, so L levels divide the pixels by 4**L, not 2**L.")
        expect(math.isclose(got, want, rel_tol=1e-9),
               f"ratio[({c}, {levels})] = {got:.6g}; the code of a 64x64 image has "
               f"{want * 3 * 64 * 64:.0f} numbers for 3 x 64 x 64 inputs: {want:.6g}.")
    return passed(1, "A ratio is not a file size: these numbers are 32-bit floats until "
                     "something quantises them and codes them (section 2).")


def exercise_2(bpp_hat: float | EllipsisType, likelihoods: torch.Tensor,
               image: np.ndarray) -> bool:
    """``bpp_hat``: the rate the entropy model predicts for ``image``, in bits per pixel, from
    ``likelihoods`` (the probability of each value of the rounded latent)."""
    if not attempted(bpp_hat, 2):
        return False
    pixels = image.shape[0] * image.shape[1]
    bits = float(-torch.log2(likelihoods).sum())
    got = float(bpp_hat)
    expect(not math.isclose(got, bits * math.log(2) / pixels, rel_tol=1e-4),
           f"bpp_hat = {got:.4f} is in nats: torch.log is the natural logarithm; bits need "
           "log2 (or divide by ln 2).")
    expect(not math.isclose(got, bits / likelihoods.numel(), rel_tol=1e-4),
           f"bpp_hat = {got:.4f} is bits per latent value; divide the total by the image's "
           f"pixels ({pixels}), not by the {likelihoods.numel()} latent values.")
    expect(not math.isclose(got, bits / (3 * pixels), rel_tol=1e-4),
           f"bpp_hat = {got:.4f} divides by every colour value; bits per pixel count each pixel "
           "once (its three channels together).")
    expect(math.isclose(got, bits / pixels, rel_tol=1e-4),
           f"bpp_hat = {got:.4f}; -sum(log2 P) / pixels = {bits / pixels:.4f}.")
    return passed(2, "Compare it with 8 * len(data) / pixels: the range coder writes within a "
                     "few bytes of what the model predicts.")


def exercise_3(quality: int | EllipsisType, jpeg_bytes: int | EllipsisType,
               image: np.ndarray, learned_bytes: int) -> bool:
    """``quality``: the highest JPEG (4:2:0) quality whose file of ``image`` is no larger than
    ``learned_bytes``; ``jpeg_bytes``: the size of that file."""
    if not attempted(quality, 3):
        return False
    jpeg = get_codec("jpeg")
    pixels = image.shape[0] * image.shape[1]
    want = int(quality_for_bpp(jpeg, image, bits_per_pixel(learned_bytes, pixels)))
    got = int(quality)
    size = len(jpeg.encode(image, got))
    expect(size <= learned_bytes,
           f"quality {got} writes {size} bytes, more than the learned codec's "
           f"{learned_bytes}: at equal rate JPEG may not spend more bits.")
    expect(got >= want,
           f"quality {got} fits, but so does quality {want} ({len(jpeg.encode(image, want))} "
           "bytes): take the highest quality that fits, or JPEG is compared below its best.")
    expect(got == want, f"quality {got}; the highest that fits is {want}.")
    expect(jpeg_bytes is not Ellipsis and int(jpeg_bytes) == size,
           f"jpeg_bytes = {jpeg_bytes}; the file at quality {got} has {size} bytes.")
    return passed(3, "The comparison of the model cards and of the benchmark uses this rule "
                     "(course_utils.compression.quality_for_bpp, a bisection).")
