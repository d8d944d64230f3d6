"""Tests of course_utils.evaluation.evaluate and the ``python -m course_utils evaluate`` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import skimage.metrics
import torch
from PIL import Image

import course_utils
import course_utils.__main__ as cli_module
from conftest import make_smooth
from course_utils.__main__ import main
from course_utils.data import DataUnavailableError, load_image, save_image
from course_utils.degrade import imresize, make_lr, modcrop
from course_utils.evaluation.evaluate import (
    METHODS,
    EvaluationResult,
    default_method,
    evaluate_folder,
    evaluate_images,
    method_names,
    model_method,
    resolve_method,
)
from course_utils.evaluation.inference import reconstruct
from course_utils.images import as_rgb, to_float, to_uint8, y_channel
from course_utils.metrics import crop_border, sr_metrics
from course_utils.models import get_model, load_checkpoint, save_checkpoint
from course_utils.tasks import Observation, SuperResolution, get_task
from course_utils.zoo.shipped import load_pretrained

REPO = Path(course_utils.__file__).resolve().parent.parent
#: The interpolators, for super-resolution ("none" only scores restoration tasks).
SR_METHODS = sorted(set(METHODS) - {"none"})


def scores(rows: list[dict]) -> list[dict]:
    """The rows without their ``seconds`` (a timing, which differs from run to run)."""
    return [{k: v for k, v in row.items() if k != "seconds"} for row in rows]


def json_scores(path: Path) -> dict:
    """A saved result without its timings (each row's ``seconds`` and ``mean_seconds``)."""
    saved = json.loads(path.read_text())
    assert saved["mean_seconds"] >= 0 and all(r["seconds"] >= 0 for r in saved["rows"])
    return {**{k: v for k, v in saved.items() if k != "mean_seconds"},
            "rows": scores(saved["rows"])}


def manual_bicubic(hr_path: Path, scale: int, lr_path: Path | None = None) -> tuple[float, float]:
    """The published recipe, step by step from the primitives: Y of an RGB image, the
    intensities of a gray one."""
    hr = modcrop(load_image(hr_path), scale)
    hr8 = to_uint8(hr)
    lr = to_uint8(load_image(lr_path)) if lr_path else imresize(hr8, 1 / scale)
    assert lr.dtype == np.uint8
    sr = imresize(lr, scale)  # MATLAB bicubic on uint8, rounded per pass
    channel = (lambda im: im.astype(np.float64)) if hr8.ndim == 2 else y_channel
    y_sr = crop_border(channel(sr), scale)
    y_hr = crop_border(channel(hr8), scale)
    p = skimage.metrics.peak_signal_noise_ratio(y_hr, y_sr, data_range=255)
    s = skimage.metrics.structural_similarity(y_hr, y_sr, data_range=255, gaussian_weights=True,
                                              sigma=1.5, use_sample_covariance=False)
    return p, s


@pytest.fixture
def hr_folder(tmp_path, smooth):
    """Three smooth 8-bit images whose sizes are not multiples of 2, 3 or 4."""
    folder = tmp_path / "hr"
    save_image(folder / "a.png", smooth(53, 43, seed=1, cycles=5))
    save_image(folder / "b.png", smooth(47, 61, seed=2, cycles=7))
    save_image(folder / "c.bmp", smooth(37, 41, channels=None, seed=3, cycles=4))
    return folder


@pytest.fixture
def cli(monkeypatch):
    """Run main() in-process; restore the warning settings it changes."""
    monkeypatch.setattr(warnings, "formatwarning", warnings.formatwarning)
    monkeypatch.setattr(warnings, "filters", list(warnings.filters))
    return lambda *args: main(["evaluate", *map(str, args)])


def unet_checkpoint(path: Path, scale: int) -> Path:
    """A saved backbone-unet whose output head is not zero (an untrained one returns the
    bicubic or "none" baseline exactly, which would hide a model that never ran)."""
    torch.manual_seed(scale)
    model = get_model("backbone-unet", scale=scale, pretrained=False, width=8)
    with torch.no_grad():
        model.head.weight.normal_(0, 1e-2)
        model.head.bias.normal_(0, 1e-2)
    return save_checkpoint(path, model)


def printed_mean(stdout: str) -> tuple[str, str]:
    """The PSNR and SSIM of the table's "mean" line, as printed (then comes the time)."""
    (line,) = [line for line in stdout.splitlines() if line.startswith("mean ")]
    return tuple(line.split()[1:3])


# --------------------------------------------------------------------------------------------
# evaluate_folder, evaluate_images and their pieces
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_bicubic_rows_equal_the_manual_recipe(hr_folder, scale):
    result = evaluate_folder(hr_folder, f"sr-x{scale}")
    assert [r["image"] for r in result.rows] == ["a.png", "b.png", "c.bmp"]
    sizes = {"a.png": (53, 43), "b.png": (47, 61), "c.bmp": (37, 41)}
    for row in result.rows:
        h, w = sizes[row["image"]]
        assert (row["height"], row["width"]) == (h - h % scale, w - w % scale)  # modcropped
        p, s = manual_bicubic(hr_folder / row["image"], scale)
        assert row["psnr"] == pytest.approx(p, abs=1e-9)
        assert row["ssim"] == pytest.approx(s, abs=1e-6)
    assert result.mean_psnr == pytest.approx(np.mean([r["psnr"] for r in result.rows]))
    assert result.mean_ssim == pytest.approx(np.mean([r["ssim"] for r in result.rows]))
    assert result.method == "bicubic" and result.task == f"sr-x{scale}"
    assert scores(evaluate_folder(hr_folder, SuperResolution(scale)).rows) == scores(result.rows)
    assert all(row["seconds"] >= 0 for row in result.rows)


def test_sr_input_and_bicubic_method(smooth):
    hr = smooth(50, 38)
    task = SuperResolution(3)
    target = task.target(hr)
    assert target.dtype == np.uint8 and target.shape == (48, 36, 3)
    lr = task.degrade(target)
    np.testing.assert_array_equal(lr, imresize(to_uint8(hr[:48, :36]), 1 / 3))
    sr = METHODS["bicubic"](lr, 3)
    assert sr.shape == (48, 36, 3)
    np.testing.assert_array_equal(sr, imresize(lr, 3))
    label, run = resolve_method("bicubic")
    assert label == "bicubic"
    np.testing.assert_array_equal(run(Observation(lr, task)), imresize(lr, 3))
    with pytest.raises(ValueError, match="unknown method 'magic'; choose one of none, "
                                         "bicubic"):
        resolve_method("magic")


def test_none_is_the_input_and_only_for_restoration(smooth):
    noisy = smooth(20, 24) + 0.05
    np.testing.assert_array_equal(METHODS["none"](noisy, 1), noisy)
    with pytest.raises(ValueError, match="only scores restoration tasks .* not x2"):
        METHODS["none"](noisy, 2)
    assert "identity" not in METHODS  # the old name is gone
    with pytest.raises(ValueError, match="the method 'none' does not serve sr-x2; choose one "
                                         "of bicubic, nearest"):
        resolve_method("none", "sr-x2")


@pytest.mark.parametrize("method", SR_METHODS)
def test_every_method_runs_and_is_sane(hr_folder, method):
    result = evaluate_folder(hr_folder, "sr-x2", method)
    assert len(result.rows) == 3
    for row in result.rows:
        # Smooth images upscale well with any interpolator: well above a broken pipeline's
        # single-digit dB, below perfection.
        assert 25 < row["psnr"] < 80, row
        assert 0.8 < row["ssim"] <= 1.0, row


def test_bicubic_beats_nearest_on_smooth_images(hr_folder):
    for scale in (2, 3):
        bicubic = evaluate_folder(hr_folder, f"sr-x{scale}", "bicubic")
        nearest = evaluate_folder(hr_folder, f"sr-x{scale}", "nearest")
        for b, n in zip(bicubic.rows, nearest.rows, strict=True):
            assert b["psnr"] > n["psnr"] + 1
            assert b["ssim"] > n["ssim"]


def test_given_lr_equals_made_lr_on_benchmark_layout(tmp_path, smooth):
    # The benchmark layout: HR files already modcropped, LR files made by imresize.
    hr_dir, lr_dir = tmp_path / "HR", tmp_path / "LR"
    for i, (h, w, channels) in enumerate([(48, 36, 3), (30, 42, None), (24, 27, 3)]):
        hr = to_uint8(smooth(h, w, channels=channels, seed=10 + i, cycles=6))
        save_image(hr_dir / f"img_{i:03d}_SRF_3_HR.png", hr)
        save_image(lr_dir / f"img_{i:03d}_SRF_3_LR.png", imresize(hr, 1 / 3))
    with_lr = evaluate_folder(hr_dir, "sr-x3", lr_dir=lr_dir)
    without = evaluate_folder(hr_dir, "sr-x3")
    assert scores(with_lr.rows) == scores(without.rows)
    for row in with_lr.rows:
        lr_name = row["image"].replace("_HR", "_LR")
        p, s = manual_bicubic(hr_dir / row["image"], 3, lr_dir / lr_name)
        assert row["psnr"] == pytest.approx(p, abs=1e-9)


def test_gray_hr_with_rgb_lr_file(tmp_path, smooth):
    hr = to_uint8(smooth(36, 36, channels=None))
    save_image(tmp_path / "hr" / "x.png", hr)
    lr = imresize(hr, 0.5)
    save_image(tmp_path / "lr" / "x.png", np.repeat(lr[..., None], 3, axis=2))  # 3 equal channels
    with_lr = evaluate_folder(tmp_path / "hr", "sr-x2", lr_dir=tmp_path / "lr")
    assert scores(with_lr.rows) == scores(evaluate_folder(tmp_path / "hr", "sr-x2").rows)


def test_gray_images_are_scored_on_their_intensities(smooth):
    gray = smooth(45, 50, channels=None, cycles=5)
    (row,) = evaluate_images({"g": gray}, "sr-x2", "bicubic").rows
    hr = to_uint8(gray[:44, :50])
    sr = imresize(make_lr(gray, 2), 2)
    assert sr.ndim == 2
    assert (row["psnr"], row["ssim"]) == pytest.approx(sr_metrics(sr, hr, 2), abs=1e-12)
    # Scored as RGB (on Y, which spans 219 of the 255 levels) it would gain up to
    # 20 log10(255/219) = 1.32 dB (a little less here: Y is rounded to integers).
    y_psnr, _ = sr_metrics(as_rgb(sr), as_rgb(hr), 2)
    assert 0.5 < y_psnr - row["psnr"] <= 20 * np.log10(255 / 219) + 0.01


def test_non_image_files_are_skipped_with_a_warning(hr_folder):
    (hr_folder / "README.txt").write_text("not an image")
    (hr_folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.warns(UserWarning) as record:
        result = evaluate_folder(hr_folder, "sr-x2")
    assert [r["image"] for r in result.rows] == ["a.png", "b.png", "c.bmp"]
    messages = sorted(str(w.message) for w in record)
    assert len(messages) == 2
    assert messages[0].startswith("skipping README.txt in the HR folder: not an image file")
    assert messages[1].startswith("skipping broken.png: could not read")
    assert [s["image"] for s in result.skipped] == ["broken.png"]
    assert "skipped 1 of 4 images: broken.png" in result.table()


def test_evaluate_folder_errors(tmp_path, hr_folder, smooth):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="holds no image files"):
        evaluate_folder(empty, "sr-x2")
    with pytest.raises(NotADirectoryError):
        evaluate_folder(tmp_path / "missing", "sr-x2")
    with pytest.raises(ValueError, match="2 or more"):
        evaluate_folder(hr_folder, "sr-x1")
    with pytest.raises(ValueError, match="'x2.5' is not a"):
        evaluate_folder(hr_folder, "sr-x2.5")
    with pytest.raises(ValueError, match="unknown task 'blur-3'"):
        evaluate_folder(hr_folder, "blur-3")
    with pytest.raises(ValueError, match="unknown method 'magic'"):
        evaluate_folder(hr_folder, "sr-x2", "magic")
    lr_dir = tmp_path / "lr"
    save_image(lr_dir / "a.png", smooth(26, 21))
    with pytest.raises(ValueError, match=r"no LR image .* \['b.png', 'c.bmp'\]"):
        evaluate_folder(hr_folder, "sr-x2", lr_dir=lr_dir)


def test_result_table_and_dict():
    result = EvaluationResult("bicubic", "sr-x3", [
        {"image": "a.png", "height": 30, "width": 45, "psnr": 31.234, "ssim": 0.91234,
         "seconds": 0.25},
        {"image": "b.png", "height": 12, "width": 9, "psnr": 28.0, "ssim": 0.8, "seconds": 1.5},
    ], seed=7)
    table = result.table()
    assert table.splitlines()[0].split()[-2:] == ["time", "(s)"]
    assert "a.png" in table and "30x45" in table and "31.23" in table and "0.9123" in table
    assert table.splitlines()[1].split()[-1] == "0.250"
    # the mean of the rows: PSNR, SSIM and time
    assert table.splitlines()[-1].split()[1:] == ["29.62", "0.8562", "0.875"]
    assert result.mean_seconds == pytest.approx(0.875)
    d = result.to_dict()
    assert d["mean_psnr"] == pytest.approx(29.617) and d["rows"][1]["image"] == "b.png"
    assert d["mean_seconds"] == pytest.approx(0.875) and d["rows"][1]["seconds"] == 1.5
    assert d["task"] == "sr-x3" and d["seed"] == 7
    assert json.loads(json.dumps(d)) == d


# --------------------------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------------------------


def test_cli_prints_the_table_and_writes_json(cli, hr_folder, tmp_path, capsys):
    out_json = tmp_path / "out" / "result.json"
    out_json.parent.mkdir()
    assert cli("--hr", hr_folder, "--scale", 3, "--json", out_json) == 0
    stdout = capsys.readouterr().out
    assert "method: bicubic, task: sr-x3" in stdout
    for name in ("a.png", "b.png", "c.bmp", "mean"):
        assert name in stdout
    saved = json.loads(out_json.read_text())
    assert set(saved) >= {"mean_psnr", "mean_ssim", "mean_seconds", "rows", "method", "task",
                          "seed"}
    assert saved["task"] == "sr-x3" and saved["method"] == "bicubic"
    assert saved["mean_psnr"] == pytest.approx(np.mean([r["psnr"] for r in saved["rows"]]))
    assert saved["mean_ssim"] == pytest.approx(np.mean([r["ssim"] for r in saved["rows"]]))
    for row in saved["rows"]:
        assert set(row) == {"image", "height", "width", "psnr", "ssim", "seconds"}
        assert row["seconds"] >= 0
        p, s = manual_bicubic(hr_folder / row["image"], 3)
        assert row["psnr"] == pytest.approx(p, abs=1e-9)
        assert row["ssim"] == pytest.approx(s, abs=1e-6)
    assert printed_mean(stdout) == (f"{saved['mean_psnr']:.2f}", f"{saved['mean_ssim']:.4f}")


def test_cli_task_option_equals_scale_option(cli, hr_folder, tmp_path):
    by_scale, by_task = tmp_path / "scale.json", tmp_path / "task.json"
    assert cli("--hr", hr_folder, "--scale", 3, "--json", by_scale) == 0
    assert cli("--hr", hr_folder, "--task", "sr-x3", "--json", by_task) == 0
    assert json_scores(by_task) == json_scores(by_scale)


def test_cli_with_given_lr_folder(cli, tmp_path, smooth, capsys):
    hr_dir, lr_dir = tmp_path / "hr", tmp_path / "lr"
    for name, (h, w) in {"bird": (40, 44), "face": (36, 52)}.items():
        hr = to_uint8(smooth(h, w, seed=len(name), cycles=5))
        save_image(hr_dir / f"{name}_HR.png", hr)
        save_image(lr_dir / f"{name}_LR.png", imresize(hr, 1 / 4))
    out_json = tmp_path / "r.json"
    assert cli("--hr", hr_dir, "--lr", lr_dir, "--scale", 4, "--json", out_json) == 0
    rows = json.loads(out_json.read_text())["rows"]
    assert [r["image"] for r in rows] == ["bird_HR.png", "face_HR.png"]
    for row in rows:
        p, _ = manual_bicubic(hr_dir / row["image"], 4, lr_dir / row["image"].replace("HR", "LR"))
        assert row["psnr"] == pytest.approx(p, abs=1e-9)
    assert "bird_HR.png" in capsys.readouterr().out


@pytest.mark.parametrize("method", SR_METHODS)
def test_cli_every_method(cli, hr_folder, tmp_path, capsys, method):
    out_json = tmp_path / f"{method}.json"
    assert cli("--hr", hr_folder, "--scale", 2, "--method", method, "--json", out_json) == 0
    saved = json.loads(out_json.read_text())
    assert saved["method"] == method and len(saved["rows"]) == 3
    assert saved["mean_psnr"] > 25
    assert f"method: {method}" in capsys.readouterr().out


def test_cli_none_scores_the_degraded_input(cli, hr_folder, tmp_path, capsys):
    out_json = tmp_path / "none.json"
    assert cli("--hr", hr_folder, "--task", "denoise-25", "--method", "none",
               "--json", out_json) == 0
    stdout = capsys.readouterr().out
    assert "method: none, task: denoise-25" in stdout
    saved = json.loads(out_json.read_text())
    sizes = {"a.png": (53, 43), "b.png": (47, 61), "c.bmp": (37, 41)}
    for row in saved["rows"]:
        assert (row["height"], row["width"]) == sizes[row["image"]]  # no modcrop at scale 1
        # Gaussian noise of sigma 25 on 0-255: PSNR = 20 log10(255 / 25) ~ 20.2 dB
        assert row["psnr"] == pytest.approx(20 * np.log10(255 / 25), abs=0.5), row
    assert saved["mean_psnr"] == pytest.approx(
        evaluate_folder(hr_folder, "denoise-25", "none").mean_psnr, abs=1e-12)
    # the degraded input is the default method of a restoration task
    first = json_scores(out_json)
    assert cli("--hr", hr_folder, "--task", "denoise-25", "--json", out_json) == 0
    assert json_scores(out_json) == first
    # ... and no method for super-resolution
    assert cli("--hr", hr_folder, "--scale", 2, "--method", "none") == 2
    assert "the method 'none' does not serve sr-x2" in capsys.readouterr().err


def test_cli_checkpoint_of_a_restoration_unet(cli, hr_folder, tmp_path, capsys):
    path = unet_checkpoint(tmp_path / "unet_denoise.safetensors", scale=1)
    out_json = tmp_path / "unet.json"
    assert cli("--checkpoint", path, "--task", "denoise-25", "--hr", hr_folder,
               "--json", out_json) == 0
    stdout = capsys.readouterr().out
    assert "method: unet_denoise.safetensors, task: denoise-25" in stdout
    model, _ = load_checkpoint(path)
    expected = evaluate_folder(hr_folder, "denoise-25", model_method(model))
    assert printed_mean(stdout) == (f"{expected.mean_psnr:.2f}", f"{expected.mean_ssim:.4f}")
    saved = json.loads(out_json.read_text())
    assert saved["mean_psnr"] == pytest.approx(expected.mean_psnr, abs=1e-12)
    assert [r["height"] for r in saved["rows"]] == [53, 47, 37]
    degraded = evaluate_folder(hr_folder, "denoise-25", "none")
    assert abs(saved["mean_psnr"] - degraded.mean_psnr) > 0.01, "the model ran"


def test_cli_checkpoint_of_an_sr_unet(cli, hr_folder, tmp_path, capsys):
    path = unet_checkpoint(tmp_path / "unet_x2.safetensors", scale=2)
    out_json = tmp_path / "unet.json"
    assert cli("--checkpoint", path, "--scale", 2, "--hr", hr_folder, "--json", out_json) == 0
    stdout = capsys.readouterr().out
    assert "method: unet_x2.safetensors, task: sr-x2" in stdout
    model, _ = load_checkpoint(path)
    expected = evaluate_folder(hr_folder, "sr-x2", model_method(model))
    assert printed_mean(stdout) == (f"{expected.mean_psnr:.2f}", f"{expected.mean_ssim:.4f}")
    saved = json.loads(out_json.read_text())
    assert saved["mean_psnr"] == pytest.approx(expected.mean_psnr, abs=1e-12)
    bicubic = evaluate_folder(hr_folder, "sr-x2", "bicubic")
    assert abs(saved["mean_psnr"] - bicubic.mean_psnr) > 0.01, "the model ran"
    # the scale is the model's: without --scale or --task the checkpoint implies it
    assert cli("--checkpoint", path, "--hr", hr_folder, "--json", out_json) == 0
    assert json.loads(out_json.read_text())["mean_psnr"] == saved["mean_psnr"]


@pytest.mark.parametrize(("scale", "args", "message"), [
    (1, ["--scale", "2"], "holds a model of scale 1; it cannot do sr-x2"),
    (2, ["--scale", "3"], "the options ask for sr-x3, but the model was trained for sr-x2; "
                          "give a task of its kind"),
    (2, ["--task", "denoise-25"], "the options ask for denoise-25, but the model was trained "
                                  "for sr-x2"),
    (2, ["--task", "denoise", "--sigma", "25"], "the options ask for denoise-25, but the model "
                                                "was trained for sr-x2"),
])
def test_cli_checkpoint_with_another_scale(cli, hr_folder, tmp_path, capsys, scale, args,
                                           message):
    path = unet_checkpoint(tmp_path / "unet.safetensors", scale=scale)
    assert cli("--checkpoint", path, "--hr", hr_folder, *args) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ") and message in captured.err
    assert "mean" not in captured.out


def test_cli_shipped_model(cli, hr_folder, tmp_path, capsys):
    out_json = tmp_path / "espcn.json"
    assert cli("--model", "espcn_x2", "--hr", hr_folder, "--json", out_json) == 0
    assert "method: espcn_x2 (shipped), task: sr-x2" in capsys.readouterr().out
    model, _ = load_pretrained("espcn_x2")
    expected = evaluate_folder(hr_folder, "sr-x2", model_method(model))
    assert json.loads(out_json.read_text())["mean_psnr"] == pytest.approx(expected.mean_psnr,
                                                                          abs=1e-12)
    assert cli("--model", "espcn_x2", "--scale", 3, "--hr", hr_folder) == 2
    assert "the options ask for sr-x3, but the model was trained for sr-x2" in \
        capsys.readouterr().err


def test_cli_gray_folder(cli, tmp_path, smooth, capsys):
    folder = tmp_path / "gray"
    save_image(folder / "g.png", smooth(45, 50, channels=None, cycles=5))
    out_json = tmp_path / "g.json"
    assert cli("--hr", folder, "--scale", 2, "--json", out_json) == 0
    row = json.loads(out_json.read_text())["rows"][0]
    assert (row["height"], row["width"]) == (44, 50)
    assert row["psnr"] == pytest.approx(manual_bicubic(folder / "g.png", 2)[0], abs=1e-9)


def test_cli_skips_readme_with_a_warning(cli, hr_folder, capsys):
    (hr_folder / "README.txt").write_text("about these images")
    assert cli("--hr", hr_folder, "--scale", 2) == 0
    captured = capsys.readouterr()
    assert "warning: skipping README.txt in the HR folder: not an image file" in captured.err
    assert "README" not in captured.out


def test_cli_empty_folder(cli, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert cli("--hr", tmp_path / "empty", "--scale", 2) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "holds no image files" in err


def test_cli_missing_folder(cli, tmp_path, capsys):
    assert cli("--hr", tmp_path / "nope", "--scale", 2) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_cli_mismatched_lr_size(cli, tmp_path, smooth, capsys):
    hr_dir, lr_dir = tmp_path / "hr", tmp_path / "lr"
    save_image(hr_dir / "pic_HR.png", smooth(40, 40))
    save_image(lr_dir / "pic_LR.png", smooth(13, 20))  # should be 20 x 20 at x2
    assert cli("--hr", hr_dir, "--lr", lr_dir, "--scale", 2) == 2
    err = capsys.readouterr().err
    assert "error: " in err and "pic_LR.png" in err and "pic_HR.png" in err
    assert "20x13" in err and "20x20" in err  # WxH it is, and WxH it needs


@pytest.mark.parametrize(("args", "message"), [
    (["--hr", "x", "--scale", "2.5"], "invalid int value: '2.5'"),
    (["--hr", "x", "--scale", "2", "--method", "magic"], "invalid choice: 'magic'"),
    (["--hr", "x", "--model", "espcn"], "invalid choice: 'espcn'"),
    (["--benchmark", "Set6", "--scale", "2"], "invalid choice: 'Set6'"),
])
def test_cli_argparse_errors(cli, capsys, args, message):
    with pytest.raises(SystemExit) as info:
        cli(*args)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(("args", "message"), [
    (["--hr", "x"], "give the task: --scale S for super-resolution, or --task KIND with its "
                    "option (--task denoise --sigma 25"),
    (["--scale", "2"], "give --hr DIR"),
    (["--hr", "x", "--benchmark", "Set5", "--scale", "2"], "either --hr or --benchmark"),
    (["--benchmark", "Set5", "--task", "denoise-25"], "is a super-resolution set"),
    (["--hr", "x", "--task", "blur-3"], "unknown task 'blur-3'"),
    (["--hr", "x", "--scale", "2", "--task", "sr-x3"], "different tasks: sr-x3 and sr-x2"),
    (["--hr", "x", "--scale", "2", "--task", "denoise-25"],
     "different tasks: denoise-25 and sr-x2"),
    (["--hr", "x", "--scale", "2", "--method", "nearest", "--model", "espcn_x2"],
     "give only one of --method, --model"),
])
def test_cli_option_errors(cli, capsys, args, message):
    assert cli(*args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err


@pytest.mark.parametrize(("options", "spec"), [
    (["--task", "denoise", "--sigma", "25"], "denoise-25"),
    (["--task", "denoise", "--sigma", "12.5"], "denoise-12.5"),
    (["--task", "poisson", "--peak", "30", "--sigma", "5"], "poisson-30:5"),
    (["--task", "deblur", "--kernel", "gaussian:2", "--noise", "0.01"], "deblur-gaussian:2,0.01"),
    (["--task", "deblur", "--kernel", "motion:9:30"], "deblur-motion:9:30"),
    (["--task", "inpaint", "--mask", "block:8"], "inpaint-block:8"),
    (["--task", "jpeg", "--quality", "10"], "jpeg-10"),
    (["--task", "sr", "--scale", "3"], "sr-x3"),
    (["--task", "denoise", "--sigma", "25", "--gray"], "denoise-25-gray"),
    (["--task", "denoise-25", "--gray"], "denoise-25-gray"),
    (["--scale", "2", "--gray"], "sr-x2-gray"),
])
def test_cli_task_options_equal_the_whole_spec(cli, hr_folder, tmp_path, capsys, options, spec):
    by_options, by_spec = tmp_path / "options.json", tmp_path / "spec.json"
    assert cli("--hr", hr_folder, *options, "--json", by_options) == 0
    assert f"task: {spec}, recipe" in capsys.readouterr().out
    assert cli("--hr", hr_folder, "--task", spec, "--json", by_spec) == 0
    saved = json_scores(by_options)
    assert saved["task"] == spec
    assert saved == json_scores(by_spec)
    assert scores(saved["rows"]) == scores(evaluate_folder(hr_folder, spec).to_dict()["rows"])


def test_cli_gray_scores_gray_targets(cli, hr_folder, tmp_path):
    out_json = tmp_path / "gray.json"
    assert cli("--hr", hr_folder, "--task", "jpeg", "--quality", "10", "--gray",
               "--json", out_json) == 0
    gray = json_scores(out_json)
    assert cli("--hr", hr_folder, "--task", "jpeg", "--quality", "10", "--json", out_json) == 0
    rgb = json_scores(out_json)
    # a.png and b.png are RGB: gray targets score differently; c.bmp is gray already
    assert [g["psnr"] == c["psnr"] for g, c in zip(gray["rows"], rgb["rows"], strict=True)] == \
        [False, False, True]


def test_cli_inpainting_with_biharmonic(cli, hr_folder, tmp_path, capsys):
    out_json = tmp_path / "biharmonic.json"
    assert cli("--hr", hr_folder, "--task", "inpaint", "--mask", "random:0.5", "--method",
               "biharmonic", "--json", out_json) == 0
    stdout = capsys.readouterr().out
    assert "method: biharmonic, task: inpaint-random:0.5" in stdout and "seed 0" in stdout
    restored = json_scores(out_json)
    assert scores(restored["rows"]) == scores(evaluate_folder(
        hr_folder, "inpaint-random:0.5", "biharmonic").to_dict()["rows"])
    none = evaluate_folder(hr_folder, "inpaint-random:0.5", "none")
    assert restored["mean_psnr"] > none.mean_psnr + 10


def test_cli_seed_reproduces_and_changes_the_result(cli, hr_folder, tmp_path, capsys):
    paths = {name: tmp_path / f"{name}.json" for name in ("seed3", "again", "seed4", "default")}
    for name, seed in (("seed3", 3), ("again", 3), ("seed4", 4)):
        assert cli("--hr", hr_folder, "--task", "denoise", "--sigma", "25", "--seed", seed,
                   "--json", paths[name]) == 0
    assert "seed 4" in capsys.readouterr().out
    assert cli("--hr", hr_folder, "--task", "denoise-25", "--json", paths["default"]) == 0
    saved = {name: json_scores(path) for name, path in paths.items()}
    assert saved["seed3"]["seed"] == 3 and saved["default"]["seed"] == 0
    assert saved["seed3"] == saved["again"]
    for name in ("seed4", "default"):
        for a, b in zip(saved["seed3"]["rows"], saved[name]["rows"], strict=True):
            assert a["psnr"] != b["psnr"]
    assert saved["seed4"]["mean_psnr"] == pytest.approx(
        evaluate_folder(hr_folder, "denoise-25", seed=4).mean_psnr, abs=1e-12)


def test_cli_checkpoint_at_another_strength_of_its_kind(cli, hr_folder, tmp_path, capsys):
    torch.manual_seed(1)
    model = get_model("backbone-unet", scale=1, pretrained=False, width=8)
    path = save_checkpoint(tmp_path / "denoiser.safetensors", model, {"task": "denoise-25-gray"})
    out_json = tmp_path / "d.json"
    # trained at sigma 25: scored at sigma 15, keeping its gray targets
    assert cli("--checkpoint", path, "--hr", hr_folder, "--task", "denoise", "--sigma", "15",
               "--json", out_json) == 0
    assert "task: denoise-15-gray" in capsys.readouterr().out
    expected = evaluate_folder(hr_folder, "denoise-15-gray", model_method(load_checkpoint(path)[0]))
    assert json_scores(out_json)["mean_psnr"] == pytest.approx(expected.mean_psnr, abs=1e-12)
    # without a task, the model's own
    assert cli("--checkpoint", path, "--hr", hr_folder, "--json", out_json) == 0
    assert json_scores(out_json)["task"] == "denoise-25-gray"
    # another kind is refused
    assert cli("--checkpoint", path, "--hr", hr_folder, "--task", "jpeg-10") == 2
    assert ("the options ask for jpeg-10, but the model was trained for denoise-25-gray"
            in capsys.readouterr().err)


@pytest.mark.parametrize(("args", "message"), [
    (["--task", "denoise", "--kernel", "gaussian:2"],
     "--kernel is an option of --task deblur, not of --task denoise"),
    (["--task", "jpeg", "--sigma", "25"], "--sigma is an option of --task denoise or poisson"),
    (["--task", "deblur"], "--task deblur needs --kernel, e.g. --task deblur --kernel gaussian"),
    (["--task", "denoise"], "--task denoise needs --sigma"),
    (["--task", "poisson", "--sigma", "5"], "--task poisson needs --peak"),
    (["--task", "inpaint", "--method", "biharmonic"], "--task inpaint needs --mask"),
    (["--task", "sr"], "--task sr needs --scale"),
    (["--sigma", "25"], "--sigma is an option of a restoration task; give its kind"),
    (["--task", "denoise-25", "--sigma", "15"],
     "--task denoise-25 already holds its parameters: give either a whole spec or --task KIND "
     "with options"),
    (["--task", "denoise", "--sigma", "25", "--method", "wiener"],
     "the method 'wiener' does not serve denoise-25; choose one of none, nlm, wavelet, tv, bm3d"),
    (["--task", "deblur", "--kernel", "gaussian:2", "--method", "nlm"],
     "the method 'nlm' does not serve deblur-gaussian:2; choose one of none, wiener"),
    (["--task", "deblur", "--kernel", "box:3"], "unknown kernel 'box:3'; write gaussian:SIGMA"),
    (["--task", "deblur", "--kernel", "gaussian:wide"], "its parameters must be numbers"),
    (["--task", "deblur", "--kernel", "gaussian:2", "--noise", "2"],
     r"noise is the sigma of the added noise in [0, 1] units"),
    (["--task", "inpaint", "--mask", "circle:3"], "unknown mask 'circle:3'; write random:"),
    (["--task", "inpaint", "--mask", "random:1.5"], "the share of missing pixels must be in"),
    (["--task", "inpaint", "--mask", "block:x"], "'x' is not a whole number"),
    (["--task", "jpeg", "--quality", "101"], "quality must be an integer from 1 to 100"),
    (["--task", "denoise", "--sigma", "300"], "sigma is on the 0-255 scale"),
])
def test_cli_task_option_errors(cli, hr_folder, capsys, args, message):
    assert cli("--hr", hr_folder, *args) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ") and message in captured.err
    assert "mean" not in captured.out


@pytest.mark.parametrize(("args", "message"), [
    (["--task", "deblur", "--kernel", "gaussian:2", "--noise", "-0.01"],
     "argument --noise: must be 0 or more, got -0.01"),
    (["--task", "deblur", "--kernel", "gaussian:2", "--noise", "some"],
     "argument --noise: invalid float value: 'some'"),
    (["--task", "denoise", "--sigma", "0"], "argument --sigma: must be greater than 0"),
    (["--task", "poisson", "--peak", "-30"], "argument --peak: must be greater than 0"),
    (["--task", "jpeg", "--quality", "ten"], "argument --quality: invalid int value: 'ten'"),
    (["--task", "denoise-25", "--seed", "-1"], "argument --seed: must be 0 or more, got -1"),
    (["--task", "denoise-25", "--seed", "1.5"], "argument --seed: invalid int value: '1.5'"),
    (["--task", "denoise-25", "--method", "bm4d"], "argument --method: invalid choice: 'bm4d'"),
])
def test_cli_bad_task_numbers_are_argparse_errors(cli, capsys, args, message):
    with pytest.raises(SystemExit) as info:
        cli("--hr", "x", *args)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_cli_every_classical_method_name_is_accepted(cli, hr_folder, tmp_path):
    # a small image and the fastest task of each method's kind: the names reach the methods
    folder = tmp_path / "one"
    save_image(folder / "a.png", make_smooth(24, 28, seed=1))
    for method, task in (("nlm", "denoise-25"), ("wavelet", "poisson-30"),
                         ("richardson-lucy", "deblur-gaussian:1,0.01")):
        out_json = tmp_path / f"{method}.json"
        assert cli("--hr", folder, "--task", task, "--method", method, "--json", out_json) == 0
        saved = json_scores(out_json)
        assert saved["method"] == method
        assert saved["mean_psnr"] > evaluate_folder(folder, task, "none").mean_psnr


def test_cli_benchmark(cli, monkeypatch, hr_folder, tmp_path, capsys):
    # fetch_benchmark is replaced by local files: the test never downloads anything.
    calls = []

    def fake_fetch(name, scale):
        calls.append((name, scale))
        images = sorted(hr_folder.iterdir())
        return images, [tmp_path / "LR" / p.name for p in images]

    monkeypatch.setattr(cli_module, "fetch_benchmark", fake_fetch)
    assert cli("--benchmark", "Set5", "--scale", 2) == 0
    assert calls == [("Set5", 2)]
    out = capsys.readouterr().out
    assert "Set5 x2: 3 HR images" in out and "a.png" in out and "--lr" in out

    def offline(name, scale):
        raise DataUnavailableError("could not download 'Set5/x2/HR/img_001.png'")

    monkeypatch.setattr(cli_module, "fetch_benchmark", offline)
    assert cli("--benchmark", "Set5", "--scale", 2) == 2
    assert "error: could not download" in capsys.readouterr().err


def test_module_entry_point(hr_folder, tmp_path):
    (hr_folder / "README.txt").write_text("skip me")
    out_json = tmp_path / "sub.json"
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run(
        [sys.executable, "-m", "course_utils", "evaluate", "--hr", str(hr_folder),
         "--scale", "2", "--json", str(out_json)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "warning: skipping README.txt" in done.stderr
    assert "mean" in done.stdout
    assert len(json.loads(out_json.read_text())["rows"]) == 3


def test_the_default_method_is_the_tasks_baseline():
    assert default_method("sr-x3") == "bicubic" and default_method("jpeg-10") == "none"
    images = {"a": make_smooth(36, 36, seed=4)}
    assert evaluate_images(images, "sr-x2").method == "bicubic"
    restored = evaluate_images(images, "jpeg-10")
    assert restored.method == "none"
    assert restored.mean_psnr == evaluate_images(images, "jpeg-10", "none").mean_psnr


# --------------------------------------------------------------------------------------------
# Restoration: methods of each task, seeds, times
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", ["denoise-25", "denoise-0:55", "poisson-30:5",
                                  "deblur-gaussian:2,0.01", "inpaint-block:8", "jpeg-10-gray"])
def test_none_scores_the_degraded_input(spec):
    images = {"a": make_smooth(36, 40, seed=1), "b": make_smooth(30, 33, channels=None, seed=2)}
    result = evaluate_images(images, spec, "none", seed=4)
    task = get_task(spec)
    for i, (name, clean) in enumerate(images.items()):
        target = task.target(clean)
        degraded = task.degrade(target, np.random.default_rng((4, i)))
        (row,) = [r for r in result.rows if r["image"] == name]
        assert (row["psnr"], row["ssim"]) == tuple(task.score(degraded, target).values())
        assert row["seconds"] >= 0


@pytest.mark.parametrize(("spec", "names"), [
    ("sr-x2", ["bicubic", "nearest", "bilinear", "lanczos", "bicubic-pil", "bicubic-torch"]),
    ("denoise-25", ["none", "nlm", "wavelet", "tv", "bm3d"]),
    ("poisson-30", ["none", "nlm", "wavelet", "tv", "bm3d"]),
    ("deblur-gaussian:2", ["none", "wiener", "unsupervised-wiener", "richardson-lucy"]),
    ("inpaint-text-gray", ["none", "biharmonic"]),
    ("jpeg-10", ["none"]),
])
def test_method_names_of_each_task(spec, names):
    assert method_names(spec) == names
    assert method_names(get_task(spec)) == names
    assert set(names) <= set(method_names())
    for name in names:
        assert resolve_method(name, spec)[0] == name


def test_every_method_name_is_known():
    assert method_names() == [*METHODS, "nlm", "wavelet", "tv", "bm3d", "wiener",
                              "unsupervised-wiener", "richardson-lucy", "biharmonic"]


@pytest.mark.parametrize(("method", "spec", "choices"), [
    ("wiener", "denoise-25", "none, nlm, wavelet, tv, bm3d"),
    ("nlm", "deblur-gaussian:2", "none, wiener, unsupervised-wiener, richardson-lucy"),
    ("biharmonic", "jpeg-10", "none"),
    ("bicubic", "denoise-25", "none, nlm, wavelet, tv, bm3d"),
    ("tv", "sr-x3", "bicubic, nearest"),
])
def test_resolve_method_refuses_a_method_that_does_not_serve_the_task(method, spec, choices):
    with pytest.raises(ValueError, match=f"the method '{method}' does not serve {spec}; choose "
                                         f"one of {choices}"):
        resolve_method(method, spec)
    with pytest.raises(ValueError, match=f"does not serve {spec}"):  # before any image is read
        evaluate_folder("no-such-folder", spec, method)


def test_a_seed_reproduces_the_rows_and_another_changes_them():
    images = {"a": make_smooth(36, 40, seed=1), "b": make_smooth(33, 30, seed=2)}
    for spec in ("denoise-25", "inpaint-random:0.5", "deblur-gaussian:1.5,0.02"):
        first = evaluate_images(images, spec, seed=1)
        again = evaluate_images(images, spec, seed=1)
        other = evaluate_images(images, spec, seed=2)
        assert first.seed == 1 and other.seed == 2
        assert scores(first.rows) == scores(again.rows)
        for a, b in zip(first.rows, other.rows, strict=True):
            assert a["psnr"] != b["psnr"], spec
    # a deterministic task ignores the seed
    assert scores(evaluate_images(images, "jpeg-10", seed=1).rows) == \
        scores(evaluate_images(images, "jpeg-10", seed=2).rows)


def test_evaluate_folder_passes_the_seed(tmp_path):
    images = {"a.png": to_uint8(make_smooth(36, 40, seed=1)),
              "b.png": to_uint8(make_smooth(33, 30, seed=2))}
    for name, image in images.items():
        save_image(tmp_path / name, image)
    for seed in (0, 5):
        from_folder = evaluate_folder(tmp_path, "denoise-25", seed=seed)
        assert from_folder.seed == seed
        assert scores(from_folder.rows) == scores(evaluate_images(images, "denoise-25",
                                                                  seed=seed).rows)
    assert scores(evaluate_folder(tmp_path, "denoise-25").rows) == \
        scores(evaluate_images(images, "denoise-25", seed=0).rows)  # the default seed is 0


def test_a_block_larger_than_an_image_is_skipped_with_a_warning():
    images = {"small": make_smooth(24, 40, seed=1), "large": make_smooth(48, 50, seed=2)}
    with pytest.warns(UserWarning, match="skipping small: a 32-pixel block does not fit in a "
                                         "40x24 image"):
        result = evaluate_images(images, "inpaint-block:32")
    assert [r["image"] for r in result.rows] == ["large"]
    assert [s["image"] for s in result.skipped] == ["small"]
    assert "does not fit" in result.skipped[0]["reason"]
    assert "skipped 1 of 2 images: small" in result.table()
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="none of the 1 images could "
                                                                     "be scored"):
        evaluate_images({"small": images["small"]}, "inpaint-block:32")


def test_a_classical_method_restores_better_than_none():
    images = {"a": make_smooth(40, 48, seed=1), "b": make_smooth(40, 48, channels=None, seed=2)}
    none = evaluate_images(images, "inpaint-random:0.5", "none")
    biharmonic = evaluate_images(images, "inpaint-random:0.5", "biharmonic")
    assert biharmonic.method == "biharmonic"
    for n, b in zip(none.rows, biharmonic.rows, strict=True):
        assert b["psnr"] > n["psnr"] + 10  # smooth images fill in well
        assert b["seconds"] >= 0


def test_a_given_input_carries_no_mask_for_biharmonic(smooth):
    hr = {"a": smooth(32, 32)}
    lr = {"a": smooth(32, 32) * (np.arange(32) % 2 == 0)[:, None, None]}
    with pytest.raises(ValueError, match=r"biharmonic inpainting needs the mask .* \(leave out "
                                         "--lr"):
        evaluate_images(hr, "inpaint-random:0.5", "biharmonic", lr_images=lr)
    # the other methods score a given input
    assert evaluate_images(hr, "inpaint-random:0.5", "none", lr_images=lr).rows


# --------------------------------------------------------------------------------------------
# Memory: the folder's 8-bit path gives exactly the float path's scores
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["bicubic", "model"])
def test_folder_read_as_8_bits_scores_exactly_as_float_images(tmp_path, method):
    # evaluate_folder reads the stored uint8 pixels and the model returns its 8-bit output;
    # the same images as float64, with the model's float output, must score identically.
    rng = np.random.default_rng(5)
    photo = to_uint8(make_smooth(300, 410) + rng.normal(0, 0.03, (300, 410, 3)))
    save_image(tmp_path / "rgb.png", photo)
    save_image(tmp_path / "gray.png", photo[..., 1])
    torch.manual_seed(0)
    model = get_model("espcn", scale=3)
    if method == "model":
        run = model_method(model, tile=40)

        def float_output(lr, scale):
            return reconstruct(model, lr, scale, tile=40)
        float_output.__name__ = run.__name__
    else:
        run = float_output = "bicubic"
    got = evaluate_folder(tmp_path, "sr-x3", run)
    images = {p.name: load_image(p) for p in sorted(tmp_path.iterdir())}
    assert all(im.dtype == np.float64 for im in images.values())
    want = evaluate_images(images, "sr-x3", float_output)
    assert scores(got.rows) == scores(want.rows) and len(got.rows) == 2


def test_load_image_as_stored_integers_is_the_float_image_exactly(tmp_path):
    rng = np.random.default_rng(2)
    rgba = rng.integers(0, 256, (9, 7, 4), dtype=np.uint8)
    rgba[..., 3] = 255  # opaque: the alpha channel is dropped
    files = {"rgb.png": rgba[..., :3], "gray.png": rgba[..., 0], "rgba.png": rgba,
             "bits.png": rgba[..., 0] > 127,
             "deep.tif": rng.integers(0, 65536, (9, 7), dtype=np.uint16)}
    for name, pixels in files.items():
        Image.fromarray(pixels).save(tmp_path / name)
        stored = load_image(tmp_path / name, as_float=False)
        assert stored.dtype in (np.uint8, np.uint16), name
        assert np.array_equal(to_float(stored), load_image(tmp_path / name)), name
