"""A week's roster of lines people can work: a 7-day scenario whose ``roster:`` gives
``shifts_per_week`` (with ``days_off``, ``max_start_times``, ``line_hours``).

The steps of :mod:`.roster`, over the week:

1. **Required head-count per day**: each day of the week is searched on its own by
   ``find_staffing`` (its weekday's arrivals, its date's special day, its part of the surges; a
   one-day scenario starting at midnight), at the roster's interval.
2. **Need**, as for a day: ``ceil(max(required, min_agents) / (1 - shrinkage))`` per interval of
   the week.
3. **Lines**, per pool: the start times (at most ``max_start_times``, :func:`.lines.choose_starts`),
   then the cheapest lines covering every interval of the week (:func:`.lines.week_cover`).
   Both programs stop on node limits, never on time: the same file gives the same lines on any
   machine; a stopped program's gap is in ``RosterResult.gaps`` and the output.
4. **Check by simulation**: the whole week simulated with the agents present each day (a
   ``shrinkage`` share of each day's working agents away) and judged by ``check_targets`` over
   the week's intervals. While a target fails, the failing pool's lines are solved again keeping
   the week's coverage and asking for more on duty in its failing intervals (at most
   ``MAX_REPAIR_ROUNDS``), as a day's roster is repaired.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..core.calendar import WEEK_S, weekday_of_day
from ..core.durations import DAY_S, HOUR_S
from ..core.runner import Executor, SimulationResult, run_scenarios
from ..core.scenario import Pool, RosterRules, Scenario
from ..core.scenario_file import validate_data
from ..errors import ScenarioError
from .cover import ShiftType, shift_types
from .lines import (
    DAYS,
    LineType,
    RosterLine,
    WeekCover,
    choose_starts,
    day_coverage,
    line_costs,
    line_types,
    numbered_lines,
    present_by_day,
    week_cover,
)
from .roster import (
    MAX_REPAIR_ROUNDS,
    RosterResult,
    RosterShift,
    check_coverable,
    check_hours_on_grid,
    check_rules_coverable,
    roster_rules,
    rostered_need,
    shift_data,
)
from .staff import (
    Check,
    Progress,
    StaffingResult,
    check_targets,
    find_staffing,
    first_open_pools,
    open_intervals,
    repair_pools,
)

REPAIR_EXTRA = 3  # at most this many agents more than shrinkage asks for in a repair's failing intervals


def is_week(scenario: Scenario) -> bool:
    """Whether ``ivr311 roster`` plans the scenario's week in lines (a 7-day horizon)."""
    return scenario.horizon == WEEK_S


def day_scenario(scenario: Scenario, day: int) -> Scenario:
    """Day ``day`` of the week as a one-day scenario: its weekday (and date) for the arrivals, the
    surges of that day moved to it, no roster section (the week's rules are not a day's)."""
    data = scenario.to_data()
    data.pop("roster", None)
    data["horizon"] = DAY_S
    data["warmup"] = 0.0
    data["start_day"] = weekday_of_day(scenario.first_weekday, day)
    if scenario.start_date is not None:
        data["start_date"] = scenario.start_date + dt.timedelta(days=day)
    surges = []
    for surge in data.get("surges", []):
        a, b = max(surge["start"] - day * DAY_S, 0.0), min(surge["end"] - day * DAY_S, DAY_S)
        if a < b:
            surges.append({**surge, "start": a, "end": b})
    data["surges"] = surges
    return validate_data(data, f"day {day}")


