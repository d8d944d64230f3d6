#!/usr/bin/env python3
"""Inference speed and memory of the SR models for one 512x512 output image.

    python benchmarks/inference.py                   # shipped models, CPU, all threads
    python benchmarks/inference.py --threads 1 --size 1024
    python benchmarks/inference.py --models espcn srcnn-915 --scales 3 --untrained

Each (model, scale) runs in its own child process (``--one NAME SCALE``), so that the peak
memory of one model does not hide the next: the child runs
:func:`course_utils.evaluation.inference.throughput` (a warm-up run, then ``--repeats`` timed
runs of ``reconstruct`` on an RGB LR image of size/scale pixels per side, Y channel through the
model, tiled at 128 LR pixels) and prints one JSON line. Peak memory is the child's peak
resident set size, so it includes about 400-700 MiB for importing torch itself.

The parent prints a Markdown table. ``--untrained`` times randomly initialised models, for
the architectures that are not shipped (the speed does not depend on the weights).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from report import print_table, write_json  # noqa: E402  (benchmarks/report.py)

from course_utils.evaluation.inference import throughput  # noqa: E402
from course_utils.models import count_parameters, get_model  # noqa: E402
from course_utils.zoo.cards import hardware  # noqa: E402
from course_utils.zoo.shipped import load_pretrained  # noqa: E402


def one(name: str, scale: int, size: int, repeats: int, untrained: bool, threads: int | None,
        device: str) -> dict:
    if threads:
        torch.set_num_threads(threads)
    model = get_model(name, scale=scale) if untrained else load_pretrained(f"{name}_x{scale}")[0]
    model.to(device)
    stats = throughput(model, output_size=size, repeats=repeats)
    return {"model": name, "scale": scale, "parameters": count_parameters(model),
            "threads": torch.get_num_threads(), "device": device, "size": size,
            "device_name": hardware() if device == "cpu" else torch.cuda.get_device_name(0),
            **stats}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["espcn", "fsrcnn"])
    parser.add_argument("--scales", nargs="+", type=int, default=[2, 3, 4])
    parser.add_argument("--size", type=int, default=512, help="output side in pixels")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: all)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--untrained", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    parser.add_argument("--one", nargs=2, metavar=("NAME", "SCALE"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.one:
        row = one(args.one[0], int(args.one[1]), args.size, args.repeats, args.untrained,
                  args.threads, args.device)
        print(json.dumps(row))
        return 0

    rows = []
    for name in args.models:
        for scale in args.scales:
            cmd = [sys.executable, __file__, "--one", name, str(scale), "--size", str(args.size),
                   "--repeats", str(args.repeats), "--device", args.device]
            cmd += ["--untrained"] if args.untrained else []
            cmd += ["--threads", str(args.threads)] if args.threads else []
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode:
                print(f"{name} x{scale} failed:\n{done.stderr}", file=sys.stderr)
                return 1
            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))

    print(f"Output {args.size}x{args.size} RGB (Y through the model), {args.device}\n")
    print_table(["model", "scale", "parameters", "threads", "images/s", "ms/image", "peak MiB"],
                [[r["model"], f"x{r['scale']}", f"{r['parameters']:,}", r["threads"],
                  f"{r['images_per_s']:.1f}", f"{1000 * r['seconds_per_image']:.0f}",
                  f"{r['peak_mib']:.0f}"] for r in rows])
    write_json(args.json, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
