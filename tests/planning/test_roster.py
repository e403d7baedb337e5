"""Rosters: the exact cover against brute force, the shape of every rostered shift, coverage,
cost and hours, the roster simulated on callers the search never saw, the repair, and the rules
only a roster can find infeasible."""

from __future__ import annotations

import dataclasses
import itertools
import math
import random
from typing import Any

import numpy as np
import pytest

from queueing import simulate
from queueing.core.durations import DAY_S
from queueing.core.runner import LocalExecutor
from queueing.core.scenario_file import parse_scenario, with_overrides
from queueing.errors import ScenarioError
from queueing.planning import roster as roster_module
from queueing.planning.cover import ShiftType, cheapest_cover, coverage, present_agents, shift_types, solve_cover
from queueing.planning.roster import RosterResult, build_roster
from queueing.planning.staff import check_targets, open_intervals
from tests.support.scenarios import shared, two_pools_hourly

H = 3600.0

# The shared two-pool centre (tests/scenarios/two-pools.yaml) with its rules on a 1-hour grid.
SMALL = two_pools_hourly()


# --- the integer program -----------------------------------------------------------------


def _random_case(rng: random.Random) -> tuple[list[int], list[ShiftType], list[float]]:
    """Six 4-hour intervals, two to five shift types (some with a break), small needs."""
    step = DAY_S / 6
    types: set[ShiftType] = set()
    for _ in range(rng.randint(2, 5)):
        length = rng.randint(1, 4)
        breaks: tuple[tuple[float, float], ...] = ()
        if length >= 3 and rng.random() < 0.5:
            breaks = ((rng.randint(1, length - 2) * step, step),)
        types.add(ShiftType(rng.randrange(6) * step, length * step, breaks))
    ordered = sorted(types, key=lambda t: (t.start_s, t.length_s, t.breaks))
    costs = [float(rng.randint(1, 9)) for _ in ordered]
    need = [rng.choice([0, 0, 1, 2]) for _ in range(6)]
    return need, ordered, costs


def _brute_force(need: list[int], types: list[ShiftType], costs: list[float]) -> float | None:
    """The least cost over every choice of 0..max(need) agents per shift type (None: infeasible)."""
    duty = [t.on_duty(DAY_S / len(need)) for t in types]
    best = None
    for x in itertools.product(range(max(need) + 1), repeat=len(types)):
        cover = [0] * len(need)
        for k, d in zip(x, duty, strict=True):
            for i in d:
                cover[i] += k
        if all(c >= n for c, n in zip(cover, need, strict=True)):
            cost = sum(k * c for k, c in zip(x, costs, strict=True))
            best = cost if best is None else min(best, cost)
    return best


def test_solve_cover_finds_the_brute_force_optimum_on_tiny_cases() -> None:
    rng = random.Random(2026)
    solved = infeasible = 0
    for _ in range(300):
        need, types, costs = _random_case(rng)
        best = _brute_force(need, types, costs)
        if best is None:
            with pytest.raises(ScenarioError, match="no allowed shift is on duty at"):
                solve_cover(need, types, costs)
            infeasible += 1
            continue
        x = solve_cover(need, types, costs)
        assert all(k >= 0 for k in x)
        cover = [0] * len(need)
        for k, t in zip(x, types, strict=True):
            for i in t.on_duty(DAY_S / len(need)):
                cover[i] += k
        assert all(c >= n for c, n in zip(cover, need, strict=True)), (need, types, x)
        assert sum(k * c for k, c in zip(x, costs, strict=True)) == pytest.approx(best), (need, types, costs, x)
        solved += 1
    assert solved > 100 and infeasible > 10  # both branches were exercised


def test_a_shift_is_off_duty_during_its_break_and_wraps_midnight() -> None:
    night = ShiftType(22 * H, 8 * H, ((3 * H, H),))
    assert night.on_duty(H) == [22, 23, 0, 2, 3, 4, 5]
    assert night.break_s == H


