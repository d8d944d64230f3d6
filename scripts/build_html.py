#!/usr/bin/env python3
"""Execute notebooks headless and write rendered HTML copies (``make html``).

    python scripts/build_html.py [--output-dir build/html] [--timeout 1800] [NOTEBOOK ...]

Default: every ``notebooks/*.ipynb``. Each notebook runs top to bottom in a fresh kernel of the
current environment, with cwd = its folder, in the mode ``COURSE_FAST`` selects (full mode when
unset). A notebook that fails is reported and gets no HTML copy; the others still run, and the
exit status is 1. Copies are written atomically, so build/html/ never holds a half-written file.
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient.exceptions import CellExecutionError, CellTimeoutError
from nbconvert import HTMLExporter
from traitlets.config import Config

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from nbrun import notebook_client  # noqa: E402

TEMPLATES = ROOT / "scripts" / "templates"
#: Widget views need the widget JavaScript from a CDN; without it they render blank. The copies
#: show what the explorers bundle beside each view instead: a PNG snapshot of the figure.
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def exporter() -> HTMLExporter:
    """JupyterLab's HTML, with solutions folded (scripts/templates/course) and no widget views."""
    priority = HTMLExporter().default_config.NbConvertBase.display_data_priority
    config = Config({"NbConvertBase": {"display_data_priority": [m for m in priority
                                                                  if m != WIDGET_VIEW]}})
    return HTMLExporter(config=config, template_name="course",
                        extra_template_basedirs=[str(TEMPLATES)])


def build(path: Path, output_dir: Path, timeout: float | None) -> str | None:
    """Execute and render one notebook; return an error summary, or None on success."""
    nb = nbformat.read(path, as_version=4)
    try:
        notebook_client(nb, path, timeout).execute()
    except CellExecutionError as err:
        return f"{err.ename}: {err.evalue}"
    except CellTimeoutError as err:
        return f"timeout: {str(err).strip().splitlines()[-1]}"
    except Exception as err:  # noqa: BLE001  (report it, go on with the next notebook)
        return f"{type(err).__name__}: {err}"
    nb.metadata.pop("widgets", None)  # the saved widget state: it only loads the CDN's script
    body, _ = exporter().from_notebook_node(nb, resources={"metadata": {"name": path.stem}})
    target = output_dir / f"{path.stem}.html"
    partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
    partial.write_text(body, encoding="utf-8")
    partial.replace(target)
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--output-dir", type=Path, default=ROOT / "build" / "html")
    parser.add_argument("--timeout", type=float, default=1800,
                        help="seconds a single cell may run (default: %(default)s; 0: no limit)")
    args = parser.parse_args(argv)

    paths = args.notebooks or [Path(p) for p in sorted(glob.glob(str(ROOT / "notebooks/*.ipynb")))]
    if not paths:
        print("build_html: no notebooks in notebooks/", file=sys.stderr)
        return 0
    args.output_dir.mkdir(parents=True, exist_ok=True)
    mode = f"COURSE_FAST={os.environ.get('COURSE_FAST', '')!r}"  # course_utils interprets it
    failed = []
    for path in paths:
        print(f"build_html: {path.name} ({mode}) ...", file=sys.stderr, flush=True)
        start = time.perf_counter()
        error = build(path, args.output_dir, args.timeout or None)
        took = time.perf_counter() - start
        if error:
            failed.append(path.name)
            print(f"build_html:   FAILED after {took:.0f} s: {error}", file=sys.stderr)
        else:
            print(f"build_html:   {took:.0f} s -> {args.output_dir / (path.stem + '.html')}",
                  file=sys.stderr)
    if failed:
        print(f"build_html: FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
