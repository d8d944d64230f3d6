"""Tests of course_utils.tasks: each task's target, degradation, score, spec and settings."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.degrade import gaussian_blur, jpeg_compress, make_lr, mask_pixels
from course_utils.metrics import restoration_metrics, sr_metrics
from course_utils.tasks import (
    TASKS,
    Deblurring,
    Denoising,
    Inpainting,
    JPEGArtifacts,
    SuperResolution,
    Task,
    get_task,
)

SPECS = ["sr-x2", "sr-x3", "sr-x4", "denoise-15", "denoise-25", "denoise-50", "denoise-12.5",
         "deblur-1.6", "deblur-2", "inpaint-0.5", "inpaint-0.25", "jpeg-10", "jpeg-90"]


@pytest.fixture
def clean(smooth):
    return smooth(50, 38, cycles=5)  # float in [0.1, 0.9]; not a multiple of 3 or 4


def _q(image: np.ndarray) -> np.ndarray:
    """8-bit quantisation by hand: clip, scale, round half up."""
    return np.floor(np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)


# --------------------------------------------------------------------------------------------
# Specs
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", SPECS)
def test_get_task_round_trips_through_the_name(spec):
    task = get_task(spec)
    assert isinstance(task, Task)
    assert task.name == spec
    assert str(task) == spec
    assert get_task(task.name) == task
    assert get_task(task) is task  # a task is returned as it is


@pytest.mark.parametrize(("spec", "expected"), [
    ("sr-x3", SuperResolution(3)), ("denoise-25", Denoising(25.0)),
    ("deblur-1.6", Deblurring(1.6)), ("inpaint-0.5", Inpainting(0.5)),
    ("jpeg-10", JPEGArtifacts(10)),
])
def test_get_task_parses_the_parameter(spec, expected):
    assert get_task(spec) == expected
    assert type(get_task(spec)) is type(expected)


def test_every_kind_has_a_spec():
    assert set(TASKS) == {"sr", "denoise", "deblur", "inpaint", "jpeg"}
    for kind, (cls, _) in TASKS.items():
        assert cls().name.startswith(f"{kind}-")  # each default task has a spec of its kind


@pytest.mark.parametrize(("spec", "message"), [
    ("blur-2", "unknown task 'blur-2'; write KIND-VALUE with KIND one of sr, denoise"),
    ("sr", "unknown task 'sr'"),
    ("", "unknown task ''"),
    ("sr-x", "task 'sr-x': 'x' is not a whole number"),
    ("sr-x2.5", "'x2.5' is not a whole number"),
    ("denoise-loud", "'loud' is not a number"),
    ("sr-3", "with an x"),
    ("denoise-x25", "with an x"),
    ("jpeg-high", "'high' is not a whole number"),
    ("sr-x1", "scale of 2 or more"),
    ("denoise-0", "sigma is on the 0-255 scale"),
    ("denoise-300", "sigma is on the 0-255 scale"),
    ("deblur-0", "kernel's width in pixels"),
    ("deblur-25", "kernel's width in pixels"),
    ("inpaint-1", r"share of missing pixels, in \(0, 1\)"),
    ("inpaint-0", r"share of missing pixels, in \(0, 1\)"),
    ("jpeg-0", "quality must be an integer from 1 to 100"),
    ("jpeg-101", "quality must be an integer from 1 to 100"),
])
def test_bad_specs_are_explained(spec, message):
    with pytest.raises(ValueError, match=message):
        get_task(spec)


def test_constructors_check_their_parameter():
    with pytest.raises(ValueError, match="whole number"):
        SuperResolution(2.5)
    with pytest.raises(TypeError, match="integer"):
        SuperResolution("3")
    with pytest.raises(ValueError, match="quality must be an integer"):
        JPEGArtifacts(10.5)
    with pytest.raises(ValueError, match="sigma is on the 0-255 scale"):
        Denoising(float("nan"))


# --------------------------------------------------------------------------------------------
# Scale, border, stochastic
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_sr_scale_and_border(scale):
    task = SuperResolution(scale)
    assert task.scale == scale and task.border == scale
    assert not task.stochastic


@pytest.mark.parametrize("spec", ["denoise-25", "deblur-1.6", "inpaint-0.5", "jpeg-10"])
def test_restoration_tasks_work_at_scale_one_without_a_border(spec):
    task = get_task(spec)
    assert task.scale == 1 and task.border == 0


def test_stochastic_tasks():
    assert {spec for spec in SPECS if get_task(spec).stochastic} == {
        "denoise-15", "denoise-25", "denoise-50", "denoise-12.5", "inpaint-0.5", "inpaint-0.25"}


# --------------------------------------------------------------------------------------------
# Targets
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("scale", "shape"), [(2, (50, 38)), (3, (48, 36)), (4, (48, 36))])
def test_sr_target_is_the_modcropped_uint8_image(clean, scale, shape):
    target = SuperResolution(scale).target(clean)
    assert target.dtype == np.uint8 and target.shape == shape + (3,)
    np.testing.assert_array_equal(target, _q(clean[: shape[0], : shape[1]]))


@pytest.mark.parametrize("spec", ["denoise-25", "deblur-1.6", "inpaint-0.5", "jpeg-10"])
def test_restoration_target_is_the_uint8_image(clean, spec):
    target = get_task(spec).target(clean)
    assert target.dtype == np.uint8 and target.shape == clean.shape
    np.testing.assert_array_equal(target, _q(clean))
    gray = clean[..., 0]
    np.testing.assert_array_equal(get_task(spec).target(gray), _q(gray))


def test_target_checks_the_image():
    with pytest.raises(ValueError, match="clean has 4 channels"):
        get_task("denoise-25").target(np.zeros((8, 8, 4)))


# --------------------------------------------------------------------------------------------
# Degradations
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_sr_degrade_is_make_lr(clean, scale):
    task = SuperResolution(scale)
    target = task.target(clean)
    lr = task.degrade(target)
    assert lr.dtype == np.uint8
    assert lr.shape == (target.shape[0] // scale, target.shape[1] // scale, 3)
    np.testing.assert_array_equal(lr, make_lr(target, scale))


@pytest.mark.parametrize("sigma", [15, 25, 50])
def test_denoising_adds_unclipped_noise_of_sigma_on_0_255(smooth, sigma):
    task = Denoising(sigma)
    target = task.target(smooth(96, 96, cycles=4))
    noisy = task.degrade(target, np.random.default_rng(0))
    assert noisy.dtype == np.float64 and noisy.shape == target.shape
    noise = noisy - target / 255
    # 27648 samples: the sample std has a relative standard error of 1/sqrt(2N) = 0.4 %.
    assert noise.std() == pytest.approx(sigma / 255, rel=0.02)
    assert abs(noise.mean()) < 5 * sigma / 255 / np.sqrt(noise.size)
    if sigma == 50:  # 0.1..0.9 plus noise of 0.2: values leave [0, 1], and are kept
        assert noisy.min() < 0 and noisy.max() > 1


def test_denoising_is_reproducible_and_needs_a_generator(clean):
    task = Denoising(25)
    target = task.target(clean)
    a = task.degrade(target, np.random.default_rng(7))
    b = task.degrade(target, np.random.default_rng(7))
    c = task.degrade(target, np.random.default_rng(8))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    with pytest.raises(ValueError, match=r"pass a seeded generator.*default_rng"):
        task.degrade(target)


@pytest.mark.parametrize("sigma", [0.8, 1.6, 3.0])
def test_deblurring_degrade_is_gaussian_blur(clean, sigma):
    task = Deblurring(sigma)
    target = task.target(clean)
    blurred = task.degrade(target)
    assert blurred.shape == target.shape and blurred.dtype == np.float64
    np.testing.assert_array_equal(blurred, gaussian_blur(target, sigma))
    assert blurred.std() < (target / 255).std()


@pytest.mark.parametrize("fraction", [0.25, 0.5, 0.8])
def test_inpainting_masks_about_the_fraction(smooth, fraction):
    task = Inpainting(fraction)
    target = task.target(smooth(80, 90))
    masked = task.degrade(target, np.random.default_rng(3))
    assert masked.shape == target.shape and masked.dtype == np.float64
    missing = np.all(masked == 0, axis=2)  # the smooth image has no black pixel
    # 7200 pixels: the missing share has a standard deviation of at most 0.6 points.
    assert missing.mean() == pytest.approx(fraction, abs=0.02)
    np.testing.assert_array_equal(masked[~missing], target[~missing] / 255)
    assert not np.any(masked[missing])  # every channel of a missing pixel
    _, known = mask_pixels(target, fraction, np.random.default_rng(3))
    np.testing.assert_array_equal(~missing, known)


def test_inpainting_is_reproducible_and_needs_a_generator(clean):
    task = Inpainting(0.5)
    target = task.target(clean)
    a = task.degrade(target, np.random.default_rng(1))
    np.testing.assert_array_equal(a, task.degrade(target, np.random.default_rng(1)))
    assert not np.array_equal(a, task.degrade(target, np.random.default_rng(2)))
    with pytest.raises(ValueError, match="pass a seeded generator"):
        task.degrade(target)


@pytest.mark.parametrize("quality", [10, 40, 90])
def test_jpeg_degrade_is_jpeg_compress(clean, quality):
    task = JPEGArtifacts(quality)
    target = task.target(clean)
    compressed = task.degrade(target)
    assert compressed.shape == target.shape and compressed.dtype == np.float64
    np.testing.assert_array_equal(compressed, jpeg_compress(target, quality))


def test_deterministic_tasks_ignore_the_generator(clean):
    for spec in ("sr-x3", "deblur-1.6", "jpeg-10"):
        task = get_task(spec)
        target = task.target(clean)
        np.testing.assert_array_equal(task.degrade(target),
                                      task.degrade(target, np.random.default_rng(5)))


# --------------------------------------------------------------------------------------------
# Scores
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [2, 3])
def test_sr_score_is_sr_metrics(clean, rng, scale):
    task = SuperResolution(scale)
    target = task.target(clean)
    output = np.clip(target / 255 + rng.normal(0, 0.03, target.shape), 0, 1)
    p, s = sr_metrics(output, target, scale)
    assert task.score(output, target) == {"psnr": p, "ssim": s}


@pytest.mark.parametrize("spec", ["denoise-25", "deblur-1.6", "inpaint-0.5", "jpeg-10"])
def test_restoration_score_is_restoration_metrics(clean, rng, spec):
    task = get_task(spec)
    target = task.target(clean)
    output = target / 255 + rng.normal(0, 0.03, target.shape)
    p, s = restoration_metrics(output, target)
    assert task.score(output, target) == {"psnr": p, "ssim": s}
    # Not the SR recipe: no Y conversion and no border.
    assert p != pytest.approx(sr_metrics(output, target, 2)[0], abs=1e-3)


def test_score_of_the_noisy_input_is_the_noise_level(smooth):
    # Noise of sigma 25 on 0-255 has PSNR 20 log10(255 / 25) = 20.17 dB; quantising to 8 bits
    # adds 1/12 to the MSE (625), and almost nothing clips on a 0.1..0.9 image.
    task = get_task("denoise-25")
    target = task.target(smooth(96, 96, cycles=4))
    score = task.score(task.degrade(target, np.random.default_rng(0)), target)
    assert score["psnr"] == pytest.approx(20 * np.log10(255 / 25), abs=0.15)
    assert 0 < score["ssim"] < 0.6
    assert task.score(target, target)["psnr"] == float("inf")
