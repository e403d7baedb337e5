"""How many agents each interval needs: Erlang first, then the simulated day.

``find_staffing`` answers "the fewest agents per interval and pool such that every service-level
target is met in every window it is measured over" (its ``over``: every interval of the grid by
default, every hour, each day's busy hour, each day, each week; :mod:`queueing.core.targets`), in
two steps:

1. **Erlang**, interval by interval (reported beside the answer): the offered load of each
   class in the interval (expected arrivals x mean handle time; a class served by several pools
   is split evenly between them),
   and the smallest head-count whose stationary service level meets every target: Erlang C (or
   Erlang A with patience) for a pool serving one class, the non-preemptive priority M/M/c
   formulas for a shared pool. This ignores what the simulation does not: queues carried over
   from a busy interval, time-varying rates within the interval, non-exponential handle times,
   and a caller's wait crossing an interval boundary.
2. **Simulation**, the real non-stationary day with priorities, abandonment and carry-over:
   start from the offered load rounded up (the least that keeps up on average), add an agent
   wherever a target fails (repair), then try removing one agent from every (interval, pool)
   at once, as a batch of independent simulations, and keep the removals that still meet
   every target (trim), until nothing more can go. Later trim rounds retry only the removals
   that passed and were not made (with fewer agents elsewhere, one that failed still fails).

Targets over a window wider than an interval (an hour of a finer grid, a busy hour, a day, a week)
let one interval fall short when others make up for it, so the search changes in three ways:

- every interval keeps the head-count it starts from, the offered load rounded up: a day's
  target must not buy a night with one agent less than keeps up with the calls;
- the repair adds an agent, for a failing window, to its intervals with the most calls short of
  the target (target share x offered - answered within, per replication), as many as make up
  the window's shortfall at the lower bound (:meth:`Check.failing`); for one-interval windows
  that is the failing interval, as before;
- the trim keeps, of the removals that pass alone, the smallest losses first (the drop of each
  window's lower bound) as long as they fit together within each window's slack, since removals
  that pass alone may fail together when they eat the same day's margin; the batch is then
  simulated together and halved until it passes, as before.

Languages: a class's targets apply to each of its languages (:func:`check_targets` judges them
over each language's callers too), so no language's callers are left to a pool that never comes.
The Erlang start gives each language's share of a class's calls to the open pools serving the
class that speak it (:func:`takers`), and the repair adds an agent for a failing language to the
first of them, those speaking the fewest languages first. A language no open pool serving the
class speaks (and no interpreter) is a one-line error (:func:`unserved_languages`).

Opening hours: a pool has 0 agents in every interval it is closed (open at no time in it).
A class served by several pools is split evenly between those open in the interval; where no
pool serving it is open, its calls are closed (not offered, so not judged against the targets).
Repair adds a failing class's agent to the first pool serving it that is open then. The shifts
of the answer lie within each pool's hours (cut to them in an interval the pool is open in part of).

A target "is met" in a window when the one-sided lower confidence bound (``confidence``,
Student t over replications) of the share answered within the threshold, among callers
arriving in that window (an interval of the day, pooled over the run's days, by default), reaches
the target share.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, Unpack

import numpy as np

from ..core.arrivals import rate_segments
from ..core.cost import agent_hours_per_day
from ..core.durations import DAY_S, HOUR_S, format_clock, format_duration, intervals_in
from ..core.runner import Executor, SimulationResult, Table, run_scenarios
from ..core.scenario import Hours, Scenario, Target
from ..core.scenario_file import validate_data
from ..core.targets import Judged, judge
from ..errors import ScenarioError
from ..theory.steady_state import stationary_pool
from .running import RunOn, executor_of, overridden

MAX_AGENTS = 2000
Staffing = list[list[int]]  # [interval][pool] -> agents
STAFFING_CSV_COLUMNS = ["interval", "start_s", "end_s", "pool", "agents", "erlang_agents"]


@dataclass
class StaffingResult:
    """The staffing found, its Erlang starting point, and how it was found."""

    scenario: Scenario  # the input scenario with the staffing found, as shifts
    interval_s: float
    agents: Staffing
    erlang_agents: Staffing
    targets_met: bool
    simulations: int
    calls_simulated: int
    evaluation: SimulationResult
    log: list[str] = field(default_factory=list)
    check: Check | None = None  # how the staffing found fares, window by window, at the search's confidence

    @property
    def pool_names(self) -> list[str]:
        return [p.name for p in self.scenario.staffing.pools]

    def agent_hours(self, staffing: Staffing | None = None, pool: int | None = None) -> float:
        """Agent-hours on duty per day of a staffing (default: the one found), or of one pool: what
        its shifts schedule (``with_staffing``: a pool closing inside an interval is counted to its
        closing, not to the interval's end), so staffing.yaml simulates the hours printed."""
        table = self.agents if staffing is None else staffing
        staffed = with_staffing(self.scenario, table, self.interval_s).model_copy(update={"warmup": 0.0})
        return agent_hours_per_day(staffed, pool)  # every day whole, the warm-up's too

    @property
    def table(self) -> Table:
        """staffing.csv: per interval and pool, the agents found and the per-interval Erlang answer."""
        pools, n = self.pool_names, self.interval_s

        def rows() -> Iterator[tuple[object, ...]]:
            for i, agents in enumerate(self.agents):
                for p, pool in enumerate(pools):
                    yield (interval_label(i, n), i * n, (i + 1) * n, pool, agents[p], self.erlang_agents[i][p])

        return Table(STAFFING_CSV_COLUMNS, rows)

    def to_pandas(self) -> Any:
        """staffing.csv as a pandas DataFrame (needs the ``analysis`` extra)."""
        return self.table.to_pandas()


def interval_label(i: int, interval_s: float) -> str:
    """Interval ``i`` of the day as staffing.csv names it: ``06:00-12:00``."""
    return f"{format_clock(i * interval_s)}-{format_clock((i + 1) * interval_s)}"


def intervals_per_day(interval_s: float) -> int:
    n = intervals_in(DAY_S, interval_s)
    if n is None:
        raise ScenarioError(f"--interval must divide a day evenly (15m, 30m, 1h, 2h...), got {interval_s:g} s")
    return n


def interval_rates_per_s(scenario: Scenario, interval_s: float) -> dict[str, np.ndarray]:
    """Mean arrival rate (calls/s) of each class in each interval of the day, over the horizon's days."""
    n = intervals_per_day(interval_s)
    out = {}
    for name in scenario.class_names():
        edges, rates = rate_segments(scenario, name)
        calls = np.zeros(n)
        covered = np.zeros(n)
        for a, b, r in zip(edges[:-1], edges[1:], rates, strict=True):
            t = a
            while t < b:  # split the segment at interval boundaries
                k = int((t % DAY_S) // interval_s)
                nxt = min(b, (t // interval_s + 1) * interval_s)
                calls[k] += (nxt - t) * r
                covered[k] += nxt - t
                t = nxt
        out[name] = np.divide(calls, covered, out=np.zeros(n), where=covered > 0)
    return out


@dataclass(frozen=True)
class PoolLoad:
    """What one pool faces in one interval: its classes (highest priority first), their arrival
    rates (calls/s, a class served by several pools split evenly) and mean handle times (s)."""

    names: list[str]
    rates_per_s: list[float]
    handles_s: list[float]

    @property
    def load_erlangs(self) -> float:
        return sum(r * h for r, h in zip(self.rates_per_s, self.handles_s, strict=True))


def open_intervals(scenario: Scenario, interval_s: float) -> list[list[bool]]:
    """[interval][pool] -> whether the pool is open at some time in that interval of the day
    (always, without opening hours)."""
    n = intervals_per_day(interval_s)
    table = []
    for i in range(n):
        a, b = i * interval_s, (i + 1) * interval_s
        table.append(
            [
                pool.hours is None
                or any(max(a, pool.hours.open + d) < min(b, pool.hours.close + d) for d in (-DAY_S, 0.0))
                for pool in scenario.staffing.pools
            ]
        )
    return table


Group = tuple[str, str | None]  # (class, language of its callers): None for all of them


def takers(scenario: Scenario, row: list[bool]) -> dict[Group, list[int]]:
    """Per (class, None) and, for a class with a language mix, per (class, language): the pools
    open in an interval (``row``: [pool] -> open) whose agents take those callers, the first
    choice for an agent added for them first. (class, None): the pools serving the class,
    specialists first (``pools_for``); (class, language): those of them speaking the language,
    the fewest languages first (a bilingual agent is kept for the callers only they can take),
    else, for a class with an ``interpreter``, those speaking the scenario's first language (the
    interpreter line's). A group no open pool takes is missing."""
    languages = scenario.languages()
    out: dict[Group, list[int]] = {}
    for c, cc in scenario.classes.items():
        serving = [p for p in scenario.staffing.pools_for(c) if row[p]]
        if serving:
            out[(c, None)] = serving
        for lang in cc.languages or {}:
            spoken = {p: scenario.staffing.pools[p].languages or languages for p in serving}
            speak = sorted((p for p in serving if lang in spoken[p]), key=lambda p: len(spoken[p]))
            if not speak and cc.interpreter is not None:
                speak = [p for p in serving if languages[0] in spoken[p]]
            if speak:
                out[(c, lang)] = speak
    return out


def first_open_pools(scenario: Scenario, is_open: list[list[bool]]) -> list[dict[Group, int]]:
    """[interval] -> (class, language) -> the pool an agent for a failing call of that class
    (and language: None for all its callers) goes to: the first of :func:`takers` in the
    interval; a group no open pool takes then is missing (a class's calls are closed)."""
    return [{g: pools[0] for g, pools in takers(scenario, row).items()} for row in is_open]


def repair_pools(check: Check, first_open: list[dict[Group, int]]) -> list[tuple[int, int]]:
    """The (interval, pool) pairs an agent is added to for the failing windows of ``check``
    (:meth:`Check.failing`): the first pool open then taking the failing callers. ``first_open``
    is per interval of the day; the check's intervals may run over a week."""
    n = len(first_open)
    return sorted(
        {(i, first_open[i % n][(c, lang)]) for i, c, lang in check.failing() if (c, lang) in first_open[i % n]}
    )


def unserved_languages(scenario: Scenario, interval_s: float) -> None:
    """A one-line error when some class's callers of a language arrive in an interval in which a
    pool serving the class is open but none takes them (none speaks it, and no interpreter): no
    head-count could answer them."""
    rates = interval_rates_per_s(scenario, interval_s)
    for i, row in enumerate(open_intervals(scenario, interval_s)):
        groups = takers(scenario, row)
        for c in scenario.class_names():
            if (c, None) not in groups or rates[c][i] <= 0:
                continue
            for lang in scenario.classes[c].languages or {}:
                if (c, lang) in groups:
                    continue
                if all(row):
                    raise ScenarioError(
                        f"{c}'s callers speaking {lang} cannot be answered: no pool serving {c} speaks {lang} "
                        f"(give one languages: [{lang}], or {c} an interpreter)"
                    )
                raise ScenarioError(
                    f"{c}'s callers speaking {lang} cannot be answered at {interval_label(i, interval_s)}: no pool "
                    f"serving {c} open then speaks {lang} (open one that does, or give {c} an interpreter)"
                )


def pool_loads(scenario: Scenario, interval_s: float) -> list[list[PoolLoad]]:
    """[interval][pool] -> the PoolLoad of that pool in that interval of the day: a class served
    by several pools is split evenly between those open in the interval; a class with a language
    mix, each language's share between the open pools taking its callers (:func:`takers`); a
    closed pool faces nothing, and a class no open pool serves is closed (its calls are not
    offered)."""
    rates = interval_rates_per_s(scenario, interval_s)
    pools = scenario.staffing.pools
    table = []
    for i, is_open in enumerate(open_intervals(scenario, interval_s)):
        groups = takers(scenario, is_open)
        # (class, pool) -> the share of the class's calls the pool faces
        split: dict[tuple[str, int], float] = {}
        for c, cc in scenario.classes.items():
            mix: dict[str | None, float] = {None: 1.0}
            if cc.languages:
                mix = {lang: share for lang, share in cc.languages.items()}
            for lang, share in mix.items():
                for p in groups.get((c, lang), []):
                    split[(c, p)] = split.get((c, p), 0.0) + share / len(groups[(c, lang)])
        row = []
        for p, pool in enumerate(pools):
            names = [c for c in scenario.class_names() if c in pool.serves]
            row.append(
                PoolLoad(
                    names,
                    [rates[c][i] * split.get((c, p), 0.0) for c in names],
                    [scenario.classes[c].mean_handle_s() for c in names],
                )
            )
        table.append(row)
    return table


def erlang_staffing(scenario: Scenario, interval_s: float) -> Staffing:
    """Per interval and pool, the smallest head-count meeting every target by the stationary formulas."""
    return [
        [_erlang_agents(scenario, load.names, load.rates_per_s, load.handles_s) for load in row]
        for row in pool_loads(scenario, interval_s)
    ]


def _erlang_agents(scenario: Scenario, names: list[str], lams: list[float], handles: list[float]) -> int:
    total = sum(lams)
    if total <= 0:
        return 0
    handle = sum(lam * h for lam, h in zip(lams, handles, strict=True)) / total  # load-weighted mean
    shares = [[t.share for t in scenario.targets.get(c, [])] for c in names]
    abandoning = len(names) == 1 and scenario.classes[names[0]].patience is not None
    for c in range(max(1, math.ceil(total * handle)), MAX_AGENTS):
        if c <= total * handle and not abandoning:
            continue  # without hang-ups the queue grows without bound
        levels = stationary_pool(scenario, names, lams, handle, c).service_levels
        if all(sl >= share for ls, ss in zip(levels, shares, strict=True) for sl, share in zip(ls, ss, strict=True)):
            return c
    return MAX_AGENTS


def load_staffing(scenario: Scenario, interval_s: float) -> Staffing:
    """Per interval and pool, the smallest head-count that keeps up with the offered load on
    average (a class served by several pools split evenly): where the simulation search starts."""
    return [
        [math.floor(load.load_erlangs) + 1 if any(load.rates_per_s) else 0 for load in row]
        for row in pool_loads(scenario, interval_s)
    ]


def _local_slack(check: Check, i: int, n: int) -> float:
    """The smallest margin in interval i and the next (where a removal's effect shows)."""
    rows = check.margin[[i, (i + 1) % n]]
    return float(np.min(np.nan_to_num(rows, nan=1.0)))


def _apart(passed: list[tuple[tuple[int, int], Check]], n: int) -> list[tuple[int, int]]:
    """Of the removals that passed alone (most slack first), those no two of which are in the same
    or neighbouring intervals (targets of every interval: a removal shows in its interval and the next)."""
    chosen: list[tuple[int, int]] = []
    for (i, p), _ in passed:
        if all(min(abs(i - j), n - abs(i - j)) > 1 for j, _ in chosen):
            chosen.append((i, p))
    return chosen


def _within_slack(base: Check, passed: list[tuple[tuple[int, int], Check]]) -> list[tuple[int, int]]:
    """Removals that passed alone, the smallest loss first (the drop of every window's lower
    bound, summed), as many as fit together in each window's slack (its margin at ``base``):
    removals that pass alone may fail together when they eat the same day's slack."""
    slack = [np.nan_to_num(m, nan=0.0) for m in base.window_margins()]
    costed = []
    for ip, ch in passed:
        loss = [np.maximum(np.nan_to_num(b - c, nan=0.0), 0.0) for b, c in zip(slack, ch.window_margins(), strict=True)]
        costed.append((sum(float(x.sum()) for x in loss), ip, loss))
    costed.sort(key=lambda c: c[0])
    used = [np.zeros_like(x) for x in slack]
    chosen: list[tuple[int, int]] = []
    for _, ip, loss in costed:
        if all(np.all(u + x <= s + 1e-12) for u, x, s in zip(used, loss, slack, strict=True)):
            used = [u + x for u, x in zip(used, loss, strict=True)]
            chosen.append(ip)
    return chosen


def _within_hours(hours: Hours | None, a: float, b: float) -> list[tuple[float, float]]:
    """The daily span [a, b) (b may pass 24h) cut to the opening hours: the whole span without
    hours, else its parts within them, each as (start, end) with start a time of day. Head-counts
    are 0 where a pool is closed, so this only trims an interval the pool is open in part of."""
    if hours is None or hours.contains(a, b):
        return [(a, b)]
    out = []
    for d in (-DAY_S, 0.0, DAY_S):
        lo, hi = max(a, hours.open + d), min(b, hours.close + d)
        if lo < hi:
            out.append((lo % DAY_S, lo % DAY_S + hi - lo))
    return out


def with_staffing(scenario: Scenario, agents: Staffing, interval_s: float) -> Scenario:
    """The scenario with each pool's shifts replaced by the per-interval head-counts.

    Each unit of head-count becomes one continuous shift over the intervals where the count
    reaches it (a night run across midnight is one shift), so an agent does not clock off and
    on again at every interval boundary. A pool with opening hours gets shifts within them: a
    shift over an interval the pool is open in part of is cut to the hours.
    """
    data = scenario.to_data()
    n = len(agents)
    for p, pool in enumerate(data["staffing"]["pools"]):
        hours = scenario.staffing.pools[p].hours
        counts = [agents[i][p] for i in range(n)]
        runs: dict[tuple[float, float], int] = {}
        for level in range(1, max(counts, default=0) + 1):
            on = [c >= level for c in counts]
            spans = []
            i = 0
            while i < n:
                if on[i]:
                    j = i
                    while j < n and on[j]:
                        j += 1
                    spans.append([i * interval_s, j * interval_s])
                    i = j
                else:
                    i += 1
            if len(spans) > 1 and spans[0][0] == 0 and spans[-1][1] == DAY_S:
                last = spans.pop()
                spans[0] = [last[0], DAY_S + spans[0][1]]  # through midnight
            for span in spans:
                for a, b in _within_hours(hours, *span):
                    runs[(a, b)] = runs.get((a, b), 0) + 1
        pool.pop("agents", None)
        shifts = [{"start": a, "end": b, "agents": k} for (a, b), k in sorted(runs.items())]
        idle = (hours.open, hours.close) if hours is not None else (0.0, DAY_S)
        pool["shifts"] = shifts or [{"start": idle[0], "end": idle[1], "agents": 0}]
    return validate_data(data, "staffing")


@dataclass(frozen=True)
class Check:
    """How each target fares in one evaluation, judged over its windows
    (:mod:`queueing.core.targets`) at the lower confidence bound, and where agents would help."""

    # [interval of the day, target column]: the lower bound minus the target of the window that
    # interval counts in (the worst of them, when several days hold it); nan where none is judged
    margin: np.ndarray
    owners: list[str]  # the class of each target column
    targets: list[Target] = field(default_factory=list)  # the target of each column
    judged: list[Judged] = field(default_factory=list)  # each column's windows
    confidence: float = 0.9
    interval_s: float = HOUR_S
    period_s: float = DAY_S  # margin's rows are the intervals of this period (a day; a week for weekly lines)

    @property
    def met(self) -> bool:
        return bool(np.all(np.nan_to_num(self.margin, nan=1.0) >= 0))

    def window_margins(self) -> list[np.ndarray]:
        """Per target column, each window's lower bound minus the target (nan: not judged)."""
        return [j.margin(self.confidence) for j in self.judged]

    def failing(self) -> list[tuple[int, str, str | None]]:
        """(interval of the day, class, language) where an agent would help a failing window most:
        a window of one interval of the day, that interval; a wider one (an hour of several
        intervals, a busy hour, a day, a week), its intervals with the most calls short of the
        target (target share x offered - answered within, per replication), as many as make up
        the window's shortfall at the lower bound. The language is the failing target's (judged
        on one language's callers), else, for a class judged per language too, the language
        with the smallest margin in that interval, else None (all the class's callers). A check
        made of margins alone (no ``judged``) names the intervals whose margin is negative."""
        if not self.judged:
            return sorted(
                {(int(i), self.owners[j], None) for i, j in np.argwhere(np.nan_to_num(self.margin, nan=1.0) < 0)},
                key=lambda f: (f[0], f[1]),
            )
        out: set[tuple[int, str, str | None]] = set()
        for owner, j, margin in zip(self.owners, self.judged, self.window_margins(), strict=True):
            reps = max(len(j.offered), 1)
            for w in np.flatnonzero(np.nan_to_num(margin, nan=1.0) < 0).tolist():
                ks = np.flatnonzero(j.windows.of == w)
                short = (j.target.share * j.counts.offered[:, ks] - j.counts.within[:, ks]).sum(axis=0) / reps
                need = -margin[w] * j.offered[:, w].sum() / reps
                got = 0.0
                for pos in np.argsort(-short, kind="stable").tolist():
                    if got > 0 and (short[pos] <= 0 or got >= need):
                        break
                    got += max(float(short[pos]), 1e-9)
                    slot = self._slot(j.counts.starts_s[ks[pos]])
                    out.add((slot, owner, j.language if j.language is not None else self._worst_language(slot, owner)))
        return sorted(out, key=lambda f: (f[0], f[1], f[2] or ""))

    def _worst_language(self, slot: int, owner: str) -> str | None:
        """Of the class's languages judged apart, the one with the smallest margin in ``slot``
        (None: the class is not judged per language, or none of its languages is judged there)."""
        cols = [k for k, j in enumerate(self.judged) if j.class_name == owner and j.language is not None]
        margins = self.margin[slot, cols] if cols else np.array([])
        if not np.any(~np.isnan(margins)):
            return None
        return self.judged[cols[int(np.nanargmin(margins))]].language

    def _slot(self, start_s: float) -> int:
        return int((start_s % self.period_s) // self.interval_s)

    def missed_lines(self) -> list[str]:
        """One line per target some window of which fails at the lower bound (targets.py's ``line``)."""
        return [
            j.line(self.confidence)
            for j, m in zip(self.judged, self.window_margins(), strict=True)
            if np.any(np.nan_to_num(m, nan=1.0) < 0)
        ]


def check_targets(result: SimulationResult, interval_s: float, confidence: float, period_s: float = DAY_S) -> Check:
    """Each target judged over its windows (:func:`queueing.core.targets.judge`, ``interval``
    windows on the grid of ``interval_s``) at the one-sided lower bound at ``confidence`` over
    replications; the result's intervals must divide ``interval_s``. The margins are per interval
    of ``period_s`` (of the day: days pooled; of the week for a week's lines)."""
    scenario = result.scenario
    n = intervals_per_day(interval_s) * round(period_s / DAY_S)
    reps = result.replications
    by_language = [rep.by_language for rep in reps] if scenario.languages() else None
    judged = judge(
        scenario, [rep.intervals for rep in reps], result.interval_s, grid_s=interval_s, by_language=by_language
    )
    margin = np.full((n, len(judged)), np.inf)
    for col, j in enumerate(judged):
        mine = j.windows.of >= 0
        slots = ((j.counts.starts_s[mine] % period_s) // interval_s).astype(int)
        np.fmin.at(margin[:, col], slots, j.margin(confidence)[j.windows.of[mine]])  # fmin: nan is no window
    margin[np.isinf(margin)] = np.nan
    return Check(
        margin=margin,
        owners=[j.class_name for j in judged],
        targets=[j.target for j in judged],
        judged=judged,
        confidence=confidence,
        interval_s=interval_s,
        period_s=period_s,
    )


class Progress(Protocol):
    """What :func:`find_staffing` tells of its progress (``queueing.output.progress.Progress``)."""

    def add(self, n: int) -> None: ...
    def update(self, n: int = 1) -> None: ...


def find_staffing(
    scenario: Scenario,
    executor: Executor,
    *,
    interval_s: float = HOUR_S,
    confidence: float = 0.9,
    max_rounds: int = 40,
    on_progress: Callable[[str], None] | None = None,
    progress: Progress | None = None,
    start: Staffing | None = None,
) -> StaffingResult:
    """Erlang start, then repair and trim by simulation (see the module docstring).

    ``on_progress(message)`` hears each round's outcome; ``progress`` hears each batch's
    replications as they are queued (``add(n)``) and each as it finishes (``update(1)``): one
    progress over the whole search, whose total grows batch by batch. ``start``: where the
    search starts instead of the offered load (a staffing found for lower targets, say).
    """
    if not scenario.targets:
        raise ScenarioError("the scenario has no targets: nothing to staff for")
    if not 0.5 <= confidence < 1:
        raise ScenarioError(f"--confidence must be in [0.5, 1), got {confidence:g}")
    n = intervals_per_day(interval_s)
    overs = {t.window for ts in scenario.targets.values() for t in ts}
    if overs & {"hour", "busy_hour"} and intervals_in(HOUR_S, interval_s) is None:
        raise ScenarioError(
            f"targets over an hour need --interval to divide an hour (15m, 30m, 1h), got {format_duration(interval_s)}"
        )
    # A target over more than an interval lets one interval fall short: the search then keeps every
    # interval at the head-count that keeps up with its load, where it starts (see the docstring).
    windowed = overs != {"interval"}
    unserved_languages(scenario, interval_s)
    pools = scenario.staffing.pools
    first_pool = first_open_pools(scenario, open_intervals(scenario, interval_s))
    log: list[str] = []
    counters = {"simulations": 0, "calls": 0}

    def say(msg: str) -> None:
        log.append(msg)
        if on_progress:
            on_progress(msg)

    def evaluate(tables: list[Staffing]) -> list[tuple[Check, SimulationResult]]:
        variants = [with_staffing(scenario, t, interval_s) for t in tables]
        if progress is not None:
            progress.add(sum(v.replications for v in variants))
        results = run_scenarios(
            variants, executor, interval_s=interval_s, on_done=(lambda: progress.update(1)) if progress else None
        )
        counters["simulations"] += len(results)
        counters["calls"] += sum(
            int(m.get(("classes", c, "offered"), 0))
            for res in results
            for rep in res.replications
            for m in [rep.measures]
            for c in scenario.classes
        )
        return [(check_targets(res, interval_s, confidence), res) for res in results]

    erlang = erlang_staffing(scenario, interval_s)
    say(f"Erlang, interval by interval: {sum(map(sum, erlang)) * interval_s / HOUR_S:.0f} agent-hours per day")
    # Repair from below: start at the smallest stable head-count (offered load, rounded up) and
    # add an agent wherever a target fails. Each added agent is needed when it is added.
    floor = load_staffing(scenario, interval_s)
    agents = [row[:] for row in floor] if start is None else [row[:] for row in start]
    if windowed:
        agents = [[max(a, f) for a, f in zip(row, low, strict=True)] for row, low in zip(agents, floor, strict=True)]
    ((check, result),) = evaluate([agents])
    rounds = 0
    while not check.met and rounds < max_rounds:
        rounds += 1
        for i, p in repair_pools(check, first_pool):
            agents[i][p] += 1  # specialists first: they help the failing class without taking shared agents
        ((check, result),) = evaluate([agents])
        say(
            f"repair {rounds}: {sum(map(sum, agents)) * interval_s / HOUR_S:.0f} agent-hours, "
            f"{len(check.failing())} (interval, class) pairs below target"
        )
    if not check.met:
        say("targets still not met after the repair rounds; the answer is the best found:")
        for line in check.missed_lines():
            say(f"  {line}")

    # Trim: an agent added early may have become unnecessary once later ones came. Try one agent
    # fewer in every (interval, pool) as one batch of simulations; keep the removals that still
    # meet every target, no two in the same or neighbouring intervals, confirmed together. The
    # next round tries again only the removals that passed and were not made: one agent fewer
    # elsewhere does not make a removal that failed pass (same callers, fewer agents).
    def removable(i: int, p: int) -> bool:
        return agents[i][p] > (floor[i][p] if windowed else 0)

    candidates = [(i, p) for i in range(n) for p in range(len(pools)) if removable(i, p)]
    while check.met and candidates and rounds < max_rounds:
        rounds += 1
        tables = []
        for i, p in candidates:
            t = [row[:] for row in agents]
            t[i][p] -= 1
            tables.append(t)
        checks = evaluate(tables)
        passed = [(ip, ch) for ip, (ch, _) in zip(candidates, checks, strict=True) if ch.met]
        if windowed:
            chosen = _within_slack(check, passed)
        else:
            passed.sort(key=lambda ipc: -_local_slack(ipc[1], ipc[0][0], n))  # most slack first, stable
            chosen = _apart(passed, n)
        while chosen:
            t = [row[:] for row in agents]
            for i, p in chosen:
                t[i][p] -= 1
            ((ch, res),) = evaluate([t])
            if ch.met:
                agents, check, result = t, ch, res
                break
            chosen = chosen[: len(chosen) // 2]
        if not chosen:
            break
        candidates = [(i, p) for (i, p), _ in passed if (i, p) not in chosen and removable(i, p)]
        say(
            f"trim {rounds}: {len(chosen)} agent-interval(s) removed, "
            f"{sum(map(sum, agents)) * interval_s / HOUR_S:.0f} agent-hours"
        )
    final = with_staffing(scenario, agents, interval_s)
    return StaffingResult(
        scenario=final,
        interval_s=interval_s,
        agents=agents,
        erlang_agents=erlang,
        targets_met=check.met,
        simulations=counters["simulations"],
        calls_simulated=counters["calls"],
        evaluation=result,
        log=log,
        check=check,
    )


def staff(
    scenario: Scenario,
    *,
    interval_s: float = HOUR_S,
    confidence: float = 0.9,
    on_progress: Callable[[str], None] | None = None,
    progress: Progress | None = None,
    **run: Unpack[RunOn],
) -> StaffingResult:
    """``ivr311 staff``: the fewest agents per interval and pool meeting every target in every
    interval (:func:`find_staffing`), run as ``run`` says (:class:`RunOn`: replications, seed,
    jobs, dask, executor, large)."""
    scenario = overridden(scenario, run)
    intervals_per_day(interval_s)
    with executor_of([scenario], interval_s, **run) as ex:
        return find_staffing(
            scenario, ex, interval_s=interval_s, confidence=confidence, on_progress=on_progress, progress=progress
        )
