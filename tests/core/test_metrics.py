"""Measures of a replication: time on duty, utilization and agents on duty around breaks."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from queueing.core.duty import agent_seconds
from queueing.core.metrics import (
    WAIT_STATS,
    IntervalRows,
    _busy_spans,
    _earliest_end,
    _Ends,
    _Groups,
    _interval_of,
    _measure_groups,
    interval_columns,
    replication_intervals,
    replication_measures,
)
from queueing.core.model import simulate_replication
from queueing.core.records import ANSWERED, OUTCOMES, CallRecords
from queueing.core.scenario_file import parse_scenario
from queueing.core.schedule import build_schedule
from tests.support.callers import callers_at
from tests.support.scenarios import one_agent

H = 3600.0
M = 60.0


def test_a_call_running_into_a_break_is_not_time_on_duty() -> None:
    scenario = parse_scenario(one_agent())
    schedule = build_schedule(scenario)
    # One call 0:55-1:05: 5 minutes on duty, 5 minutes into the break (which then runs 1:05-1:35).
    records = simulate_replication(scenario, schedule, callers_at([55 * M], 10 * M))
    measures = replication_measures(scenario, schedule, records)
    assert measures[("pools", "desk", "utilization")] == pytest.approx(5 * M / (7.5 * H))
    assert measures[("pools", "desk", "overtime_h")] == 0.0


def test_agents_on_duty_leave_out_breaks() -> None:
    scenario = parse_scenario(one_agent())
    schedule = build_schedule(scenario)
    pool = scenario.staffing.pools[0]
    edges = np.arange(0, 8 * H + 1, 30 * M)
    assert (agent_seconds(pool, scenario.horizon, edges) / (30 * M)).tolist() == [1, 1, 0] + [1] * 13
    assert [pool.agents_at(t) for t in (59 * M, 60 * M, 89 * M, 90 * M)] == [1, 0, 0, 1]
    records = simulate_replication(scenario, schedule, callers_at([55 * M], 10 * M))
    rows = replication_intervals(scenario, schedule, records, 0, 30 * M)
    agents = [row[interval_columns(scenario).index("agents_on_duty")] for row in rows]
    assert agents == [1, 1, 0] + [1] * 13


def test_interval_rows_iterate_as_python_cells_with_none_for_nan_and_each_zero_s_sign() -> None:
    rows = IntervalRows(
        7,
        ("replication", "interval_start_s", "interval_end_s", "class", "arrivals", "wait_s_mean"),
        ("911", "311"),
        np.array([0, 1, 0], dtype=np.int32),
        {
            "interval_start_s": np.array([0.0, 0.0, 900.0]),
            "interval_end_s": np.array([900.0, 900.0, 1800.0]),
            "arrivals": np.array([3, 0, 2]),
            "wait_s_mean": np.array([-0.0, np.nan, 0.1 + 0.2]),
        },
    )
    got = list(rows)
    assert got == [
        (7, 0.0, 900.0, "911", 3, -0.0),
        (7, 0.0, 900.0, "311", 0, None),
        (7, 900.0, 1800.0, "911", 2, 0.1 + 0.2),
    ]
    assert [repr(v) for v in got[0]] == ["7", "0.0", "900.0", "'911'", "3", "-0.0"]  # what the CSV prints
    assert all(type(v) in (int, float, str, type(None)) for row in got for v in row)
    assert len(rows) == 3 and rows.column("class").tolist() == ["911", "311", "911"]


@pytest.mark.parametrize("n", [0, 1, 7, 5000])
def test_the_interval_rows_queue_sums_are_duty_s_clipped_cumulative_bit_for_bit(n: int) -> None:
    """The queue sums made in place (the interval rows') are the floats of the running sum of the
    sorted values with a zero in front (the sum the files were recorded with), and of the copy."""
    from queueing.core.duty import clipped_cumulative

    def sum_min(x: np.ndarray, at: np.ndarray) -> np.ndarray:
        xs = np.sort(x)
        prefix = np.concatenate(([0.0], np.cumsum(xs)))
        k = np.searchsorted(xs, at, side="left")
        return prefix[k] + at * (len(xs) - k)

    rng = np.random.default_rng(n)
    starts = np.sort(np.round(rng.uniform(-100.0, 4000.0, n), 1))  # ties, and spans before the grid
    ends = starts + rng.exponential(300.0, n) * (rng.random(n) < 0.8)  # some spans empty
    at = np.append(np.arange(0.0, 3600.0, 900.0), 3600.0)
    expected = sum_min(ends, at) - sum_min(starts, at)
    copied = clipped_cumulative(starts, ends, at, starts_sorted=True)
    got = clipped_cumulative(starts.copy(), ends.copy(), at, starts_sorted=True, in_place=True)
    assert got.tobytes() == expected.tobytes()
    assert copied.tobytes() == expected.tobytes()


@pytest.mark.parametrize("ties", [False, True])
def test_each_groups_wait_stats_are_numpys_mean_percentiles_and_max_bit_for_bit(ties: bool) -> None:
    """The groups' waits are summed, sorted and read in place of np.mean, np.percentile (its
    default, 'linear') and max of each group: the same floats, for groups of 0, 1, 2... waits."""
    rng = np.random.default_rng(21)
    sizes = [0, 1, 2, 3, 4, 5, 10, 11, 20, 21, 0, 101, 1001, 2, 1]
    waits = [rng.integers(0, 4, n) * 7.5 if ties else rng.exponential(40.0, n) for n in sizes]
    joined = np.concatenate(waits)
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    outcomes = np.zeros((len(sizes), len(OUTCOMES)), dtype=np.intp)
    outcomes[:, ANSWERED] = sizes
    groups = _Groups(outcomes, joined.copy(), bounds)
    out: dict[tuple[str, ...], float] = {}
    _measure_groups(groups, [], [(str(i),) for i in range(len(sizes))], out)
    for i, w in enumerate(waits):
        got = [out[(str(i), "wait_s", stat)] for stat in WAIT_STATS]
        if len(w):
            assert got == [w.mean(), *np.percentile(w, [50, 90, 95]), w.max()]
        else:
            assert all(np.isnan(got))


@pytest.mark.parametrize(
    ("horizon", "interval"),
    [(86400.0, 900.0), (3 * 86400.0 + 1234.5, 900.0), (7200.0, 7.0), (86400.0, 49.0), (86400.0, 300.0)],
)
def test_each_callers_interval_is_the_search_of_the_edges(horizon: float, interval: float) -> None:
    """Intervals guessed by a product and put right by the edges are those a search of the edges
    gives, for times on the edges, a hair either side of them and in the last, short interval."""
    edges = np.append(np.arange(0.0, horizon, interval), horizon)
    rng = np.random.default_rng(4)
    on = edges[:-1]
    times = np.concatenate([rng.random(70_000) * horizon, on, np.nextafter(on, -1.0)[1:], np.nextafter(on, horizon)])
    expected = np.minimum(np.searchsorted(edges, times, side="right") - 1, len(edges) - 2)
    assert np.array_equal(_interval_of(times, edges, interval), expected)
    rows = rng.permutation(len(times))[:5000].astype(np.int32)
    assert np.array_equal(_interval_of(times, edges, interval, rows=rows), expected[rows])


def test_time_past_an_agents_end_is_looked_up_only_for_calls_that_can_run_past_one() -> None:
    """Calls ending before the earliest end any agent's window (or span of work) can have at their
    start are given none past it; every call's part past its agent's end is the schedule's."""
    scenario = parse_scenario("""
name: crews
horizon: 2d
classes:
  a: {priority: 1, arrivals: {rate_per_hour: 40}, handle_time: {dist: exponential, mean: 20m}}
staffing:
  pools:
    - name: desk
      serves: [a]
      shifts:
        - {start: 7h, end: 15h, agents: 2, breaks: [{start: 2h, length: 15m}]}
        - {start: 22h, end: 30h, agents: 1, days: [tue]}
        - {start: 0h, end: 24h, agents: 1}
""")
    schedule = build_schedule(scenario)
    rng = np.random.default_rng(5)
    agent = rng.integers(0, 4, 4000)
    answered_s = rng.random(4000) * scenario.horizon
    handle_s = rng.exponential(3600.0, 4000)
    callers = callers_at(answered_s.tolist(), 60.0)
    records = CallRecords(
        callers=dataclasses.replace(callers, handle_s=handle_s),
        answered_s=answered_s,
        agent=agent,
        pool=np.zeros(4000, dtype=np.int8),
        outcome=np.zeros(4000, dtype=np.int8),
        horizon_s=scenario.horizon,
    )
    busy = np.arange(4000, dtype=np.int32)
    for of, ends in (
        (schedule.duty_ends_s, [[off for _, off in crew.duty_windows_s] for crew in schedule.crews]),
        (schedule.work_ends_s, [[off for _, off, _ in crew.work_segments_s] for crew in schedule.crews]),
    ):
        got = _busy_spans(scenario, records, busy, _Ends(of, *_earliest_end(ends)), np.empty(4000))
        end = np.clip(answered_s + handle_s, 0.0, scenario.horizon)
        expected = end - np.clip(np.minimum(of(agent, answered_s), answered_s + handle_s), 0.0, scenario.horizon)
        assert got.tobytes() == expected.tobytes()
        assert 0 < np.count_nonzero(expected) < 4000
