"""Rosters: shifts people can work, with breaks, within opening hours, at the least paid cost,
checked by simulating them.

``build_roster`` answers the planner's real question in four steps:

1. **Required head-count**: ``find_staffing`` (the simulation-based search of :mod:`.staff`) at
   the roster's planning interval gives the agents each pool needs on duty in each interval
   (0 where the pool is closed).
2. **Need**: a share ``shrinkage`` of rostered agents is away (leave, sickness, training), so
   ``need = ceil(max(required, min_agents) / (1 - shrinkage))`` rostered agents (``min_agents``
   only where the pool is open): both are floors on duty, so both are grossed up.
3. **Cover**, exactly, per pool: the cheapest agents on each shift type (start x length x break
   placement) covering the need in every interval, an integer program solved with a zero gap
   (:mod:`.cover`); cost is rate x paid length, or paid length without rates.
4. **Check by simulation**, as the agents who actually come: per pool, ``round(rostered x
   shrinkage)`` agents are away, spread over the intervals as evenly as they can be
   (:func:`.cover.present_agents`). That present roster is simulated (breaks, overtime and all)
   and judged by ``check_targets`` at the search's confidence, on the search's callers. While a
   target fails, the first pool open then serving the failing class is covered again, exactly,
   keeping every interval's rostered coverage and asking for the least number more on duty in
   its failing intervals that raises the agents present there (so the program may lengthen or
   move a shift instead of adding one); then simulate again (at most ``MAX_REPAIR_ROUNDS``). On
   baseline this buys the missing half-hour for 2 paid hours, where adding the cheapest whole
   shift cost 8.5.

``RosterResult.scenario`` is the roster as checked: every shift with its rostered agents, those
away as the shift's ``absent`` (paid, answering no call), so simulating it simulates what the
roster was judged on and costs what the roster costs (:mod:`queueing.core.cost`: one cost per
plan). Re-simulating with a seed the search never used (``ivr311 simulate roster.yaml --seed N``)
is the honest check: a fresh sample's 90% lower bound misses a target somewhere by chance even
for a roster whose mean meets them all.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..core.calendar import WEEK_S, WEEKDAYS, Weekday, describe_days
from ..core.durations import DAY_S, HOUR_S, format_clock, format_duration
from ..core.runner import Executor, SimulationResult, Table, run_scenarios
from ..core.scenario import RosterRules, Scenario
from ..core.scenario_file import validate_data
from ..errors import ScenarioError
from .cover import (
    EPS,
    MIP_NODE_LIMIT,
    ShiftType,
    cheapest_cover,
    coverage,
    duty_matrix,
    paid_hours_of,
    present_agents,
    shift_costs,
    shift_types,
)
from .lines import RosterLine
from .staff import (
    Check,
    Group,
    Progress,
    StaffingResult,
    check_targets,
    find_staffing,
    first_open_pools,
    open_intervals,
    repair_pools,
)

MAX_REPAIR_ROUNDS = 12
ROSTER_CSV_COLUMNS = ["pool", "start", "end", "breaks", "agents", "cost_per_day"]
# Per re-solve in the repair (about 10 s on a quiet 2-core machine; the baseline's needs 500):
# past it, the old roster plus the cheapest shifts may do better.
REPAIR_NODE_LIMIT = 1_000


@dataclass(frozen=True)
class RosterShift:
    """Agents rostered on one shift type of one pool."""

    pool: str
    start_s: float  # time of day the shift starts, s since 00:00, in [0, 86400)
    length_s: float  # paid length, breaks included, s
    breaks: tuple[tuple[float, float], ...]  # (offset from the shift's start, length), s, in time order
    agents: int  # agents rostered on this shift (before shrinkage)
    days: tuple[Weekday, ...] | None = None  # the weekdays it is worked (a week's lines); None: every day

    @property
    def end_s(self) -> float:
        """start_s + length_s (may pass 86400: the next morning)."""
        return self.start_s + self.length_s

    @property
    def _share(self) -> float:
        """The share of the days it is worked: its figures a day are averages over the week."""
        return 1.0 if self.days is None else len(self.days) / 7

    @property
    def paid_hours(self) -> float:
        """Paid agent-hours a day of this roster line (all its agents, breaks included; a day of
        the week on average when it is worked on some days)."""
        return self.agents * self.length_s / HOUR_S * self._share

    @property
    def duty_hours(self) -> float:
        """Agent-hours a day on duty of this roster line (breaks left out; averaged as paid_hours)."""
        return self.agents * (self.length_s - sum(length for _, length in self.breaks)) / HOUR_S * self._share


@dataclass
class RosterResult:
    """A roster, what it had to cover, what it costs, and how its simulation fared."""

    # the input scenario with every pool's shifts replaced by the roster (with breaks; the agents away as
    # each shift's ``absent``): ready to simulate, and what the roster's last simulation ran
    scenario: Scenario
    rules: RosterRules
    interval_s: float
    pool_names: list[str]
    shifts: list[RosterShift]  # by pool, then start, then length
    required: list[list[int]]  # [interval][pool] agents needed on duty (staff's simulation answer, 0 where closed)
    need: list[list[int]]  # [interval][pool] rostered agents needed: required after shrinkage, >= min_agents where open
    coverage: list[list[int]]  # [interval][pool] rostered agents on duty (not on break) under the roster
    lower_bound_hours: float  # paid agent-hours a day no roster can go below: sum(need) * interval / 3600
    paid_hours: float  # paid agent-hours a day of the roster (breaks included)
    agent_hours: float  # on-duty agent-hours a day (paid minus breaks)
    fte: float  # paid_hours * 7 / (rules.weekly_hours / 3600)
    cost_per_day: float | None  # the plan's cost a day (core/cost.py): every rostered agent paid, overtime as simulated
    targets_met: bool  # the last simulation of the roster met every target in every interval, as staff judges it
    evaluation: SimulationResult  # that last simulation
    staffing: StaffingResult  # staff's search that gave `required`
    agents_added: int  # rostered agents the re-simulation repair added (net: a re-solve may also swap shifts)
    log: list[str]
    present_scenario: Scenario | None = None  # what was simulated: ``scenario``, the agents away as ``absent``
    present: list[list[int]] = field(default_factory=list)  # [interval][pool] present agents on duty
    repair_rounds: int = 0  # simulations of the roster after the first one
    solve_s: float = 0.0  # wall time in the integer programs, s
    # paid agent-hours of the exact cover, before the repair: the least the rules allow for `need`
    cover_hours: float = 0.0
    shift_types: int = 0  # variables of the integer programs, all pools together
    # a week's roster (a 7-day scenario with shifts_per_week): one entry per agent's week, numbered;
    # the per-interval tables above then run over the week's intervals and figures "a day" are
    # the week's divided by 7
    lines: list[RosterLine] = field(default_factory=list)
    # per pool, the relative gap of the integer program a node limit stopped (absent: proven cheapest)
    gaps: dict[str, float] = field(default_factory=dict)
    assignments: dict[int, str] = field(default_factory=dict)  # line number -> the person working it (--people)

    def pool_shifts(self, pool: str) -> list[RosterShift]:
        """The roster lines of one pool, by start time, then length."""
        return sorted((s for s in self.shifts if s.pool == pool), key=lambda s: (s.start_s, s.length_s, s.breaks))

    def shift_cost(self, shift: RosterShift) -> float | None:
        """Scheduled pay of one roster line a day (None without rates)."""
        if not self.rules.costed:
            return None
        return shift.paid_hours * self.rules.rate_per_hour(shift.pool)

    @property
    def table(self) -> Table:
        """roster.csv: one row per shift, pool by pool in the scenario's order (``pool, start, end,
        breaks, agents, cost_per_day``; clock times, past 24:00 for the next morning)."""

        def rows() -> Iterator[tuple[object, ...]]:
            for pool in self.pool_names:
                for s in self.pool_shifts(pool):
                    cost = self.shift_cost(s)
                    yield (
                        pool,
                        format_clock(s.start_s),
                        format_clock(s.end_s),
                        breaks_text(s, wrap=False, sep=";"),
                        s.agents,
                        None if cost is None else round(cost, 2),
                    ) + ((describe_days(s.days or WEEKDAYS),) if self.lines else ())

        return Table(ROSTER_CSV_COLUMNS + (["days"] if self.lines else []), rows)

    def to_pandas(self) -> Any:
        """roster.csv as a pandas DataFrame (needs the ``analysis`` extra)."""
        return self.table.to_pandas()


def breaks_text(shift: RosterShift, wrap: bool, sep: str, dash: str = "-") -> str:
    """A shift's breaks as clock spans joined by ``sep``; ``wrap`` shows times past midnight as
    the next day's (``01:00``, not ``25:00``)."""
    spans = []
    for offset, length in shift.breaks:
        a, b = shift.start_s + offset, shift.start_s + offset + length
        if wrap:
            a, b = a % DAY_S, (b - DAY_S if b > DAY_S else b)
        spans.append(f"{format_clock(a)}{dash}{format_clock(b)}")
    return sep.join(spans)


