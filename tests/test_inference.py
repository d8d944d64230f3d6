"""Tests of course_utils.evaluation.inference: tiling is exact, channel conversions, scale 1,
bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import make_smooth
from course_utils.degrade import imresize
from course_utils.evaluation.inference import (
    NonFiniteOutput,
    reconstruct,
    run_tiled,
    throughput,
)
from course_utils.images import image_to_tensor, rgb_to_ycbcr, to_float, to_uint8, ycbcr_to_rgb
from course_utils.models import get_model


@pytest.mark.parametrize("name", ["espcn", "fsrcnn", "srcnn-955"])
def test_tiled_equals_whole_image(name):
    torch.manual_seed(0)
    model = get_model(name, scale=3).eval()
    x = torch.rand(1, 1, 45, 70)
    with torch.no_grad():
        whole = model(x)
    tiled = run_tiled(model, x, 3, tile=16, overlap=12)
    assert tiled.shape == whole.shape
    torch.testing.assert_close(tiled, whole, atol=1e-5, rtol=0)


def test_too_little_overlap_shows_seams():
    torch.manual_seed(0)
    model = get_model("espcn", scale=2).eval()
    x = torch.rand(1, 1, 40, 40)
    with torch.no_grad():
        whole = model(x)
    assert (run_tiled(model, x, 2, tile=10, overlap=0) - whole).abs().max() > 1e-3


def test_ycbcr_round_trip_and_gray():
    image = make_smooth(12, 9, seed=2)
    np.testing.assert_allclose(ycbcr_to_rgb(rgb_to_ycbcr(image)), image, atol=1e-10)
    ycc = rgb_to_ycbcr(np.full((2, 2), 0.5))
    np.testing.assert_allclose(ycc[..., 1:], 128.0, atol=1e-9)
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        ycbcr_to_rgb(np.zeros((4, 4)))


def passthrough_srcnn(scale: int):
    """An SRCNN whose layers pass their bicubic input through: reconstruct is then bicubic
    on Y, which checks the Y/Cb/Cr plumbing, scaling and clamping."""
    model = get_model("srcnn-915", scale=scale)
    with torch.no_grad():
        for conv in (model.extract, model.map, model.reconstruct):
            conv.weight.zero_()
            conv.bias.zero_()
            c = conv.kernel_size[0] // 2
            conv.weight[0, 0, c, c] = 1
    return model


def test_y_model_on_rgb_keeps_bicubic_chroma():
    lr = to_uint8(0.25 + 0.5 * make_smooth(16, 20, seed=1))  # no clipping in RGB
    sr = reconstruct(passthrough_srcnn(2), lr)
    assert sr.shape == (32, 40, 3) and sr.dtype == np.float64
    expected_chroma = imresize(rgb_to_ycbcr(lr), 2)[..., 1:]
    np.testing.assert_allclose(rgb_to_ycbcr(sr)[..., 1:], expected_chroma, atol=1e-6)


def test_gray_in_gray_out_for_y_and_rgb_models():
    gray = make_smooth(10, 12, channels=None)
    assert reconstruct(get_model("espcn", scale=3), gray).shape == (30, 36)
    assert reconstruct(get_model("espcn", scale=3, channels=3), gray).shape == (30, 36)
    rgb_model = get_model("espcn", scale=2, channels=3)
    assert reconstruct(rgb_model, make_smooth(5, 6)).shape == (10, 12, 3)


def test_passthrough_model_reproduces_bicubic_y():
    lr = make_smooth(20, 20, seed=3)
    sr = reconstruct(passthrough_srcnn(2), lr)
    y = torch.from_numpy(rgb_to_ycbcr(lr)[..., 0] / 255)[None, None]
    up = torch.nn.functional.interpolate(y, scale_factor=2, mode="bicubic")[0, 0].numpy()
    np.testing.assert_allclose(rgb_to_ycbcr(sr)[..., 0], np.clip(up, 16 / 255, 235 / 255) * 255,
                               atol=0.05)


def test_y_model_on_gray_works_on_the_luma_16_plus_219_g():
    gray = make_smooth(20, 20, channels=None, seed=5)
    sr = reconstruct(passthrough_srcnn(2), gray)
    up = torch.nn.functional.interpolate(torch.from_numpy(gray)[None, None], scale_factor=2,
                                         mode="bicubic")[0, 0].numpy()
    assert sr.shape == (40, 40)
    np.testing.assert_allclose(sr, np.clip(up, 0, 1), atol=1e-5)


def test_scale_1_model_keeps_the_size_of_gray_and_rgb_input():
    torch.manual_seed(0)
    model = get_model("backbone-unet", scale=1, pretrained=False)
    gray, rgb = make_smooth(40, 52, channels=None), make_smooth(40, 52)
    # untrained, the residual head is zero: the restoration network returns its input
    out_gray = reconstruct(model, gray, scale=1)
    assert out_gray.shape == gray.shape == (40, 52)
    np.testing.assert_allclose(out_gray, gray, atol=1e-6)
    out_rgb = reconstruct(model, to_uint8(rgb))
    assert out_rgb.shape == rgb.shape == (40, 52, 3)
    np.testing.assert_allclose(out_rgb, to_float(to_uint8(rgb)), atol=1e-6)
    with pytest.raises(ValueError, match="works at scale 1, not 2"):
        reconstruct(model, gray, scale=2)


@pytest.mark.parametrize("channels", [None, 3])
def test_scale_1_tiled_equals_untiled(channels):
    torch.manual_seed(0)
    model = get_model("backbone-unet", scale=1, pretrained=False)
    with torch.no_grad():  # a random residual head, so that the output is not the input
        model.head.weight.normal_(std=0.05)
    image = make_smooth(40, 52, channels=channels)
    whole = reconstruct(model, image)  # one 128-pixel tile holds the whole image
    assert np.abs(whole - image).max() > 1e-2
    # The U-Net sees the whole image (stride 32), so only an overlap that gives each of the
    # 3x4 tiles the whole image as context reproduces it; the tiles' centres must then be
    # put back exactly where they belong.
    tiled = reconstruct(model, image, tile=16, overlap=52)
    assert tiled.shape == image.shape
    np.testing.assert_allclose(tiled, whole, atol=1e-6)


def test_wrong_scale_and_bad_images_are_explained():
    model = get_model("espcn", scale=3)
    with pytest.raises(ValueError, match="works at scale 3, not 4"):
        reconstruct(model, make_smooth(8, 8), scale=4)
    with pytest.raises(ValueError, match="RGBA"):
        reconstruct(model, np.zeros((8, 8, 4)))
    with pytest.raises(TypeError, match="NumPy array"):
        reconstruct(model, torch.zeros(1, 1, 8, 8))
    with pytest.raises(ValueError, match="scale` attribute"):
        reconstruct(torch.nn.Conv2d(1, 1, 3), make_smooth(8, 8))
    with pytest.raises(ValueError, match=r"\(1, C, h, w\)"):
        run_tiled(model, torch.zeros(1, 8, 8), 3)


def test_sixteen_bit_and_uint8_inputs_agree():
    model = get_model("espcn", scale=2)
    img8 = to_uint8(make_smooth(12, 12, seed=4))
    img16 = img8.astype(np.uint16) * 257
    np.testing.assert_allclose(reconstruct(model, img8), reconstruct(model, img16), atol=1e-6)


def test_throughput_reports_speed_and_memory():
    stats = throughput(get_model("espcn", scale=4), output_size=64, repeats=1)
    assert stats["images_per_s"] > 0 and stats["peak_mib"] > 10
    assert stats["seconds_per_image"] == pytest.approx(1 / stats["images_per_s"])


# --------------------------------------------------------------------------------------------
# Strip by strip: bit for bit the whole-image computation, 8-bit output
# --------------------------------------------------------------------------------------------


def whole_image_reconstruct(model, lr, tile=32):
    """The straightforward conversion around the model: whole float64 images throughout."""
    scale, gray = model.scale, lr.ndim == 2
    if model.channels == 1:
        ycbcr = rgb_to_ycbcr(lr)
        y = run_tiled(model, image_to_tensor(lr, "y"), scale, tile)[0, 0]
        y = y.clamp(16 / 255, 235 / 255).double().numpy() * 255.0
        if gray:
            return np.clip((y - 16.0) / 219.0, 0.0, 1.0)
        chroma = imresize(ycbcr, scale)[..., 1:]
        return ycbcr_to_rgb(np.concatenate([y[..., None], chroma], axis=2))
    out = run_tiled(model, image_to_tensor(lr, "rgb"), scale, tile)[0].clamp(0, 1)
    out = out.double().numpy().transpose(1, 2, 0)
    return out.mean(axis=2) if gray else out


@pytest.mark.parametrize(("name", "scale", "channels"),
                         [("espcn", 3, 1), ("fsrcnn", 4, 1), ("espcn", 2, 1), ("espcn", 2, 3)])
@pytest.mark.parametrize("kind", ["rgb uint8", "gray float"])
def test_reconstruct_in_strips_is_bit_for_bit_the_whole_image_computation(name, scale,
                                                                          channels, kind):
    # Outputs of 200-548 rows: several strips of STRIP_ROWS = 64, odd widths.
    torch.manual_seed(0)
    model = get_model(name, scale=scale, channels=channels)
    rng = np.random.default_rng(1)
    lr = (to_uint8(make_smooth(100, 137) + rng.normal(0, 0.02, (100, 137, 3)))
          if kind == "rgb uint8" else make_smooth(71, 90, channels=None))
    want = whole_image_reconstruct(model, lr)
    got = reconstruct(model, lr, tile=32)
    assert got.dtype == np.float64 and np.array_equal(got, want)
    eight_bit = reconstruct(model, lr, tile=32, uint8=True)
    assert eight_bit.dtype == np.uint8 and np.array_equal(eight_bit, to_uint8(want))


def test_uint8_output_of_a_diverged_model_raises():
    model = get_model("espcn", scale=2)
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(float("nan"))
    assert np.isnan(reconstruct(model, make_smooth(12, 12))).all()  # float: returned as is
    with pytest.raises(NonFiniteOutput, match="NaN or inf"):
        reconstruct(model, make_smooth(12, 12), uint8=True)
