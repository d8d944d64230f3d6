"""Tests of course_utils.experiments.runner (controlled arms, any task), unit 04's arms
(course_utils.experiments.transfer) and benchmarks/transfer.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import make_smooth
from course_utils.evaluation.evaluate import evaluate_images, model_method
from course_utils.experiments.runner import (
    Arm,
    ExperimentData,
    Results,
    mean_sd,
    run_arms,
    summarize,
    versus,
)
from course_utils.experiments.transfer import transfer_arms
from course_utils.models import get_model
from course_utils.training.finetune import L2SPLoss

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """One torch thread: tiny models run much slower when threads compete for the CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def data():
    """x2 SR on smooth images: two training, one validation, one held-out image; 2 steps of 4
    patches of 8 LR pixels per epoch."""
    return ExperimentData("smooth", "sr-x2",
                          train={f"t{i}": make_smooth(48, 48, seed=i) for i in range(2)},
                          val={"v": make_smooth(32, 32, seed=4)},
                          heldout={"a": make_smooth(36, 36, seed=5)},
                          patch_lr=8, batch=4, steps_per_epoch=2)


@pytest.fixture
def loader_calls(data, monkeypatch):
    """Record every (seed, data, mode) that ``data.loader`` is asked for."""
    calls, loader = [], data.loader

    def counting(names, seed, data="paired", mode="y"):
        calls.append((seed, data, mode))
        return loader(names, seed, data, mode)

    monkeypatch.setattr(data, "loader", counting)
    return calls


def same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(),
                                                  b.state_dict().values(), strict=True))


def test_run_arms_results_and_summarize(data, loader_calls):
    arms = [Arm("espcn", lambda: get_model("espcn", scale=2, channels=3)),
            Arm("fsrcnn-s", lambda: get_model("fsrcnn-s", scale=2, channels=3), lr=1e-2),
            Arm("espcn-y", lambda: get_model("espcn", scale=2), mode="y")]
    results = run_arms(arms, data, epochs=2, seeds=[0, 1], progress=False)
    assert isinstance(results, Results)
    assert loader_calls == [(0, "paired", "rgb"), (0, "paired", "y"),
                            (1, "paired", "rgb"), (1, "paired", "y")], \
        "one loader per (seed, data, mode), shared by the arms that train on it"
    assert [(r.arm, r.seed) for r in results] == [
        ("espcn", 0), ("fsrcnn-s", 0), ("espcn-y", 0), ("espcn", 1), ("fsrcnn-s", 1),
        ("espcn-y", 1)]
    assert all(len(r.history.val_psnr) == 2 and r.trainable > 0 for r in results)
    assert all(r.n_images == 2 and r.heldout.task == "sr-x2" for r in results)

    # look-ups by name
    assert results.runs("fsrcnn-s") == [results[1], results[4]]
    assert results.model("espcn") is results[0].model
    assert results.model("espcn", seed=1) is results[3].model
    with pytest.raises(KeyError, match=r"no run of 'srcnn'; the arms are \['espcn', "
                                       r"'espcn-y', 'fsrcnn-s'\]"):
        results.model("srcnn")
    with pytest.raises(KeyError, match=r"ran with seeds \[0, 1\], not 7"):
        results.model("espcn", seed=7)

    # the reported score is the evaluation of the returned model
    again = evaluate_images(data.heldout, "sr-x2", model_method(results.model("espcn")))
    assert again.mean_psnr == pytest.approx(results[0].heldout.mean_psnr)
    assert results.model("espcn-y").channels == 1
    # the same seed gives the same model; another seed another one
    repeat = run_arms(arms[:1], data, epochs=2, seeds=[0], progress=False)
    assert same_weights(repeat.model("espcn"), results.model("espcn", seed=0))
    assert not same_weights(results.model("espcn", seed=1), results.model("espcn", seed=0))

    bicubic = evaluate_images(data.heldout, "sr-x2", "bicubic")
    table = summarize(results, baseline=bicubic)
    assert [row["arm"] for row in table] == ["bicubic", "espcn", "fsrcnn-s", "espcn-y"]
    psnrs = [r.heldout.mean_psnr for r in results.runs("espcn")]
    assert table[1]["seeds"] == 2 and "images" not in table[1]
    assert table[1]["PSNR (dB)"] == pytest.approx(np.mean(psnrs))
    assert table[1]["± PSNR"] == pytest.approx(np.std(psnrs, ddof=1))
    assert table[1]["gain (dB)"] == pytest.approx(np.mean(psnrs) - bicubic.mean_psnr)
    assert summarize(results[:1])[0]["± PSNR"] == 0.0


