"""Command line of the course.

``python -m course_utils evaluate --hr DIR --scale 3 [--method bicubic | --model espcn |
--checkpoint FILE]`` scores an upscaler with the standard SR recipe;
``python -m course_utils pretrain --model espcn --scale 3`` trains a source model.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from dataclasses import replace
from pathlib import Path

from . import data
from .evaluate import UPSCALERS, evaluate_folder, model_upscaler


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
    method = _method(args)
    result = evaluate_folder(hr_dir, args.scale, method, lr_dir)
    print(f"method: {result.method}, scale: x{args.scale}, "
          "recipe: modcrop, MATLAB bicubic LR, Y (BT.601), border crop = scale")
    print(result.table())
    if args.json:
        Path(args.json).write_text(json.dumps(result.to_dict(), indent=2))
        print(f"wrote {args.json}")
    return 0


def _method(args: argparse.Namespace):
    """The upscaler chosen by --method, --model or --checkpoint (at most one of them)."""
    from .pretrained import load_pretrained
    from .train import load_checkpoint

    chosen = [o for o, v in (("--method", args.method), ("--model", args.model),
                             ("--checkpoint", args.checkpoint)) if v is not None]
    if len(chosen) > 1:
        raise ValueError(f"give only one of {', '.join(chosen)}.")
    if args.model is not None:
        model, _ = load_pretrained(args.model, args.scale)
        return model_upscaler(model, f"{args.model}-x{args.scale} (shipped)", tile=args.tile)
    if args.checkpoint is not None:
        model, _ = load_checkpoint(args.checkpoint)
        if model.scale != args.scale:
            raise ValueError(f"{args.checkpoint} holds a x{model.scale} model; run it with "
                             f"--scale {model.scale}.")
        return model_upscaler(model, f"{args.checkpoint.name}", tile=args.tile)
    return args.method or "bicubic"


def _pretrain(args: argparse.Namespace) -> int:
    from .data import list_images, load_image
    from .pretrained import default_recipe, pretrain, pretrained_path

    images = None
    if args.hr is not None:
        paths, _ = list_images(args.hr)
        if not paths:
            raise ValueError(f"{args.hr} holds no images (PNG, JPEG, BMP or TIFF).")
        images = {p.name: load_image(p, alpha="drop") for p in paths}
    given = {k: getattr(args, k) for k in ("steps", "epochs", "batch_size", "lr", "seed",
                                            "threads") if getattr(args, k) is not None}
    recipe = replace(default_recipe(args.model, args.scale), **given)
    out = args.out or Path(f"{args.model}_x{args.scale}.safetensors")
    if out.resolve() == pretrained_path(args.model, args.scale).resolve():
        print("note: overwriting a shipped model; update its SHA-256 in data/registry.tsv")
    _, card = pretrain(args.model, args.scale, images, recipe, out=out)
    h = card["heldout"]
    print(f"trained {args.model} x{args.scale} in {card['training_seconds'] / 60:.1f} min; "
          f"held-out natural photos: {h['psnr']:.2f} dB / {h['ssim']:.4f} "
          f"(bicubic {h['bicubic_psnr']:.2f} dB / {h['bicubic_ssim']:.4f})")
    print(f"wrote {out} and its model card {out.with_suffix('.md')}")
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
    ev.add_argument("--method", choices=sorted(UPSCALERS), help="an interpolation method "
                    "(default bicubic)")
    ev.add_argument("--model", choices=["espcn", "fsrcnn"],
                    help="a shipped source model at --scale (verified by its SHA-256)")
    ev.add_argument("--checkpoint", type=Path, help="a checkpoint written by pretrain or fit")
    ev.add_argument("--tile", type=int, default=128,
                    help="run models on LR tiles of this size to bound memory (default 128)")
    ev.add_argument("--lr", type=Path, help="folder of given LR images (paired by file name)")
    ev.add_argument("--json", type=Path, help="also write the results to this JSON file")
    pt = sub.add_parser("pretrain", help="train a source SR model with the course recipe")
    pt.add_argument("--model", required=True, choices=["espcn", "fsrcnn", "fsrcnn-s",
                                                       "srcnn-915", "srcnn-955"])
    pt.add_argument("--scale", type=int, required=True)
    pt.add_argument("--hr", type=Path, help="train on this folder of HR images instead of the "
                                            "natural photos")
    for option, kind in (("--steps", int), ("--epochs", int), ("--batch-size", int),
                         ("--lr", float), ("--seed", int)):
        pt.add_argument(option, type=kind, help="default: the model's recipe "
                                                "(course_utils.pretrained.default_recipe)")
    pt.add_argument("--threads", type=int, help="CPU threads for torch (default: all)")
    pt.add_argument("--out", type=Path, help="checkpoint file (default ./MODEL_xSCALE.safetensors)")
    args = parser.parse_args(argv)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            status = _evaluate(args) if args.command == "evaluate" else _pretrain(args)
        except (ValueError, FileNotFoundError, NotADirectoryError,
                data.DataUnavailableError) as err:
            print(f"error: {err}", file=sys.stderr)
            status = 2
    for warning in caught:  # one plain line each, without Python's file/line clutter
        print(f"warning: {warning.message}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
