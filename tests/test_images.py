"""Tests of course_utils.images: int/float conversion, gray/RGB, BT.601 Y/YCbCr, tensors."""

from __future__ import annotations

import numpy as np
import pytest
import skimage.color
import torch

from course_utils.images import (
    YCBCR_MATRIX,
    YCBCR_OFFSET,
    as_rgb,
    image_to_tensor,
    is_gray,
    rgb_to_y,
    rgb_to_y_torch,
    rgb_to_ycbcr,
    tensor_to_image,
    to_float,
    to_uint8,
    y_channel,
    ycbcr_to_rgb,
)

# --------------------------------------------------------------------------------------------
# to_float, to_uint8
# --------------------------------------------------------------------------------------------


def test_to_uint8_rounds_half_up_and_clips():
    values = np.array([[0.0, 0.4 / 255, 0.6 / 255, 127.49 / 255, 127.51 / 255,
                        254.6 / 255, 1.0, -0.3, 1.7]])
    out = to_uint8(values)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, [[0, 0, 1, 127, 128, 255, 255, 0, 255]])
    assert to_uint8(np.array([[0.5]], dtype=np.float32))[0, 0] == 128  # 127.5 rounds up


def test_to_uint8_of_integer_images():
    u8 = np.array([[3, 250]], dtype=np.uint8)
    assert to_uint8(u8) is u8  # returned as is
    u16 = np.array([[0, 257 * 7, 257 * 200, 65535]], dtype=np.uint16)
    np.testing.assert_array_equal(to_uint8(u16), [[0, 7, 200, 255]])


def test_to_float():
    out = to_float(np.array([[0, 51, 255]], np.uint8))
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [[0, 0.2, 1]])
    np.testing.assert_array_equal(to_float(np.array([[0, 65535]], np.uint16)), [[0, 1]])
    out = to_float(np.array([[0.25, 1.5]], np.float32))
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [[0.25, 1.5]])  # float is not rescaled or clipped
    with pytest.raises(TypeError, match="dtype int64"):
        to_float(np.array([[1, 2]], np.int64))


def test_to_float_and_to_uint8_are_inverse_on_8_bit_levels():
    levels = np.arange(256, dtype=np.uint8).reshape(16, 16)
    np.testing.assert_array_equal(to_uint8(to_float(levels)), levels)


def test_to_float_takes_alpha_only_when_asked():
    rgba = np.full((4, 5, 4), 255, np.uint8)
    np.testing.assert_array_equal(to_float(rgba, alpha=True), 1.0)
    assert to_float(np.zeros((4, 5, 2), np.uint8), alpha=True).shape == (4, 5, 2)
    with pytest.raises(ValueError, match="4 channels"):
        to_float(rgba)


# --------------------------------------------------------------------------------------------
# Gray and RGB
# --------------------------------------------------------------------------------------------


def test_is_gray():
    assert is_gray(np.zeros((4, 5)))
    assert is_gray(np.zeros((4, 5, 1)))
    assert not is_gray(np.zeros((4, 5, 3)))


@pytest.mark.parametrize("shape", [(6, 7), (6, 7, 1)], ids=["hw", "hw1"])
def test_as_rgb_repeats_a_gray_image(rng, shape):
    gray = rng.integers(0, 256, shape, dtype=np.uint8)
    rgb = as_rgb(gray)
    assert rgb.shape == (6, 7, 3) and rgb.dtype == np.uint8
    for c in range(3):
        np.testing.assert_array_equal(rgb[..., c], gray.reshape(6, 7))


def test_as_rgb_returns_an_rgb_image_as_is(rng):
    image = rng.random((6, 7, 3))
    assert as_rgb(image) is image
    with pytest.raises(ValueError, match="4 channels"):
        as_rgb(np.zeros((6, 7, 4)))


# --------------------------------------------------------------------------------------------
# BT.601 Y and YCbCr
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("rgb", "y"), [
    ((0, 0, 0), 16.0),
    ((1, 1, 1), 235.0),
    ((1, 0, 0), 16 + 65.481),
    ((0, 1, 0), 16 + 128.553),
    ((0, 0, 1), 16 + 24.966),
    ((0.5, 0.25, 1.0), 16 + 65.481 * 0.5 + 128.553 * 0.25 + 24.966),
])
def test_rgb_to_y_known_colours(rgb, y):
    image = np.ones((2, 3, 3)) * np.array(rgb, dtype=np.float64)
    np.testing.assert_allclose(rgb_to_y(image), y, atol=1e-10)


