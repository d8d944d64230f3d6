#!/usr/bin/env python3
"""Time every course notebook in fast and full mode, and measure its peak memory.

    python benchmarks/notebooks.py                     # both modes, notebooks/*.ipynb
    python benchmarks/notebooks.py --mode fast --notebooks 'notebooks/01_*.ipynb'
    python benchmarks/notebooks.py --json build/benchmark.json

Each (notebook, mode) runs in its own child process (``--one NOTEBOOK --mode fast``), which
executes the notebook with nbclient (as ``make html`` does, see scripts/nbrun.py) in a fresh
kernel of the current environment, with cwd notebooks/, COURSE_FAST=1 (fast) or 0 (full) and
the repository root on PYTHONPATH, and prints one JSON line. A fresh process per run keeps the
memory figures of one run from leaking into the next. The parent prints a Markdown table and
flags the rows over the targets below. A failing or timed-out notebook is reported in the
table, and makes the exit status 1, but the other runs still happen.

Wall time: from kernel start to kernel shutdown (nbclient's whole execute()), so it includes
the kernel's start-up and imports, like a student's "Restart kernel and run all".

Peak memory: the kernel process's peak resident set size. After nbclient has shut the kernel
down and reaped it, ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` in the child is the
largest peak RSS of any process it has waited for, and the kernel is its only child: this is the
exact peak kept by the operating system (KiB on Linux, bytes on macOS), which sampling could
miss. It is the figure of one process, though: a kernel that starts processes of its own
(DataLoader workers, a command run with subprocess) uses more in total. So a psutil thread also
samples, every 0.2 s, the summed memory of the kernel's whole process tree (PSS on Linux, which
splits shared pages among the processes instead of counting them in each; RSS elsewhere). The
table reports the larger of the two.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import platform
import signal
import subprocess
import sys
import threading
import time
from importlib import metadata
from pathlib import Path

import nbformat
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from nbrun import notebook_client  # noqa: E402
from report import write_json  # noqa: E402  (benchmarks/report.py)

TARGETS = {"fast": 60.0, "full": 600.0}  # seconds of wall time per notebook
PEAK_TARGET_MIB = 2048.0  # Binder gives about 2 GB
MODES = {"fast": "1", "full": "0"}


# ----- child: run one notebook ---------------------------------------------------------------

class TreeSampler(threading.Thread):
    """Samples the summed memory of this process's descendants (the kernel and its children).

    Per process it takes the proportional set size (PSS: shared pages divided among the
    processes sharing them) where the OS reports it (Linux), so that libraries mapped by both
    the kernel and a child (torch's, say) are not counted twice; elsewhere the RSS.
    """

    def __init__(self, interval: float = 0.2):
        super().__init__(daemon=True)
        self.interval = interval
        self.peak_bytes = 0
        self.metric = "rss"
        self._stop_event = threading.Event()

    def _memory(self, proc) -> int:
        if sys.platform.startswith("linux"):
            self.metric = "pss"
            return proc.memory_full_info().pss
        return proc.memory_info().rss

    def run(self) -> None:
        import psutil

        me = psutil.Process()
        while not self._stop_event.is_set():
            total = 0
            for proc in me.children(recursive=True):
                try:
                    total += self._memory(proc)
                except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                    pass
            self.peak_bytes = max(self.peak_bytes, total)
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def _children_maxrss_mib() -> float | None:
    try:
        import resource
    except ImportError:  # Windows
        return None
    maxrss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return maxrss / 2**20 if sys.platform == "darwin" else maxrss / 1024


def run_one(path: Path, mode: str, timeout: float) -> dict:
    """Execute one notebook in a fresh kernel; return its measurements."""
    os.environ["COURSE_FAST"] = MODES[mode]
    pythonpath = os.environ.get("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), pythonpath) if p)

    nb = nbformat.read(path, as_version=4)
    # A kernel of the current environment, cwd = the notebook's folder (scripts/nbrun.py).
    client = notebook_client(nb, path, timeout)
    sampler = None
    try:
        import psutil  # noqa: F401

        sampler = TreeSampler()
        sampler.start()
    except ImportError:
        pass

    status, error = "ok", None
    start = time.perf_counter()
    try:
        client.execute()  # starts the kernel, runs every cell, shuts the kernel down
    except CellTimeoutError as err:
        status, error = "timeout", str(err).strip().splitlines()[-1]
    except CellExecutionError as err:
        status, error = "failed", f"{err.ename}: {err.evalue}"
    except DeadKernelError as err:
        status, error = "failed", f"kernel died ({err})"
    except Exception as err:  # noqa: BLE001  (report anything, never crash the benchmark)
        status, error = "failed", f"{type(err).__name__}: {err}"
    wall = time.perf_counter() - start
    if sampler is not None:
        sampler.stop()

    failed_cell = next((i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
                        and any(o.get("output_type") == "error" for o in cell.get("outputs", []))),
                       None)
    kernel_peak = _children_maxrss_mib()
    tree_peak = sampler.peak_bytes / 2**20 if sampler is not None else None
    peaks = [p for p in (kernel_peak, tree_peak) if p is not None]
    return {
        "notebook": path.name,
        "mode": mode,
        "status": status,
        "error": error,
        "failed_cell": failed_cell,
        "wall_s": round(wall, 2),
        "peak_mib": round(max(peaks), 1) if peaks else None,
        "kernel_maxrss_mib": None if kernel_peak is None else round(kernel_peak, 1),
        "tree_sampled_mib": None if tree_peak is None else round(tree_peak, 1),
        "tree_metric": None if sampler is None else sampler.metric,
    }


# ----- parent: run them all, report --------------------------------------------------------------

def run_in_child(path: Path, mode: str, timeout: float) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--one", str(path), "--mode", mode,
           "--timeout", str(timeout)]
    base = {"notebook": path.name, "mode": mode, "wall_s": None, "peak_mib": None,
            "failed_cell": None}
    start = time.perf_counter()
    # Own process group, so that a timeout also ends the kernel the child started.
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, stdin=subprocess.DEVNULL)
    try:
        out, err = proc.communicate(timeout=timeout + 120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return {**base, "status": "timeout", "wall_s": round(time.perf_counter() - start, 1),
                "error": f"no result after {timeout + 120:.0f} s; killed"}
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (err.strip().splitlines() or ["(no output)"])[-1]
        return {**base, "status": "failed", "error": f"runner exited {proc.returncode}: {tail}"}
    return json.loads(lines[-1])


def flags(result: dict) -> list[str]:
    notes = []
    target = TARGETS[result["mode"]]
    if result.get("wall_s") is not None and result["wall_s"] > target:
        notes.append(f"over {target:.0f} s target")
    if result.get("peak_mib") is not None and result["peak_mib"] > PEAK_TARGET_MIB:
        notes.append(f"over {PEAK_TARGET_MIB:.0f} MiB target")
    return notes


def status_text(result: dict) -> str:
    if result["status"] == "ok":
        text = "ok"
    else:
        text = result["status"].upper()
        if result.get("failed_cell") is not None:
            text += f" in cell {result['failed_cell']}"
        if result.get("error"):
            text += f": {result['error']}"
    notes = flags(result)
    if notes:
        text += " ⚠ " + ", ".join(notes)
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(results: list[dict]) -> str:
    def number(value, fmt):
        return "n/a" if value is None else format(value, fmt)

    rows = ["| notebook | mode | wall time (s) | peak memory (MiB) | status |",
            "|---|---|---:|---:|---|"]
    for r in results:
        rows.append(f"| {r['notebook']} | {r['mode']} | {number(r['wall_s'], '.1f')} | "
                    f"{number(r['peak_mib'], '.0f')} | {status_text(r)} |")
    return "\n".join(rows)


def machine() -> dict:
    versions = {}
    for name in ("torch", "torchvision", "numpy"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {"platform": platform.platform(), "machine": platform.machine(),
            "cpus": os.cpu_count(), "python": platform.python_version(), **versions}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time the course notebooks in fast/full mode.")
    parser.add_argument("--mode", choices=["fast", "full", "both"], default="both")
    parser.add_argument("--notebooks", default="notebooks/*.ipynb",
                        help="glob of notebooks, relative to the repository root "
                             "(default: %(default)s)")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds allowed per cell and per notebook run "
                             "(default: 5 x the mode's target)")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)  # child mode
    args = parser.parse_args(argv)

    if args.one is not None:
        if args.mode == "both":
            parser.error("--one needs --mode fast or --mode full")
        timeout = args.timeout or 5 * TARGETS[args.mode]
        print(json.dumps(run_one(args.one.resolve(), args.mode, timeout)), flush=True)
        return 0

    pattern = args.notebooks if os.path.isabs(args.notebooks) else str(ROOT / args.notebooks)
    paths = [Path(p) for p in sorted(glob.glob(pattern))]
    if not paths:
        print(f"no notebooks match {args.notebooks}", file=sys.stderr)
        return 1
    modes = ["fast", "full"] if args.mode == "both" else [args.mode]

    results = []
    for mode in modes:
        for path in paths:
            timeout = args.timeout or 5 * TARGETS[mode]
            print(f"running {path.name} ({mode} mode) ...", file=sys.stderr, flush=True)
            result = run_in_child(path, mode, timeout)
            print(f"  {result['status']}, {result['wall_s']} s, {result['peak_mib']} MiB",
                  file=sys.stderr, flush=True)
            results.append(result)

    info = machine()
    print(f"Targets: fast <= {TARGETS['fast']:.0f} s, full <= {TARGETS['full']:.0f} s, "
          f"peak memory <= {PEAK_TARGET_MIB:.0f} MiB. Machine: {info['platform']}, "
          f"{info['cpus']} CPUs, Python {info['python']}, torch {info['torch']}.\n")
    print(markdown_table(results))
    if args.json:
        write_json(args.json, {"targets": {"wall_s": TARGETS, "peak_mib": PEAK_TARGET_MIB},
                               "machine": info, "results": results})
        print(f"\nwrote {args.json}", file=sys.stderr)
    return 1 if any(r["status"] != "ok" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
