"""Unit 07's compression parts: the standard codecs, the entropy model, the bitstream, rate."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage import data

from course_utils.compression import (
    CODECS,
    FactorizedPrior,
    RateDistortionLoss,
    available_codecs,
    bd_rate,
    bits_per_pixel,
    compress,
    decompress,
    get_codec,
)
from course_utils.metrics import psnr
from course_utils.models import get_model, load_checkpoint, save_checkpoint


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return data.astronaut()[100:228, 150:342]  # 128 x 192, not a multiple of 16 on one side


@pytest.fixture(scope="module")
def codec():
    torch.manual_seed(0)
    return get_model("factorized-codec", N=16, M=24).eval()


@pytest.mark.parametrize("name", available_codecs())
def test_a_standard_codec_writes_a_real_file_that_decodes_to_a_close_image(name, photo):
    c = get_codec(name)
    low, high = c.quality
    small, large = c.encode(photo, low + (high - low) * 0.2), c.encode(photo, high * 0.9)
    assert len(small) < len(large)  # a higher quality costs more bytes
    decoded = c.decode(large)
    assert decoded.shape == photo.shape and decoded.dtype == np.uint8
    assert psnr(photo, decoded) > psnr(photo, c.decode(small)) > 20


def test_the_codecs_are_what_their_names_say(photo):
    assert get_codec("jpeg").encode(photo, 50)[:2] == b"\xff\xd8"  # a JPEG file's SOI marker
    if "webp" in available_codecs():
        assert get_codec("webp").encode(photo, 50)[8:12] == b"WEBP"
    # 4:4:4 keeps the chroma at full size: more bytes than 4:2:0 at the same quality
    assert len(get_codec("jpeg444").encode(photo, 50)) > len(get_codec("jpeg").encode(photo, 50))


def test_bad_codec_names_and_qualities_get_clear_errors(photo):
    with pytest.raises(ValueError, match="unknown codec 'png'.*jpeg"):
        get_codec("png")
    with pytest.raises(ValueError, match="jpeg: quality must be a number from 1 to 100"):
        get_codec("jpeg").encode(photo, 0)
    with pytest.raises(ValueError, match="jpeg2000: quality must be a number from 15 to 60"):
        CODECS["jpeg2000"].encode(photo, 100)


def test_the_entropy_model_is_a_distribution_over_the_integers():
    torch.manual_seed(0)
    prior = FactorizedPrior(4).eval()
    low, pmfs = prior.tables()
    for p in pmfs:
        assert p.min() >= 0 and abs(p.sum() - 1) < 1e-6  # the support holds all the mass
    y = torch.arange(-500, 501, dtype=torch.float32).expand(1, 4, 1, -1).contiguous()
    assert torch.allclose(prior.pmf(y).sum(-1), torch.ones(1, 4, 1), atol=1e-5)
    # training adds uniform noise; eval rounds
    prior.train()
    noisy, _ = prior(torch.zeros(1, 4, 8, 8))
    assert 0 < noisy.abs().max() <= 0.5
    prior.eval()
    assert prior(torch.full((1, 4, 2, 2), 1.3))[0].eq(1).all()


def test_compressed_bytes_decode_to_exactly_the_encoders_reconstruction(codec, photo):
    result = compress(codec, photo)
    assert result.data[:4] == b"TLC1"
    decoded = decompress(codec, result.data)
    assert decoded.shape == photo.shape
    np.testing.assert_array_equal(decoded, result.reconstruction)


def test_the_bytes_written_agree_with_the_estimated_rate(codec, photo):
    result = compress(codec, photo)
    measured = 8 * len(result.data)
    assert abs(measured - result.estimated_bits) / result.estimated_bits < 0.03


def test_a_latent_channel_that_training_switched_off_still_codes(photo):
    # at low rates training turns channels off: all their mass on one integer, and a range
    # coder refuses a one-symbol table ("not normalizable")
    torch.manual_seed(0)
    codec = get_model("factorized-codec", N=16, M=24).eval()
    with torch.no_grad():
        codec.g_a[-1].weight[0], codec.g_a[-1].bias[0] = 0.0, 0.0
        for matrix in codec.entropy_model.matrices:
            matrix[0] = 30.0  # a step of a CDF at 0
    low, pmfs = codec.entropy_model.tables()
    assert int(low[0]) <= 0 < int(low[0]) + len(pmfs[0]) and len(pmfs[0]) >= 2
    assert pmfs[0].max() > 1 - 1e-6
    result = compress(codec, photo)
    np.testing.assert_array_equal(decompress(codec, result.data), result.reconstruction)


def test_a_codec_survives_a_checkpoint_and_still_decodes_its_files(codec, photo, tmp_path):
    result = compress(codec, photo)
    save_checkpoint(tmp_path / "codec.safetensors", codec)
    again, _ = load_checkpoint(tmp_path / "codec.safetensors")
    np.testing.assert_array_equal(decompress(again, result.data), result.reconstruction)


def test_bytes_of_another_format_or_cut_short_get_clear_errors(codec, photo):
    with pytest.raises(ValueError, match="not a file of the course's learned codec"):
        decompress(codec, get_codec("jpeg").encode(photo, 50))
    data_ = compress(codec, photo).data
    with pytest.raises(ValueError, match="truncated"):
        decompress(codec, data_[:-1])


def test_rate_distortion_loss_is_lambda_mse_plus_bpp(codec):
    x = torch.rand(2, 3, 32, 32)
    codec.train()
    out = codec(x)
    loss = RateDistortionLoss(0.01)
    terms = loss.terms(out, x)
    assert torch.isclose(loss(out, x), 0.01 * 255**2 * terms["mse"] + terms["bpp"])
    expected_bpp = -torch.log2(out.likelihoods).sum() / (2 * 32 * 32)
    assert torch.isclose(terms["bpp"], expected_bpp)
    loss(out, x).backward()  # the rate trains the entropy model too
    assert codec.entropy_model.matrices[0].grad is not None
    codec.zero_grad()
    codec.eval()
    with pytest.raises(ValueError, match="lmbda must be a positive number"):
        RateDistortionLoss(0)


def test_bits_per_pixel_counts_pixels_not_values():
    assert bits_per_pixel(1000, 8000) == 1.0
    with pytest.raises(ValueError):
        bits_per_pixel(10, 0)


def test_bd_rate_of_a_curve_that_needs_half_the_bits_is_minus_50_percent():
    rate = np.array([0.2, 0.4, 0.6, 0.8])
    quality = 30 + 5 * np.log(rate)
    assert bd_rate(rate, quality, rate / 2, quality) == pytest.approx(-50, abs=1e-6)
    assert bd_rate(rate, quality, rate, quality) == pytest.approx(0, abs=1e-9)
    with pytest.raises(ValueError, match="at least 4"):
        bd_rate(rate[:3], quality[:3], rate, quality)
    with pytest.raises(ValueError, match="do not overlap"):
        bd_rate(rate, quality, rate, quality + 20)


def test_the_autoencoder_keeps_the_size_of_any_image():
    ae = get_model("autoencoder", code_channels=8, levels=3)
    assert ae(torch.rand(1, 3, 37, 50)).shape == (1, 3, 37, 50)
    assert ae.encoder(torch.rand(1, 3, 64, 64)).shape == (1, 8, 8, 8)


# --- the compress task, measuring codecs on files, the compress command, pretrain ----------

def test_the_compress_task_parses_back_and_keeps_the_image_as_the_codecs_input(photo):
    from course_utils.tasks import Compression, get_task
    task = get_task("compress-0.0067")
    assert isinstance(task, Compression) and task.lmbda == 0.0067
    assert get_task(task.name) == task
    assert np.array_equal(task.degrade(task.target(photo)), photo / 255.0)
    for bad in ("compress-0", "compress-x", "compress-20"):
        with pytest.raises(ValueError, match="compress"):
            get_task(bad)


def test_quality_for_bpp_is_the_highest_quality_whose_file_fits(photo):
    from course_utils.compression import quality_for_bpp
    jpeg = get_codec("jpeg")
    rate = lambda q: bits_per_pixel(len(jpeg.encode(photo, q)), 128 * 192)  # noqa: E731
    q = quality_for_bpp(jpeg, photo, 1.0)
    assert rate(q) <= 1.0 < rate(q + 1)
    assert quality_for_bpp(jpeg, photo, 0.001) == 1  # nothing fits: the lowest quality
    with pytest.raises(ValueError, match="bpp"):
        quality_for_bpp(jpeg, photo, -1)


def test_code_images_measures_the_file_and_scores_its_decoded_image(codec, photo):
    from course_utils.compression import LearnedCodec, code_images
    kept = {}
    result = code_images({"a": photo}, LearnedCodec(codec), keep=lambda n, d, im, c:
                         kept.update({n: (d, im)}))
    row = result.rows[0]
    data, decoded = kept["a"]
    assert row["bpp"] == 8 * len(data) / (128 * 192) == result.mean_bpp
    assert row["estimated_bpp"] == pytest.approx(row["bpp"], rel=0.05)
    assert row["psnr"] == pytest.approx(psnr(decoded, photo, data_range=255), abs=1e-9)
    jpeg = code_images({"a": photo}, "jpeg", bpp=row["bpp"] + 0.5)
    assert jpeg.rows[0]["bpp"] <= row["bpp"] + 0.5 and jpeg.rows[0]["target_bpp"]
    with pytest.raises(ValueError, match="quality or a target bpp"):
        code_images({"a": photo}, "jpeg")
    with pytest.raises(ValueError, match="takes no quality"):
        code_images({"a": photo}, LearnedCodec(codec), quality=50)


def test_the_compress_command_writes_files_and_json_and_refuses_bad_options(
        codec, photo, tmp_path, capsys):
    import json

    from course_utils.__main__ import main
    from course_utils.data.io import save_image
    hr = tmp_path / "hr"
    save_image(hr / "astronaut.png", photo)
    out, report = tmp_path / "out", tmp_path / "r.json"
    assert main(["compress", "--codec", "jpeg", "--bpp", "0.8", "--hr", str(hr), "--out",
                 str(out), "--json", str(report)]) == 0
    result = json.loads(report.read_text())
    file = out / "astronaut.jpg"
    assert result["mean_bpp"] == 8 * file.stat().st_size / (128 * 192) <= 0.8
    assert (out / "astronaut.decoded.png").exists()
    checkpoint = save_checkpoint(tmp_path / "c.safetensors", codec, {"task": "compress-0.01"})
    assert main(["compress", "--codec", "model", "--checkpoint", str(checkpoint), "--hr",
                 str(hr), "--out", str(out)]) == 0
    assert (out / "astronaut.tlc").read_bytes()[:4] == b"TLC1"
    for args, message in ((["--codec", "jpeg"], "needs --quality Q"),
                          (["--codec", "model", "--checkpoint", str(checkpoint), "--quality",
                            "50"], "rate is set by the lambda"),
                          (["--codec", "webp", "--model", "x", "--quality", "50"],
                           "with --codec model")):
        assert main(["compress", "--hr", str(hr), *args]) == 2
        assert message in capsys.readouterr().err


def test_pretrain_trains_a_codec_for_rate_and_distortion_and_writes_its_card(tmp_path):
    from course_utils.zoo.recipes import Recipe, pretrain
    images = {"astronaut": data.astronaut()[:160, :160], "coffee": data.coffee()[:160, :160]}
    out = tmp_path / "codec.safetensors"
    model, card = pretrain("factorized-codec", "compress-0.01", images,
                           Recipe(steps=2, epochs=1, batch_size=2, patch_lr=32, clip_grad_norm=1.0),
                           out=out, progress=False)
    h = card["heldout"]
    assert card["channels"] == "RGB" and h["bpp"] > 0 and h["baselines"]["jpeg"]["bpp"] > 0
    assert all(r["jpeg_bpp"] <= r["bpp"] or r["jpeg_quality"] == 1 for r in h["per_image"])
    text = out.with_suffix(".md").read_text()
    assert "learned codec" in text and "0.01 * 255^2 * MSE + bpp" in text
    assert "gradient norm clipped to 1" in text
    with pytest.raises(ValueError, match="a codec"):
        pretrain("factorized-codec", "denoise-25", images)


def test_an_untrained_codec_starts_at_mid_gray():
    # The decoder's last bias starts at 0.5: the first steps learn structure, not the mean.
    torch.manual_seed(0)
    codec = get_model("factorized-codec", N=16, M=16).eval()
    with torch.no_grad():
        x_hat = codec(torch.rand(2, 3, 64, 64)).x_hat
    assert abs(float(x_hat.mean()) - 0.5) < 0.05


def test_a_codec_trained_without_clipping_is_reproduced_with_clip_grad_norm_0(monkeypatch,
                                                                             tmp_path):
    # The codec's recipe clips at 1; an unclipped run's command must say so, and parse.
    from course_utils.__main__ import main
    from course_utils.zoo.recipes import Recipe, reproduce_command

    def recipe(clip):
        return Recipe(steps=8000, epochs=8, batch_size=8, patch_lr=128, lr=1e-3,
                      clip_grad_norm=clip)

    assert reproduce_command("factorized-codec", "compress-0.01",
                             recipe(1.0)).endswith("--task compress-0.01")
    command = reproduce_command("factorized-codec", "compress-0.01", recipe(None))
    assert command.endswith("--task compress-0.01 --clip-grad-norm 0")

    class Given(Exception):  # stops the command where training would start
        pass

    def fake_pretrain(name, task, images, given, **kwargs):
        raise Given(given)

    monkeypatch.setattr("course_utils.__main__.pretrain", fake_pretrain)
    with pytest.raises(Given) as caught:
        main(command.split()[3:] + ["--out", str(tmp_path / "c.safetensors")])
    assert caught.value.args[0] == recipe(None)
