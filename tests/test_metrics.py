"""Tests of course_utils.metrics against scikit-image and hand-computable cases."""

from __future__ import annotations

import numpy as np
import pytest
import skimage.data
import skimage.metrics
import torch

from course_utils.degrade import add_gaussian_noise, gaussian_blur, jpeg_compress
from course_utils.images import to_uint8, y_channel
from course_utils.metrics import (
    _streamed_mean,
    crop_border,
    foreground_mask,
    foreground_sr_psnr,
    gaussian_window,
    mse,
    psnr,
    psnr_torch,
    restoration_metrics,
    sr_metrics,
    ssim,
    ssim_components,
    ssim_torch,
)


def sk_ssim(a: np.ndarray, b: np.ndarray, data_range: float | None = None) -> float:
    """scikit-image's SSIM with the paper's settings; without data_range it takes the range
    from the dtype (255 for uint8)."""
    extra = {} if data_range is None else {"data_range": data_range}
    return skimage.metrics.structural_similarity(
        a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
        channel_axis=-1 if a.ndim == 3 else None, **extra)


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


@pytest.mark.parametrize("channels", [3, None], ids=["rgb", "gray"])
def test_uint8_default_range_is_255_as_in_skimage(smooth, rng, channels):
    # Two uint8 images a few levels apart: MSE = 2 (1 + 4 + 9 + 16 + 25) / 11 = 10, about
    # 38 dB on the 0-255 range (a peak of 1 would give -10 dB).
    a = to_uint8(smooth(40, 36, channels=channels, seed=2))  # 25..230: nothing clips below
    b = (a.astype(int) + rng.integers(-5, 6, a.shape)).astype(np.uint8)
    expected = skimage.metrics.peak_signal_noise_ratio(a, b)  # range from the dtype
    assert psnr(a, b) == pytest.approx(expected, abs=1e-9)
    assert 36 < psnr(a, b) < 40
    assert psnr(a, b) == pytest.approx(psnr(a, b, 255), abs=1e-12)
    assert ssim(a, b) == pytest.approx(sk_ssim(a, b), abs=1e-6)
    assert ssim(a, b) == pytest.approx(ssim(a, b, 255), abs=1e-12)
    assert ssim(a, b) > 0.9


def test_uint16_default_range_is_65535_as_in_skimage(rng):
    a = rng.integers(1000, 60000, (24, 20), dtype=np.uint16)
    b = (a.astype(int) + rng.integers(-300, 301, a.shape)).astype(np.uint16)
    assert psnr(a, b) == pytest.approx(skimage.metrics.peak_signal_noise_ratio(a, b), abs=1e-9)
    # (scikit-image's SSIM warns when it takes 65535 from the dtype: give it explicitly)
    assert ssim(a, b) == pytest.approx(sk_ssim(a, b, 65535), abs=1e-6)


def test_mixing_integer_and_float_images_is_an_error(smooth):
    u8 = to_uint8(smooth(16, 16))
    as_float = u8 / 255
    for metric in (mse, psnr, ssim):
        for reference, test in ((u8, as_float), (as_float, u8)):
            with pytest.raises(TypeError, match=r"to_float.*to_uint8"):
                metric(reference, test)
    with pytest.raises(TypeError, match="uint16"):
        psnr(u8, u8.astype(np.uint16))
    # Two float types are both on [0, 1]: fine.
    assert psnr(as_float.astype(np.float32), as_float) > 100


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
# The SR recipe
# --------------------------------------------------------------------------------------------


def _scored_channel_by_hand(image: np.ndarray) -> np.ndarray:
    """The published recipe: quantise to 8 bits; a 3-channel image gives its BT.601 Y, rounded
    half up; a single-channel one its own 0-255 intensities."""
    q = np.floor(np.clip(image, 0, 1) * 255 + 0.5)
    if q.ndim == 2 or q.shape[2] == 1:
        return q.reshape(q.shape[:2])
    y = 16 + (65.481 * q[..., 0] + 128.553 * q[..., 1] + 24.966 * q[..., 2]) / 255
    return np.floor(y + 0.5)


def _psnr_255(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255.0**2 / np.mean((a - b) ** 2)))


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
    y_hr = _scored_channel_by_hand(hr)[scale:-scale, scale:-scale]
    y_sr = _scored_channel_by_hand(sr)[scale:-scale, scale:-scale]
    expected_psnr = skimage.metrics.peak_signal_noise_ratio(y_hr, y_sr, data_range=255)
    expected_ssim = sk_ssim(y_hr, y_sr, 255)
    p, s = sr_metrics(sr, hr, scale)
    assert p == pytest.approx(expected_psnr, abs=1e-9)
    assert s == pytest.approx(expected_ssim, abs=1e-6)
    assert isinstance(p, float) and isinstance(s, float)


