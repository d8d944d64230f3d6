"""Unit 07's studies of an autoencoder (course_utils.experiments.autoencoder) and the pieces
they add: a sigmoid output, BCE, an L1 penalty on the code, last-epoch arms, no augmentation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from conftest import make_smooth
from course_utils.experiments import (
    ExperimentData,
    capacity_arms,
    learning_rate_arms,
    loss_arms,
    optimizer_arms,
    overfitting_arms,
    run_arms,
    run_batch_sizes,
    run_overfitting,
    tiny_data,
)
from course_utils.models import count_parameters, get_model
from course_utils.training.losses import LOSSES, CodeL1Loss

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def data() -> ExperimentData:
    photos = {f"p{i}": make_smooth(48, 64, seed=i) for i in range(2)}
    return ExperimentData("smooth", "compress-0.0067", photos,
                          {"v": make_smooth(32, 32, seed=5)}, {"h": make_smooth(32, 32, seed=6)},
                          patch_lr=16, batch=4, steps_per_epoch=2)


def test_a_sigmoid_autoencoder_outputs_probabilities_for_bce():
    ae = get_model("autoencoder", channels=1, code_channels=4, levels=2, sigmoid=True)
    with torch.no_grad():
        out = ae(10 * torch.randn(2, 1, 16, 16))
    assert 0 < float(out.min()) and float(out.max()) < 1
    target = torch.rand(2, 1, 16, 16)
    assert float(LOSSES["bce"](out, target)) == pytest.approx(float(
        -(target * out.log() + (1 - target) * (1 - out).log()).mean()), rel=1e-5)
    linear = get_model("autoencoder", channels=1, code_channels=4, levels=2)
    with pytest.raises(RuntimeError):  # outputs outside [0, 1] are no probabilities
        LOSSES["bce"](linear(torch.randn(1, 1, 16, 16)) * 10 - 5, target[:1])


def test_the_code_penalty_adds_beta_times_the_mean_absolute_code():
    ae = get_model("autoencoder", channels=1, code_channels=4, levels=2)
    loss = CodeL1Loss(ae, beta=0.5)
    x = torch.rand(2, 1, 16, 16)
    out = ae(x)
    z = ae.encoder(x)
    expected = F.mse_loss(out, x) + 0.5 * z.abs().mean()
    assert float(loss(out, x).detach()) == pytest.approx(float(expected.detach()),
                                                rel=1e-5)
    with pytest.raises(ValueError, match="encoder"):
        CodeL1Loss(torch.nn.Conv2d(1, 1, 3))
    with pytest.raises(ValueError, match="beta"):
        CodeL1Loss(ae, beta=-1)
    with pytest.raises(RuntimeError, match="call the model"):
        CodeL1Loss(get_model("autoencoder", channels=1))(x, x)


def test_the_study_arms_change_one_thing_each():
    names = [a.name for a in optimizer_arms(sgd_lr=0.1)]
    assert names == ["SGD, lr 0.1", "SGD + momentum 0.9, lr 0.1", "Adam, lr 0.001"]
    sgd, momentum, adam = optimizer_arms(sgd_lr=0.1)
    model = sgd.build()
    assert isinstance(sgd.optimizer(model), torch.optim.SGD)
    assert momentum.optimizer(model).param_groups[0]["momentum"] == 0.9
    assert adam.optimizer is None and adam.lr == 1e-3
    assert [a.lr for a in learning_rate_arms((1e-4, 1e-2))] == [1e-4, 1e-2]
    losses = {a.name: a for a in loss_arms()}
    assert isinstance(losses["binary cross-entropy"].build().decoder[-1], torch.nn.Sigmoid)
    assert not isinstance(losses["MSE"].build().decoder[-1], torch.nn.Sigmoid)
    sizes = [count_parameters(a.build()) for a in capacity_arms((8, 16, 32))]
    assert sizes == sorted(sizes) and len(set(sizes)) == 3
    codes = {a.build().encoder[-1].out_channels for a in capacity_arms((8, 32))}
    assert codes == {16}, "capacity changes the width, not the code"


def test_a_last_epoch_arm_keeps_its_last_weights_not_its_best(data):
    first, best = overfitting_arms()[:2]
    assert (first.keep_best, best.keep_best) == (False, True)
    results = run_arms([first, best], data, epochs=3, progress=False)
    last, kept = results
    assert last.history.val_psnr == kept.history.val_psnr  # same seed, same patches
    chosen = int(np.argmax(kept.history.val_psnr))
    assert kept.history.best_epoch == chosen
    if chosen != 2:
        assert not all(torch.equal(p, q) for p, q in zip(last.model.parameters(),
                                                         kept.model.parameters(), strict=True))


def test_tiny_data_is_a_few_fixed_crops_without_augmentation(data):
    tiny = tiny_data(data, crops=3, side=16, steps_per_epoch=5)
    assert len(tiny.train) == 3 and not tiny.augment
    assert all(image.shape[:2] == (16, 16) for image in tiny.train.values())
    assert tiny.val is data.val and tiny.heldout is data.heldout
    batches = [b for _ in range(2) for b in tiny.loader(list(tiny.train), seed=0, mode="rgb")]
    crops = {tuple(np.round(t.numpy(), 4).ravel()[:8]) for b in batches for t in b[0]}
    assert len(crops) <= 3, "without augmentation a crop of the patch size is one patch"
    augmented = tiny_data(data, 3, 16, 5)
    augmented.augment = True
    seen = {tuple(np.round(t.numpy(), 4).ravel()[:8]) for _ in range(4)
            for b in augmented.loader(list(augmented.train), seed=0, mode="rgb") for t in b[0]}
    assert len(seen) > 3
    with pytest.raises(ValueError, match="smaller than side"):
        tiny_data(data, 1, 100, 5)


def test_run_overfitting_and_run_batch_sizes_train_every_arm(data):
    tiny = tiny_data(data, crops=2, side=16, steps_per_epoch=2)
    results = run_overfitting(tiny, epochs=1, progress=False, weight_decay=1e-3, beta=0.1)
    assert [r.arm for r in results] == [a.name for a in overfitting_arms(weight_decay=1e-3,
                                                                         beta=0.1)] + [
        "augmentation"]
    assert all(np.isfinite(r.heldout.mean_psnr) for r in results)
    sized = run_batch_sizes(data, [2, 8], epochs=1, samples_per_epoch=8, progress=False)
    assert [r.arm for r in sized] == ["batch 2", "batch 8"]
    assert [len(r.history.train_loss) for r in sized] == [1, 1]
    with pytest.raises(ValueError, match="batch"):
        run_batch_sizes(data, [16], epochs=1, samples_per_epoch=8, progress=False)


def test_the_autoencoder_benchmark_prints_every_study(tmp_path):
    out = tmp_path / "ae.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "autoencoder_study.py"), "--seeds", "0",
         "--photos", "1", "--epochs", "1", "--steps", "2", "--batch", "4",
         "--heldout-side", "48", "--batches", "2", "4", "--tiny-epochs", "2", "--threads", "1",
         "--json", str(out)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    for study in ("optimiser", "learning rate (Adam)", "loss", "batch size", "overfitting"):
        assert study in result and study in done.stdout
    assert {r["arm"] for r in result["overfitting"]} >= {"no remedy (last epoch)",
                                                         "early stopping", "augmentation"}
    assert [r["epoch"] for r in result["overfitting curve"]] == [1, 2]
    assert "each remedy minus no remedy" in done.stdout


def test_bce_is_computed_in_float32_even_under_mixed_precision():
    out = torch.rand(2, 1, 8, 8).clamp(0.01, 0.99)
    target = torch.rand(2, 1, 8, 8)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = LOSSES["bce"](out.bfloat16(), target)
    assert loss.dtype == torch.float32
    assert float(loss) == pytest.approx(float(F.binary_cross_entropy(out.bfloat16().float(),
                                                                     target)), rel=1e-6)
