"""Tests of course_utils.models: shapes, parameter counts from the papers, sub-pixel layout."""

from __future__ import annotations

import pytest
import torch

from course_utils.models import (
    ESPCN,
    FSRCNN,
    MODELS,
    SRCNN,
    build_model,
    count_macs,
    count_parameters,
    model_config,
)

# Parameter counts (weights + biases, one channel) given in sr-evaluation.md and the papers.
PUBLISHED = {("espcn", 2): 21_284, ("espcn", 3): 22_729, ("espcn", 4): 24_752,
             ("srcnn-915", 3): 8_129, ("srcnn-955", 3): 57_281}


@pytest.mark.parametrize(("name", "scale"), sorted(PUBLISHED))
def test_parameter_counts_match_the_papers(name, scale):
    assert count_parameters(build_model(name, scale)) == PUBLISHED[(name, scale)]


def test_fsrcnn_counts():
    # The paper counts the 12,464 convolution weights; biases add 173, PReLU slopes 172.
    model = build_model("fsrcnn", 3)
    weights = sum(p.numel() for p in model.parameters() if p.ndim == 4)
    assert weights == 12_464
    assert count_parameters(model) == 12_464 + 173 + 172


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize("channels", [1, 3])
def test_output_is_scale_times_input_for_any_size(name, scale, channels):
    model = build_model(name, scale, channels)
    x = torch.rand(2, channels, 11, 7)  # odd sizes on purpose
    assert model(x).shape == (2, channels, 11 * scale, 7 * scale)


def test_pixel_shuffle_layout_is_what_the_notebook_explains():
    # channel c*r*r + i*r + j of the LR grid lands at output pixel (r*y + i, r*x + j).
    r = 3
    x = torch.arange(r * r * 2 * 2, dtype=torch.float32).reshape(1, r * r, 2, 2)
    out = torch.nn.PixelShuffle(r)(x)
    for i in range(r):
        for j in range(r):
            assert torch.equal(out[0, 0, i::r, j::r], x[0, i * r + j])


def test_build_model_and_config_round_trip():
    model = build_model("fsrcnn", 4, channels=3)
    assert isinstance(model, FSRCNN)
    assert model_config(model) == {"name": "fsrcnn", "scale": 4, "channels": 3}
    assert isinstance(build_model("espcn", 2), ESPCN)
    assert build_model("srcnn-955", 2).kernel_sizes == (9, 5, 5)
    assert isinstance(build_model("srcnn-915", 2), SRCNN)


def test_model_config_refuses_models_not_built_by_name():
    with pytest.raises(ValueError, match="build_model"):
        model_config(ESPCN(3))


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"name": "edsr", "scale": 2}, "unknown model 'edsr'"),
    ({"name": "espcn", "scale": 1}, "scale of 2 or more"),
    ({"name": "espcn", "scale": 2.5}, "whole number"),
    ({"name": "espcn", "scale": 2, "channels": 4}, "channels must be 1"),
])
def test_bad_arguments_are_explained(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        build_model(**kwargs)


def test_espcn_does_its_work_at_low_resolution():
    # Every convolution of ESPCN sees the LR grid; SRCNN's see the HR grid.
    seen = {}
    hooks = []
    for name in ("espcn", "srcnn-915"):
        model = build_model(name, 3)
        sizes = []
        for m in model.modules():
            if isinstance(m, torch.nn.Conv2d):
                hooks.append(m.register_forward_hook(
                    lambda mod, inp, out, sizes=sizes: sizes.append(inp[0].shape[-1])))
        model(torch.rand(1, 1, 10, 10))
        seen[name] = set(sizes)
    for h in hooks:
        h.remove()
    assert seen == {"espcn": {10}, "srcnn-915": {30}}


def test_count_macs_by_hand():
    # ESPCN x3 on a 10x10 LR input: every conv runs on 100 pixels.
    espcn = build_model("espcn", 3)
    per_pixel = 25 * 1 * 64 + 9 * 64 * 32 + 9 * 32 * 9
    assert count_macs(espcn, (1, 1, 10, 10)) == 100 * per_pixel
    # SRCNN 9-1-5 x3 works on the 30x30 upscaled image.
    srcnn = build_model("srcnn-915", 3)
    assert count_macs(srcnn, (1, 1, 10, 10)) == 900 * (81 * 64 + 64 * 32 + 25 * 32)
    # FSRCNN's deconvolution: each of the 100 LR pixels of 56 channels spreads over 9x9.
    fsrcnn = build_model("fsrcnn", 3)
    body = 100 * (25 * 56 + 56 * 12 + 4 * 9 * 12 * 12 + 12 * 56)
    assert count_macs(fsrcnn, (1, 1, 10, 10)) == body + 100 * 56 * 81


def test_espcn_width_is_a_knob():
    narrow = ESPCN(3, features=(16, 8))
    assert count_parameters(narrow) == (25 * 16 + 16) + (9 * 16 * 8 + 8) + (9 * 8 * 9 + 9)
    assert narrow(torch.rand(1, 1, 5, 5)).shape == (1, 1, 15, 15)
