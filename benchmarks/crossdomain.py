#!/usr/bin/env python3
"""Unit 05's transfer experiment, domain by domain: held-out PSNR/SSIM, time and peak memory.

    python benchmarks/crossdomain.py                      # full mode's settings, 3 seeds
    python benchmarks/crossdomain.py --domains medical --seeds 0 --epochs 2

The settings default to notebook 05's full mode: the shipped ESPCN x3 source model; all 16
training images of each domain; 8 epochs of 100 steps of 16 LR patches of 16 pixels; the arms
of ``course_utils.experiments.crossdomain.cross_domain_arms`` and, with ``--joint``, the
joint design (``joint_arms``, its source pretraining included). Each domain runs in its own
child process (``--one DOMAIN``), so that its peak resident memory (``ru_maxrss``, torch
included) is its own. The parent prints one Markdown table per domain: mean ± sample
standard deviation over seeds (``course_utils.experiments.runner.summarize``), and the mean
training time per model.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from report import print_table, write_json  # noqa: E402  (benchmarks/report.py)

from course_utils.evaluation.evaluate import evaluate_images, model_method  # noqa: E402
from course_utils.experiments.crossdomain import (  # noqa: E402
    cross_domain_arms,
    joint_arms,
    load_domain_data,
    pretrain_joint,
)
from course_utils.experiments.runner import run_arms, summarize  # noqa: E402
from course_utils.zoo.shipped import load_pretrained  # noqa: E402


def one(domain: str, args: argparse.Namespace) -> dict:
    if args.threads:
        torch.set_num_threads(args.threads)
    start = time.perf_counter()
    data = load_domain_data(domain, args.scale, patch_lr=args.patch, batch=args.batch,
                            steps_per_epoch=args.steps)
    source = load_pretrained(f"{args.model}_x{args.scale}")[0]
    baselines = [evaluate_images(data.heldout, data.task, "bicubic"),
                 evaluate_images(data.heldout, data.task,
                                 model_method(source, "source zero-shot"))]
    arms = cross_domain_arms(args.model, args.scale, finetune_lr=args.finetune_lr,
                             l2sp_alpha=args.alpha)
    if args.joint:
        arms += joint_arms(args.scale, pretrain_joint(args.scale, args.joint_steps,
                                                      progress=False))
    results = run_arms(arms, data, epochs=args.epochs, seeds=args.seeds, progress=False)
    return {"domain": domain, "train_images": len(data.train),
            "heldout_images": len(data.heldout), "rows": summarize(results, baselines),
            "seconds": time.perf_counter() - start, "threads": torch.get_num_threads(),
            "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains", nargs="+", default=["medical", "satellite"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--model", default="espcn", help="shipped source model")
    parser.add_argument("--scale", type=int, default=3)
    parser.add_argument("--patch", type=int, default=16, help="LR patch side")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=100, help="steps per epoch")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--finetune-lr", type=float, default=3e-4)
    parser.add_argument("--alpha", type=float, default=0.01, help="L2-SP strength")
    parser.add_argument("--joint", action="store_true", help="add the joint design's arms")
    parser.add_argument("--joint-steps", type=int, default=600)
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: all)")
    parser.add_argument("--json", type=Path, help="also write the tables to this file")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.one:
        print(json.dumps(one(args.one, args)))
        return 0

    forwarded = []
    for name in ("seeds", "model", "scale", "patch", "batch", "steps", "epochs",
                 "finetune_lr", "alpha", "joint_steps", "threads"):
        value = getattr(args, name)
        if value is not None:
            values = value if isinstance(value, list) else [value]
            forwarded += [f"--{name.replace('_', '-')}", *map(str, values)]
    forwarded += ["--joint"] if args.joint else []
    reports = []
    for domain in args.domains:
        done = subprocess.run([sys.executable, __file__, "--one", domain, *forwarded],
                              capture_output=True, text=True)
        if done.returncode:
            print(f"{domain} failed:\n{done.stderr}", file=sys.stderr)
            return 1
        reports.append(json.loads(done.stdout.strip().splitlines()[-1]))

    print(f"{args.model} x{args.scale} source; {args.epochs * args.steps} steps of batch "
          f"{args.batch} ({args.patch}px LR patches) per model; seeds {args.seeds}")
    for report in reports:
        print(f"\n{report['domain']}: {report['train_images']} training images, "
              f"{report['heldout_images']} held out; {report['seconds']:.0f} s in all, peak "
              f"{report['peak_mib']:.0f} MiB, {report['threads']} threads\n")
        print_table(["arm", "PSNR (dB), mean ± sd", "SSIM, mean ± sd", "gain (dB)",
                     "train time (s)"],
                    [[row["arm"], f"{row['PSNR (dB)']:.2f} ± {row['± PSNR']:.2f}",
                      f"{row['SSIM']:.4f} ± {row['± SSIM']:.4f}", f"{row['gain (dB)']:+.2f}",
                      f"{row['train time (s)']:.1f}" if row["seeds"] != "-" else "-"]
                     for row in report["rows"]])
    write_json(args.json, reports)
    return 0


if __name__ == "__main__":
    sys.exit(main())