def test_sr_metrics_scores_a_gray_image_on_its_intensities(smooth, rng):
    hr = smooth(64, 64, channels=None, seed=1)
    sr = np.clip(hr + rng.normal(0, 0.05, hr.shape), 0, 1)
    q_hr = np.floor(hr * 255 + 0.5)[2:-2, 2:-2]  # 0-255 intensities, border of 2 cropped
    q_sr = np.floor(sr * 255 + 0.5)[2:-2, 2:-2]
    p, s = sr_metrics(sr, hr, 2)
    assert p == pytest.approx(_psnr_255(q_hr, q_sr), abs=1e-9)
    assert s == pytest.approx(sk_ssim(q_hr, q_sr, 255), abs=1e-6)
    # (H, W, 1) is gray too.
    assert sr_metrics(sr[..., None], hr[..., None], 2) == pytest.approx((p, s), abs=1e-12)
    # Its R = G = B copy has 3 channels, so it is scored on Y: 16 + 219 g squeezes the 0-255
    # range, and the errors with it, by 219/255, which raises PSNR by 20 log10(255/219).
    rgb_sr, rgb_hr = (np.repeat(im[..., None], 3, axis=2) for im in (sr, hr))
    p_rgb, s_rgb = sr_metrics(rgb_sr, rgb_hr, 2)
    assert p_rgb - p == pytest.approx(20 * np.log10(255 / 219), abs=0.05)
    assert s_rgb != pytest.approx(s, abs=1e-6)


def test_sr_metrics_converts_an_equal_channel_rgb_image_to_y(smooth, rng):
    gray = smooth(40, 44, channels=None, seed=6)
    hr = np.repeat(gray[..., None], 3, axis=2)
    sr = np.clip(hr + rng.normal(0, 0.03, hr.shape[:2])[..., None], 0, 1)  # still R = G = B
    q_hr, q_sr = (np.floor(im[..., 0] * 255 + 0.5) for im in (hr, sr))
    y_hr, y_sr = (np.floor(16 + 219 * q / 255 + 0.5)[3:-3, 3:-3] for q in (q_hr, q_sr))
    p, s = sr_metrics(sr, hr, 3)
    assert p == pytest.approx(_psnr_255(y_hr, y_sr), abs=1e-9)
    assert s == pytest.approx(sk_ssim(y_hr, y_sr, 255), abs=1e-6)


def test_sr_metrics_refuses_gray_against_rgb(smooth):
    gray = smooth(24, 24, channels=None)
    rgb = np.repeat(gray[..., None], 3, axis=2)
    for sr, hr in ((gray, rgb), (rgb, gray), (gray[..., None], rgb)):
        with pytest.raises(ValueError, match="score like with like"):
            sr_metrics(sr, hr, 2)


# --------------------------------------------------------------------------------------------
# The restoration recipe
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("channels", [3, None], ids=["rgb", "gray"])
def test_restoration_metrics_is_uint8_psnr_ssim_of_the_full_image(smooth, rng, channels):
    clean = smooth(40, 33, channels=channels, seed=4)
    output = clean + rng.normal(0, 0.08, clean.shape)
    assert output.min() < 0 and output.max() > 1  # clipped before quantising
    q_clean = np.floor(clean * 255 + 0.5).astype(np.uint8)
    q_output = np.floor(np.clip(output, 0, 1) * 255 + 0.5).astype(np.uint8)
    p, s = restoration_metrics(output, clean)
    # Every pixel and channel, no border crop, no Y conversion.
    assert p == pytest.approx(skimage.metrics.peak_signal_noise_ratio(q_clean, q_output),
                              abs=1e-9)
    assert s == pytest.approx(sk_ssim(q_clean, q_output), abs=1e-6)
    assert (p, s) == pytest.approx((psnr(to_uint8(clean), to_uint8(output)),
                                    ssim(to_uint8(clean), to_uint8(output))), abs=1e-12)
    # uint8 images are used as they are; a float output against a uint8 clean image is fine.
    assert restoration_metrics(q_output, q_clean) == pytest.approx((p, s), abs=1e-12)
    assert restoration_metrics(output, q_clean) == pytest.approx((p, s), abs=1e-12)
    assert isinstance(p, float) and isinstance(s, float)


def test_restoration_metrics_errors(rng):
    with pytest.raises(ValueError, match="same shape"):
        restoration_metrics(rng.random((20, 20)), rng.random((20, 20, 3)))
    with pytest.raises(ValueError, match="4 channels"):
        restoration_metrics(rng.random((20, 20, 4)), rng.random((20, 20, 4)))


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


def test_torch_metrics_of_uint8_tensors_use_255(rng):
    hr = rng.integers(20, 236, (3, 3, 16, 18), dtype=np.uint8)
    sr = (hr.astype(int) + rng.integers(-5, 6, hr.shape)).astype(np.uint8)
    p = psnr_torch(torch.from_numpy(sr), torch.from_numpy(hr))
    s = ssim_torch(torch.from_numpy(sr), torch.from_numpy(hr))
    for i in range(3):
        hr_np, sr_np = hr[i].transpose(1, 2, 0), sr[i].transpose(1, 2, 0)
        assert p[i].item() == pytest.approx(
            skimage.metrics.peak_signal_noise_ratio(hr_np, sr_np), abs=1e-6)
        assert s[i].item() == pytest.approx(ssim(hr_np, sr_np), abs=1e-6)
    assert torch.all((36 < p) & (p < 40))


