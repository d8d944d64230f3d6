"""Unit 07's transfer experiment: the natural-photo codecs on medical scans, zero-shot
against fine-tuned on a few scans.

The scans are unit 05's, split by scan (:mod:`course_utils.data.catalogue`): a codec is
fine-tuned on training scans and scored on held-out ones it never saw. Each shipped codec
(one per :math:`\\lambda`) is scored as it is (*zero-shot*) and after
:func:`finetune_codec`, which continues its training for the same :math:`\\lambda D + R` on the
scans with the course's ``pretrain`` (``--init``): the same files, bytes and PSNR as every
codec comparison of the course (:func:`~course_utils.compression.measure.code_images`; a gray
scan is coded as RGB with three equal channels, as the codecs take RGB). JPEG's curve on the
same scans is the reference of the BD-rates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
from torch import nn

from ..compression.codecs import CURVE_QUALITIES
from ..compression.measure import CodingResult, LearnedCodec, code_images
from ..compression.rd import bd_rate
from ..zoo.recipes import default_recipe, pretrain
from ..zoo.shipped import load_codec

__all__ = ["codec_transfer", "finetune_codec"]


def finetune_codec(codec: str, images: Mapping[str, np.ndarray], *, steps: int = 1000,
                   epochs: int = 4, lr: float = 1e-4, batch_size: int = 8, seed: int = 0,
                   progress: bool = False) -> tuple[nn.Module, dict]:
    """Fine-tune the shipped (or checkpointed) learned codec ``codec`` on ``images`` for its
    own :math:`\\lambda`: ``pretrain --init codec --hr DIR`` with ``steps`` Adam steps at
    ``lr`` (a tenth of the recipe's: the weights are already trained), the recipe's patches
    (128 pixels) and clipping. Returns the model and its card (``training_seconds``, and
    ``heldout``: its scores on the natural held-out photos after fine-tuning)."""
    lmbda = load_codec(codec)[1]
    task = f"compress-{lmbda:g}"
    recipe = replace(default_recipe("factorized-codec", task), steps=steps, epochs=epochs,
                     lr=lr, batch_size=batch_size, seed=seed)
    return pretrain("factorized-codec", task, images=dict(images), recipe=recipe, init=codec,
                    progress=progress)


def _curve(results: Sequence[CodingResult]) -> tuple[list[float], list[float]]:
    return [r.mean_bpp for r in results], [r.mean_psnr for r in results]


def _bd(reference: Sequence[CodingResult], test: Sequence[CodingResult]) -> float | None:
    """The BD-rate of ``test`` against ``reference`` (per cent), or None where there is none:
    fewer than 4 points on a curve, or curves that share no PSNR range."""
    try:
        return bd_rate(*_curve(reference), *_curve(test))
    except ValueError:  # fewer than 4 points, or curves that share no PSNR range
        return None


def codec_transfer(codecs: Sequence[str], train: Mapping[str, np.ndarray],
                   heldout: Mapping[str, np.ndarray], **finetune) -> dict:
    """Each codec of ``codecs`` on the ``heldout`` scans, zero-shot and fine-tuned on the
    ``train`` scans (:func:`finetune_codec` with ``finetune``), and JPEG on the same scans.

    Returns
    -------
    dict
        ``rows``: per codec, its :math:`\\lambda`, the zero-shot and fine-tuned mean bpp and
        PSNR (dB) on the held-out scans, the fine-tuning time, and the natural held-out
        photos' PSNR and bpp after fine-tuning (what the codec forgot);
        ``jpeg``: JPEG's points (quality, bpp, PSNR); ``bd_rate``: ``"zero-shot vs JPEG"``,
        ``"fine-tuned vs JPEG"`` and ``"fine-tuned vs zero-shot"`` in per cent (None with
        fewer than 4 codecs, or curves that share no PSNR range).
    """
    rows, zero_shot, tuned = [], [], []
    for name in codecs:
        codec, lmbda = load_codec(name)
        zero_shot.append(code_images(heldout, codec))
        model, card = finetune_codec(name, train, **finetune)
        tuned.append(code_images(heldout, LearnedCodec(model, f"{codec.name}, fine-tuned")))
        rows.append({"codec": codec.name, "lambda": lmbda,
                     "zero-shot bpp": zero_shot[-1].mean_bpp,
                     "zero-shot PSNR (dB)": zero_shot[-1].mean_psnr,
                     "fine-tuned bpp": tuned[-1].mean_bpp,
                     "fine-tuned PSNR (dB)": tuned[-1].mean_psnr,
                     "fine-tuning (s)": card["training_seconds"],
                     "natural photos after: bpp": card["heldout"]["bpp"],
                     "natural photos after: PSNR (dB)": card["heldout"]["psnr"]})
    jpeg = [code_images(heldout, "jpeg", quality=q) for q in CURVE_QUALITIES["jpeg"]]
    return {"rows": rows,
            "jpeg": [{"quality": q, "bpp": r.mean_bpp, "PSNR (dB)": r.mean_psnr}
                     for q, r in zip(CURVE_QUALITIES["jpeg"], jpeg, strict=True)],
            "bd_rate": {"zero-shot vs JPEG": _bd(jpeg, zero_shot),
                        "fine-tuned vs JPEG": _bd(jpeg, tuned),
                        "fine-tuned vs zero-shot": _bd(zero_shot, tuned)}}
