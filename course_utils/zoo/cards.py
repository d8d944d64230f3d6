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
    codec = get_task(card["task"]).kind == "compress" if card.get("task") else False
    title = (f"{card['model'].upper()} x{card['scale']}: course source model" if sr
             else f"{card['model'].upper()} {card['task']}: course learned codec" if codec
             else f"{card['model'].upper()} {card['task']}: course restoration model")
    loss, kept = "MSE", f"the best validation epoch ({card['best_epoch']}) is kept"
    if codec:
        loss = (f"rate-distortion loss {get_task(card['task']).lmbda:g} * 255^2 * MSE + bpp "
                "(additive uniform noise for rounding)")
        kept = "the last epoch is kept (the validation PSNR is a monitor: it ignores the rate)"
    patches = "LR patches" if sr else "input patches"
    lines = [
        f"# {title}",
        "",
        f"- **Architecture**: `{card['model']}` of the course's model registry "
        "(`course_utils.models.get_model`) "
        f"({card['parameters']:,} parameters), input {card['channels']}.",
        f"- **Training data**: {card['training_data']}."
        + ("" if codec else " The same photos, in this version of the course: "
           "`course_utils.zoo.recipes.source_training_images()`."),
        f"- **Degradation**: {card['degradation']}.",
        *([f"- **Initialised from**: `{card['initialised_from']['model']}` (trained for "
           f"{card['initialised_from']['task']}), fine-tuned."]
          if card.get("initialised_from") else []),
        f"- **Recipe**: {r['steps']:,} Adam steps, batch {r['batch_size']} of "
        f"{r['patch_lr']}x{r['patch_lr']} {patches} (random crops, flips, 90-degree rotations), "
        f"{loss}, learning rate {r['lr']:g} with cosine decay to 1 %, {r['epochs']} epochs, "
        f"seed {r['seed']}"
        + (f", gradient norm clipped to {r['clip_grad_norm']:g}" if r.get("clip_grad_norm")
           else "") + f"; {kept}.",
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
    lines += (_sr_heldout(card) if sr else _codec_heldout(card) if codec
              else _restoration_heldout(card))
    return "\n".join(lines)


def _codec_heldout(card: dict) -> list[str]:
    h = card["heldout"]
    jpeg = h["baselines"]["jpeg"]
    lines = [
        "",
        "## Held-out natural photos (real files; PSNR and SSIM on RGB, uint8, full image)",
        "",
        "Rate: 8 x bytes of the file written / pixels; estimated: -sum log2 P of the latent, "
        "the entropy model's prediction. JPEG (Pillow, 4:2:0) at the highest quality whose "
        f"file is no larger, per image. Time per image on "
        f"{card.get('heldout_hardware', card['hardware'])}: encode {h['encode_seconds']:.3f} s, "
        f"decode {h['decode_seconds']:.3f} s.",
        "",
        "| image | bpp | estimated bpp | PSNR (dB) | SSIM | JPEG quality | JPEG bpp | "
        "JPEG PSNR | JPEG SSIM |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in h["per_image"]:
        lines.append(f"| {row['image']} | {row['bpp']:.3f} | {row['estimated_bpp']:.3f} | "
                     f"{row['psnr']:.2f} | {row['ssim']:.4f} | {row['jpeg_quality']:g} | "
                     f"{row['jpeg_bpp']:.3f} | {row['jpeg_psnr']:.2f} | {row['jpeg_ssim']:.4f} |")
    lines.append(f"| **mean** | {h['bpp']:.3f} | {h['estimated_bpp']:.3f} | {h['psnr']:.2f} | "
                 f"{h['ssim']:.4f} | | {jpeg['bpp']:.3f} | {jpeg['psnr']:.2f} | "
                 f"{jpeg['ssim']:.4f} |")
    name = f"{card['model']}_{card['task']}"
    return lines + [
        "",
        f"Compress your own images: `python -m course_utils compress --codec model --model "
        f"{name} --hr DIR --out OUT`; the whole rate-distortion curve against JPEG, WebP, "
        "JPEG 2000 and AVIF: `python benchmarks/compression.py`.",
        "",
        f"Limitations: trained on {card['training_images']} photos for "
        f"{training_seconds(card) / 60:.0f} minutes of CPU, where the published codecs "
        "trained on tens of thousands of images for days on a GPU, so expect less than "
        "CompressAI's bmshj2018-factorized at the same rate; one rate per model (its lambda); "
        "a file decodes only with the model that wrote it.",
        "",
    ]


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