def test_mean_sd():
    assert mean_sd([1.0, 2.0, 6.0]) == pytest.approx((3.0, np.std([1, 2, 6], ddof=1)))
    assert mean_sd(iter([4.5])) == (4.5, 0.0)


def test_loss_factory_is_called_with_the_arms_own_model(data):
    made = []

    def l2sp(model):
        made.append(model)
        return L2SPLoss(model, alpha=0.1)

    arm = Arm("L2-SP", lambda: get_model("espcn", scale=2, channels=3), loss=l2sp)
    results = run_arms([arm], data, epochs=1, seeds=[0, 1], progress=False)
    assert len(made) == 2
    assert [m is r.model for m, r in zip(made, results, strict=True)] == [True, True]
    assert made[0] is not made[1], "each seed's model gets a loss of its own"
    named = Arm("l1", lambda: get_model("espcn", scale=2), loss="l1")
    assert named.make_loss(named.build()) == "l1"


def test_arm_rejects_unknown_data():
    with pytest.raises(ValueError, match="arm 'x': data must be one of"):
        Arm("x", lambda: get_model("espcn", scale=2), data="unpaired")


def test_restoration_experiment_trains_and_scores_at_scale_1():
    data = ExperimentData("smooth", "denoise-25",
                          train={"t": make_smooth(32, 32, seed=1)},
                          val={"v": make_smooth(24, 24, seed=2)},
                          heldout={"h": make_smooth(27, 29, seed=3)},
                          patch_lr=16, batch=2, steps_per_epoch=1)
    x, y = next(iter(data.loader(["t"], seed=0, mode="rgb")))
    assert x.shape == y.shape == (2, 3, 16, 16)
    assert not torch.equal(x, y), "the input is the noisy target"
    (val_x, val_y), = data.val_pairs(mode="rgb")
    assert val_x.shape == val_y.shape == (1, 3, 24, 24)

    arm = Arm("U-Net", lambda: get_model("backbone-unet", scale=1, pretrained=False, width=8))
    (result,) = run_arms([arm], data, epochs=1, progress=False)
    assert result.model.scale == 1 and len(result.history.val_psnr) == 1
    assert result.heldout.task == "denoise-25"
    (row,) = result.heldout.rows
    assert (row["image"], row["height"], row["width"]) == ("h", 27, 29)  # no modcrop, no border
    assert np.isfinite(row["psnr"])
    again = evaluate_images(data.heldout, "denoise-25", model_method(result.model))

    def scores(rows):  # (the method's time differs run to run)
        return [{k: v for k, v in row.items() if k != "seconds"} for row in rows]

    assert scores(again.rows) == scores(result.heldout.rows)


def test_transfer_arms_build_what_they_say():
    arms = transfer_arms(4)
    assert [a.name for a in arms] == ["ESPCN, residual (scratch)", "U-Net, random encoder",
                                      "U-Net, frozen pretrained", "U-Net, fine-tuned pretrained"]
    assert all(a.mode == "rgb" and a.data == "paired" for a in arms)
    assert arms[0].build().config == {"name": "espcn", "scale": 4, "channels": 3,
                                      "features": (64, 32), "residual": True}
    x = torch.rand(1, 3, 6, 7)
    for arm in (arms[0], arms[1]):  # every arm starts at PyTorch's bicubic
        torch.testing.assert_close(arm.build().eval()(x),
                                   torch.nn.functional.interpolate(x, scale_factor=4,
                                                                   mode="bicubic"))
    frozen = arms[2].build()
    assert not any(p.requires_grad for p in frozen.encoder.parameters())
    assert all(p.requires_grad for p in frozen.fuse.parameters())
    tuned = arms[3].build()
    groups = arms[3].optimizer(tuned).param_groups
    assert sorted(g["lr"] for g in groups) == [1e-4, 1e-3]


