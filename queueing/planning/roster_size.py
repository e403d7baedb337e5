"""How big a roster's work is, told before any search: ``validate`` ok means ``roster`` runs.

The roster's rules can be valid one by one and still ask for a search no machine finishes: four
breaks each free over a whole day on a 15-minute grid are tens of millions of placements; three
break rules on the shipped shared pool's 15-minute grid are about 100,000 shift types per pool, and
the exact cover of that ran for 11 minutes without an answer. :func:`roster_problems` estimates, from the
scenario alone and in milliseconds (nothing enumerated, nothing simulated):

- **the cover's size**, per pool: shift types (starts within the hours x lengths x break
  placements, counted as the product of each break's positions: an upper bound, exact when the
  windows do not overlap) x intervals of the day. Measured on the 2-core reference machine
  (HiGHS through scipy, a day's need of 2 to 22 agents): 23,000 cells (30m grid, the baseline's
  rules) 2 s, 166,000 (15m, one break) 4 s, 479,000 (15m, four lengths) 28 s, 2.1 million (15m, two
  breaks) more than 2 minutes. The soft limit is 500,000 cells; the hard one the memory of the
  duty matrix and the solver, about 250 bytes a cell.
- **the rostered agents**, all pools: at least ``max(load, min_agents) / (1 - shrinkage)`` on
  duty in each interval (load: the calls' offered erlangs, less than any staffing that meets a
  target; min_agents of the pools open), over the longest shift's time on duty. Past
  :data:`~queueing.core.limits.SOFT_AGENTS` the roster.yaml written would not pass ``validate``
  without ``--large``.

``--large`` lifts the soft limits, as for ``simulate``; the hard one stays.
"""

from __future__ import annotations

import math

from ..core import limits
from ..core.durations import DAY_S, HOUR_S, format_duration
from ..core.limits import Where, amount, gib
from ..core.scenario import Pool, RosterRules, Scenario
from ..errors import ScenarioError

SOFT_COVER_CELLS = 500_000  # shift types x intervals of one pool: about 30 s of HiGHS on the reference machine
BYTES_PER_COVER_CELL = 250  # the dense duty matrix, the shift types and HiGHS's copy (measured: ~230)
CUT = "a coarser interval or start_every, fewer shift_lengths or narrower break windows"


def placements_bound(rules: RosterRules, length_s: float) -> int:
    """Placements of the break rules in a shift of ``length_s``: the product of each rule's
    starting positions on the grid (an upper bound: overlapping placements are dropped later)."""
    step = rules.interval
    count = 1
    for rule in rules.breaks:
        k0, k1 = round(rule.earliest / step), round(rule.latest / step)
        last = min(k1, math.floor((length_s - rule.length) / step + 1e-9))
        count *= max(0, last - k0 + 1)
    return count


def shift_type_count(rules: RosterRules, pool: Pool) -> int:
    """Shift types the pool's cover would have (at most): starts within its hours x lengths x
    break placements, counted without building them."""
    starts = [k * rules.start_every for k in range(round(DAY_S / rules.start_every))]
    total = 0
    for length in rules.shift_lengths or []:
        fits = sum(1 for s in starts if pool.hours is None or pool.hours.contains(s, s + length))
        total += fits * placements_bound(rules, length)
    return total


def rostered_agents(scenario: Scenario, rules: RosterRules) -> float:
    """A lower bound on the agents a roster of these rules has in all pools: in each interval of
    day 0, the larger of the calls' offered load (erlangs, classes some open pool serves; surges
    left out) and the pools' ``min_agents`` (those open), over ``1 - shrinkage``, on duty over
    the longest time on duty a shift gives (its length less its breaks). Pure Python: validate
    pays microseconds for it, not the import of the planners."""
    step = rules.interval
    longest = max(rules.shift_lengths or [DAY_S]) - sum(b.length for b in rules.breaks)
    pools = scenario.staffing.pools
    rates = {c: scenario.hourly_rates_on(c, 0) for c in scenario.classes}
    handles = {c: cc.mean_handle_s() for c, cc in scenario.classes.items()}
    on_duty = 0.0
    for i in range(round(DAY_S / step)):
        t = i * step
        opened = [pool for pool in pools if pool.is_open(t)]
        served = {c for pool in opened for c in pool.serves}
        load = sum(rates[c][int(t // HOUR_S)] * handles[c] / HOUR_S for c in served)
        floors = sum(rules.min_agents(pool.name) for pool in opened)
        on_duty += max(load, floors)
    return on_duty / (1.0 - rules.shrinkage) * step / max(longest, step)


def roster_problems(scenario: Scenario, where: Where, *, large: bool = False) -> list[str]:
    """Every reason not to start ``roster`` on this scenario for its size, one message each
    (empty: go ahead; also empty without roster rules, which ``roster`` refuses on its own)."""
    rules = scenario.roster
    if rules is None or not rules.shift_lengths:
        return []
    problems: list[str] = []
    intervals = round(DAY_S / rules.interval)
    memory = limits.physical_memory() * limits.MEMORY_SHARE
    for pool in scenario.staffing.pools:
        types = shift_type_count(rules, pool)
        cells = types * intervals
        what = (
            f"up to {amount(types)} shift types (starts x lengths x break placements) x {intervals} intervals "
            f"({format_duration(rules.interval)}) for pool {pool.name!r}"
        )
        if cells * BYTES_PER_COVER_CELL > memory:
            problems.append(
                f"{where(('roster',))}: {what}: needs about {gib(cells * BYTES_PER_COVER_CELL)} of memory, this "
                f"machine has {gib(limits.physical_memory())}; cut it with {CUT}"
            )
        elif not large and cells > SOFT_COVER_CELLS:
            problems.append(
                f"{where(('roster',))}: {what}; at most {amount(SOFT_COVER_CELLS)} cells without --large "
                f"(minutes of search past it); cut it with {CUT}"
            )
    if not problems and not large:
        agents = rostered_agents(scenario, rules)
        if agents > limits.SOFT_AGENTS:
            path = ("roster", "pools") if rules.pools else ("roster",)  # a key the file has
            problems.append(
                f"{where(path)}: at least {amount(agents)} rostered agents (the calls' load and "
                f"min_agents, after shrinkage {rules.shrinkage:g}); at most {amount(limits.SOFT_AGENTS)} without "
                "--large (what validate accepts in the roster it writes)"
            )
    return problems


def check_roster_size(scenario: Scenario, where: Where, *, large: bool = False) -> None:
    """Raise ScenarioError listing every problem of :func:`roster_problems`."""
    problems = roster_problems(scenario, where, large=large)
    if problems:
        raise ScenarioError("\n".join(problems))