def roster_rules(scenario: Scenario) -> RosterRules:
    """The scenario's roster rules, or one clear error naming what to add."""
    rules = scenario.roster
    if rules is None:
        raise ScenarioError(
            "the scenario has no roster: section; add one with at least shift_lengths "
            "(e.g. roster: {interval: 30m, start_every: 30m, shift_lengths: [8h30m]})"
        )
    if not rules.shift_lengths:
        raise ScenarioError("roster: has no shift_lengths; add the paid lengths shifts may have (e.g. [8h30m, 10h30m])")
    if scenario.horizon == WEEK_S and rules.shifts_per_week is None:
        raise ScenarioError(
            "roster: a 7-day scenario is rostered in weekly lines; add shifts_per_week (e.g. shifts_per_week: "
            "[{shifts: 5, length: 8h30m}]) and, if you like, days_off: {count: 2, consecutive: true}"
        )
    return rules


def rostered_need(
    required: list[list[int]], rules: RosterRules, scenario: Scenario, is_open: list[list[bool]]
) -> list[list[int]]:
    keep = 1.0 - rules.shrinkage
    pools = scenario.staffing.pools
    return [
        [
            # min_agents is a floor on duty, like required: both are grossed up for the absent
            math.ceil(max(req, rules.min_agents(pool.name) if is_open[i][p] else 0) / keep - EPS)
            for p, (req, pool) in enumerate(zip(row, pools, strict=True))
        ]
        for i, row in enumerate(required)
    ]


