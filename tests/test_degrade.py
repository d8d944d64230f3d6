"""Tests of course_utils.degrade: MATLAB bicubic imresize, the benchmark LR image, other
resizers, blur and its kernels, Gaussian and Poisson-Gaussian noise, JPEG, inpainting masks.

Expected values come from the algorithm's definition (MATLAB's ``imresize``: Keys' cubic
kernel, stretched when shrinking, mirrored borders), from hand computation, or from a slow
loop-based reference written here, never from our own output.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from scipy import ndimage

from course_utils.degrade import (
    JPEG,
    METHODS,
    Blur,
    Downsample,
    Noise,
    Pipeline,
    add_gaussian_noise,
    add_poisson_gaussian_noise,
    apply_mask,
    block_mask,
    blur,
    check_kernel,
    cubic,
    gaussian_blur,
    gaussian_kernel,
    imresize,
    imresize_rows,
    jpeg_compress,
    make_lr,
    mask_pixels,
    modcrop,
    motion_kernel,
    parse_kernel,
    parse_mask,
    random_mask,
    resize,
    resize_weights,
    text_mask,
)
from course_utils.metrics import psnr

# --------------------------------------------------------------------------------------------
# A slow, direct implementation of MATLAB's bicubic imresize
# --------------------------------------------------------------------------------------------


def keys_kernel(x: float) -> float:
    """k(x) with a = -0.5, written from the formula."""
    ax = abs(x)
    if ax <= 1:
        return 1.5 * ax**3 - 2.5 * ax**2 + 1
    if ax <= 2:
        return -0.5 * ax**3 + 2.5 * ax**2 - 4 * ax + 2
    return 0.0


def ref_length(n: int, scale: Fraction) -> int:
    return math.ceil(n * scale)  # exact rational arithmetic: no 85.00000000000001


def ref_contributions(n_in: int, n_out: int, scale: Fraction, antialiasing: bool = True):
    """For each output pixel, a list of (0-based input index, weight), straight from the text."""
    shrink = scale < 1 and antialiasing
    width = 4 / scale if shrink else Fraction(4)
    mirror = list(range(1, n_in + 1)) + list(range(n_in, 0, -1))  # 1..N, N..1, repeated
    rows = []
    for x in range(1, n_out + 1):
        u = x / scale + Fraction(1, 2) * (1 - 1 / scale)  # exact
        left = math.floor(u - width / 2)
        taps = [left + t for t in range(math.ceil(width) + 2)]
        if shrink:
            weights = [float(scale) * keys_kernel(float(scale * (u - j))) for j in taps]
        else:
            weights = [keys_kernel(float(u - j)) for j in taps]
        total = sum(weights)
        rows.append([(mirror[(j - 1) % len(mirror)] - 1, w / total)
                     for j, w in zip(taps, weights, strict=True)])
    return rows


def matlab_round(v: float) -> float:
    return math.copysign(math.floor(abs(v) + 0.5), v)


def ref_imresize(image: np.ndarray, scale: Fraction, round_each_pass: bool,
                 antialiasing: bool = True) -> np.ndarray:
    """Loop over every output pixel: height first, then width (equal scales), as in MATLAB."""
    out = image.astype(np.float64)
    for axis in (0, 1):
        n_in = out.shape[axis]
        n_out = ref_length(n_in, scale)
        rows = ref_contributions(n_in, n_out, scale, antialiasing)
        moved = np.moveaxis(out, axis, 0)
        result = np.zeros((n_out,) + moved.shape[1:])
        for o, row in enumerate(rows):
            for index in np.ndindex(*moved.shape[1:]):
                value = 0.0
                for i, w in row:
                    value += w * moved[(i, *index)]
                if round_each_pass:
                    value = min(max(matlab_round(value), 0.0), 255.0)
                result[(o, *index)] = value
        out = np.moveaxis(result, 0, axis)
    return out


def dense_matrix(weights: np.ndarray, indices: np.ndarray, n_in: int) -> np.ndarray:
    """The (out x in) matrix a weights/indices pair applies (mirrored taps accumulate)."""
    m = np.zeros((weights.shape[0], n_in))
    for o in range(weights.shape[0]):
        np.add.at(m[o], indices[o], weights[o])
    return m


SCALES = [Fraction(1, 2), Fraction(1, 3), Fraction(1, 4), Fraction(2), Fraction(3)]
SCALE_IDS = ["x1/2", "x1/3", "x1/4", "x2", "x3"]

# --------------------------------------------------------------------------------------------
# cubic
# --------------------------------------------------------------------------------------------


def test_cubic_values_against_the_formula():
    # a = -0.5: 1.5|x|^3 - 2.5|x|^2 + 1 on [0, 1], -0.5|x|^3 + 2.5|x|^2 - 4|x| + 2 on (1, 2].
    expected = {0.0: 1.0, 0.5: 0.5625, 1.0: 0.0, 1.5: -0.0625, 2.0: 0.0, 2.5: 0.0}
    for x, value in expected.items():
        assert cubic(x) == pytest.approx(value, abs=1e-15)
        assert cubic(-x) == pytest.approx(value, abs=1e-15)  # even function
    xs = np.linspace(-3, 3, 61)
    np.testing.assert_allclose(cubic(xs), [keys_kernel(x) for x in xs], atol=1e-14)


def test_cubic_other_a():
    # PyTorch's a = -0.75: (a+2)|x|^3 - (a+3)|x|^2 + 1 at 0.5 is 1.25/8 - 2.25/4 + 1.
    assert cubic(0.5, a=-0.75) == pytest.approx(0.59375)
    # a|x|^3 - 5a|x|^2 + 8a|x| - 4a at 1.5: -0.75 * (3.375 - 11.25 + 12 - 4)
    assert cubic(1.5, a=-0.75) == pytest.approx(-0.75 * 0.125)


def test_cubic_partition_of_unity():
    # Integer shifts of the kernel sum to one at every offset (why constants stay constant).
    for offset in np.linspace(0, 1, 9):
        assert cubic(offset + np.arange(-3, 4)).sum() == pytest.approx(1.0, abs=1e-14)


# --------------------------------------------------------------------------------------------
# resize_weights
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_in", [1, 2, 5, 9, 16])
@pytest.mark.parametrize("scale", SCALES, ids=SCALE_IDS)
@pytest.mark.parametrize("antialiasing", [True, False])
def test_resize_weights_match_the_definition(n_in, scale, antialiasing):
    n_out = ref_length(n_in, scale)
    weights, indices = resize_weights(n_in, n_out, float(scale), antialiasing)
    assert weights.shape == indices.shape
    assert weights.shape[0] == n_out
    width = 4 / scale if (scale < 1 and antialiasing) else 4
    assert weights.shape[1] <= math.ceil(width) + 2
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-12)
    assert indices.min() >= 0 and indices.max() < n_in
    assert np.issubdtype(indices.dtype, np.integer)
    # Same linear map as the direct construction (mirroring included).
    expected = np.zeros((n_out, n_in))
    for o, row in enumerate(ref_contributions(n_in, n_out, scale, antialiasing)):
        for i, w in row:
            expected[o, i] += w
    np.testing.assert_allclose(dense_matrix(weights, indices, n_in), expected, atol=1e-12)


@pytest.mark.parametrize("scale", SCALES, ids=SCALE_IDS)
def test_resize_weights_tap_count(scale):
    # Every row has as many non-zero weights as integers j with |u - j| < width/2 where the
    # kernel is not exactly zero (k(1) = k(2) = 0: at x1/3 the taps at u +- 3 vanish).
    n_in = 40
    n_out = ref_length(n_in, scale)
    weights, _ = resize_weights(n_in, n_out, float(scale))
    stretch = scale if scale < 1 else 1
    for x in range(5, n_out - 5):  # interior rows: no mirrored duplicates
        u = (x + 1) / scale + Fraction(1, 2) * (1 - 1 / scale)
        count = sum(1 for j in range(-100, 200) if keys_kernel(stretch * (u - j)) != 0)  # exact
        assert np.count_nonzero(weights[x]) == count
        assert count == {2: 4, 3: 4, Fraction(1, 2): 8, Fraction(1, 3): 9, Fraction(1, 4): 16}[
            scale] or (scale == 3 and count == 1)  # x3: a third of the outputs sit on inputs


def test_resize_weights_mirrored_borders_by_hand():
    # x2 on 5 pixels. Output 1: u = 1/2 + 1/4 = 0.75, taps j = -2..3; the non-zero ones are
    # j = -1, 0, 1, 2 (distances 1.75, 0.75, -0.25, -1.25). Mirroring 1..5,5..1 maps
    # j = -1 -> 2 and j = 0 -> 1, so the 0-based indices are [1, 0, 0, 1].
    # Output 10: u = 5.25, non-zero taps j = 4..7 -> mirrored 4, 5, 5, 4 -> [3, 4, 4, 3].
    weights, indices = resize_weights(5, 10, 2.0)
    assert indices.shape == (10, 4)
    assert indices[0].tolist() == [1, 0, 0, 1]
    assert indices[-1].tolist() == [3, 4, 4, 3]
    k = {0.25: 0.8671875, 0.75: 0.2265625, 1.25: -0.0703125, 1.75: -0.0234375}  # by hand
    np.testing.assert_allclose(weights[0], [k[1.75], k[0.75], k[0.25], k[1.25]], atol=1e-15)
    np.testing.assert_allclose(weights[-1], [k[1.25], k[0.25], k[0.75], k[1.75]], atol=1e-15)


def test_resize_weights_mirror_wraps_more_than_once():
    # 2 pixels shrunk by 4: u = 4 - 1.5 = 2.5, 18 taps j = -6..11, far outside 1..2; the
    # sequence 1, 2, 2, 1 repeats, so only indices 0 and 1 appear. Pixel 1 collects the taps
    # at distances u - j = +-1.5, +-2.5, +-5.5, +-6.5 and pixel 2 those at +-0.5, +-3.5, +-4.5,
    # +-7.5: each group is 1/4 k(d/4) sampled at spacing 1/4 with two signs, i.e. twice a
    # partition of unity times 1/4, so both pixels weigh exactly 1/2.
    weights, indices = resize_weights(2, 1, 0.25)
    assert set(indices.ravel().tolist()) <= {0, 1}
    m = dense_matrix(weights, indices, 2)
    np.testing.assert_allclose(m, [[0.5, 0.5]], atol=1e-12)


@pytest.mark.parametrize("scale", [Fraction(1, 2), Fraction(1, 3), Fraction(1, 4)],
                         ids=["x1/2", "x1/3", "x1/4"])
def test_resize_weights_are_the_stretched_kernel_when_shrinking(scale):
    n_in = 48
    n_out = ref_length(n_in, scale)
    weights, indices = resize_weights(n_in, n_out, float(scale))
    s = float(scale)
    for x in range(3, n_out - 3):  # interior: taps stay inside the image, sum is already 1
        u = float((x + 1) / scale + Fraction(1, 2) * (1 - 1 / scale))
        j = indices[x] + 1  # back to 1-based positions
        expected = [s * keys_kernel(s * (u - jj)) for jj in j]
        np.testing.assert_allclose(weights[x], expected, atol=1e-12)


# --------------------------------------------------------------------------------------------
# imresize: sizes, constants, ramps, reference implementation
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "scale", "expected"), [
    (255, 1 / 3, 85), (7, 1 / 2, 4), (10, 1 / 4, 3), (5, 3, 15), (9, 2, 18), (1, 1 / 4, 1),
    (256, 1 / 3, 86), (100, 1 / 3, 34),
])
def test_output_size_by_hand(n, scale, expected):
    assert imresize(np.zeros((n, 1)), scale).shape == (expected, math.ceil(scale))


@pytest.mark.parametrize("scale", SCALES, ids=SCALE_IDS)
def test_output_size_is_ceil_in_times_scale(scale):
    for n in range(1, 120):
        out = imresize(np.zeros((n, 1)), float(scale))
        assert out.shape[0] == math.ceil(n * scale), n


@pytest.mark.parametrize("scale", [1 / 3, 1 / 4, 1 / 2, 2, 3], ids=SCALE_IDS)
@pytest.mark.parametrize("shape", [(13, 17), (12, 9, 3)], ids=["gray", "rgb"])
def test_constant_image_stays_constant(scale, shape):
    value = 0.3719
    out = imresize(np.full(shape, value), scale)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, value, atol=1e-12)
    out8 = imresize(np.full(shape, 173, dtype=np.uint8), scale)
    assert out8.dtype == np.uint8
    assert np.all(out8 == 173)
    assert out8.shape[2:] == shape[2:]


def test_float32_stays_float32_and_float_is_not_rounded_or_clipped(rng):
    image = rng.random((10, 12)).astype(np.float32)
    out = imresize(image, 2)
    assert out.dtype == np.float32
    # A checkerboard overshoots [0, 1] with a cubic kernel: float output is not clipped.
    board = (np.indices((8, 8)).sum(axis=0) % 2).astype(np.float64)
    up = imresize(board, 3)
    assert up.max() > 1.0 and up.min() < 0.0
    assert not np.allclose(up, np.round(up))


def _ramp(h: int, w: int, a: float = 0.013, b: float = -0.007, c: float = 0.4) -> np.ndarray:
    i, j = np.indices((h, w))
    return a * i + b * j + c  # value at 1-based (i + 1, j + 1)


@pytest.mark.parametrize("scale", [Fraction(2), Fraction(3), Fraction(4)], ids=["x2", "x3", "x4"])
def test_linear_ramp_is_reproduced_when_upscaling(scale):
    h, w, a, b, c = 14, 11, 0.013, -0.007, 0.4
    out = imresize(_ramp(h, w, a, b, c), float(scale))
    # Output pixel x sits at input coordinate u = x/s + (1 - 1/s)/2, where the ramp is known.
    ux = [float(x / scale + Fraction(1, 2) * (1 - 1 / scale)) for x in range(1, out.shape[0] + 1)]
    uy = [float(x / scale + Fraction(1, 2) * (1 - 1 / scale)) for x in range(1, out.shape[1] + 1)]
    expected = a * (np.array(ux)[:, None] - 1) + b * (np.array(uy)[None, :] - 1) + c
    inside_r = np.array([3 <= u <= h - 2 for u in ux])  # all 4 taps inside the image
    inside_c = np.array([3 <= u <= w - 2 for u in uy])
    assert inside_r.sum() > 10 and inside_c.sum() > 5
    np.testing.assert_allclose(out[np.ix_(inside_r, inside_c)],
                               expected[np.ix_(inside_r, inside_c)], atol=1e-12)
    # Near the border mirroring bends the ramp: the test above really is about the interior.
    assert not np.allclose(out[0], expected[0], atol=1e-6)


@pytest.mark.parametrize("scale", [Fraction(1, 2), Fraction(1, 3), Fraction(1, 4)],
                         ids=["x1/2", "x1/3", "x1/4"])
def test_linear_ramp_interior_is_preserved_when_downscaling(scale):
    h, w, a, b, c = 48, 40, 0.011, 0.006, 0.1
    out = imresize(_ramp(h, w, a, b, c), float(scale))
    half = float(2 / scale)  # the antialiased kernel reaches 2/s input pixels
    ux = np.array([float(x / scale + Fraction(1, 2) * (1 - 1 / scale))
                   for x in range(1, out.shape[0] + 1)])
    uy = np.array([float(x / scale + Fraction(1, 2) * (1 - 1 / scale))
                   for x in range(1, out.shape[1] + 1)])
    expected = a * (ux[:, None] - 1) + b * (uy[None, :] - 1) + c
    inside_r = (ux - half >= 1) & (ux + half <= h)
    inside_c = (uy - half >= 1) & (uy + half <= w)
    assert inside_r.sum() >= 4 and inside_c.sum() >= 3
    np.testing.assert_allclose(out[np.ix_(inside_r, inside_c)],
                               expected[np.ix_(inside_r, inside_c)], atol=1e-12)


CASES = [(seed, shape, scale) for seed, (shape, scale) in enumerate([
    ((9, 13), Fraction(1, 2)), ((12, 7, 3), Fraction(1, 2)), ((15, 11), Fraction(1, 3)),
    ((10, 14, 3), Fraction(1, 3)), ((16, 9), Fraction(1, 4)), ((13, 18, 3), Fraction(1, 4)),
    ((6, 5), Fraction(2)), ((5, 7, 3), Fraction(2)), ((5, 4), Fraction(3)),
    ((4, 6, 3), Fraction(3)), ((4, 5), Fraction(4)), ((3, 3), Fraction(1, 3)),
])]


@pytest.mark.parametrize(("seed", "shape", "scale"), CASES,
                         ids=[f"{s}-{'x'.join(map(str, sh))}-{sc}" for s, sh, sc in CASES])
def test_uint8_matches_loop_reference_with_rounding_per_pass(seed, shape, scale):
    image = np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)
    out = imresize(image, float(scale))
    assert out.dtype == np.uint8
    expected = ref_imresize(image, scale, round_each_pass=True)
    assert out.shape == expected.shape
    np.testing.assert_array_equal(out, expected.astype(np.uint8))


def test_per_pass_rounding_is_what_the_reference_distinguishes():
    # Sanity check of the test above: rounding only at the end gives other pixels somewhere.
    differs = 0
    for seed, shape, scale in CASES:
        image = np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)
        end_only = ref_imresize(image, scale, round_each_pass=False)
        end_only = np.clip(np.floor(end_only + 0.5), 0, 255)
        differs += int(np.any(end_only != imresize(image, float(scale))))
    assert differs > 0


@pytest.mark.parametrize(("seed", "shape", "scale"), CASES[:6])
def test_float_matches_loop_reference(seed, shape, scale):
    image = np.random.default_rng(100 + seed).random(shape)
    np.testing.assert_allclose(imresize(image, float(scale)),
                               ref_imresize(image, scale, round_each_pass=False), atol=1e-12)
    np.testing.assert_allclose(
        imresize(image, float(scale), antialiasing=False),
        ref_imresize(image, scale, round_each_pass=False, antialiasing=False), atol=1e-12)


def test_output_shape_with_different_scales_per_axis(rng):
    image = rng.random((12, 9))
    out = imresize(image, output_shape=(5, 20))
    assert out.shape == (5, 20)
    # Separable and linear: resizing rows then columns is a product of two matrices.
    wr, ir = resize_weights(12, 5, 5 / 12)
    wc, ic = resize_weights(9, 20, 20 / 9)
    expected = dense_matrix(wr, ir, 12) @ image @ dense_matrix(wc, ic, 9).T
    np.testing.assert_allclose(out, expected, atol=1e-12)


def test_uint16_keeps_its_type_and_range():
    image = np.full((8, 8), 60000, dtype=np.uint16)
    image[2:5, 3:6] = 100
    out = imresize(image, 2)
    assert out.dtype == np.uint16
    assert out.max() <= 65535 and out.min() >= 0
    assert np.all(imresize(np.full((6, 5), 65535, dtype=np.uint16), 3) == 65535)


def test_uint8_output_is_clipped_not_wrapped():
    # A bright square on black overshoots above 255 and below 0 with the cubic kernel.
    image = np.zeros((10, 10), dtype=np.uint8)
    image[3:7, 3:7] = 255
    out = imresize(image, 3)
    as_float = imresize(image.astype(np.float64), 3)
    assert as_float.max() > 255 and as_float.min() < 0
    assert out.max() == 255 and out.min() == 0
    # Where the float result overshoots, the uint8 result saturates instead of wrapping.
    assert np.all(out[as_float > 255.5] == 255)
    assert np.all(out[as_float < -0.5] == 0)


def test_antialiasing_matters_only_when_shrinking(rng):
    image = rng.random((24, 20, 3))
    assert not np.allclose(imresize(image, 0.5), imresize(image, 0.5, antialiasing=False))
    for scale in (2, 3):
        np.testing.assert_array_equal(imresize(image, scale),
                                      imresize(image, scale, antialiasing=False))


def test_antialiasing_suppresses_aliasing():
    # Pixel-wide stripes (the Nyquist frequency) shrunk by 3. Without antialiasing, output x
    # sits exactly on input 3x - 1 (k(0) = 1, k(+-1) = k(+-2) = 0): it just picks every third
    # pixel, and the stripes come back at full contrast. With it they average to about gray.
    stripes = np.tile([0.0, 1.0], (18, 18))
    aliased = imresize(stripes, 1 / 3, antialiasing=False)
    np.testing.assert_allclose(aliased, stripes[1::3, 1::3], atol=1e-12)
    assert np.ptp(aliased) == pytest.approx(1.0)
    smooth_out = imresize(stripes, 1 / 3)
    assert np.ptp(smooth_out[2:-2, 2:-2]) < 0.05
    assert smooth_out[2:-2, 2:-2].mean() == pytest.approx(0.5, abs=0.01)


@pytest.mark.parametrize(("image", "kwargs", "error", "message"), [
    (np.zeros((5, 5, 4)), {"scale": 2}, ValueError, "4 channels"),
    (np.zeros((2, 5, 5, 3)), {"scale": 2}, ValueError, r"shape \(H, W\)"),
    ([[0.0, 1.0], [1.0, 0.0]], {"scale": 2}, TypeError, "NumPy array"),
    (np.zeros((5, 5)), {"scale": 0}, ValueError, "positive"),
    (np.zeros((5, 5)), {"scale": -2}, ValueError, "positive"),
    (np.zeros((5, 5)), {"scale": float("nan")}, ValueError, "positive"),
    (np.zeros((5, 5)), {"scale": float("inf")}, ValueError, "positive"),
    (np.zeros((5, 5)), {"scale": 2, "output_shape": (10, 10)}, ValueError, "exactly one"),
    (np.zeros((5, 5)), {}, ValueError, "exactly one"),
    (np.zeros((5, 5)), {"output_shape": (0, 3)}, ValueError, "output_shape"),
    (np.zeros((5, 5)), {"output_shape": (3, 3, 3)}, ValueError, "output_shape"),
    (np.zeros((5, 5), dtype=np.int32), {"scale": 2}, TypeError, "dtype int32"),
])
def test_imresize_bad_input(image, kwargs, error, message):
    with pytest.raises(error, match=message):
        imresize(image, **kwargs)


# --------------------------------------------------------------------------------------------
# resize (all methods)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("shape", [(31, 20), (17, 22, 3)], ids=["gray", "rgb"])
@pytest.mark.parametrize("scale", [Fraction(1, 3), Fraction(1, 2), Fraction(2), Fraction(3)],
                         ids=["x1/3", "x1/2", "x2", "x3"])
def test_resize_shapes_and_constants(method, shape, scale):
    value = 0.42
    out = resize(np.full(shape, value), float(scale), method)
    expected_shape = (math.ceil(shape[0] * scale), math.ceil(shape[1] * scale)) + shape[2:]
    assert out.shape == expected_shape
    assert out.dtype == np.float64
    # Every interpolation kernel is normalised: a constant image stays constant
    # (PIL's and torch's float32 arithmetic allow ~1e-6).
    np.testing.assert_allclose(out, value, atol=1e-5)


def test_resize_bicubic_is_imresize(smooth):
    image = smooth(30, 26)
    np.testing.assert_array_equal(resize(image, 0.5, "bicubic"), imresize(image, 0.5))


@pytest.mark.parametrize("method", METHODS)
def test_resize_of_uint8_is_on_the_unit_scale(method):
    # Integer input is converted to [0, 1] first, like everywhere else in the course.
    out = resize(np.full((9, 12, 3), 204, dtype=np.uint8), 2, method)
    np.testing.assert_allclose(out, 204 / 255, atol=1e-5)


def test_resize_nearest_replicates_pixels(rng):
    image = rng.random((5, 7))
    up = resize(image, 3, "nearest")
    np.testing.assert_allclose(up, np.repeat(np.repeat(image, 3, 0), 3, 1), atol=1e-6)


def test_bicubic_pil_close_to_matlab_bicubic(smooth):
    hr = smooth(72, 84, cycles=9)
    for s in (2, 3, 4):
        scores = {}
        for method in ("bicubic", "bicubic-pil"):
            sr = resize(resize(hr, 1 / s, method), s, method)
            scores[method] = psnr(hr[8:-8, 8:-8], sr[8:-8, 8:-8])
        # Same kernel (a = -0.5) and antialiasing: the baselines agree...
        assert abs(scores["bicubic"] - scores["bicubic-pil"]) < 0.2, (s, scores)
        # ...while nearest is clearly worse on a smooth image.
        nearest = resize(resize(hr, 1 / s, "nearest"), s, "nearest")
        assert psnr(hr[8:-8, 8:-8], nearest[8:-8, 8:-8]) < scores["bicubic"] - 3


def test_resize_unknown_method():
    with pytest.raises(ValueError, match="Unknown method 'cubic'.*bicubic-pil"):
        resize(np.zeros((8, 8)), 2, "cubic")


@pytest.mark.parametrize("scale", [0, -1, float("nan")])
def test_resize_bad_scale(scale):
    with pytest.raises(ValueError, match="scale must be a positive number"):
        resize(np.zeros((8, 8)), scale)


# --------------------------------------------------------------------------------------------
# modcrop
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("shape", "scale", "expected"), [
    ((13, 10), 3, (12, 9)), ((13, 10), 2, (12, 10)), ((16, 16), 4, (16, 16)),
    ((17, 23, 3), 4, (16, 20, 3)), ((5, 5), 1, (5, 5)), ((9, 12), 3.0, (9, 12)),
])
def test_modcrop_sizes(rng, shape, scale, expected):
    image = rng.random(shape)
    out = modcrop(image, scale)
    assert out.shape == expected
    np.testing.assert_array_equal(out, image[: expected[0], : expected[1]])  # top-left kept


def test_modcrop_errors():
    with pytest.raises(ValueError, match="whole number.*2.5"):
        modcrop(np.zeros((10, 10)), 2.5)
    with pytest.raises(TypeError, match="integer.*'3'"):
        modcrop(np.zeros((10, 10)), "3")
    with pytest.raises(ValueError, match=r"smaller than the scale 3"):
        modcrop(np.zeros((2, 10)), 3)
    with pytest.raises(ValueError, match="at least 1"):
        modcrop(np.zeros((10, 10)), 0)


# --------------------------------------------------------------------------------------------
# make_lr: the benchmark LR image
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("scale", "channels"), [(2, 3), (3, 3), (4, None)],
                         ids=["x2-rgb", "x3-rgb", "x4-gray"])
def test_make_lr_is_matlab_imresize_of_the_modcropped_uint8_image(smooth, scale, channels):
    hr = smooth(50, 38, channels=channels, seed=scale)
    lr = make_lr(hr, scale)
    h, w = 50 - 50 % scale, 38 - 38 % scale
    assert lr.dtype == np.uint8
    assert lr.shape == (h // scale, w // scale) + hr.shape[2:]
    hr8 = np.floor(hr[:h, :w] * 255 + 0.5).astype(np.uint8)  # 8 bits, rounded half up
    expected = ref_imresize(hr8, Fraction(1, scale), round_each_pass=True)
    np.testing.assert_array_equal(lr, expected.astype(np.uint8))
    # The uint8 image gives the same LR image as its float version.
    np.testing.assert_array_equal(make_lr(hr8, scale), lr)


def test_make_lr_errors(smooth):
    with pytest.raises(ValueError, match="whole number"):
        make_lr(smooth(12, 12), 2.5)
    with pytest.raises(ValueError, match="smaller than the scale 4"):
        make_lr(smooth(3, 12), 4)


# --------------------------------------------------------------------------------------------
# Blur, noise, JPEG, masks
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(20, 17), (15, 18, 3)], ids=["gray", "rgb"])
def test_gaussian_blur_keeps_constants_and_sigma_zero_copies(rng, shape):
    np.testing.assert_allclose(gaussian_blur(np.full(shape, 0.6), 2.0), 0.6, atol=1e-12)
    image = rng.random(shape)
    copy = gaussian_blur(image, 0)
    np.testing.assert_array_equal(copy, image)
    assert not np.shares_memory(copy, image)
    blurred = gaussian_blur(image, 1.5)
    assert blurred.shape == shape
    assert blurred.std() < image.std()  # low-pass filtering reduces the variance
    assert blurred.mean() == pytest.approx(image.mean(), abs=0.02)  # roughly, borders aside


def test_gaussian_blur_does_not_mix_channels(rng):
    image = np.zeros((16, 16, 3))
    image[..., 1] = rng.random((16, 16))
    out = gaussian_blur(image, 2.0)
    assert np.all(out[..., 0] == 0) and np.all(out[..., 2] == 0)


def test_gaussian_blur_of_uint8_is_on_the_unit_scale():
    np.testing.assert_allclose(gaussian_blur(np.full((8, 8), 51, np.uint8), 1.0), 0.2,
                               atol=1e-12)


@pytest.mark.parametrize("sigma", [-1, float("nan")])
def test_gaussian_blur_bad_sigma(sigma):
    with pytest.raises(ValueError, match="sigma must be a non-negative"):
        gaussian_blur(np.zeros((8, 8)), sigma)


def test_add_gaussian_noise_seeded_and_std():
    image = np.full((128, 128), 0.5)
    a = add_gaussian_noise(image, 0.05, rng=3)
    b = add_gaussian_noise(image, 0.05, rng=3)
    c = add_gaussian_noise(image, 0.05, rng=4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # A Generator works too and gives the same stream as the integer seed.
    np.testing.assert_array_equal(a, add_gaussian_noise(image, 0.05, np.random.default_rng(3)))
    noise = a - 0.5
    assert a.min() > 0 and a.max() < 1  # 10 sigma from the bounds: nothing clipped
    # std of 16384 samples: relative standard error 1/sqrt(2N) ~ 0.6 %.
    assert noise.std() == pytest.approx(0.05, rel=0.03)
    assert abs(noise.mean()) < 5 * 0.05 / 128


def test_add_gaussian_noise_clipping():
    image = np.full((64, 64), 0.98)
    clipped = add_gaussian_noise(image, 0.1, rng=0)
    raw = add_gaussian_noise(image, 0.1, rng=0, clip=False)
    assert clipped.max() == 1.0 and raw.max() > 1.0
    np.testing.assert_array_equal(clipped, np.clip(raw, 0, 1))
    np.testing.assert_array_equal(add_gaussian_noise(image, 0.0, rng=0), image)


def test_add_gaussian_noise_of_uint8_is_on_the_unit_scale():
    out = add_gaussian_noise(np.full((64, 64), 128, np.uint8), 0.01, rng=0)
    assert out.mean() == pytest.approx(128 / 255, abs=0.003)


def test_add_gaussian_noise_bad_sigma():
    with pytest.raises(ValueError, match="sigma must be non-negative"):
        add_gaussian_noise(np.zeros((4, 4)), -0.1)


@pytest.mark.parametrize("shape", [(32, 40), (32, 40, 3)], ids=["gray", "rgb"])
def test_jpeg_compress(smooth, rng, shape):
    image = np.clip(smooth(*shape[:2], channels=shape[2] if len(shape) == 3 else None)
                    + 0.1 * rng.standard_normal(shape), 0, 1)
    low = jpeg_compress(image, 10)
    high = jpeg_compress(image, 95)
    assert low.shape == shape and high.shape == shape
    assert low.dtype == np.float64 and low.min() >= 0 and low.max() <= 1
    assert not np.allclose(low, image, atol=1e-3)
    # Values are decoded 8-bit levels.
    np.testing.assert_allclose(low * 255, np.round(low * 255), atol=1e-9)
    assert np.mean((high - image) ** 2) < np.mean((low - image) ** 2)


def test_single_channel_images_keep_their_shape(rng):
    # (H, W, 1) is a valid course image: every degradation keeps the channel axis.
    image = rng.random((16, 12, 1))
    assert imresize(image, 0.5).shape == (8, 6, 1)
    assert resize(image, 2, "bicubic-pil").shape == (32, 24, 1)
    assert gaussian_blur(image, 1.0).shape == (16, 12, 1)
    assert add_gaussian_noise(image, 0.1, rng=0).shape == (16, 12, 1)
    out = jpeg_compress(image, 50)
    assert out.shape == (16, 12, 1)
    np.testing.assert_array_equal(out[..., 0], jpeg_compress(image[..., 0], 50))


@pytest.mark.parametrize("quality", [0, 101, -5, 50.5, "80"])
def test_jpeg_quality_out_of_range(quality):
    with pytest.raises(ValueError, match="quality must be an integer from 1 to 100"):
        jpeg_compress(np.zeros((8, 8)), quality)


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9])
def test_mask_pixels_removes_about_the_fraction(smooth, fraction):
    image = smooth(64, 80)
    masked, known = mask_pixels(image, fraction, np.random.default_rng(0))
    assert known.shape == (64, 80) and known.dtype == bool
    assert masked.shape == image.shape and masked.dtype == np.float64
    # 5120 pixels: the missing share has a standard deviation of at most 0.7 points.
    assert (~known).mean() == pytest.approx(fraction, abs=0.025)
    np.testing.assert_array_equal(masked[known], image[known])  # all channels kept
    assert not np.any(masked[~known])  # all channels of a missing pixel are 0


def test_mask_pixels_is_seeded(smooth):
    image = smooth(32, 32, channels=None)
    a, known_a = mask_pixels(image, 0.4, 5)
    b, known_b = mask_pixels(image, 0.4, np.random.default_rng(5))  # a seed or a generator
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(known_a, known_b)
    assert not np.array_equal(known_a, mask_pixels(image, 0.4, 6)[1])


def test_mask_pixels_fill_and_unit_scale(smooth):
    image = np.floor(smooth(24, 20, channels=None) * 255 + 0.5).astype(np.uint8)
    masked, known = mask_pixels(image, 0.5, 0, fill=0.5)
    np.testing.assert_array_equal(masked[known], image[known] / 255)  # uint8 -> [0, 1]
    assert np.all(masked[~known] == 0.5)
    kept, all_known = mask_pixels(image, 0.0, 0)
    assert all_known.all()
    np.testing.assert_array_equal(kept, image / 255)


@pytest.mark.parametrize("fraction", [1.0, -0.1, 1.5])
def test_mask_pixels_bad_fraction(fraction):
    with pytest.raises(ValueError, match=r"fraction must be in \[0, 1\)"):
        mask_pixels(np.zeros((8, 8)), fraction, 0)


# --------------------------------------------------------------------------------------------
# Blur kernels and the blur
# --------------------------------------------------------------------------------------------


def second_moments(kernel: np.ndarray) -> tuple[float, float, float]:
    """(E[x], E[y], E[x^2]) of a kernel as a distribution over its centred coordinates."""
    r = kernel.shape[0] // 2
    y, x = np.mgrid[-r:r + 1, -r:r + 1]
    return (kernel * x).sum(), (kernel * y).sum(), (kernel * x**2).sum()


@pytest.mark.parametrize("sigma", [0.5, 1.0, 1.6, 2.0, 3.0])
def test_gaussian_kernel_sums_to_one_and_has_variance_sigma_squared(sigma):
    kernel = gaussian_kernel(sigma)
    radius = int(4 * sigma + 0.5)  # cut at 4 sigma, as scipy.ndimage.gaussian_filter
    assert kernel.shape == (2 * radius + 1, 2 * radius + 1)
    assert kernel.sum() == pytest.approx(1.0, abs=1e-12) and kernel.min() > 0
    np.testing.assert_allclose(kernel, kernel.T, atol=1e-15)  # isotropic: symmetric
    np.testing.assert_allclose(kernel, kernel[::-1, ::-1], atol=1e-15)
    assert np.unravel_index(kernel.argmax(), kernel.shape) == (radius, radius)
    mean_x, mean_y, var_x = second_moments(kernel)
    assert abs(mean_x) < 1e-12 and abs(mean_y) < 1e-12
    if sigma >= 1:  # sampled on whole pixels and cut at 4 sigma: close to sigma^2 for sigma >= 1
        assert var_x == pytest.approx(sigma**2, rel=0.03)
    np.testing.assert_array_equal(check_kernel(kernel), kernel)


@pytest.mark.parametrize("length", [5, 9, 15])
def test_motion_kernel_at_0_degrees_is_a_horizontal_line(length):
    kernel = motion_kernel(length, 0)
    assert kernel.shape[0] == kernel.shape[1] and kernel.shape[0] % 2 == 1
    assert kernel.sum() == pytest.approx(1.0, abs=1e-12) and kernel.min() >= 0
    centre = kernel.shape[0] // 2
    rows = np.nonzero(kernel.sum(axis=1) > 1e-12)[0]
    assert list(rows) == [centre]  # one row: the centre
    cols = np.nonzero(kernel[centre] > 1e-12)[0]
    assert len(cols) in (length, length + 1)  # about LENGTH pixels, centred
    assert cols[0] + cols[-1] == 2 * centre
    mean_x, mean_y, _ = second_moments(kernel)
    assert abs(mean_x) < 1e-9 and abs(mean_y) < 1e-9
    np.testing.assert_array_equal(check_kernel(kernel), kernel)


@pytest.mark.parametrize("length", [5, 9, 15])
def test_motion_kernel_at_90_degrees_is_a_vertical_line(length):
    vertical = motion_kernel(length, 90)
    centre = vertical.shape[0] // 2
    assert list(np.nonzero(vertical.sum(axis=0) > 1e-12)[0]) == [centre]  # one column
    assert len(np.nonzero(vertical[:, centre] > 1e-12)[0]) in (length, length + 1)
    np.testing.assert_allclose(vertical, motion_kernel(length, 0).T, atol=1e-12)


def test_motion_kernel_at_45_degrees_is_a_diagonal_line():
    kernel = motion_kernel(9, 45)
    np.testing.assert_allclose(kernel, kernel.T[::-1, ::-1], atol=1e-12)  # anti-diagonal
    assert kernel.sum() == pytest.approx(1.0, abs=1e-12)
    centre = kernel.shape[0] // 2
    assert kernel[centre - 2, centre + 2] > 0 and kernel[centre + 2, centre - 2] > 0  # up-right
    assert kernel[centre - 2, centre - 2] == 0


def test_parse_kernel_specs():
    np.testing.assert_array_equal(parse_kernel("gaussian:2.0"), gaussian_kernel(2.0))
    np.testing.assert_array_equal(parse_kernel("motion:9:45"), motion_kernel(9, 45))
    np.testing.assert_array_equal(parse_kernel("motion:9"), motion_kernel(9, 0))


@pytest.mark.parametrize(("spec", "message"), [
    ("box:3", "unknown kernel 'box:3'; write gaussian:SIGMA .* or motion:LENGTH:ANGLE"),
    ("gaussian", "unknown kernel 'gaussian'"),
    ("gaussian:1:2", "unknown kernel 'gaussian:1:2'"),
    ("motion:9:0:1", "unknown kernel 'motion:9:0:1'"),
    ("", "unknown kernel ''"),
    ("gaussian:wide", "kernel 'gaussian:wide': its parameters must be numbers"),
    ("motion:9:up", "kernel 'motion:9:up': its parameters must be numbers"),
    ("gaussian:0", r"a Gaussian kernel's sigma is its width in pixels, in \(0, 20\]; got 0.0"),
    ("gaussian:-1", "a Gaussian kernel's sigma"),
    ("gaussian:21", "a Gaussian kernel's sigma"),
    ("gaussian:nan", "a Gaussian kernel's sigma"),
    ("motion:0.5", "a motion kernel's length is in pixels, from 1 to 64; got 0.5"),
    ("motion:65:0", "a motion kernel's length is in pixels, from 1 to 64"),
    ("motion:9:inf", "a motion kernel's angle is in degrees"),
])
def test_parse_kernel_errors(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_kernel(spec)


@pytest.mark.parametrize(("kernel", "message"), [
    (np.full((4, 4), 1 / 16), "odd sides"),
    (np.full((3, 4), 1 / 12), "odd sides"),
    (np.full(9, 1 / 9), "odd sides"),
    (np.full((3, 3, 1), 1 / 9), "odd sides"),
    (np.array([[0.0, -0.5, 0.0], [-0.5, 3.0, -0.5], [0.0, -0.5, 0.0]]),
     "non-negative and sum to 1"),
    (np.full((3, 3), 1.0), r"sum to 1 \(it sums to 9\); divide it by its sum"),
    (np.full((3, 3), 0.1), "sum to 1"),
    (np.eye(3, dtype=int), "finite floats"),
    (np.array([[0.0, 0.0, 0.0], [0.0, np.nan, 0.0], [0.0, 0.0, 0.0]]), "finite floats"),
    (np.array([[0.0, 0.0, 0.0], [0.0, np.inf, 0.0], [0.0, 0.0, 0.0]]), "finite floats"),
])
def test_check_kernel_refuses_bad_kernels(kernel, message):
    with pytest.raises(ValueError, match=message):
        check_kernel(kernel)
    with pytest.raises(ValueError, match=message):
        blur(np.zeros((8, 8)), kernel)


@pytest.mark.parametrize("shape", [(20, 17), (15, 18, 3), (12, 10, 1)], ids=["gray", "rgb", "hw1"])
@pytest.mark.parametrize("spec", ["gaussian:1.5", "motion:7:30"])
def test_blur_keeps_constants_and_shape(rng, shape, spec):
    kernel = parse_kernel(spec)
    np.testing.assert_allclose(blur(np.full(shape, 0.6), kernel), 0.6, atol=1e-12)
    image = rng.random(shape)
    blurred = blur(image, kernel)
    assert blurred.shape == shape and blurred.dtype == np.float64
    assert blurred.std() < image.std()


@pytest.mark.parametrize("spec", ["gaussian:1.5", "motion:9:30"])
def test_blur_is_scipy_convolve_with_reflected_borders(rng, spec):
    kernel = parse_kernel(spec)
    gray = rng.random((21, 26))
    np.testing.assert_allclose(blur(gray, kernel),
                               ndimage.convolve(gray, kernel, mode="reflect"), atol=1e-15)
    # a convolution, not a correlation: an asymmetric kernel shifts the image its way
    shift = np.zeros((3, 3))
    shift[1, 2] = 1.0  # k(0, +1): y(i, j) = x(i, j - 1)
    impulse = np.zeros((7, 7))
    impulse[3, 3] = 1.0
    assert blur(impulse, shift)[3, 4] == 1.0


def test_blur_does_not_mix_channels_and_reads_uint8_on_the_unit_scale(rng):
    kernel = parse_kernel("motion:7:60")
    image = np.zeros((16, 16, 3))
    image[..., 1] = rng.random((16, 16))
    out = blur(image, kernel)
    assert np.all(out[..., 0] == 0) and np.all(out[..., 2] == 0)
    np.testing.assert_array_equal(out[..., 1], blur(image[..., 1], kernel))
    pixels = rng.integers(0, 256, (10, 12), dtype=np.uint8)
    np.testing.assert_allclose(blur(pixels, kernel), blur(pixels / 255, kernel), atol=1e-15)


# --------------------------------------------------------------------------------------------
# Poisson-Gaussian noise
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("level", "peak", "sigma"), [(0.5, 30, 0.0), (0.2, 10, 0.02),
                                                     (0.8, 100, 0.05)])
def test_poisson_gaussian_noise_has_mean_x_and_variance_x_over_peak_plus_sigma2(level, peak,
                                                                              sigma):
    noisy = add_poisson_gaussian_noise(np.full((200, 200), level), peak, sigma, rng=0)
    n = noisy.size  # 40000 samples
    variance = level / peak + sigma**2
    assert abs(noisy.mean() - level) < 5 * np.sqrt(variance / n)
    # the sample variance has a relative standard error of about sqrt(2 / n) = 0.7 %
    assert noisy.var() == pytest.approx(variance, rel=0.05)
    if sigma == 0:  # pure Poisson: whole photon counts over the peak
        np.testing.assert_allclose(noisy * peak, np.round(noisy * peak), atol=1e-9)


def test_poisson_gaussian_noise_is_seeded_and_not_clipped():
    image = np.full((64, 64, 3), 0.02)
    a = add_poisson_gaussian_noise(image, 5.0, 0.05, rng=3)
    np.testing.assert_array_equal(a, add_poisson_gaussian_noise(image, 5.0, 0.05,
                                                                np.random.default_rng(3)))
    assert not np.array_equal(a, add_poisson_gaussian_noise(image, 5.0, 0.05, rng=4))
    assert a.shape == image.shape and a.dtype == np.float64
    assert a.min() < 0  # the read noise takes dark pixels below 0, and is kept
    # uint8 input is read on the unit scale: black stays black without read noise
    assert not add_poisson_gaussian_noise(np.zeros((8, 8), np.uint8), 30.0, rng=0).any()


@pytest.mark.parametrize(("peak", "sigma", "message"), [
    (0, 0.0, "peak is the photon count of a white pixel, greater than 0; got 0"),
    (-5, 0.0, "peak is the photon count"),
    (float("nan"), 0.0, "peak is the photon count"),
    (float("inf"), 0.0, "peak is the photon count"),
    (30, -0.1, r"sigma must be non-negative \(in \[0, 1\] units\), got -0.1"),
    (30, float("nan"), "sigma must be non-negative"),
])
def test_poisson_gaussian_noise_bad_parameters(peak, sigma, message):
    with pytest.raises(ValueError, match=message):
        add_poisson_gaussian_noise(np.zeros((8, 8)), peak, sigma, rng=0)


# --------------------------------------------------------------------------------------------
# Inpainting masks
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9])
def test_random_mask_hides_about_the_fraction(fraction):
    known = random_mask((80, 100), fraction, rng=0)
    assert known.shape == (80, 100) and known.dtype == bool
    # 8000 pixels: the missing share has a standard deviation of at most 0.6 points.
    assert (~known).mean() == pytest.approx(fraction, abs=0.02)
    np.testing.assert_array_equal(known, random_mask((80, 100), fraction,
                                                     np.random.default_rng(0)))
    assert not np.array_equal(known, random_mask((80, 100), fraction, rng=1))


@pytest.mark.parametrize("fraction", [1.0, -0.1])
def test_random_mask_bad_fraction(fraction):
    with pytest.raises(ValueError, match=r"fraction must be in \[0, 1\)"):
        random_mask((8, 8), fraction, 0)


@pytest.mark.parametrize(("shape", "size"), [((40, 50), 16), ((33, 21), 20), ((9, 9), 1)])
def test_block_mask_hides_one_square_inside_the_image(shape, size):
    positions = set()
    for seed in range(8):
        missing = ~block_mask(shape, size, rng=seed)
        assert missing.shape == shape and missing.sum() == size**2
        rows, cols = np.nonzero(missing)
        assert np.ptp(rows) == size - 1 and np.ptp(cols) == size - 1  # one square
        positions.add((rows.min(), cols.min()))
    assert len(positions) > 1  # placed at random


@pytest.mark.parametrize(("shape", "size", "message"), [
    ((30, 40), 30, "a 30-pixel block does not fit in a 40x30 image with known pixels around "
                   "it; use a smaller block or larger images"),
    ((30, 40), 64, "a 64-pixel block does not fit in a 40x30 image"),
    ((30, 40), 0, "a block's side is a whole number of pixels, 1 or more; got 0"),
    ((30, 40), 4.0, "a block's side is a whole number of pixels"),
])
def test_block_mask_errors(shape, size, message):
    with pytest.raises(ValueError, match=message):
        block_mask(shape, size, rng=0)


@pytest.mark.parametrize(("shape", "size"), [((64, 96), 16), ((48, 64), 8), ((200, 150), 24)])
def test_text_mask_hides_a_plausible_share_and_changes_with_the_seed(shape, size):
    known = text_mask(shape, size, rng=0)
    assert known.shape == shape and known.dtype == bool
    assert 0.05 < (~known).mean() < 0.6  # text, not the whole image and not a speck
    np.testing.assert_array_equal(known, text_mask(shape, size, np.random.default_rng(0)))
    assert not np.array_equal(known, text_mask(shape, size, rng=1))  # lines shift sideways
    # the text is drawn in lines: some rows are wholly known
    assert known.all(axis=1).any()


@pytest.mark.parametrize("size", [5, 129, 10.0])
def test_text_mask_bad_size(size):
    with pytest.raises(ValueError, match="the text's size is its height in pixels, a whole "
                                         "number from 6 to 128"):
        text_mask((64, 64), size, rng=0)


def test_parse_mask_specs():
    shape = (48, 64)
    np.testing.assert_array_equal(parse_mask("random:0.3", shape, 5), random_mask(shape, 0.3, 5))
    np.testing.assert_array_equal(parse_mask("block:12", shape, 5), block_mask(shape, 12, 5))
    np.testing.assert_array_equal(parse_mask("text:10", shape, 5), text_mask(shape, 10, 5))
    np.testing.assert_array_equal(parse_mask("text", shape, 5), text_mask(shape, 16, 5))


@pytest.mark.parametrize(("spec", "message"), [
    ("circle:3", "unknown mask 'circle:3'; write random:FRACTION .*, block:SIZE .* or text:SIZE"),
    ("random", "unknown mask 'random'"),
    ("block", "unknown mask 'block'"),
    ("", "unknown mask ''"),
    ("random:half", "mask 'random:half': 'half' is not a number; write random:FRACTION"),
    ("block:big", "mask 'block:big': 'big' is not a whole number of pixels"),
    ("block:2.5", "mask 'block:2.5': '2.5' is not a whole number of pixels"),
    ("text:x", "mask 'text:x': 'x' is not a whole number of pixels"),
    ("random:1.5", r"the share of missing pixels must be in \(0, 1\)"),
    ("block:48", "a 48-pixel block does not fit in a 64x48 image"),
    ("text:2", "the text's size is its height in pixels"),
])
def test_parse_mask_errors(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_mask(spec, (48, 64), 0)


def test_apply_mask(smooth):
    image = smooth(12, 10)
    known = random_mask((12, 10), 0.5, 0)
    out = apply_mask(image, known)
    np.testing.assert_array_equal(out[known], image[known])
    assert not out[~known].any()  # every channel
    np.testing.assert_array_equal(apply_mask(image[..., 0], known, fill=0.5)[~known], 0.5)
    pixels = np.floor(image * 255 + 0.5).astype(np.uint8)
    np.testing.assert_array_equal(apply_mask(pixels, known)[known], pixels[known] / 255)


@pytest.mark.parametrize("known", [np.ones((12, 11), bool), np.ones((10, 12), bool),
                                   np.ones((12, 10, 3), bool), np.ones((12, 10)),
                                   np.ones((12, 10), np.uint8)],
                         ids=["wide", "tall", "3-D", "float", "uint8"])
def test_apply_mask_errors(smooth, known):
    with pytest.raises(ValueError, match=r"the mask must be a boolean array of the image's "
                                         r"\(H, W\) = \(12, 10\)"):
        apply_mask(smooth(12, 10), known)


# --------------------------------------------------------------------------------------------
# Pipeline
# --------------------------------------------------------------------------------------------


def test_pipeline_reproducible_and_seeded(smooth):
    hr = smooth(64, 48)
    steps = [Blur(1.0), Downsample(4), Noise(0.02), JPEG(75)]
    a = Pipeline(steps, seed=0)(hr)
    b = Pipeline(steps, seed=0)(hr)
    c = Pipeline(steps, seed=1)(hr)
    assert a.shape == (16, 12, 3)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # An explicit rng overrides the pipeline's seed.
    np.testing.assert_array_equal(Pipeline(steps, seed=5)(hr, rng=1), c)
    # Calling the same pipeline twice gives the same result (it re-seeds on each call).
    p = Pipeline(steps, seed=7)
    np.testing.assert_array_equal(p(hr), p(hr))


def test_pipeline_steps_compose_in_order(smooth):
    hr = smooth(40, 36)
    out = Pipeline([Blur(1.5), Downsample(2)])(hr)
    np.testing.assert_allclose(out, imresize(gaussian_blur(hr, 1.5), 0.5), atol=1e-12)
    assert Pipeline([Downsample(3, "nearest")])(hr).shape == (14, 12, 3)
    assert "Downsample(scale=4" in repr(Pipeline([Downsample(4)], seed=3))


def test_pipeline_errors():
    with pytest.raises(TypeError, match="float images"):
        Pipeline([Blur(1.0)])(np.zeros((8, 8), dtype=np.uint8))
    with pytest.raises(TypeError, match="callables"):
        Pipeline([Blur(1.0), 3])
    with pytest.raises(ValueError, match="whole number"):
        Pipeline([Downsample(2.5)])(np.zeros((10, 10)))


# --------------------------------------------------------------------------------------------
# imresize in bands of rows: bit for bit the whole-image computation
# --------------------------------------------------------------------------------------------


def whole_image_imresize(image, scale=None, output_shape=None, antialiasing=True):
    """The straightforward imresize: each pass over the whole float64 image, taps summed by
    np.einsum (the course's implementation before it worked in bands)."""
    in_shape = image.shape[:2]
    if scale is not None:
        out_shape = tuple(math.ceil(round(n * scale, 10)) for n in in_shape)
        scales = (float(scale), float(scale))
    else:
        out_shape = output_shape
        scales = (out_shape[0] / in_shape[0], out_shape[1] / in_shape[1])
    is_int = np.issubdtype(image.dtype, np.integer)
    result = image.astype(np.float64)
    for axis in np.argsort(scales, kind="stable"):
        weights, indices = resize_weights(in_shape[axis], out_shape[axis], scales[axis],
                                          antialiasing)
        moved = np.moveaxis(result, axis, 0)
        result = np.moveaxis(np.einsum("ot,ot...->o...", weights, moved[indices]), 0, axis)
        if is_int:
            info = np.iinfo(image.dtype)
            result = np.clip(np.floor(result + 0.5), info.min, info.max)
    return result.astype(image.dtype)


@pytest.mark.parametrize("kind", ["uint8 rgb", "float gray", "uint16 rgb", "float32 rgb"])
@pytest.mark.parametrize("resize", [{"scale": 1 / 3}, {"scale": 3}, {"scale": 0.3},
                                    {"scale": 1 / 4, "antialiasing": False},
                                    {"output_shape": (61, 250)}, {"output_shape": (500, 77)}])
def test_imresize_in_bands_is_bit_for_bit_the_whole_image_computation(kind, resize):
    # 300x410 and 301x409 need several bands of STRIP_ROWS = 64 rows at every scale; the
    # output shapes (61, 250) and (500, 77) resize the width first (the smaller scale).
    rng = np.random.default_rng(7)
    image = {"uint8 rgb": lambda: rng.integers(0, 256, (300, 410, 3), dtype=np.uint8),
             "float gray": lambda: rng.random((301, 409)),
             "uint16 rgb": lambda: rng.integers(0, 65536, (150, 131, 3), dtype=np.uint16),
             "float32 rgb": lambda: rng.random((123, 77, 3)).astype(np.float32)}[kind]()
    want = whole_image_imresize(image, **resize)
    got = imresize(image, **resize)
    assert got.dtype == want.dtype and np.array_equal(got, want)
    bands = list(imresize_rows(image, rows=17, **resize))
    assert [top for top, _ in bands] == list(range(0, want.shape[0], 17))
    assert np.array_equal(np.concatenate([band for _, band in bands]), want)


def test_imresize_rows_checks_its_band_height():
    with pytest.raises(ValueError, match="rows must be at least 1"):
        next(imresize_rows(np.zeros((8, 8)), 0.5, rows=0))


@pytest.mark.parametrize("sigma", [0.8, 1.6, 3.3])
def test_the_explicit_gaussian_kernel_is_the_same_blur_as_gaussian_blur(sigma):
    # one Gaussian blur in the course: the deconvolutions' explicit kernel (cut at 4 sigma)
    # blurs exactly as scipy's separable filter does
    image = np.random.default_rng(0).random((40, 50, 3))
    np.testing.assert_allclose(blur(image, gaussian_kernel(sigma)), gaussian_blur(image, sigma),
                               atol=1e-12)
