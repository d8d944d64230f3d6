"""Tests of course_utils.experiment (controlled arms) and benchmarks/transfer.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from conftest import make_smooth
from course_utils.evaluate import evaluate_images, model_upscaler
from course_utils.experiment import Arm, run_arms, summarize, transfer_arms
from course_utils.models import build_model
from course_utils.patches import SRPatches
from course_utils.pretrained import validation_pairs

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def setup():
    images = [make_smooth(48, 48, seed=i) for i in range(2)]
    heldout = {"a": make_smooth(36, 36, seed=5)}
    val = validation_pairs(images[:1], 2, mode="rgb")
    calls = []

    def make_loader(seed):
        calls.append(seed)
        return DataLoader(SRPatches(images, 2, patch_size=16, mode="rgb", samples_per_epoch=8,
                                    seed=seed), batch_size=4)

    return images, heldout, val, make_loader, calls


def test_run_arms_and_summarize(setup):
    _, heldout, val, make_loader, calls = setup
    arms = [Arm("espcn", lambda: build_model("espcn", 2, channels=3)),
            Arm("fsrcnn-s", lambda: build_model("fsrcnn-s", 2, channels=3), lr=1e-2)]
    results = run_arms(arms, make_loader, val, heldout, 2, epochs=2, seeds=[0, 1],
                       progress=False)
    assert calls == [0, 1], "one loader per seed, shared by its arms"
    assert [(r.arm, r.seed) for r in results] == [("espcn", 0), ("fsrcnn-s", 0),
                                                 ("espcn", 1), ("fsrcnn-s", 1)]
    assert all(len(r.history.val_psnr) == 2 and r.trainable > 0 for r in results)
    # the reported score is the evaluation of the returned model
    again = evaluate_images(heldout, 2, model_upscaler(results[0].model))
    assert again.mean_psnr == pytest.approx(results[0].heldout.mean_psnr)
    # the same seed gives the same model
    repeat = run_arms(arms[:1], make_loader, val, heldout, 2, epochs=2, seeds=[0],
                      progress=False)[0]
    for a, b in zip(repeat.model.state_dict().values(), results[0].model.state_dict().values(),
                    strict=True):
        torch.testing.assert_close(a, b)

    bicubic = evaluate_images(heldout, 2, "bicubic")
    table = summarize(results, baseline=bicubic)
    assert [row["arm"] for row in table] == ["bicubic", "espcn", "fsrcnn-s"]
    psnrs = [r.heldout.mean_psnr for r in results if r.arm == "espcn"]
    assert table[1]["PSNR (dB)"] == pytest.approx(np.mean(psnrs))
    assert table[1]["± PSNR"] == pytest.approx(np.std(psnrs, ddof=1))
    assert table[1]["gain (dB)"] == pytest.approx(np.mean(psnrs) - bicubic.mean_psnr)
    assert summarize(results[:1])[0]["± PSNR"] == 0.0


def test_transfer_arms_build_what_they_say():
    arms = transfer_arms(4)
    assert [a.name for a in arms] == ["ESPCN (scratch)", "U-Net, random encoder",
                                      "U-Net, frozen pretrained", "U-Net, fine-tuned pretrained"]
    frozen = arms[2].build()
    assert not any(p.requires_grad for p in frozen.encoder.parameters())
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
    rows = json.loads(out.read_text())
    assert len(rows) == 4 and all(r["peak_mib"] > 100 and np.isfinite(r["psnr"]) for r in rows)
