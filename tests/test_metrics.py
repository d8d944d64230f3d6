"""Tests of course_utils.metrics against scikit-image and hand-computable cases."""

from __future__ import annotations

import numpy as np
import pytest
import skimage.color
import skimage.data
import skimage.metrics
import torch

from course_utils.degrade import add_gaussian_noise, gaussian_blur, jpeg_compress
from course_utils.metrics import (
    crop_border,
    gaussian_window,
    mse,
    psnr,
    psnr_torch,
    rgb_to_y,
    rgb_to_y_torch,
    sr_metrics,
    ssim,
    ssim_components,
    ssim_torch,
    y_channel,
)


def sk_ssim(a: np.ndarray, b: np.ndarray, data_range: float) -> float:
    return skimage.metrics.structural_similarity(
        a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
        data_range=data_range, channel_axis=-1 if a.ndim == 3 else None)


# --------------------------------------------------------------------------------------------
# Agreement with scikit-image on many pairs
# --------------------------------------------------------------------------------------------

SIZES = [(16, 16), (17, 23), (32, 21), (11, 11), (40, 13), (25, 25), (12, 50), (33, 31),
         (64, 48), (19, 11)]
RANDOM_CASES = [
    (seed, SIZES[seed % len(SIZES)], 3 if seed % 2 else None, 255.0 if seed % 4 >= 2 else 1.0)
    for seed in range(20)
]
RANDOM_IDS = [f"seed{c[0]}-{c[1][0]}x{c[1][1]}-{'rgb' if c[2] else 'gray'}-L{c[3]:g}"
              for c in RANDOM_CASES]


def _random_pair(seed, size, channels, data_range):
    rng = np.random.default_rng(seed)
    shape = size + ((channels,) if channels else ())
    reference = rng.random(shape)
    if seed % 3 == 0:
        test = rng.random(shape)  # independent: SSIM near 0
    else:
        test = np.clip(reference + rng.normal(0, 0.02 * (1 + seed % 5), shape), 0, 1)
    return reference * data_range, test * data_range


@pytest.mark.parametrize(("seed", "size", "channels", "data_range"), RANDOM_CASES,
                         ids=RANDOM_IDS)
def test_random_pairs_agree_with_skimage(seed, size, channels, data_range):
    reference, test = _random_pair(seed, size, channels, data_range)
    assert mse(reference, test) == pytest.approx(
        skimage.metrics.mean_squared_error(reference, test), rel=1e-12)
    assert psnr(reference, test, data_range) == pytest.approx(
        skimage.metrics.peak_signal_noise_ratio(reference, test, data_range=data_range), abs=1e-6)
    assert ssim(reference, test, data_range) == pytest.approx(
        sk_ssim(reference, test, data_range), abs=1e-6)


def test_uint8_pairs_agree_with_skimage():
    rng = np.random.default_rng(7)
    a = rng.integers(0, 256, (30, 26, 3), dtype=np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-20, 21, a.shape), 0, 255).astype(np.uint8)
    assert mse(a, b) == pytest.approx(skimage.metrics.mean_squared_error(a, b))
    # uint8 differences do not wrap around (255 - 0 is 255, not 1).
    assert mse(np.array([[255]], np.uint8), np.array([[0]], np.uint8)) == 255.0**2
    assert psnr(a, b, 255) == pytest.approx(
        skimage.metrics.peak_signal_noise_ratio(a, b, data_range=255), abs=1e-6)
    assert ssim(a, b, 255) == pytest.approx(sk_ssim(a, b, 255), abs=1e-6)


PHOTOS = {
    "camera": lambda: skimage.data.camera()[100:196, 180:260] / 255.0,  # gray, 96 x 80
    "astronaut": lambda: skimage.data.astronaut()[40:120, 180:275] / 255.0,  # RGB, 80 x 95
    "coffee": lambda: skimage.data.coffee()[150:237, 200:290] / 255.0,  # RGB, 87 x 90
    "chelsea": lambda: skimage.data.chelsea()[60:151, 150:233] / 255.0,  # RGB, 91 x 83
}
DISTORTIONS = {
    "noise": lambda im: add_gaussian_noise(im, 0.05, rng=1),
    "blur": lambda im: gaussian_blur(im, 1.5),
    "jpeg": lambda im: jpeg_compress(im, 30),
}


