"""Tests of course_utils.config: the COURSE_FAST switch and pick()."""

from __future__ import annotations

import pytest

from course_utils.config import fast_mode, pick


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "True", "yes", "on", " 1 ", "On"])
def test_fast_mode_true(monkeypatch, value):
    monkeypatch.setenv("COURSE_FAST", value)
    assert fast_mode() is True
    assert pick(fast=2, full=10) == 2


@pytest.mark.parametrize("value", ["0", "false", "False", "", "no", "off", "  "])
def test_fast_mode_false(monkeypatch, value):
    monkeypatch.setenv("COURSE_FAST", value)
    assert fast_mode() is False
    assert pick(fast=2, full=10) == 10


def test_fast_mode_unset(monkeypatch):
    monkeypatch.delenv("COURSE_FAST", raising=False)
    assert fast_mode() is False
    assert pick(fast="small", full="large") == "large"


@pytest.mark.parametrize("value", ["ture", "2", "fast", "y e s"])
def test_fast_mode_typo_is_an_error(monkeypatch, value):
    monkeypatch.setenv("COURSE_FAST", value)
    with pytest.raises(ValueError, match=f"COURSE_FAST='{value}' is not understood.*COURSE_FAST=1"):
        fast_mode()
    with pytest.raises(ValueError, match="not understood"):
        pick(fast=1, full=2)


def test_pick_returns_the_objects_themselves(monkeypatch):
    fast, full = [1], [2]
    monkeypatch.setenv("COURSE_FAST", "1")
    assert pick(fast=fast, full=full) is fast
    monkeypatch.setenv("COURSE_FAST", "0")
    assert pick(fast=fast, full=full) is full

