"""Tests of course_utils.models.restoration (DnCNN) and of its tiled inference."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from course_utils.evaluation.inference import reconstruct
from course_utils.models import count_parameters, get_model, list_models
from course_utils.models.restoration import DnCNN


def test_dncnn_is_registered_for_restoration():
    assert "dncnn" in list_models("restoration") and "dncnn" not in list_models("sr")
    model = get_model("dncnn")
    assert model.scale == 1 and model.channels == 1
    assert model.config == {"name": "dncnn", "channels": 1, "depth": 17, "features": 64,
                            "unshuffle": 1}


def test_the_papers_dncnn_s_has_its_parameter_count():
    # DnCNN-S (gray, 17 layers, 64 features): about 0.56 M parameters (the paper's Table),
    # here 556,097 with the batch-norm scales and shifts
    assert count_parameters(DnCNN(1, 17, 64)) == 556_097


@pytest.mark.parametrize("unshuffle", [1, 2])
@pytest.mark.parametrize("shape", [(1, 1, 32, 40), (2, 3, 33, 47)])  # odd sizes too
def test_dncnn_keeps_the_size(unshuffle, shape):
    model = DnCNN(shape[1], depth=5, features=8, unshuffle=unshuffle).eval()
    with torch.no_grad():
        assert model(torch.rand(shape)).shape == shape


@pytest.mark.parametrize("unshuffle", [1, 2])
def test_dncnn_subtracts_its_residual(unshuffle):
    # the last convolution at zero: the network predicts no noise and returns its input
    model = DnCNN(1, depth=4, features=8, unshuffle=unshuffle).eval()
    last = [m for m in model.residual if isinstance(m, nn.Conv2d)][-1]
    nn.init.zeros_(last.weight)
    nn.init.zeros_(last.bias)
    x = torch.rand(1, 1, 31, 30) * 1.4 - 0.2  # noisy inputs leave [0, 1]
    with torch.no_grad():
        torch.testing.assert_close(model(x), x)


@pytest.mark.parametrize(("unshuffle", "depth"), [(1, 6), (2, 6)])
def test_the_receptive_radius_makes_tiles_exact(unshuffle, depth):
    torch.manual_seed(0)
    model = DnCNN(1, depth=depth, features=8, unshuffle=unshuffle).eval()
    assert model.receptive_radius == depth * unshuffle
    image = np.random.default_rng(0).random((70, 90))
    whole = reconstruct(model, image, tile=1000)
    np.testing.assert_allclose(reconstruct(model, image, tile=16), whole, atol=1e-6)
    # too little overlap changes the result: the radius is needed, not just convenient
    short = reconstruct(model, image, tile=16, overlap=depth * unshuffle // 2)
    assert np.abs(short - whole).max() > 1e-4


@pytest.mark.parametrize(("config", "message"), [
    ({"depth": 2}, "depth"), ({"features": 300}, "features"), ({"channels": 2}, "channels"),
    ({"unshuffle": 8}, "unshuffle"),
])
def test_bad_configs_are_refused(config, message):
    with pytest.raises(ValueError, match=message):
        get_model("dncnn", **config)


@pytest.mark.parametrize(("tile", "overlap"), [(15, 7), (17, 13), (33, None)])
def test_odd_tiles_are_aligned_to_the_unshuffle_factor(tile, overlap):
    # a tile starting on an odd row would see another pixel interleaving: run_tiled rounds
    # tiles and overlaps up to the factor, so odd --tile values give the whole-image result
    torch.manual_seed(1)
    model = DnCNN(1, depth=3, features=8, unshuffle=2).eval()
    image = np.random.default_rng(2).random((41, 47))
    whole = reconstruct(model, image, tile=1000)
    overlap = overlap if overlap is not None else model.receptive_radius
    np.testing.assert_allclose(reconstruct(model, image, tile=tile, overlap=max(overlap, 6)),
                               whole, atol=1e-6)
