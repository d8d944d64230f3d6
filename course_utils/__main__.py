"""Command line of the course.

``python -m course_utils evaluate --hr DIR --scale 3 [--method bicubic | --model espcn_x3 |
--checkpoint FILE]`` scores a method with a task's recipe (``--task denoise-25`` for
restoration); ``python -m course_utils pretrain --model espcn --scale 3`` trains a source
model; ``python -m course_utils models [--json]`` lists the shipped models.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import warnings
from dataclasses import replace
from pathlib import Path

from .data.downloads import BENCHMARKS, DataUnavailableError, fetch_benchmark
from .data.io import MAX_PIXELS, list_images, load_image, write_text
from .data.pairs import split_for_validation
from .evaluation.evaluate import METHODS, default_method, evaluate_folder, model_method
from .models.checkpoint import load_checkpoint
from .models.registry import list_models, model_spec
from .tasks import SuperResolution, Task, get_task
from .zoo.recipes import default_recipe, pretrain
from .zoo.shipped import SHIPPED, load_pretrained, shipped_model, zoo_rows


def _positive(kind: type) -> callable:
    """An argparse type: a number of ``kind`` greater than 0."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid {kind.__name__} value: {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
        return value
    parse.__name__ = kind.__name__
    return parse


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def _check_output(path: Path, option: str, suffix: str | None = None) -> None:
    """Fail before any work if ``path`` cannot be written (a folder, a read-only folder)."""
    if suffix is not None and path.suffix != suffix:
        raise ValueError(f"{option} {path}: the file must end in {suffix}"
                         + (" (its model card is written beside it, as .md)"
                            if suffix == ".safetensors" else "") + ".")
    if path.is_dir():
        example = path / ("results.json" if suffix is None else f"model{suffix}")
        raise ValueError(f"{option} {path} is a folder; give a file name inside it, e.g. "
                         f"{option} {example}.")
    folder = next((p for p in path.absolute().parents if p.exists()), Path("/"))
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(f"{option} {path}: cannot write in {folder} (permission denied); "
                         "choose another place.")


def _task(args: argparse.Namespace, implied: str | None = None) -> Task:
    """The task of --task or --scale (SR), else the one a model implies; they must agree."""
    given = [get_task(args.task)] if args.task else []
    given += [SuperResolution(args.scale)] if args.scale is not None else []
    if implied is not None:
        given.append(get_task(implied))
    names = {t.name for t in given}
    if len(names) > 1:
        raise ValueError(f"the options ask for different tasks: {', '.join(sorted(names))}; "
                         "give the one the model was trained for.")
    if not given:
        raise ValueError("give the task: --scale S for super-resolution, or --task SPEC "
                         "(sr-x3, denoise-25, deblur-1.6, inpaint-0.5, jpeg-10).")
    return given[0]


def _method(args: argparse.Namespace):
    """``(task, method)`` of --method, --model or --checkpoint (at most one of them)."""
    chosen = [o for o, v in (("--method", args.method), ("--model", args.model),
                             ("--checkpoint", args.checkpoint)) if v is not None]
    if len(chosen) > 1:
        raise ValueError(f"give only one of {', '.join(chosen)}.")
    if args.model is not None:
        task = _task(args, shipped_model(args.model).task)
        model, _ = load_pretrained(args.model)
        return task, model_method(model, f"{args.model} (shipped)", tile=args.tile)
    if args.checkpoint is not None:
        model, card = load_checkpoint(args.checkpoint)
        implied = card.get("task") or (f"sr-x{model.scale}" if model.scale > 1 else None)
        task = _task(args, implied)
        if task.scale != model.scale:
            raise ValueError(f"{args.checkpoint} holds a model of scale {model.scale}; it cannot "
                             f"do {task.name}.")
        return task, model_method(model, args.checkpoint.name, tile=args.tile)
    task = _task(args)
    return task, args.method or default_method(task)


