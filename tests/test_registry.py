"""Tests of course_utils.models.registry and course_utils.models.checkpoint: every family
checkpoints, configs are validated before anything is built (from a user or from a file), and
damaged or foreign files are refused."""

from __future__ import annotations

import dataclasses
import functools
import json
import uuid

import pytest
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from course_utils.data import DataUnavailableError
from course_utils.models import (
    CheckpointError,
    backbones,
    check_config,
    get_model,
    list_models,
    load_checkpoint,
    model_config,
    model_spec,
    register_model,
    registry,
    save_checkpoint,
    sha256_of,
)
from course_utils.models.sr import ESPCN

FAMILIES = ["autoencoder", "backbone-unet", "dncnn", "espcn", "factorized-codec",
            "feature-restorer", "feature-subpixel-sr", "fsrcnn", "fsrcnn-s", "fusion-restorer",
            "srcnn-915", "srcnn-955"]
RESTORATION = ["autoencoder", "dncnn", "feature-restorer", "fusion-restorer"]

#: Small, offline configs of the encoder-decoder families; the others at x3.
SMALL = {"backbone-unet": {"scale": 2, "pretrained": False, "width": 4},
         "feature-subpixel-sr": {"scale": 2, "pretrained": False},
         "dncnn": {"depth": 4, "features": 8, "unshuffle": 2},
         "autoencoder": {"code_channels": 4, "features": 8},
         "factorized-codec": {"N": 8, "M": 8},
         "feature-restorer": {"depth": 2, "tasks": 2},
         "fusion-restorer": {"depth": 2, "fusion": "channel"}}


def forbid_building(monkeypatch) -> None:
    """Make every registered builder fail, so a test shows that validation comes first."""
    for name, spec in list(registry._REGISTRY.items()):
        @functools.wraps(spec.builder)  # keeps the signature that validation reads
        def builder(*args, _name=name, **kwargs):
            raise AssertionError(f"{_name} was built before its config was validated")

        monkeypatch.setitem(registry._REGISTRY, name,
                            dataclasses.replace(spec, builder=builder))


def test_list_models_and_model_spec():
    assert list_models() == FAMILIES
    # backbone-unet is registered for "any" task, so it serves both lists
    assert list_models("restoration") == ["autoencoder", "backbone-unet", *RESTORATION[1:]]
    assert list_models("sr") == [f for f in FAMILIES
                                 if f not in RESTORATION and f != "factorized-codec"]
    assert list_models("compression") == ["factorized-codec"]
    assert model_spec("backbone-unet").task == "any" and model_spec("espcn").task == "sr"
    assert model_spec("espcn").summary.startswith("ESPCN")
    with pytest.raises(ValueError,
                       match="unknown model 'edsr'; registered: autoencoder, backbone-unet, "):
        model_spec("edsr")


# --- checkpoints of every family ------------------------------------------------------------


@pytest.mark.parametrize("name", list_models())
def test_every_family_round_trips_through_a_checkpoint(tmp_path, name):
    torch.manual_seed(0)
    model = get_model(name, **SMALL.get(name, {"scale": 3}))
    with torch.no_grad():  # move every weight and statistic away from a fresh build's
        for value in model.state_dict().values():
            if value.is_floating_point():
                value.add_(0.01 * torch.rand_like(value))
    path = save_checkpoint(tmp_path / f"{name}.safetensors", model, {"note": name})
    torch.manual_seed(1)
    loaded, meta = load_checkpoint(path)
    assert type(loaded) is type(model) and not loaded.training
    assert loaded.config == model.config == model_config(loaded)
    assert meta == {"config": model.config, "note": name}
    state = model.state_dict()
    assert list(loaded.state_dict()) == list(state)
    for key, value in loaded.state_dict().items():
        assert torch.equal(value, state[key]), key
    x = torch.rand(1, model.channels, 12, 14)
    with torch.no_grad():
        got, want = loaded(x), model.eval()(x)
    if isinstance(want, tuple):  # a codec: the reconstruction and the likelihoods
        assert all(torch.equal(a, b) for a, b in zip(got, want, strict=True))
    else:
        assert torch.equal(got, want)


@pytest.mark.parametrize("backbone", ["efficientnet_lite0", "resnet18"])
def test_a_pretrained_backbone_unet_loads_without_the_imagenet_weights(tmp_path, monkeypatch,
                                                                       backbone):
    torch.manual_seed(0)
    model = get_model("backbone-unet", scale=2, backbone=backbone, pretrained=False, width=4)
    # as if built on the ImageNet weights (then fine-tuned): all its weights are in the file
    model.config = {**model.config, "pretrained": True}
    path = save_checkpoint(tmp_path / "unet.safetensors", model)

    def unavailable():
        raise DataUnavailableError("no ImageNet weights in this test")

    monkeypatch.setattr(backbones, "_lite0_weights_path", unavailable)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))  # empty hub cache, offline
    loaded, meta = load_checkpoint(path)
    assert loaded.config == meta["config"] == model.config
    assert loaded.config["pretrained"] is True
    state = model.state_dict()
    for key, value in loaded.state_dict().items():
        assert torch.equal(value, state[key]), key


