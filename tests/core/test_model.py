"""The model on exact small cases: shifts, breaks and opening hours, call by call."""

from __future__ import annotations

import numpy as np

from queueing.core.draws import draw_callers
from queueing.core.duty import agent_seconds
from queueing.core.metrics import interval_columns, replication_intervals, replication_measures
from queueing.core.model import simulate_replication
from queueing.core.records import ANSWERED, OUTCOMES, call_rows
from queueing.core.scenario_file import load_scenario, parse_scenario
from queueing.core.schedule import build_schedule
from tests.support import REPO
from tests.support.callers import callers_at
from tests.support.scenarios import one_agent, shared

H = 3600.0
M = 60.0
HOURS = shared("office-hours")


def test_a_call_in_progress_is_finished_then_the_whole_break_taken() -> None:
    scenario = parse_scenario(one_agent())
    schedule = build_schedule(scenario)
    # 0:55 answered at once and runs to 1:05 past the break's start; the break then runs 1:05-1:35.
    arrivals = [55 * M, 60 * M, 80 * M, 120 * M]
    records = simulate_replication(scenario, schedule, callers_at(arrivals, 10 * M))
    assert records.outcome.tolist() == [ANSWERED] * 4
    assert records.answered_s.tolist() == [55 * M, 95 * M, 105 * M, 120 * M]
    assert records.wait_s.tolist() == [0.0, 35 * M, 25 * M, 0.0]
    # running into a break is not overtime
    assert replication_measures(scenario, schedule, records)[("pools", "desk", "overtime_h")] == 0.0


def test_an_idle_agent_takes_its_break_on_time_and_breaks_chain() -> None:
    scenario = parse_scenario(one_agent("{start: 1h, length: 30m}, {start: 1h30m, length: 15m}"))
    schedule = build_schedule(scenario)
    # Idle at 1:00: breaks 1:00-1:30 and 1:30-1:45. A call at 1:10 waits for 1:45.
    records = simulate_replication(scenario, schedule, callers_at([70 * M, 200 * M], 10 * M))
    assert records.answered_s.tolist() == [105 * M, 200 * M]
    # A call running 0:55-1:05 pushes the first break to 1:05-1:35, the second to 1:35-1:50.
    records = simulate_replication(scenario, schedule, callers_at([55 * M, 62 * M], 10 * M))
    assert records.answered_s.tolist() == [55 * M, 110 * M]


def test_calls_outside_opening_hours_are_closed() -> None:
    scenario = parse_scenario(HOURS)
    schedule = build_schedule(scenario)
    records = simulate_replication(scenario, schedule, callers_at([7 * H, 9 * H, 17 * H], 5 * M))
    assert [OUTCOMES[o] for o in records.outcome] == ["closed", "answered", "closed"]
    assert records.agent.tolist() == [-1, 0, -1] and records.pool.tolist() == [-1, 0, -1]
    assert records.wait_s.tolist() == [0.0, 0.0, 0.0]
    measures = replication_measures(scenario, schedule, records)
    assert measures[("classes", "a", "closed")] == 2
    assert measures[("classes", "a", "offered")] == 1
    assert measures[("classes", "a", "service_level", "10")] == 1.0  # closed calls are not offered
    assert measures[("pools", "desk", "agent_hours")] == 8.0
    rows = replication_intervals(scenario, schedule, records, 0, H)
    cols = interval_columns(scenario)
    closed = {int(r[cols.index("interval_start_s")] // H): r[cols.index("closed")] for r in rows}
    assert [h for h, n in closed.items() if n] == [7, 17]
    level = {int(r[cols.index("interval_start_s")] // H): r[cols.index("service_level_10s")] for r in rows}
    assert level[7] is None and level[9] == 1.0  # nothing offered at 7h
    calls = list(call_rows(scenario, [(0, records)]))
    assert [(r[5], r[7], r[8], r[11]) for r in calls] == [
        (None, 7 * H, None, "closed"),
        (9 * H, 9 * H + 5 * M, 0.0, "answered"),
        (None, 17 * H, None, "closed"),
    ]


def test_a_pool_without_hours_keeps_a_class_open() -> None:
    scenario = parse_scenario(
        HOURS.replace(
            "agents: 1}", "agents: 1}\n    - {name: night, serves: [a], shifts: [{start: 16h, end: 32h, agents: 1}]}"
        )
    )
    records = simulate_replication(scenario, build_schedule(scenario), callers_at([7 * H, 9 * H, 17 * H], 5 * M))
    assert [OUTCOMES[o] for o in records.outcome] == ["answered"] * 3
    assert records.pool.tolist() == [1, 0, 1]


def test_shifts_are_respected_and_calls_in_progress_are_finished() -> None:
    scenario = load_scenario(REPO / "scenarios" / "baseline.yaml")
    pools = scenario.staffing.pools
    edges = np.arange(25) * 3600.0
    # agent-hours per hour from the duty windows (the run's schedule, and one pool's alone) agree
    # with the schedule read another way (Pool.agents_at, mid-hour), whatever the file's shifts are
    schedule = build_schedule(scenario)
    for p, pool in enumerate(pools):
        by_hand = [pool.agents_at(h * 3600 + 1800) for h in range(24)]
        assert (schedule.on_duty_s(p, edges) / 3600).tolist() == by_hand
        assert (agent_seconds(pool, scenario.horizon, edges) / 3600).tolist() == by_hand
    records = simulate_replication(scenario, schedule, draw_callers(scenario, 0))
    answered = records.outcome == ANSWERED
    # Every call a pool answered, it answered while someone of that pool was on duty.
    for p, pool in enumerate(pools):
        times = records.answered_s[answered & (records.pool == p)]
        assert all(pool.agents_at(t) > 0 or t % 86400 == 0 for t in times)
    # The desk closes at 18:00 with calls in progress: those are finished, as overtime.
    desk_calls = answered & (records.pool == 1)
    ends = records.answered_s[desk_calls] + records.callers.handle_s[desk_calls]
    assert ends.max() > 18 * 3600
    assert records.answered_s[desk_calls].max() < 18 * 3600
    # Time on duty and overtime are measured apart: busy on duty never exceeds the schedule.
    measures = replication_measures(scenario, schedule, records)
    assert measures[("pools", "311-desk", "overtime_h")] > 0
    for pool in pools:
        assert 0 < measures[("pools", pool.name, "utilization")] <= 1
