"""Tests of course_utils.train: the loop really learns, stops early, and checkpoints are safe."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from conftest import make_smooth
from course_utils.models import build_model
from course_utils.patches import SRPatches, image_to_tensor
from course_utils.train import (
    CheckpointError,
    History,
    evaluate_psnr,
    fit,
    load_checkpoint,
    save_checkpoint,
    sha256_of,
)


def tiny_task(scale=2, samples=64):
    images = [make_smooth(64, 64, seed=s) for s in range(3)]
    ds = SRPatches(images, scale, 16 * scale // 2 * 2 // scale * scale, samples_per_epoch=samples)
    loader = DataLoader(ds, batch_size=16)
    val = [(image_to_tensor(make_smooth(20, 20, seed=9)[::scale, ::scale], "y"),
            image_to_tensor(make_smooth(20, 20, seed=9), "y"))]
    return loader, val


def test_fit_lowers_the_loss_and_raises_val_psnr():
    torch.manual_seed(0)
    loader, val = tiny_task()
    model = build_model("espcn", 2)
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
    model = build_model("espcn", 2)
    # a learning rate of zero never improves on epoch 1, so patience 1 stops at epoch 2
    history = fit(model, loader, val, epochs=10, lr=0.0, schedule="constant", patience=1,
                  progress=False)
    assert history.stopped_early and len(history.val_psnr) == 2
    assert history.best_epoch == 0 and history.lr == [0.0, 0.0]


def test_custom_optimizer_and_loss():
    loader, val = tiny_task()
    model = build_model("fsrcnn-s", 2)
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
    history = fit(build_model("espcn", 2), loader, val, epochs=2, progress=False)
    axes = history.plot(label="espcn")
    assert len(axes[1].lines) >= 1
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
        fit(build_model("espcn", 2), loader, val, progress=False, **kwargs)


def test_diverging_loss_is_reported():
    loader, val = tiny_task()
    with pytest.raises(FloatingPointError, match="lower the learning rate"):
        fit(build_model("espcn", 2), loader, val, epochs=1, progress=False,
            loss=lambda out, target: (out - target).mean() / 0.0)


def test_validation_scale_mismatch_is_explained():
    loader, _ = tiny_task()
    val = [(torch.rand(1, 1, 10, 10), torch.rand(1, 1, 30, 30))]
    with pytest.raises(ValueError, match="scale of the validation pairs"):
        fit(build_model("espcn", 2), loader, val, epochs=1, progress=False)


def test_checkpoint_round_trip_and_best_checkpoint_during_fit(tmp_path):
    loader, val = tiny_task()
    model = build_model("espcn", 2)
    path = tmp_path / "ckpt" / "espcn.safetensors"
    history = fit(model, loader, val, epochs=2, progress=False, checkpoint=path,
                  checkpoint_metadata={"note": "test"})
    loaded, meta = load_checkpoint(path, sha256=sha256_of(path))
    assert meta["config"] == {"name": "espcn", "scale": 2, "channels": 1}
    assert meta["note"] == "test" and meta["epoch"] == history.best_epoch + 1
    x = torch.rand(1, 1, 8, 8)
    with torch.no_grad():
        assert torch.allclose(loaded(x), model.eval()(x))
    assert not list(path.parent.glob("*.part"))  # no temporary files left


def test_tampered_truncated_and_foreign_checkpoints_are_refused(tmp_path):
    path = save_checkpoint(tmp_path / "m.safetensors", build_model("espcn", 3), {"a": 1})
    good = sha256_of(path)
    data = path.read_bytes()
    path.write_bytes(data[:-100])
    with pytest.raises(CheckpointError, match="does not match its registered SHA-256"):
        load_checkpoint(path, sha256=good)
    with pytest.raises(CheckpointError, match="truncated"):
        load_checkpoint(path)
    (tmp_path / "x.pt").write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="not a readable safetensors"):
        load_checkpoint(tmp_path / "x.pt")
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(tmp_path / "missing.safetensors")
    from safetensors.torch import save_file
    save_file({"w": torch.zeros(2)}, tmp_path / "plain.safetensors")
    with pytest.raises(CheckpointError, match="no model config"):
        load_checkpoint(tmp_path / "plain.safetensors")


def test_interrupted_save_leaves_old_checkpoint_intact(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "m.safetensors", build_model("espcn", 2))
    before = path.read_bytes()

    def broken(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("safetensors.torch.save_file", broken)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, build_model("espcn", 2))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]
