"""Durations with units, read and written, and the intervals that fold into hours and days."""

from __future__ import annotations

import pytest

from queueing.core.durations import format_duration, parse_duration_s


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("15s", 15),
        ("4m", 240),
        ("1h30m", 5400),
        ("30d", 2592000),
        ("90", 90),
        (12.5, 12.5),
        ("1.5h", 5400),
        ("2m 30s", 150),
    ],
)
def test_durations(text, seconds) -> None:
    assert parse_duration_s(text) == seconds


@pytest.mark.parametrize("bad", ["soon", "1x", "", "h", True, None, [1]])
def test_bad_durations(bad) -> None:
    with pytest.raises(ValueError, match="must be a"):
        parse_duration_s(bad)


def test_format_duration_round_trips() -> None:
    for s in (15, 240, 5400, 86400 + 60, 12.5):
        assert parse_duration_s(format_duration(s)) == s


def test_one_rule_for_intervals_that_fold_into_hours_and_days():
    from queueing.core.durations import DAY_S, HOUR_S, intervals_in

    assert intervals_in(HOUR_S, 900) == 4 and intervals_in(HOUR_S, HOUR_S) == 1
    assert intervals_in(DAY_S, 2 * HOUR_S) == 12 and intervals_in(DAY_S, 45 * 60) == 32
    for bad in (0, -60, 7 * 60, 2 * HOUR_S):  # not dividing an hour, or longer than it
        assert intervals_in(HOUR_S, bad) is None
    assert intervals_in(DAY_S, 7 * HOUR_S) is None
