"""Weekly lines: an agent's week as one shift type (start, length, breaks) worked on a set of days,
and the integer program that covers a week's need with them.

- **Day patterns** (:func:`day_patterns`): the sets of ``shifts`` days of the week a line of a
  ``shifts_per_week`` kind works, leaving at least ``days_off.count`` days off and, with
  ``consecutive``, that many in a row (the week repeats: Sunday and Monday are in a row).
- **Line types** (:func:`line_types`): a pool's shift types (:func:`.cover.shift_types`) of each
  kind's length x that kind's day patterns, the kinds whose weekly paid hours lie within
  ``line_hours``. Days are simulation days 0-6 (day 0 is the scenario's first weekday).
- **Week cover** (:func:`week_cover`): the cheapest lines whose agents on duty reach the need in
  every interval of the week (``7 x intervals a day`` rows; a night shift counts in the next
  morning, Sunday's night in Monday's: the week repeats), with at most ``max_start_times``
  start times in the pool (binary selection variables, :func:`.cover.solve_program`).
- **Present** (:func:`present_by_day`): each day, ``round(working x shrinkage)`` of the agents
  working are away, placed as :func:`.cover.present_agents` places a day's absences.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.calendar import WEEKDAYS, Weekday, weekday_index, weekday_of_day
from ..core.durations import DAY_S, HOUR_S
from ..core.scenario import DaysOff, Pool, RosterRules
from .cover import (
    ShiftType,
    Solved,
    break_placements,
    dive_program,
    duty_matrix,
    present_agents,
    run_milp,
    shift_types,
    solve_program,
)
from .staff import intervals_per_day

DAYS = 7
# Work limits of the programs (branch-and-bound nodes), so a week's lines depend on the file alone:
# the week program is large (every start x length x day pattern, and each day's break placements),
# so it stops sooner than a day's cover and says its gap.
WEEK_NODE_LIMIT = 100
START_NODE_LIMIT = 300
# The start times' local search (:func:`refine_starts`): a start moves at most 3 hours at a time
# (farther moves found no cheaper week on the week's scenario, at four times the linear programs),
# in at most this many passes over the starts (a bound on its work; it stops sooner when no move helps).
START_MOVE_S = 3 * HOUR_S
START_PASSES = 10


@dataclass(frozen=True)
class LineType:
    """One kind of weekly line: a shift of ``length_s`` from ``start_s`` (time of day) worked on
    ``days`` (simulation days 0-6); where its break falls each day is the program's other choice."""

    start_s: float
    length_s: float
    days: tuple[int, ...]

    @property
    def paid_s(self) -> float:
        """Paid time a week, breaks included, s."""
        return self.length_s * len(self.days)

    def weekdays(self, first: Weekday) -> list[Weekday]:
        """The weekdays the line works when day 0 is ``first``."""
        return [weekday_of_day(first, d) for d in self.days]


@dataclass(frozen=True)
class WeekCover:
    """The week program's answer for one pool: lines per line type; per (start, length) group,
    day and break placement, the agents of those lines taking that placement that day; and the
    program's gap (0: proven cheapest)."""

    lines: list[LineType]
    x: list[int]
    breaks: dict[tuple[float, float, int], dict[tuple[tuple[float, float], ...], int]]
    gap: float

    def shifts_by_day(self) -> list[list[tuple[ShiftType, int]]]:
        """[day] -> (shift type, agents) working that day, breaks placed."""
        out: list[list[tuple[ShiftType, int]]] = [[] for _ in range(DAYS)]
        for (start, length, d), placed in sorted(self.breaks.items()):
            for b, k in sorted(placed.items()):
                if k:
                    out[d].append((ShiftType(start, length, b), k))
        return out


def day_patterns(shifts: int, days_off: DaysOff | None) -> list[tuple[int, ...]]:
    """Every set of ``shifts`` days of the 7 (ascending) that leaves the days off ``days_off``
    asks for."""
    out = []
    for days in itertools.combinations(range(DAYS), shifts):
        off = [d for d in range(DAYS) if d not in days]
        if days_off is not None:
            if len(off) < days_off.count:
                continue
            if days_off.consecutive and days_off.count > 1 and not _has_run(off, days_off.count):
                continue
        out.append(days)
    return out


