"""scripts/build_html.py: executed HTML copies that read well without a kernel or a network.

A tiny notebook with an exercise solution, an explorer and a training run is built; in its
HTML copy the solution is folded into a closed <details>, the explorer shows its PNG snapshot
and loads no widget script from a CDN, and training printed text, not a progress widget.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parent.parent


def test_html_copy_folds_solutions_and_shows_explorer_snapshots(tmp_path):
    solution = new_code_cell('print("THE-ANSWER-" + str(6 * 7))')
    solution.metadata["tags"] = ["solution"]
    solution.metadata["jupyter"] = {"source_hidden": True, "outputs_hidden": True}
    cells = [
        new_markdown_cell("# A tiny notebook"),
        solution,
        new_code_cell("import matplotlib.pyplot as plt\n"
                      "from course_utils.widgets import explorer\n\n"
                      "def draw(n=2):\n"
                      "    fig, ax = plt.subplots(figsize=(2, 2))\n"
                      "    ax.plot(range(n))\n"
                      "    return fig\n\n"
                      "explorer(draw, n=[1, 2, 3])"),
        new_code_cell("import numpy as np\n"
                      "from course_utils.data.pairs import PairedPatches, validation_pairs\n"
                      "from course_utils.models import get_model\n"
                      "from course_utils.training import fit\n"
                      "from torch.utils.data import DataLoader\n"
                      "images = [np.random.default_rng(0).random((32, 32))]\n"
                      "loader = DataLoader(PairedPatches(images, 'sr-x2', patch_size=16, "
                      "samples_per_epoch=4), batch_size=2)\n"
                      "history = fit(get_model('espcn', scale=2, features=(4, 4)), loader, "
                      "validation_pairs(images, 'sr-x2'), epochs=1)"),
    ]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = tmp_path / "tiny.ipynb"
    nbformat.write(nb, path)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COURSE_FAST": "1"}
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_html.py"), str(path),
                           "--output-dir", str(tmp_path / "html"), "--timeout", "300"],
                          capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    html = (tmp_path / "html" / "tiny.html").read_text()
    folded = html.index('<details class="course-solution">')
    assert folded < html.index("THE-ANSWER-42") < html.index("</details>", folded)
    assert "<summary>Solution (click to show)</summary>" in html
    assert "data:image/png;base64" in html, "the explorer's snapshot"
    assert "application/vnd.jupyter.widget-state+json" not in html, "no widget state to load"
    assert "steps in" in html and "best validation PSNR" in html, "training printed text"
