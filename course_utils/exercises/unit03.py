"""Checks of unit 03's exercises (super-resolution networks): ESPCN's parameters by hand, width
against accuracy, the cost of FSRCNN's deconvolution, and PixelShuffle by hand."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from types import EllipsisType

import numpy as np
import torch
from torch import nn

from ..models.complexity import count_macs, count_parameters
from ..models.sr import ESPCN, FSRCNN
from .common import WrongAnswer, attempted, expect, expect_keys, passed

__all__ = ["exercise_1", "exercise_2", "exercise_3", "exercise_4"]

WIDTHS = ((16, 8), (32, 16), (64, 32))  # the three ESPCN widths of exercise 2
PSNR_KEY = "best val PSNR (dB)"


def _weights(model: nn.Module) -> int:
    """The convolution weights only (no biases): the convention of the SRCNN and FSRCNN
    papers."""
    return sum(m.weight.numel() for m in model.modules()
               if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)))


def _espcn_formula(scale: int, n1: int, n2: int, biases: bool, last: int | None = None) -> int:
    """ESPCN's count from the layer formula k^2 C_in C_out (+ C_out); ``last``: the last
    layer's outputs (``scale**2``, or a mistaken value)."""
    last = scale**2 if last is None else last
    layers = ((5, 1, n1), (3, n1, n2), (3, n2, last))
    return sum(k * k * c_in * c_out + (c_out if biases else 0) for k, c_in, c_out in layers)


def exercise_1(espcn_parameters: Callable[..., int] | EllipsisType) -> bool:
    r"""``espcn_parameters(scale, n1=64, n2=32, biases=True)``: the parameters of the
    one-channel ESPCN, :math:`\sum_\text{layers} k^2 C_{in} C_{out} + C_{out}`; with
    ``biases=False`` the weights only, :math:`\sum k^2 C_{in} C_{out}` (the papers' way of
    counting).

    Compared with :func:`~course_utils.models.complexity.count_parameters` (weights and
    biases) and with the convolution weights of :class:`~course_utils.models.sr.ESPCN` at x2,
    x3 and x4 and for ``features=(16, 8)``. The feedback recognises a count without biases, a
    last layer with ``scale`` instead of ``scale**2`` outputs, and ignored widths.
    """
    if not attempted(espcn_parameters, 1):
        return False
    expect(callable(espcn_parameters),
           f"espcn_parameters should be a function, got {type(espcn_parameters).__name__}.")
    cases = [(s, 64, 32) for s in (2, 3, 4)] + [(3, 16, 8)]
    for biases in (True, False):
        for scale, n1, n2 in cases:
            model = ESPCN(scale, features=(n1, n2))
            want = count_parameters(model) if biases else _weights(model)
            call = (f"espcn_parameters({scale}" + (f", {n1}, {n2}" if (n1, n2) != (64, 32) else "")
                    + ("" if biases else ", biases=False") + ")")
            try:
                got = espcn_parameters(scale, n1, n2) if biases else \
                    espcn_parameters(scale, n1, n2, biases=False)
            except TypeError as err:
                raise WrongAnswer(f"{call} raised TypeError ({err}): the function takes "
                                  "(scale, n1=64, n2=32, biases=True).") from err
            except Exception as err:  # noqa: BLE001 - any error of the student's code is feedback
                raise WrongAnswer(f"{call} raised {type(err).__name__}: {err}") from err
            expect(isinstance(got, (int, np.integer)) or (isinstance(got, float)
                                                          and got.is_integer()),
                   f"{call} returned {got!r}; a parameter count is a whole number.")
            if got == want:
                continue
            n_biases = n1 + n2 + scale**2
            base = f"{call} is {int(got):,}; " + (
                f"count_parameters(ESPCN({scale}, features=({n1}, {n2}))) is {want:,}"
                if biases else f"ESPCN({scale}, features=({n1}, {n2})) has {want:,} weights")
            if biases and got == want - n_biases:
                raise WrongAnswer(f"{base}: you counted the weights only. count_parameters "
                                  f"counts the biases too, one per output channel ({n_biases} "
                                  "here); biases=False is the weights-only count.")
            if not biases and got == want + n_biases:
                raise WrongAnswer(f"{base}: with biases=False leave out the {n_biases} biases "
                                  "(one per output channel), as the papers count.")
            if got == _espcn_formula(scale, n1, n2, biases, last=scale):
                raise WrongAnswer(f"{base}: the last layer has scale**2 = {scale**2} output "
                                  "channels (PixelShuffle turns them into a scale x scale "
                                  f"block), not scale = {scale}.")
            if (n1, n2) != (64, 32) and got == _espcn_formula(scale, 64, 32, biases):
                raise WrongAnswer(f"{base}: you counted the paper's widths (64, 32); use the "
                                  "n1 and n2 passed to the function.")
            raise WrongAnswer(f"{base}. Layers: 5x5 from 1 to n1 channels, 3x3 from n1 to n2, "
                              "3x3 from n2 to scale**2.")
    return passed(1, "with biases it matches count_parameters; without, the weights only.")


