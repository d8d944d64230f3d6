#!/usr/bin/env python3
"""Record the SHA-256 of every shipped model in the registry (after retraining one).

    python scripts/register_models.py          # update the rows of models/*.safetensors
    python scripts/register_models.py --inference build/inference.json   # and the speed lines
    python scripts/register_models.py --rescore dncnn_denoise-25-gray   # re-measure a card

The shipped files live in ``course_utils/assets/`` (package data, so that a wheel has them):
``registry.tsv`` and ``models/<name>.safetensors``. The script also rewrites each model card
(``models/<name>.md``) from the facts stored in its checkpoint, with its SHA-256 and its row
of ``benchmarks/inference.py --json`` (without ``--inference``: the speed the card already
states), and the tables of shipped models in README.md (between their markers). It always
works on the checkout's ``course_utils/assets/``, whatever ``COURSE_DATA_DIR`` says.

``--rescore NAME ...`` re-measures the held-out scores of those restoration models and of their
baselines with this checkout's code, on this machine (after a change to a baseline, or to
time them on a quiet machine), and rewrites the checkpoints' stored facts; the weights stay
as they are.

Each row's URL is the file's raw address in the course repository, so that an install that
lacks the file can download it; the hash is what load_pretrained() checks before loading
(``course_utils.zoo.shipped``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from course_utils.config import REPO  # noqa: E402
from course_utils.data.catalogue import domain_images  # noqa: E402
from course_utils.data.downloads import ASSETS  # noqa: E402
from course_utils.data.io import write_text  # noqa: E402
from course_utils.models.checkpoint import load_checkpoint, save_checkpoint, sha256_of  # noqa: E402
from course_utils.tasks import get_task  # noqa: E402
from course_utils.zoo.cards import (  # noqa: E402
    baseline_order,
    hardware,
    model_card,
    training_seconds,
)
from course_utils.zoo.recipes import heldout_scores  # noqa: E402
from course_utils.zoo.shipped import SHIPPED  # noqa: E402

LICENCE = "trained by the course from the natural photos listed in course_utils/assets/README.md"
#: README's tables between these markers: the SR source models, the restoration models.
TABLES = {"sr": ("<!-- models-table -->", "<!-- /models-table -->"),
          "restoration": ("<!-- restoration-models-table -->",
                          "<!-- /restoration-models-table -->"),
          "codec": ("<!-- codec-models-table -->", "<!-- /codec-models-table -->")}


def models_table(cards: list[dict], speeds: dict) -> str:
    """The README's table of SR source models: held-out scores, training time, speed."""
    lines = ["| model | scale | parameters (weights + biases) | bicubic PSNR / SSIM "
             "| model PSNR / SSIM | gain (dB) | training (1 CPU thread) "
             "| 512x512 outputs/s (CPU) | peak MiB |",
             "| --- | --- | ---: | --- | --- | ---: | ---: | ---: | ---: |"]
    for card in cards:
        h = card["heldout"]
        speed = speeds.get((card["model"], card["scale"]))
        rate = f"{speed['images_per_s']:.1f}" if speed else "-"
        peak = f"{speed['peak_mib']:.0f}" if speed else "-"
        lines.append(
            f"| {card['model']} | x{card['scale']} | {card['parameters']:,} | "
            f"{h['bicubic_psnr']:.2f} / {h['bicubic_ssim']:.4f} | "
            f"{h['psnr']:.2f} / {h['ssim']:.4f} | {h['psnr'] - h['bicubic_psnr']:+.2f} | "
            f"{card['training_seconds'] / 60:.0f} min | {rate} | {peak} |")
    return "\n".join(lines)


def restoration_table(cards: list[dict]) -> str:
    """The README's table of restoration models: held-out PSNR / SSIM and time per image of
    the model and of each baseline its card measured."""
    lines = ["| model | task | parameters | method | PSNR / SSIM | time per image (s) "
             "| training |",
             "| --- | --- | ---: | --- | --- | ---: | ---: |"]
    for card in cards:
        h = card["heldout"]
        lines.append(f"| **{card['model']}_{card['task']}** | {card['task']} | "
                     f"{card['parameters']:,} | **this model** | "
                     f"**{h['psnr']:.2f} / {h['ssim']:.4f}** | {h['seconds']:.3f} | "
                     f"{training_seconds(card) / 60:.0f} min |")
        for method in baseline_order(card):
            b = h["baselines"][method]
            lines.append(f"| | | | {method} | {b['psnr']:.2f} / {b['ssim']:.4f} | "
                         f"{b['seconds']:.3f} | |")
    return "\n".join(lines)


