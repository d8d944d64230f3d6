"""Tests of course_utils.experiments.crossdomain (unit 05's arms and data), the experiment
runner on a target domain and the fine-tuning tools it uses, on tiny hand-made domains:
96-pixel crops of skimage's camera, 2 steps of 2 patches."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from skimage.data import camera
from torch import nn

from course_utils.data.pairs import PairedPatches
from course_utils.degrade import make_lr
from course_utils.evaluation.evaluate import EvaluationResult
from course_utils.experiments.crossdomain import (
    cross_domain_arms,
    data_efficiency,
    joint_arms,
    load_domain_data,
    pretrain_joint,
)
from course_utils.experiments.runner import ArmResult, ExperimentData, Results, run_arms, summarize
from course_utils.models import get_model
from course_utils.models.backbones import backbone_stages
from course_utils.models.encoder_decoder import FeatureSubPixelSR
from course_utils.models.freeze import train_last_layers
from course_utils.tasks import SuperResolution
from course_utils.training.finetune import L2SPLoss
from course_utils.training.loop import History
from course_utils.zoo.shipped import load_pretrained

SCALE = 3
TASK = SuperResolution(SCALE)
ARM_NAMES = ["scratch", "fine-tune all", "fine-tune last layer", "L2-SP",
             "self-supervised (ZSSR-style)"]


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """One torch thread: these tiny models run 10-20x slower when two threads compete with
    another process for the CPU (building an EfficientNet encoder: 0.08 s or 1.8 s)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def crops(n, side=96, start=0):
    """``n`` gray float crops of the camera image, along its diagonal."""
    image = camera() / 255.0
    return {f"crop {i}": image[(start + i) * side // 2:(start + i) * side // 2 + side,
                               (start + i) * side // 2:(start + i) * side // 2 + side]
            for i in range(n)}


@pytest.fixture
def data():
    """5 training crops, 1 validation crop, 1 held-out crop; 8-pixel LR patches, x3."""
    return ExperimentData("camera", TASK, train=crops(5), val=crops(1, start=6),
                          heldout=crops(1, start=8), patch_lr=8, batch=2, steps_per_epoch=2)


def fake_result(arm, psnr, n_images=None, seed=0):
    scores = EvaluationResult(arm, TASK.name, rows=[{"psnr": psnr, "ssim": psnr / 100}])
    return ArmResult(arm, seed, History(), scores, seconds=1.0, trainable=10,
                     model=nn.Identity(), n_images=n_images)


def trainable(model):
    return {name for name, p in model.named_parameters() if p.requires_grad}


def assert_same_patches(dataset, expected):
    """Every sample of ``dataset`` (a loader's) equals that of the ``expected`` dataset."""
    assert len(dataset) == len(expected)
    for i in range(len(expected)):
        for a, b in zip(dataset[i], expected[i], strict=True):
            torch.testing.assert_close(a, b, rtol=0, atol=0)


# --------------------------------------------------------------------------------------------
# ExperimentData of a target domain
# --------------------------------------------------------------------------------------------


def test_choose(data):
    assert data.choose(None, 0) == list(data.train)
    two = data.choose(2, seed=0)
    assert two == data.choose(2, seed=0) and len(set(two)) == 2
    assert two == [n for n in data.train if n in two], "in the order of the training split"
    assert any(data.choose(2, seed=s) != two for s in range(1, 10))
    assert data.choose(5, seed=3) == list(data.train)
    for bad in (0, 6):
        with pytest.raises(ValueError, match="n_images must be 1 to 5 \\(the camera training "
                                             f"images\\), got {bad}"):
            data.choose(bad, seed=0)


@pytest.mark.parametrize("mode, channels", [("y", 1), ("rgb", 3)])
def test_paired_loader(data, mode, channels):
    batches = list(data.loader(data.choose(2, 0), seed=0, mode=mode))
    assert len(batches) == data.steps_per_epoch
    lr, hr = batches[0]
    assert lr.shape == (2, channels, 8, 8) and hr.shape == (2, channels, 24, 24)


def test_self_supervised_data_comes_from_lr_images(data):
    names = data.choose(2, 0)
    lrs = [make_lr(data.train[n], SCALE) for n in names] + [make_lr(data.heldout["crop 0"],
                                                                     SCALE)]
    assert [im.shape for im in lrs] == [(32, 32)] * 3
    for mode in ("y", "rgb"):
        loader = data.loader(names, seed=0, data="self-supervised", mode=mode)
        # the LR images of the training and held-out images are the "clean" images
        assert_same_patches(loader.dataset, PairedPatches(lrs, TASK, patch_size=24, mode=mode,
                                                          samples_per_epoch=4, seed=0))
    lr, hr = next(iter(data.loader(names, seed=0, data="self-supervised")))
    assert lr.shape == (2, 1, 8, 8) and hr.shape == (2, 1, 24, 24)
    paired = next(iter(data.loader(names, seed=0)))
    assert not torch.equal(paired[1], hr)


def test_loader_and_val_pairs_reject_unknown_data(data):
    with pytest.raises(ValueError, match="data must be one of"):
        data.loader(data.choose(2, 0), seed=0, data="unpaired")
    with pytest.raises(ValueError, match="data must be one of"):
        data.val_pairs("self_supervised")


def test_self_supervised_drops_images_smaller_than_a_patch():
    big, small = crops(1)["crop 0"], crops(1, side=60)["crop 0"]
    domain = ExperimentData("camera", TASK, train={"big": big, "small": small}, val={},
                            heldout={}, patch_lr=8, batch=2, steps_per_epoch=1)
    # 96 -> LR 32 holds a 24-pixel "HR" patch; 60 -> LR 20 does not
    loader = domain.loader(list(domain.train), seed=0, data="self-supervised")
    assert_same_patches(loader.dataset, PairedPatches([make_lr(big, SCALE)], TASK, patch_size=24,
                                                      samples_per_epoch=2, seed=0))
    paired = domain.loader(list(domain.train), seed=0)
    assert_same_patches(paired.dataset, PairedPatches([big, small], TASK, patch_size=24,
                                                      samples_per_epoch=2, seed=0))


@pytest.mark.parametrize("mode, channels", [("y", 1), ("rgb", 3)])
def test_val_pairs(data, mode, channels):
    (lr, hr), = data.val_pairs(mode=mode)
    assert hr.shape == (1, channels, 96, 96) and lr.shape == (1, channels, 32, 32)
    (lr, hr), = data.val_pairs("self-supervised", mode=mode)
    # the LR image (96 / 3 = 32) modcropped to 30 is the target, not the 96-pixel HR image
    assert hr.shape == (1, channels, 30, 30) and lr.shape == (1, channels, 10, 10)


def test_load_domain_data():
    loaded = load_domain_data("satellite", SCALE, train_limit=2, heldout_limit=1, patch_lr=8,
                              batch=2)
    assert (len(loaded.train), len(loaded.heldout)) == (2, 1) and len(loaded.val) >= 1
    assert (loaded.patch_lr, loaded.batch, loaded.steps_per_epoch) == (8, 2, 50)
    assert loaded.name == "satellite" and loaded.task == TASK
    assert not set(loaded.train) & (set(loaded.val) | set(loaded.heldout))


# --------------------------------------------------------------------------------------------
# Arms
# --------------------------------------------------------------------------------------------


def test_cross_domain_arms_build_what_they_say():
    arms = cross_domain_arms(scale=SCALE)
    assert [a.name for a in arms] == ARM_NAMES
    assert all(a.mode == "y" for a in arms)
    assert [a.data for a in arms] == ["paired"] * 4 + ["self-supervised"]
    source = load_pretrained(f"espcn_x{SCALE}")[0].state_dict()
    for arm in arms:
        model = arm.build()
        same = all(torch.equal(v, source[k]) for k, v in model.state_dict().items())
        assert same == (arm.name != "scratch"), arm.name
    last = arms[2].build()
    assert trainable(last) == {"conv3.weight", "conv3.bias"}
    two = cross_domain_arms(scale=SCALE, last_layers=2)[2]
    assert two.name == "fine-tune last 2 layers"
    assert trainable(two.build()) == {"conv2.weight", "conv2.bias", "conv3.weight", "conv3.bias"}
    assert arms[0].lr == 3e-3 and all(a.lr == 1e-3 for a in arms[1:])


def test_l2sp_arm_loss_is_bound_to_its_model():
    arm = cross_domain_arms(scale=SCALE, l2sp_alpha=0.5)[3]
    model = arm.build()
    loss = arm.make_loss(model)
    assert isinstance(loss, L2SPLoss) and loss.model is model and loss.alpha == 0.5
    x = torch.rand(1, 1, 6, 6)
    assert loss(x, x).item() == 0  # at the source weights the penalty is 0
    with torch.no_grad():
        model.conv3.bias.add_(0.1)
    expected = 0.5 / 2 * 0.1**2 * model.conv3.bias.numel()
    assert loss(x, x).item() == pytest.approx(expected, rel=1e-4)


def test_run_arms_on_a_domain(data):
    arms = [a for a in cross_domain_arms(scale=SCALE) if a.name in ("scratch", "L2-SP")]
    results = run_arms(arms, data, epochs=1, n_images=2, seeds=(0, 1), progress=False)
    assert [(r.seed, r.arm) for r in results] == [(0, "scratch"), (0, "L2-SP"),
                                                 (1, "scratch"), (1, "L2-SP")]
    assert all(r.n_images == 2 and np.isfinite(r.heldout.mean_psnr) for r in results)
    assert all(len(r.history.val_psnr) == 1 for r in results)
    assert [row["image"] for row in results[0].heldout.rows] == ["crop 0"]
    # the source model fine-tuned for 2 steps is far better than a random one
    assert results[1].heldout.mean_psnr > results[0].heldout.mean_psnr + 5


def test_data_efficiency_and_rows(data):
    arms = cross_domain_arms(scale=SCALE)[:1]
    results = data_efficiency(arms, data, sizes=(1, None), epochs=1, seeds=(0, 1))
    assert isinstance(results, Results)
    assert [(r.n_images, r.seed) for r in results] == [(1, 0), (1, 1), (5, 0), (5, 1)]
    assert results.runs("scratch", n_images=1) == results[:2]
    assert results.model("scratch", seed=1, n_images=5) is results[3].model
    rows = summarize(results, by_images=True)
    assert [(row["arm"], row["images"], row["seeds"]) for row in rows] == [
        ("scratch", 1, 2), ("scratch", 5, 2)]


def test_summarize_by_images():
    results = [fake_result("a", 20.0, 2), fake_result("a", 22.0, 2, seed=1),
               fake_result("b", 30.0, 2), fake_result("a", 27.0, 4),
               fake_result("a", 27.0, 2, seed=2)]
    rows = summarize(results, by_images=True)
    assert [(r["arm"], r["images"], r["seeds"]) for r in rows] == [("a", 2, 3), ("b", 2, 1),
                                                                    ("a", 4, 1)]
    assert rows[0]["PSNR (dB)"] == pytest.approx(23.0)
    assert rows[0]["± PSNR"] == pytest.approx(np.std([20, 22, 27], ddof=1))
    assert rows[1]["± PSNR"] == 0.0 and rows[2]["PSNR (dB)"] == 27.0
    assert [(r["arm"], r["seeds"]) for r in summarize(results)] == [("a", 4), ("b", 1)]


def test_summarize_with_several_baselines():
    bicubic = EvaluationResult("bicubic", TASK.name, rows=[{"psnr": 20.0, "ssim": 0.5}])
    zero_shot = EvaluationResult("source, zero-shot", TASK.name, rows=[{"psnr": 22.0, "ssim": 0.6}])
    results = [fake_result("tuned", 25.0), fake_result("tuned", 27.0, seed=1)]
    rows = summarize(results, baseline=[bicubic, zero_shot])
    assert [r["arm"] for r in rows] == ["bicubic", "source, zero-shot", "tuned"]
    assert [r["gain (dB)"] for r in rows] == pytest.approx([0.0, 2.0, 6.0])
    assert rows[1]["seeds"] == "-" and rows[2]["seeds"] == 2
    assert [r["arm"] for r in summarize(results, baseline=zero_shot)] == ["source, zero-shot",
                                                                          "tuned"]


# --------------------------------------------------------------------------------------------
# train_last_layers
# --------------------------------------------------------------------------------------------


def test_train_last_layers_on_fsrcnn():
    model = train_last_layers(get_model("fsrcnn", scale=SCALE), 1)
    assert trainable(model) == {"deconv.weight", "deconv.bias"}
    model = train_last_layers(get_model("fsrcnn", scale=SCALE), 2)
    body = model.body
    assert isinstance(body[-2], nn.Conv2d) and isinstance(body[-1], nn.PReLU)
    assert all(p.requires_grad for p in [*body[-2].parameters(), *body[-1].parameters()])
    assert not any(p.requires_grad for p in body[-3].parameters()), "the PReLU before stays"
    assert trainable(model) == {"body.12.weight", "body.12.bias", "body.13.weight",
                                "deconv.weight", "deconv.bias"}
    for bad in (0, 9):
        with pytest.raises(ValueError, match=f"layers must be 1 to 8 \\(the model's weighted "
                                             f"layers\\), got {bad}"):
            train_last_layers(get_model("fsrcnn", scale=SCALE), bad)


def test_train_last_layers_can_unfreeze_a_frozen_model():
    model = train_last_layers(get_model("espcn", scale=SCALE), 1)
    assert trainable(train_last_layers(model, 3)) == trainable(get_model("espcn", scale=SCALE))


# --------------------------------------------------------------------------------------------
# The joint design
# --------------------------------------------------------------------------------------------


def test_feature_subpixel_sr_freezes_the_stages_it_never_runs():
    model = FeatureSubPixelSR(scale=SCALE, stages=2)
    stages = backbone_stages(model.encoder)
    assert all(p.requires_grad for s in stages[:2] for p in s.parameters())
    assert not any(p.requires_grad for s in stages[2:] for p in s.parameters())


def test_joint_arms():
    (only,) = joint_arms(SCALE, None)
    assert only.name == "joint, ImageNet only" and only.mode == "rgb"
    groups = only.optimizer(only.build()).param_groups
    assert sorted(g["lr"] for g in groups) == pytest.approx([1e-4, 1e-3])

    source = get_model("feature-subpixel-sr", scale=SCALE)
    with torch.no_grad():
        source.generator[2].bias += 0.25
        source.body.weight *= -1
    state = {k: v.clone() for k, v in source.state_dict().items()}
    arms = joint_arms(SCALE, source)
    assert [a.name for a in arms] == ["joint, ImageNet only", "joint, source-pretrained"]
    copy = arms[1].build()
    assert copy is not source, "each seed starts from a copy"
    loaded = copy.state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in state.items())
    assert not torch.equal(arms[0].build().state_dict()["generator.2.bias"],
                           state["generator.2.bias"])