def check_coverable(
    scenario: Scenario,
    rules: RosterRules,
    types: list[list[ShiftType]],
    need: list[list[int]],
    why: str | None = None,
) -> None:
    """One clear error when a pool needs agents in an interval no allowed shift can be on duty in;
    ``why`` it needs them (default: its min_agents, or the calls)."""
    interval = rules.interval
    for p, pool in enumerate(scenario.staffing.pools):
        covered: np.ndarray = np.any(duty_matrix(types[p], interval), axis=1)
        for i, row in enumerate(need):
            if row[p] > 0 and not covered[i]:
                floor = rules.min_agents(pool.name)
                reason = why or (
                    f"its min_agents ({floor}) applies while it is open"
                    if floor and row[p] <= math.ceil(floor / (1 - rules.shrinkage) - EPS)
                    else "calls need answering then"
                )
                hours = f" within its hours ({pool.hours.describe()})" if pool.hours is not None else ""
                raise ScenarioError(
                    f"roster: pool {pool.name!r} needs agents at {format_duration(i * interval)} ({reason}), but no "
                    f"allowed shift (starting every {format_duration(rules.start_every)}{hours}, lengths "
                    f"{', '.join(format_duration(s) for s in rules.shift_lengths or [])}, breaks in their "
                    "windows) is on duty then"
                )


def check_rules_coverable(
    scenario: Scenario, rules: RosterRules, types: list[list[ShiftType]], is_open: list[list[bool]]
) -> None:
    """Before any search: each pool's min_agents floor, and its opening hours, must be coverable
    by the shift types its rules allow (``is_open``: [interval of the day][pool])."""
    pools = scenario.staffing.pools
    check_coverable(
        scenario, rules, types, rostered_need([[0] * len(pools) for _ in is_open], rules, scenario, is_open)
    )
    check_coverable(
        scenario,
        rules,
        types,
        [[int(is_open[i][p] and pool.hours is not None) for p, pool in enumerate(pools)] for i in range(len(is_open))],
        why="it is open then",
    )


def check_hours_on_grid(scenario: Scenario, rules: RosterRules) -> None:
    for pool in scenario.staffing.pools:
        h = pool.hours
        if h is None:
            continue
        for t in (h.open, h.close):
            k = t / rules.interval
            if abs(k - round(k)) > EPS:
                raise ScenarioError(
                    f"pool {pool.name!r}: opening hours ({h.describe()}) are not on the roster's "
                    f"{format_duration(rules.interval)} interval grid (move them, or change roster.interval)"
                )


def shift_data(st: ShiftType, agents: int, absent: int = 0) -> dict[str, object]:
    d: dict[str, object] = {"start": st.start_s, "end": st.start_s + st.length_s, "agents": agents}
    if absent:
        d["absent"] = absent
    if st.breaks:
        d["breaks"] = [{"start": a, "length": b} for a, b in st.breaks]
    return d


