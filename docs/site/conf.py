"""Sphinx configuration of the course website (``make site``): the notebooks with their
executed outputs, the instructor guide, the model cards and README's tables.

Sphinx with myst-nb (pure Python, in the lock) rather than Jupyter Book 2, whose MyST engine
needs Node.js on every machine that builds the site. The source folder is the repository
root (``sphinx-build -c docs/site . build/site``), so the pages are the files themselves, not
copies; ``include_patterns`` picks them. Notebooks are executed through jupyter-cache
(``build/jupyter_cache``): an unchanged notebook is not run again. A failed cell fails the
build (``nb_execution_raise_on_error``), and ``make site`` passes ``-W``, so a broken
internal link fails it too. ``COURSE_FAST`` selects the notebooks' mode, as everywhere.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from course_utils.config import BRANCH, REPO  # noqa: E402

project = "Transfer learning for image reconstruction"
author = "The course's authors"
root_doc = "docs/site/index"
extensions = ["myst_nb"]
include_patterns = ["docs/site/*.md", "notebooks/*.ipynb", "docs/instructor/*.md",
                    "README.md", "course_utils/assets/README.md",
                    "course_utils/assets/models/*.md"]
exclude_patterns = ["build/**", "**/.ipynb_checkpoints"]

# Executed outputs, cached by the notebook's code cells: a changed notebook (or a changed
# COURSE_FAST, which is part of the cache's key through the build folder) runs again.
nb_execution_mode = "cache"
nb_execution_cache_path = str(ROOT / "build" / "jupyter_cache"
                              / ("fast" if os.environ.get("COURSE_FAST") == "1" else "full"))
nb_execution_timeout = 1800
nb_execution_raise_on_error = True
nb_execution_in_temp = False  # cwd = the notebook's folder, as the set-up cell expects
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header"]  # notebooks start at "#" and may skip levels in prose

html_extra_path = ["extra"]  # index.html at the site's root: a redirect to the home page
html_theme = "sphinx_book_theme"
html_title = project
html_theme_options = {
    "repository_url": f"https://github.com/{REPO}",
    "repository_branch": BRANCH,
    "path_to_docs": "",
    "use_repository_button": True,
    "launch_buttons": {"colab_url": "https://colab.research.google.com",
                       "binderhub_url": "https://mybinder.org",
                       "notebook_interface": "jupyterlab"},
    "show_toc_level": 2,
}