def test_rgb_to_y_gray_and_integer_input():
    g = np.linspace(0, 1, 12).reshape(3, 4)
    np.testing.assert_allclose(rgb_to_y(g), 16 + 219 * g, atol=1e-12)
    np.testing.assert_allclose(rgb_to_y(g[..., None]), 16 + 219 * g, atol=1e-12)
    np.testing.assert_allclose(rgb_to_y(np.full((2, 2, 3), 255, np.uint8)), 235.0, atol=1e-10)
    np.testing.assert_allclose(rgb_to_y(np.full((2, 2), 65535, np.uint16)), 235.0, atol=1e-10)
    # A gray RGB image (R = G = B) has the same Y as the 2-D gray image.
    np.testing.assert_allclose(rgb_to_y(np.repeat(g[..., None], 3, axis=2)), rgb_to_y(g),
                               atol=1e-10)


@pytest.mark.parametrize("seed", range(5))
def test_rgb_to_y_and_ycbcr_equal_skimage(seed):
    image = np.random.default_rng(seed).random((9 + seed, 14, 3))
    expected = skimage.color.rgb2ycbcr(image)
    np.testing.assert_allclose(rgb_to_ycbcr(image), expected, atol=1e-10)
    np.testing.assert_allclose(rgb_to_y(image), expected[..., 0], atol=1e-10)


def test_ycbcr_matrix_rows():
    # Y of white is 219 above black; Cb and Cr of any gray are 128 (their rows sum to zero).
    np.testing.assert_allclose(YCBCR_MATRIX.sum(axis=1), [219.0, 0.0, 0.0], atol=1e-12)


def test_rgb_to_ycbcr_of_a_gray_image(rng):
    g = rng.random((5, 6))
    ycbcr = rgb_to_ycbcr(g)
    assert ycbcr.shape == (5, 6, 3)
    np.testing.assert_allclose(ycbcr[..., 0], 16 + 219 * g, atol=1e-12)
    np.testing.assert_allclose(ycbcr[..., 1:], 128.0, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.uint8])
def test_ycbcr_round_trip(rng, dtype):
    image = rng.random((7, 9, 3))
    image = to_uint8(image) if dtype == np.uint8 else image
    np.testing.assert_allclose(ycbcr_to_rgb(rgb_to_ycbcr(image)), to_float(image), atol=1e-12)


def test_ycbcr_to_rgb_clips_and_checks_the_shape():
    out_of_gamut = np.full((2, 2, 3), [235.0, 240.0, 240.0])  # white plus full chroma
    rgb = ycbcr_to_rgb(out_of_gamut)
    assert rgb.min() >= 0 and rgb.max() <= 1
    assert rgb.max() == 1.0  # some channel saturates
    with pytest.raises(ValueError, match=r"\(H, W, 3\) YCbCr array, got shape \(2, 2\)"):
        ycbcr_to_rgb(np.zeros((2, 2)))


def _y_by_hand(image: np.ndarray) -> np.ndarray:
    """Quantise to 8 bits, apply the BT.601 formula, round half up (the documented recipe)."""
    q = np.floor(np.clip(image, 0, 1) * 255 + 0.5) / 255
    if q.ndim == 2:
        y = 16 + 219 * q
    else:
        y = 16 + 65.481 * q[..., 0] + 128.553 * q[..., 1] + 24.966 * q[..., 2]
    return np.floor(y + 0.5)


@pytest.mark.parametrize("shape", [(15, 19, 3), (15, 19)], ids=["rgb", "gray"])
def test_y_channel_is_rounded_y_of_the_8bit_image(rng, shape):
    image = rng.random(shape) * 1.2 - 0.1  # also outside [0, 1]: clipped like a saved PNG
    image[0, 0], image[0, 1] = -0.2, 1.3  # black and white after clipping
    y = y_channel(image)
    assert y.shape == shape[:2]
    assert y.dtype == np.float64
    assert y.min() == 16 and y.max() == 235  # the clipped pixels reach both ends
    np.testing.assert_array_equal(y, _y_by_hand(image))
    # uint8 input gives the same as its float version.
    as_uint8 = np.floor(np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)
    np.testing.assert_array_equal(y_channel(as_uint8), y)


def test_rgb_to_y_torch_equals_numpy():
    rng = np.random.default_rng(5)
    x = rng.random((3, 3, 7, 9))
    y = rgb_to_y_torch(torch.from_numpy(x))
    assert y.shape == (3, 1, 7, 9)
    for i in range(3):
        np.testing.assert_allclose(y[i, 0].numpy(), rgb_to_y(x[i].transpose(1, 2, 0)) / 255,
                                   atol=1e-12)


def test_rgb_to_y_torch_shape_errors():
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        rgb_to_y_torch(torch.rand(2, 1, 8, 8))
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        rgb_to_y_torch(torch.rand(3, 8, 8))


# --------------------------------------------------------------------------------------------
# Images and tensors
# --------------------------------------------------------------------------------------------


def test_image_to_tensor_rgb(rng):
    image = rng.random((9, 13, 3))
    t = image_to_tensor(image)
    assert t.shape == (1, 3, 9, 13) and t.dtype == torch.float32
    np.testing.assert_allclose(t[0].numpy().transpose(1, 2, 0), image, atol=1e-7)
    u8 = to_uint8(image)
    np.testing.assert_allclose(image_to_tensor(u8)[0].numpy().transpose(1, 2, 0), u8 / 255,
                               atol=1e-7)


