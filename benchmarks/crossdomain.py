#!/usr/bin/env python3
"""Unit 05's transfer experiment, domain by domain: held-out PSNR/SSIM, time and peak memory.

    python benchmarks/crossdomain.py                      # full mode's settings, 3 seeds
    python benchmarks/crossdomain.py --domains medical --seeds 0 --epochs 2
    python benchmarks/crossdomain.py --sweep              # how the learning rates and alpha
                                                          # were chosen: on validation images

The settings default to notebook 05's full mode: the shipped ESPCN x3 source model; all 16
training images of each domain; 8 epochs of 100 steps of 16 LR patches of 16 pixels; the arms
of ``course_utils.experiments.crossdomain.cross_domain_arms`` and, with ``--joint``, the
joint design (``joint_arms``, its source pretraining included). Each domain runs in its own
child process (``--one DOMAIN``), so that its peak resident memory (``ru_maxrss``, torch
included) is its own. The parent prints one Markdown table per domain: mean ± sample
standard deviation over seeds (``course_utils.experiments.runner.summarize``), and the mean
training time per model.

``--sweep`` instead trains, per domain and seed, scratch at learning rates 1e-3, 3e-3 and
1e-2, "fine-tune all" at 1e-4, 3e-4 and 1e-3, and L2-SP at alpha 0.001, 0.01 and 0.1 (at the
fine-tuning rate of ``--finetune-lr``), and prints each one's best **validation** PSNR (the
domain's validation scans or tiles, never the held-out ones): the values notebook 05 uses are
the best of these.
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


def domain_data(domain: str, args: argparse.Namespace):
    """The domain's data at the benchmark's settings (after setting the thread count)."""
    if args.threads:
        torch.set_num_threads(args.threads)
    return load_domain_data(domain, args.scale, patch_lr=args.patch, batch=args.batch,
                            steps_per_epoch=args.steps)


def one(domain: str, args: argparse.Namespace) -> dict:
    start = time.perf_counter()
    data = domain_data(domain, args)
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


SWEEP = {"scratch": ("lr", (1e-3, 3e-3, 1e-2)),
         "fine-tune all": ("finetune_lr", (1e-4, 3e-4, 1e-3)),
         "L2-SP": ("l2sp_alpha", (0.001, 0.01, 0.1))}


def sweep(domain: str, args: argparse.Namespace) -> dict:
    """Validation PSNR of each setting of :data:`SWEEP` (mean over seeds)."""
    start = time.perf_counter()
    data = domain_data(domain, args)
    rows = []
    for arm_name, (setting, values) in SWEEP.items():
        for value in values:
            settings = {"finetune_lr": args.finetune_lr, "l2sp_alpha": args.alpha,
                        setting: value}
            arm = next(a for a in cross_domain_arms(args.model, args.scale, **settings)
                       if a.name == arm_name)
            runs = run_arms([arm], data, epochs=args.epochs, seeds=args.seeds, progress=False)
            rows.append({"arm": arm_name, "setting": setting, "value": value,
                         "validation PSNR": float(sum(r.history.best_psnr for r in runs)
                                                  / len(runs))})
    return {"domain": domain, "rows": rows, "seconds": time.perf_counter() - start}


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
    parser.add_argument("--finetune-lr", type=float, default=1e-3)
    parser.add_argument("--alpha", type=float, default=0.001, help="L2-SP strength")
    parser.add_argument("--joint", action="store_true", help="add the joint design's arms")
    parser.add_argument("--joint-steps", type=int, default=600)
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: all)")
    parser.add_argument("--json", type=Path, help="also write the tables to this file")
    parser.add_argument("--sweep", action="store_true",
                        help="choose the learning rates and alpha on validation images")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.one:
        print(json.dumps(sweep(args.one, args) if args.sweep else one(args.one, args)))
        return 0

    forwarded = []
    for name in ("seeds", "model", "scale", "patch", "batch", "steps", "epochs",
                 "finetune_lr", "alpha", "joint_steps", "threads"):
        value = getattr(args, name)
        if value is not None:
            values = value if isinstance(value, list) else [value]
            forwarded += [f"--{name.replace('_', '-')}", *map(str, values)]
    forwarded += ["--joint"] if args.joint else []
    forwarded += ["--sweep"] if args.sweep else []
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
    if args.sweep:
        for report in reports:
            print(f"\n{report['domain']}: best validation PSNR (dB), mean over seeds; "
                  f"{report['seconds']:.0f} s\n")
            best = {}
            for row in report["rows"]:
                if row["validation PSNR"] > best.get(row["arm"], (None, -1e9))[1]:
                    best[row["arm"]] = (row["value"], row["validation PSNR"])
            print_table(["arm", "setting", "value", "validation PSNR (dB)", "best"],
                        [[row["arm"], row["setting"], f"{row['value']:g}",
                          f"{row['validation PSNR']:.3f}",
                          "*" if best[row["arm"]][0] == row["value"] else ""]
                         for row in report["rows"]])
        write_json(args.json, reports)
        return 0
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
