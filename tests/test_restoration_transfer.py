"""Tests of unit 06's transfer pieces: the fusion and feature restorers
(course_utils.models.fusion), Noise2Self (course_utils.training.noise2self), the noisy-only and
multi-task datasets, fit's task batches and keep_best, and the experiment
(course_utils.experiments.restoration)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import make_smooth
from course_utils.data.pairs import MultiTaskPatches, NoisyPatches, PairedPatches
from course_utils.evaluation.evaluate import evaluate_images, model_method
from course_utils.experiments.restoration import (
    fusion_arms,
    learned_alphas,
    medical_arms,
    multitask_table,
    noise2self_arm,
    restoration_arms,
    run_multitask,
)
from course_utils.experiments.runner import ExperimentData, run_arms
from course_utils.models import get_model, load_checkpoint, save_checkpoint
from course_utils.models.codec import ConvAutoencoder
from course_utils.models.fusion import copy_sr_features
from course_utils.training.loop import fit
from course_utils.training.noise2self import Noise2Self, mask_pixels_out
from course_utils.zoo.shipped import load_pretrained

ROOT = Path(__file__).resolve().parent.parent


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _randomise(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.1)
    return model


def _data(task: str = "denoise-25-gray", side: int = 64) -> ExperimentData:
    photos = {f"p{i}": make_smooth(side, side, seed=i) for i in range(3)}
    return ExperimentData("tiny", task, {"a": photos["p0"], "b": photos["p1"]},
                          {"v": photos["p2"][:48, :48]}, {"h": make_smooth(48, 48, seed=9)},
                          patch_lr=16, batch=4, steps_per_epoch=3)


# --- models ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["feature-restorer", "fusion-restorer"])
def test_untrained_restorers_are_the_identity(name):
    y = torch.rand(2, 1, 20, 24)
    model = get_model(name).eval()
    assert torch.equal(model(y), y)


@pytest.mark.parametrize("name", ["feature-restorer", "fusion-restorer"])
def test_receptive_radius_bounds_what_a_pixel_sees(name):
    model = _randomise(get_model(name)).eval()
    r = model.receptive_radius
    y = torch.rand(1, 1, 41, 41)
    moved = y.clone()
    moved[..., 20, 20] += 1.0
    change = (model(moved) - model(y)).abs()[0, 0] > 1e-7
    rows, cols = np.nonzero(change.numpy())
    assert change[20, 20]
    assert max(abs(rows - 20).max(), abs(cols - 20).max()) == r


def test_multitask_heads_pick_each_samples_own_task():
    model = _randomise(get_model("feature-restorer", tasks=3)).eval()
    y = torch.rand(4, 1, 16, 16)
    task = torch.tensor([2, 0, 1, 2])
    mixed = model(y, task)
    for i, k in enumerate(task.tolist()):
        assert torch.allclose(mixed[i], model(y[i:i + 1], k)[0], atol=1e-4)
        assert torch.allclose(model.for_task(k)(y[i:i + 1]), model(y[i:i + 1], k))
    with pytest.raises(ValueError, match="task must be 0 to 2"):
        model.for_task(3)


def test_copy_sr_features_takes_the_source_models_first_two_layers():
    source = load_pretrained("espcn_x3")[0]
    model = copy_sr_features(get_model("feature-restorer").features, source)
    assert torch.equal(model.conv1.weight, source.conv1.weight)
    assert torch.equal(model.conv2.bias, source.conv2.bias)
    with pytest.raises(ValueError, match="no ESPCN feature layers"):
        copy_sr_features(get_model("feature-restorer").features,
                         get_model("srcnn-915", scale=3))


def test_fusion_at_alpha_one_ignores_the_target_stream_and_at_zero_the_pretrained():
    y = torch.rand(1, 1, 24, 24)
    for alpha, ignored in ((1.0, "target"), (0.0, "pretrained")):
        model = _randomise(get_model("fusion-restorer", alpha=alpha)).eval()
        before = model(y)
        _randomise(getattr(model, ignored), seed=5)
        assert torch.allclose(model(y), before)
        other = "pretrained" if ignored == "target" else "target"
        _randomise(getattr(model, other), seed=6)
        assert not torch.allclose(model(y), before)


def test_learned_alpha_starts_where_asked_and_stays_in_0_1():
    model = get_model("fusion-restorer", alpha=0.25, fusion="channel")
    a1, a2 = model.alphas()
    assert a1.shape == (64, 1, 1) and a2.shape == (32, 1, 1)
    assert torch.allclose(a1, torch.tensor(0.25))
    with torch.no_grad():
        model.a1.fill_(50.0)
    rows = learned_alphas(model)
    assert rows[0]["values"] == 64 and rows[0]["max α"] <= 1.0 and rows[1]["mean α"] == \
        pytest.approx(0.25)
    assert learned_alphas(get_model("fusion-restorer", fusion="layer"))[0]["values"] == 1


@pytest.mark.parametrize("config, message", [
    ({"fusion": "sum"}, "fusion"),
    ({"alpha": 1.5}, "alpha"),
    ({"alpha": 0.0, "fusion": "layer"}, "strictly inside"),
])
def test_fusion_rejects_bad_settings(config, message):
    with pytest.raises(ValueError, match=message):
        get_model("fusion-restorer", **config)


def test_restorers_round_trip_through_checkpoints(tmp_path):
    for name, config in (("feature-restorer", {"tasks": 2}),
                         ("fusion-restorer", {"fusion": "channel", "alpha": 0.3})):
        model = _randomise(get_model(name, **config))
        save_checkpoint(tmp_path / f"{name}.safetensors", model)
        loaded, _ = load_checkpoint(tmp_path / f"{name}.safetensors")
        y = torch.rand(1, 1, 16, 16)
        assert torch.equal(loaded.eval()(y), model.eval()(y))


# --- Noise2Self --------------------------------------------------------------------------------

def test_mask_pixels_out_puts_the_ring_mean_in_hidden_pixels():
    y = torch.arange(25.0).reshape(1, 1, 5, 5)
    hidden = torch.zeros(1, 1, 5, 5, dtype=torch.bool)
    hidden[..., 2, 2] = True
    out = mask_pixels_out(y, hidden)
    ring = y[0, 0, 1:4, 1:4].sum() - y[0, 0, 2, 2]
    assert out[0, 0, 2, 2] == pytest.approx(float(ring / 8))
    assert torch.equal(out[~hidden], y[~hidden])


def test_noise2self_hides_pixels_in_training_only():
    net = _randomise(get_model("feature-restorer"))
    model = Noise2Self(net, grid=2).train()
    y = torch.rand(2, 1, 32, 32)
    with torch.no_grad():
        out = model(y)
    kept = out == y
    assert 0.6 < kept.float().mean() < 0.9  # about 1 - fraction of the pixels are the input
    # Evaluation: each pixel is predicted with itself hidden (J-invariance): changing one
    # input pixel leaves its own output unchanged, and changes its neighbours'.
    model.eval()
    moved = y.clone()
    moved[0, 0, 10, 10] += 1.0
    change = (model(moved) - model(y)).abs()[0, 0]
    assert change[10, 10] == 0 and change[10, 11] > 0
    assert float(model.loss(out, y)) == pytest.approx(float(((out - y) ** 2).mean() / 0.25))
    with pytest.raises(ValueError, match="grid"):
        Noise2Self(net, grid=1)


def test_noise2self_learns_to_denoise_from_noisy_images_alone():
    data = _data(side=96)
    arm = noise2self_arm(lr=3e-3)
    data.steps_per_epoch = 40
    result = run_arms([arm], data, epochs=3, progress=False)[0]
    noisy = evaluate_images(data.heldout, data.task, "none")
    assert result.heldout.mean_psnr > noisy.mean_psnr + 2.0
    # A noisy arm keeps its last weights: it has no clean image to choose an epoch by.
    assert result.history.steps[-1] == 120


# --- data ----------------------------------------------------------------------------------------

def test_noisy_patches_are_pairs_of_one_fixed_noisy_patch():
    rng = np.random.default_rng(0)
    noisy = make_smooth(40, 40, seed=1)[..., 0] + rng.normal(0, 0.2, (40, 40))
    patches = NoisyPatches([noisy], patch_size=16, samples_per_epoch=5, seed=3)
    x, y = patches[2]
    assert x.shape == (1, 16, 16) and torch.equal(x, y)
    assert torch.equal(patches[2][0], NoisyPatches([noisy], 16, samples_per_epoch=5,
                                                   seed=3)[2][0])
    assert x.max() > 235 / 255 or x.min() < 16 / 255  # the noise is not clipped
    with pytest.raises(ValueError, match="smaller than one 64x64 patch"):
        NoisyPatches([noisy], patch_size=64)


def test_noisy_data_is_only_for_denoising_tasks():
    with pytest.raises(ValueError, match="not a denoising task"):
        _data("jpeg-10-gray").loader(["a"], 0, data="noisy")
    x, y = next(iter(_data().loader(["a", "b"], 0, data="noisy")))
    assert torch.equal(x, y)


def test_multitask_patches_interleave_the_tasks():
    photos = [make_smooth(48, 48, seed=i) for i in range(2)]
    sets = [PairedPatches(photos, t, patch_size=16, samples_per_epoch=4)
            for t in ("denoise-25-gray", "jpeg-10-gray")]
    mixed = MultiTaskPatches(sets)
    assert len(mixed) == 8
    x, y, k = mixed[5]
    assert k == 1 and torch.equal(x, sets[1][2][0])
    mixed.set_epoch(3)
    assert sets[0].epoch == sets[1].epoch == 3


# --- fit -----------------------------------------------------------------------------------------

def test_fit_passes_the_task_to_a_multitask_model_and_trains_only_that_head():
    model = get_model("feature-restorer", tasks=2)
    x = torch.rand(4, 1, 16, 16)
    batches = [(x, x * 0.5, torch.tensor([1, 1, 1, 1]))]
    fit(model, batches, [(x[:1], x[:1], torch.tensor([1]))], epochs=1, device="cpu",
        progress=False)
    assert torch.count_nonzero(model.heads[0].weight) == 0  # never used: still zero
    assert torch.count_nonzero(model.heads[1].weight) > 0


def test_fit_keeps_the_last_weights_when_asked():
    # Validation rewards the identity, where the model starts: the first epoch is the best,
    # so keep_best returns to it and keep_best=False does not.
    x = torch.rand(8, 1, 16, 16)
    batches = [(x, torch.zeros_like(x))] * 5
    val = [(x[:2], x[:2])]
    outputs = {}
    for keep in (True, False):
        torch.manual_seed(0)
        model = get_model("feature-restorer")
        history = fit(model, batches, val, epochs=3, lr=1e-2, keep_best=keep, device="cpu",
                      progress=False)
        assert history.best_epoch == 0
        outputs[keep] = model.eval()(x[:2]).detach()
    assert not torch.allclose(outputs[True], outputs[False])


# --- the experiment ----------------------------------------------------------------------------

def test_restoration_arms_build_what_they_say():
    arms = {a.name: a for a in restoration_arms()}
    frozen = arms["SR source, frozen"].build()
    source = load_pretrained("espcn_x3")[0]
    assert torch.equal(frozen.features.conv1.weight, source.conv1.weight)
    assert not any(p.requires_grad for p in frozen.features.parameters())
    assert all(p.requires_grad for p in arms["SR source, fine-tuned"].build().parameters())
    assert not torch.equal(arms["scratch"].build().features.conv1.weight, source.conv1.weight)
    unet = arms["U-Net, ImageNet frozen"].build()
    assert unet.scale == 1 and arms["U-Net, ImageNet frozen"].mode == "rgb"
    assert not any(p.requires_grad for p in unet.encoder.parameters())
    dae = arms["denoising autoencoder"]
    assert isinstance(dae.build(), ConvAutoencoder) and dae.build().channels == 1
    assert dae.mode == "y"
    assert [a.name for a in restoration_arms(unet=False, autoencoder=False)] == list(arms)[:3]


def test_fusion_arms_freeze_the_pretrained_stream_and_learn_alpha_faster():
    arms = fusion_arms(alphas=(0.0, 1.0), learned=("channel",))
    assert [a.name for a in arms] == ["fusion, α = 0", "fusion, α = 1",
                                      "fusion, learned per channel"]
    model = arms[-1].build()
    assert not any(p.requires_grad for p in model.pretrained.parameters())
    groups = arms[-1].optimizer(model).param_groups
    assert [g["lr"] for g in groups] == [1e-3, 1e-2]
    assert {id(p) for p in groups[1]["params"]} == {id(model.a1), id(model.a2)}


def test_run_multitask_compares_shared_and_separate_at_the_same_total_steps():
    tasks = ["denoise-25-gray", "jpeg-10-gray"]
    data = [_data(t) for t in tasks]
    results = run_multitask(data, epochs=1, seeds=(0, 1), progress=False)
    assert {r.arm for r in results} == {f"{kind} · {t}" for kind in ("separate", "shared")
                                        for t in tasks}
    separate = results.runs("separate · jpeg-10-gray")[0]
    shared = results.runs("shared · jpeg-10-gray")[0]
    assert shared.history.steps[-1] == 2 * separate.history.steps[-1]
    table = multitask_table(results, tasks)
    assert [r["task"] for r in table] == [*tasks, "parameters, all tasks"]
    assert table[-1]["shared (dB)"] < table[-1]["separate (dB)"]
    row = table[1]
    assert row["shared − separate (dB)"] == pytest.approx(row["shared (dB)"]
                                                         - row["separate (dB)"])
    again = evaluate_images(data[1].heldout, data[1].task, model_method(shared.model))
    assert again.mean_psnr == pytest.approx(shared.heldout.mean_psnr)


def test_medical_arms_start_from_the_shipped_denoiser_or_from_scratch():
    shipped = load_pretrained("dncnn_denoise-25-gray")[0]
    tuned, scratch = (a.build() for a in medical_arms())
    first = "residual.0.weight" if "residual.0.weight" in shipped.state_dict() else \
        next(iter(shipped.state_dict()))
    assert torch.equal(tuned.state_dict()[first], shipped.state_dict()[first])
    assert not torch.equal(scratch.state_dict()[first], shipped.state_dict()[first])
    assert scratch.config == shipped.config


def test_restoration_transfer_benchmark_prints_its_tables(tmp_path):
    out = tmp_path / "rt.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "restoration_transfer.py"), "--seeds", "0",
         "--epochs", "1", "--steps", "2", "--photos", "1", "--heldout-side", "64",
         "--medical-scans", "1", "--threads", "1", "--json", str(out)],
        capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    for title in ("each arm minus scratch", "learned α per channel", "multi-task",
                  "medical: minus zero-shot"):
        assert title in done.stdout
    result = json.loads(out.read_text())
    assert {r["arm"] for r in result["arms"]} >= {"none", "scratch", "fusion, α = 0.5",
                                                 "Noise2Self (noisy only)"}