def test_a_model_not_built_by_get_model_cannot_be_saved(tmp_path):
    renamed = get_model("espcn", scale=3)
    renamed.config = {**renamed.config, "name": "my-espcn"}  # no registered family
    for model in (ESPCN(3), nn.Conv2d(1, 1, 3), renamed):
        with pytest.raises(ValueError, match=r"not built by course_utils\.models\.get_model.*"
                                             r"build it with get_model\(name, \.\.\.\)"):
            save_checkpoint(tmp_path / "m.safetensors", model)
    assert not list(tmp_path.iterdir())


def test_model_config_is_a_copy():
    model = get_model("espcn", scale=3)
    config = model_config(model)
    config["scale"] = 4
    assert model.config["scale"] == 3


# --- validation before building --------------------------------------------------------------


def test_check_config_completes_and_normalises():
    assert check_config("espcn", {"scale": 3, "features": [16, 8]}) == {
        "scale": 3, "channels": 1, "features": (16, 8), "residual": False}
    assert check_config("backbone-unet", {"scale": 1}) == {
        "scale": 1, "backbone": "efficientnet_lite0", "pretrained": True, "width": 16}
    assert check_config("fsrcnn-s", {"scale": 2, "channels": 3}) == {"scale": 2, "channels": 3}


INVALID = [
    # unknown key, missing required parameter
    ("espcn", {"scale": 3, "width": 8}, r"espcn has no parameters \['width'\]"),
    ("espcn", {}, r"espcn needs the parameters \['scale'\]"),
    ("backbone-unet", {"width": 8}, r"backbone-unet needs the parameters \['scale'\]"),
    # wrong type
    ("espcn", {"scale": "3"}, "espcn: scale must be"),
    ("espcn", {"scale": True}, "espcn: scale must be"),
    ("espcn", {"scale": 3.5}, "espcn: scale must be"),
    ("backbone-unet", {"scale": "1"}, "backbone-unet: scale must be"),
    ("espcn", {"scale": 3, "channels": True}, "espcn: channels must be"),
    ("espcn", {"scale": 3, "features": (64.0, 32)}, r"features\[0\] must be of type int"),
    ("espcn", {"scale": 3, "features": 64}, "features must be a sequence of 2 values"),
    ("fsrcnn", {"scale": 3, "d": True}, "fsrcnn: d must be of type int"),
    ("backbone-unet", {"scale": 1, "pretrained": 1}, "pretrained must be of type bool"),
    ("backbone-unet", {"scale": 1, "backbone": "resnet50"}, "backbone must be one of"),
    # out of range
    ("espcn", {"scale": 3, "features": (10**6, 32)},
     r"features\[0\] = 1000000 is outside the sane range 1 to 1024"),
    ("espcn", {"scale": 100}, "espcn: scale = 100 is outside the sane range 2 to 8"),
    ("espcn", {"scale": 1}, "espcn: scale = 1 is outside the sane range 2 to 8"),
    ("backbone-unet", {"scale": 100}, "scale = 100 is outside the sane range 1 to 8"),
    ("backbone-unet", {"scale": 2, "width": 10**6}, "width = 1000000 is outside"),
    ("feature-subpixel-sr", {"scale": 2, "stages": 6}, "stages = 6 is outside"),
    ("fsrcnn", {"scale": 3, "m": -1}, "m = -1 is outside"),
    ("espcn", {"scale": 3, "channels": 4}, r"channels must be one of \[1, 3\]"),
    # unknown family
    ("edsr", {"scale": 2}, "unknown model 'edsr'"),
]


@pytest.mark.parametrize(("name", "config", "match"), INVALID,
                         ids=[f"{name} {config}" for name, config, _ in INVALID])
def test_invalid_configs_are_refused_before_building(monkeypatch, name, config, match):
    forbid_building(monkeypatch)
    with pytest.raises(ValueError, match=match):
        check_config(name, config)
    with pytest.raises(ValueError, match=match):
        get_model(name, **config)


DROP = object()


def edited(**changes) -> str:
    """The config header of an ESPCN x3 checkpoint, edited."""
    config = {"name": "espcn", "scale": 3, "channels": 1, "features": [64, 32], **changes}
    return json.dumps({k: v for k, v in config.items() if v is not DROP})


EDITED = {
    "scale as text": edited(scale="3"),
    "scale as bool": edited(scale=True),
    "scale out of range": edited(scale=100),
    "huge width": edited(features=[10**6, 32]),
    "channels": edited(channels=4),
    "unknown key": edited(bogus=1),
    "missing scale": edited(scale=DROP),
    "unknown family": edited(name="edsr"),
    "no family": edited(name=DROP),
    "not JSON": "{'name': 'espcn'",
    "not an object": "[1, 2, 3]",
}