@pytest.mark.parametrize("photo", PHOTOS)
@pytest.mark.parametrize("distortion", DISTORTIONS)
@pytest.mark.parametrize("data_range", [1.0, 255.0])
def test_real_pairs_agree_with_skimage(photo, distortion, data_range):
    reference = PHOTOS[photo]()
    test = DISTORTIONS[distortion](reference)
    reference, test = reference * data_range, test * data_range
    expected_psnr = skimage.metrics.peak_signal_noise_ratio(reference, test,
                                                            data_range=data_range)
    assert psnr(reference, test, data_range) == pytest.approx(expected_psnr, abs=1e-6)
    assert ssim(reference, test, data_range) == pytest.approx(
        sk_ssim(reference, test, data_range), abs=1e-6)
    assert mse(reference, test) == pytest.approx(
        skimage.metrics.mean_squared_error(reference, test), rel=1e-12)
    assert 15 < expected_psnr < 50  # a real, visible distortion


def test_psnr_by_hand():
    # MSE of 0.01 on the unit scale: PSNR = 10 log10(1 / 0.01) = 20 dB; with L = 255, the
    # same relative error (2.55 levels) gives 20 dB too.
    a = np.zeros((4, 4))
    b = np.full((4, 4), 0.1)
    assert mse(a, b) == pytest.approx(0.01)
    assert psnr(a, b) == pytest.approx(20.0)
    assert psnr(a * 255, b * 255, data_range=255) == pytest.approx(20.0)
    assert psnr(a, b / np.sqrt(10)) == pytest.approx(30.0)  # 10x less MSE, +10 dB


# --------------------------------------------------------------------------------------------
# SSIM details
# --------------------------------------------------------------------------------------------


def test_gaussian_window():
    g = gaussian_window()
    assert g.shape == (11,)
    assert g.sum() == pytest.approx(1.0)
    i = np.arange(-5, 6)
    np.testing.assert_allclose(g / g[5], np.exp(-(i**2) / (2 * 1.5**2)), rtol=1e-12)
    with pytest.raises(ValueError, match="positive odd"):
        gaussian_window(10)


@pytest.mark.parametrize("shape", [(30, 24), (21, 40, 3)], ids=["gray", "rgb"])
def test_ssim_full_map(rng, shape):
    a = rng.random(shape)
    b = np.clip(a + rng.normal(0, 0.1, shape), 0, 1)
    value, ssim_map = ssim(a, b, full=True)
    assert ssim_map.shape == (shape[0] - 10, shape[1] - 10)
    assert ssim_map.mean() == pytest.approx(value, abs=1e-12)
    assert value == pytest.approx(ssim(a, b))
    # skimage's full map, cropped to the valid region, is the same map (channel mean).
    _, sk_map = skimage.metrics.structural_similarity(
        a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1.0,
        channel_axis=-1 if len(shape) == 3 else None, full=True)
    sk_map = sk_map.mean(axis=-1) if len(shape) == 3 else sk_map
    np.testing.assert_allclose(ssim_map, sk_map[5:-5, 5:-5], atol=1e-6)


def test_ssim_components_product_is_the_ssim_map(rng):
    a = rng.random((26, 33))
    b = gaussian_blur(a, 1.0) + 0.05
    parts = ssim_components(a, b, data_range=1.0)
    assert set(parts) == {"luminance", "contrast", "structure", "ssim"}
    _, ssim_map = ssim(a, b, full=True)
    np.testing.assert_allclose(parts["luminance"] * parts["contrast"] * parts["structure"],
                               ssim_map, atol=1e-12)
    np.testing.assert_allclose(parts["ssim"], ssim_map, atol=1e-12)
    for name in ("luminance", "contrast"):  # both are <= 1 by the AM-GM inequality
        assert parts[name].max() <= 1 + 1e-12
    assert np.abs(parts["structure"]).max() <= 1 + 1e-9  # a correlation coefficient
    with pytest.raises(ValueError, match="grayscale"):
        ssim_components(rng.random((16, 16, 3)), rng.random((16, 16, 3)))


def test_ssim_components_separate_the_effects(rng):
    a = rng.random((24, 24)) * 0.5 + 0.25
    shifted = ssim_components(a, a + 0.2)  # only the mean changes
    np.testing.assert_allclose(shifted["contrast"], 1.0, atol=1e-9)
    np.testing.assert_allclose(shifted["structure"], 1.0, atol=1e-9)
    assert shifted["luminance"].max() < 1.0


