#!/usr/bin/env python3
"""Restoration on the held-out natural photos: every method's PSNR, SSIM and time per image.

    python benchmarks/restoration.py                       # every task below, gray
    python benchmarks/restoration.py --tasks denoise-25-gray --json build/restoration.json
    python benchmarks/restoration.py --images DIR          # your own clean images

For each task, the held-out photos (``course_utils.data.domain_images("natural", "heldout")``,
or ``--images``) are degraded with the evaluation's seeds and restored by ``none`` (the
degraded input), every classical method of the task's kind
(``course_utils.evaluation.classical``; BM3D only if the optional ``bm3d`` package is
installed) and every shipped model of the task's kind, with
``course_utils.evaluation.evaluate.evaluate_images``, the code of ``python -m course_utils
evaluate``. Each method first runs once on a small image, untimed, so that one-time costs
(imports, the first call of a torch model) do not count as the first image's time. Times are
wall seconds per image with the threads torch and NumPy use (``--threads``).

It then checks the issue's targets for the shipped models at sigma 25 and JPEG quality 10 and
prints each as met or missed (the figures, not a pass/fail of the script: it always exits 0
after a complete run).
"""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from report import print_table, write_json  # noqa: E402  (benchmarks/report.py)

from course_utils.data.catalogue import domain_images  # noqa: E402
from course_utils.data.downloads import DataUnavailableError  # noqa: E402
from course_utils.data.io import ImageFolder  # noqa: E402
from course_utils.evaluation.classical import bm3d_available, classical_for  # noqa: E402
from course_utils.evaluation.evaluate import evaluate_images, model_method  # noqa: E402
from course_utils.tasks import get_task  # noqa: E402
from course_utils.zoo.cards import hardware  # noqa: E402
from course_utils.zoo.shipped import SHIPPED, load_pretrained  # noqa: E402

#: The tasks of the default run: the published denoising levels, JPEG 10 and 20, a Gaussian
#: and a motion blur with a little noise, and three inpainting masks; all gray, as the
#: published restoration tables are.
TASKS = ["denoise-15-gray", "denoise-25-gray", "denoise-50-gray", "jpeg-10-gray",
         "jpeg-20-gray", "deblur-gaussian:2,0.01-gray", "deblur-motion:15:30,0.01-gray",
         "inpaint-random:0.5-gray", "inpaint-block:32-gray", "inpaint-text-gray"]


@functools.cache
def shipped_method(name: str):
    """A shipped model as a method, loaded (and its hash verified) once for every task."""
    model, _ = load_pretrained(name)
    return model_method(model, name)


def methods_for(task_spec: str) -> dict:
    """``{label: method}`` for a task: none, the classical methods, the shipped models of its
    kind (a denoiser trained at sigma 25 is also scored at 15 and 50)."""
    task = get_task(task_spec)
    methods = {"none": "none"}
    for name in classical_for(task.kind):
        if name != "bm3d" or bm3d_available():
            methods[name] = name
    for shipped in SHIPPED:
        if get_task(shipped.task).kind == task.kind and task.scale == 1:
            try:
                methods[shipped.name] = shipped_method(shipped.name)
            except DataUnavailableError as err:  # not trained or not downloadable here
                print(f"skipping {shipped.name}: {err}", flush=True)
    return methods


def warm_up(task_spec: str, method) -> None:
    """Run ``method`` once on a small image, untimed (imports, first torch call)."""
    image = np.linspace(0, 1, 64 * 64).reshape(64, 64)
    evaluate_images({"warm-up": image}, task_spec, method)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=TASKS)
    parser.add_argument("--images", type=Path, help="a folder of clean images instead of the "
                                                    "held-out natural photos")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's)")
    parser.add_argument("--json", type=Path, help="write the rows here (build/restoration.json)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    images = (ImageFolder(args.images, "clean") if args.images
              else domain_images("natural", "heldout"))
    print(f"{len(images)} images, {hardware()}; BM3D "
          + ("installed" if bm3d_available() else "not installed (`pip install bm3d`, "
             "non-commercial licence, adds its row)"), flush=True)
    rows = []
    for spec in args.tasks:
        for label, method in methods_for(spec).items():
            warm_up(spec, method)
            result = evaluate_images(images, spec, method)
            rows.append({"task": spec, "method": label, "psnr": result.mean_psnr,
                         "ssim": result.mean_ssim, "seconds": result.mean_seconds,
                         "per_image": result.rows})
            print(f"  {spec:30} {label:24} {result.mean_psnr:6.2f} dB "
                  f"{result.mean_ssim:.4f} {result.mean_seconds:8.3f} s/image", flush=True)
    print()
    print_table(["task", "method", "PSNR (dB)", "SSIM", "time per image (s)"],
                [(r["task"], r["method"], f"{r['psnr']:.2f}", f"{r['ssim']:.4f}",
                  f"{r['seconds']:.3f}") for r in rows])
    print()
    for line in targets(rows):
        print(line)
    write_json(args.json, {"hardware": hardware(), "threads": torch.get_num_threads(),
                           "images": list(images), "rows": rows})
    return 0


def targets(rows: list[dict]) -> list[str]:
    """The issue's quality and speed targets, each as a line: met or missed, with figures."""
    by = {(r["task"], r["method"]): r for r in rows}
    lines = []
    denoiser = by.get(("denoise-25-gray", "dncnn_denoise-25-gray"))
    if denoiser:
        for baseline in ("nlm", "wavelet"):
            if (b := by.get(("denoise-25-gray", baseline))):
                gain = denoiser["psnr"] - b["psnr"]
                lines.append(f"denoiser vs {baseline} at sigma 25: {gain:+.2f} dB (target +1.00): "
                             + ("met" if gain >= 1.0 else "missed"))
        if (b := by.get(("denoise-25-gray", "bm3d"))):
            gap = denoiser["psnr"] - b["psnr"]
            speed = b["seconds"] / denoiser["seconds"]
            lines.append(f"denoiser vs BM3D: {gap:+.2f} dB (target -0.20 or better): "
                         + ("met" if gap >= -0.2 else "missed"))
            lines.append(f"denoiser speed: {speed:.1f} times BM3D's (target 10): "
                         + ("met" if speed >= 10 else "missed"))
    remover = by.get(("jpeg-10-gray", "dncnn_jpeg-10-gray"))
    if remover and (b := by.get(("jpeg-10-gray", "none"))):
        gain = remover["psnr"] - b["psnr"]
        lines.append(f"JPEG remover at quality 10: {gain:+.2f} dB over the JPEG input "
                     "(target +1.00): " + ("met" if gain >= 1.0 else "missed"))
    return lines


if __name__ == "__main__":
    sys.exit(main())
