"""Tests of course_utils.patches: aligned, reproducible (LR, HR) pairs with MATLAB-style LR."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import make_smooth
from course_utils.data import to_uint8
from course_utils.degrade import imresize
from course_utils.metrics import rgb_to_y
from course_utils.patches import SRPatches, image_to_tensor, tensor_to_image


@pytest.fixture
def photos():
    return {"a": make_smooth(90, 120, seed=1), "b": make_smooth(75, 66, seed=2)}


def test_shapes_and_channels(photos):
    ds = SRPatches(photos, scale=3, patch_size=30, mode="y", samples_per_epoch=5)
    lr, hr = ds[0]
    assert lr.shape == (1, 10, 10) and hr.shape == (1, 30, 30)
    assert lr.dtype == hr.dtype == torch.float32
    assert len(ds) == 5 and ds.channels == 1
    lr, hr = SRPatches(photos, 2, 32, mode="rgb")[3]
    assert lr.shape == (3, 16, 16) and hr.shape == (3, 32, 32)


def test_lr_patch_is_the_matlab_resize_of_the_whole_image():
    image = to_uint8(make_smooth(60, 60, seed=3))
    ds = SRPatches([image], scale=2, patch_size=60, mode="rgb", augment=False)
    lr, hr = ds[0]  # the patch is the whole image
    np.testing.assert_allclose(hr.numpy().transpose(1, 2, 0), image / 255.0, atol=1e-6)
    np.testing.assert_allclose(lr.numpy().transpose(1, 2, 0), imresize(image, 0.5) / 255.0,
                               atol=1e-6)


def test_y_mode_is_bt601_luma_over_255():
    image = to_uint8(make_smooth(48, 48, seed=4))
    lr, hr = SRPatches([image], 3, 48, mode="y", augment=False)[0]
    np.testing.assert_allclose(hr[0].numpy(), rgb_to_y(image) / 255.0, atol=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pairs_stay_aligned_under_augmentation(photos, seed):
    # Downscaling the HR patch must give (nearly) the LR patch, whatever flip/rotation.
    ds = SRPatches(photos, 3, 30, mode="rgb", samples_per_epoch=20, seed=seed)
    for i in range(20):
        lr, hr = ds[i]
        down = hr.reshape(3, 10, 3, 10, 3).mean(dim=(2, 4))  # box-downscale the HR patch
        wrong = [torch.rot90(down, k, (1, 2)) for k in (1, 2)]
        err = (down - lr).abs().mean()
        assert err < 0.03
        assert all(err < (w - lr).abs().mean() for w in wrong) or err < 1e-3


def test_samples_are_reproducible_and_change_with_the_epoch(photos):
    a = SRPatches(photos, 2, 20, seed=7)
    b = SRPatches(photos, 2, 20, seed=7)
    assert all(torch.equal(a[i][1], b[i][1]) for i in range(10))
    before = a[0][1].clone()
    a.set_epoch(1)
    assert not torch.equal(a[0][1], before)
    assert not torch.equal(SRPatches(photos, 2, 20, seed=8)[0][1], before)


def test_augmentation_uses_all_eight_symmetries():
    # a ramp image makes each of the 8 symmetries distinguishable by its corner values
    ramp = np.add.outer(np.arange(24.0), 2 * np.arange(24.0))
    image = ramp / ramp.max()
    ds = SRPatches([image], 2, 24, mode="rgb", samples_per_epoch=200)
    corners = {tuple(ds[i][1][0, [0, 0, -1], [0, -1, 0]].round(decimals=3).tolist())
               for i in range(200)}
    assert len(corners) == 8


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"scale": 3, "patch_size": 32}, "multiple of the scale"),
    ({"scale": 3, "patch_size": 300}, "smaller than one 300x300 patch"),
    ({"scale": 1, "patch_size": 30}, "2 or more"),
    ({"scale": 2.5, "patch_size": 30}, "whole number"),
    ({"scale": 2, "patch_size": 30, "mode": "lab"}, "mode must be"),
])
def test_bad_settings_are_explained(photos, kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        SRPatches(photos, **kwargs)


def test_no_images_and_bad_images():
    with pytest.raises(ValueError, match="at least one HR image"):
        SRPatches({}, 2, 20)
    with pytest.raises(ValueError, match="RGBA"):
        SRPatches([np.zeros((40, 40, 4))], 2, 20)


def test_gray_images_give_three_equal_channels_in_rgb_mode():
    lr, hr = SRPatches([make_smooth(40, 40, channels=None)], 2, 20, mode="rgb")[0]
    assert hr.shape[0] == 3 and torch.equal(hr[0], hr[2])


def test_image_tensor_round_trip():
    image = make_smooth(9, 13, seed=5)
    t = image_to_tensor(image)
    assert t.shape == (1, 3, 9, 13)
    np.testing.assert_allclose(tensor_to_image(t), image, atol=1e-6)
    assert image_to_tensor(to_uint8(image), "y").max() <= 235 / 255 + 1e-6
    assert tensor_to_image(image_to_tensor(image[..., 0])).shape == (9, 13)
    with pytest.raises(ValueError, match=r"\(1, C, H, W\)"):
        tensor_to_image(torch.zeros(3, 4, 4))
