#!/usr/bin/env python3
"""Unit 07's codecs compared on real files: rate-distortion curves, BD-rate, time.

    python benchmarks/compression.py --json build/compression.json --figure build/compression.png
    python benchmarks/compression.py --learned build/codecs/*.safetensors   # codecs you trained
    python benchmarks/compression.py --codecs jpeg webp --learned   # two standard codecs alone

Every codec writes each held-out natural photo (``domain_images("natural", "heldout")``, RGB)
to a file at several qualities; the rate is the file's size (bpp = 8 bytes / pixels), the
distortion PSNR/SSIM of the decoded file (:func:`course_utils.compression.measure.code_images`).
Printed:

* one table of every curve point: mean bpp, PSNR, SSIM and encode/decode milliseconds per
  image;
* the BD-rate of each codec against JPEG 4:2:0 (:func:`course_utils.compression.rd.bd_rate`;
  negative: fewer bits for the same PSNR), for every codec with at least 4 points;
* for each learned codec (``--learned``: the shipped codecs unless told otherwise, or
  checkpoint files of your own, one per lambda), JPEG at the same rate on each
  photo (the highest quality whose file is no larger), the comparison of the model cards.
  The learned codecs make one curve, labelled by lambda; its BD-rate needs 4 of them.

``--compact NAME`` (default ``factorized-codec_compress-0.0067``; ``--compact`` alone: none)
then decodes that codec's files with smaller decoders
(:func:`course_utils.models.compact.smaller_decoders`: int8 weights, int8 kernels, pruned 10,
30 and 50 %; calibrated on latents of the training photos) and prints what each costs in
PSNR and saves in bytes (:func:`~course_utils.models.compact.decoder_table`).

``--figure`` draws the curves (PSNR against bpp). ``--threads`` sets torch's threads for the
learned codecs. The standard codecs run in C: JPEG, WebP and JPEG 2000 on one thread, AVIF
(libavif through Pillow) on every core the process may use, so compare times with that in
mind. Each codec codes one photo once before it is timed (the first call pays one-time costs).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib
import PIL

matplotlib.use("Agg")  # a script: no display
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from report import print_table, write_json  # noqa: E402  (benchmarks/report.py)

from course_utils.compression.codecs import CURVE_QUALITIES, available_codecs, get_codec  # noqa: E402
from course_utils.compression.measure import (  # noqa: E402
    CodingResult,
    code_image,
    code_images,
)
from course_utils.compression.rd import bd_rate  # noqa: E402
from course_utils.data import domain_images  # noqa: E402
from course_utils.models.compact import (  # noqa: E402
    calibration_latents,
    decoder_table,
    smaller_decoders,
)
from course_utils.zoo.cards import hardware  # noqa: E402
from course_utils.zoo.recipes import codec_heldout_scores  # noqa: E402
from course_utils.zoo.shipped import load_codec, shipped_codecs  # noqa: E402


def curve_point(codec: str, result: CodingResult) -> dict:
    """One point of a curve: the mean rate, quality and milliseconds over the photos."""
    return {"codec": codec, "bpp": result.mean_bpp, "psnr": result.mean_psnr,
            "ssim": result.mean_ssim, "encode_ms": 1000 * result.mean("encode_seconds"),
            "decode_ms": 1000 * result.mean("decode_seconds")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--codecs", nargs="+", default=list(CURVE_QUALITIES),
                        choices=list(CURVE_QUALITIES), help="standard codecs (default: all)")
    parser.add_argument("--learned", nargs="*", default=shipped_codecs(), metavar="CODEC",
                        help="learned codecs: shipped names or factorized-codec checkpoint "
                             "files, one per lambda (default: the shipped codecs; none if "
                             "given without a value)")
    parser.add_argument("--compact", nargs="?", const=None,
                        default="factorized-codec_compress-0.0067", metavar="CODEC",
                        help="decode this learned codec's files with smaller decoders (int8, "
                             "pruned); given without a value: skip")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, help="write every point and row here")
    parser.add_argument("--figure", type=Path, help="draw the RD curves here (PNG)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    images = domain_images("natural", "heldout")
    have = set(available_codecs())
    first = next(iter(images.values()))
    points, rows = [], {}
    for codec in args.codecs:
        if codec not in have:
            print(f"skipping {codec}: this Pillow lacks it", file=sys.stderr)
            continue
        code_image(get_codec(codec), first, CURVE_QUALITIES[codec][0])  # warm-up, not timed
        for quality in CURVE_QUALITIES[codec]:
            result = code_images(images, codec, quality=quality)
            points.append({**curve_point(codec, result), "quality": quality})
            rows[f"{codec}@{quality}"] = result.to_dict()
    matched = {}
    for source in args.learned:
        try:
            codec, lmbda = load_codec(source)
        except (ValueError, OSError) as err:
            parser.error(str(err))
        if codec.name in matched:  # the shipped name, or the checkpoint's file name
            parser.error(f"{source} is given twice.")
        code_image(codec, first)  # warm-up, not timed
        scores = codec_heldout_scores(codec.model, images)  # the codec, and JPEG at its rate
        points.append({"codec": "learned", "quality": lmbda, "model": codec.name,
                       "bpp": scores["bpp"], "psnr": scores["psnr"], "ssim": scores["ssim"],
                       "encode_ms": 1000 * scores["encode_seconds"],
                       "decode_ms": 1000 * scores["decode_seconds"]})
        matched[codec.name] = scores

    print(f"held-out photos: {', '.join(images)} (RGB, full image)\n")
    print_table(["codec", "quality", "bpp", "PSNR (dB)", "SSIM", "encode (ms)", "decode (ms)"],
                [[p["codec"], p["quality"], f"{p['bpp']:.3f}", f"{p['psnr']:.2f}",
                  f"{p['ssim']:.4f}", f"{p['encode_ms']:.0f}", f"{p['decode_ms']:.0f}"]
                 for p in points])
    curves = {}
    for p in points:
        curves.setdefault(p["codec"], []).append(p)
    bd = {}
    if len(curves.get("jpeg", [])) < 4 or not any(len(c) >= 4 for k, c in curves.items()
                                                  if k != "jpeg"):
        print("no BD-rate: it needs JPEG's curve and another of at least 4 points (4 learned "
              "codecs for theirs)", file=sys.stderr)
    else:
        ref = curves["jpeg"]
        for codec, curve in curves.items():
            if codec == "jpeg" or len(curve) < 4:
                continue
            try:
                bd[codec] = bd_rate([p["bpp"] for p in ref], [p["psnr"] for p in ref],
                                    [p["bpp"] for p in curve], [p["psnr"] for p in curve])
            except ValueError as err:
                print(f"{codec}: no BD-rate ({err})", file=sys.stderr)
        print("\nBD-rate against JPEG 4:2:0 (PSNR; negative: fewer bits at equal quality)\n")
        print_table(["codec", "BD-rate (%)"], [[c, f"{v:+.1f}"] for c, v in bd.items()])
    if matched:
        print("\nEach learned codec against JPEG 4:2:0 at the same rate per photo\n")
        print_table(["model", "bpp", "PSNR (dB)", "JPEG bpp", "JPEG PSNR (dB)", "gain (dB)"],
                    [[name, f"{s['bpp']:.3f}", f"{s['psnr']:.2f}",
                      f"{s['baselines']['jpeg']['bpp']:.3f}",
                      f"{s['baselines']['jpeg']['psnr']:.2f}",
                      f"{s['psnr'] - s['baselines']['jpeg']['psnr']:+.2f}"]
                     for name, s in matched.items()])
    compact_rows = []
    if args.compact is not None:
        try:
            codec = load_codec(args.compact)[0]
        except (ValueError, OSError) as err:
            parser.error(str(err))
        # the int8 kernels' activation ranges: from the training photos, never the scored ones
        calibration = calibration_latents(codec.model, domain_images("natural", "train"))
        compact_rows = decoder_table(codec.model, smaller_decoders(codec.model, calibration),
                                     images)
        print(f"\n{codec.name}'s files decoded by smaller decoders (the same bytes)\n")
        columns = ["decoder", "file (kB)", "deflated (kB)", "PSNR (dB)", "change (dB)",
                   "decode (ms)"]
        print_table(columns, [[r["decoder"], f"{r['file (kB)']:.0f}",
                               f"{r['deflated (kB)']:.0f}", f"{r['PSNR (dB)']:.2f}",
                               f"{r['change (dB)']:+.2f}", f"{r['decode (ms)']:.0f}"]
                              for r in compact_rows])
    write_json(args.json, {"images": list(images), "hardware": hardware(),
                           "torch_threads": args.threads, "pillow": PIL.__version__,
                           "points": points, "bd_rate_vs_jpeg": bd, "equal_rate": matched,
                           "rows": rows, "smaller_decoders": compact_rows})
    if args.figure is not None:
        fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
        for codec, curve in curves.items():
            curve = sorted(curve, key=lambda p: p["bpp"])
            ax.plot([p["bpp"] for p in curve], [p["psnr"] for p in curve], marker="o",
                    label=codec)
        ax.set(xlabel="bits per pixel (file size)", ylabel="PSNR (dB, RGB)",
               title="Rate-distortion on the held-out photos")
        ax.legend()
        args.figure.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.figure.with_name(f".{args.figure.name}.partial.png")
        fig.savefig(tmp, dpi=120)
        tmp.replace(args.figure)  # atomic: never half a figure
    return 0


if __name__ == "__main__":
    sys.exit(main())