def _with_roster(
    scenario: Scenario, types: list[list[ShiftType]], counts: list[list[int]], present: list[list[int]] | None = None
) -> Scenario:
    """The scenario with each pool's shifts replaced by ``counts`` agents of each shift type; with
    ``present``, that many of them on duty and the others ``absent`` (paid, away)."""
    data = scenario.to_data()
    present = counts if present is None else present
    for p, pool in enumerate(data["staffing"]["pools"]):
        pool.pop("agents", None)
        shifts = [
            shift_data(st, here, k - here) for st, k, here in zip(types[p], counts[p], present[p], strict=True) if k > 0
        ]
        if not shifts:
            hours = scenario.staffing.pools[p].hours
            start, end = (hours.open, hours.close) if hours is not None else (0.0, DAY_S)
            shifts = [{"start": start, "end": end, "agents": 0}]
        pool["shifts"] = shifts
    return validate_data(data, "roster")


def build_roster(
    scenario: Scenario,
    executor: Executor,
    *,
    confidence: float = 0.9,
    on_progress: Callable[[str], None] | None = None,
    progress: Progress | None = None,
) -> RosterResult:
    """The cheapest roster covering the required head-count after shrinkage, checked and repaired
    by simulation (see the module docstring)."""
    rules = roster_rules(scenario)
    check_hours_on_grid(scenario, rules)
    interval = rules.interval
    pools = scenario.staffing.pools
    types = [shift_types(rules, pool) for pool in pools]
    costs = [shift_costs(rules, pool, ts) for pool, ts in zip(pools, types, strict=True)]
    is_open = open_intervals(scenario, interval)
    check_rules_coverable(scenario, rules, types, is_open)
    log: list[str] = []

    def say(msg: str) -> None:
        log.append(msg)
        if on_progress:
            on_progress(msg)

    staffing = find_staffing(
        scenario, executor, interval_s=interval, confidence=confidence, on_progress=on_progress, progress=progress
    )
    log.extend(staffing.log)
    required = [row[:] for row in staffing.agents]
    n = len(required)
    need = rostered_need(required, rules, scenario, is_open)
    check_coverable(scenario, rules, types, need)

    solve_s = 0.0
    counts: list[list[int]] = []
    for p, pool in enumerate(pools):
        t0 = time.perf_counter()
        x, gap = cheapest_cover([row[p] for row in need], types[p], costs[p])
        counts.append(x)
        dt = time.perf_counter() - t0
        if gap > 0:
            say(
                f"WARNING: cover {pool.name}: not proven optimal within {MIP_NODE_LIMIT} nodes (up to {gap:.1%} "
                f"above the cheapest); the best roster found is used. Fewer shift types solve faster: a coarser "
                "interval or start_every, fewer lengths or narrower break windows"
            )
        solve_s += dt
        hours = paid_hours_of(types[p], x)
        say(
            f"cover {pool.name}: {len(types[p])} shift types x {n} intervals, {hours:g} paid agent-hours "
            f"(need {sum(row[p] for row in need) * interval / HOUR_S:g} on duty), solved in {dt * 1000:.0f} ms"
        )

    cover_hours = sum(paid_hours_of(ts, cs) for ts, cs in zip(types, counts, strict=True))
    checker = _RosterCheck(scenario, types, interval, rules.shrinkage, executor, confidence, progress)
    run = checker.run(counts)
    added = rounds = 0
    first_open = first_open_pools(scenario, is_open)
    while not run.check.met and rounds < MAX_REPAIR_ROUNDS:
        rounds += 1
        more, changed = _repair(run, counts, types, first_open, rules, costs)
        if not changed:
            break
        added += more
        run = checker.run(counts)
        paid_now = sum(paid_hours_of(ts, cs) for ts, cs in zip(types, counts, strict=True))
        say(
            f"roster repair {rounds}: {paid_now - cover_hours:+g} paid agent-hours and {added:+d} rostered "
            f"agent(s) so far, {len(run.check.failing())} (interval, class) pairs below target"
        )
    if not run.check.met:
        say("the roster still misses a target after the repair rounds; the answer is the best found")

    shifts = [
        RosterShift(pool.name, st.start_s, st.length_s, st.breaks, k)
        for pool, ts, cs in zip(pools, types, counts, strict=True)
        for st, k in sorted(zip(ts, cs, strict=True), key=lambda sk: (sk[0].start_s, sk[0].length_s, sk[0].breaks))
        if k > 0
    ]
    cov = [coverage(types[p], counts[p], interval) for p in range(len(pools))]
    pres = [coverage(types[p], run.present[p], interval) for p in range(len(pools))]
    paid = sum(s.paid_hours for s in shifts)
    on_duty = sum(s.duty_hours for s in shifts)
    cost = run.result.summary["cost"]["per_day"]["value"] if rules.costed else None
    return RosterResult(
        scenario=run.scenario,
        rules=rules,
        interval_s=interval,
        pool_names=[p.name for p in pools],
        shifts=shifts,
        required=required,
        need=need,
        coverage=[[cov[p][i] for p in range(len(pools))] for i in range(n)],
        lower_bound_hours=sum(map(sum, need)) * interval / HOUR_S,
        paid_hours=paid,
        agent_hours=on_duty,
        fte=paid * 7 / (rules.weekly_hours / HOUR_S),
        cost_per_day=cost,
        targets_met=run.check.met,
        evaluation=run.result,
        staffing=staffing,
        agents_added=added,
        log=log,
        present_scenario=run.scenario,
        present=[[pres[p][i] for p in range(len(pools))] for i in range(n)],
        repair_rounds=rounds,
        solve_s=solve_s,
        shift_types=sum(map(len, types)),
        cover_hours=cover_hours,
    )