# --- shift types -------------------------------------------------------------------------


def test_the_30_minute_rules_give_480_shift_types_round_the_clock_and_60_in_office_hours() -> None:
    scenario = parse_scenario(shared("two-pools"))
    assert scenario.roster is not None
    call_takers, desk = (shift_types(scenario.roster, pool) for pool in scenario.staffing.pools)
    assert len(call_takers) == 48 * 2 * 5  # starts x lengths x break placements (3h, 3h30m ... 5h)
    assert {t.breaks[0][0] for t in call_takers} == {3 * H, 3.5 * H, 4 * H, 4.5 * H, 5 * H}
    # 7h-19h: 8h30m shifts start 7h..10h30m, 10h30m shifts 7h..8h30m
    assert len(desk) == (8 + 4) * 5
    assert all(scenario.staffing.pools[1].hours.contains(t.start_s, t.start_s + t.length_s) for t in desk)  # type: ignore[union-attr]


def test_a_night_pool_gets_shifts_through_midnight_within_its_hours() -> None:
    scenario = parse_scenario(SMALL.replace("open: 7h, close: 19h", "open: 20h, close: 32h"))
    assert scenario.roster is not None
    desk = scenario.staffing.pools[1]
    types = shift_types(scenario.roster, desk)
    # 8h shifts start 20h..24h (00:00), 10h shifts 20h..22h; three break placements each
    assert sorted({(t.start_s / H, t.length_s / H) for t in types}) == [
        (0.0, 8.0),
        (20.0, 8.0),
        (20.0, 10.0),
        (21.0, 8.0),
        (21.0, 10.0),
        (22.0, 8.0),
        (22.0, 10.0),
        (23.0, 8.0),
    ]
    assert len(types) == 8 * 3
    assert all(desk.hours.contains(t.start_s, t.start_s + t.length_s) for t in types)  # type: ignore[union-attr]
    assert ShiftType(22 * H, 10 * H, ((3 * H, H),)).on_duty(H) == [22, 23, 0, 2, 3, 4, 5, 6, 7]


def test_several_break_rules_are_placed_in_order_without_overlap() -> None:
    text = SMALL.replace(
        "breaks: [{length: 1h, earliest: 3h, latest: 5h}]",
        "breaks: [{length: 1h, earliest: 2h, latest: 4h}, {length: 1h, earliest: 3h, latest: 6h}]",
    )
    scenario = parse_scenario(text)
    assert scenario.roster is not None
    types = shift_types(scenario.roster, scenario.staffing.pools[0])
    placements = {t.breaks for t in types if t.length_s == 8 * H}
    assert placements and all(len(b) == 2 and b[0][0] + b[0][1] <= b[1][0] for b in placements)
    assert ((2 * H, H), (3 * H, H)) in placements and ((4 * H, H), (4 * H, H)) not in placements
    assert len(placements) == len({tuple(sorted(b)) for b in placements})  # a placement once


# --- a built roster ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def built() -> RosterResult:
    return build_roster(parse_scenario(SMALL), LocalExecutor(1))


def test_every_shift_follows_the_rules(built: RosterResult) -> None:
    rules = built.rules
    pools = {p.name: p for p in built.scenario.staffing.pools}
    assert built.shifts and all(s.agents > 0 for s in built.shifts)
    for s in built.shifts:
        assert s.length_s in rules.shift_lengths  # type: ignore[operator]
        assert 0 <= s.start_s < DAY_S and s.start_s % rules.start_every == 0
        assert s.end_s == s.start_s + s.length_s
        ((offset, length),) = s.breaks
        assert length == H and 3 * H <= offset <= 5 * H and offset % rules.interval == 0
        hours = pools[s.pool].hours
        assert hours is None or hours.contains(s.start_s, s.end_s), s
    order = [(built.pool_names.index(s.pool), s.start_s, s.length_s) for s in built.shifts]
    assert order == sorted(order)


