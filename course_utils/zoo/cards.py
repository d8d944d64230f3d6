"""Model cards: the Markdown facts sheet beside each shipped checkpoint, and the hardware line."""

from __future__ import annotations

import platform
from pathlib import Path

import torch

from ..evaluation.classical import classical_for
from ..tasks import get_task

__all__ = ["baseline_order", "hardware", "model_card", "training_seconds"]


def hardware() -> str:
    """The device that trains: the GPU's name, or the CPU model and torch's thread count."""
    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    name = platform.processor() or platform.machine()
    try:  # Linux names the CPU model here; platform.processor() is often empty
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"CPU ({name}), {torch.get_num_threads()} torch thread(s)"


def training_seconds(card: dict) -> float:
    """The whole training time of a card's model: its own and its earlier stages'."""
    return card["training_seconds"] + sum(stage["training_seconds"]
                                          for stage in card.get("earlier_stages") or [])


def model_card(card: dict, sha256: str | None = None, inference: dict | None = None) -> str:
    """The Markdown model card of a checkpoint's facts (as :func:`pretrain` returns them).

    ``inference`` optionally adds a speed line: a row of ``benchmarks/inference.py --json``.
    """
    r = card["recipe"]
    sr = card["scale"] > 1
    title = (f"{card['model'].upper()} x{card['scale']}: course source model" if sr
             else f"{card['model'].upper()} {card['task']}: course restoration model")
    patches = "LR patches" if sr else "input patches"
    lines = [
        f"# {title}",
        "",
        f"- **Architecture**: `{card['model']}` of the course's model registry "
        "(`course_utils.models.get_model`) "
        f"({card['parameters']:,} parameters), input {card['channels']}.",
        f"- **Training data**: {card['training_data']}. The same photos, in this version of "
        "the course: `course_utils.zoo.recipes.source_training_images()`.",
        f"- **Degradation**: {card['degradation']}.",
        *([f"- **Initialised from**: `{card['initialised_from']['model']}` (trained for "
           f"{card['initialised_from']['task']}), fine-tuned."]
          if card.get("initialised_from") else []),
        f"- **Recipe**: {r['steps']:,} Adam steps, batch {r['batch_size']} of "
        f"{r['patch_lr']}x{r['patch_lr']} {patches} (random crops, flips, 90-degree rotations), "
        f"MSE, learning rate {r['lr']:g} with cosine decay to 1 %, {r['epochs']} epochs, "
        f"seed {r['seed']}; the best validation epoch ({card['best_epoch']}) is kept.",
    ]
    reproduce = card.get("reproduce") or (  # older cards: the defaults
        f"python -m course_utils pretrain --model {card['model']} --scale {card['scale']}")
    stages = card.get("earlier_stages") or []
    own = f"{card['training_seconds'] / 60:.1f} min"
    on = f"on {card['hardware']}, torch {card['torch']}"
    if stages:  # fine-tuned in stages: every command, and the cost of all of them
        lines.append(f"- **Training time**: {own} for the last stage {on}; "
                     f"**{training_seconds(card) / 60:.0f} min in all** "
                     f"({len(stages) + 1} stages).")
        lines.append(f"- **Reproduce** ({len(stages) + 1} stages, each fine-tuning the one "
                     "before):")
        lines += [f"  {i}. `{stage['reproduce']}` ({stage['training_seconds'] / 60:.0f} min)"
                  for i, stage in enumerate(stages, 1)]
        lines.append(f"  {len(stages) + 1}. `{reproduce}`.")
    else:
        lines.append(f"- **Training time**: {own} {on}.")
        lines.append(f"- **Reproduce**: `{reproduce}`.")
    if sha256:
        lines.append(f"- **SHA-256**: `{sha256}`.")
    if inference:
        lines.append(
            f"- **Inference** (`benchmarks/inference.py`): {inference['images_per_s']:.1f} "
            f"images/s for a {inference['size']}x{inference['size']} RGB output, peak memory "
            f"{inference['peak_mib']:.0f} MiB (whole process, torch included), "
            f"{inference['device_name']}.")
    lines += _sr_heldout(card) if sr else _restoration_heldout(card)
    return "\n".join(lines)