@dataclass(frozen=True)
class _Run:
    """One simulation of a roster's present agents and how it fared."""

    scenario: Scenario  # the present roster, as simulated
    present: list[list[int]]  # [pool][shift type] agents present
    result: SimulationResult
    check: Check


@dataclass(frozen=True)
class _RosterCheck:
    """Simulates the agents present under a roster and judges them as ``staff`` does."""

    scenario: Scenario
    types: list[list[ShiftType]]
    interval_s: float
    shrinkage: float
    executor: Executor
    confidence: float
    progress: Progress | None

    def run(self, counts: list[list[int]]) -> _Run:
        present = [
            present_agents(t, c, self.shrinkage, self.interval_s) for t, c in zip(self.types, counts, strict=True)
        ]
        variant = _with_roster(self.scenario, self.types, counts, present)
        progress = self.progress
        if progress is not None:
            progress.add(variant.replications)
        (result,) = run_scenarios(
            [variant], self.executor, interval_s=self.interval_s, on_done=progress.update if progress else None
        )
        return _Run(variant, present, result, check_targets(result, self.interval_s, self.confidence))


def _repair(
    run: _Run,
    counts: list[list[int]],
    types: list[list[ShiftType]],
    first_open: list[dict[Group, int]],
    rules: RosterRules,
    costs: list[list[float]],
) -> tuple[int, bool]:
    """One round of repair, exact like the cover: each pool with a failing (interval, class) (the
    first pool open then serving the class) is solved again with every interval's rostered
    coverage kept and ``k`` more agents on duty in its failing intervals, the least ``k`` that
    raises the agents present there. The program may then lengthen or move a shift rather than
    add one. Returns (rostered agents added, whether the roster changed); ``counts`` in place."""
    interval, s = rules.interval, rules.shrinkage
    failing = repair_pools(run.check, first_open)
    added, changed = 0, False
    for p in sorted({p for _, p in failing}):
        coverable: np.ndarray = np.any(duty_matrix(types[p], interval), axis=1)
        rows = [i for i, q in failing if q == p and coverable[i]]
        if not rows:
            continue
        cov = coverage(types[p], counts[p], interval)
        before = coverage(types[p], run.present[p], interval)
        x = counts[p]
        for k in range(1, math.ceil(1 / (1 - s)) + 3):
            want = [c + k if i in rows else c for i, c in enumerate(cov)]
            x, gap = cheapest_cover(want, types[p], costs[p], REPAIR_NODE_LIMIT)
            if gap > 0:  # stopped by its limit: never worse than the old roster plus k cheap shifts
                simple = _plus_shifts(counts[p], types[p], costs[p], rows, k, interval)
                if _cost(costs[p], simple) <= _cost(costs[p], x):
                    x = simple
            now = coverage(types[p], present_agents(types[p], x, s, interval), interval)
            if all(now[i] > before[i] for i in rows):
                break
        added += sum(x) - sum(counts[p])
        changed = changed or x != counts[p]
        counts[p][:] = x
    return added, changed


def _cost(costs: Sequence[float], x: Sequence[int]) -> float:
    return float(sum(c * k for c, k in zip(costs, x, strict=True)))


def _plus_shifts(
    x: list[int], types: list[ShiftType], costs: list[float], rows: list[int], k: int, interval_s: float
) -> list[int]:
    """``x`` with ``k`` agents added, for each interval of ``rows``, on the cheapest shift type on
    duty there: a roster that meets the repair's ask without solving anything."""
    out = list(x)
    for i in rows:
        j = min((j for j, st in enumerate(types) if i in st.on_duty(interval_s)), key=lambda j: (costs[j], j))
        out[j] += k
    return out
