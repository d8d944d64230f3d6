"""Tests of course_utils.explore: the functions behind the notebooks' interactive explorers."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import make_smooth
from course_utils.data import center_crop, domain_images
from course_utils.evaluation.evaluate import evaluate_images
from course_utils.explore import (
    DISTORTIONS,
    LR_MAKERS,
    _shrink_without_antialias,
    degrade_and_upscale,
    distort,
    distortion_metrics,
    match_mse,
    super_resolve_compare,
)
from course_utils.images import to_uint8
from course_utils.metrics import mse, psnr, sr_metrics
from course_utils.models import get_model


@pytest.fixture
def hr(smooth):
    return smooth(50, 38, cycles=6)


def test_degrade_and_upscale_shapes(hr):
    out = degrade_and_upscale(hr, 3)
    assert set(out) == {"hr", "lr", "sr", "psnr", "ssim"}
    assert out["hr"].shape == (48, 36, 3)  # modcropped
    assert out["lr"].shape == (16, 12, 3)
    assert out["sr"].shape == (48, 36, 3)
    np.testing.assert_array_equal(out["hr"], hr[:48, :36])
    for key in ("lr", "sr"):
        assert out[key].min() >= 0 and out[key].max() <= 1
    assert (out["psnr"], out["ssim"]) == pytest.approx(sr_metrics(out["sr"], out["hr"], 3))
    gray = degrade_and_upscale(hr[..., 0], 2, method="nearest")
    assert gray["sr"].shape == (50, 38)


def test_more_degradation_lowers_psnr(hr):
    clean = degrade_and_upscale(hr, 2)["psnr"]
    blurred = degrade_and_upscale(hr, 2, blur_sigma=2.0)["psnr"]
    more_blurred = degrade_and_upscale(hr, 2, blur_sigma=4.0)["psnr"]
    noisy = degrade_and_upscale(hr, 2, noise_sigma=0.03)["psnr"]
    noisier = degrade_and_upscale(hr, 2, noise_sigma=0.1)["psnr"]
    compressed = degrade_and_upscale(hr, 2, jpeg_quality=10)["psnr"]
    assert clean > blurred > more_blurred
    assert clean > noisy > noisier
    assert clean > compressed


def test_degrade_and_upscale_is_seeded(hr):
    a = degrade_and_upscale(hr, 2, noise_sigma=0.05, seed=1)
    b = degrade_and_upscale(hr, 2, noise_sigma=0.05, seed=1)
    c = degrade_and_upscale(hr, 2, noise_sigma=0.05, seed=2)
    np.testing.assert_array_equal(a["lr"], b["lr"])
    assert not np.array_equal(a["lr"], c["lr"])


def test_distort_definitions(hr):
    shifted = distort(hr, "mean shift", 0.05)
    np.testing.assert_allclose(shifted, np.clip(hr + 0.05, 0, 1))
    stretched = distort(hr, "contrast stretch", 0.5)
    np.testing.assert_allclose(stretched, np.clip(hr.mean() + 1.5 * (hr - hr.mean()), 0, 1))
    assert distort(hr, "jpeg", 50).shape == hr.shape
    np.testing.assert_array_equal(distort(hr, "noise", 0.1, seed=3),
                                  distort(hr, "noise", 0.1, seed=3))
    np.testing.assert_array_equal(distort(hr, "blur", 0), hr)
    for kind in DISTORTIONS:
        out = distort(hr, kind, 1.0 if kind != "jpeg" else 60)
        assert out.shape == hr.shape and out.min() >= 0 and out.max() <= 1


def test_distort_unknown_kind(hr):
    with pytest.raises(ValueError, match="unknown distortion 'sharpen'; choose one of mean shift"):
        distort(hr, "sharpen", 1.0)


def test_distortion_metrics(hr):
    m = distortion_metrics(hr, "noise", 0.05)
    assert m["mse"] == pytest.approx(mse(hr, m["image"]))
    assert m["psnr"] == pytest.approx(10 * np.log10(1 / m["mse"]))
    assert m["psnr"] == pytest.approx(psnr(hr, m["image"]))
    assert 0 < m["ssim"] < 1
    gray = distortion_metrics(hr[..., 0], "blur", 1.0)
    assert 0 < gray["ssim"] < 1


@pytest.mark.parametrize("kind", ["mean shift", "contrast stretch", "blur", "noise"])
def test_match_mse_hits_the_target(smooth, kind):
    image = smooth(32, 32, cycles=4)
    target = 0.002
    strength, achieved = match_mse(image, kind, target)
    assert achieved == pytest.approx(target, rel=0.01)
    assert mse(image, distort(image, kind, strength)) == pytest.approx(achieved, rel=1e-12)
    assert strength > 0


def test_match_mse_jpeg_is_the_nearest_quality(smooth):
    image = smooth(24, 24, cycles=6)
    strength, achieved = match_mse(image, "jpeg", 5e-4)
    assert strength == int(strength)
    errors = [mse(image, distort(image, "jpeg", s)) for s in range(0, 100)]
    assert achieved == pytest.approx(errors[int(strength)])
    assert abs(achieved - 5e-4) == pytest.approx(min(abs(e - 5e-4) for e in errors))


def test_match_mse_errors(smooth):
    image = smooth(16, 16)
    with pytest.raises(ValueError, match="target_mse must be positive"):
        match_mse(image, "blur", 0)
    with pytest.raises(ValueError, match="unknown distortion 'warp'"):
        match_mse(image, "warp", 0.01)
    with pytest.raises(ValueError, match="mean shift cannot reach an MSE of 0.9"):
        match_mse(image, "mean shift", 0.9)


def test_explore_functions_accept_uint8_like_float():
    """uint8 photos are converted to [0, 1], not treated as 0..255 floats."""
    photo = center_crop(domain_images("natural", "heldout", limit=1)["coffee"], 96)
    as_uint8 = to_uint8(photo)
    as_float = as_uint8 / 255.0
    a = distortion_metrics(as_uint8, "blur", 1.0)
    b = distortion_metrics(as_float, "blur", 1.0)
    assert abs(a["mse"] - b["mse"]) < 1e-12 and abs(a["ssim"] - b["ssim"]) < 1e-12
    assert a["mse"] > 0
    up_a = degrade_and_upscale(as_uint8, 2)
    up_b = degrade_and_upscale(as_float, 2)
    assert abs(up_a["psnr"] - up_b["psnr"]) < 1e-9


def test_center_crop():
    image = np.arange(5 * 7, dtype=float).reshape(5, 7) / 35
    crop = center_crop(image, 3)
    assert crop.shape == (3, 3) and crop[0, 0] == image[1, 2]
    assert center_crop(image, None) is image
    with pytest.raises(ValueError, match="cannot cut a 6x6 centre crop"):
        center_crop(image, 6)


def test_shrinking_without_antialias_is_subsampling_at_odd_scales():
    image = np.random.default_rng(0).random((12, 9))
    # at x3 the cubic kernel is sampled exactly on pixel centres 1, 4, 7 ...: plain subsampling
    np.testing.assert_allclose(_shrink_without_antialias(image, 3), image[1::3, 1::3],
                               atol=1e-6)


def test_super_resolve_compare_scores_bicubic_and_model():
    model = get_model("espcn", scale=2)  # a Y-channel model, as the shipped ones
    hr = make_smooth(41, 50, seed=3)
    out = super_resolve_compare(hr, model)
    assert out["hr"].shape == (40, 50, 3) and out["model"].shape == (40, 50, 3)
    assert out["lr"].shape == (20, 25, 3)
    # the bicubic score is the evaluation command's bicubic score
    reference = evaluate_images({"x": hr}, "sr-x2", "bicubic").rows[0]
    assert out["psnr"]["bicubic"] == pytest.approx(reference["psnr"], abs=1e-9)
    for maker in LR_MAKERS.values():
        lrs = super_resolve_compare(hr, model, maker)["lr"]
        assert lrs.shape == (20, 25, 3)
    pil = super_resolve_compare(hr, model, "bicubic-pil")["lr"]
    assert np.abs(pil - out["lr"]).max() > 0  # PIL's LR pixels differ from MATLAB's
    # without antialiasing the LR image is a different one again
    sharp = super_resolve_compare(hr, model, "no-antialias")["lr"]
    assert sharp.shape == out["lr"].shape and np.abs(sharp - out["lr"]).max() > 0
    with pytest.raises(ValueError, match="lr_maker must be one of"):
        super_resolve_compare(hr, model, "opencv")


def test_codec_compare_codes_real_files_and_jpeg_at_no_more_bytes():
    from course_utils.compression import LearnedCodec, decompress
    from course_utils.explore import CODEC_LEVELS, codec_compare, codec_explorer_figure

    image = to_uint8(make_smooth(64, 80, 3, seed=5))
    learned = [LearnedCodec(get_model("factorized-codec", N=8, M=8).eval(), f"tiny {k}")
               for k in range(2)]
    out = codec_compare(image, "learned", 2, learned)
    assert out["label"] == "tiny 1" and out["row"]["estimated_bpp"] > 0
    data = learned[1].encode(image)
    np.testing.assert_array_equal(out["decoded"], decompress(learned[1].model, data))
    # an untrained codec writes almost nothing: JPEG cannot match it and takes its lowest
    assert out["row"]["bytes"] < out["jpeg_row"]["bytes"] and out["jpeg_row"]["quality"] == 1
    photo = center_crop(domain_images("natural", "heldout")["coffee"], 192)
    webp = codec_compare(photo, "webp", 3, learned)
    assert webp["row"]["quality"] == CODEC_LEVELS["webp"][2]
    assert webp["jpeg_row"]["bytes"] <= webp["row"]["bytes"]  # JPEG at no more bytes
    low, high = (codec_compare(image, "jpeg", k, learned)["row"] for k in (1, 4))
    assert low["bytes"] < high["bytes"] and low["psnr"] < high["psnr"]
    with pytest.raises(ValueError, match="level 3 needs 3 learned codecs"):
        codec_compare(image, "learned", 3, learned)
    with pytest.raises(ValueError, match="level must be 1"):
        codec_compare(image, "jpeg", 5, learned)
    with pytest.raises(ValueError, match="codec must be 'learned' or one of"):
        codec_compare(image, "png", 1, learned)
    fig = codec_explorer_figure(image, "jpeg", 2, learned)
    assert "same rate" in " ".join(ax.get_title() for ax in fig.axes)
