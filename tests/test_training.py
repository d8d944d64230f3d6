"""Tests of course_utils.training.loop: the loop really learns, stops early, keeps its best
epoch and checkpoints it (the checkpoint format itself: test_registry.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from conftest import make_smooth
from course_utils.data.pairs import PairedPatches, validation_pairs
from course_utils.models import get_model, load_checkpoint, sha256_of
from course_utils.training import History, evaluate_psnr, fit


def tiny_task(samples=64):
    """x2 SR on smooth images: 32-pixel HR patches, one 20x20 validation image."""
    images = [make_smooth(64, 64, seed=s) for s in range(3)]
    ds = PairedPatches(images, "sr-x2", patch_size=32, samples_per_epoch=samples)
    loader = DataLoader(ds, batch_size=16)
    val = validation_pairs([make_smooth(20, 20, seed=9)], "sr-x2")
    return loader, val


def test_fit_lowers_the_loss_and_raises_val_psnr():
    torch.manual_seed(0)
    loader, val = tiny_task()
    model = get_model("espcn", scale=2)
    before = evaluate_psnr(model, val, border=2)
    history = fit(model, loader, val, epochs=4, lr=3e-3, border=2, progress=False)
    assert len(history.train_loss) == len(history.val_psnr) == 4
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.best_psnr > before + 3
    # the model ends with the weights of its best epoch
    assert evaluate_psnr(model, val, border=2) == pytest.approx(history.best_psnr, abs=1e-4)
    assert history.steps == [4, 8, 12, 16]
    assert history.lr[-1] < history.lr[0]  # cosine schedule


def test_early_stopping_and_constant_schedule():
    loader, val = tiny_task()
    model = get_model("espcn", scale=2)
    # a learning rate of zero never improves on epoch 1, so patience 1 stops at epoch 2
    history = fit(model, loader, val, epochs=10, lr=0.0, schedule="constant", patience=1,
                  progress=False)
    assert history.stopped_early and len(history.val_psnr) == 2
    assert history.best_epoch == 0 and history.lr == [0.0, 0.0]


def test_custom_optimizer_and_loss():
    loader, val = tiny_task()
    model = get_model("fsrcnn-s", scale=2)
    opt = torch.optim.SGD([{"params": model.body.parameters(), "lr": 1e-3},
                           {"params": model.deconv.parameters(), "lr": 1e-2}])
    calls = []

    def l1(out, target):
        calls.append(1)
        return (out - target).abs().mean()

    history = fit(model, loader, val, epochs=1, optimizer=opt, loss=l1, progress=False)
    assert len(calls) == len(loader) and opt.param_groups[1]["lr"] < 1e-2
    assert isinstance(history, History) and np.isfinite(history.best_psnr)


def test_history_plot_and_dict():
    loader, val = tiny_task()
    history = fit(get_model("espcn", scale=2), loader, val, epochs=2, progress=False)
    axes = history.plot(label="espcn")
    assert len(axes[1].lines) >= 1
    assert list(axes[1].lines[0].get_xdata()) == history.steps, "against the training step"
    shifted = history.plot(label="espcn", reference=history.val_psnr[0], marker="s")
    assert shifted[1].lines[0].get_ydata()[0] == pytest.approx(0)
    d = history.to_dict()
    assert d["best_psnr"] == history.best_psnr and len(d["val_psnr"]) == 2
    json.dumps(d)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"epochs": 0}, "epochs must be at least 1"),
    ({"epochs": 1, "loss": "huber"}, "unknown loss 'huber'"),
    ({"epochs": 1, "schedule": "step"}, "schedule must be"),
])
def test_bad_settings(kwargs, match):
    loader, val = tiny_task()
    with pytest.raises(ValueError, match=match):
        fit(get_model("espcn", scale=2), loader, val, progress=False, **kwargs)


def test_diverging_loss_is_reported():
    loader, val = tiny_task()
    with pytest.raises(FloatingPointError, match="lower the learning rate"):
        fit(get_model("espcn", scale=2), loader, val, epochs=1, progress=False,
            loss=lambda out, target: (out - target).mean() / 0.0)


def test_validation_scale_mismatch_is_explained():
    loader, _ = tiny_task()
    val = [(torch.rand(1, 1, 10, 10), torch.rand(1, 1, 30, 30))]
    with pytest.raises(ValueError, match="scale of the validation pairs"):
        fit(get_model("espcn", scale=2), loader, val, epochs=1, progress=False)


def test_checkpoint_round_trip_and_best_checkpoint_during_fit(tmp_path):
    loader, val = tiny_task()
    model = get_model("espcn", scale=2)
    path = tmp_path / "ckpt" / "espcn.safetensors"
    history = fit(model, loader, val, epochs=2, progress=False, checkpoint=path,
                  checkpoint_metadata={"note": "test"})
    loaded, meta = load_checkpoint(path, sha256=sha256_of(path))
    assert meta["config"] == model.config == {"name": "espcn", "scale": 2, "channels": 1,
                                              "features": (64, 32), "residual": False}
    assert meta["note"] == "test" and meta["epoch"] == history.best_epoch + 1
    assert meta["val_psnr"] == pytest.approx(history.best_psnr)
    x = torch.rand(1, 1, 8, 8)
    with torch.no_grad():
        assert torch.allclose(loaded(x), model.eval()(x))
    assert not list(path.parent.glob("*.part"))  # no temporary files left


def test_text_progress_prints_one_line_instead_of_a_bar(monkeypatch, capsys):
    loader, val = tiny_task()
    monkeypatch.setenv("COURSE_TEXT_PROGRESS", "1")
    history = fit(get_model("espcn", scale=2), loader, val, epochs=2, progress=True)
    out = capsys.readouterr()
    assert f"{history.steps[-1]} steps in" in out.out and "best validation PSNR" in out.out
    assert "it/s" not in out.err and "step/s" not in out.err, "no tqdm bar"
    monkeypatch.setenv("COURSE_TEXT_PROGRESS", "maybe")
    with pytest.raises(ValueError, match="COURSE_TEXT_PROGRESS='maybe' is not understood"):
        fit(get_model("espcn", scale=2), loader, val, epochs=1, progress=True)


def test_clip_grad_norm_bounds_each_step():
    # With plain SGD at learning rate 1 a step moves the weights by exactly the gradient, so
    # the clipped step's length is the bound; unclipped, this large loss moves them further.
    loader, val = tiny_task(samples=16)  # one batch: one step

    def step_length(clip):
        torch.manual_seed(0)
        model = get_model("espcn", scale=2)
        before = torch.cat([p.detach().flatten().clone() for p in model.parameters()])
        fit(model, loader, val, epochs=1, loss=lambda out, y: 1e4 * ((out - y) ** 2).mean(),
            optimizer=torch.optim.SGD(model.parameters(), lr=1.0), schedule="constant",
            clip_grad_norm=clip, keep_best=False, device="cpu", progress=False)
        after = torch.cat([p.detach().flatten() for p in model.parameters()])
        return float((after - before).norm())

    assert step_length(0.5) == pytest.approx(0.5, rel=1e-3)
    assert step_length(None) > 5
    with pytest.raises(ValueError, match="clip_grad_norm must be positive"):
        fit(get_model("espcn", scale=2), loader, val, epochs=1, clip_grad_norm=0,
            progress=False)