def test_coverage_reaches_the_need_and_the_need_the_requirement(built: RosterResult) -> None:
    rules = built.rules
    is_open = open_intervals(built.scenario, built.interval_s)
    recount = [[0, 0] for _ in range(24)]
    for s in built.shifts:
        for i in ShiftType(s.start_s, s.length_s, s.breaks).on_duty(built.interval_s):
            recount[i][built.pool_names.index(s.pool)] += s.agents
    assert recount == built.coverage
    assert built.required == built.staffing.agents
    for i in range(24):
        for p, name in enumerate(built.pool_names):
            assert built.coverage[i][p] >= built.need[i][p]
            assert built.need[i][p] * (1 - rules.shrinkage) >= built.required[i][p]
            assert built.need[i][p] >= (rules.min_agents(name) if is_open[i][p] else 0)
            if not is_open[i][p]:
                assert built.required[i][p] == built.need[i][p] == built.coverage[i][p] == 0
            assert built.present[i][p] <= built.coverage[i][p]


def test_hours_cost_and_fte_add_up(built: RosterResult) -> None:
    rules = built.rules
    paid = sum(s.length_s * s.agents for s in built.shifts) / H
    assert built.paid_hours == pytest.approx(paid)
    assert built.agent_hours == pytest.approx(paid - sum(s.agents for s in built.shifts))  # one 1h break each
    # the plan's one cost: every rostered agent's pay (those away too) and the simulated overtime
    pay = sum(s.length_s / H * s.agents * rules.rate_per_hour(s.pool) for s in built.shifts)
    assert built.cost_per_day == built.evaluation.summary["cost"]["per_day"]["value"]
    assert pay <= built.cost_per_day <= pay * 1.02
    assert built.fte == pytest.approx(paid * 7 / 40)
    assert built.lower_bound_hours == sum(map(sum, built.need))
    assert built.lower_bound_hours <= built.cover_hours <= built.paid_hours
    assert built.shift_types == sum(len(shift_types(rules, p)) for p in built.scenario.staffing.pools)


def test_the_scenario_is_the_roster_as_simulated_its_agents_away_absent(built: RosterResult) -> None:
    for pool in built.scenario.staffing.pools:
        mine = [s for s in built.shifts if s.pool == pool.name]
        # each shift: its agents who come, and those rostered but away as its absent
        got = sorted(
            (sh.start, sh.end, sh.agents + (sh.absent or 0), tuple((b.start, b.length) for b in sh.breaks or []))
            for sh in pool.shift_list()
        )
        assert got == sorted((s.start_s, s.end_s, s.agents, s.breaks) for s in mine)
        rostered = sum(s.agents for s in mine)
        present = sum(sh.agents for sh in pool.shift_list())
        assert present == rostered - round(rostered * built.rules.shrinkage)
    assert built.targets_met and built.evaluation.scenario == built.scenario == built.present_scenario


def test_the_roster_meets_the_targets_on_callers_the_search_never_saw(built: RosterResult) -> None:
    assert built.present_scenario is not None
    fresh = with_overrides(built.present_scenario, seed=90_210, replications=12)
    check = check_targets(simulate(fresh, interval_s=built.interval_s), built.interval_s, confidence=0.5)
    # the mean over fresh replications, in every hour: sampling noise of a few points is allowed
    assert np.all(np.nan_to_num(check.margin, nan=1.0) >= -0.03), check.margin


