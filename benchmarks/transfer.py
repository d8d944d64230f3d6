#!/usr/bin/env python3
"""Unit 04's controlled experiment, arm by arm: held-out PSNR/SSIM, time and peak memory.

    python benchmarks/transfer.py                      # full mode's settings, 3 seeds
    python benchmarks/transfer.py --seeds 0 --epochs 2 --json build/transfer.json

The settings default to notebook 04's full mode (x4 RGB super-resolution, EfficientNet-Lite0,
2 training photos, 6 epochs of 50 steps of 8 LR patches of 24 pixels, held-out centre crops of
256 pixels). Each (arm, seed) runs in its own child process (``--one ARM SEED``), so that its
peak resident memory (the child's ``ru_maxrss``, torch's own ~400-700 MiB included) is its
own. The parent prints a Markdown table per run and a summary (mean ± standard deviation over
seeds, :func:`course_utils.experiments.runner.mean_sd`, and the lowest and highest seed: the
range a student's run can expect) per arm, after the two untrained rows (MATLAB bicubic, and
the untrained U-Net, which is PyTorch's bicubic).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from report import print_table, write_json  # noqa: E402  (benchmarks/report.py)

from course_utils.evaluation.evaluate import evaluate_images, model_method  # noqa: E402
from course_utils.experiments.runner import mean_sd, run_arms  # noqa: E402
from course_utils.experiments.transfer import natural_photo_data, transfer_arms  # noqa: E402
from course_utils.models.registry import get_model  # noqa: E402
from course_utils.tasks import SuperResolution  # noqa: E402


def experiment_data(args: argparse.Namespace):
    return natural_photo_data(SuperResolution(args.scale), args.photos, args.patch, args.batch,
                              args.steps, args.heldout_side)


def one(arm_index: int, seed: int, args: argparse.Namespace) -> dict:
    if args.threads:
        torch.set_num_threads(args.threads)
    arm = transfer_arms(args.scale, args.backbone)[arm_index]
    result = run_arms([arm], experiment_data(args), epochs=args.epochs, seeds=[seed],
                      progress=False)[0]
    return {"arm": result.arm, "seed": seed, "psnr": result.heldout.mean_psnr,
            "ssim": result.heldout.mean_ssim, "train_s": result.seconds,
            "trainable": result.trainable, "threads": torch.get_num_threads(),
            "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--scale", type=int, default=4)
    parser.add_argument("--backbone", default="efficientnet_lite0")
    parser.add_argument("--photos", type=int, default=2, help="training photos")
    parser.add_argument("--patch", type=int, default=24, help="LR patch side")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=50, help="steps per epoch")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--heldout-side", type=int, default=256)
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: all)")
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    parser.add_argument("--one", nargs=2, type=int, metavar=("ARM", "SEED"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.one:
        print(json.dumps(one(args.one[0], args.one[1], args)))
        return 0

    settings = ["--scale", args.scale, "--backbone", args.backbone, "--photos", args.photos,
                "--patch", args.patch, "--batch", args.batch, "--steps", args.steps,
                "--epochs", args.epochs, "--heldout-side", args.heldout_side]
    settings += ["--threads", args.threads] if args.threads else []
    arms = range(len(transfer_arms(args.scale, args.backbone)))  # builds nothing yet
    rows = []
    for seed in args.seeds:
        for index in arms:
            cmd = [sys.executable, __file__, "--one", str(index), str(seed)]
            cmd += [str(v) for v in settings]
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode:
                print(f"arm {index} seed {seed} failed:\n{done.stderr}", file=sys.stderr)
                return 1
            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))

    print(f"x{args.scale} RGB SR, {args.backbone}, {args.photos} training photos, "
          f"{args.epochs * args.steps} steps of batch {args.batch} ({args.patch}px LR "
          f"patches), held-out crops {args.heldout_side}px\n")
    print("| arm | seed | PSNR (dB) | SSIM | train time (s) | peak MiB | threads |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['arm']} | {r['seed']} | {r['psnr']:.2f} | {r['ssim']:.4f} | "
              f"{r['train_s']:.0f} | {r['peak_mib']:.0f} | {r['threads']} |")
    data = experiment_data(args)
    untrained = get_model("backbone-unet", scale=args.scale, backbone=args.backbone).eval()
    summary = []
    for label, method in (("bicubic", "bicubic"),
                          ("untrained U-Net (PyTorch bicubic)", model_method(untrained))):
        scores = evaluate_images(data.heldout, data.task, method)
        summary.append([label, f"{scores.mean_psnr:.2f}", f"{scores.mean_psnr:.2f}",
                        f"{scores.mean_ssim:.4f}", "-", "-"])
    for arm in dict.fromkeys(r["arm"] for r in rows):
        runs = [r for r in rows if r["arm"] == arm]
        psnr, psnr_sd = mean_sd(r["psnr"] for r in runs)
        ssim, ssim_sd = mean_sd(r["ssim"] for r in runs)
        low, high = min(r["psnr"] for r in runs), max(r["psnr"] for r in runs)
        summary.append([arm, f"{psnr:.2f} ± {psnr_sd:.2f}", f"{low:.2f} to {high:.2f}",
                        f"{ssim:.4f} ± {ssim_sd:.4f}",
                        f"{np.mean([r['train_s'] for r in runs]):.0f}",
                        f"{max(r['peak_mib'] for r in runs):.0f}"])
    print()
    print_table(["arm", "PSNR (dB), mean ± sd", "PSNR range over seeds", "SSIM, mean ± sd",
                 "train time (s)", "peak MiB"], summary)
    write_json(args.json, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
