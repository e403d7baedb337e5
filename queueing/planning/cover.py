"""The integer programs of a roster, one pool at a time on the day's interval grid: the shift
types a pool may roster, the cheapest cover of a need, and where absences fall.

- **Shift types** (:func:`shift_types`): every start on the ``start_every`` grid (within the
  pool's hours; a 24-hour pool's shifts wrap midnight) x every allowed length x every placement
  of the breaks on the interval grid within their windows. :func:`duty_matrix` is the one
  coverage rule: a shift type counts in an interval when it is on duty there, not on a break.
- **Cover** (:func:`cheapest_cover`): ``min sum(cost_j x_j) s.t. sum_j a_ij x_j >= need_i,
  x_j >= 0 integer`` (``a`` the duty matrix), solved by HiGHS through ``scipy.optimize.milp``
  with a zero gap: the cheapest roster there is for the need. Pools are independent programs (an
  agent belongs to one pool), so a pool's rate only scales its objective (:func:`shift_costs`).
- **Absences** (:func:`present_agents`): shrinkage is a share of the rostered agents absent on
  the day, and nobody chooses who: ``round(rostered x shrinkage)`` agents are away, placed so
  that each interval loses as close to its share as it can (a small integer program minimizing
  the largest excess over the intervals). Simpler placements judged arbitrary days: largest
  remainder put every absence on the evening shifts, and one agent in every 1/s by shift start
  could take two agents of one interval (3 present where 4 were required, 5 rostered), so a
  repair chased absences that moved with every change.

:mod:`.roster` builds a roster from these and checks it by simulation.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.durations import DAY_S, HOUR_S, format_duration
from ..core.rounding import apportion
from ..core.scenario import Pool, RosterRules
from ..errors import ScenarioError
from .staff import intervals_per_day

# The searches stop after a number of branch-and-bound nodes, never after a time, so one scenario
# gives one roster on any machine, loaded or not (same file, same bytes): no program is given a
# time_limit. A search the node limit stops keeps the best roster found and says how far it may be
# from the cheapest (its gap).
MIP_NODE_LIMIT = 5_000
DIVE_NODE_LIMIT = 50  # the search after a rounding: only the columns left free (breaks, and more lines)
EPS = 1e-9  # slack for rounding: shares of agents, multiples of the grid


def mip_options(node_limit: int, gap: float = 0.0) -> dict[str, object]:
    """HiGHS options of every integer program here: work limits only (branch-and-bound nodes, the
    relative gap at which a search may stop), so its answer depends on the input alone."""
    return {"mip_rel_gap": gap, "node_limit": node_limit, "presolve": True}


def run_milp(**program: Any) -> Any:
    """``scipy.optimize.milp(**program)``; when HiGHS's presolve fails on it ("Solve error", seen
    on a small absence program), the same program once more without presolve: deterministic."""
    from scipy.optimize import milp

    res = milp(**program)
    if res.status == 4 and res.x is None:
        options = {**(program.get("options") or {}), "presolve": False}
        res = milp(**{**program, "options": options})
    return res


@dataclass(frozen=True)
class Solved:
    """An integer program's answer: agents per column, and its relative gap to the best bound
    HiGHS proved (0: optimal; more when the node limit stopped the search, whose answer is then
    the best found)."""

    x: list[int]
    gap: float


@dataclass(frozen=True)
class ShiftType:
    """One kind of shift a pool may roster: start (time of day), paid length and break placement."""

    start_s: float
    length_s: float
    breaks: tuple[tuple[float, float], ...]  # (offset from the start, length), s, in time order

    def on_duty(self, interval_s: float) -> list[int]:
        """The intervals of the day (indexes, wrapping midnight) in which the shift is on duty and
        not on a break. Start, length and breaks are on the interval grid."""
        n = intervals_per_day(interval_s)
        return [k % n for k in self.steps(interval_s)]

    def steps(self, interval_s: float) -> list[int]:
        """The intervals counted from 00:00 of the day the shift starts (past the day's last for
        the next morning) in which it is on duty and not on a break."""
        first = round(self.start_s / interval_s)
        off = {
            round((a + k * interval_s) / interval_s)
            for a, length in self.breaks
            for k in range(round(length / interval_s))
        }
        return [first + k for k in range(round(self.length_s / interval_s)) if k not in off]

    @property
    def break_s(self) -> float:
        return sum(length for _, length in self.breaks)


def duty_matrix(types: Sequence[ShiftType], interval_s: float) -> np.ndarray:
    """[interval, shift type] 1 where a shift of that type is on duty (not on a break): the one
    coverage rule of the cover, the absences and every count of agents on duty."""
    a = np.zeros((intervals_per_day(interval_s), len(types)))
    for j, st in enumerate(types):
        a[st.on_duty(interval_s), j] = 1.0
    return a


def break_placements(rules: RosterRules, length_s: float) -> list[tuple[tuple[float, float], ...]]:
    """Every placement of the break rules on the interval grid within their windows and the shift,
    without overlaps, each in time order (duplicates, from rules alike, once)."""
    step = rules.interval
    choices = []
    for rule in rules.breaks:
        k0, k1 = round(rule.earliest / step), round(rule.latest / step)
        choices.append([(k * step, rule.length) for k in range(k0, k1 + 1) if k * step + rule.length <= length_s])
    out: set[tuple[tuple[float, float], ...]] = set()
    for combo in itertools.product(*choices):
        spans = sorted(combo)
        if all(a + la <= b for (a, la), (b, _) in itertools.pairwise(spans)):
            out.add(tuple(spans))
    return sorted(out)


def shift_types(rules: RosterRules, pool: Pool) -> list[ShiftType]:
    """Every shift type the pool may roster: start x length x break placement, within its hours."""
    starts = [k * rules.start_every for k in range(round(DAY_S / rules.start_every))]
    out: list[ShiftType] = []
    for length in sorted(rules.shift_lengths or []):
        placements = break_placements(rules, length)
        if not placements:
            raise ScenarioError(
                f"roster.breaks: the breaks cannot all be placed in a {format_duration(length)} shift without "
                "overlapping (widen their windows, or drop one)"
            )
        for start in starts:
            if pool.hours is not None and not pool.hours.contains(start, start + length):
                continue
            out.extend(ShiftType(start, length, b) for b in placements)
    return out


def solve_cover(need: Sequence[int], shift_types: Sequence[ShiftType], costs: Sequence[float]) -> list[int]:
    """The cheapest agents per shift type whose on-duty count reaches ``need[i]`` in every interval
    (``len(need)`` intervals a day): an exact integer program (HiGHS, zero gap).

    Raises ScenarioError when an interval with a need is covered by no shift type."""
    return cheapest_cover(need, shift_types, costs)[0]


def cheapest_cover(
    need: Sequence[int],
    shift_types: Sequence[ShiftType],
    costs: Sequence[float],
    node_limit: int = MIP_NODE_LIMIT,
) -> tuple[list[int], float]:
    """solve_cover's answer and its relative gap to the best bound HiGHS proved: 0 when it is
    optimal, more when the node limit stopped the search (the answer is then the best found)."""
    n = len(need)
    if not any(need):
        return [0] * len(shift_types), 0.0
    interval_s = DAY_S / n
    a = duty_matrix(shift_types, interval_s)
    uncovered = [i for i in range(n) if need[i] > 0 and not a[i].any()]
    if uncovered:
        raise ScenarioError(f"no allowed shift is on duty at {format_duration(uncovered[0] * interval_s)}")
    solved = solve_program(a, need, costs, node_limit=node_limit)
    return solved.x, solved.gap


def solve_program(
    a: Any,
    need: Sequence[int],
    costs: Sequence[float],
    *,
    groups: Sequence[int] | None = None,
    max_groups: int | None = None,
    equal: Any = None,
    lower: Any = None,
    node_limit: int = MIP_NODE_LIMIT,
) -> Solved:
    """``min sum(cost_j x_j) s.t. sum_j a_ij x_j >= need_i, x_j >= 0 integer`` (``a`` dense or
    sparse, [row, column]) by HiGHS with a zero gap and ``node_limit`` nodes. With ``groups`` (a
    group per column, e.g. its start time) and ``max_groups``, columns of at most that many groups
    are used: a binary ``y_g`` per group, ``sum_{j in g} x_j <= M_g y_g`` and ``sum y_g <=
    max_groups``, where ``M_g``, the need summed over the rows group g covers, bounds the columns
    of g in any cheapest answer (each of its columns is needed in some row covered exactly). With
    ``equal`` (sparse, [row, column]), also ``equal @ x == 0``.

    Raises ScenarioError when the limit stops the search before any answer."""
    from scipy import sparse
    from scipy.optimize import Bounds, LinearConstraint

    a = sparse.csr_array(a)
    rows = [i for i, k in enumerate(need) if k > 0]
    m = a.shape[1]
    cover = a[rows]
    want = np.asarray([need[i] for i in rows], dtype=float)
    c = np.asarray(costs, dtype=float)
    constraints = [LinearConstraint(cover, lb=want, ub=np.inf)]
    if equal is not None:  # rows of ``equal @ x == 0``: links between columns (week lines and their breaks)
        constraints.append(LinearConstraint(equal, lb=0.0, ub=0.0))
    integrality = np.ones(m)
    lower = np.zeros(m) if lower is None else np.asarray(lower, dtype=float)  # lower bounds of the columns
    upper = np.full(m, np.inf)
    limited = groups is not None and max_groups is not None and len(set(groups)) > max_groups
    if limited:
        assert groups is not None and max_groups is not None
        names = sorted(set(groups))
        k = len(names)
        member = sparse.csr_array((np.ones(m), ([names.index(g) for g in groups], np.arange(m))), shape=(k, m))
        reach = (member @ (cover.T != 0).astype(float)) > 0  # [group, row] some column of g covers the row
        big = np.maximum(reach.astype(float) @ want, 1.0)
        constraints = [
            LinearConstraint(sparse.hstack([cover, sparse.csr_array((len(rows), k))]), lb=want, ub=np.inf),
            LinearConstraint(sparse.hstack([member, sparse.diags_array(-big)]), lb=-np.inf, ub=0.0),
            LinearConstraint(np.r_[np.zeros(m), np.ones(k)][None, :], lb=0.0, ub=float(max_groups)),
        ]
        if equal is not None:
            constraints.append(
                LinearConstraint(sparse.hstack([equal, sparse.csr_array((equal.shape[0], k))]), lb=0.0, ub=0.0)
            )
        c = np.r_[c, np.zeros(k)]
        integrality = np.r_[integrality, np.ones(k)]
        lower, upper = np.r_[lower, np.zeros(k)], np.r_[upper, np.ones(k)]
    res = run_milp(
        c=c,
        constraints=constraints,
        integrality=integrality,
        bounds=Bounds(lower, upper),
        options=mip_options(node_limit),
    )
    if res.status == 2 and limited:
        raise ScenarioError(
            f"roster: no roster with at most {max_groups} shift start times covers every interval "
            "(raise max_start_times, or allow more shift lengths)"
        )
    if res.x is None:
        raise ScenarioError(
            f"the roster's integer program found no roster in {node_limit} nodes of search ({res.message})"
        )
    gap = 0.0 if res.status == 0 else float(getattr(res, "mip_gap", math.inf))
    return Solved([round(v) for v in res.x[:m]], gap)


def dive_program(
    a: Any, need: Sequence[int], costs: Sequence[float], equal: Any, dive: int, threshold: float = 0.5
) -> Solved:
    """A rounding of the linear relaxation of :func:`solve_program`'s program (with ``equal``):
    solve it, raise the lower bound of each of the first ``dive`` columns to its value rounded
    down, and to its value rounded up where the fraction is at least ``threshold`` (else the one
    largest fraction), until those columns are whole; then the program with those lower bounds.
    Deterministic (linear programs and a small final search); its gap is to the relaxation's
    optimum, a lower bound of the cheapest."""
    from scipy import sparse
    from scipy.optimize import Bounds, LinearConstraint

    a = sparse.csr_array(a)
    rows = [i for i, k in enumerate(need) if k > 0]
    want = np.asarray([need[i] for i in rows], dtype=float)
    c = np.asarray(costs, dtype=float)
    constraints = [LinearConstraint(a[rows], lb=want, ub=np.inf), LinearConstraint(equal, lb=0.0, ub=0.0)]
    lower = np.zeros(len(c))
    bound = None
    while True:
        res = run_milp(c=c, constraints=constraints, bounds=Bounds(lower, np.inf))
        if res.x is None:
            raise ScenarioError(f"the roster's linear program has no answer ({res.message})")
        bound = res.fun if bound is None else bound
        x = res.x[:dive]
        whole = np.floor(x + EPS)
        lower[:dive] = np.maximum(lower[:dive], whole)
        frac = x - whole
        if np.all(frac < 1e-6):
            break
        pick = np.flatnonzero(frac >= threshold)
        if not len(pick):
            pick = np.asarray([int(np.argmax(frac))])
        lower[pick] = np.ceil(x[pick] - EPS)
    solved = solve_program(a, need, costs, equal=equal, lower=lower, node_limit=DIVE_NODE_LIMIT)
    cost = float(c @ np.asarray(solved.x, dtype=float))
    return Solved(solved.x, max(0.0, 1 - bound / cost) if cost > 0 else 0.0)


def present_agents(types: list[ShiftType], x: list[int], shrinkage: float, interval_s: float) -> list[int]:
    """Agents present per shift type when ``round(total x shrinkage)`` of the pool's rostered agents
    are away, placed so that every interval loses as close to its share as it can: the absences
    minimize the largest excess, over the intervals, of agents away on duty there over
    ``shrinkage`` x the rostered on duty there (a small integer program). Nobody chooses who is
    away: this is the day on which absence falls as evenly as it can, neither the luckiest nor
    the worst. With a need of ``required / (1 - shrinkage)``, every interval keeps its required
    agents unless the excess reaches a whole agent."""
    from scipy.optimize import Bounds, LinearConstraint

    away = math.floor(sum(x) * shrinkage + 0.5 + EPS)
    if away == 0:
        return list(x)
    used = [j for j, k in enumerate(x) if k > 0]
    on = duty_matrix([types[j] for j in used], interval_s)
    cov = on @ np.asarray([x[j] for j in used], dtype=float)
    rows = on[cov > 0]
    # variables: agents away per used shift type, then the largest excess t (continuous, free)
    m = len(used)
    res = run_milp(
        c=np.r_[np.zeros(m), 1.0],
        constraints=[
            LinearConstraint(np.c_[rows, -np.ones(len(rows))], ub=shrinkage * cov[cov > 0]),
            LinearConstraint(np.r_[np.ones(m), 0.0][None, :], lb=away, ub=away),
        ],
        integrality=np.r_[np.ones(m), 0.0],
        bounds=Bounds(np.r_[np.zeros(m), -np.inf], np.r_[[x[j] for j in used], np.inf]),
        options=mip_options(MIP_NODE_LIMIT),
    )
    out = list(x)
    if res.x is None:  # no answer within the node limit: absence in proportion to each shift's agents
        taken = apportion([x[j] * away / sum(x) for j in used], away)
        for col, j in enumerate(used):
            out[j] -= taken[col]
        return out
    for col, j in enumerate(used):
        out[j] -= round(res.x[col])
    return out


def coverage(types: list[ShiftType], x: list[int], interval_s: float) -> list[int]:
    """Agents on duty (not on a break) in each interval of the day, ``x[j]`` on shift type j."""
    return [round(v) for v in duty_matrix(types, interval_s) @ np.asarray(x, dtype=float)]


def shift_costs(rules: RosterRules, pool: Pool, types: list[ShiftType]) -> list[float]:
    """The objective of the pool's cover: each shift type's paid hours at the pool's rate (or the
    paid hours alone without rates)."""
    rate = rules.rate_per_hour(pool.name)
    return [st.length_s / HOUR_S * (rate if rate > 0 else 1.0) for st in types]


def paid_hours_of(types: list[ShiftType], x: list[int]) -> float:
    """Paid agent-hours a day of ``x[j]`` agents on shift type j (breaks included)."""
    return sum(k * st.length_s for st, k in zip(types, x, strict=True)) / HOUR_S
