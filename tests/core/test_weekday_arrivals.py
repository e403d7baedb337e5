"""Arrival rates that differ by day: weekday factors and profiles, special dates, over the horizon."""

from __future__ import annotations

import numpy as np
import pytest

from queueing.core.arrivals import arrival_times, rate_segments
from queueing.core.limits import expected_calls
from queueing.core.scenario_file import parse_scenario
from queueing.errors import ScenarioError

_FILE = """
name: week
{start}
horizon: 7d
classes:
  a:
    priority: 1
    arrivals: {arrivals}
    handle_time: {{dist: exponential, mean: 1m}}
staffing: {{pools: [{{name: p, serves: [a], agents: 1}}]}}
"""


def _scenario(arrivals: str, start: str = "start_day: mon"):  # type: ignore[no-untyped-def]
    return parse_scenario(_FILE.format(arrivals=arrivals, start=start))


def test_weekday_factors_scale_each_days_profile() -> None:
    s = _scenario("{rate_per_hour: 10, weekdays: {mon: 1.5, sun: 0.5}}", start="start_day: sat")
    edges, rates = rate_segments(s, "a")
    per_hour = rates * 3600
    day = (edges[:-1] // 86400).astype(int)
    # Day 0 Saturday (no factor), day 1 Sunday (0.5), day 2 Monday (1.5).
    assert set(per_hour[day == 0]) == {10.0}
    assert set(per_hour[day == 1]) == {5.0}
    assert set(per_hour[day == 2]) == {15.0}
    assert expected_calls(s)["a"] == pytest.approx(10 * 24 * (5 + 0.5 + 1.5))


def test_a_weekday_profile_and_a_special_date() -> None:
    sunday = [1.0] * 12 + [2.0] * 12
    s = _scenario(
        f"{{rate_per_hour: 10, profile_per_weekday: {{sun: {sunday}}}, "
        f"special_days: {{2026-12-09: 0.1, 2026-12-10: {[3.0] * 24}}}}}",
        start="start_date: 2026-12-07",
    )
    assert s.hourly_rates_on("a", 6) == sunday
    assert s.hourly_rates_on("a", 2) == pytest.approx([1.0] * 24)  # Wednesday 9 December
    assert s.hourly_rates_on("a", 3) == [3.0] * 24
    assert s.hourly_rates_on("a", 13) == sunday  # a week later: no longer special, a Sunday
    assert expected_calls(s)["a"] == pytest.approx(10 * 24 * 4 + 24 + 3 * 24 + 36)


def test_the_rates_drawn_follow_the_days() -> None:
    s = _scenario("{rate_per_hour: 100, weekdays: {tue: 3}}")
    rng = np.random.default_rng(5)
    counts = np.bincount((arrival_times(s, "a", rng) // 86400).astype(int), minlength=7)
    assert 3 * 2400 - 4 * np.sqrt(7200) < counts[1] < 3 * 2400 + 4 * np.sqrt(7200)
    assert 2400 - 4 * np.sqrt(2400) < counts[0] < 2400 + 4 * np.sqrt(2400)


def test_a_daily_file_draws_the_same_calls_as_before() -> None:
    plain = _scenario("{rate_per_hour: 10}")
    ones = _scenario("{rate_per_hour: 10, weekdays: {mon: 1.0}}")
    assert not ones.classes["a"].arrivals.varies_by_day
    a = arrival_times(plain, "a", np.random.default_rng(1))
    b = arrival_times(ones, "a", np.random.default_rng(1))
    assert np.array_equal(a, b)


@pytest.mark.parametrize(
    ("arrivals", "start", "expected"),
    [
        ("{rate_per_hour: 1, weekdays: {monday: 1}}", "", "weekdays.monday"),
        ("{rate_per_hour: 1, weekdays: {mon: -1}}", "", "weekdays.mon"),
        ("{rate_per_hour: 1, profile_per_weekday: {mon: [1, 2]}}", "", "profile_per_weekday.mon"),
        (
            "{rate_per_hour: 1, weekdays: {mon: 2}, profile_per_weekday: {mon: " + str([1] * 24) + "}}",
            "",
            "this day has its own profile",
        ),
        ("{rate_per_hour: 1, special_days: {2026-12-24: 0.7}}", "", "give start_date"),
        ("{rate_per_hour: 1, special_days: {christmas: 0.7}}", "start_date: 2026-12-07", "special_days.christmas"),
    ],
)
def test_bad_day_rates_are_one_line(arrivals: str, start: str, expected: str) -> None:
    with pytest.raises(ScenarioError) as err:
        _scenario(arrivals, start=start)
    assert expected in str(err.value), str(err.value)
    assert "\n" not in str(err.value)
