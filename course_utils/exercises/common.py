"""What every exercise check does: wait for an answer, then say precisely what is wrong.

A notebook's exercise reads: the task, a cell where the student writes the answer (it starts as
``...``), a check cell, and the solution, collapsed. The check cell calls, for example,
``check.exercise_1(answer)``:

- while ``answer`` is still ``...``, it prints how to go on and returns ``False``;
- a wrong answer raises :class:`WrongAnswer` with what was found and what was expected
  ("your kernel's weights sum to 1.08; a cubic kernel's weights sum to 1");
- a right one prints that it passed and returns ``True``.

The collapsed solution ends with the same check, so the notebook's run in CI also checks the
answer key. The expected values are recomputed by the check from the course package, never
stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["WrongAnswer", "attempted", "expect", "expect_close", "expect_keys", "passed"]


class WrongAnswer(AssertionError):
    """An exercise's answer is not right; the message says what was found and expected."""


def attempted(answer: Any, exercise: int) -> bool:
    """``False`` (after saying how to go on) while ``answer`` is still the placeholder ``...``."""
    if answer is Ellipsis:
        print(f"Exercise {exercise}: no answer yet. Replace the ... in the cell above with "
              "yours and run both cells again; the solution is in the folded cell below "
              "(not in a student copy: ask your instructor).")
        return False
    return True


def expect(condition: bool, message: str) -> None:
    """Raise :class:`WrongAnswer` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise WrongAnswer(message)


def expect_close(got: float, want: float, what: str, tol: float = 1e-6) -> None:
    """``got`` must be within ``tol`` (absolute) of ``want``; the message names ``what``."""
    try:
        got = float(got)
    except (TypeError, ValueError):
        raise WrongAnswer(f"{what} should be a number, got {type(got).__name__}.") from None
    expect(abs(got - want) <= tol, f"{what} is {got:.6g}; it should be {want:.6g}.")


def expect_keys(answer: Any, keys: set, what: str) -> None:
    """``answer`` must be a mapping with exactly ``keys``."""
    expect(isinstance(answer, Mapping),
           f"{what} should be a dict, got {type(answer).__name__}.")
    missing, extra = set(keys) - set(answer), set(answer) - set(keys)
    expect(not missing and not extra,
           f"{what} should have the keys {sorted(keys, key=str)}"
           + (f"; missing: {sorted(missing, key=str)}" if missing else "")
           + (f"; not expected: {sorted(extra, key=str)}" if extra else "") + ".")


def passed(exercise: int, detail: str = "") -> bool:
    """Say that the answer is right; returns ``True``."""
    print(f"Exercise {exercise}: correct." + (f" {detail}" if detail else ""))
    return True
