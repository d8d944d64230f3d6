"""Tests of the classic SR networks (course_utils.models.sr) and course_utils.models.complexity:
shapes, parameter counts from the papers, where the work happens, multiply-accumulates."""

from __future__ import annotations

import pytest
import torch

from course_utils.models import count_macs, count_parameters, get_model, model_config
from course_utils.models.sr import ESPCN, FSRCNN, SRCNN

#: The families of course_utils.models.sr (Y or RGB input, scale 2 or more).
CLASSIC = ("espcn", "fsrcnn", "fsrcnn-s", "srcnn-915", "srcnn-955")

# Parameter counts (weights + biases, one channel) given in the papers.
PUBLISHED = {("espcn", 2): 21_284, ("espcn", 3): 22_729, ("espcn", 4): 24_752,
             ("srcnn-915", 3): 8_129, ("srcnn-955", 3): 57_281}


@pytest.mark.parametrize(("name", "scale"), sorted(PUBLISHED))
def test_parameter_counts_match_the_papers(name, scale):
    assert count_parameters(get_model(name, scale=scale)) == PUBLISHED[(name, scale)]


def test_fsrcnn_counts():
    # The paper counts the 12,464 convolution weights; biases add 173, PReLU slopes 172.
    model = get_model("fsrcnn", scale=3)
    weights = sum(p.numel() for p in model.parameters() if p.ndim == 4)
    assert weights == 12_464
    assert count_parameters(model) == 12_464 + 173 + 172


def test_trainable_only_counts_only_what_trains():
    model = get_model("espcn", scale=3)
    model.conv1.requires_grad_(False)
    frozen = model.conv1.weight.numel() + model.conv1.bias.numel()
    assert count_parameters(model, trainable_only=True) == 22_729 - frozen


@pytest.mark.parametrize("name", CLASSIC)
@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize("channels", [1, 3])
def test_output_is_scale_times_input_for_any_size(name, scale, channels):
    model = get_model(name, scale=scale, channels=channels)
    x = torch.rand(2, channels, 11, 7)  # odd sizes on purpose
    assert model(x).shape == (2, channels, 11 * scale, 7 * scale)


def test_get_model_builds_the_papers_variants_and_records_their_config():
    model = get_model("fsrcnn", scale=4, channels=3)
    assert isinstance(model, FSRCNN) and (model.d, model.s, model.m) == (56, 12, 4)
    assert model_config(model) == model.config == {"name": "fsrcnn", "scale": 4, "channels": 3,
                                                   "d": 56, "s": 12, "m": 4}
    small = get_model("fsrcnn-s", scale=2)
    assert (small.d, small.s, small.m) == (32, 5, 1)
    assert small.config == {"name": "fsrcnn-s", "scale": 2, "channels": 1}
    assert isinstance(get_model("espcn", scale=2), ESPCN)
    assert get_model("srcnn-955", scale=2).kernel_sizes == (9, 5, 5)
    base = get_model("srcnn-915", scale=2)
    assert isinstance(base, SRCNN) and base.kernel_sizes == (9, 1, 5)


@pytest.mark.parametrize(("build", "match"), [
    (lambda: ESPCN(1), "scale of 2 or more"),
    (lambda: FSRCNN(2.5), "whole number"),
    (lambda: SRCNN(2, channels=4), "channels must be 1"),
])
def test_the_classes_explain_bad_arguments(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_espcn_does_its_work_at_low_resolution():
    # Every convolution of ESPCN sees the LR grid; SRCNN's see the HR grid.
    seen = {}
    for name in ("espcn", "srcnn-915"):
        model = get_model(name, scale=3)
        sizes = []
        hooks = [m.register_forward_hook(
                     lambda mod, inp, out, sizes=sizes: sizes.append(inp[0].shape[-1]))
                 for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
        model(torch.rand(1, 1, 10, 10))
        for h in hooks:
            h.remove()
        seen[name] = set(sizes)
    assert seen == {"espcn": {10}, "srcnn-915": {30}}


def test_count_macs_by_hand():
    # ESPCN x3 on a 10x10 LR input: every conv runs on 100 pixels.
    espcn = get_model("espcn", scale=3)
    per_pixel = 25 * 1 * 64 + 9 * 64 * 32 + 9 * 32 * 9
    assert count_macs(espcn, (1, 1, 10, 10)) == 100 * per_pixel
    # SRCNN 9-1-5 x3 works on the 30x30 upscaled image.
    srcnn = get_model("srcnn-915", scale=3)
    assert count_macs(srcnn, (1, 1, 10, 10)) == 900 * (81 * 64 + 64 * 32 + 25 * 32)
    # FSRCNN's deconvolution: each of the 100 LR pixels of 56 channels spreads over 9x9.
    fsrcnn = get_model("fsrcnn", scale=3)
    body = 100 * (25 * 56 + 56 * 12 + 4 * 9 * 12 * 12 + 12 * 56)
    assert count_macs(fsrcnn, (1, 1, 10, 10)) == body + 100 * 56 * 81
    # the hooks are removed afterwards: a second count gives the same number
    assert count_macs(espcn, (1, 1, 10, 10)) == 100 * per_pixel


def test_espcn_width_is_a_knob():
    narrow = get_model("espcn", scale=3, features=(16, 8))
    assert narrow.config["features"] == (16, 8)
    assert count_parameters(narrow) == (25 * 16 + 16) + (9 * 16 * 8 + 8) + (9 * 8 * 9 + 9)
    assert narrow(torch.rand(1, 1, 5, 5)).shape == (1, 1, 15, 15)