@pytest.mark.parametrize("config", EDITED.values(), ids=list(EDITED))
def test_a_checkpoint_with_an_edited_config_is_refused(tmp_path, monkeypatch, config):
    path = save_checkpoint(tmp_path / "m.safetensors", get_model("espcn", scale=3))
    save_file(load_file(path), path, metadata={"config": config, "metadata": "{}"})
    forbid_building(monkeypatch)
    with pytest.raises(CheckpointError, match="holds a model config that cannot be used"):
        load_checkpoint(path)


def test_edited_metadata_and_weights_that_do_not_fit_are_refused(tmp_path):
    path = save_checkpoint(tmp_path / "m.safetensors", get_model("espcn", scale=3))
    tensors = load_file(path)
    save_file(tensors, path, metadata={"config": edited(), "metadata": "{oops"})
    with pytest.raises(CheckpointError, match="cannot be used"):
        load_checkpoint(path)
    save_file(tensors, path, metadata={"config": edited(features=[16, 8]), "metadata": "{}"})
    with pytest.raises(CheckpointError, match="do not fit the model"):
        load_checkpoint(path)


# --- damaged and foreign files ----------------------------------------------------------------


def test_tampered_truncated_and_foreign_checkpoints_are_refused(tmp_path):
    path = save_checkpoint(tmp_path / "m.safetensors", get_model("espcn", scale=3), {"a": 1})
    good = sha256_of(path)
    assert load_checkpoint(path, sha256=good)[1]["a"] == 1
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(CheckpointError, match="does not match its registered SHA-256"):
        load_checkpoint(path, sha256=good)
    with pytest.raises(CheckpointError, match="truncated"):
        load_checkpoint(path)
    (tmp_path / "x.pt").write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="not a readable safetensors"):
        load_checkpoint(tmp_path / "x.pt")
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(tmp_path / "missing.safetensors")
    save_file({"w": torch.zeros(2)}, tmp_path / "plain.safetensors")
    with pytest.raises(CheckpointError, match="no model config"):
        load_checkpoint(tmp_path / "plain.safetensors")


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_save_refuses_diverged_weights(tmp_path, bad):
    model = get_model("espcn", scale=2)
    with torch.no_grad():
        model.conv2.bias[0] = bad
    with pytest.raises(ValueError, match="conv2.bias hold NaN or inf; the training diverged"):
        save_checkpoint(tmp_path / "m.safetensors", model)
    assert not list(tmp_path.iterdir())


def test_interrupted_save_leaves_old_checkpoint_intact(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "m.safetensors", get_model("espcn", scale=2))
    before = path.read_bytes()

    def broken(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("course_utils.models.checkpoint.save_file", broken)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, get_model("espcn", scale=2))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]


# --- registering a family ---------------------------------------------------------------------


@pytest.fixture
def throwaway():
    """A unique family name for this test, removed from the registry afterwards."""
    name = f"test-throwaway-{uuid.uuid4().hex[:8]}"
    yield name
    registry._REGISTRY.pop(name, None)


def test_register_model_refuses_a_duplicate_name():
    original = registry._REGISTRY["espcn"]
    with pytest.raises(ValueError, match="a model named 'espcn' is already registered"):
        register_model("espcn", task="sr", limits={"scale": (2, 8)})(lambda scale: ESPCN(scale))
    assert registry._REGISTRY["espcn"] is original


def test_register_model_needs_limits_for_required_parameters(throwaway, tmp_path):
    def builder(scale: int, width: int = 4) -> nn.Module:
        """A throwaway convolution."""
        return nn.Conv2d(1, width, 3)

    with pytest.raises(ValueError, match=r"give limits for the required parameters \['scale'\]"):
        register_model(throwaway, task="restoration")(builder)
    assert throwaway not in list_models()
    assert register_model(throwaway, task="restoration", limits={"scale": (1, 1)})(builder) \
        is builder
    assert throwaway in list_models("restoration") and throwaway not in list_models("sr")
    assert model_spec(throwaway).summary == "A throwaway convolution."
    model = get_model(throwaway, scale=1, width=2)
    assert model.config == {"name": throwaway, "scale": 1, "width": 2}
    with pytest.raises(ValueError, match="width = 2000 is outside the sane range 1 to 1024"):
        get_model(throwaway, scale=1, width=2000)
    # any registered family checkpoints
    loaded, meta = load_checkpoint(save_checkpoint(tmp_path / "t.safetensors", model))
    assert meta["config"] == model.config and torch.equal(loaded.weight, model.weight)


def test_a_parameter_whose_default_is_none_takes_none_or_any_value(throwaway):
    def builder(scale: int, note: str | None = None) -> nn.Module:
        """A throwaway convolution with an optional note."""
        return nn.Conv2d(1, 1, 3)

    register_model(throwaway, task="restoration", limits={"scale": (1, 1)})(builder)
    assert get_model(throwaway, scale=1).config["note"] is None
    assert get_model(throwaway, scale=1, note="x").config["note"] == "x"
