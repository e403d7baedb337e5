"""staff with opening hours: no agent while a pool is closed, shifts within the hours, closed calls
not staffed for, and the answer still meets the targets when simulated."""

from __future__ import annotations

import numpy as np
import pytest

from queueing import simulate
from queueing.core.runner import LocalExecutor
from queueing.core.scenario import Scenario
from queueing.core.scenario_file import parse_scenario, with_overrides
from queueing.planning.staff import (
    check_targets,
    find_staffing,
    first_open_pools,
    open_intervals,
    pool_loads,
    with_staffing,
)

H = 3600.0

DESK = """
name: shared pool and an office-hours desk
seed: 5
horizon: 1d
replications: 6
classes:
  "911":
    priority: 1
    arrivals: {rate_per_hour: 12}
    handle_time: {dist: exponential, mean: 4m}
    patience: {dist: exponential, mean: 3m}
  "311":
    priority: 2
    arrivals: {profile_per_hour: [2, 2, 2, 2, 2, 2, 5, 10, 40, 40, 40, 40,
                                  40, 40, 40, 40, 10, 5, 5, 5, 2, 2, 2, 2]}
    handle_time: {dist: exponential, mean: 3m}
    patience: {dist: exponential, mean: 5m}
staffing:
  pools:
    - {name: call-takers, serves: ["911", "311"], agents: 2}
    - {name: 311-desk, serves: ["311"], agents: 2, hours: {open: 8h, close: 16h}}
targets:
  "911": [{within: 15s, share: 0.90}]
  "311": [{within: 60s, share: 0.80}]
"""

# 311 has no pool but the desk: outside its hours its calls are closed, not staffed for.
DESK_ONLY = """
name: a 311 desk alone
seed: 8
horizon: 1d
replications: 6
classes:
  "311":
    priority: 1
    arrivals: {rate_per_hour: 30}
    handle_time: {dist: exponential, mean: 3m}
staffing:
  pools:
    - {name: 311-desk, serves: ["311"], agents: 1, hours: {open: 8h, close: 16h}}
targets:
  "311": [{within: 60s, share: 0.80}]
"""


def _desk_hours(scenario: Scenario, interval_s: float) -> list[int]:
    """Intervals (indexes) in which the desk (pool 1, or 0 when alone) is open."""
    p = len(scenario.staffing.pools) - 1
    return [i for i, row in enumerate(open_intervals(scenario, interval_s)) if row[p]]


def _assert_shifts_within_hours(scenario: Scenario) -> None:
    for pool in scenario.staffing.pools:
        if pool.hours is not None:
            for shift in pool.shift_list():
                assert pool.hours.contains(shift.start, shift.end), (pool.name, shift)


@pytest.fixture(scope="module")
def desk_staffing():  # type: ignore[no-untyped-def]
    scenario = parse_scenario(DESK)
    return scenario, find_staffing(scenario, LocalExecutor(1), interval_s=2 * H)


def test_a_pool_gets_no_agent_while_it_is_closed_and_targets_are_met(desk_staffing) -> None:  # type: ignore[no-untyped-def]
    scenario, result = desk_staffing
    assert result.targets_met
    open_at = _desk_hours(scenario, 2 * H)
    assert open_at == [4, 5, 6, 7]  # 08:00 to 16:00
    for i, row in enumerate(result.agents):
        assert (row[1] > 0) == (i in open_at), (i, row)  # staffed exactly while open (it has 311 calls then)
        assert row[0] > 0  # the shared pool answers 911 all day
    for i, row in enumerate(result.erlang_agents):
        assert row[1] == 0 or i in open_at
    # The answer is a scenario: it validates (shifts within the hours) and simulates.
    _assert_shifts_within_hours(result.scenario)
    desk = result.scenario.staffing.pools[1]
    assert [desk.agents_at(h * H) for h in (7, 8, 15, 16)] == [0, result.agents[4][1], result.agents[7][1], 0]


