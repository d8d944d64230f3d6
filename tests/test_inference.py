"""Tests of course_utils.inference: tiling is exact, channel conversions, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import make_smooth
from course_utils.data import to_uint8
from course_utils.degrade import imresize
from course_utils.inference import run_tiled, super_resolve, throughput
from course_utils.metrics import rgb_to_ycbcr, ycbcr_to_rgb
from course_utils.models import build_model


@pytest.mark.parametrize("name", ["espcn", "fsrcnn", "srcnn-955"])
def test_tiled_equals_whole_image(name):
    torch.manual_seed(0)
    model = build_model(name, 3).eval()
    x = torch.rand(1, 1, 45, 70)
    with torch.no_grad():
        whole = model(x)
    tiled = run_tiled(model, x, 3, tile=16, overlap=12)
    assert tiled.shape == whole.shape
    torch.testing.assert_close(tiled, whole, atol=1e-5, rtol=0)


def test_too_little_overlap_shows_seams():
    torch.manual_seed(0)
    model = build_model("espcn", 2).eval()
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
    """An SRCNN whose layers pass their bicubic input through: super_resolve is then bicubic
    on Y, which checks the Y/Cb/Cr plumbing, scaling and clamping."""
    model = build_model("srcnn-915", scale)
    with torch.no_grad():
        for conv in (model.extract, model.map, model.reconstruct):
            conv.weight.zero_()
            conv.bias.zero_()
            c = conv.kernel_size[0] // 2
            conv.weight[0, 0, c, c] = 1
    return model


def test_y_model_on_rgb_keeps_bicubic_chroma():
    lr = to_uint8(0.25 + 0.5 * make_smooth(16, 20, seed=1))  # no clipping in RGB
    sr = super_resolve(passthrough_srcnn(2), lr)
    assert sr.shape == (32, 40, 3) and sr.dtype == np.float64
    expected_chroma = imresize(rgb_to_ycbcr(lr), 2)[..., 1:]
    np.testing.assert_allclose(rgb_to_ycbcr(sr)[..., 1:], expected_chroma, atol=1e-6)


def test_gray_in_gray_out_for_y_and_rgb_models():
    gray = make_smooth(10, 12, channels=None)
    assert super_resolve(build_model("espcn", 3), gray).shape == (30, 36)
    assert super_resolve(build_model("espcn", 3, channels=3), gray).shape == (30, 36)
    rgb_model = build_model("espcn", 2, channels=3)
    assert super_resolve(rgb_model, make_smooth(5, 6)).shape == (10, 12, 3)


def test_passthrough_model_reproduces_bicubic_y():
    lr = make_smooth(20, 20, seed=3)
    sr = super_resolve(passthrough_srcnn(2), lr)
    y = torch.from_numpy(rgb_to_ycbcr(lr)[..., 0] / 255)[None, None]
    up = torch.nn.functional.interpolate(y, scale_factor=2, mode="bicubic")[0, 0].numpy()
    np.testing.assert_allclose(rgb_to_ycbcr(sr)[..., 0], np.clip(up, 16 / 255, 235 / 255) * 255,
                               atol=0.05)


def test_wrong_scale_and_bad_images_are_explained():
    model = build_model("espcn", 3)
    with pytest.raises(ValueError, match="trained for x3, not x4"):
        super_resolve(model, make_smooth(8, 8), scale=4)
    with pytest.raises(ValueError, match="RGBA"):
        super_resolve(model, np.zeros((8, 8, 4)))
    with pytest.raises(TypeError, match="NumPy array"):
        super_resolve(model, torch.zeros(1, 1, 8, 8))
    with pytest.raises(ValueError, match="scale` attribute"):
        super_resolve(torch.nn.Conv2d(1, 1, 3), make_smooth(8, 8))
    with pytest.raises(ValueError, match=r"\(1, C, h, w\)"):
        run_tiled(model, torch.zeros(1, 8, 8), 3)


def test_sixteen_bit_and_uint8_inputs_agree():
    model = build_model("espcn", 2)
    img8 = to_uint8(make_smooth(12, 12, seed=4))
    img16 = img8.astype(np.uint16) * 257
    np.testing.assert_allclose(super_resolve(model, img8), super_resolve(model, img16), atol=1e-6)


def test_throughput_reports_speed_and_memory():
    stats = throughput(build_model("espcn", 4), output_size=64, repeats=1)
    assert stats["images_per_s"] > 0 and stats["peak_mib"] > 10
    assert stats["seconds_per_image"] == pytest.approx(1 / stats["images_per_s"])
