"""The benchmark scripts on tiny settings: benchmarks/notebooks.py on two tiny notebooks, one that
works (and allocates a known amount of memory), one that fails (reported in the table, not
raised); benchmarks/inference.py on untrained and shipped models; benchmarks/compression.py
with two standard codecs and an untrained learned one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks" / "notebooks.py"


def write_notebook(path: Path, *sources: str) -> None:
    nb = new_notebook(cells=[new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, path)


def test_benchmark_reports_time_memory_and_failures(tmp_path):
    write_notebook(
        tmp_path / "00_ok.ipynb",
        "import os, pathlib\n"
        "assert os.environ['COURSE_FAST'] == '1'\n"
        f"assert pathlib.Path.cwd() == pathlib.Path({str(tmp_path)!r})\n"
        "import course_utils  # the repository root is on the kernel's PYTHONPATH",
        "import numpy as np\nblock = np.ones(300 * 2**20 // 8)  # 300 MiB, touched\n"
        "assert block.sum() == block.size",
    )
    write_notebook(tmp_path / "01_broken.ipynb", "x = 1", "raise ValueError('on purpose')")
    out_json = tmp_path / "bench.json"

    proc = subprocess.run(
        [sys.executable, str(BENCH), "--mode", "fast", "--notebooks",
         str(tmp_path / "*.ipynb"), "--json", str(out_json), "--timeout", "120"],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600,
    )
    assert proc.returncode == 1, "a failing notebook makes the exit status 1"
    assert "| notebook | mode | wall time (s) | peak memory (MiB) | status |" in proc.stdout

    results = {r["notebook"]: r for r in json.loads(out_json.read_text())["results"]}
    ok, broken = results["00_ok.ipynb"], results["01_broken.ipynb"]
    assert ok["status"] == "ok", ok
    assert ok["mode"] == "fast"
    assert 0 < ok["wall_s"] < 120
    assert 300 < ok["peak_mib"] < 2048, ok
    assert broken["status"] == "failed"
    assert broken["failed_cell"] == 1
    assert "ValueError: on purpose" in broken["error"]
    row = next(line for line in proc.stdout.splitlines() if "01_broken.ipynb" in line)
    assert "FAILED in cell 1: ValueError: on purpose" in row


def test_inference_benchmark_prints_a_table(tmp_path):
    out = tmp_path / "inference.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "inference.py"), "--untrained", "--models",
         "espcn", "fsrcnn", "--scales", "2", "--size", "64", "--repeats", "1", "--threads", "1",
         "--json", str(out)],
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "| espcn | x2 | 21,284 | 1 |" in done.stdout
    assert "| fsrcnn | x2 |" in done.stdout
    rows = json.loads(out.read_text())
    assert [r["model"] for r in rows] == ["espcn", "fsrcnn"]
    assert all(r["images_per_s"] > 0 and r["peak_mib"] > 50 for r in rows)


def test_inference_benchmark_times_a_shipped_model(tmp_path):
    out = tmp_path / "inference.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "inference.py"), "--models", "espcn",
         "--scales", "3", "--size", "48", "--repeats", "1", "--threads", "1", "--json", str(out)],
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "| espcn | x3 | 22,729 | 1 |" in done.stdout  # the shipped x3 model's parameters
    (row,) = json.loads(out.read_text())
    assert (row["model"], row["scale"], row["size"]) == ("espcn", 3, 48)


def test_compression_benchmark_measures_curves_bd_rate_and_a_learned_codec(tmp_path):
    from course_utils.models import get_model, save_checkpoint

    checkpoint = tmp_path / "tiny-codec.safetensors"  # untrained: the plumbing, not the score
    save_checkpoint(checkpoint, get_model("factorized-codec", N=8, M=8),
                    {"task": "compress-0.01"})
    out_json, figure = tmp_path / "rd.json", tmp_path / "rd.png"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "compression.py"), "--codecs", "jpeg",
         "jpeg444", "--learned", str(checkpoint), "--compact", str(checkpoint),
         "--json", str(out_json), "--figure", str(figure)],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert "| codec | BD-rate (%) |" in proc.stdout
    assert "| model | bpp | PSNR (dB) | JPEG bpp |" in proc.stdout
    result = json.loads(out_json.read_text())
    (learned,) = [p for p in result["points"] if p["codec"] == "learned"]
    assert learned["quality"] == 0.01 and learned["bpp"] > 0  # labelled by its lambda
    jpeg = [p for p in result["points"] if p["codec"] == "jpeg"]
    assert all(a["bpp"] < b["bpp"] for a, b in zip(jpeg[:-1], jpeg[1:], strict=True))
    # 4:4:4 keeps the chroma at full size: more bits than 4:2:0 at equal PSNR
    assert result["bd_rate_vs_jpeg"]["jpeg444"] > 0
    assert result["equal_rate"][checkpoint.name]["baselines"]["jpeg"]["bpp"] > 0
    assert figure.stat().st_size > 0
    assert "decoded by smaller decoders (the same bytes)" in proc.stdout
    smaller = {r["decoder"]: r for r in result["smaller_decoders"]}
    assert {"float32", "int8 weights", "pruned 50%"} <= set(smaller)
    assert smaller["int8 weights"]["file (kB)"] < smaller["float32"]["file (kB)"]

    save_checkpoint(checkpoint, get_model("factorized-codec", N=8, M=8), {"task": "sr-x2"})
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "compression.py"),
                           "--codecs", "jpeg", "--learned", str(checkpoint)],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600)
    assert proc.returncode == 2 and "holds no learned codec" in proc.stderr