def _features(value: object) -> str:
    return str(tuple(value)) if isinstance(value, (tuple, list)) else str(value)


def exercise_2(width_rows: Sequence[dict] | EllipsisType, scale: int) -> bool:
    """``width_rows``: one dict per ESPCN width, ``(16, 8)``, ``(32, 16)``, ``(64, 32)`` in
    that order, with the keys ``"features"``, ``"parameters"`` and ``"best val PSNR (dB)"``.

    The parameters are recounted with :func:`~course_utils.models.complexity.count_parameters`
    for ``scale``; each PSNR must be a finite number of decibels, and the three must differ
    (three trainings, not one recorded three times). Whether accuracy grows with the width is
    the question the table answers; it is not checked.
    """
    if not attempted(width_rows, 2):
        return False
    expect(isinstance(width_rows, Sequence) and not isinstance(width_rows, str),
           f"width_rows should be a list of dicts, got {type(width_rows).__name__}.")
    expect(len(width_rows) == len(WIDTHS),
           f"width_rows has {len(width_rows)} rows; it needs one per width {list(WIDTHS)}.")
    for row in width_rows:
        expect_keys(row, {"features", "parameters", PSNR_KEY}, "each row of width_rows")
    found = [_features(row["features"]) for row in width_rows]
    expect(found == [str(w) for w in WIDTHS],
           f"the rows' features are {found}; they should be {[str(w) for w in WIDTHS]}, "
           "in that order.")
    for row, (n1, n2) in zip(width_rows, WIDTHS, strict=True):
        model = ESPCN(scale, features=(n1, n2))
        want = count_parameters(model)
        got = row["parameters"]
        if got == want:
            continue
        hint = ""
        if got == _weights(model):
            hint = ": that is the weights only; count_parameters counts the biases too"
        else:
            other = [s for s in (2, 3, 4) if s != scale
                     and got == count_parameters(ESPCN(s, features=(n1, n2)))]
            if other:
                hint = f": that is the model for scale {other[0]}; this notebook's is {scale}"
        raise WrongAnswer(f"the row {(n1, n2)} has {got!r} parameters; ESPCN({scale}, "
                          f"features={(n1, n2)}) has {want:,}{hint}.")
    scores = []
    for row in width_rows:
        value = row[PSNR_KEY]
        try:
            score = float(value)
        except (TypeError, ValueError):
            raise WrongAnswer(f"the row {row['features']} has {PSNR_KEY} = {value!r}; it "
                              "should be a number (History.best_psnr).") from None
        expect(math.isfinite(score) and 5.0 < score < 60.0,
               f"the row {row['features']} has {PSNR_KEY} = {score:.4g}: a validation PSNR "
               "lies between 5 and 60 dB; store History.best_psnr, not a loss.")
        scores.append(score)
    expect(len(set(scores)) == len(scores),
           f"two rows have the same PSNR ({scores}): train a new ESPCN for each width and "
           "store that run's best_psnr.")
    best = WIDTHS[int(np.argmax(scores))]
    return passed(2, f"in your run the best validation PSNR is the {best} network's.")