def _evaluate(args: argparse.Namespace) -> int:
    if args.json is not None:
        _check_output(args.json, "--json")
    task, method = _method(args)
    hr_dir, lr_dir = args.hr, args.lr
    if args.benchmark:
        if hr_dir is not None:
            raise ValueError("give either --hr or --benchmark, not both.")
        if not isinstance(task, SuperResolution):
            raise ValueError(f"--benchmark {args.benchmark} is a super-resolution set; for "
                             f"{task.name} give --hr DIR.")
        hr_paths, lr_paths = fetch_benchmark(args.benchmark, task.scale)
        hr_dir = hr_paths[0].parent
        print(f"{args.benchmark} x{task.scale}: {len(hr_paths)} HR images in {hr_dir}\n"
              f"(the set's own MATLAB-made LR images are in {lr_paths[0].parent}: pass it as "
              "--lr to use them instead of the course's imresize)")
    if hr_dir is None:
        raise ValueError("give --hr DIR (a folder of clean images) or --benchmark Set5.")
    result = evaluate_folder(hr_dir, task, method, lr_dir, max_pixels=args.max_pixels)
    recipe = ("modcrop, MATLAB bicubic LR, Y (BT.601; gray images as they are), border crop "
              "= scale" if isinstance(task, SuperResolution)
              else "uint8, full image, every channel, no border")
    print(f"method: {result.method}, task: {task.name}, recipe: {recipe}")
    print(result.table())
    if args.json:
        write_text(args.json, json.dumps(result.to_dict(), indent=2, allow_nan=False))
        print(f"wrote {args.json}")
    return 0


def _training_images(folder: Path, scale: int, patch: int) -> dict:
    """The images of ``folder`` that hold a training patch; the others are skipped, with a
    warning that names them and a summary line."""
    paths, _ = list_images(folder)
    if not paths:
        raise ValueError(f"{folder} holds no images (PNG, JPEG, BMP or TIFF).")
    images, skipped = {}, []
    for path in paths:
        try:
            image = load_image(path, alpha="warn")
        except ValueError as err:
            warnings.warn(f"skipping {path.name}: {err}", stacklevel=2)
            skipped.append(path.name)
            continue
        train, _ = split_for_validation(image, scale)
        if min(train.shape[:2]) < patch:
            warnings.warn(f"skipping {path.name}: its training part (the top 80 %) is "
                          f"{train.shape[1]}x{train.shape[0]} pixels, smaller than one "
                          f"{patch}x{patch} training patch at x{scale}", stacklevel=2)
            skipped.append(path.name)
            continue
        images[path.name] = image
    if skipped:
        print(f"skipped {len(skipped)} of {len(paths)} images of {folder}: "
              f"{', '.join(skipped)} (see the warnings)")
    if not images:
        raise ValueError(f"no image of {folder} can train a model at x{scale}: each needs at "
                         f"least {patch} pixels across and {patch / 0.8:.0f} down.")
    return images


def _pretrain(args: argparse.Namespace) -> int:
    given = {k: getattr(args, k) for k in ("steps", "epochs", "batch_size", "lr", "seed",
                                            "threads") if getattr(args, k) is not None}
    recipe = replace(default_recipe(args.model, args.scale), **given)
    images = None
    if args.hr is not None:
        images = _training_images(args.hr, args.scale, recipe.patch_lr * args.scale)
    name = f"{args.model}_x{args.scale}"
    out = args.out or Path(f"{name}.safetensors")
    _check_output(out, "--out", ".safetensors")
    shipped = {m.name: m for m in SHIPPED}
    if name in shipped and out.resolve() == shipped[name].path.resolve():
        print("note: overwriting a shipped model; record its SHA-256 in "
              "course_utils/assets/registry.tsv with `python scripts/register_models.py`")
    print(f"training {args.model} x{args.scale} on "
          + (f"the {len(images)} images of {args.hr}" if images else "the natural photos")
          + f" for {recipe.steps:,} steps; the checkpoint goes to {out} and its model card to "
          f"{out.with_suffix('.md')} (Ctrl-C stops it and writes nothing)", flush=True)
    _, card = pretrain(args.model, args.scale, images, recipe, out=out, hr_folder=args.hr)
    h = card["heldout"]
    print(f"trained {args.model} x{args.scale} in {card['training_seconds'] / 60:.1f} min; "
          f"held-out natural photos: {h['psnr']:.2f} dB / {h['ssim']:.4f} "
          f"(bicubic {h['bicubic_psnr']:.2f} dB / {h['bicubic_ssim']:.4f})")
    print(f"wrote {out} and its model card {out.with_suffix('.md')}")
    return 0


def _models(args: argparse.Namespace) -> int:
    rows = zoo_rows()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    columns = list(rows[0])
    widths = {c: max(len(c), *(len(f"{r[c]}") for r in rows)) for c in columns if c != "sha256"}
    print("  ".join(f"{c:<{w}}" for c, w in widths.items()) + "  sha256")
    for r in rows:
        print("  ".join(f"{r[c]!s:<{w}}" for c, w in widths.items()) + f"  {r['sha256']}")
    print(f"\narchitectures in the registry: {', '.join(list_models())}")
    return 0


