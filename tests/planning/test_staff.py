"""staff: the fewest agents meeting every target, checked on callers the search never saw; with
opening hours, no agent while a pool is closed, shifts within the hours, closed calls not staffed for."""

from __future__ import annotations

import csv
import json
import re
from types import SimpleNamespace

import numpy as np
import pytest
import yaml

from queueing import load_scenario, simulate
from queueing.core.cost import agent_hours_per_day
from queueing.core.metrics import replication_intervals
from queueing.core.runner import LocalExecutor, ReplicationResult, SimulationResult
from queueing.core.scenario import Scenario
from queueing.core.scenario_file import parse_scenario, with_overrides
from queueing.core.schedule import build_schedule
from queueing.errors import ScenarioError
from queueing.output.staffing import format_staffing_result
from queueing.planning.staff import (
    Check,
    _within_slack,
    check_targets,
    find_staffing,
    first_open_pools,
    load_staffing,
    open_intervals,
    pool_loads,
    with_staffing,
)
from tests.support.callers import records_of
from tests.support.cli import invoke
from tests.support.scenarios import before_roster, shared

H = 3600.0

# The shared centre (call-takers round the clock, the 311 desk open 7h to 19h); staff needs no roster rules.
DESK = before_roster(shared("two-pools"))


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
    scenario = with_overrides(parse_scenario(DESK), replications=6)
    return scenario, find_staffing(scenario, LocalExecutor(1), interval_s=2 * H)


def test_a_pool_gets_no_agent_while_it_is_closed_and_targets_are_met(desk_staffing) -> None:  # type: ignore[no-untyped-def]
    scenario, result = desk_staffing
    assert result.targets_met
    open_at = _desk_hours(scenario, 2 * H)
    assert open_at == [3, 4, 5, 6, 7, 8, 9]  # 07:00 to 19:00, in 2-hour intervals
    for i, row in enumerate(result.agents):
        assert (row[1] > 0) == (i in open_at), (i, row)  # staffed exactly while open (it has 311 calls then)
        assert row[0] > 0  # the shared pool answers 911 all day
    for i, row in enumerate(result.erlang_agents):
        assert row[1] == 0 or i in open_at
    # The answer is a scenario: it validates (shifts within the hours) and simulates.
    _assert_shifts_within_hours(result.scenario)
    desk = result.scenario.staffing.pools[1]
    assert [desk.agents_at(h * H) for h in (6, 7, 18, 19)] == [0, result.agents[3][1], result.agents[9][1], 0]


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
    assert firsts[0] == {("911", None): 0, ("311", None): 0}  # desk closed: 311 agents go to the shared pool
    assert firsts[5] == {("911", None): 0, ("311", None): 1}  # desk open: specialists first


def test_hours_off_the_interval_grid_cut_the_shifts_to_the_hours() -> None:
    scenario = parse_scenario(DESK.replace("open: 7h, close: 19h", "open: 8h30m, close: 15h15m"))
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
    scenario = parse_scenario(DESK.replace("open: 7h, close: 19h", "open: 20h, close: 30h"))
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
    assert (shift.start, shift.end, shift.agents) == (7 * H, 19 * H, 0)


# --- the command ---------------------------------------------------------------------------

STAFF_SCENARIO = """
name: small centre to staff
seed: 17
horizon: 1d
replications: 8
classes:
  "911":
    priority: 1
    arrivals: {profile_per_hour: [10, 10, 10, 10, 10, 10, 20, 20, 20, 20, 20, 20,
                                  40, 40, 40, 40, 40, 40, 20, 20, 20, 20, 20, 20]}
    handle_time: {dist: lognormal, mean: 4m, sd: 2m}
    patience: {dist: exponential, mean: 4m}
  "311":
    priority: 2
    arrivals: {profile_per_hour: [5, 5, 5, 5, 5, 5, 60, 60, 60, 60, 60, 60,
                                  60, 60, 60, 60, 60, 60, 20, 20, 20, 20, 20, 20]}
    handle_time: {dist: exponential, mean: 3m}
    patience: {dist: exponential, mean: 6m}
staffing:
  pools:
    - {name: call-takers, serves: ["911", "311"], agents: 4}
targets:
  "911": [{within: 15s, share: 0.90}]
  "311": [{within: 60s, share: 0.80}]
"""