def exercise_3(deconv_share: float | EllipsisType, scale: int, lr_side: int = 170) -> bool:
    r"""``deconv_share``: the fraction (between 0 and 1) of FSRCNN(56, 12, 4)'s MACs at
    ``scale``, on an LR input of ``lr_side`` pixels, spent in its 9x9 transposed convolution.

    Recomputed with :func:`~course_utils.models.complexity.count_macs`. The feedback
    recognises a percentage, the reciprocal, the rest of the network, the share of the
    parameters (with biases and PReLU slopes) and a deconvolution counted on the HR pixels.
    """
    if not attempted(deconv_share, 3):
        return False
    try:
        got = float(deconv_share)
    except (TypeError, ValueError):
        raise WrongAnswer("deconv_share should be a number, got "
                          f"{type(deconv_share).__name__}.") from None
    model = FSRCNN(scale)
    total = count_macs(model, (1, 1, lr_side, lr_side))
    deconv = count_macs(model.deconv, (1, model.d, lr_side, lr_side))
    want = deconv / total
    if math.isclose(got, want, rel_tol=1e-9):
        return passed(3, f"{want:.1%} of {total / 1e9:.2f} GMACs.")
    deconv_params = sum(p.numel() for p in model.deconv.parameters())
    slips = {
        100 * want: "that is a percentage; give the fraction (between 0 and 1)",
        1 / want: "that is total / deconvolution; the share is deconvolution / total",
        1 - want: "that is the share of everything except the deconvolution",
        deconv_params / count_parameters(model): "that is the deconvolution's share of the "
        "parameters (with biases and PReLU slopes), not of the MACs",
        deconv * scale**2 / total: "the deconvolution is counted on the HR pixels; count_macs "
        "counts a transposed convolution on its input (LR) pixels: each spreads a 9x9 window "
        "per output channel",
    }
    hint = next((text for value, text in slips.items() if math.isclose(got, value, rel_tol=1e-6)),
                "")
    raise WrongAnswer(f"deconv_share is {got:.6g}; the deconvolution does {deconv:,} of "
                      f"FSRCNN's {total:,} MACs, a share of {want:.6g}"
                      + (f": {hint}." if hint else "."))


def _source(value: float, shape: tuple[int, ...]) -> str:
    """Where the input value ``value`` sits in an arange tensor of ``shape``, in words."""
    if not (float(value).is_integer() and 0 <= value < math.prod(shape)):
        return f"the value {value:g}, which is no input value (only move values, never compute)"
    _, channel, row, column = np.unravel_index(int(value), shape)
    return f"input channel {channel} at (row {row}, column {column})"


def exercise_4(my_pixel_shuffle: Callable[[torch.Tensor, int], torch.Tensor] | EllipsisType
               ) -> bool:
    r"""``my_pixel_shuffle(t, r)``: :math:`\mathrm{PS}(T)_{c,\, r y + i,\, r x + j} =
    T_{c r^2 + i r + j,\, y,\, x}` for ``t`` of shape ``(N, C r^2, h, w)``, with ``reshape``
    and ``permute``.

    Compared with :class:`torch.nn.PixelShuffle` on tensors whose values number their
    positions (so a wrong value names where it came from): one and several output channels,
    r = 2, 3 and 4, one and two images. The feedback names the first output pixel that holds
    the wrong input value, and which input value belongs there.
    """
    if not attempted(my_pixel_shuffle, 4):
        return False
    expect(callable(my_pixel_shuffle),
           f"my_pixel_shuffle should be a function, got {type(my_pixel_shuffle).__name__}.")
    cases = [(1, 1, 2, 2, 2), (1, 1, 3, 4, 3), (2, 3, 5, 7, 4), (2, 2, 4, 3, 3)]
    one_channel_ok = False
    for n, c, h, w, r in cases:
        shape = (n, c * r * r, h, w)
        t = torch.arange(math.prod(shape), dtype=torch.float64).reshape(shape)
        try:
            out = my_pixel_shuffle(t.clone(), r)
        except Exception as err:  # noqa: BLE001 - any error of the student's code is feedback
            raise WrongAnswer(f"my_pixel_shuffle(t, {r}) with t of shape {shape} raised "
                              f"{type(err).__name__}: {err}") from err
        expect(isinstance(out, torch.Tensor),
               f"my_pixel_shuffle returned {type(out).__name__}; it should return a tensor.")
        want = nn.PixelShuffle(r)(t)
        expect(tuple(out.shape) == tuple(want.shape),
               f"my_pixel_shuffle(t, {r}) with t of shape {shape} returned shape "
               f"{tuple(out.shape)}; it should be {tuple(want.shape)} = (N, C, h r, w r).")
        if torch.equal(out.to(want.dtype), want):
            one_channel_ok = one_channel_ok or c == 1
            continue
        expect(not (one_channel_ok and c > 1),
               f"right with one output channel, wrong with C = {c}: split the {c * r * r} "
               "channels as (C, r, r), C first (channel c r^2 + i r + j).")
        wrong = torch.nonzero(out.to(want.dtype) != want)[0].tolist()
        b, ch, row, col = wrong
        raise WrongAnswer(
            f"with r = {r} and t of shape {shape}, output channel {ch}, row {row}, column {col} "
            f"holds {_source(float(out[b, ch, row, col]), shape)}; PixelShuffle puts "
            f"{_source(float(want[b, ch, row, col]), shape)} there: channel c r^2 + i r + j "
            f"with c = {ch}, i = {row % r}, j = {col % r} (output row r y + i, column r x + j).")
    return passed(4, "my_pixel_shuffle equals torch.nn.PixelShuffle.")