def codec_table(cards: list[dict]) -> str:
    """The README's table of learned codecs: the rate of their files and the estimate, the
    quality, and JPEG (4:2:0) at the same rate on each held-out photo."""
    lines = ["| model | lambda | parameters | bpp (file) | estimated bpp | PSNR / SSIM "
             "| JPEG at the same rate: bpp, PSNR / SSIM | gain (dB) | encode + decode (s) "
             "| training |",
             "| --- | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: |"]
    for card in sorted(cards, key=lambda c: get_task(c["task"]).lmbda):
        h, jpeg = card["heldout"], card["heldout"]["baselines"]["jpeg"]
        lines.append(f"| {card['model']}_{card['task']} | {get_task(card['task']).lmbda:g} | "
                     f"{card['parameters']:,} | {h['bpp']:.3f} | {h['estimated_bpp']:.3f} | "
                     f"{h['psnr']:.2f} / {h['ssim']:.4f} | {jpeg['bpp']:.3f}, "
                     f"{jpeg['psnr']:.2f} / {jpeg['ssim']:.4f} | "
                     f"{h['psnr'] - jpeg['psnr']:+.2f} | {h['seconds']:.2f} | "
                     f"{training_seconds(card) / 60:.0f} min |")
    return "\n".join(lines)


#: A card's inference line (what ``model_card`` writes), read back when no JSON is given.
_INFERENCE_LINE = re.compile(
    r"- \*\*Inference\*\* \(`benchmarks/inference.py`\): (?P<images_per_s>[0-9.]+) images/s "
    r"for a (?P<size>[0-9]+)x[0-9]+ RGB output, peak memory (?P<peak_mib>[0-9.]+) MiB "
    r"\(whole process, torch included\), (?P<device_name>.+)\.$", re.MULTILINE)


def previous_speed(card_path: Path) -> dict | None:
    """The inference speed a model card already states, so that re-registering without
    ``--inference`` keeps it (``None`` if the card has none)."""
    match = _INFERENCE_LINE.search(card_path.read_text()) if card_path.exists() else None
    if match is None:
        return None
    return {"images_per_s": float(match["images_per_s"]), "size": int(match["size"]),
            "peak_mib": float(match["peak_mib"]), "device_name": match["device_name"]}


def _replace_between(text: str, begin: str, end: str, table: str) -> str:
    if begin not in text or end not in text:
        return text
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n{table}\n{end}{tail}"


def rescore(shipped) -> None:
    """Re-measure a restoration model's held-out scores and baselines; rewrite its file."""
    path = ASSETS / shipped.file
    model, card = load_checkpoint(path)
    card["heldout"] = heldout_scores(model, get_task(shipped.task),
                                     domain_images("natural", "heldout"))
    card["heldout_hardware"] = hardware()
    save_checkpoint(path, model, card)
    print(f"{shipped.name}: re-measured, {card['heldout']['psnr']:.2f} dB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inference", type=Path, help="JSON of benchmarks/inference.py")
    parser.add_argument("--rescore", nargs="+", default=[], metavar="NAME",
                        help="re-measure these restoration models' held-out scores first")
    args = parser.parse_args()
    for name in args.rescore:
        rescore(next(m for m in SHIPPED if m.name == name))
    speeds = {}
    if args.inference:
        speeds = {(r["model"], r["scale"]): r for r in json.loads(args.inference.read_text())}
    registry = ASSETS / "registry.tsv"
    lines = [line for line in registry.read_text().splitlines()
             if not line.startswith("models/")]
    cards = []
    for shipped in SHIPPED:
        name, task = shipped.architecture, get_task(shipped.task)
        scale = task.scale
        path = ASSETS / shipped.file  # not shipped.path: COURSE_DATA_DIR may point elsewhere
        if not path.exists():
            chosen = f"--scale {scale}" if scale > 1 else f"--task {task.name}"
            print(f"missing {path}; train it with `python -m course_utils pretrain --model "
                  f"{name} {chosen} --out {path.relative_to(ROOT)}`", file=sys.stderr)
            return 1
        relative = path.relative_to(ROOT)
        url = f"https://raw.githubusercontent.com/{REPO}/main/{relative.as_posix()}"
        digest = sha256_of(path)
        lines.append(f"models/{path.name}\t{url}\t{digest}\t{LICENCE}")
        _, card = load_checkpoint(path, sha256=digest)
        cards.append(card)
        speed = speeds.get((name, scale)) if scale > 1 else None
        if scale > 1 and not args.inference:
            speed = speeds[(name, scale)] = previous_speed(path.with_suffix(".md"))
        write_text(path.with_suffix(".md"), model_card(card, digest, speed))
        print(f"{relative}: {digest}")
    write_text(registry, "\n".join(lines) + "\n")  # atomic: a crash leaves the old registry
    readme = ROOT / "README.md"
    text = readme.read_text()
    sr_cards = [c for c in cards if c["scale"] > 1]
    text = _replace_between(text, *TABLES["sr"], models_table(sr_cards, speeds))
    codec_cards = [c for c in cards  # (the SR cards predate the "task" key)
                   if "task" in c and get_task(c["task"]).kind == "compress"]
    text = _replace_between(text, *TABLES["restoration"], restoration_table(
        [c for c in cards if c["scale"] == 1 and c not in codec_cards]))
    text = _replace_between(text, *TABLES["codec"], codec_table(codec_cards))
    write_text(readme, text)
    print("updated the models tables in README.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