def _has_run(off: Sequence[int], count: int) -> bool:
    """Whether ``count`` of the days ``off`` follow each other (Sunday then Monday included)."""
    return any(all((d + k) % DAYS in off for k in range(count)) for d in off)


def line_types(rules: RosterRules, pool: Pool, starts: Sequence[float] | None = None) -> list[LineType]:
    """Every line type the pool may roster: for each ``shifts_per_week`` kind within
    ``line_hours``, the starts of its length's shift types (only ``starts`` when given) x its day
    patterns."""
    groups = sorted({(st.start_s, st.length_s) for st in shift_types(rules, pool)})
    bounds = rules.line_hours
    out: list[LineType] = []
    for kind in rules.shifts_per_week or []:
        hours = kind.shifts * kind.length
        if bounds is not None and not bounds.min <= hours <= (bounds.max if bounds.max is not None else np.inf):
            continue
        patterns = day_patterns(kind.shifts, rules.days_off)
        out.extend(
            LineType(start, length, days)
            for start, length in groups
            if length == kind.length and (starts is None or start in starts)
            for days in patterns
        )
    return out


def line_costs(rules: RosterRules, pool: Pool, lines: Sequence[LineType]) -> list[float]:
    """Each line type's paid hours a week at the pool's rate (or the paid hours without rates)."""
    rate = rules.rate_per_hour(pool.name)
    return [line.paid_s / HOUR_S * (rate if rate > 0 else 1.0) for line in lines]


def choose_starts(
    rules: RosterRules, pool: Pool, need: Sequence[int], interval_s: float, limit: int | None
) -> list[float] | None:
    """The start times a pool's lines may use: all (None) without a limit or when the pool has no
    more; else those of the cheapest day roster, with at most ``limit`` start times, covering
    every interval's largest need over the week's days (a day program with one binary per start
    time, :func:`.cover.solve_program`): a week's lines start when its busiest days need them."""
    types = shift_types(rules, pool)
    starts = sorted({st.start_s for st in types})
    if limit is None or len(starts) <= limit:
        return None
    n = intervals_per_day(interval_s)
    peak = [max(need[d * n + i] for d in range(DAYS)) for i in range(n)]
    if not any(peak):
        return starts[:limit]
    rate = rules.rate_per_hour(pool.name)
    costs = [st.length_s / HOUR_S * (rate if rate > 0 else 1.0) for st in types]
    solved = solve_program(
        duty_matrix(types, interval_s), peak, costs, groups=[round(st.start_s) for st in types], max_groups=limit,
        node_limit=START_NODE_LIMIT,
    )  # fmt: skip
    chosen = sorted({st.start_s for st, k in zip(types, solved.x, strict=True) if k})
    return refine_starts(rules, pool, need, chosen, starts)


def refine_starts(
    rules: RosterRules, pool: Pool, need: Sequence[int], chosen: Sequence[float], allowed: Sequence[float]
) -> list[float]:
    """``chosen`` start times moved one at a time, by at most ``START_MOVE_S`` to another of
    ``allowed``, while a move lowers the week's linear relaxation (the lines' cost with those
    starts, :func:`week_relaxation`): the day program judges starts on the peak of every
    interval over the week, which prices none of the days' differences nor the lines' days off,
    and the week's integer answer follows its relaxation. First improvement in a fixed order
    (each start in turn, nearer moves first, earlier of equals): the same need, the same starts."""
    best = week_relaxation(rules, pool, need, chosen)
    out = sorted(chosen)
    for _ in range(START_PASSES):
        moved = False
        for i in range(len(out)):
            near = sorted(
                (s for s in allowed if s not in out and 0 < _apart(s, out[i]) <= START_MOVE_S),
                key=lambda s: (_apart(s, out[i]), s),
            )
            for s in near:
                trial = sorted([*out[:i], s, *out[i + 1 :]])
                cost = week_relaxation(rules, pool, need, trial)
                if cost < best * (1 - 1e-9):
                    best, out, moved = cost, trial, True
                    break
        if not moved:
            break
    return out


def _apart(a: float, b: float) -> float:
    """Seconds between two times of day, the shorter way round midnight."""
    d = abs(a - b) % DAY_S
    return min(d, DAY_S - d)