def test_staffing_found_meets_targets_on_callers_it_never_saw(write_scenario, tmp_path) -> None:
    path = write_scenario(STAFF_SCENARIO)
    out = tmp_path / "staff"
    result = invoke("staff", str(path), "--interval", "6h", "--out", str(out), "--jobs", "2")
    assert result.exit_code == 0, result.output
    doc = json.loads((out / "staffing.json").read_text())
    assert doc["targets_met"] is True
    assert doc["targets"] == [
        {"class": c, "within_s": w, "share": s, "over": "interval", "windows": {"judged": 4, "met": 4}}
        for c, w, s in (("911", 15.0, 0.9), ("311", 60.0, 0.8))
    ]
    assert doc["agent_hours"] > 0 and doc["erlang_agent_hours"] > 0
    with (out / "staffing.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["interval"] for r in rows] == ["00:00-06:00", "06:00-12:00", "12:00-18:00", "18:00-24:00"]
    assert sum(int(r["agents"]) for r in rows) * 6 == doc["agent_hours"]
    # The staffing file is a scenario: simulate it with a seed the search never used.
    staffed = with_overrides(load_scenario(out / "staffing.yaml"), seed=99_999, replications=16)
    assert [staffed.staffing.pools[0].agents_at(h * 3600.0) for h in (0, 6, 12, 18)] == [int(r["agents"]) for r in rows]
    check = check_targets(simulate(staffed, jobs=2, interval_s=6 * 3600.0), 6 * 3600.0, confidence=0.5)
    assert np.all(np.nan_to_num(check.margin, nan=1.0) >= -0.03), check.margin
    # And one agent fewer anywhere would have missed a target at the search's confidence.
    base = load_scenario(path)
    again = find_staffing(base, LocalExecutor(2), interval_s=6 * 3600.0)
    assert again.agents == [[int(r["agents"])] for r in rows]
    assert yaml.safe_load((out / "staffing.yaml").read_text())["staffing"]["pools"][0]["shifts"]
    assert (out / "staffing.png").read_bytes()[:4] == b"\x89PNG"


# --- targets over a window wider than an interval ------------------------------------------------

ONE_DAY = """
name: one desk, one day
horizon: 1d
classes:
  a: {priority: 1, arrivals: {rate_per_hour: 1}, handle_time: {dist: deterministic, value: 1m}}
staffing:
  pools: [{name: desk, serves: [a], agents: 1}]
targets: {a: [{within: 10s, share: 0.9, over: day}]}
"""


def _check_by_hand(calls: list[tuple[float, float | None]], interval_s: float = 6 * H) -> Check:
    """staff's check of two replications that both saw ``calls`` (so the lower bound is the mean)."""
    scenario = parse_scenario(ONE_DAY)
    records = records_of(calls, scenario.horizon)
    rows = replication_intervals(scenario, build_schedule(scenario), records, 0, interval_s)
    reps = [ReplicationResult(r, {}, rows, None) for r in range(2)]
    return check_targets(SimulationResult(scenario, reps, interval_s), interval_s, 0.9)


def test_a_failing_day_asks_for_agents_where_most_calls_fall_short_and_says_so_in_one_line() -> None:
    # 06:00-12:00 answers 5 of 10 in time, 12:00-18:00 6 of 10, 00:00-06:00 all 10: 21 of 30 (70%)
    calls = [(h * H + m * 60.0, 0.0 if ok else 30.0) for h, m, ok in [
        *((0, m, True) for m in range(10)), *((6, m, m < 5) for m in range(10)), *((12, m, m < 6) for m in range(10)),
    ]]  # fmt: skip
    check = _check_by_hand(sorted(calls))
    assert not check.met and check.margin[:, 0] == pytest.approx([0.7 - 0.9] * 4)  # every interval is in the day
    # 6 calls short of 90% of 30 at the bound: 06:00 is 4 short (9 - 5), 12:00 3 (9 - 6): both are needed
    assert check.failing() == [(1, "a", None), (2, "a", None)]
    assert check.missed_lines() == [
        "a 90% within 10s over each day: met at the 90% lower bound in 0 of 1 day; missed day 1 (Mon) (70.0%)"
    ]
    # 4 short of 90% of 30 (23 of 30 in time): the 06:00 interval alone makes it up
    fewer = [(t, 0.0 if t >= 12 * H and t < 12 * H + 8 * 60 else w) for t, w in sorted(calls)]
    assert _check_by_hand(fewer).failing() == [(1, "a", None)]


def test_removals_are_kept_together_only_within_each_windows_slack() -> None:
    base = SimpleNamespace(window_margins=lambda: [np.array([0.02, np.nan])])
    passed = [
        ((i, 0), SimpleNamespace(window_margins=lambda loss=loss: [np.array([0.02 - loss, np.nan])]))
        for i, loss in enumerate([0.012, 0.004, 0.009, 0.0])
    ]
    # smallest loss first (0, 0.004, 0.009 = 0.013 of 0.02 slack); 0.012 more would not fit
    assert _within_slack(base, passed) == [(3, 0), (1, 0), (2, 0)]  # type: ignore[arg-type]


DAY_TARGETS = STAFF_SCENARIO.replace("share: 0.90}", "share: 0.90, over: day}").replace(
    "share: 0.80}", "share: 0.80, over: day}"
)


def test_day_targets_staffing_meets_each_day_on_callers_it_never_saw_with_fewer_hours() -> None:
    scenario = parse_scenario(DAY_TARGETS)
    result = find_staffing(scenario, LocalExecutor(2), interval_s=6 * H)
    assert result.targets_met and result.check is not None
    assert [j.target.window for j in result.check.judged] == ["day", "day"]
    # never below the head-count that keeps up with the load, where the search starts
    floor = load_staffing(scenario, 6 * H)
    assert all(a >= f for row, low in zip(result.agents, floor, strict=True) for a, f in zip(row, low, strict=True))
    every_interval = find_staffing(parse_scenario(STAFF_SCENARIO), LocalExecutor(2), interval_s=6 * H)
    assert result.agent_hours() <= every_interval.agent_hours()
    fresh = simulate(with_overrides(result.scenario, seed=99_999, replications=16), jobs=2, interval_s=6 * H)
    for name in ("911", "311"):
        (level,) = fresh.summary["classes"][name]["service_level"]
        assert level["over"] == "day" and level["windows"] == {"judged": 1, "met": 1} and level["met"], level


def test_targets_over_an_hour_need_an_interval_dividing_an_hour() -> None:
    scenario = parse_scenario(DAY_TARGETS.replace("over: day", "over: busy_hour"))
    with pytest.raises(ScenarioError, match=r"targets over an hour need --interval to divide an hour .* got 6h"):
        find_staffing(scenario, LocalExecutor(1), interval_s=6 * H)


def test_a_target_still_missed_is_said_in_one_line_per_target() -> None:
    scenario = parse_scenario(DAY_TARGETS)
    result = find_staffing(scenario, LocalExecutor(1), interval_s=6 * H, max_rounds=0)  # no repair
    assert not result.targets_met and result.check is not None
    lines = result.check.missed_lines()
    assert lines and all(re.fullmatch(
        r"(911 90% within 15s|311 80% within 1m) over each day: met at the 90% lower bound in 0 of 1 day; "
        r"missed day 1 \(Mon\) \(\d+\.\d%\)", line
    ) for line in lines), lines  # fmt: skip
    assert result.log[-len(lines) :] == [f"  {line}" for line in lines]
    printed = format_staffing_result(result, scenario).splitlines()
    assert printed[-len(lines) - 1 :] == ["WARNING: some targets are still not met:", *(f"  {line}" for line in lines)]


def test_agent_hours_are_what_the_staffing_yaml_schedules(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # The desk closes at 16:30, inside the 16:00-17:00 interval: its agents there work half an hour,
    # and staff says the hours staffing.yaml schedules (simulate's agent-hours), not an hour each.
    path = tmp_path / "desk.yaml"
    path.write_text(DESK_ONLY.replace("close: 16h}", "close: 16h30m}"), encoding="utf-8")
    out = tmp_path / "staff"
    result = invoke("staff", str(path), "--interval", "1h", "--jobs", "1", "--out", str(out))
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.stdout.splitlines() if re.match(r"^\d\d:\d\d-", line)]
    by_table = sum(int(r[1]) for r in rows)  # agents per 1-hour row
    last = next(int(r[1]) for r in rows if r[0] == "16:00-17:00")
    assert last > 0
    scheduled = agent_hours_per_day(load_scenario(out / "staffing.yaml"))
    assert scheduled == by_table - last / 2
    assert f"Simulation: {scheduled:.0f} agent-hours a day" in result.stdout
    doc = json.loads((out / "staffing.json").read_text())
    assert doc["agent_hours"] == scheduled == doc["pools"]["311-desk"]["agent_hours"]
