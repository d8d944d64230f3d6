"""Checks of unit 01's exercises (degradation and interpolation): Keys' cubic kernel, one
output pixel of MATLAB's resize by hand, one resize function for every kernel."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from types import EllipsisType

import numpy as np

from ..degrade import cubic, imresize, make_lr, resize, resize_weights
from ..images import to_float
from ..metrics import sr_metrics
from .common import WrongAnswer, attempted, expect, expect_keys, passed

__all__ = ["exercise_1", "exercise_2", "exercise_3"]

Kernel = Callable[[np.ndarray], np.ndarray]


def _call(function: Callable, name: str, *args) -> np.ndarray:
    """``function(*args)`` as a float array; its errors become :class:`WrongAnswer`."""
    try:
        return np.asarray(function(*args), dtype=np.float64)
    except Exception as err:  # noqa: BLE001 - any error of the student's code is feedback
        raise WrongAnswer(f"{name} raised {type(err).__name__}: {err}") from err


def exercise_1(my_cubic: Callable[..., np.ndarray] | EllipsisType) -> bool:
    """``my_cubic(x, a=-0.5)``: Keys' cubic convolution kernel, element-wise on an array.

    .. math::

        k(d) = (a+2)|d|^3 - (a+3)|d|^2 + 1 \\ (|d| \\le 1), \\quad
        a|d|^3 - 5a|d|^2 + 8a|d| - 4a \\ (1 < |d| \\le 2), \\quad 0 \\ \\text{otherwise}

    Compared with :func:`course_utils.degrade.cubic` on 1201 points of [-3, 3] for
    a = -0.5 (the default), -0.75 and -1; the feedback names the first property that fails
    (the values at d = 0, 1, 2, symmetry, the support, the default a, the a used).
    """
    if not attempted(my_cubic, 1):
        return False
    expect(callable(my_cubic), f"my_cubic should be a function, got {type(my_cubic).__name__}.")
    grid = np.linspace(-3, 3, 1201)
    try:
        default = np.asarray(my_cubic(grid), dtype=np.float64)
    except TypeError as err:
        raise WrongAnswer(f"my_cubic(x) raised TypeError ({err}): give a a default value, "
                          "def my_cubic(x, a=-0.5).") from err
    expect(default.shape == grid.shape,
           f"my_cubic(x) returned shape {default.shape} for x of shape {grid.shape}: evaluate "
           "element-wise (np.abs, np.where), not with if/else on the whole array.")
    knots = _call(my_cubic, "my_cubic", np.array([0.0, 1.0, 2.0]))
    expect(np.allclose(knots, [1.0, 0.0, 0.0]),
           f"your kernel's weights at d = 0, 1, 2 are {np.round(knots, 4).tolist()}; Keys' kernel "
           "is 1, 0, 0 there (an interpolating kernel keeps the input pixels unchanged).")
    mirrored = _call(my_cubic, "my_cubic", -grid)
    worst = int(np.argmax(np.abs(mirrored - default)))
    expect(np.allclose(mirrored, default),
           f"my_cubic(-d) differs from my_cubic(d) at d = {grid[worst]:.2f} "
           f"({mirrored[worst]:.4f} vs {default[worst]:.4f}): the kernel depends on |d|.")
    outside = np.abs(grid) > 2
    expect(np.allclose(default[outside], 0.0),
           f"my_cubic is {default[outside][np.argmax(np.abs(default[outside]))]:.4f} at some "
           "|d| > 2; the kernel is 0 beyond |d| = 2 (4 taps).")
    for a in (-0.5, -0.75, -1.0):
        try:
            got = default if a == -0.5 else np.asarray(my_cubic(grid, a), dtype=np.float64)
        except TypeError as err:
            raise WrongAnswer(f"my_cubic(x, {a}) raised TypeError ({err}): the kernel takes a "
                              "second parameter, def my_cubic(x, a=-0.5).") from err
        want = cubic(grid, a)
        if np.allclose(got, want):
            continue
        if a == -0.5:
            expect(not np.allclose(got, cubic(grid, -0.75)),
                   "my_cubic(x) uses a = -0.75 (PyTorch's); the default should be a = -0.5 "
                   "(MATLAB's and PIL's).")
        else:
            expect(not np.allclose(got, cubic(grid, -0.5)),
                   f"my_cubic(x, {a}) gives the a = -0.5 kernel: your function ignores a.")
        i = int(np.argmax(np.abs(got - want)))
        piece = "the |d| <= 1 piece" if abs(grid[i]) <= 1 else "the 1 < |d| <= 2 piece"
        raise WrongAnswer(f"with a = {a}, at d = {grid[i]:.3f} your kernel gives {got[i]:.4f}; "
                          f"Keys' kernel gives {want[i]:.4f} (check {piece}).")
    return passed(1, "my_cubic matches degrade.cubic for a = -0.5, -0.75 and -1.")


def exercise_2(u_hand: float | EllipsisType, w_hand: np.ndarray | EllipsisType) -> bool:
    """``u_hand``: the input coordinate (1-based) of output pixel 4 when MATLAB shrinks 16
    pixels to 8, :math:`u = x/s + \\tfrac12 (1 - 1/s)`; ``w_hand``: that pixel's weights on the
    16 input pixels, :math:`s\\,k(s(u - j))` normalised.

    Compared with row 3 of :func:`course_utils.degrade.resize_weights` ``(16, 8, 0.5)``.
    """
    if not (attempted(u_hand, 2) and attempted(w_hand, 2)):
        return False
    s, x = 0.5, 4
    u_want = x / s + 0.5 * (1 - 1 / s)
    try:
        u = float(u_hand)
    except (TypeError, ValueError):
        raise WrongAnswer(f"u_hand should be a number, got {type(u_hand).__name__}.") from None
    if not math.isclose(u, u_want):
        mistakes = {
            (x - 1) / s + 0.5 * (1 - 1 / s): "is the coordinate of output pixel 3: the formula "
            "is 1-based, so pixel number 4 has x = 4 (index 3 is only Python's name for it)",
            x / s: "is x / s: add the half-pixel shift 0.5 (1 - 1/s) that lines up pixel centres",
            x * s + 0.5 * (1 - s): "multiplies by s; s is output size / input size, so an output "
            "pixel sits at u = x / s",
        }
        hint = next((m for v, m in mistakes.items() if math.isclose(u, v)), "")
        raise WrongAnswer(f"u_hand = {u:g} " + (hint if hint else
                          f"; output pixel {x} of a resize by s = {s} sits at u = {u_want:g}")
                          + ".")
    weights, indices = resize_weights(16, 8, s)
    want = np.zeros(16)
    np.add.at(want, indices[3], weights[3])  # 0-based input indices
    w = np.asarray(w_hand, dtype=np.float64)
    expect(w.shape == (16,), f"w_hand has shape {w.shape}; it should hold one weight per input "
                             "pixel, shape (16,).")
    if np.allclose(w, want):
        return passed(2, f"{np.count_nonzero(w)} input pixels have a non-zero weight.")
    expect(np.count_nonzero(np.abs(w) > 1e-12) != 4,
           "w_hand has 4 non-zero weights, as when enlarging: when shrinking, stretch the kernel "
           "by 1/s, w = s k(s (u - j)), so that it spans 4 / s = 8 input pixels.")
    expect(np.isclose(w.sum(), 1.0), f"your weights sum to {w.sum():.4f}; normalise them to sum "
                                     "to one.")
    for shift in (1, -1):
        expect(not np.allclose(w, np.roll(want, shift)),
               "your weights are shifted by one pixel: j runs over 1..16 (1-based), like u, and "
               "w_hand[0] is input pixel j = 1.")
    raise WrongAnswer(f"w_hand is {np.round(w, 4).tolist()}; row 3 of "
                      f"degrade.resize_weights(16, 8, 0.5) gives {np.round(want, 4).tolist()}.")


def _triangle(d: np.ndarray) -> np.ndarray:
    return np.maximum(0.0, 1.0 - np.abs(d))


def _cubic_075(d: np.ndarray) -> np.ndarray:
    return cubic(d, a=-0.75)


def _compare(ours: np.ndarray, want: np.ndarray, what: str, tol: float, margin: int = 0) -> None:
    """``ours`` must equal ``want`` to ``tol``, ``margin`` pixels or more from the edges; the
    feedback says whether the borders alone differ."""
    expect(ours.shape == want.shape,
           f"{what}: your output has shape {ours.shape}; it should be {want.shape} (output length "
           "ceil(n s) along each axis, height first, then width).")
    inner = (slice(margin, -margin or None), slice(margin, -margin or None))
    gap = np.abs(ours - want)[inner].max()
    if gap < tol:
        return
    core = (slice(margin + 3, -margin - 3), slice(margin + 3, -margin - 3))
    if np.abs(ours - want)[core].max() < tol:
        raise WrongAnswer(f"{what}: your output matches away from the borders but differs by up "
                          f"to {gap:.2g} near them: mirror the indices that fall outside the "
                          "image (1..N, then N..1).")
    raise WrongAnswer(f"{what}: your output differs by up to {gap:.2g}.")


def exercise_3(resize_with_kernel: Callable[..., np.ndarray] | EllipsisType,
               scores_a: Mapping[float, float] | EllipsisType,
               better_a: float | EllipsisType, hr3: np.ndarray) -> bool:
    """``resize_with_kernel(image, scale, kernel, support)``: MATLAB's resize recipe with any
    kernel; ``scores_a``: ``{a: PSNR in dB}`` of ``hr3`` enlarged by 3 from its benchmark LR
    image with the cubic kernel at a = -0.5 and -0.75, clipped to [0, 1], standard recipe;
    ``better_a``: the one that scores higher.

    The function is run on a seeded random image (RGB and gray) and compared with
    :func:`course_utils.degrade.imresize` (shrinking and enlarging by 3), PIL's bilinear
    (shrinking by 2) and PyTorch's bicubic (enlarging by 3), the last two away from the borders,
    where the libraries handle edges differently. The scores are recomputed with the checked
    function and :func:`course_utils.metrics.sr_metrics`.
    """
    if not attempted(resize_with_kernel, 3):
        return False
    expect(callable(resize_with_kernel), "resize_with_kernel should be a function, got "
                                         f"{type(resize_with_kernel).__name__}.")
    image = np.random.default_rng(0).random((48, 60, 3))
    name = "resize_with_kernel"
    shrunk = _call(resize_with_kernel, name, image, 1 / 3, cubic, 2)
    if shrunk.shape == imresize(image, 1 / 3).shape:
        expect(np.abs(shrunk - imresize(image, 1 / 3, antialiasing=False)).max() > 1e-10,
               "shrinking by 3 you reproduce imresize without antialiasing: when shrinking, "
               "stretch the kernel by 1/s and scale it, s k(s (u - j)), over 2 support / s pixels.")
    _compare(shrunk, imresize(image, 1 / 3), "cubic, shrinking by 3 (vs degrade.imresize)", 1e-10)
    _compare(_call(resize_with_kernel, name, image, 3, cubic, 2), imresize(image, 3),
             "cubic, enlarging by 3 (vs degrade.imresize)", 1e-10)
    _compare(_call(resize_with_kernel, name, image[..., 0], 3, cubic, 2),
             imresize(image[..., 0], 3), "a gray (H, W) image enlarged by 3", 1e-10)
    _compare(_call(resize_with_kernel, name, image, 0.5, _triangle, 1),
             resize(image, 0.5, "bilinear"), "triangle, shrinking by 2 (vs PIL's bilinear)", 1e-5,
             margin=3)
    _compare(_call(resize_with_kernel, name, image, 3, _cubic_075, 2),
             resize(image, 3, "bicubic-torch"), "cubic a = -0.75, enlarging by 3 (vs PyTorch)",
             1e-4, margin=9)
    print("resize_with_kernel reproduces imresize, PIL's bilinear and PyTorch's bicubic.")
    if not (attempted(scores_a, 3) and attempted(better_a, 3)):
        return False
    expect_keys(scores_a, {-0.5, -0.75}, "scores_a")
    expect(hr3.shape[0] % 3 == 0 and hr3.shape[1] % 3 == 0,
           f"hr3 has shape {hr3.shape}: modcrop it to a multiple of 3 first.")
    lr3 = to_float(make_lr(hr3, 3))
    want = {a: sr_metrics(np.clip(resize_with_kernel(lr3, 3, lambda d, a=a: cubic(d, a), 2),
                                  0.0, 1.0), hr3, 3)[0]
            for a in (-0.5, -0.75)}
    for a, other in ((-0.5, -0.75), (-0.75, -0.5)):
        got = scores_a[a]
        expect(isinstance(got, (int, float, np.floating)),
               f"scores_a[{a}] should be the PSNR in dB (one number), got {got!r}.")
        expect(abs(got - want[other]) > 1e-6 or abs(want[a] - want[other]) < 1e-6,
               f"scores_a[{a}] holds the score of a = {other}: the two are swapped.")
        expect(abs(got - want[a]) < 1e-6,
               f"scores_a[{a}] = {got:.3f} dB; enlarging lr3 = make_lr(hr3, 3) by 3 with your "
               f"function (a = {a}, clipped to [0, 1]) and scoring it with "
               f"metrics.sr_metrics(sr, hr3, 3) gives {want[a]:.3f} dB.")
    winner = max(scores_a, key=scores_a.get)
    expect(better_a == winner, f"better_a = {better_a!r}, but your scores_a says a = {winner} "
                               "scores higher.")
    return passed(3, f"a = -0.5: {scores_a[-0.5]:.2f} dB, a = -0.75: {scores_a[-0.75]:.2f} dB.")
