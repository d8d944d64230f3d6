"""Unit 07's transfer experiment (course_utils.experiments.codec_transfer), on a tiny codec."""

from __future__ import annotations

import pytest
import torch

from conftest import make_smooth
from course_utils.experiments import codec_transfer, finetune_codec
from course_utils.images import to_uint8
from course_utils.models import get_model, load_checkpoint, save_checkpoint


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("codec") / "tiny.safetensors"
    torch.manual_seed(0)
    save_checkpoint(path, get_model("factorized-codec", N=8, M=8), {"task": "compress-0.01"})
    return path


@pytest.fixture(scope="module")
def scans():
    return {f"scan {i}": to_uint8(make_smooth(176, 144, channels=None, seed=i)) for i in range(2)}


def test_finetuning_starts_from_the_codec_and_changes_it(checkpoint, scans):
    model, card = finetune_codec(str(checkpoint), scans, steps=2, epochs=1, lr=1e-3)
    start, _ = load_checkpoint(checkpoint)
    assert card["initialised_from"]["model"] == str(checkpoint)
    assert card["task"] == "compress-0.01" and card["recipe"]["steps"] == 2
    assert card["heldout"]["bpp"] > 0  # scored on the natural photos after fine-tuning
    moved = [not torch.equal(a, b) for a, b in zip(model.state_dict().values(),
                                                   start.state_dict().values(), strict=True)]
    assert any(moved)


def test_codec_transfer_scores_zero_shot_and_fine_tuned_on_the_heldout_scans(checkpoint, scans):
    heldout = {"held": to_uint8(make_smooth(64, 80, channels=None, seed=9))}
    out = codec_transfer([str(checkpoint)], scans, heldout, steps=2, epochs=1)
    (row,) = out["rows"]
    assert row["lambda"] == 0.01
    assert row["zero-shot bpp"] > 0 and row["fine-tuned bpp"] > 0
    assert row["zero-shot PSNR (dB)"] != row["fine-tuned PSNR (dB)"]
    assert [p["quality"] for p in out["jpeg"]] == sorted(p["quality"] for p in out["jpeg"])
    rates = [p["bpp"] for p in out["jpeg"]]
    assert rates == sorted(rates) and len(set(rates)) == len(rates)
    assert out["bd_rate"] == {"zero-shot vs JPEG": None, "fine-tuned vs JPEG": None,
                              "fine-tuned vs zero-shot": None}, "one codec: no BD-rate"