def _sr_heldout(card: dict) -> list[str]:
    h = card["heldout"]
    lines = [
        "",
        "## Held-out natural photos (standard recipe: Y, border = scale)",
        "",
        "| image | bicubic PSNR / SSIM | model PSNR / SSIM | gain (dB) |",
        "| --- | --- | --- | --- |",
    ]
    for row in h["per_image"]:
        lines.append(f"| {row['image']} | {row['bicubic_psnr']:.2f} / {row['bicubic_ssim']:.4f} | "
                     f"{row['psnr']:.2f} / {row['ssim']:.4f} | "
                     f"{row['psnr'] - row['bicubic_psnr']:+.2f} |")
    lines.append(f"| **mean** | {h['bicubic_psnr']:.2f} / {h['bicubic_ssim']:.4f} | "
                 f"{h['psnr']:.2f} / {h['ssim']:.4f} | {h['psnr'] - h['bicubic_psnr']:+.2f} |")
    return lines + [
        "",
        "Benchmark sets (Set5, Set14) are scored by the evaluation command, which downloads "
        "them: `python -m course_utils evaluate --benchmark Set5 "
        f"--model {card['model']}_x{card['scale']}`.",
        "",
        f"Limitations: trained on {card['training_images']} photos for a short "
        "CPU budget, where the papers trained on 91 images (or ImageNet) for days, so expect "
        "its benchmark scores below the published ones; Y channel only; only for bicubic "
        "(MATLAB) degradation. On LR images made another way (PIL, OpenCV, camera blur, "
        "noise, JPEG) expect lower gains.",
        "",
    ]


#: What each baseline is, for the card's table.
_BASELINE_LABELS = {"none": "none (the degraded input)", "nlm": "NL-means (scikit-image)",
                    "wavelet": "wavelet BayesShrink (scikit-image)",
                    "tv": "TV, J-invariant calibration (scikit-image)",
                    "bm3d": "BM3D (`bm3d` package, non-commercial licence)"}


def baseline_order(card: dict) -> list[str]:
    """The card's baselines in table order: the degraded input first, then the classical
    methods as :func:`~course_utils.evaluation.classical.classical_for` lists them (a
    checkpoint's stored facts keep no order)."""
    kind = get_task(card["task"]).kind
    return [m for m in ["none", *classical_for(kind)] if m in card["heldout"]["baselines"]]


def _restoration_heldout(card: dict) -> list[str]:
    h = card["heldout"]
    task = card["task"]
    lines = [
        "",
        f"## Held-out natural photos ({task}; uint8, full image, no border crop)",
        "",
        f"Photos: {', '.join(h['images'])}, each degraded with a generator seeded (0, i), "
        "as `python -m course_utils evaluate` does. Time: wall seconds per image on "
        f"{card.get('heldout_hardware', card['hardware'])}.",
        "",
        "| method | PSNR (dB) | SSIM | time per image (s) |",
        "| --- | --- | --- | --- |",
    ]
    methods = baseline_order(card)
    for method in methods:
        b = h["baselines"][method]
        lines.append(f"| {_BASELINE_LABELS.get(method, method)} | {b['psnr']:.2f} | "
                     f"{b['ssim']:.4f} | {b['seconds']:.3f} |")
    lines.append(f"| **this model** | **{h['psnr']:.2f}** | **{h['ssim']:.4f}** | "
                 f"{h['seconds']:.3f} |")
    lines += ["", "Per image, PSNR (dB):", "",
              "| image | " + " | ".join(methods) + " | this model |",
              "| --- |" + " --- |" * (len(methods) + 1)]
    for row in h["per_image"]:
        lines.append(f"| {row['image']} | "
                     + " | ".join(f"{row[f'{m}_psnr']:.2f}" for m in methods)
                     + f" | {row['psnr']:.2f} |")
    name = f"{card['model']}_{task}"
    return lines + [
        "",
        f"Score it on your own images: `python -m course_utils evaluate --hr DIR --model "
        f"{name}` (other strengths of its kind too, e.g. another sigma).",
        "",
        f"Limitations: trained on {card['training_images']} photos for "
        f"{training_seconds(card) / 60:.0f} minutes of CPU, where the published networks "
        "trained on hundreds of images for days, so expect published benchmark scores (BSD68, "
        "LIVE1) below the papers'; one strength of one degradation (expect less at others)"
        + ("; gray only (on a colour image it restores the luma Y and keeps the chroma as it "
           "is)." if card["channels"].startswith("gray") else "."),
        "",
    ]
