"""Tests of the repair builders and the text helpers in ``analyzer.checks.repairs``."""

from __future__ import annotations

from datetime import datetime

import pytest

from analyzer.checks.model import Op, RootName
from analyzer.checks.repairs import remove_stub, time_text, utc
from analyzer.snapshot.base import Kind, Stat, whole_seconds


@pytest.mark.parametrize(("mtime", "text"), [
    (0, "unknown"),
    (1767225600.75, "2026-01-01 00:00:00 UTC"),
    (-1, "1969-12-31 23:59:59 UTC"),
    (253402300799, "9999-12-31 23:59:59 UTC"),
    (253402300800, "253402300800 seconds since 1970 (out of range)"),
    (2**40, "1099511627776 seconds since 1970 (out of range)"),
    (float(2**62), "4611686018427387904 seconds since 1970 (out of range)"),
    (-2**40, "-1099511627776 seconds since 1970 (out of range)"),
    (float("nan"), "nan (not a time)"),
    (float("-inf"), "-inf (not a time)"),
])
def test_time_text_is_total(mtime: float, text: str) -> None:
    assert time_text(mtime) == text


def test_utc_gives_none_where_no_date_holds_the_time() -> None:
    assert utc(1767225600) == datetime(2026, 1, 1)
    assert [utc(t) for t in (2**40, -2**40, float(2**62), float("nan"), float("inf"))] == [
        None, None, None, None, None]


def test_whole_seconds_drops_what_is_not_a_number() -> None:
    assert [whole_seconds(t) for t in (7.9, -1.5, float(2**62), float(2**63), float("nan"),
                                       float("inf"), float("-inf"))] == [
        7, -1, 2**62, None, None, None, None]


def test_remove_stub_with_a_nan_mtime_gives_the_step_no_mtime() -> None:
    stub = Stat(Kind.FILE, 0o755, 0, 0, 0, float("nan"))

    repair = remove_stub("R-x-1", b"overlay2/m/diff/abc", stub, automatic=False, story="",
                         dest="/abc")

    assert [(s.op, s.root, s.parent, s.name, s.mtime) for s in repair.steps] == [
        (Op.REMOVE_EMPTY_FILE, RootName.DATA, b"overlay2/m/diff", b"abc", None)]
