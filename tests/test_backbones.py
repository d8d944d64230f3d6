"""Tests of course_utils.models.backbones: real ImageNet weights, stage features, offline errors."""

from __future__ import annotations

import urllib.error
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from skimage import data as skdata
from torchvision.models import ResNet18_Weights, resnet18

from course_utils.data import DataUnavailableError
from course_utils.models import backbones, count_parameters
from course_utils.models.backbones import (
    as_encoder,
    imagenet_categories,
    imagenet_normalize,
    imagenet_top5,
    load_backbone,
    load_verified_weights,
    stage_channels,
    stage_features,
)
from course_utils.models.checkpoint import sha256_of

CAT_CLASSES = {"tabby", "tiger cat", "Persian cat", "Siamese cat", "Egyptian cat"}


@pytest.fixture(scope="module")
def lite0():
    return load_backbone("efficientnet_lite0")


def test_lite0_is_really_pretrained(lite0):
    assert count_parameters(lite0) == 4_652_008
    top5 = imagenet_top5(lite0, skdata.chelsea())
    assert top5[0][0] in CAT_CLASSES and top5[0][1] > 0.5, top5
    assert len(CAT_CLASSES & {name for name, _ in top5}) >= 2
    rocket = [name for name, _ in imagenet_top5(lite0, skdata.rocket())]
    assert not CAT_CLASSES & set(rocket), rocket


def test_random_lite0_knows_nothing():
    torch.manual_seed(0)
    top5 = imagenet_top5(load_backbone("efficientnet_lite0", pretrained=False), skdata.chelsea())
    assert top5[0][1] < 0.05, top5


@pytest.mark.parametrize(("name", "channels", "strides", "classifier"), [
    ("efficientnet_lite0", [16, 24, 40, 112, 320], [2, 4, 8, 16, 32], ("head", "classifier")),
    ("resnet18", [64, 64, 128, 256, 512], [2, 4, 8, 16, 32], ("fc",)),
    ("vgg16", [64, 128, 256, 512, 512], [1, 2, 4, 8, 16], ("classifier",)),
])
def test_stage_features_and_as_encoder(name, channels, strides, classifier):
    model = load_backbone(name, pretrained=False)
    x = torch.rand(2, 3, 64, 96)
    with torch.no_grad():
        features = stage_features(model, x)
    assert [f.shape[1] for f in features] == channels == stage_channels(model)
    assert [(64 // f.shape[2], 96 // f.shape[3]) for f in features] == [(s, s) for s in strides]
    # as_encoder drops the classification layers and keeps every stage as it was
    encoder = as_encoder(model)
    assert all(isinstance(getattr(encoder, part), torch.nn.Identity) for part in classifier)
    with torch.no_grad():
        for a, b in zip(features, stage_features(encoder, x), strict=True):
            torch.testing.assert_close(a, b)


def test_normalize_and_bad_inputs(lite0):
    x = torch.rand(1, 3, 8, 8)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    torch.testing.assert_close(imagenet_normalize(x), (x - mean) / std)
    with pytest.raises(ValueError, match="RGB tensor"):
        imagenet_normalize(torch.rand(1, 1, 8, 8))
    with pytest.raises(ValueError, match="needs an RGB image"):
        imagenet_top5(lite0, skdata.camera())
    with pytest.raises(ValueError, match="unknown backbone 'resnet50'"):
        load_backbone("resnet50")
    with pytest.raises(ValueError, match="load_backbone"):
        stage_features(torch.nn.Conv2d(3, 3, 1), x)
    with pytest.raises(ValueError, match="as_encoder needs a backbone"):
        as_encoder(torch.nn.Conv2d(3, 3, 1))
    with pytest.raises(ValueError, match="stages must be 1 to 5"):
        stage_features(lite0, x, stages=0)
    assert len(imagenet_categories()) == 1000


def _named_by_hash(folder, state) -> str:
    """Save ``state`` in ``folder`` under a torchvision-style name carrying its own hash."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / "weights.tmp"
    torch.save(state, tmp)
    name = f"resnet18-{sha256_of(tmp)[:8]}.pth"
    tmp.rename(folder / name)
    return name


def test_torchvision_weights_from_the_hub_cache(tmp_path, monkeypatch):
    # A file already in the torch hub cache, whose SHA-256 matches its name, loads offline.
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # the hub cache is $TORCH_HOME/hub
    saved = resnet18(weights=None).state_dict()
    name = _named_by_hash(tmp_path / "hub" / "checkpoints", saved)
    monkeypatch.setattr(backbones, "_torchvision_weights",
                        lambda _: SimpleNamespace(url=f"https://example.org/{name}"))
    monkeypatch.setattr(torch.hub, "download_url_to_file", _no_download)
    model = load_backbone("resnet18")
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, saved[key])


def _no_download(*args, **kwargs):
    raise AssertionError("the cached file should have been used")


def test_a_cached_file_with_the_wrong_hash_is_refused(tmp_path, monkeypatch):
    # The course's offline message tells users to put a file in the hub cache: one that is not
    # torchvision's (here random weights under the real name) is refused before it is read.
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    folder = tmp_path / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    cached = folder / ResNet18_Weights.IMAGENET1K_V1.url.rsplit("/", 1)[1]
    torch.save(resnet18(weights=None).state_dict(), cached)
    monkeypatch.setattr(torch.hub, "download_url_to_file", _no_download)
    with pytest.raises(DataUnavailableError, match="not the published weights file") as err:
        load_backbone("resnet18")
    assert str(cached) in str(err.value) and "Delete it" in str(err.value)


class _Payload:
    """Unpickling this calls ``Path.touch(marker)``: code run from a file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def test_a_pickle_in_the_hub_cache_does_not_run(tmp_path):
    # Even with a matching hash (an attacker who controls the file and its name), the file is
    # read with weights_only=True: the payload's code never runs.
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pth"
    torch.save({"weight": _Payload(marker)}, path)
    with pytest.raises(DataUnavailableError, match="holds more than tensors"):
        load_verified_weights(path, sha256_of(path)[:8])
    assert not marker.exists(), "the pickled payload ran"


def test_torchvision_weights_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))

    def offline(url, *args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    with pytest.raises(DataUnavailableError, match="download that file by hand") as err:
        load_backbone("vgg16")
    assert str(tmp_path / "hub" / "checkpoints" / "vgg16-397923af.pth") in str(err.value)
    assert "efficientnet_lite0" in str(err.value)
    assert not list(tmp_path.rglob("*.pth")), "nothing half-written left in the cache"