def test_identical_images():
    image = np.random.default_rng(3).random((20, 20, 3))
    assert ssim(image, image) == pytest.approx(1.0, abs=1e-12)
    assert psnr(image, image) == float("inf")
    assert mse(image, image) == 0.0


def test_ssim_is_symmetric_and_at_most_one(rng):
    a, b = rng.random((20, 25)), rng.random((20, 25))
    assert ssim(a, b) == pytest.approx(ssim(b, a), abs=1e-12)
    assert ssim(a, b) < 1


# --------------------------------------------------------------------------------------------
# Y conversion and the SR recipe
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
def test_rgb_to_y_equals_skimage(seed):
    image = np.random.default_rng(seed).random((9 + seed, 14, 3))
    np.testing.assert_allclose(rgb_to_y(image), skimage.color.rgb2ycbcr(image)[..., 0],
                               atol=1e-10)


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
    np.testing.assert_array_equal(y, np.round(y))  # integer valued
    assert y.min() >= 16 and y.max() <= 235
    assert y.min() == 16 and y.max() == 235  # the clipped pixels reach both ends
    np.testing.assert_array_equal(y, _y_by_hand(image))
    # uint8 input gives the same as its float version.
    as_uint8 = np.floor(np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)
    np.testing.assert_array_equal(y_channel(as_uint8), y)


def test_crop_border(rng):
    image = rng.random((12, 15, 3))
    cropped = crop_border(image, 3)
    assert cropped.shape == (6, 9, 3)
    np.testing.assert_array_equal(cropped, image[3:9, 3:12])
    assert crop_border(image, 0) is image
    with pytest.raises(ValueError, match="too small to crop 6 pixels"):
        crop_border(image, 6)
    with pytest.raises(ValueError, match="border must be >= 0"):
        crop_border(image, -1)


@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize("channels", [3, None], ids=["rgb", "gray"])
def test_sr_metrics_equals_manual_recipe(smooth, rng, scale, channels):
    hr = smooth(48, 36, channels=channels, seed=scale, cycles=6)
    sr = np.clip(hr + rng.normal(0, 0.03, hr.shape), 0, 1)
    y_hr = _y_by_hand(hr)[scale:-scale, scale:-scale]
    y_sr = _y_by_hand(sr)[scale:-scale, scale:-scale]
    expected_psnr = skimage.metrics.peak_signal_noise_ratio(y_hr, y_sr, data_range=255)
    expected_ssim = sk_ssim(y_hr, y_sr, 255)
    p, s = sr_metrics(sr, hr, scale)
    assert p == pytest.approx(expected_psnr, abs=1e-9)
    assert s == pytest.approx(expected_ssim, abs=1e-6)
    assert isinstance(p, float) and isinstance(s, float)


def test_sr_metrics_gray_against_equal_channel_rgb(smooth, rng):
    hr = smooth(30, 30, channels=None)
    sr = np.clip(hr + rng.normal(0, 0.05, hr.shape), 0, 1)
    as_rgb = np.repeat(sr[..., None], 3, axis=2)
    assert sr_metrics(as_rgb, hr, 2) == pytest.approx(sr_metrics(sr, hr, 2), abs=1e-12)


def test_sr_metrics_identical():
    hr = np.random.default_rng(0).random((24, 24, 3))
    p, s = sr_metrics(hr, hr, 2)
    assert p == float("inf") and s == pytest.approx(1.0)


def test_metric_errors(rng):
    a, b = rng.random((20, 20)), rng.random((20, 21))
    with pytest.raises(ValueError, match=r"same shape, got \(20, 20\) and \(20, 21\)"):
        mse(a, b)
    with pytest.raises(ValueError, match="same shape"):
        psnr(a, b)
    with pytest.raises(ValueError, match="same shape"):
        ssim(a, b)
    with pytest.raises(ValueError, match=r"at least 11x11 pixels.*\(8, 30\)"):
        ssim(rng.random((8, 30)), rng.random((8, 30)))
    with pytest.raises(ValueError, match="at least 11x11"):
        ssim_components(rng.random((10, 10)), rng.random((10, 10)))
    for bad in (0, -1.0):
        with pytest.raises(ValueError, match="data_range must be positive"):
            psnr(a, a, data_range=bad)
        with pytest.raises(ValueError, match="data_range must be positive"):
            ssim(a, a, data_range=bad)
    with pytest.raises(ValueError, match=r"differ in size.*modcrop"):
        sr_metrics(rng.random((20, 20)), rng.random((22, 20)), 2)
    with pytest.raises(ValueError, match="whole number"):
        sr_metrics(a, a, 2.5)
    with pytest.raises(ValueError, match="4 channels"):
        psnr(rng.random((8, 8, 4)), rng.random((8, 8, 4)))
    with pytest.raises(TypeError, match="NumPy array"):
        mse(a.tolist(), a)


