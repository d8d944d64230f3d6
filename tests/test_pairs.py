"""Tests of course_utils.data.pairs: aligned, reproducible (input, target) pairs of any task,
with MATLAB-style LR for super-resolution and fresh noise for every patch of a random task."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import make_smooth
from course_utils.data.pairs import PairedPatches, validation_pairs
from course_utils.degrade import blur, gaussian_kernel, imresize
from course_utils.images import image_to_tensor, rgb_to_y, to_uint8
from course_utils.tasks import Denoising, SuperResolution, get_task

RESTORATION = ["denoise-25", "denoise-0:55", "poisson-30:5", "deblur-1.6",
               "deblur-motion:9:30,0.01", "inpaint-0.5", "inpaint-block:8", "inpaint-text:8",
               "jpeg-10"]


@pytest.fixture
def photos():
    return {"a": make_smooth(90, 120, seed=1), "b": make_smooth(75, 66, seed=2)}


# --------------------------------------------------------------------------------------------
# Super-resolution
# --------------------------------------------------------------------------------------------


def test_shapes_and_channels(photos):
    ds = PairedPatches(photos, "sr-x3", patch_size=30, mode="y", samples_per_epoch=5)
    lr, hr = ds[0]
    assert lr.shape == (1, 10, 10) and hr.shape == (1, 30, 30)
    assert lr.dtype == hr.dtype == torch.float32
    assert len(ds) == 5 and ds.channels == 1 and ds.scale == 3
    lr, hr = PairedPatches(photos, SuperResolution(2), 32, mode="rgb")[3]
    assert lr.shape == (3, 16, 16) and hr.shape == (3, 32, 32)


def test_a_spec_and_its_task_give_the_same_samples(photos):
    by_spec = PairedPatches(photos, "sr-x2", 20, seed=3)
    by_task = PairedPatches(photos, SuperResolution(2), 20, seed=3)
    assert by_spec.task == by_task.task == SuperResolution(2)
    for i in range(5):
        assert all(torch.equal(a, b) for a, b in zip(by_spec[i], by_task[i], strict=True))


def test_lr_patch_is_the_matlab_resize_of_the_whole_image():
    image = to_uint8(make_smooth(60, 60, seed=3))
    ds = PairedPatches([image], "sr-x2", patch_size=60, mode="rgb", augment=False)
    lr, hr = ds[0]  # the patch is the whole image
    np.testing.assert_allclose(hr.numpy().transpose(1, 2, 0), image / 255.0, atol=1e-6)
    np.testing.assert_allclose(lr.numpy().transpose(1, 2, 0), imresize(image, 0.5) / 255.0,
                               atol=1e-6)


def test_y_mode_is_bt601_luma_over_255():
    image = to_uint8(make_smooth(48, 48, seed=4))
    lr, hr = PairedPatches([image], "sr-x3", 48, mode="y", augment=False)[0]
    np.testing.assert_allclose(hr[0].numpy(), rgb_to_y(image) / 255.0, atol=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pairs_stay_aligned_under_augmentation(photos, seed):
    # Downscaling the HR patch must give (nearly) the LR patch, whatever flip/rotation.
    ds = PairedPatches(photos, "sr-x3", 30, mode="rgb", samples_per_epoch=20, seed=seed)
    for i in range(20):
        lr, hr = ds[i]
        down = hr.reshape(3, 10, 3, 10, 3).mean(dim=(2, 4))  # box-downscale the HR patch
        wrong = [torch.rot90(down, k, (1, 2)) for k in (1, 2)]
        err = (down - lr).abs().mean()
        assert err < 0.03
        assert all(err < (w - lr).abs().mean() for w in wrong) or err < 1e-3


def test_samples_are_reproducible_and_change_with_the_epoch(photos):
    a = PairedPatches(photos, "sr-x2", 20, seed=7)
    b = PairedPatches(photos, "sr-x2", 20, seed=7)
    assert all(torch.equal(a[i][1], b[i][1]) for i in range(10))
    before = a[0][1].clone()
    a.set_epoch(1)
    assert not torch.equal(a[0][1], before)
    assert not torch.equal(PairedPatches(photos, "sr-x2", 20, seed=8)[0][1], before)


@pytest.mark.parametrize("spec", ["sr-x2", "denoise-25"])  # the two branches of __getitem__
def test_augmentation_uses_all_eight_symmetries(spec):
    # a ramp image makes each of the 8 symmetries distinguishable by its corner values
    ramp = np.add.outer(np.arange(24.0), 2 * np.arange(24.0))
    image = ramp / ramp.max()
    ds = PairedPatches([image], spec, 24, mode="rgb", samples_per_epoch=200)
    corners = {tuple(ds[i][1][0, [0, 0, -1], [0, -1, 0]].round(decimals=3).tolist())
               for i in range(200)}
    assert len(corners) == 8


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"task": "sr-x3", "patch_size": 32}, "multiple of the scale"),
    ({"task": "sr-x3", "patch_size": 300}, "smaller than one 300x300 patch"),
    ({"task": "denoise-25", "patch_size": 300}, "smaller than one 300x300 patch"),
    ({"task": "sr-x1", "patch_size": 30}, "2 or more"),
    ({"task": "sr-x2.5", "patch_size": 30}, "'x2.5' is not a"),
    ({"task": "blur-2", "patch_size": 30}, "unknown task 'blur-2'"),
    ({"task": "sr-x2", "patch_size": 30, "mode": "lab"}, "mode must be"),
    ({"task": "sr-x2", "patch_size": 30, "mode": "gray"}, "mode must be"),
    ({"task": "sr-x2", "patch_size": 30, "samples_per_epoch": 0}, "at least 1"),
    # at construction, not at the first batch: a mask's block does not fit in a patch
    ({"task": "inpaint-block:32", "patch_size": 24}, "cannot degrade a 24x24 training patch"),
])
def test_bad_settings_are_explained(photos, kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        PairedPatches(photos, **kwargs)


def test_no_images_and_bad_images():
    with pytest.raises(ValueError, match="at least one clean image"):
        PairedPatches({}, "sr-x2", 20)
    with pytest.raises(ValueError, match="RGBA"):
        PairedPatches([np.zeros((40, 40, 4))], "sr-x2", 20)


def test_gray_images_give_three_equal_channels_in_rgb_mode():
    lr, hr = PairedPatches([make_smooth(40, 40, channels=None)], "sr-x2", 20, mode="rgb")[0]
    assert hr.shape[0] == 3 and torch.equal(hr[0], hr[2])


# --------------------------------------------------------------------------------------------
# Restoration tasks (scale 1)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", RESTORATION)
@pytest.mark.parametrize(("mode", "channels"), [("y", 1), ("rgb", 3)])
def test_restoration_input_and_target_have_the_same_size(photos, spec, mode, channels):
    ds = PairedPatches(photos, spec, patch_size=25, mode=mode, samples_per_epoch=4)
    assert ds.scale == 1 and ds.channels == channels
    for i in range(4):
        x, y = ds[i]
        assert x.shape == y.shape == (channels, 25, 25), spec
        assert x.dtype == y.dtype == torch.float32
        assert not torch.equal(x, y), f"{spec}: the input is not degraded"


def test_stochastic_task_draws_fresh_noise_for_every_patch():
    flat = np.full((40, 40, 3), 0.5)  # every crop and turn gives the same clean patch
    ds = PairedPatches([flat], "denoise-25", patch_size=32, mode="rgb", samples_per_epoch=8)
    assert ds.task == Denoising(25.0) and ds.task.stochastic
    noises = []
    for i in range(8):
        x, y = ds[i]
        torch.testing.assert_close(y, torch.full((3, 32, 32), 128 / 255))  # the 8-bit target
        noise = (x - y).double()
        assert abs(noise.mean()) < 0.01
        assert noise.std() == pytest.approx(25 / 255, rel=0.1)
        noises.append(noise)
    assert all(not torch.allclose(noises[0], n) for n in noises[1:])
    # DnCNN's convention: the noisy input is not clipped to [0, 1]
    x, _ = PairedPatches([np.zeros((32, 32))], "denoise-25", 32, mode="rgb")[0]
    assert x.min() < -0.1


def test_blind_denoising_draws_a_sigma_for_every_patch():
    flat = np.full((40, 40), 0.5)
    ds = PairedPatches([flat], "denoise-0:55", patch_size=32, mode="rgb", samples_per_epoch=12)
    stds = [float((x - y).double().std() * 255) for x, y in (ds[i] for i in range(12))]
    assert all(0 <= s < 57 for s in stds)  # 1024 samples: the std is within a few percent
    assert max(stds) - min(stds) > 15  # not one sigma for all


def test_noisy_deblurring_draws_fresh_noise_for_every_patch():
    flat = np.full((40, 40), 0.5)  # the blur of a constant is the constant: only noise is left
    ds = PairedPatches([flat], "deblur-gaussian:1.5,0.02", 32, mode="rgb", samples_per_epoch=3)
    noises = [(x - y).double() for x, y in (ds[i] for i in range(3))]
    for noise in noises:
        assert noise.std() == pytest.approx(0.02, rel=0.1)
    assert not torch.allclose(noises[0], noises[1])


def test_stochastic_samples_are_reproducible_for_seed_epoch_and_index(photos):
    a = PairedPatches(photos, "denoise-25", 24, mode="rgb", samples_per_epoch=10, seed=5)
    b = PairedPatches(photos, "denoise-25", 24, mode="rgb", samples_per_epoch=10, seed=5)
    out_of_order = {i: b[i] for i in (9, 3, 0, 7)}  # whatever order a DataLoader asks in
    for i, (x, y) in out_of_order.items():
        xa, ya = a[i]
        assert torch.equal(xa, x) and torch.equal(ya, y)
    first = a[0][0].clone()
    assert torch.equal(a[0][0], first)  # asking again gives the same noise
    a.set_epoch(1)
    assert not torch.equal(a[0][0], first)
    a.set_epoch(0)
    assert torch.equal(a[0][0], first)
    other = PairedPatches(photos, "denoise-25", 24, mode="rgb", samples_per_epoch=10, seed=6)
    assert not torch.equal(other[0][0], first)


def test_inpainting_patches_keep_or_zero_each_pixel(photos):
    # make_smooth lies in [0.1, 0.9]: a zero in the input is a missing pixel
    ds = PairedPatches(photos, "inpaint-0.5", 32, mode="rgb", samples_per_epoch=4)
    masks = []
    for i in range(4):
        x, y = ds[i]
        missing = (x == 0).all(dim=0)
        assert torch.equal(x[:, ~missing], y[:, ~missing])  # kept pixels are untouched
        assert missing.double().mean() == pytest.approx(0.5, abs=0.1)
        masks.append(missing)
    assert not torch.equal(masks[0], masks[1])


def test_deterministic_restoration_input_is_the_degraded_target():
    image = make_smooth(36, 36, seed=6)
    x, y = PairedPatches([image], "deblur-1.6", 36, mode="rgb", augment=False)[0]
    target = to_uint8(image)
    np.testing.assert_allclose(y.numpy().transpose(1, 2, 0), target / 255, atol=1e-6)
    np.testing.assert_allclose(x.numpy().transpose(1, 2, 0),
                               blur(target, gaussian_kernel(1.6)), atol=1e-6)


# --------------------------------------------------------------------------------------------
# validation_pairs
# --------------------------------------------------------------------------------------------


def test_validation_pairs_of_super_resolution_are_modcropped():
    [(lr, hr)] = validation_pairs([make_smooth(50, 62, seed=8)], SuperResolution(3), mode="y")
    assert lr.shape == (1, 1, 16, 20) and hr.shape == (1, 1, 48, 60)
    assert lr.dtype == hr.dtype == torch.float32


@pytest.mark.parametrize("spec", ["sr-x3", "deblur-1.6", "jpeg-10"])
def test_validation_pairs_are_made_as_the_training_pairs(spec):
    image = make_smooth(48, 48, seed=9)
    [(x, y)] = validation_pairs([image], spec, mode="rgb")
    px, py = PairedPatches([image], spec, 48, mode="rgb", augment=False)[0]  # the whole image
    assert torch.equal(x[0], px) and torch.equal(y[0], py)


def test_validation_pairs_of_a_stochastic_task(photos):
    images = list(photos.values())
    task = get_task("denoise-25")
    pairs = validation_pairs(images, "denoise-25", mode="rgb")
    for i, (image, (x, y)) in enumerate(zip(images, pairs, strict=True)):
        h, w = image.shape[:2]
        assert x.shape == y.shape == (1, 3, h, w)  # whole images, same size at scale 1
        target = task.target(image)
        noisy = task.degrade(target, np.random.default_rng((0, i)))  # documented: (seed, i)
        torch.testing.assert_close(x, image_to_tensor(noisy, "rgb"))
        torch.testing.assert_close(y, image_to_tensor(target, "rgb"))
    again = validation_pairs(images, "denoise-25", mode="rgb")
    assert all(torch.equal(a[0], b[0]) for a, b in zip(pairs, again, strict=True))
    assert not torch.equal(validation_pairs(images, "denoise-25", "rgb", seed=1)[0][0],
                           pairs[0][0])
    twins = validation_pairs([images[0], images[0]], "denoise-25", mode="rgb")
    assert not torch.equal(twins[0][0], twins[1][0])  # each image its own noise
    with pytest.raises(ValueError, match="mode must be"):
        validation_pairs(images, "denoise-25", mode="gray")
