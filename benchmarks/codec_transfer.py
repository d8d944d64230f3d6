#!/usr/bin/env python3
"""Unit 07's transfer experiment: the natural-photo codecs on medical scans, zero-shot against
fine-tuned on a few scans.

    python benchmarks/codec_transfer.py --threads 1 --json build/codec_transfer.json
    python benchmarks/codec_transfer.py --scans 2 --steps 8 --epochs 1   # a quick look

Each learned codec (by default the four shipped ones, one per lambda) codes the held-out
medical scans of unit 05 (split by scan: none of them is trained on) as it is, then after
``--steps`` steps of fine-tuning on the first ``--scans`` training scans at its own lambda
(:func:`course_utils.experiments.codec_transfer.finetune_codec`: ``pretrain --init``). It
prints, per codec, bpp and PSNR of the real files on the held-out scans, zero-shot and
fine-tuned, the fine-tuning time, and the codec's scores on the natural held-out photos after
fine-tuning (what it forgot); then JPEG's curve on the same scans and the BD-rates: each
learned curve against JPEG, and fine-tuned against zero-shot. The peak resident memory last.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from report import finish, print_table  # noqa: E402  (benchmarks/report.py)

from course_utils.data import domain_images  # noqa: E402
from course_utils.experiments import codec_transfer  # noqa: E402
from course_utils.zoo.cards import hardware  # noqa: E402
from course_utils.zoo.shipped import shipped_codecs  # noqa: E402


def cell(value: object) -> str:
    return "-" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codecs", nargs="+", default=shipped_codecs(),
                        help="shipped codec names or checkpoint files (default: the shipped)")
    parser.add_argument("--scans", type=int, default=4, help="training scans to fine-tune on")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: all)")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    start = time.perf_counter()
    train = domain_images("medical", "train", args.scans)
    heldout = domain_images("medical", "heldout")
    out = codec_transfer(args.codecs, train, heldout, steps=args.steps, epochs=args.epochs,
                         lr=args.lr)
    print(f"fine-tuned on {', '.join(train)} ({args.steps} steps, lr {args.lr:g}); scored on "
          f"the held-out scans {', '.join(heldout)} (real files, RGB of the gray scan)\n")
    print_table(list(out["rows"][0]), [[f"{v:g}" if k == "lambda" else cell(v)
                                        for k, v in r.items()] for r in out["rows"]])
    print("\nJPEG (4:2:0) on the same scans\n")
    print_table(["quality", "bpp", "PSNR (dB)"],
                [[r["quality"], cell(r["bpp"]), cell(r["PSNR (dB)"])] for r in out["jpeg"]])
    print("\nBD-rate (PSNR; negative: fewer bits at equal PSNR; needs 4 codecs)\n")
    print_table(["curves", "BD-rate (%)"],
                [[k, "-" if v is None else f"{v:+.1f}"] for k, v in out["bd_rate"].items()])
    out |= {"settings": vars(args) | {"json": str(args.json)}, "hardware": hardware(),
            "threads": torch.get_num_threads()}
    finish(out, start, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