def week_relaxation(rules: RosterRules, pool: Pool, need: Sequence[int], starts: Sequence[float]) -> float:
    """The linear relaxation's optimum of the week program (:func:`week_cover`) with the lines of
    ``starts``: a lower bound of their lines' cost (inf when they cannot cover the need)."""
    from scipy.optimize import LinearConstraint

    lines = line_types(rules, pool, starts)
    if not lines:
        return np.inf
    a, equal, placed = week_program(rules, lines)
    rows = [i for i, k in enumerate(need) if k > 0]
    c = np.r_[line_costs(rules, pool, lines), np.zeros(len(placed))]
    res = run_milp(
        c=c,
        constraints=[
            LinearConstraint(a[rows], lb=np.asarray([need[i] for i in rows], dtype=float), ub=np.inf),
            LinearConstraint(equal, lb=0.0, ub=0.0),
        ],
    )
    return float(res.fun) if res.x is not None else np.inf


def week_cover(
    rules: RosterRules,
    need: Sequence[int],
    lines: Sequence[LineType],
    costs: Sequence[float],
    node_limit: int = WEEK_NODE_LIMIT,
) -> WeekCover:
    """The cheapest lines covering ``need`` (per interval of the week: day x intervals a day +
    interval), a night shift counting in the next morning and the last day's in day 0's.

    Variables: agents per line type (integer), and per (start, length) group, day and placement
    of the breaks, the agents of that group working that day who take them there (integer), as
    many as the group's lines working that day (an equality). An agent counts in an interval of
    its shift unless its break falls there."""
    a, equal, placed = week_program(rules, lines)
    full = list(costs) + [0.0] * len(placed)
    # The branch-and-bound search finds the cheapest lines of a small week at once, but on a large
    # one it is slow to find good ones: a rounding of the relaxation is then cheaper. The cheaper
    # of the two, each within its work limit; its gap is the smaller one proved.
    searched = solve_program(a, need, full, equal=equal, node_limit=node_limit)
    solved = searched
    if searched.gap > 0:
        rounded = dive_program(a, need, full, equal, dive=len(lines))
        cost = [float(np.dot(full, s.x)) for s in (searched, rounded)]
        low = max(cost[0] * (1 - searched.gap), cost[1] * (1 - rounded.gap))  # the best lower bound proved
        chosen = rounded if cost[1] < cost[0] else searched
        solved = Solved(chosen.x, max(0.0, 1 - low / min(cost)))
    breaks: dict[tuple[float, float, int], dict[tuple[tuple[float, float], ...], int]] = {}
    for (start, length, d, b), k in zip(placed, solved.x[len(lines) :], strict=True):
        breaks.setdefault((start, length, d), {})[b] = k
    return WeekCover(list(lines), solved.x[: len(lines)], breaks, solved.gap)


Placement = tuple[float, float, int, tuple[tuple[float, float], ...]]  # start, length, day, breaks


def week_program(rules: RosterRules, lines: Sequence[LineType]) -> tuple[Any, Any, list[Placement]]:
    """The week program's matrices: coverage [interval of the week, column] (a line's agent +1 in
    each interval of each shift it works; a break placement's agent -1 in its break's intervals),
    the equalities [(start, length) x day, column] (the lines of a group working a day = the
    agents of its placements that day), and each placement column's (start, length, day, breaks)."""
    from scipy import sparse

    interval_s = rules.interval
    n = intervals_per_day(interval_s)
    week = DAYS * n
    groups = sorted({(line.start_s, line.length_s) for line in lines})
    slot = {g: i for i, g in enumerate(groups)}
    rows: list[int] = []
    cols: list[int] = []
    link: list[tuple[int, int, float]] = []
    for j, line in enumerate(lines):
        first = round(line.start_s / interval_s)
        for d in line.days:
            rows.extend((d * n + first + k) % week for k in range(round(line.length_s / interval_s)))
            link.append((slot[(line.start_s, line.length_s)] * DAYS + d, j, 1.0))
        cols.extend([j] * (len(rows) - len(cols)))
    placed: list[Placement] = []
    for start, length in groups:
        first = round(start / interval_s)
        for b in break_placements(rules, length):
            steps = [first + round(a / interval_s) + k for a, span in b for k in range(round(span / interval_s))]
            for d in range(DAYS):
                j = len(lines) + len(placed)
                placed.append((start, length, d, b))
                rows.extend((d * n + k) % week for k in steps)
                cols.extend([j] * len(steps))
                link.append((slot[(start, length)] * DAYS + d, j, -1.0))
    m = len(lines) + len(placed)
    vals = [1.0 if c < len(lines) else -1.0 for c in cols]
    a = sparse.csr_array((vals, (rows, cols)), shape=(week, m))
    equal = sparse.csr_array(
        ([v for _, _, v in link], ([r for r, _, _ in link], [c for _, c, _ in link])), shape=(len(groups) * DAYS, m)
    )
    return a, equal, placed


