#!/usr/bin/env python3
"""Unit 07's studies at a larger budget than the notebook's: what changes an autoencoder.

    python benchmarks/autoencoder_study.py --threads 1     # 3 seeds, about 25 min on 1 thread
    python benchmarks/autoencoder_study.py --seeds 0 --epochs 1 --steps 5 --json build/ae.json

The plain autoencoder of :mod:`course_utils.experiments.autoencoder` (RGB, a code of 16 maps
at a quarter of each side) on the natural photos (training photos, validation strips,
held-out centre crops), every arm of a study with the same patches and steps per seed:
optimiser, learning rate, loss, capacity (width), batch size (at the same number of
patches). Then overfitting: a few fixed crops, trained far past the point where the training
loss still says anything, and each remedy against that baseline. Markdown tables (mean ± sd
over seeds, :func:`course_utils.experiments.runner.summarize`; the verdicts of
:func:`~course_utils.experiments.runner.versus`) and every number in ``--json``; the peak
resident memory last.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from report import finish, show  # noqa: E402  (benchmarks/report.py)

from course_utils.experiments import (  # noqa: E402
    capacity_arms,
    learning_rate_arms,
    loss_arms,
    natural_photo_data,
    optimizer_arms,
    run_arms,
    run_batch_sizes,
    run_overfitting,
    summarize,
    tiny_data,
    versus,
)

COLUMNS = ("arm", "PSNR (dB)", "± PSNR", "SSIM", "± SSIM", "trainable parameters",
           "train time (s)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--photos", type=int, default=4, help="training photos")
    parser.add_argument("--patch", type=int, default=32)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=100, help="steps per epoch")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--heldout-side", type=int, default=256)
    parser.add_argument("--batches", nargs="+", type=int, default=[4, 16, 64])
    parser.add_argument("--tiny-crops", type=int, default=2, help="crops of the tiny set")
    parser.add_argument("--tiny-epochs", type=int, default=15,
                        help="epochs of --steps steps on the tiny set")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: all)")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    start = time.perf_counter()
    out: dict = {"settings": vars(args) | {"json": str(args.json)},
                 "threads": torch.get_num_threads()}
    data = natural_photo_data("compress-0.0067", args.photos, args.patch, args.batch,
                              args.steps, args.heldout_side)
    budget = (f"{args.photos} photos, {args.epochs * args.steps} steps of batch {args.batch} "
              f"({args.patch}px), held-out crops {args.heldout_side}px, seeds {args.seeds}")
    studies = {"optimiser": optimizer_arms(), "learning rate (Adam)": learning_rate_arms(),
               "loss": loss_arms(), "capacity (width of the network, same code)":
               capacity_arms()}
    for study, arms in studies.items():
        results = run_arms(arms, data, epochs=args.epochs, seeds=args.seeds, progress=False)
        out[study] = summarize(results)
        show(f"{study}: {budget}", out[study], COLUMNS)

    samples = args.steps * args.batch
    results = run_batch_sizes(data, args.batches, epochs=args.epochs, samples_per_epoch=samples,
                              seeds=args.seeds, progress=False)
    out["batch size"] = summarize(results)
    show(f"batch size: {samples} patches per epoch, {args.epochs} epochs (the steps are "
         f"{samples} / batch), Adam lr 1e-3, {args.patch}px, seeds {args.seeds}",
         out["batch size"], COLUMNS)

    tiny = tiny_data(data, args.tiny_crops, args.patch, args.steps)
    results = run_overfitting(tiny, epochs=args.tiny_epochs, seeds=args.seeds, progress=False)
    out["overfitting"] = summarize(results)
    show(f"overfitting: {args.tiny_crops} fixed {args.patch}px crops, "
         f"{args.tiny_epochs * args.steps} steps of batch {tiny.batch}, the same held-out crops",
         out["overfitting"], COLUMNS)
    out["overfitting versus no remedy"] = versus(results, "no remedy (last epoch)")
    show("each remedy minus no remedy, seed by seed", out["overfitting versus no remedy"])
    baseline = results.runs("no remedy (last epoch)")[0].history
    out["overfitting curve"] = [
        {"epoch": k + 1, "train PSNR (dB)": -10 * math.log10(loss), "validation PSNR (dB)": val}
        for k, (loss, val) in enumerate(zip(baseline.train_loss, baseline.val_psnr,
                                            strict=True))]
    show(f"no remedy, seed {args.seeds[0]}: training PSNR (from the MSE loss) against "
         "validation PSNR, epoch by epoch", out["overfitting curve"])

    finish(out, start, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