def test_torch_metrics_refuse_integer_against_float():
    u8 = torch.randint(0, 256, (1, 3, 16, 16), dtype=torch.uint8)
    as_float = u8.double() / 255
    for metric in (psnr_torch, ssim_torch):
        for sr, hr in ((u8, as_float), (as_float, u8)):
            with pytest.raises(TypeError, match=r"to_float.*to_uint8"):
                metric(sr, hr)


def test_torch_shape_errors():
    a = torch.rand(2, 3, 16, 16)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\).*\(3, 16, 16\)"):
        psnr_torch(a[0], a[0])
    with pytest.raises(ValueError, match="same shape"):
        ssim_torch(a, a[:, :1])
    with pytest.raises(ValueError, match="at least 11x11"):
        ssim_torch(torch.rand(1, 1, 8, 20), torch.rand(1, 1, 8, 20))


def test_foreground_psnr_scores_the_object_not_the_black_background():
    hr = np.zeros((60, 60))
    hr[20:40, 20:40] = 0.8  # an object on a black background
    sr = hr.copy()
    sr[25:35, 25:35] = 0.7  # an error inside the object only
    mask = foreground_mask(hr, margin=3)
    assert mask.sum() == 26 * 26 and mask[30, 30] and not mask[5, 5]
    whole, _ = sr_metrics(sr, hr, 3)
    fg = foreground_sr_psnr(sr, hr, 3)
    # same squared error over fewer pixels: lower by 10 log10(pixels / foreground pixels)
    assert whole - fg == pytest.approx(10 * np.log10(54 * 54 / (26 * 26)), abs=1e-9)
    assert foreground_sr_psnr(hr, hr, 3) == float("inf")
    with pytest.raises(ValueError, match="no foreground"):
        foreground_sr_psnr(sr * 0, hr * 0, 3)


# --------------------------------------------------------------------------------------------
# The memory-bounded scoring: bit for bit the whole-image computation
# --------------------------------------------------------------------------------------------


def whole_image_sr_metrics(sr: np.ndarray, hr: np.ndarray, scale: int) -> tuple[float, float]:
    """The straightforward recipe: Y (or the gray intensities) of the whole images as float64,
    border crop, then psnr and ssim of the whole arrays."""
    def channel(image):
        if image.ndim == 2 or image.shape[2] == 1:
            return to_uint8(image).reshape(image.shape[:2]).astype(np.float64)
        return y_channel(image)

    y_sr, y_hr = (crop_border(channel(im), scale) for im in (sr, hr))
    return psnr(y_hr, y_sr, data_range=255.0), ssim(y_hr, y_sr, data_range=255.0)


@pytest.mark.parametrize("shape", [(300, 410, 3), (301, 409), (299, 411, 3), (150, 64, 1),
                                   (17, 17, 3)])
@pytest.mark.parametrize("output", ["uint8", "float", "identical"])
def test_sr_metrics_in_strips_are_bit_for_bit_the_whole_image_ones(shape, output):
    # STRIP_ROWS = 64: the larger images are scored in several strips (SSIM's strips overlap
    # by 10 rows); odd sizes leave a short last strip.
    rng = np.random.default_rng(3)
    hr = rng.integers(0, 256, shape, dtype=np.uint8)
    if output == "uint8":
        sr = np.clip(hr + rng.normal(0, 8, shape), 0, 255).astype(np.uint8)
    elif output == "float":
        sr, hr = np.clip(hr / 255 + rng.normal(0, 0.03, shape), 0, 1), hr / 255
    else:
        sr = hr.copy()
    got, want = sr_metrics(sr, hr, 3), whole_image_sr_metrics(sr, hr, 3)
    assert got[1] == want[1]
    assert got[0] == want[0]  # inf == inf for identical images
    assert (output == "identical") == np.isinf(got[0])


@pytest.mark.parametrize("shape", [(300, 410, 3), (301, 409), (150, 64, 1), (17, 17, 3)])
@pytest.mark.parametrize("output", ["float", "identical"])
def test_restoration_metrics_in_strips_are_bit_for_bit_the_whole_image_ones(shape, output):
    rng = np.random.default_rng(5)
    clean = rng.integers(0, 256, shape, dtype=np.uint8)
    restored = (clean.copy() if output == "identical"
                else clean / 255 + rng.normal(0, 0.05, shape))  # unclipped, as "none" is
    got = restoration_metrics(restored, clean)
    q_restored, q_clean = to_uint8(restored), to_uint8(clean)
    assert got == (psnr(q_clean, q_restored), ssim(q_clean, q_restored))  # inf == inf


@pytest.mark.parametrize("n", [1, 7, 8, 128, 129, 1000, 65_537, 290 * 400])
def test_streamed_mean_sums_in_numpys_order(n):
    values = np.random.default_rng(n).random(n) * 3.7
    chunks = iter(np.array_split(values, max(1, n // 999)))
    assert _streamed_mean(chunks, n) == values.mean()
