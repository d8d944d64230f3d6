"""The course website's sources (docs/site/): every page is in the navigation, and the launch
buttons come from the one repository setting. CI builds the site itself (`make site`)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from course_utils.config import BRANCH, REPO

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "docs" / "site"
_SPEC = importlib.util.spec_from_file_location("site_conf", SITE / "conf.py")
conf = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(conf)


def toctree_entries() -> set[str]:
    """Every document the site's toctrees list, globs expanded, as paths from the root."""
    entries = set()
    for page in SITE.glob("*.md"):
        for block in re.findall(r"```\{toctree\}\n(.*?)```", page.read_text(), re.S):
            for line in block.splitlines():
                line = line.strip()
                if not line or line.startswith(":"):
                    continue
                target = line.lstrip("/") if line.startswith("/") else f"docs/site/{line}"
                if "*" in target:
                    entries |= {p.relative_to(ROOT).with_suffix("").as_posix()
                                for p in ROOT.glob(target + ".md")}
                else:
                    entries.add(target)
    return entries


def test_every_notebook_guide_page_and_model_card_is_in_the_navigation():
    entries = toctree_entries()
    pages = [*ROOT.glob("notebooks/*.ipynb"), *ROOT.glob("docs/instructor/*.md"),
             *ROOT.glob("course_utils/assets/models/*.md"), ROOT / "README.md",
             ROOT / "course_utils" / "assets" / "README.md"]
    missing = [p.relative_to(ROOT).as_posix() for p in pages
               if p.relative_to(ROOT).with_suffix("").as_posix() not in entries]
    assert not missing, f"not in docs/site's toctrees: {missing}"
    for entry in entries:  # and every entry is a file the build includes
        found = [p for p in ROOT.glob(entry + ".*") if p.suffix in (".md", ".ipynb")]
        assert found, f"toctree entry {entry} has no page"
        assert any(Path(found[0].relative_to(ROOT)).match(pattern)
                   for pattern in conf.include_patterns), f"{entry} is not in include_patterns"


def test_launch_buttons_and_the_repository_button_use_the_course_setting():
    options = conf.html_theme_options
    assert options["repository_url"] == f"https://github.com/{REPO}"
    assert options["repository_branch"] == BRANCH
    assert options["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    assert options["launch_buttons"]["binderhub_url"] == "https://mybinder.org"


def test_a_failed_cell_fails_the_build_and_the_root_page_opens_the_home_page():
    assert conf.nb_execution_raise_on_error is True and conf.nb_execution_mode == "cache"
    redirect = (SITE / "extra" / "index.html").read_text()
    assert f'url={conf.root_doc}.html"' in redirect
    assert "-W" in (ROOT / "Makefile").read_text().split("\nsite:")[1].split("\n\n")[0]