def working_by_day(cover: WeekCover) -> list[list[tuple[ShiftType, int]]]:
    """[day] -> (shift type, agents) working that day: the cover's shifts with their breaks."""
    return cover.shifts_by_day()


def present_by_day(cover: WeekCover, shrinkage: float, interval_s: float) -> list[list[tuple[ShiftType, int]]]:
    """[day] -> (shift type, agents present): each day, ``round(working x shrinkage)`` of that
    day's agents away, placed as evenly over the day's intervals as they can be."""
    out = []
    for day in cover.shifts_by_day():
        types = [st for st, _ in day]
        present = present_agents(types, [k for _, k in day], shrinkage, interval_s)
        out.append([(st, k) for st, k in zip(types, present, strict=True)])
    return out


def day_coverage(by_day: Sequence[Sequence[tuple[ShiftType, int]]], interval_s: float) -> list[int]:
    """Agents on duty in each interval of the week of ``by_day[d]`` (shift type, agents) on day d."""
    n = intervals_per_day(interval_s)
    out = [0] * (DAYS * n)
    for d, day in enumerate(by_day):
        for st, k in day:
            for step in st.steps(interval_s):
                out[(d * n + step) % (DAYS * n)] += k
    return out


@dataclass(frozen=True)
class RosterLine:
    """One agent's week, as posted: ``number`` (from 1, by pool, start, length, days), the shift
    (start, paid length) worked on ``days`` (weekdays, Monday first) and, per day worked, where its
    breaks fall (offsets from the shift's start, lengths; s)."""

    number: int
    pool: str
    start_s: float
    length_s: float
    days: tuple[Weekday, ...]
    breaks: tuple[tuple[tuple[float, float], ...], ...]  # per day of ``days``

    @property
    def paid_hours(self) -> float:
        """Paid hours a week, breaks included."""
        return self.length_s * len(self.days) / HOUR_S

    @property
    def off(self) -> tuple[Weekday, ...]:
        """The weekdays off, Monday first."""
        return tuple(d for d in WEEKDAYS if d not in self.days)


def numbered_lines(pool: str, cover: WeekCover, first: Weekday, start_number: int) -> list[RosterLine]:
    """The cover's lines one per agent, numbered from ``start_number``, by start, length and
    days. Each day, the agents of a (start, length) working then take that day's break
    placements; a line takes, of the placements still left, the one left on most of its days
    (the earliest of equals) and keeps it on those days, so most lines keep one break time."""
    agents = sorted(
        (line for line, k in zip(cover.lines, cover.x, strict=True) for _ in range(k)),
        key=lambda line: (line.start_s, line.length_s, sorted(weekday_index(d) for d in line.weekdays(first))),
    )
    left = {key: dict(placed) for key, placed in cover.breaks.items()}
    out = []
    for k, line in enumerate(agents):
        mine = [left.get((line.start_s, line.length_s, d), {}) for d in line.days]
        options = sorted({b for day in mine for b, n in day.items() if n > 0})
        usual = max(options, key=lambda b: (sum(day.get(b, 0) > 0 for day in mine), [-x for x, _ in b]), default=())
        per_day: dict[Weekday, tuple[tuple[float, float], ...]] = {}
        for d, day in zip(line.days, mine, strict=True):
            b = usual if day.get(usual, 0) > 0 else min((b for b, n in day.items() if n > 0), default=())
            if b in day:
                day[b] -= 1
            per_day[weekday_of_day(first, d)] = b
        days = tuple(d for d in WEEKDAYS if d in per_day)
        out.append(
            RosterLine(start_number + k, pool, line.start_s, line.length_s, days, tuple(per_day[d] for d in days))
        )
    return out