def _trainable_from_scratch() -> list[str]:
    # pretrain trains the classic Y-channel SR networks (those that take `channels`).
    return [n for n in list_models("sr") if "channels" in model_spec(n).parameters]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_utils",
                                     description="Course tools for image reconstruction.")
    sub = parser.add_subparsers(dest="command", required=True)
    ev = sub.add_parser("evaluate", help="PSNR/SSIM of a method on clean images, with the "
                                         "scoring recipe of a task (SR or restoration)")
    ev.add_argument("--hr", type=Path, help="folder of clean (HR) images (PNG/JPEG/BMP)")
    ev.add_argument("--benchmark", choices=sorted(BENCHMARKS),
                    help="download and use a benchmark set instead of --hr (SR only)")
    ev.add_argument("--scale", type=_positive(int),
                    help="integer SR factor, e.g. 3 (same as --task sr-x3)")
    ev.add_argument("--task", help="task spec: sr-x3, denoise-25, deblur-1.6, inpaint-0.5, "
                                   "jpeg-10")
    ev.add_argument("--method", choices=sorted(METHODS), help="an interpolation method "
                    "(default bicubic for SR, identity, the degraded input, for restoration)")
    ev.add_argument("--model", choices=[m.name for m in SHIPPED],
                    help="a shipped model (verified by its SHA-256); `models` lists them")
    ev.add_argument("--checkpoint", type=Path,
                    help="a checkpoint of any registered model (save_checkpoint, pretrain, fit)")
    ev.add_argument("--tile", type=_positive(int), default=128,
                    help="run models on LR tiles of this size to bound memory (default 128)")
    ev.add_argument("--lr", type=Path, help="folder of given input (LR) images, paired by name")
    ev.add_argument("--json", type=Path, help="also write the results to this JSON file (an "
                    "infinite PSNR, output identical to the target, is written as null)")
    ev.add_argument("--max-pixels", type=_positive(int), default=MAX_PIXELS,
                    help=f"refuse larger images before decoding them, to bound memory "
                         f"(default {MAX_PIXELS:,}, 6000x6000: scored in under 1.5 GB)")
    pt = sub.add_parser("pretrain", help="train a source SR model with the course recipe")
    pt.add_argument("--model", required=True, choices=_trainable_from_scratch())
    pt.add_argument("--scale", type=_positive(int), required=True)
    pt.add_argument("--hr", type=Path, help="train on this folder of HR images instead of the "
                                            "natural photos")
    for option, kind in (("--steps", _positive(int)), ("--epochs", _positive(int)),
                         ("--batch-size", _positive(int)), ("--lr", _positive(float)),
                         ("--seed", _non_negative_int)):
        pt.add_argument(option, type=kind, help="default: the model's recipe "
                                                "(course_utils.zoo.recipes.default_recipe)")
    pt.add_argument("--threads", type=_positive(int),
                    help="CPU threads for torch (default: the CPUs this process may use)")
    pt.add_argument("--out", type=Path, help="checkpoint file (default ./MODEL_xSCALE.safetensors)")
    md = sub.add_parser("models", help="list the shipped models: name, task, parameters, file, "
                                       "SHA-256")
    md.add_argument("--json", action="store_true", help="print them as JSON")
    args = parser.parse_args(argv)

    command = {"evaluate": _evaluate, "pretrain": _pretrain, "models": _models}[args.command]
    # SIGTERM (a job scheduler, `kill`) unwinds like Ctrl-C, so that every write in progress
    # removes its temporary file (course_utils.data.io.write_atomically).
    signal.signal(signal.SIGTERM, _interrupt)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            status = command(args)
        except (ValueError, DataUnavailableError) as err:
            print(f"error: {err}", file=sys.stderr)
            status = 2
        except OSError as err:  # a missing file, a full disk, no permission: names the file
            print(f"error: {err}", file=sys.stderr)
            status = 2
        except KeyboardInterrupt:
            print(f"interrupted: {args.command} stopped; no file was left half-written.",
                  file=sys.stderr)
            status = 130
    for warning in caught:  # one plain line each, without Python's file/line clutter
        print(f"warning: {warning.message}", file=sys.stderr)
    return status


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
