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
import re
import signal
import sys
import warnings
from dataclasses import replace
from pathlib import Path

from .compression.codecs import CODECS, get_codec
from .compression.measure import LearnedCodec, code_images
from .data.downloads import BENCHMARKS, DataUnavailableError, fetch_benchmark
from .data.io import (
    MAX_PIXELS,
    ImageFolder,
    list_images,
    load_image,
    save_image,
    write_atomically,
    write_text,
)
from .data.pairs import split_for_validation
from .evaluation.evaluate import default_method, evaluate_folder, method_names, model_method
from .models.checkpoint import load_checkpoint
from .models.registry import list_models, model_spec
from .tasks import (
    Compression,
    Deblurring,
    Denoising,
    Inpainting,
    JPEGArtifacts,
    PoissonGaussian,
    SuperResolution,
    Task,
    get_task,
)
from .zoo.recipes import default_recipe, pretrain
from .zoo.shipped import (
    SHIPPED,
    load_codec,
    load_pretrained,
    shipped_codecs,
    shipped_model,
    zoo_rows,
)


def _number_arg(kind: type, positive: bool) -> callable:
    """An argparse type: a number of ``kind``, greater than 0 (``positive``) or 0 or more."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid {kind.__name__} value: {text!r}") from None
        if not (value > 0 if positive else value >= 0):
            raise argparse.ArgumentTypeError(
                f"must be greater than 0, got {text}" if positive else
                f"must be 0 or more, got {text}")
        return value
    parse.__name__ = kind.__name__
    return parse


def _positive(kind: type) -> callable:
    return _number_arg(kind, positive=True)


def _non_negative(kind: type) -> callable:
    return _number_arg(kind, positive=False)


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


#: The options that set each task kind's parameters, the first one required.
TASK_OPTIONS = {"sr": ("scale",), "denoise": ("sigma",), "poisson": ("peak", "sigma"),
                "deblur": ("kernel", "noise"), "inpaint": ("mask",), "jpeg": ("quality",),
                "compress": ("lmbda",)}


def _task_of_options(args: argparse.Namespace) -> Task | None:
    """The task of --task KIND with its parameter options (--sigma, --kernel ...), of --task
    SPEC, or of --scale (and --gray); None if none of them is given."""
    given = [o for o in ("sigma", "peak", "kernel", "noise", "mask", "quality", "lmbda")
             if getattr(args, o, None) is not None]
    kind = args.task if args.task in TASK_OPTIONS else None
    if args.task is None or kind == "sr":
        if given:
            raise ValueError(f"--{given[0]} is an option of a restoration task; give its "
                             f"kind, e.g. --task denoise --sigma 25.")
        if args.scale is None:
            if kind == "sr":
                raise ValueError("--task sr needs --scale, e.g. --task sr --scale 3.")
            return None
        task = SuperResolution(args.scale)
    elif kind is None:  # a whole spec, e.g. denoise-25
        if given:
            raise ValueError(f"--task {args.task} already holds its parameters: give either a "
                             f"whole spec or --task KIND with options (--task denoise --sigma "
                             f"25), not both (--{given[0]}).")
        task = get_task(args.task)
    else:
        for option in given:
            if option not in TASK_OPTIONS[kind]:
                owners = [k for k, options in TASK_OPTIONS.items() if option in options]
                raise ValueError(f"--{option} is an option of --task {' or '.join(owners)}, "
                                 f"not of --task {kind}.")
        first = TASK_OPTIONS[kind][0]
        if getattr(args, first) is None:
            example = {"denoise": "25", "poisson": "30", "deblur": "gaussian:2.0",
                       "inpaint": "random:0.5", "jpeg": "10", "compress": "0.0067"}[kind]
            raise ValueError(f"--task {kind} needs --{first}, e.g. --task {kind} --{first} "
                             f"{example}.")
        task = _restoration_task(kind, args)
    if args.scale is not None and task.scale != args.scale:
        raise ValueError(f"the options ask for different tasks: {task.name} and "
                         f"sr-x{args.scale}.")
    return replace(task, gray=True) if args.gray else task


def _restoration_task(kind: str, args: argparse.Namespace) -> Task:
    """The task of a restoration kind from its options (checked by the task itself)."""
    if kind == "denoise":
        return Denoising(args.sigma)
    if kind == "poisson":
        return PoissonGaussian(args.peak, args.sigma or 0.0)
    if kind == "deblur":
        return Deblurring(args.kernel, args.noise or 0.0)
    if kind == "inpaint":
        return Inpainting(args.mask)
    if kind == "compress":
        return Compression(args.lmbda)
    return JPEGArtifacts(args.quality)


def _task(args: argparse.Namespace, implied: str | None = None) -> Task:
    """The task of --task (and its options) or --scale, else the one a model implies.

    A restoration model may be scored at another strength of its own kind (a denoiser
    trained at sigma 25 on sigma 15 images), keeping its colour convention (a gray model
    scores gray targets); any other task must be the model's.
    """
    task = _task_of_options(args)
    if implied is None:
        if task is None:
            raise ValueError("give the task: --scale S for super-resolution, or --task KIND "
                             "with its option (--task denoise --sigma 25, --task deblur "
                             "--kernel gaussian:2.0, --task inpaint --mask random:0.5, --task "
                             "jpeg --quality 10), or a whole spec (--task denoise-25).")
        return task
    model_task = get_task(implied)
    if task is None:
        return model_task
    if task.kind != model_task.kind or task.scale != model_task.scale:
        raise ValueError(f"the options ask for {task.name}, but the model was trained for "
                         f"{model_task.name}; give a task of its kind.")
    return replace(task, gray=task.gray or model_task.gray)


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
    if isinstance(task, Compression):
        raise ValueError("a codec is measured by its rate and its decoded image: use `python -m "
                         "course_utils compress --codec model --model NAME --hr DIR`.")
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
    result = evaluate_folder(hr_dir, task, method, lr_dir, max_pixels=args.max_pixels,
                             seed=args.seed)
    recipe = ("modcrop, MATLAB bicubic LR, Y (BT.601; gray images as they are), border crop "
              "= scale" if isinstance(task, SuperResolution)
              else "output clipped to [0, 1] and quantised to uint8, full image, every "
                   "channel, no border")
    recipe += f"; seed {args.seed}" if task.stochastic else ""
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
                                            "threads", "clip_grad_norm")
             if getattr(args, k) is not None}
    if given.get("clip_grad_norm") == 0:  # 0: no clipping
        given["clip_grad_norm"] = None
    task = _task(args)
    family = model_spec(args.model).task
    if (family == "compression") != isinstance(task, Compression):
        raise ValueError(f"{args.model} is {'a codec' if family == 'compression' else 'no codec'}"
                         + ("; train it with --task compress --lmbda 0.0067." if family ==
                            "compression" else f"; it cannot train for {task.name}."))
    if (family == "sr") != (task.scale > 1):
        raise ValueError(f"{args.model} is a{'n SR' if family == 'sr' else ' restoration'} "
                         f"network; it cannot train for {task.name} (give "
                         + ("--scale S)." if family == "sr" else "--task, e.g. --task denoise "
                            "--sigma 25 --gray)."))
    recipe = replace(default_recipe(args.model, task), **given)
    images = None
    if args.hr is not None:
        images = _training_images(args.hr, task.scale, recipe.patch_lr * task.scale)
    name = f"{args.model}_x{task.scale}" if task.scale > 1 else f"{args.model}_{task.name}"
    # A file name without the spec's ":" and "," (Windows refuses ":"): deblur-motion_15_30_0.01
    default_out = Path(re.sub(r"[:,]", "_", name) + ".safetensors")
    out = args.out or default_out
    _check_output(out, "--out", ".safetensors")
    shipped = {m.name: m for m in SHIPPED}
    if name in shipped and out.resolve() == shipped[name].path.resolve():
        print("note: overwriting a shipped model; record its SHA-256 in "
              "course_utils/assets/registry.tsv with `python scripts/register_models.py`")
    print(f"training {args.model} for {task.name} on "
          + (f"the {len(images)} images of {args.hr}" if images else "the natural photos")
          + f" for {recipe.steps:,} steps; the checkpoint goes to {out} and its model card to "
          f"{out.with_suffix('.md')} (Ctrl-C stops it and writes nothing)", flush=True)
    _, card = pretrain(args.model, task, images, recipe, out=out, hr_folder=args.hr,
                       init=args.init)
    h = card["heldout"]
    baselines = ({"bicubic": {"psnr": h["bicubic_psnr"], "ssim": h["bicubic_ssim"]}}
                 if task.scale > 1 else h["baselines"])
    if family == "compression":
        print(f"held-out natural photos: {h['bpp']:.3f} bpp (estimated {h['estimated_bpp']:.3f})"
              f"; JPEG at the same rate {h['baselines']['jpeg']['bpp']:.3f} bpp")
    print(f"trained {args.model} for {task.name} in {card['training_seconds'] / 60:.1f} min; "
          f"held-out natural photos: {h['psnr']:.2f} dB / {h['ssim']:.4f} ("
          + ", ".join(f"{m} {b['psnr']:.2f} dB / {b['ssim']:.4f}" for m, b in baselines.items())
          + ")")
    print(f"wrote {out} and its model card {out.with_suffix('.md')}")
    return 0


def _learned_codecs(args: argparse.Namespace) -> list[LearnedCodec]:
    """The codec(s) of --model or --checkpoint; every shipped codec for --bpp alone."""
    if args.quality is not None:
        raise ValueError("--quality is an option of the standard codecs; a learned codec's "
                         "rate is set by the lambda it was trained for: choose --model NAME "
                         "(`python -m course_utils models` lists them) or give --bpp B.")
    if args.model is not None and args.checkpoint is not None:
        raise ValueError("give only one of --model and --checkpoint.")
    if args.checkpoint is not None:
        return [load_codec(args.checkpoint)[0]]
    if args.model is None and args.bpp is None:
        raise ValueError("--codec model needs --model NAME (one of "
                         f"{', '.join(shipped_codecs())}), --checkpoint FILE, or --bpp B to "
                         "choose among the shipped codecs per image.")
    names = [args.model] if args.model is not None else shipped_codecs()
    return [load_codec(name)[0] for name in names]


def _compress(args: argparse.Namespace) -> int:
    if args.json is not None:
        _check_output(args.json, "--json")
    if args.out is not None and args.out.exists() and not args.out.is_dir():
        raise ValueError(f"--out {args.out} is a file; give a folder (it is made if missing).")
    if args.codec == "model":
        codecs = _learned_codecs(args)
        codec = codecs if args.bpp is not None and len(codecs) > 1 else codecs[0]
    else:
        if args.model is not None or args.checkpoint is not None:
            raise ValueError(f"--model and --checkpoint name a learned codec: use them with "
                             f"--codec model, not --codec {args.codec}.")
        if (args.quality is None) == (args.bpp is None):
            low, high = CODECS[args.codec].quality
            raise ValueError(f"--codec {args.codec} needs --quality Q ({low:g}-{high:g}) or "
                             "--bpp B (the quality that matches B bits per pixel, per image).")
        codec = get_codec(args.codec)
    images = ImageFolder(args.hr, "image", max_pixels=args.max_pixels, as_float=False)
    if not len(images):
        raise ValueError(f"{args.hr} holds no images (PNG, JPEG, BMP or TIFF).")

    def keep(name: str, data: bytes, decoded, used) -> None:
        stem = Path(name).stem
        write_atomically(args.out / f"{stem}{used.extension}",
                         lambda tmp: Path(tmp).write_bytes(data))
        save_image(args.out / f"{stem}.decoded.png", decoded)

    result = code_images(images, codec, args.quality, args.bpp,
                         keep=keep if args.out is not None else None)
    print(f"codec: {result.codec}; rate = 8 x file bytes / pixels; PSNR/SSIM on RGB, uint8, "
          "full image")
    print(result.table())
    if args.out is not None:
        print(f"wrote the compressed files and their decoded images (.decoded.png) to {args.out}")
    if args.json:
        write_text(args.json, json.dumps(result.to_dict(), indent=2, allow_nan=False))
        print(f"wrote {args.json}")
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
    # pretrain trains the one-channel networks: the classic Y-channel SR ones, DnCNN and the
    # autoencoder (the families that take `channels`; the ImageNet designs are RGB), and the
    # RGB codecs.
    return [n for n in list_models() if "channels" in model_spec(n).parameters
            or model_spec(n).task == "compression"]


def _add_task_options(parser: argparse.ArgumentParser) -> None:
    """--task and the options of its parameters (evaluate and pretrain share them)."""
    parser.add_argument("--task", help="a task kind (sr, denoise, poisson, deblur, inpaint, "
                        "jpeg, compress) with its options below, or a whole spec: sr-x3, "
                        "denoise-25, denoise-0:55, poisson-30:5, deblur-gaussian:2,0.01, "
                        "inpaint-random:0.5, jpeg-10, compress-0.0067, denoise-25-gray "
                        "(course_utils.tasks)")
    parser.add_argument("--sigma", type=_positive(float), help="denoise: the noise sigma on "
                        "the 0-255 scale (15, 25, 50); poisson: the read noise")
    parser.add_argument("--peak", type=_positive(float),
                        help="poisson: photons of a white pixel")
    parser.add_argument("--kernel", help="deblur: gaussian:SIGMA or motion:LENGTH:ANGLE "
                                         "(pixels, degrees)")
    parser.add_argument("--noise", type=_non_negative(float), help="deblur: sigma of the "
                        "noise added after the blur, in [0, 1] units (0.01 = 2.55 on 0-255)")
    parser.add_argument("--mask", help="inpaint: random:FRACTION, block:SIZE or text:SIZE")
    parser.add_argument("--quality", type=_positive(int),
                        help="jpeg: the JPEG quality (1-100)")
    parser.add_argument("--lmbda", type=_positive(float), help="compress: the rate-distortion "
                        "trade-off lambda of lambda*255^2*MSE + bpp (0.0018-0.18)")
    parser.add_argument("--gray", action="store_true", help="make the clean images gray "
                        "first (MATLAB rgb2gray), as the published denoising tables do")


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
    _add_task_options(ev)
    ev.add_argument("--seed", type=_non_negative(int), default=0, help="seeds the noise and "
                    "masks, per image (default 0): the same seed, the same inputs")
    ev.add_argument("--method", choices=method_names(), metavar="METHOD",
                    help="none (the degraded input itself; the default for restoration), an "
                    "interpolation for SR (bicubic, the default, nearest, bilinear, lanczos "
                    "...), or a classical restoration method: nlm, wavelet, tv, bm3d (needs "
                    "`pip install bm3d`, non-commercial licence), wiener, unsupervised-wiener, "
                    "richardson-lucy, biharmonic")
    ev.add_argument("--model", choices=[m.name for m in SHIPPED],
                    help="a shipped model (verified by its SHA-256); `models` lists them")
    ev.add_argument("--checkpoint", type=Path,
                    help="a checkpoint of any registered model (save_checkpoint, pretrain, fit)")
    ev.add_argument("--tile", type=_positive(int),
                    help="run models on input tiles of this size to bound memory (default 128 "
                    "for SR, 512 for restoration)")
    ev.add_argument("--lr", type=Path, help="folder of given input (LR) images, paired by name")
    ev.add_argument("--json", type=Path, help="also write the results to this JSON file (an "
                    "infinite PSNR, output identical to the target, is written as null)")
    ev.add_argument("--max-pixels", type=_positive(int), default=MAX_PIXELS,
                    help=f"refuse larger images before decoding them, to bound memory "
                         f"(default {MAX_PIXELS:,}, 6000x6000: scored in under 1.5 GB for "
                         "super-resolution, 2.7 GB for restoration)")
    pt = sub.add_parser("pretrain", help="train an SR source model or a restoration model "
                                         "with the course recipe")
    pt.add_argument("--model", required=True, choices=_trainable_from_scratch())
    pt.add_argument("--scale", type=_positive(int), help="SR: the integer factor")
    _add_task_options(pt)
    pt.add_argument("--hr", type=Path, help="train on this folder of clean images instead of "
                                            "the natural photos")
    pt.add_argument("--init", help="start from this shipped model (e.g. dncnn_denoise-25-gray) "
                    "or checkpoint file instead of random weights: transfer learning")
    for option, kind in (("--steps", _positive(int)), ("--epochs", _positive(int)),
                         ("--batch-size", _positive(int)), ("--lr", _positive(float)),
                         ("--seed", _non_negative(int))):
        pt.add_argument(option, type=kind, help="default: the model's recipe "
                                                "(course_utils.zoo.recipes.default_recipe)")
    pt.add_argument("--clip-grad-norm", type=_non_negative(float),
                    help="the largest L2 norm of each step's gradient, 0 for none (default: "
                    "the model's recipe; 1 for codecs)")
    pt.add_argument("--threads", type=_positive(int),
                    help="CPU threads for torch (default: the CPUs this process may use)")
    pt.add_argument("--out", type=Path, help="checkpoint file (default "
                    "./MODEL_xSCALE.safetensors for SR, ./MODEL_TASK.safetensors else)")
    cp = sub.add_parser("compress", help="compress images to real files with a standard codec "
                                         "or a learned one: bytes, bpp, PSNR/SSIM, time")
    cp.add_argument("--codec", required=True, choices=[*CODECS, "model"],
                    help="jpeg (4:2:0), jpeg444, webp, jpeg2000, avif (Pillow), or model (a "
                    "learned codec: --model, --checkpoint, or --bpp alone to choose among the "
                    "shipped ones)")
    cp.add_argument("--hr", type=Path, required=True, help="folder of images to compress")
    cp.add_argument("--quality", type=_non_negative(float), help="the standard codec's quality "
                    "(JPEG, WebP, AVIF 0-100; JPEG 2000: the target PSNR in dB, 15-60)")
    cp.add_argument("--bpp", type=_positive(float), help="instead of --quality: per image, the "
                    "highest quality (or shipped codec) whose file has at most this many bits "
                    "per pixel")
    cp.add_argument("--model", help="a shipped learned codec (`models` lists them)")
    cp.add_argument("--checkpoint", type=Path, help="a learned codec you trained (pretrain "
                    "--model factorized-codec --task compress --lmbda L)")
    cp.add_argument("--out", type=Path, help="write each compressed file and its decoded image "
                    "(NAME.decoded.png) to this folder")
    cp.add_argument("--json", type=Path, help="also write the per-image rows and the means "
                    "(mean_bpp, mean_psnr, mean_ssim, times) to this JSON file")
    cp.add_argument("--max-pixels", type=_positive(int), default=MAX_PIXELS,
                    help=f"refuse larger images before decoding them (default {MAX_PIXELS:,})")
    md = sub.add_parser("models", help="list the shipped models: name, task, parameters, file, "
                                       "SHA-256")
    md.add_argument("--json", action="store_true", help="print them as JSON")
    args = parser.parse_args(argv)

    command = {"evaluate": _evaluate, "pretrain": _pretrain, "compress": _compress,
               "models": _models}[args.command]
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