@pytest.mark.parametrize("shape", [(9, 13), (9, 13, 1)], ids=["hw", "hw1"])
def test_image_to_tensor_rgb_of_a_gray_image_has_three_channels(rng, shape):
    gray = rng.random(shape)
    t = image_to_tensor(gray, "rgb")
    assert t.shape == (1, 3, 9, 13)
    for c in range(3):
        np.testing.assert_allclose(t[0, c].numpy(), gray.reshape(9, 13), atol=1e-7)


def test_image_to_tensor_gray_keeps_the_channels(rng):
    gray = rng.random((9, 13))
    t = image_to_tensor(gray, "gray")
    assert t.shape == (1, 1, 9, 13)
    np.testing.assert_allclose(t[0, 0].numpy(), gray, atol=1e-7)
    assert image_to_tensor(gray[..., None], "gray").shape == (1, 1, 9, 13)
    rgb = rng.random((9, 13, 3))
    assert torch.equal(image_to_tensor(rgb, "gray"), image_to_tensor(rgb, "rgb"))


def test_image_to_tensor_y(rng):
    rgb = to_uint8(rng.random((9, 13, 3)))
    t = image_to_tensor(rgb, "y")
    assert t.shape == (1, 1, 9, 13) and t.dtype == torch.float32
    np.testing.assert_allclose(t[0, 0].numpy(), rgb_to_y(rgb) / 255, atol=1e-6)
    assert 16 / 255 - 1e-6 <= t.min() and t.max() <= 235 / 255 + 1e-6
    gray = rng.random((9, 13))
    np.testing.assert_allclose(image_to_tensor(gray, "y")[0, 0].numpy(),
                               (16 + 219 * gray) / 255, atol=1e-6)


def test_image_to_tensor_errors():
    with pytest.raises(ValueError, match="mode must be 'rgb', 'gray' or 'y', got 'ycbcr'"):
        image_to_tensor(np.zeros((4, 4, 3)), "ycbcr")
    with pytest.raises(ValueError, match="4 channels"):
        image_to_tensor(np.zeros((4, 4, 4)))
    with pytest.raises(TypeError, match="NumPy array"):
        image_to_tensor(torch.zeros(4, 4, 3))


@pytest.mark.parametrize(("shape", "mode"), [((9, 13, 3), "rgb"), ((9, 13), "gray")])
def test_tensor_to_image_inverts_image_to_tensor(rng, shape, mode):
    image = rng.random(shape)
    back = tensor_to_image(image_to_tensor(image, mode))
    assert back.shape == shape and back.dtype == np.float64
    np.testing.assert_allclose(back, image, atol=1e-7)


def test_tensor_to_image_clips_and_detaches():
    t = torch.tensor([[[[-0.5, 0.25], [1.5, 1.0]]]], requires_grad=True)
    np.testing.assert_array_equal(tensor_to_image(t * 1), [[0.0, 0.25], [1.0, 1.0]])


@pytest.mark.parametrize("shape", [(3, 4, 4), (2, 3, 4, 4)])
def test_tensor_to_image_needs_one_image(shape):
    with pytest.raises(ValueError, match=r"\(1, C, H, W\) tensor"):
        tensor_to_image(torch.zeros(shape))


def test_to_uint8_refuses_nan_and_inf():
    for bad in (np.nan, np.inf):
        image = np.full((4, 4), 0.5)
        image[1, 2] = bad
        with pytest.raises(ValueError, match="NaN or inf"):
            to_uint8(image)


def test_colour_conversions_in_strips_are_bit_for_bit_the_whole_image_ones():
    # 300 rows: several strips of STRIP_ROWS; the whole-image formulas are the documented ones.
    rng = np.random.default_rng(11)
    image = rng.integers(0, 256, (300, 410, 3), dtype=np.uint8)
    rgb = image / 255.0
    assert np.array_equal(rgb_to_ycbcr(image), YCBCR_OFFSET + rgb @ YCBCR_MATRIX.T)
    assert np.array_equal(rgb_to_y(image), 16.0 + rgb @ YCBCR_MATRIX[0])
    assert np.array_equal(y_channel(image), np.floor(16.0 + rgb @ YCBCR_MATRIX[0] + 0.5))


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.uint16])
def test_to_uint8_in_strips_is_the_whole_image_formula(dtype):
    # 600 rows: nine strips of STRIP_ROWS (64) and a short one; values outside [0, 1] clip
    rng = np.random.default_rng(2)
    if dtype == np.uint16:
        image = rng.integers(0, 65536, (600, 7, 3)).astype(np.uint16)
        whole = image / 65535.0
    else:
        image = (rng.random((600, 7)) * 1.4 - 0.2).astype(dtype)
        whole = image.astype(np.float64)
    want = np.floor(np.clip(whole, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    np.testing.assert_array_equal(to_uint8(image), want)
