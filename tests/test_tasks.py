"""Tests of course_utils.tasks: each task's target, degradation, score, spec and settings."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.degrade import (
    add_poisson_gaussian_noise,
    blur,
    gaussian_blur,
    gaussian_kernel,
    jpeg_compress,
    make_lr,
    mask_pixels,
    motion_kernel,
    parse_mask,
)
from course_utils.images import GRAY_WEIGHTS, to_gray, to_uint8
from course_utils.metrics import restoration_metrics, sr_metrics
from course_utils.tasks import (
    TASKS,
    Deblurring,
    Denoising,
    Inpainting,
    JPEGArtifacts,
    Observation,
    PoissonGaussian,
    SuperResolution,
    Task,
    get_task,
)

SPECS = ["sr-x2", "sr-x3", "sr-x4", "denoise-15", "denoise-25", "denoise-50", "denoise-12.5",
         "denoise-0:55", "denoise-5:50", "poisson-30", "poisson-30:5", "poisson-2.5:0.5",
         "deblur-gaussian:1.6", "deblur-gaussian:2", "deblur-gaussian:2,0.01",
         "deblur-motion:15", "deblur-motion:15:30", "deblur-motion:9:-45,0.005",
         "inpaint-random:0.5", "inpaint-random:0.25", "inpaint-block:32", "inpaint-text",
         "inpaint-text:12", "jpeg-10", "jpeg-90"]
#: The same specs with gray targets: every kind takes the suffix.
GRAY_SPECS = [f"{spec}-gray" for spec in ("sr-x3", "denoise-25", "denoise-0:55", "poisson-30:5",
                                          "deblur-motion:15:30,0.01", "inpaint-block:32",
                                          "inpaint-text", "jpeg-10")]


@pytest.fixture
def clean(smooth):
    return smooth(50, 38, cycles=5)  # float in [0.1, 0.9]; not a multiple of 3 or 4


def _q(image: np.ndarray) -> np.ndarray:
    """8-bit quantisation by hand: clip, scale, round half up."""
    return np.floor(np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)


# --------------------------------------------------------------------------------------------
# Specs
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", SPECS + GRAY_SPECS)
def test_get_task_round_trips_through_the_name(spec):
    task = get_task(spec)
    assert isinstance(task, Task)
    assert task.name == spec
    assert str(task) == spec
    assert get_task(task.name) == task
    assert get_task(task) is task  # a task is returned as it is
    assert task.gray == spec.endswith("-gray")
    assert task.name == f"{task.kind}-{task.strength}" + ("-gray" if task.gray else "")


@pytest.mark.parametrize(("spec", "expected"), [
    ("sr-x3", SuperResolution(3)), ("denoise-25", Denoising(25.0)),
    ("denoise-0:55", Denoising(0.0, 55.0)), ("poisson-30", PoissonGaussian(30.0)),
    ("poisson-30:5", PoissonGaussian(30.0, 5.0)),
    ("deblur-gaussian:2", Deblurring("gaussian:2")),
    ("deblur-motion:15:30,0.01", Deblurring("motion:15:30", 0.01)),
    ("inpaint-random:0.5", Inpainting("random:0.5")), ("inpaint-block:32", Inpainting("block:32")),
    ("inpaint-text", Inpainting("text")), ("jpeg-10", JPEGArtifacts(10)),
    ("denoise-25-gray", Denoising(25.0, gray=True)), ("sr-x2-gray", SuperResolution(2, gray=True)),
])
def test_get_task_parses_the_parameter(spec, expected):
    assert get_task(spec) == expected
    assert type(get_task(spec)) is type(expected)


@pytest.mark.parametrize(("spec", "name", "expected"), [
    ("deblur-1.6", "deblur-gaussian:1.6", Deblurring(1.6)),  # a number alone: a Gaussian
    ("deblur-2,0.01", "deblur-gaussian:2,0.01", Deblurring(2, 0.01)),
    ("inpaint-0.5", "inpaint-random:0.5", Inpainting(0.5)),  # a number alone: a random mask
    ("inpaint-0.25-gray", "inpaint-random:0.25-gray", Inpainting(0.25, gray=True)),
])
def test_the_short_specs_are_normalised(spec, name, expected):
    task = get_task(spec)
    assert task == expected and task.name == name
    assert get_task(name) == task


def test_the_number_constructors_are_normalised_to_specs():
    assert Deblurring(1.6).kernel == "gaussian:1.6" and Deblurring(2).kernel == "gaussian:2"
    assert Inpainting(0.5).mask == "random:0.5"
    assert Deblurring(1.6) == Deblurring("gaussian:1.6")
    np.testing.assert_array_equal(Deblurring(1.6).psf, gaussian_kernel(1.6))
    np.testing.assert_array_equal(Deblurring("motion:9:45").psf, motion_kernel(9, 45))


def test_gray_is_keyword_only():
    with pytest.raises(TypeError):
        Denoising(25, None, True)
    assert Denoising(25, gray=True) != Denoising(25)


def test_every_kind_has_a_spec():
    assert set(TASKS) == {"sr", "denoise", "poisson", "deblur", "inpaint", "jpeg", "compress"}
    for kind, cls in TASKS.items():
        task = cls()
        assert task.kind == kind
        assert task.name.startswith(f"{kind}-")  # each default task has a spec of its kind
        assert cls.from_spec(task.strength) == task
        assert get_task(task.name) == task


@pytest.mark.parametrize(("spec", "message"), [
    ("blur-2", "unknown task 'blur-2'; write KIND-VALUE with KIND one of sr, denoise, poisson, "
               "deblur, inpaint, jpeg, compress, e.g."),
    ("sr", "unknown task 'sr'"),
    ("", "unknown task ''"),
    ("denoise-gray", "unknown task 'denoise-gray'"),
    ("sr-x", "task 'sr-x': 'x' is not a whole number"),
    ("sr-x2.5", "'x2.5' is not a whole number"),
    ("denoise-loud", "'loud' is not a number"),
    ("denoise-25-grey", "'25-grey' is not a number"),
    ("sr-3", "with an x"),
    ("denoise-x25", "with an x"),
    ("jpeg-high", "'high' is not a whole number"),
    ("jpeg-10.5", r"'10.5' is not a whole number \(write e.g. jpeg-10\)"),
    ("sr-x1", "scale of 2 or more"),
    ("denoise-0", r"sigma is on the 0-255 scale \(15, 25, 50\), in \(0, 255\]; got 0.0"),
    ("denoise-300", "sigma is on the 0-255 scale"),
    ("denoise--5", "sigma is on the 0-255 scale"),
    ("denoise-0:loud", r"'loud' is not a number \(write e.g. denoise-0:55\)"),
    ("denoise-0:300", "sigma_max is on the 0-255 scale"),
    ("denoise-55:0", "sigma_max is on the 0-255 scale"),
    ("denoise-25:25", "a blind range needs 0 <= sigma < sigma_max, got sigma 25.0 and "
                      "sigma_max 25.0"),
    ("denoise-50:25", "a blind range needs 0 <= sigma < sigma_max"),
    ("poisson-0", r"peak is the photon count of a white pixel, in \(0, 1e6\]; got 0.0"),
    ("poisson-2e6", "peak is the photon count of a white pixel"),
    ("poisson-loud", r"'loud' is not a number \(write e.g. poisson-30 or poisson-30:5\)"),
    ("poisson-30:x", "'x' is not a number"),
    ("poisson-30:-1", r"sigma is the read noise on the 0-255 scale, in \[0, 255\]; got -1.0"),
    ("poisson-30:300", "sigma is the read noise on the 0-255 scale"),
    ("deblur-0", r"a Gaussian kernel's sigma is its width in pixels, in \(0, 20\]; got 0.0"),
    ("deblur-25", "a Gaussian kernel's sigma is its width in pixels"),
    ("deblur-gaussian:30", "a Gaussian kernel's sigma is its width in pixels"),
    ("deblur-box:3", "task 'deblur-box:3': unknown kernel 'box:3'; write gaussian:SIGMA"),
    ("deblur-gaussian", "unknown kernel 'gaussian'"),
    ("deblur-motion:9:0:1", "unknown kernel 'motion:9:0:1'"),
    ("deblur-gaussian:x", "kernel 'gaussian:x': its parameters must be numbers"),
    ("deblur-motion:0", "a motion kernel's length is in pixels, from 1 to 64; got 0.0"),
    ("deblur-motion:100:30", "a motion kernel's length is in pixels, from 1 to 64"),
    ("deblur-gaussian:2,x", r"'x' is not a number \(write e.g. deblur-gaussian:2,0.01\)"),
    ("deblur-gaussian:2,2", r"noise is the sigma of the added noise in \[0, 1\] units"),
    ("deblur-gaussian:2,-0.1", "noise is the sigma of the added noise"),
    ("inpaint-random:1", r"mask 'random:1': the share of missing pixels must be in \(0, 1\)"),
    ("inpaint-random:0", r"the share of missing pixels must be in \(0, 1\)"),
    ("inpaint-random:x", r"mask 'random:x': 'x' is not a number; write random:FRACTION"),
    ("inpaint-random", "unknown mask 'random'; write random:FRACTION"),
    ("inpaint-block:x", "mask 'block:x': 'x' is not a whole number of pixels"),
    ("inpaint-block:2.5", "'2.5' is not a whole number"),
    ("inpaint-block:0", "mask 'block:0': a block's side is 1 pixel or more"),
    ("inpaint-text:3", "mask 'text:3': the text's size is its height in pixels, from 6 to 128"),
    ("inpaint-text:200", "the text's size is its height in pixels"),
    ("inpaint-text:x", "mask 'text:x': 'x' is not a whole number of pixels"),
    ("inpaint-circle:3", "unknown mask 'circle:3'; write random:FRACTION"),
    ("inpaint-1", r"share of missing pixels must be in \(0, 1\)"),
    ("inpaint-0", r"share of missing pixels must be in \(0, 1\)"),
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
    with pytest.raises(ValueError, match="sigma is on the 0-255 scale"):
        Denoising("25")
    with pytest.raises(ValueError, match="a blind range needs"):
        Denoising(-1, 55)
    with pytest.raises(ValueError, match="peak is the photon count"):
        PoissonGaussian(float("inf"))
    with pytest.raises(ValueError, match="sigma is the read noise"):
        PoissonGaussian(30, float("nan"))
    with pytest.raises(ValueError, match="noise is the sigma of the added noise"):
        Deblurring("gaussian:2", float("nan"))
    with pytest.raises(ValueError, match="noise is the sigma of the added noise"):
        Deblurring("gaussian:2", "0.01")
    with pytest.raises(ValueError, match="unknown kernel 'box'"):
        Deblurring("box")
    with pytest.raises(ValueError, match="share of missing pixels"):
        Inpainting(1.0)
    with pytest.raises(ValueError, match="unknown mask 'holes:3'"):
        Inpainting("holes:3")


# --------------------------------------------------------------------------------------------
# Scale, border, stochastic
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_sr_scale_and_border(scale):
    task = SuperResolution(scale)
    assert task.scale == scale and task.border == scale
    assert not task.stochastic


@pytest.mark.parametrize("spec", ["denoise-25", "denoise-0:55", "poisson-30", "deblur-1.6",
                                  "inpaint-0.5", "inpaint-block:8", "jpeg-10"])
def test_restoration_tasks_work_at_scale_one_without_a_border(spec):
    task = get_task(spec)
    assert task.scale == 1 and task.border == 0


def test_stochastic_tasks():
    # noise and masks draw random numbers; a deblurring task only when it adds noise
    assert {spec for spec in SPECS if get_task(spec).stochastic} == {
        "denoise-15", "denoise-25", "denoise-50", "denoise-12.5", "denoise-0:55", "denoise-5:50",
        "poisson-30", "poisson-30:5", "poisson-2.5:0.5", "deblur-gaussian:2,0.01",
        "deblur-motion:9:-45,0.005", "inpaint-random:0.5", "inpaint-random:0.25",
        "inpaint-block:32", "inpaint-text", "inpaint-text:12"}


# --------------------------------------------------------------------------------------------
# Targets
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("scale", "shape"), [(2, (50, 38)), (3, (48, 36)), (4, (48, 36))])
def test_sr_target_is_the_modcropped_uint8_image(clean, scale, shape):
    target = SuperResolution(scale).target(clean)
    assert target.dtype == np.uint8 and target.shape == shape + (3,)
    np.testing.assert_array_equal(target, _q(clean[: shape[0], : shape[1]]))


@pytest.mark.parametrize("spec", ["denoise-25", "poisson-30", "deblur-1.6", "inpaint-0.5",
                                  "jpeg-10"])
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
def test_deblurring_degrade_is_the_blur_by_its_kernel(clean, sigma):
    task = Deblurring(sigma)
    target = task.target(clean)
    blurred = task.degrade(target)
    assert blurred.shape == target.shape and blurred.dtype == np.float64
    np.testing.assert_array_equal(blurred, blur(target, gaussian_kernel(sigma)))
    assert blurred.std() < (target / 255).std()
    # The same Gaussian as scipy's gaussian_filter, but truncated at 3 sigma (not 4): the
    # lost tails hold 0.3 % of the mass, so the two blurs differ by a small fraction of a level.
    np.testing.assert_allclose(blurred, gaussian_blur(target, sigma), atol=2e-3)


@pytest.mark.parametrize("kernel", ["motion:9:0", "motion:15:30", "gaussian:2"])
def test_deblurring_without_noise_is_deterministic(clean, kernel):
    task = Deblurring(kernel)
    assert not task.stochastic
    target = task.target(clean)
    blurred = task.degrade(target)  # no generator needed
    np.testing.assert_array_equal(blurred, blur(target, task.psf))
    np.testing.assert_array_equal(blurred, task.degrade(target, np.random.default_rng(3)))
    observation = task.observe(target)
    np.testing.assert_array_equal(observation.image, blurred)
    assert observation.task is task and observation.known is None and observation.sigma is None


def test_deblurring_with_noise_adds_unclipped_noise_to_the_blur(smooth):
    task = get_task("deblur-gaussian:2,0.02")
    assert task.stochastic and task.noise == 0.02
    target = task.target(smooth(96, 96, cycles=4))
    a = task.degrade(target, np.random.default_rng(1))
    np.testing.assert_array_equal(a, task.degrade(target, np.random.default_rng(1)))
    assert not np.array_equal(a, task.degrade(target, np.random.default_rng(2)))
    noise = a - blur(target, gaussian_kernel(2))
    # 27648 samples: the sample std has a relative standard error of 0.4 %.
    assert noise.std() == pytest.approx(0.02, rel=0.02)
    with pytest.raises(ValueError, match="pass a seeded generator"):
        task.degrade(target)


def test_poisson_gaussian_degrade_is_add_poisson_gaussian_noise(smooth):
    task = get_task("poisson-30:5")
    target = task.target(smooth(64, 64, cycles=4))
    noisy = task.degrade(target, np.random.default_rng(4))
    np.testing.assert_array_equal(
        noisy, add_poisson_gaussian_noise(target, 30.0, 5 / 255, np.random.default_rng(4)))
    # variance x / peak + sigma^2, averaged over the image
    x = target / 255
    expected = np.mean(x / 30 + (5 / 255) ** 2)
    assert np.var(noisy - x) == pytest.approx(expected, rel=0.05)
    assert not np.array_equal(noisy, task.degrade(target, np.random.default_rng(5)))
    with pytest.raises(ValueError, match="pass a seeded generator"):
        task.degrade(target)


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
    observation = task.observe(target, np.random.default_rng(3))
    np.testing.assert_array_equal(observation.image, masked)
    np.testing.assert_array_equal(observation.known, known)


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
    for spec in ("sr-x3", "deblur-1.6", "deblur-motion:9:30", "jpeg-10", "jpeg-10-gray"):
        task = get_task(spec)
        target = task.target(clean)
        np.testing.assert_array_equal(task.degrade(target),
                                      task.degrade(target, np.random.default_rng(5)))


# --------------------------------------------------------------------------------------------
# Observations: what a method is told
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", SPECS + GRAY_SPECS)
def test_observe_and_degrade_give_the_same_image_for_the_same_seed(clean, spec):
    task = get_task(spec)
    target = task.target(clean)
    observation = task.observe(target, np.random.default_rng(11))
    assert isinstance(observation, Observation) and observation.task is task
    assert observation.scale == task.scale
    np.testing.assert_array_equal(observation.image,
                                  task.degrade(target, np.random.default_rng(11)))


def test_blind_denoising_draws_its_sigma_per_generator(smooth):
    task = get_task("denoise-5:50")
    assert task.sigma == 5 and task.sigma_max == 50
    target = task.target(smooth(64, 64, cycles=4))
    sigmas = []
    for seed in range(20):
        observation = task.observe(target, np.random.default_rng(seed))
        assert 5 <= observation.sigma <= 50
        # the observation's sigma is the one its noise was drawn with (4096 x 3 samples: the
        # sample std has a relative standard error of 0.6 %)
        noise = observation.image - target / 255
        assert noise.std() * 255 == pytest.approx(observation.sigma, rel=0.03)
        assert observation.sigma == task.noise_level(np.random.default_rng(seed))
        sigmas.append(observation.sigma)
    assert len(set(sigmas)) == 20  # a new sigma for each generator
    assert min(sigmas) < 20 and max(sigmas) > 35  # spread over the range, not one value
    # the same generator: the same sigma and the same noise
    a = task.observe(target, np.random.default_rng(3))
    b = task.observe(target, np.random.default_rng(3))
    assert a.sigma == b.sigma
    np.testing.assert_array_equal(a.image, b.image)


def test_non_blind_denoising_tells_its_sigma(clean):
    task = get_task("denoise-15")
    assert task.noise_level(None) == 15
    observation = task.observe(task.target(clean), np.random.default_rng(0))
    assert observation.sigma == 15 and observation.known is None


@pytest.mark.parametrize("mask", ["random:0.5", "block:12", "text:8"])
def test_inpainting_observation_knows_the_zero_filled_pixels(smooth, mask):
    task = Inpainting(mask)
    target = task.target(smooth(40, 48))  # in [0.1, 0.9]: a zero is a missing pixel
    observation = task.observe(target, np.random.default_rng(2))
    known = observation.known
    assert known.shape == (40, 48) and known.dtype == bool
    assert 0 < (~known).sum() < known.size
    np.testing.assert_array_equal(known, np.any(observation.image != 0, axis=2))
    np.testing.assert_array_equal(observation.image[known], target[known] / 255)
    np.testing.assert_array_equal(known, parse_mask(mask, (40, 48), np.random.default_rng(2)))
    other = task.observe(target, np.random.default_rng(3)).known
    assert not np.array_equal(known, other)  # each image draws its own mask
    with pytest.raises(ValueError, match="pass a seeded generator"):
        task.observe(target)


def test_inpainting_block_hides_one_square(smooth):
    task = get_task("inpaint-block:10")
    target = task.target(smooth(30, 40))
    missing = ~task.observe(target, np.random.default_rng(0)).known
    rows, cols = np.nonzero(missing)
    assert missing.sum() == 100 and np.ptp(rows) == 9 and np.ptp(cols) == 9


def test_inpainting_block_larger_than_the_image_is_explained(smooth):
    task = get_task("inpaint-block:32")
    target = task.target(smooth(24, 40))
    with pytest.raises(ValueError, match="a 32-pixel block does not fit in a 40x24 image"):
        task.observe(target, np.random.default_rng(0))


# --------------------------------------------------------------------------------------------
# Gray targets: MATLAB's rgb2gray
# --------------------------------------------------------------------------------------------


def test_to_gray_is_matlabs_formula_rounded_half_up(rng):
    pixels = rng.integers(0, 256, (17, 23, 3), dtype=np.uint8)
    gray = to_gray(pixels)
    assert gray.dtype == np.uint8 and gray.shape == (17, 23)
    r, g, b = (pixels[..., c].astype(np.float64) for c in range(3))
    exact = 0.298936021293775 * r + 0.587043074451121 * g + 0.114020904255103 * b
    np.testing.assert_array_equal(gray, np.floor(exact + 0.5).astype(np.uint8))
    np.testing.assert_allclose(GRAY_WEIGHTS.sum(), 1.0, atol=1e-12)
    # equal channels keep their value, white stays white
    for level in (0, 1, 128, 254, 255):
        assert to_gray(np.full((2, 2, 3), level, np.uint8))[0, 0] == level
    # pure colours: round(255 w)
    for channel, weight in enumerate(GRAY_WEIGHTS):
        colour = np.zeros((1, 1, 3), np.uint8)
        colour[..., channel] = 255
        assert to_gray(colour)[0, 0] == np.floor(255 * weight + 0.5)


def test_to_gray_of_gray_and_float_images(rng):
    gray = rng.integers(0, 256, (9, 11), dtype=np.uint8)
    np.testing.assert_array_equal(to_gray(gray), gray)  # a gray image passes through
    np.testing.assert_array_equal(to_gray(gray[..., None]), gray)  # (H, W, 1) too
    image = rng.random((9, 11, 3))
    # float input is quantised to 8 bits first (round half up), then weighted
    np.testing.assert_array_equal(to_gray(image), to_gray(to_uint8(image)))
    assert not np.array_equal(to_gray(image), np.floor(image @ GRAY_WEIGHTS * 255 + 0.5))
    np.testing.assert_array_equal(to_gray(image[..., 0]), to_uint8(image[..., 0]))


@pytest.mark.parametrize("spec", GRAY_SPECS)
def test_gray_targets_are_2d_uint8(clean, spec):
    task = get_task(spec)
    target = task.target(clean)
    assert target.dtype == np.uint8 and target.ndim == 2
    rgb_target = get_task(spec.removesuffix("-gray")).target(clean)
    assert rgb_target.ndim == 3
    np.testing.assert_array_equal(target, to_gray(rgb_target))
    degraded = task.observe(target, np.random.default_rng(0)).image
    assert degraded.ndim == 2


def test_gray_sr_target_is_modcropped_then_gray(clean):
    target = get_task("sr-x3-gray").target(clean)
    assert target.shape == (48, 36)
    np.testing.assert_array_equal(target, to_gray(_q(clean[:48, :36])))


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