def test_smaller_window_works_on_small_images(rng):
    a = rng.random((8, 9))
    b = np.clip(a + 0.1, 0, 1)
    value = ssim(a, b, window_size=7)
    expected = skimage.metrics.structural_similarity(
        a, b, win_size=7, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
        data_range=1.0)
    # skimage's Gaussian window is always 11 wide (truncate 3.5 sigma); ours is 7 wide, so
    # only a loose agreement is expected - the point is that small images are accepted.
    assert 0 < value < 1 and abs(value - expected) < 0.2


# --------------------------------------------------------------------------------------------
# torch versions
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("channels", [3, 1])
@pytest.mark.parametrize("data_range", [1.0, 255.0])
def test_torch_metrics_equal_numpy_per_image(channels, data_range):
    rng = np.random.default_rng(channels)
    hr = rng.random((4, channels, 23, 19)) * data_range
    noise = rng.normal(0, 0.05 * data_range, hr.shape) * np.arange(1, 5)[:, None, None, None]
    sr = np.clip(hr + noise, 0, data_range)
    p = psnr_torch(torch.from_numpy(sr), torch.from_numpy(hr), data_range)
    s = ssim_torch(torch.from_numpy(sr), torch.from_numpy(hr), data_range)
    assert p.shape == (4,) and s.shape == (4,)
    assert p.dtype == torch.float64
    # Channels last for the NumPy functions; a single channel becomes a 2-D image.
    hr_np = hr.transpose(0, 2, 3, 1) if channels == 3 else hr[:, 0]
    sr_np = sr.transpose(0, 2, 3, 1) if channels == 3 else sr[:, 0]
    for i in range(4):
        assert p[i].item() == pytest.approx(psnr(hr_np[i], sr_np[i], data_range), abs=1e-6)
        assert s[i].item() == pytest.approx(ssim(hr_np[i], sr_np[i], data_range), abs=1e-6)
    assert torch.all(p[:-1] > p[1:])  # more noise, lower PSNR


def test_ssim_torch_is_differentiable():
    rng = np.random.default_rng(0)
    hr = torch.from_numpy(rng.random((2, 3, 16, 16)))
    sr = (hr + 0.1 * torch.from_numpy(rng.standard_normal((2, 3, 16, 16)))).requires_grad_()
    loss = 1 - ssim_torch(sr, hr).mean()
    loss.backward()
    assert sr.grad is not None
    assert torch.isfinite(sr.grad).all()
    assert sr.grad.abs().sum() > 0
    # A small step against the gradient improves SSIM.
    with torch.no_grad():
        better = sr - 0.5 * sr.grad / sr.grad.abs().max()
        assert ssim_torch(better, hr).mean() > ssim_torch(sr, hr).mean()


def test_rgb_to_y_torch_equals_numpy():
    rng = np.random.default_rng(5)
    x = rng.random((3, 3, 7, 9))
    y = rgb_to_y_torch(torch.from_numpy(x))
    assert y.shape == (3, 1, 7, 9)
    for i in range(3):
        np.testing.assert_allclose(y[i, 0].numpy(), rgb_to_y(x[i].transpose(1, 2, 0)) / 255,
                                   atol=1e-12)


def test_torch_shape_errors():
    a = torch.rand(2, 3, 16, 16)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\).*\(3, 16, 16\)"):
        psnr_torch(a[0], a[0])
    with pytest.raises(ValueError, match="same shape"):
        ssim_torch(a, a[:, :1])
    with pytest.raises(ValueError, match="at least 11x11"):
        ssim_torch(torch.rand(1, 1, 8, 20), torch.rand(1, 1, 8, 20))
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        rgb_to_y_torch(torch.rand(2, 1, 8, 8))
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        rgb_to_y_torch(torch.rand(3, 8, 8))
