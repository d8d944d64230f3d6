"""What every benchmark script prints and writes: Markdown tables and an atomic JSON file."""

from __future__ import annotations

import json
import os
import resource
import time
from collections.abc import Iterable, Sequence
from pathlib import Path


def print_table(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Print a Markdown table: a header of ``columns``, then one line per row of cells."""
    print("| " + " | ".join(columns) + " |")
    print("|" + " --- |" * len(columns))
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")


def write_json(path: Path | None, data: object) -> None:
    """Write ``data`` as JSON to ``path`` (if given) through a temporary file and a rename, so
    that an interrupted run never leaves half a file."""
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_text(json.dumps(data, indent=2))
    os.replace(tmp, path)


def finish(out: dict, start: float, path: Path | None) -> None:
    """End a run: add its ``seconds`` (since ``start``, a ``time.perf_counter()``) and
    ``peak_mib`` (the process's peak resident memory) to ``out``, print them with
    ``out["threads"]``, and write ``out`` to ``path`` (:func:`write_json`)."""
    out["seconds"] = time.perf_counter() - start
    out["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n{out['seconds'] / 60:.1f} min, peak resident memory {out['peak_mib']:.0f} MiB, "
          f"{out['threads']} torch thread(s)")
    write_json(path, out)


def show(title: str, rows: list[dict], columns: Sequence[str] | None = None) -> None:
    """Print ``title`` and ``rows`` (dicts) as a Markdown table of ``columns`` (default: the
    first row's keys; a column no row has is left out): floats with 4 decimals in SSIM
    columns, 2 elsewhere."""
    columns = [c for c in (columns or rows[0]) if c in rows[0]]
    print(f"\n{title}\n")
    print_table(columns, [[f"{r[c]:.4f}" if isinstance(r[c], float) and "SSIM" in c else
                           f"{r[c]:.2f}" if isinstance(r[c], float) else str(r[c])
                           for c in columns] for r in rows])