def build_week_roster(
    scenario: Scenario,
    executor: Executor,
    *,
    confidence: float = 0.9,
    on_progress: Callable[[str], None] | None = None,
    progress: Progress | None = None,
) -> RosterResult:
    """The cheapest weekly lines covering each day's required head-count after shrinkage, checked
    and repaired by simulating the week (see the module docstring)."""
    rules = roster_rules(scenario)
    check_hours_on_grid(scenario, rules)
    interval = rules.interval
    pools = scenario.staffing.pools
    log: list[str] = []

    def say(msg: str) -> None:
        log.append(msg)
        if on_progress:
            on_progress(msg)

    is_open = open_intervals(scenario, interval)
    n = len(is_open)
    # a line works one shift type a day: the day's checks hold for each day of the week
    types = [shift_types(rules, pool) for pool in pools]
    check_rules_coverable(scenario, rules, types, is_open)
    required: list[list[int]] = []
    staffing: StaffingResult | None = None
    for d in range(DAYS):
        day = day_scenario(scenario, d)
        say(f"day {d + 1} of 7 ({day.first_weekday}): the head-count each interval needs")
        staffing = find_staffing(
            day, executor, interval_s=interval, confidence=confidence, on_progress=on_progress, progress=progress
        )
        required.extend(row[:] for row in staffing.agents)
    assert staffing is not None
    need = rostered_need(required, rules, scenario, is_open * DAYS)
    for d in range(DAYS):
        check_coverable(scenario, rules, types, need[d * n : (d + 1) * n])

    t0 = time.perf_counter()
    covers: list[WeekCover] = []
    gaps: dict[str, float] = {}
    for p, pool in enumerate(pools):
        col = [row[p] for row in need]
        cover = _solve(rules, pool, col, interval, scenario.first_weekday)
        covers.append(cover)
        if cover.gap > 0:
            gaps[pool.name] = cover.gap
            say(
                f"WARNING: lines {pool.name}: the program stopped at its node limit, up to {cover.gap:.1%} above "
                "the cheapest; the best lines found are used"
            )
        say(
            f"lines {pool.name}: {len(cover.lines)} line types x {len(col)} intervals, "
            f"{_paid(cover):g} paid agent-hours a week (need {sum(col) * interval / HOUR_S:g} on duty)"
        )
    solve_s = time.perf_counter() - t0
    cover_hours = sum(_paid(c) for c in covers)

    first_open = first_open_pools(scenario, is_open)
    run = _simulate(scenario, covers, rules, executor, confidence, progress)
    rounds = added = 0
    while not run.check.met and rounds < MAX_REPAIR_ROUNDS:
        rounds += 1
        failing = repair_pools(run.check, first_open)
        changed = False
        for p in sorted({p for _, p in failing}):
            rows = [i for i, q in failing if q == p]
            before = day_coverage(run.present[p], interval)
            cov = day_coverage(covers[p].shifts_by_day(), interval)
            for k in range(1, math.ceil(1 / (1 - rules.shrinkage)) + REPAIR_EXTRA):
                want = [c + k if i in rows else c for i, c in enumerate(cov)]
                fixed = week_cover(rules, want, covers[p].lines, line_costs(rules, pools[p], covers[p].lines))
                now = day_coverage(present_by_day(fixed, rules.shrinkage, interval), interval)
                if all(now[i] > before[i] for i in rows):
                    break
            added += sum(fixed.x) - sum(covers[p].x)
            changed = changed or fixed.x != covers[p].x
            covers[p] = fixed
            if fixed.gap > 0:
                gaps[pools[p].name] = fixed.gap
        if not changed:
            break
        run = _simulate(scenario, covers, rules, executor, confidence, progress)
        say(
            f"roster repair {rounds}: {sum(_paid(c) for c in covers) - cover_hours:+g} paid agent-hours a week, "
            f"{len(run.check.failing())} (interval, class) pairs below target"
        )
    if not run.check.met:
        say("the roster still misses a target after the repair rounds; the answer is the best found")

    lines: list[RosterLine] = []
    for pool, cover in zip(pools, covers, strict=True):
        lines.extend(numbered_lines(pool.name, cover, scenario.first_weekday, len(lines) + 1))
    shifts = _shifts(lines)
    on = [day_coverage(c.shifts_by_day(), interval) for c in covers]
    came = [day_coverage(present, interval) for present in run.present]
    week_paid = sum(line.paid_hours for line in lines)
    paid = week_paid / DAYS
    # the plan's one cost (core/cost.py): every rostered agent paid, overtime as simulated
    cost = run.result.summary["cost"]["per_day"]["value"] if rules.costed else None
    week = range(DAYS * n)
    return RosterResult(
        scenario=run.scenario,  # the roster as checked: each day's shifts, the agents away as absent
        rules=rules,
        interval_s=interval,
        pool_names=[p.name for p in pools],
        shifts=shifts,
        required=required,
        need=need,
        coverage=[[on[p][i] for p in range(len(pools))] for i in week],
        lower_bound_hours=sum(map(sum, need)) * interval / HOUR_S / DAYS,
        paid_hours=paid,
        agent_hours=sum(s.duty_hours for s in shifts),
        fte=week_paid / (rules.weekly_hours / HOUR_S),
        cost_per_day=cost,
        targets_met=run.check.met,
        evaluation=run.result,
        staffing=staffing,
        agents_added=added,
        log=log,
        present_scenario=run.scenario,
        present=[[came[p][i] for p in range(len(pools))] for i in week],
        repair_rounds=rounds,
        solve_s=solve_s,
        shift_types=sum(len(c.lines) for c in covers),
        cover_hours=cover_hours / DAYS,
        lines=lines,
        gaps=gaps,
    )


