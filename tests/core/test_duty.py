"""Shift windows: night shifts past midnight and the work segments around breaks."""

from __future__ import annotations

from queueing.core.duty import duty_windows, work_segments
from queueing.core.scenario import Shift
from queueing.core.scenario_file import parse_scenario

H = 3600.0


def test_night_shift_runs_past_midnight() -> None:
    night = Shift(start=22 * 3600, end=30 * 3600, agents=2)
    assert duty_windows(night, 2 * 86400) == [(0.0, 6 * 3600.0), (22 * 3600.0, 30 * 3600.0), (46 * 3600.0, 54 * 3600.0)]
    day = Shift(start=0, end=86400, agents=1)
    assert duty_windows(day, 3 * 86400) == [(0.0, 3 * 86400.0)]  # one unbroken window


def test_work_segments_of_a_night_shift_with_a_break() -> None:
    scenario = parse_scenario("""
name: night
horizon: 2d
classes: {a: {priority: 1, arrivals: {rate_per_hour: 1}, handle_time: {dist: exponential, mean: 1m}}}
staffing:
  pools:
    - {name: p, serves: [a], hours: {open: 20h, close: 32h},
       shifts: [{start: 22h, end: 30h, agents: 1, breaks: [{start: 3h, length: 1h}]}]}
""")
    shift = scenario.staffing.pools[0].shifts[0]  # type: ignore[index]
    # The night before: on duty at 0:00 until 6:00, its break 1:00-2:00 already scheduled.
    assert work_segments(shift, scenario.horizon) == [
        (0.0, 1 * H, 1 * H),
        (2 * H, 6 * H, 0.0),
        (22 * H, 25 * H, 1 * H),
        (26 * H, 30 * H, 0.0),
        (46 * H, 49 * H, 1 * H),
    ]
