#!/usr/bin/env python3
"""Unit 06's experiment at a larger budget than the notebook's: what transfers to restoration.

    python benchmarks/restoration_transfer.py        # 3 seeds, about an hour on 1 thread
    python benchmarks/restoration_transfer.py --seeds 0 --epochs 2 --json build/rt.json

Gray Gaussian denoising at sigma 25 on the natural photos (training photos, validation strips,
held-out centre crops), every arm of :mod:`course_utils.experiments.restoration` with the same
patches and steps per seed: the transfer arms, the fusion sweep and the learned alpha,
Noise2Self; then the multi-task comparison (denoising, JPEG 10, Gaussian deblurring, 50 %
inpainting) and the shipped denoiser on the medical scans, zero-shot against fine-tuned. It
prints Markdown tables (mean ± sd over seeds,
:func:`course_utils.experiments.runner.summarize`; the verdicts of
:func:`~course_utils.experiments.runner.versus`) and writes every number to ``--json``.
The peak resident memory of the whole run is printed last.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from report import finish, show  # noqa: E402  (benchmarks/report.py)

from course_utils.evaluation.evaluate import (  # noqa: E402
    evaluate_images,
    model_method,
)
from course_utils.experiments import (  # noqa: E402
    fusion_arms,
    learned_alphas,
    medical_arms,
    medical_data,
    multitask_table,
    natural_photo_data,
    noise2self_arm,
    restoration_arms,
    run_arms,
    run_multitask,
    summarize,
    versus,
)
from course_utils.zoo.shipped import load_pretrained  # noqa: E402

MULTITASK = ("denoise-25-gray", "jpeg-10-gray", "deblur-gaussian:1.6,0.01-gray",
             "inpaint-random:0.5-gray")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--photos", type=int, default=6, help="training photos")
    parser.add_argument("--patch", type=int, default=32)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=100, help="steps per epoch")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--heldout-side", type=int, default=256)
    parser.add_argument("--medical-scans", type=int, default=4)
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: all)")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    settings = dict(patch_lr=args.patch, batch=args.batch, steps_per_epoch=args.steps,
                    heldout_side=args.heldout_side)
    start = time.perf_counter()
    out: dict = {"settings": vars(args) | {"json": str(args.json)},
                 "threads": torch.get_num_threads()}

    data = natural_photo_data("denoise-25-gray", args.photos, **settings)
    baselines = [evaluate_images(data.heldout, data.task, m)
                 for m in ("none", "nlm", "wavelet")]
    arms = restoration_arms() + fusion_arms() + [noise2self_arm()]
    results = run_arms(arms, data, epochs=args.epochs, seeds=args.seeds, progress=False)
    table = summarize(results, baselines)
    out["arms"] = table
    show(f"denoise-25-gray, {args.photos} photos, {args.epochs * args.steps} steps of batch "
         f"{args.batch} ({args.patch}px), held-out crops {args.heldout_side}px, "
         f"seeds {args.seeds}", table)
    out["versus scratch"] = versus(results, "scratch")
    show("each arm minus scratch, seed by seed", out["versus scratch"])
    out["learned alpha"] = {kind: learned_alphas(results.model(f"fusion, learned per {kind}",
                                                               seed))
                            for kind in ("layer", "channel") for seed in args.seeds[:1]}
    for kind, rows in out["learned alpha"].items():
        show(f"learned α per {kind} (seed {args.seeds[0]})", rows)

    tasks = [natural_photo_data(t, args.photos, **{**settings, "heldout_side": 256})
             for t in MULTITASK]
    multitask = run_multitask(tasks, epochs=args.epochs, seeds=args.seeds, progress=False)
    out["multitask"] = multitask_table(multitask, MULTITASK)
    show("multi-task: one shared trunk, a head per task, against separate models "
         "(same total steps)", out["multitask"])

    medical = medical_data("denoise-25-gray", train_limit=args.medical_scans,
                           patch_lr=48, batch=16, steps_per_epoch=args.steps // 2)
    zero_shot = evaluate_images(medical.heldout, medical.task,
                                model_method(load_pretrained("dncnn_denoise-25-gray")[0],
                                             "zero-shot"))
    medical_none = evaluate_images(medical.heldout, medical.task,
                                   "none")
    medical_results = run_arms(medical_arms(), medical, epochs=args.epochs, seeds=args.seeds,
                               progress=False)
    out["medical"] = summarize(medical_results, [zero_shot, medical_none])
    show(f"medical scans, denoise-25-gray, {args.medical_scans} training scans, "
         f"{args.epochs * args.steps // 2} steps of batch 16 (48px)", out["medical"])
    out["medical versus zero-shot"] = versus(medical_results, zero_shot)
    show("medical: minus zero-shot", out["medical versus zero-shot"])

    finish(out, start, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
