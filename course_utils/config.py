"""The course's switches: fast mode, and text progress for executed copies.

Every notebook reads its knobs (image counts, sizes, epochs) through :func:`pick`, so a
CI run and a classroom run execute the same code with different sizes. CI and
``make test`` export ``COURSE_FAST=1``; people get full mode by default.

Progress bars are widgets in a live notebook; a widget is blank in a copy read without the
widget script. The headless runner that writes executed copies (``scripts/nbrun.py``) sets
``COURSE_TEXT_PROGRESS=1``, and :func:`text_progress` tells the training loop to print a line
of text instead.
"""

from __future__ import annotations

import os
from typing import TypeVar

T = TypeVar("T")

FAST_ENV = "COURSE_FAST"
TEXT_PROGRESS_ENV = "COURSE_TEXT_PROGRESS"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def fast_mode() -> bool:
    """Return True when the environment variable ``COURSE_FAST`` asks for fast mode.

    Raises
    ------
    ValueError
        If the variable holds something other than 1/0, true/false, yes/no or on/off,
        so that a typo never silently runs an hour-long full mode in CI.
    """
    value = os.environ.get(FAST_ENV, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(
        f"{FAST_ENV}={os.environ[FAST_ENV]!r} is not understood; "
        f"use {FAST_ENV}=1 for fast mode or {FAST_ENV}=0 (or unset it) for full mode."
    )


def _flag(name: str) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{name}={os.environ[name]!r} is not understood; use {name}=1 or "
                     f"{name}=0 (or unset it).")


def text_progress() -> bool:
    """True when ``COURSE_TEXT_PROGRESS`` asks for progress as text rather than widgets."""
    return _flag(TEXT_PROGRESS_ENV)


def pick(fast: T, full: T) -> T:
    """Return ``fast`` in fast mode and ``full`` otherwise.

    Examples
    --------
    >>> n_images = pick(fast=2, full=10)
    """
    return fast if fast_mode() else full


#: Where the course lives (GitHub ``owner/name``) and the branch the launch badges open: the
#: one setting behind every notebook's badges and Colab set-up cell and README's clone command.
#: A fork changes these two lines and runs ``python scripts/sync_setup_cell.py``.
REPO = "tl-recon/transfer-learning-image-reconstruction"
BRANCH = "main"
REPO_GIT = f"https://github.com/{REPO}.git"
