"""Command line: ``python -m course_utils evaluate --hr DIR --scale 3 --method bicubic``."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

from . import data
from .evaluate import UPSCALERS, evaluate_folder


def _evaluate(args: argparse.Namespace) -> int:
    hr_dir, lr_dir = args.hr, args.lr
    if args.benchmark:
        if hr_dir is not None:
            raise SystemExit("error: give either --hr or --benchmark, not both.")
        hr_paths, lr_paths = data.fetch_benchmark(args.benchmark, args.scale)
        hr_dir = hr_paths[0].parent
        print(f"{args.benchmark} x{args.scale}: {len(hr_paths)} HR images in {hr_dir}\n"
              f"(the set's own MATLAB-made LR images are in {lr_paths[0].parent}: pass it as "
              "--lr to use them instead of the course's imresize)")
    if hr_dir is None:
        raise SystemExit("error: give --hr DIR (a folder of HR images) or --benchmark Set5.")
    result = evaluate_folder(hr_dir, args.scale, args.method, lr_dir)
    print(f"method: {args.method}, scale: x{args.scale}, "
          "recipe: modcrop, MATLAB bicubic LR, Y (BT.601), border crop = scale")
    print(result.table())
    if args.json:
        Path(args.json).write_text(json.dumps(result.to_dict(), indent=2))
        print(f"wrote {args.json}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_utils",
                                     description="Course tools for image reconstruction.")
    sub = parser.add_subparsers(dest="command", required=True)
    ev = sub.add_parser("evaluate", help="PSNR/SSIM of an upscaling method on HR images "
                                         "with the standard SR recipe")
    ev.add_argument("--hr", type=Path, help="folder of HR images (PNG/JPEG/BMP)")
    ev.add_argument("--benchmark", choices=sorted(data.BENCHMARKS),
                    help="download and use a benchmark set instead of --hr")
    ev.add_argument("--scale", type=int, required=True, help="integer SR factor, e.g. 3")
    ev.add_argument("--method", default="bicubic", choices=sorted(UPSCALERS))
    ev.add_argument("--lr", type=Path, help="folder of given LR images (paired by file name)")
    ev.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args(argv)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            status = _evaluate(args)
        except (ValueError, FileNotFoundError, NotADirectoryError,
                data.DataUnavailableError) as err:
            print(f"error: {err}", file=sys.stderr)
            status = 2
    for warning in caught:  # one plain line each, without Python's file/line clutter
        print(f"warning: {warning.message}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
