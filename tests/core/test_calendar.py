"""Days of the week on the simulation clock: which weekday each day is, and shifts on some days only."""

from __future__ import annotations

import datetime as dt

import pytest

from queueing.core.calendar import WEEKDAYS, describe_days, weekday_of, weekday_of_day
from queueing.core.duty import duty_windows, work_segments
from queueing.core.scenario import Shift
from queueing.core.scenario_file import parse_scenario
from queueing.core.schedule import build_schedule
from queueing.errors import ScenarioError

H = 3600.0
D = 86400.0

_WEEK = """
name: week
horizon: 7d
{start}
classes: {{a: {{priority: 1, arrivals: {{rate_per_hour: 1}}, handle_time: {{dist: exponential, mean: 1m}}}}}}
staffing:
  pools:
    - name: p
      serves: [a]
      shifts:
        - {{start: 7h, end: 15h, agents: 2, days: [mon, tue, wed, thu, fri]}}
        - {{start: 22h, end: 30h, agents: 1, days: [sun]}}
"""


def test_weekdays_follow_start_day_and_wrap() -> None:
    assert weekday_of_day("mon", 0) == "mon"
    assert weekday_of_day("sat", 2) == "mon"
    assert weekday_of_day("mon", -1) == "sun"
    assert weekday_of(dt.date(2026, 12, 7)) == "mon"
    assert [weekday_of_day("thu", k) for k in range(7)] == ["thu", "fri", "sat", "sun", "mon", "tue", "wed"]
    assert WEEKDAYS[0] == "mon" and len(WEEKDAYS) == 7


@pytest.mark.parametrize(
    ("days", "text"),
    [
        (["mon", "tue", "wed", "thu", "fri"], "Mon-Fri"),
        (["mon", "wed"], "Mon, Wed"),
        (["sat", "sun", "mon"], "Sat-Mon"),
        (["fri", "sat", "sun", "mon", "tue"], "Fri-Tue"),
        (list(WEEKDAYS), "every day"),
        (["sat", "sun"], "Sat, Sun"),
        (["mon", "tue", "wed", "fri"], "Mon-Wed, Fri"),
    ],
)
def test_days_read_as_a_planner_writes_them(days: list, text: str) -> None:
    assert describe_days(days) == text


def test_a_shift_on_some_days_works_only_those_days() -> None:
    weekdays = Shift(start=7 * H, end=15 * H, agents=1, days=["mon", "tue", "wed", "thu", "fri"])
    # Day 0 is a Saturday: the first shift is on day 2 (Monday).
    monday, tuesday = (2 * D + 7 * H, 2 * D + 15 * H), (3 * D + 7 * H, 3 * D + 15 * H)
    assert duty_windows(weekdays, 7 * D, "sat")[:2] == [monday, tuesday]
    assert len(duty_windows(weekdays, 7 * D, "sat")) == 5
    assert len(duty_windows(weekdays, 7 * D, "mon")) == 5
    # A night shift started on Sunday evening is on duty at 00:00 of a Monday-first run.
    night = Shift(start=22 * H, end=30 * H, agents=1, days=["sun"])
    assert duty_windows(night, 7 * D, "mon") == [(0.0, 6 * H), (6 * D + 22 * H, 7 * D + 6 * H)]
    assert duty_windows(night, 7 * D, "tue") == [(5 * D + 22 * H, 6 * D + 6 * H)]
    with_break = Shift(start=7 * H, end=15 * H, agents=1, days=["wed"], breaks=[{"start": 4 * H, "length": 1800}])
    wednesday = [(2 * D + 7 * H, 2 * D + 11 * H, 1800.0), (2 * D + 11.5 * H, 2 * D + 15 * H, 0.0)]
    assert work_segments(with_break, 7 * D, "mon") == wednesday


def test_every_day_is_the_old_daily_shift() -> None:
    every = Shift(start=22 * H, end=30 * H, agents=1, days=list(WEEKDAYS))
    daily = Shift(start=22 * H, end=30 * H, agents=1)
    assert duty_windows(every, 7 * D, "thu") == duty_windows(daily, 7 * D)


def test_the_schedule_pays_the_days_worked() -> None:
    scenario = parse_scenario(_WEEK.format(start="start_day: mon"))
    schedule = build_schedule(scenario)
    # 2 agents x 5 days x 8 h, plus the Sunday night shift: 6 h on Monday morning... no, it starts
    # on Sunday: 22:00-24:00 on day 6 (clipped at the horizon) and 00:00-06:00 on day 0.
    assert schedule.paid_s(0) == pytest.approx(2 * 5 * 8 * H + 6 * H + 2 * H)
    pool = scenario.staffing.pools[0]
    assert pool.agents_at(0 * D + 8 * H, "mon") == 2
    assert pool.agents_at(5 * D + 8 * H, "mon") == 0  # Saturday
    assert pool.agents_at(1 * H, "mon") == 1  # Sunday's night shift
    assert pool.agents_at(1 * D + 1 * H, "mon") == 0


def test_start_date_gives_the_first_weekday() -> None:
    scenario = parse_scenario(_WEEK.format(start="start_date: 2026-12-24"))
    assert scenario.first_weekday == "thu"
    assert parse_scenario(_WEEK.format(start="")).first_weekday == "mon"
    assert parse_scenario(_WEEK.format(start="start_day: sun")).first_weekday == "sun"


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ("start_day: monday", "start_day: "),
        ("start_day: mon\nstart_date: 2026-12-24", "2026-12-24 (start_date) is a thu, not a mon"),
        ("start_date: 2026-13-01", "start_date: "),
    ],
)
def test_bad_start_days_are_one_line(start: str, expected: str) -> None:
    with pytest.raises(ScenarioError) as err:
        parse_scenario(_WEEK.format(start=start))
    assert expected in str(err.value)
    assert "\n" not in str(err.value)


def test_a_day_listed_twice_is_refused() -> None:
    text = _WEEK.format(start="").replace("days: [sun]", "days: [sun, sun]")
    with pytest.raises(ScenarioError, match="lists a day twice"):
        parse_scenario(text)
