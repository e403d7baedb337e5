"""Targets judged over their windows (core/targets.py): each kind of window against counts made by
hand on a few calls, the busy hour of each day, the lower bound, and summary.json's verdict."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from queueing.core.metrics import replication_intervals
from queueing.core.runner import simulate
from queueing.core.scenario import Scenario
from queueing.core.scenario_file import parse_scenario
from queueing.core.schedule import build_schedule
from queueing.core.targets import Judged, judge
from queueing.errors import ScenarioError
from tests.support.callers import records_of

H = 3600.0
M = 60.0
D = 24 * H

TWO_DAYS = """
name: two days, one desk
horizon: 2d
warmup: 1h
start_day: fri
classes:
  a: {priority: 1, arrivals: {rate_per_hour: 1}, handle_time: {dist: deterministic, value: 1m}}
staffing:
  pools: [{name: desk, serves: [a], agents: 1}]
targets: {a: [{within: 10s, share: 0.5, over: OVER}]}
"""


# Two replications; the 00:30 call is in the warm-up. Within 10 s: "in", else "out" (a hang-up is out).
REP0 = [(30 * M, 0.0), (70 * M, 5.0), (80 * M, 20.0), (120 * M, 1.0), (D + 75 * M, 0.0), (D + 17 * H, None)]
REP1 = [(65 * M, 30.0), (105 * M, 2.0), (D + 17 * H + 10 * M, 3.0), (D + 17 * H + 20 * M, 4.0)]


def _judged(over: str, interval_s: float = 30 * M) -> tuple[Scenario, Judged]:
    scenario = parse_scenario(TWO_DAYS.replace("OVER", over))
    schedule = build_schedule(scenario)
    rows = [
        replication_intervals(scenario, schedule, records_of(calls, scenario.horizon), r, interval_s)
        for r, calls in enumerate([REP0, REP1])
    ]
    (judged,) = judge(scenario, rows, interval_s)
    return scenario, judged


def _windows(j: Judged) -> dict[str, float]:
    """Each judged window's share, by label."""
    return {j.windows.labels[w]: float(j.share[w]) for w in np.flatnonzero(j.judged)}


def test_interval_windows_are_the_grid_of_the_day_pooled_over_days() -> None:
    _, j = _judged("interval")
    # 01:00-01:30: rep 0 has 01:10 in, 01:20 out, and 01:15 of day 2 in (2 of 3); rep 1 01:05 out (0 of 1)
    # 01:30-02:00: rep 1 01:45 in; 02:00-02:30: rep 0 02:00 in; 17:00-17:30: rep 0 hung up, rep 1 in, in
    assert _windows(j) == pytest.approx(
        {"01:00-01:30": (2 / 3 + 0) / 2, "01:30-02:00": 1.0, "02:00-02:30": 1.0, "17:00-17:30": (0 + 1) / 2}
    )
    assert (j.n_judged, j.n_met, j.all_met) == (4, 3, False)
    assert j.count_text() == "3 of 4 intervals"
    assert j.line() == "a 50% within 10s in every interval: met in 3 of 4 intervals; missed 01:00-01:30 (33.3%)"


def test_hour_windows_are_clock_hours_of_the_day() -> None:
    _, j = _judged("hour")
    # 01:00-02:00: rep 0 2 of 3, rep 1 01:05 out, 01:45 in (1 of 2)
    assert _windows(j) == pytest.approx({"01:00-02:00": (2 / 3 + 1 / 2) / 2, "02:00-03:00": 1.0, "17:00-18:00": 0.5})
    assert j.all_met and j.count_text() == "3 of 3 hours"


def test_day_windows_are_each_day_after_the_warm_up() -> None:
    _, j = _judged("day")
    # day 1 (a Friday): rep 0 01:10 in, 01:20 out, 02:00 in (2 of 3; 00:30 is in the warm-up); rep 1 1 of 2
    # day 2: rep 0 01:15 in, the 17:00 hang-up out (1 of 2); rep 1 2 of 2
    assert _windows(j) == pytest.approx({"day 1 (Fri)": (2 / 3 + 1 / 2) / 2, "day 2 (Sat)": (1 / 2 + 1) / 2})
    assert j.offered.tolist() == [[3, 2], [2, 2]] and j.within.tolist() == [[2, 1], [1, 2]]