def test_pretrain_joint_smoke():
    model = pretrain_joint(SCALE, steps=2, epochs=2, batch=2, patch_lr=8, progress=False)
    assert isinstance(model, FeatureSubPixelSR) and model.config["name"] == "feature-subpixel-sr"
    assert model.scale == SCALE
    assert model.generator[2].weight.abs().sum() > 0, "the zero-initialised layer trained"
    with pytest.raises(ValueError, match="steps \\(1\\) must be at least epochs \\(2\\)"):
        pretrain_joint(SCALE, steps=1, epochs=2)


def test_crossdomain_benchmark_prints_a_table(tmp_path):
    root = Path(__file__).resolve().parent.parent
    out = tmp_path / "crossdomain.json"
    done = subprocess.run(
        [sys.executable, str(root / "benchmarks" / "crossdomain.py"), "--domains", "satellite",
         "--seeds", "0", "--epochs", "1", "--steps", "2", "--batch", "2", "--patch", "8",
         "--threads", "1", "--json", str(out)],
        capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "| fine-tune last layer |" in done.stdout and "satellite: 16 training" in done.stdout
    (report,) = json.loads(out.read_text())
    arms = [row["arm"] for row in report["rows"]]
    assert arms[:2] == ["bicubic", "source zero-shot"] and len(arms) == 7
    assert report["peak_mib"] > 100 and all(np.isfinite(r["PSNR (dB)"]) for r in report["rows"])