def test_transfer_benchmark_prints_a_table(tmp_path):
    out = tmp_path / "transfer.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "transfer.py"), "--seeds", "0",
         "--epochs", "1", "--steps", "2", "--batch", "2", "--patch", "8",
         "--heldout-side", "48", "--threads", "1", "--json", str(out)],
        capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "| U-Net, frozen pretrained | 0 |" in done.stdout
    assert "| bicubic |" in done.stdout and " ± 0.00 |" in done.stdout
    assert "| untrained U-Net (PyTorch bicubic) |" in done.stdout and " to " in done.stdout
    rows = json.loads(out.read_text())
    assert len(rows) == 4 and all(r["peak_mib"] > 100 and np.isfinite(r["psnr"]) for r in rows)


def test_an_arm_whose_mode_does_not_fit_its_model_is_refused(data):
    y_model = Arm("espcn on rgb patches", lambda: get_model("espcn", scale=2), mode="rgb")
    with pytest.raises(ValueError, match=r"takes 1 channel\(s\) but mode='rgb' feeds it 3"):
        run_arms([y_model], data, epochs=1, progress=False)


def test_summarize_by_images_keeps_the_images_column_for_the_baselines(data):
    arm = Arm("espcn", lambda: get_model("espcn", scale=2, channels=3, features=(4, 4)))
    results = run_arms([arm], data, epochs=1, n_images=1, progress=False)
    bicubic = evaluate_images(data.heldout, data.task, "bicubic")
    rows = summarize(results, bicubic, by_images=True)
    assert [row["images"] for row in rows] == ["-", 1]
    assert list(rows[0]) == list(rows[1]), "every row has the same columns (viz.Table)"


def test_versus_pairs_the_seeds_and_judges_by_the_spread(data):
    arms = [Arm("a", lambda: get_model("espcn", scale=2, features=(4, 4)), mode="y"),
            Arm("b", lambda: get_model("espcn", scale=2, features=(8, 4)), mode="y")]
    results = run_arms(arms, data, epochs=1, seeds=[0, 1, 2])
    rows = versus(results, "a")
    assert [r["arm"] for r in rows] == ["b"] and rows[0]["vs"] == "a" and rows[0]["seeds"] == 3
    d = [b.heldout.mean_psnr - a.heldout.mean_psnr
         for a, b in zip(results.runs("a"), results.runs("b"), strict=True)]
    assert rows[0]["Δ PSNR (dB)"] == pytest.approx(np.mean(d))
    assert rows[0]["± Δ PSNR"] == pytest.approx(np.std(d, ddof=1))
    expected = ("within the spread" if abs(np.mean(d)) <= np.std(d, ddof=1)
                else "higher" if np.mean(d) > 0 else "lower")
    assert rows[0]["verdict"] == expected
    # an untrained reference scores the same for every seed
    bicubic = evaluate_images(data.heldout, data.task, "bicubic")
    against = {r["arm"]: r for r in versus(results, bicubic)}
    assert set(against) == {"a", "b"} and against["a"]["vs"] == "bicubic"
    assert against["a"]["Δ PSNR (dB)"] == pytest.approx(
        np.mean([r.heldout.mean_psnr for r in results.runs("a")]) - bicubic.mean_psnr)
    one_seed = versus(results.runs("a")[:1] + results.runs("b")[:1], "a")
    assert one_seed[0]["verdict"].startswith("one seed")
    with pytest.raises(KeyError, match="no run of 'c'"):
        versus(results, "c")


def test_versus_names_a_missing_seed_of_the_reference(data):
    arms = [Arm("a", lambda: get_model("espcn", scale=2, features=(4, 4)), mode="y")]
    first = run_arms(arms, data, epochs=1, seeds=[0])
    other = run_arms([Arm("b", arms[0].build, mode="y")], data, epochs=1, seeds=[1])
    with pytest.raises(KeyError, match="no run with seed 1"):
        versus(first + other, "a")
