#!/usr/bin/env python3
"""Peak memory and run time of the evaluation command against image size.

    python benchmarks/memory.py                                  # 512 ... 6000 px, all methods
    python benchmarks/memory.py --sizes 1500 6000 --methods bicubic espcn_x3
    python benchmarks/memory.py --json build/memory.json

For each (size, method), a folder holding one RGB photo of ``size x size`` pixels (PNG) is
scored by the evaluation command, ``python -m course_utils evaluate --hr DIR --scale 3`` (the
bicubic baseline) or ``--model espcn_x3`` (a shipped model, tiled at 128 LR pixels), or a
restoration task (``--task denoise-25 --method none``, NL-means on the gray image, the shipped
gray denoiser), run as a child process of its own. Peak memory is the child's peak resident
set size, read with ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` after it has exited
(the exact figure kept by the operating system, as ``benchmarks/notebooks.py`` takes it), so it
is the whole
process's: Python, NumPy, torch (imported by the command whatever the method) and the images.
The ``import`` row is a child that only imports the command's modules: the floor under every
other row.

The photos are scikit-image's astronaut (512x512), resized with Pillow's bicubic to the size
(tiled first, for sizes above 2048, so the image keeps detail at every scale) and given a
little seeded noise: smooth like a photo, not random pixels. Times are wall seconds on a
shared machine and vary; memory does not.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data as skdata

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from report import print_table, write_json  # noqa: E402  (benchmarks/report.py)

METHODS = {  # label: the evaluate command's options
    "bicubic": ["--scale", "3"],
    "espcn_x2": ["--model", "espcn_x2"],
    "espcn_x3": ["--model", "espcn_x3"],
    "fsrcnn_x4": ["--model", "fsrcnn_x4"],
    # restoration (unit 06): the noisy input itself, a classical denoiser, the shipped one
    "denoise none": ["--task", "denoise-25", "--method", "none"],
    "denoise-gray nlm": ["--task", "denoise-25-gray", "--method", "nlm"],
    "dncnn_denoise-25-gray": ["--model", "dncnn_denoise-25-gray"],
}
IMPORT_ONLY = "import course_utils.__main__"


def make_photo(size: int, seed: int = 0) -> np.ndarray:
    """A ``size x size`` RGB uint8 photo made from scikit-image's astronaut (module docstring)."""
    base = Image.fromarray(skdata.astronaut())
    if size > 2048:  # tile 2x2 (mirrored) so that a large image is not one blurred face
        tile = np.asarray(base)
        tiled = np.block([[[tile], [tile[:, ::-1]]], [[tile[::-1]], [tile[::-1, ::-1]]]])
        base = Image.fromarray(np.ascontiguousarray(tiled))
    photo = np.asarray(base.resize((size, size), Image.Resampling.BICUBIC), dtype=np.int16)
    noise = np.random.default_rng(seed).integers(-2, 3, size=photo.shape, dtype=np.int16)
    return np.clip(photo + noise, 0, 255).astype(np.uint8)


def run_child(cmd: list[str]) -> dict:
    """Run ``cmd``; return its exit status, wall seconds, peak RSS (MiB) and last output."""
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    kib = peak / 1024 if sys.platform == "darwin" else peak
    return {"rc": done.returncode, "wall_s": round(wall, 1), "peak_mib": round(kib / 1024),
            "output": (done.stdout + done.stderr).strip().splitlines()[-3:]}


def one(size: int, method: str, folder: Path) -> dict:
    """Measure one case in a fresh child of this script (``--one``), so that ru_maxrss is its."""
    cmd = [sys.executable, __file__, "--one", str(size), method, str(folder)]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if done.returncode:
        raise RuntimeError(f"{size} px {method}: the measuring child failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(size: int, method: str, folder: Path) -> dict:
    """The child's work: run the command (or the import) once, as a grandchild."""
    if method == "import":
        cmd = [sys.executable, "-c", IMPORT_ONLY]
    else:
        cmd = [sys.executable, "-m", "course_utils", "evaluate", "--hr", str(folder),
               *METHODS[method]]
    return {"size": size, "method": method, "megapixels": round(size * size / 1e6, 2),
            **run_child(cmd)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[512, 1500, 3000, 6000])
    parser.add_argument("--methods", nargs="+", default=list(METHODS),
                        choices=[*METHODS, "import"])
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    parser.add_argument("--one", nargs=3, metavar=("SIZE", "METHOD", "DIR"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.one:
        print(json.dumps(measure(int(args.one[0]), args.one[1], Path(args.one[2]))))
        return 0

    rows = [one(0, "import", ROOT)]
    with tempfile.TemporaryDirectory(prefix="memory-bench-") as tmp:
        for size in args.sizes:
            folder = Path(tmp) / f"rgb{size}"
            folder.mkdir()
            Image.fromarray(make_photo(size)).save(folder / f"photo{size}.png")
            for method in args.methods:
                print(f"{size} px, {method} ...", file=sys.stderr, flush=True)
                row = one(size, method, folder)
                print(f"  rc {row['rc']}, {row['wall_s']} s, {row['peak_mib']} MiB",
                      file=sys.stderr, flush=True)
                rows.append(row)

    print("Peak memory of `python -m course_utils evaluate --hr DIR ...` on a folder of one "
          "RGB photo (whole process, torch included)\n")
    print_table(["image", "megapixels", "method", "peak MiB", "seconds", "status"],
                [["(import only)" if r["method"] == "import" else f"{r['size']}x{r['size']}",
                  r["megapixels"] if r["size"] else "", r["method"], r["peak_mib"],
                  r["wall_s"], "ok" if r["rc"] == 0 else f"failed ({r['output'][-1]})"]
                 for r in rows])
    write_json(args.json, rows)
    return 1 if any(r["rc"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