def test_week_windows_are_blocks_of_seven_days() -> None:
    _, j = _judged("week")
    assert _windows(j) == pytest.approx({"week 1 (days 1-2)": (3 / 5 + 3 / 4) / 2})


def test_the_busy_hour_is_the_hour_of_each_day_with_most_calls_offered() -> None:
    _, j = _judged("busy_hour")
    # day 1: 01:00-02:00 has 4 calls (both replications), 02:00 one; day 2: 17:00-18:00 has 3, 01:00 one
    # day 1's busy hour: rep 0 01:10 in, 01:20 out; rep 1 01:05 out, 01:45 in
    assert _windows(j) == pytest.approx({"day 1 (Fri) 01:00-02:00": 0.5, "day 2 (Sat) 17:00-18:00": (0 + 1) / 2})
    assert j.windows.of.tolist().count(-1) == 96 - 4  # two half-hours a day are judged, nothing else
    assert j.line() == "a 50% within 10s in each day's busy hour: met in 2 of 2 busy hours"


def test_a_window_with_no_call_offered_is_not_judged_and_none_judged_is_not_met() -> None:
    _, j = _judged("interval")
    assert j.judged.sum() == 4 and np.isnan(j.share[~j.judged]).all()
    scenario = parse_scenario(TWO_DAYS.replace("OVER", "day"))
    rows = [replication_intervals(scenario, build_schedule(scenario), records_of([], scenario.horizon), 0, H)]
    (empty,) = judge(scenario, rows, H)
    assert empty.n_judged == 0 and not empty.all_met


def test_the_lower_bound_is_students_t_over_the_replications_shares() -> None:
    _, j = _judged("day")
    levels = np.array([[2 / 3, 1 / 2], [1 / 2, 1.0]])
    sd = levels.std(axis=0, ddof=1)
    expected = levels.mean(axis=0) - stats.t.ppf(0.9, 1) * sd / math.sqrt(2)
    assert j.lower(0.9) == pytest.approx(np.maximum(expected, 0.0))  # cut at 0: it stays a share
    assert j.lower(0.5) == pytest.approx(j.share)
    assert (j.lower(0.99) >= 0).all()


def test_over_is_one_of_the_windows_in_one_line() -> None:
    with pytest.raises(ScenarioError) as err:
        parse_scenario(TWO_DAYS.replace("OVER", "days"), "t.yaml")
    assert str(err.value).splitlines() == [
        "t.yaml:10: targets.a.0.over: must be one of interval, hour, busy_hour, day, week, got 'days'"
    ]
    assert parse_scenario(TWO_DAYS.replace(", over: OVER", "")).targets["a"][0].window == "interval"


SMALL = """
name: small centre
seed: 4
horizon: 1d
replications: 3
classes:
  a: {priority: 1, arrivals: {rate_per_hour: 20}, handle_time: {dist: exponential, mean: 4m}}
staffing:
  pools: [{name: desk, serves: [a], agents: 2}]
targets: {a: [{within: 20s, share: 0.6, over: OVER}]}
"""


@pytest.mark.parametrize("over", ["interval", "hour", "day"])
def test_summary_met_is_every_judged_window_met(over: str) -> None:
    result = simulate(parse_scenario(SMALL.replace("OVER", over)), interval_s=30 * M)
    (level,) = result.summary["classes"]["a"]["service_level"]
    (j,) = judge(result.scenario, [r.intervals for r in result.replications], 30 * M)
    assert level["over"] == over
    assert level["windows"] == {"judged": j.n_judged, "met": j.n_met}
    assert level["met"] == (j.n_met == j.n_judged)
    assert j.n_judged == {"interval": 48, "hour": 24, "day": 1}[over]
    if over == "day":  # the one window of a one-day run is the whole run's share
        assert j.share[0] == pytest.approx(level["share"]["value"], rel=1e-12)