def test_the_repair_adds_agents_where_a_target_fails(built: RosterResult, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # Hand build_roster a requirement two agents short in the shared pool's busy hours: the exact
    # cover of that is too thin, and only the simulation can tell.
    short = [[max(0, r[0] - 2) if 8 <= i < 18 else r[0], r[1]] for i, r in enumerate(built.required)]
    monkeypatch.setattr(
        roster_module, "find_staffing", lambda *a, **k: dataclasses.replace(built.staffing, agents=short)
    )
    repaired = build_roster(parse_scenario(SMALL), LocalExecutor(1))
    assert repaired.required == short
    assert repaired.repair_rounds >= 1  # the re-solved cover may lengthen shifts rather than add agents
    assert any(line.startswith("roster repair 1:") for line in repaired.log)
    assert repaired.targets_met
    assert repaired.paid_hours > repaired.cover_hours


def test_without_rates_the_roster_minimizes_paid_hours_and_has_no_cost(built: RosterResult, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(roster_module, "find_staffing", lambda *a, **k: built.staffing)
    text = SMALL.replace("{cost_per_hour: 42.0, min_agents: 2}", "{min_agents: 2}").replace(
        "311-desk: {cost_per_hour: 33.0}", "311-desk: {}"
    )
    unpriced = build_roster(parse_scenario(text), LocalExecutor(1))
    assert unpriced.cost_per_day is None
    # per pool the rate only scales the objective: the same least paid hours either way
    assert unpriced.cover_hours == built.cover_hours and unpriced.need == built.need


def test_shrinkage_is_spread_over_the_day() -> None:
    step = H
    types = [ShiftType(k * step, 8 * H, ()) for k in range(24)]
    present = present_agents(types, [1] * 24, 0.12, step)
    away = [k for k, v in enumerate(present) if v == 0]
    assert len(away) == 3  # round(24 x 0.12)
    # 8 on duty every hour: no hour loses two (the three are 8 starts apart, round the clock)
    assert min(coverage(types, present, step)) == 7
    assert present_agents(types[:1], [10], 0.12, step) == [9]
    assert present_agents(types[:2], [3, 0], 0.0, step) == [3, 0]


def test_absences_without_an_answer_from_the_solver_fall_in_proportion(monkeypatch: pytest.MonkeyPatch) -> None:
    """A program stopped before any answer (HiGHS at its node limit) still gives the day its
    absences: round(total x shrinkage) away, in proportion to each shift's agents."""
    from types import SimpleNamespace

    from queueing.planning import cover

    monkeypatch.setattr(cover, "run_milp", lambda **program: SimpleNamespace(x=None))
    types = [ShiftType(s * H, 8 * H, ()) for s in (0, 8, 16)]
    present = present_agents(types, [10, 5, 0], 0.2, H)
    assert present == [8, 4, 0]  # 3 away: 2 of the 10, 1 of the 5
    assert present_agents(types, [1, 1, 1], 0.5, H) == [0, 0, 1]  # 2 away (1.5 rounds up)


def test_absences_never_take_two_from_an_interval_that_can_spare_one() -> None:
    """Five rostered at 09:00 on overlapping shifts, 4 required, 12% away. Taking one agent in
    every 1/s by shift start would take two there; the even placement keeps 4."""
    step = 1800.0
    types = [ShiftType(s * H, 8.5 * H, ((3 * H, 0.5 * H),)) for s in (1, 2, 3, 5, 5.5, 7, 7.5, 9, 11, 13)]
    x = [1, 1, 1, 2, 1, 2, 1, 2, 2, 2]
    present = present_agents(types, x, 0.12, step)
    assert sum(x) - sum(present) == 2  # round(15 x 0.12)
    cov = coverage(types, x, step)
    kept = coverage(types, present, step)
    assert all(k >= math.floor(c * 0.88) for c, k in zip(cov, kept, strict=True)), (cov, kept)


# --- rules only a roster can find infeasible ----------------------------------------------


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda t: t[: t.index("roster:")],
            "the scenario has no roster: section; add one with at least shift_lengths",
        ),
        (
            lambda t: t.replace("  shift_lengths: [8h, 10h]\n", "").replace(
                "breaks: [{length: 1h, earliest: 3h, latest: 5h}]", "breaks: []"
            ),
            "roster: has no shift_lengths; add the paid lengths shifts may have",
        ),
        (
            lambda t: t.replace("open: 7h, close: 19h", "open: 7h30m, close: 19h"),
            "pool '311-desk': opening hours (7h30m to 19h) are not on the roster's 1h interval grid",
        ),
        (
            lambda t: (
                t.replace("start_every: 1h", "start_every: 4h")
                .replace("shift_lengths: [8h, 10h]", "shift_lengths: [2h]")
                .replace("breaks: [{length: 1h, earliest: 3h, latest: 5h}]", "breaks: []")
            ),
            "roster: pool 'call-takers' needs agents at 2h (its min_agents (2) applies while it is open), but no "
            "allowed shift",
        ),
        (
            lambda t: t.replace(
                "breaks: [{length: 1h, earliest: 3h, latest: 5h}]",
                "breaks: [{length: 1h, earliest: 3h, latest: 3h}, {length: 1h, earliest: 3h, latest: 3h}]",
            ),
            "roster.breaks: the breaks cannot all be placed in a 8h shift without overlapping",
        ),
        (
            lambda t: t.replace("start_every: 1h", "start_every: 2h").replace(
                "open: 7h, close: 19h", "open: 7h, close: 17h"
            ),
            "roster: pool '311-desk' needs agents at 7h (it is open then), but no allowed shift (starting every 2h "
            "within its hours (7h to 17h)",
        ),
    ],
)
def test_infeasible_rules_are_one_clear_error_before_any_simulation(edit, message, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def no_search(*args: object, **kwargs: object) -> None:
        raise AssertionError("the rules should have been refused before the search")

    monkeypatch.setattr(roster_module, "find_staffing", no_search)
    with pytest.raises(ScenarioError) as err:
        build_roster(parse_scenario(edit(SMALL)), LocalExecutor(1))
    assert message in str(err.value) and "\n" not in str(err.value)


@dataclasses.dataclass
class OneMiss:
    """A cover of SMALL's call-takers and a check in which 911 misses its target at 13:00 only."""

    rules: Any
    types: list[list[ShiftType]]
    costs: list[list[float]]
    counts: list[list[int]]
    present: list[list[int]]
    run: Any


def one_miss() -> OneMiss:
    from queueing.planning.roster import _Run
    from queueing.planning.staff import Check

    scenario = parse_scenario(SMALL)
    rules = scenario.roster
    assert rules is not None
    types = [shift_types(rules, pool) for pool in scenario.staffing.pools]
    costs = [
        [rules.rate_per_hour(pool.name) * st.length_s / H for st in ts]
        for pool, ts in zip(scenario.staffing.pools, types, strict=True)
    ]
    need = [3] * 6 + [4] * 13 + [3] * 5
    counts = [solve_cover(need, types[0], costs[0]), [0] * len(types[1])]
    present = [present_agents(types[p], counts[p], rules.shrinkage, H) for p in range(2)]
    margin = np.full((24, 2), 0.1)
    margin[13, 0] = -0.05  # 911 misses its target at 13:00
    run = _Run(scenario, present, None, Check(margin=margin, owners=["911", "311"]))  # type: ignore[arg-type]
    return OneMiss(rules, types, costs, counts, present, run)


def test_the_repair_solves_again_keeping_coverage_and_buys_the_least_paid_time() -> None:
    """One failing interval: the repaired cover keeps every interval's rostered coverage, raises
    the agents present there, and pays no more than the cheapest single shift added on duty there
    (the program may lengthen a shift instead). Checked by brute force over that one addition."""
    from queueing.planning.roster import _repair

    case = one_miss()
    rules, types, costs, counts, present, run = case.rules, case.types, case.costs, case.counts, case.present, case.run

    def present_at_13(x: list[int]) -> int:
        return coverage(types[0], present_agents(types[0], x, rules.shrinkage, H), H)[13]

    before = coverage(types[0], counts[0], H)
    before_present = coverage(types[0], present[0], H)
    old = list(counts[0])
    first_open = [{("911", None): 0, ("311", None): 0} for _ in range(24)]
    added, changed = _repair(run, counts, types, first_open, rules, costs)
    assert changed and counts[1] == [0] * len(types[1])
    after = coverage(types[0], counts[0], H)
    assert all(a >= b for a, b in zip(after, before, strict=True)) and after[13] > before[13]
    assert present_at_13(counts[0]) > before_present[13]
    paid = sum(c * k for c, k in zip(costs[0], counts[0], strict=True))
    one_more = min(
        sum(c * k for c, k in zip(costs[0], old, strict=True)) + costs[0][j]
        for j, st in enumerate(types[0])
        if 13 in st.on_duty(H) and present_at_13([k + (i == j) for i, k in enumerate(old)]) > before_present[13]
    )
    assert paid <= one_more + 1e-9
    assert added == sum(counts[0]) - sum(old)


def test_hours_of_a_whole_day_take_shifts_across_their_close() -> None:
    """A pool open 0h to 24h (or 6h to 30h) is open round the clock: its shifts may cross midnight
    (or 06:00), as a pool without hours would have them (as many shift types)."""
    base = parse_scenario(SMALL)
    rules = base.roster
    assert rules is not None
    plain = shift_types(rules, base.staffing.pools[0])
    for hours in ("{open: 0h, close: 24h}", "{open: 6h, close: 30h}"):
        text = SMALL.replace("agents: 3}", f"agents: 3, hours: {hours}}}", 1)
        pool = parse_scenario(text).staffing.pools[0]
        assert pool.hours is not None and len(shift_types(rules, pool)) == len(plain)
    night = SMALL.replace(
        '{name: call-takers, serves: ["911", "311"], agents: 3}',
        '{name: call-takers, serves: ["911", "311"], hours: {open: 0h, close: 24h}, '
        "shifts: [{start: 23h, end: 31h, agents: 3}]}",
    )
    assert parse_scenario(night).staffing.pools[0].shifts is not None  # a night shift in a 24-hour pool validates


def test_min_agents_are_on_duty_after_shrinkage(built: RosterResult) -> None:
    """min_agents is a floor on duty, like the requirement: the need grosses it up for the absent,
    so the agents who come are at least min_agents wherever the pool is open."""
    rules = built.rules
    keep = 1 - rules.shrinkage
    open_ = open_intervals(parse_scenario(SMALL), built.interval_s)
    for p, pool in enumerate(built.pool_names):
        floor = rules.min_agents(pool)
        for i, row in enumerate(built.need):
            if open_[i][p] and floor:
                assert row[p] >= math.ceil(floor / keep - 1e-9)
                assert built.present[i][p] >= floor, (pool, i, built.present[i][p])


def test_a_repair_stopped_by_its_limit_is_never_worse_than_adding_shifts(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """When a re-solve stops at its limit with a poor roster (as HiGHS did at 649 h where the
    optimum was near 315 on a 15-minute grid), the repair keeps the old roster plus the cheapest
    shifts on duty in the failing intervals instead."""
    from queueing.planning.roster import _repair

    case = one_miss()
    rules, types, costs, counts, present, run = case.rules, case.types, case.costs, case.counts, case.present, case.run
    old = list(counts[0])

    def stopped(want, shift_types, c, node_limit=1000):  # type: ignore[no-untyped-def]
        x, _ = cheapest_cover(want, shift_types, c, node_limit)
        return [k + 3 for k in x], 0.5  # a feasible but poor roster, not proven optimal

    monkeypatch.setattr(roster_module, "cheapest_cover", stopped)
    _repair(run, counts, types, [{("911", None): 0, ("311", None): 0} for _ in range(24)], rules, costs)
    extra = [k - o for k, o in zip(counts[0], old, strict=True)]
    assert all(e >= 0 for e in extra) and 1 <= sum(extra) <= 3  # a few agents on cheap shifts, not +3 on every type
    assert (
        coverage(types[0], present_agents(types[0], counts[0], rules.shrinkage, H), H)[13]
        > coverage(types[0], present[0], H)[13]
    )