def test_the_staffing_meets_the_targets_on_callers_the_search_never_saw(desk_staffing) -> None:  # type: ignore[no-untyped-def]
    _, result = desk_staffing
    fresh = with_overrides(result.scenario, seed=424_242, replications=10)
    check = check_targets(simulate(fresh, interval_s=2 * H), 2 * H, confidence=0.5)
    assert np.all(np.nan_to_num(check.margin, nan=1.0) >= -0.03), check.margin


def test_a_class_no_open_pool_serves_is_closed_not_staffed_for() -> None:
    scenario = parse_scenario(DESK_ONLY)
    loads = pool_loads(scenario, 2 * H)
    assert [row[0].load_erlangs > 0 for row in loads] == [i in (4, 5, 6, 7) for i in range(12)]
    assert first_open_pools(scenario, open_intervals(scenario, 2 * H))[0] == {}  # nobody to add at 00:00
    result = find_staffing(scenario, LocalExecutor(1), interval_s=2 * H)
    assert result.targets_met
    assert [row[0] > 0 for row in result.agents] == [i in (4, 5, 6, 7) for i in range(12)]
    # closed calls are neither offered nor counted against the target
    classes = result.evaluation.summary["classes"]["311"]
    assert classes["closed"]["value"] > 0 and classes["offered"]["value"] > 0
    check = check_targets(result.evaluation, 2 * H, 0.9)
    assert np.isnan(check.margin[0]).all() and not np.isnan(check.margin[4]).any()


def test_repair_goes_to_the_first_pool_serving_the_class_that_is_open() -> None:
    scenario = parse_scenario(DESK)
    firsts = first_open_pools(scenario, open_intervals(scenario, 2 * H))
    assert firsts[0] == {"911": 0, "311": 0}  # desk closed: 311 agents go to the shared pool
    assert firsts[5] == {"911": 0, "311": 1}  # desk open: specialists first


def test_hours_off_the_interval_grid_cut_the_shifts_to_the_hours() -> None:
    scenario = parse_scenario(DESK.replace("open: 8h, close: 16h", "open: 8h30m, close: 15h15m"))
    assert _desk_hours(scenario, 2 * H) == [4, 5, 6, 7]  # open in part of 08:00-10:00 and 14:00-16:00
    agents = [[2, 0] for _ in range(12)]
    for i in (4, 5, 6, 7):
        agents[i][1] = 3
    staffed = with_staffing(scenario, agents, 2 * H)
    (shift,) = staffed.staffing.pools[1].shift_list()
    assert (shift.start, shift.end, shift.agents) == (8.5 * H, 15.25 * H, 3)
    # the loads follow: the desk shares 311 only in the intervals it is open in
    loads = pool_loads(scenario, 2 * H)
    assert loads[3][1].load_erlangs == 0 and loads[4][1].load_erlangs > 0
    assert loads[4][0].rates_per_s[1] == pytest.approx(loads[4][1].rates_per_s[0])  # split evenly


def test_hours_through_midnight_give_one_night_shift() -> None:
    scenario = parse_scenario(DESK.replace("open: 8h, close: 16h", "open: 20h, close: 30h"))
    assert _desk_hours(scenario, 2 * H) == [0, 1, 2, 10, 11]
    agents = [[2, 1 if i in (0, 1, 2, 10, 11) else 0] for i in range(12)]
    staffed = with_staffing(scenario, agents, 2 * H)
    (shift,) = staffed.staffing.pools[1].shift_list()
    assert (shift.start, shift.end, shift.agents) == (20 * H, 30 * H, 1)
    _assert_shifts_within_hours(staffed)


def test_a_pool_with_hours_and_no_agents_keeps_a_valid_empty_shift() -> None:
    scenario = parse_scenario(DESK)
    staffed = with_staffing(scenario, [[2, 0] for _ in range(12)], 2 * H)
    (shift,) = staffed.staffing.pools[1].shift_list()
    assert (shift.start, shift.end, shift.agents) == (8 * H, 16 * H, 0)