def _solve(rules: RosterRules, pool: Pool, need: list[int], interval_s: float, first: str) -> WeekCover:
    if not shift_types(rules, pool):
        raise ScenarioError(f"roster: no allowed shift fits pool {pool.name!r}")
    starts = choose_starts(rules, pool, need, interval_s, rules.start_limit(pool.name))
    lines: list[LineType] = line_types(rules, pool, starts)
    if not lines:
        raise ScenarioError(f"roster: no weekly line of shifts_per_week fits pool {pool.name!r}")
    return week_cover(rules, need, lines, line_costs(rules, pool, lines))


def _paid(cover: WeekCover) -> float:
    return sum(line.paid_s * k for line, k in zip(cover.lines, cover.x, strict=True)) / HOUR_S


def _shifts(lines: list[RosterLine]) -> list[RosterShift]:
    """The lines as shifts of the scenario: one per (pool, start, length, breaks) and the days
    worked with them, agents counted."""
    count: dict[tuple[str, float, float, tuple[tuple[float, float], ...], tuple[str, ...]], int] = {}
    for line in lines:
        by_break: dict[tuple[tuple[float, float], ...], list[str]] = {}
        for d, b in zip(line.days, line.breaks, strict=True):
            by_break.setdefault(b, []).append(d)
        for b, days in by_break.items():
            key = (line.pool, line.start_s, line.length_s, b, tuple(days))
            count[key] = count.get(key, 0) + 1
    return [
        RosterShift(pool, start, length, b, k, days)  # type: ignore[arg-type]
        for (pool, start, length, b, days), k in sorted(count.items())
    ]


def _idle(scenario: Scenario, name: str) -> dict[str, object]:
    hours = next(p.hours for p in scenario.staffing.pools if p.name == name)
    start, end = (hours.open, hours.close) if hours is not None else (0.0, DAY_S)
    return {"start": start, "end": end, "agents": 0}


@dataclass(frozen=True)
class _Run:
    """One simulation of the week's agents present and how it fared."""

    scenario: Scenario
    present: list[list[list[tuple[ShiftType, int]]]]  # [pool][day] (shift type, agents present)
    result: SimulationResult
    check: Check


def _simulate(
    scenario: Scenario,
    covers: list[WeekCover],
    rules: RosterRules,
    executor: Executor,
    confidence: float,
    progress: Progress | None,
) -> _Run:
    present = [present_by_day(c, rules.shrinkage, rules.interval) for c in covers]
    rostered = [c.shifts_by_day() for c in covers]  # the same shift types, day by day, as present's
    data = scenario.to_data()
    first = scenario.first_weekday
    for p, pool in enumerate(data["staffing"]["pools"]):
        pool.pop("agents", None)
        # each day's shifts: the agents who come, and those rostered but away as absent (paid)
        shifts = [
            {**shift_data(st, here, k - here), "days": [weekday_of_day(first, d)]}
            for d, (day, came) in enumerate(zip(rostered[p], present[p], strict=True))
            for (st, k), (_, here) in zip(day, came, strict=True)
            if k > 0
        ]
        pool["shifts"] = shifts or [_idle(scenario, pool["name"])]
    variant = validate_data(data, "roster")
    if progress is not None:
        progress.add(variant.replications)
    (result,) = run_scenarios(
        [variant], executor, interval_s=rules.interval, on_done=progress.update if progress else None
    )
    return _Run(variant, present, result, check_targets(result, rules.interval, confidence, period_s=WEEK_S))
