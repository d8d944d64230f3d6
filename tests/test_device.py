"""Tests of course_utils.device: device choice and seeding."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from course_utils.device import environment_report, get_device, seed_everything


def test_get_device_prefers_cuda_then_mps_then_cpu(monkeypatch):
    mps = getattr(torch.backends, "mps", None)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    if mps is not None:
        monkeypatch.setattr(mps, "is_available", lambda: False)
    assert get_device() == torch.device("cpu")
    if mps is not None:
        monkeypatch.setattr(mps, "is_available", lambda: True)
        assert get_device() == torch.device("mps")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert get_device() == torch.device("cuda")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_get_device_is_cpu_here():
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        pytest.skip("this machine has Apple's MPS")
    device = get_device()
    assert device.type == "cpu"
    assert torch.zeros(2).to(device).device.type == "cpu"


def test_seed_everything_is_reproducible():
    def draw(seed):
        rng = seed_everything(seed)
        legacy = np.random.rand(5)  # noqa: NPY002 - the global state students may still use
        return (torch.rand(5), legacy, random.random(), rng.random(5))

    a, b, c = draw(42), draw(42), draw(43)
    assert torch.equal(a[0], b[0]) and not torch.equal(a[0], c[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])
    assert a[2] == b[2] != c[2]
    np.testing.assert_array_equal(a[3], b[3])
    np.testing.assert_array_equal(a[3], np.random.default_rng(42).random(5))


def test_seed_everything_accepts_numpy_and_large_integers():
    assert isinstance(seed_everything(np.int64(7)), np.random.Generator)
    first = torch.rand(3)
    torch.manual_seed(7)
    assert torch.equal(first, torch.rand(3))  # the NumPy integer seeded torch with 7
    rng = seed_everything(2**40)  # larger than NumPy's legacy 32-bit seed range
    np.testing.assert_array_equal(rng.random(3), np.random.default_rng(2**40).random(3))


@pytest.mark.parametrize("seed", [-1, 1.5, "3", None])
def test_seed_everything_rejects_bad_seeds(seed):
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        seed_everything(seed)


def test_environment_report_names_versions_device_and_mode(monkeypatch):
    monkeypatch.setenv("COURSE_FAST", "1")
    report = environment_report()
    assert report["torch"] == torch.__version__ and report["numpy"] == np.__version__
    assert report["device"].startswith(f"{get_device().type} (")
    assert report["mode"] == "fast (COURSE_FAST=1)"
    monkeypatch.setenv("COURSE_FAST", "0")
    assert environment_report()["mode"] == "full"
