"""Statistics of a run: per-replication measures, their mean with 95% Student-t intervals
across replications, and the per-interval series of intervals.csv.

Definitions (all over callers who *arrive* in the statistics window [warm-up, horizon)):
- offered: callers who arrived while a pool serving their class was open; answered /
  abandoned / unserved (still waiting at the horizon). closed: callers who arrived while no
  pool serving their class was open (opening hours); not offered.
- wait_s.*: time from joining the queue (after the IVR) to the answer, answered callers only.
- service level within T: answered within T seconds of queueing, as a share of offered
  callers (abandoned callers count against it: NENA's "90% of all calls within 15 s").
- utilization: agent-seconds busy on calls (a callback nobody answered included: the agent
  rang) while on duty / agent-seconds on duty by the
  schedule (scheduled breaks excluded), within the window. Time on a call past the scheduled
  start of a break (the break then starts late) or past the shift's end (overtime) is not on
  duty, so utilization is at most 1.
- overtime: agent-seconds on calls past the end of the shift they were answered in (a call in
  progress at shift end is finished; a call running into a break is not overtime), within the
  window; reported apart, in hours.
- transfers, redials, callbacks and languages (scenarios that use them only): see
  :mod:`queueing.core.call_flows`.
- cost (scenarios with pay rates only): paid agent-hours by the schedule plus overtime at the
  multiplier, per day and per answered call; see :mod:`queueing.core.cost`.

A run longer than a day is also measured per simulation day and per weekday (the end of this
module): a caller counts in the day she arrived on, whenever she was answered.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from .calendar import WEEKDAYS, Weekday, weekday_of_day
from .call_flows import interval_flow_columns, interval_flow_counts, replication_flows
from .cost import cost_summary, replication_cost
from .durations import DAY_S, HOUR_S
from .duty import clipped_cumulative
from .records import ABANDONED, ANSWERED, CALLBACK_UNANSWERED, CLOSED, OUTCOMES, UNSERVED, CallRecords
from .scenario import Scenario
from .schedule import Schedule
from .statistics import estimate, share, share_estimate

Key = tuple[str, ...]
WAIT_STATS = ("mean", "p50", "p90", "p95", "max")


def thresholds(scenario: Scenario) -> list[float]:
    """Every distinct service-level threshold (seconds) of any class, ascending."""
    return sorted({t.within for ts in scenario.targets.values() for t in ts})


def answered_within(wait_s: np.ndarray, answered: np.ndarray, within_s: float) -> np.ndarray:
    """Which callers count for a service level within ``within_s``: answered, after waiting at
    most ``within_s`` (the share is of *offered* calls: abandoned ones count against it)."""
    return answered & (wait_s <= within_s)


PERCENTILES = (50, 90, 95)  # the waits' p50, p90 and p95
_FRACTIONS = np.true_divide(PERCENTILES, 100)  # as np.percentile takes them


@dataclass(frozen=True, eq=False)
class _Groups:
    """Callers in groups (a class, its categories, its days...): per group how many ended in each
    outcome (``outcomes``, a column per OUTCOMES), and the answered callers' waits (seconds), group
    after group, each group's in the callers' order, group ``i``'s at ``waits[bounds[i] : bounds[i + 1]]``."""

    outcomes: np.ndarray
    waits: np.ndarray
    bounds: np.ndarray

    def joined(self, groups: Sequence[int]) -> _Groups:
        """One group of the callers of ``groups``, in that order (a weekday of its days)."""
        waits = np.concatenate([self.waits[self.bounds[i] : self.bounds[i + 1]] for i in groups])
        return _Groups(self.outcomes[groups].sum(axis=0, keepdims=True), waits, np.array([0, len(waits)]))


def _groups(wait: np.ndarray, outcome: np.ndarray, group: np.ndarray | None, groups: int) -> _Groups:
    """The callers of ``wait`` and ``outcome`` (in their order) in ``groups`` groups, ``group``
    each one's (0 to ``groups`` - 1; a caller of a negative one is in none), None: all in one."""
    answered = outcome == ANSWERED
    if group is None:
        outcomes = np.bincount(outcome, minlength=len(OUTCOMES))[None, :]
        waits = wait[_indexes(answered)]  # wait[answered], several times as fast
    else:
        if len(group) and group.min() < 0:
            some = group >= 0
            wait, outcome, group, answered = wait[some], outcome[some], group[some], answered[some]
        key = group.astype(np.intp)
        key *= len(OUTCOMES)
        key += outcome
        outcomes = np.bincount(key, minlength=groups * len(OUTCOMES)).reshape(groups, len(OUTCOMES))
        del key
        if np.any(group[1:] < group[:-1]):
            at = np.flatnonzero(answered)
            at = at[np.argsort(group[at], kind="stable")]  # each group's waits kept in the callers' order
            waits = wait[at]
            del at
        else:
            waits = wait[_indexes(answered)]
    bounds = np.zeros(len(outcomes) + 1, dtype=np.intp)
    np.cumsum(outcomes[:, ANSWERED], out=bounds[1:])
    return _Groups(outcomes, waits, bounds)


def _measure_groups(
    groups: _Groups,
    within: Sequence[float],
    heads: Sequence[Key],
    out: dict[Key, float],
    counts: bool = False,
    then: Sequence[dict[Key, float]] = (),
) -> None:
    """Put the measures of each group into ``out``, under its key in ``heads``, and then those of
    ``then`` (when given, one dict for each group); ``counts``: also how many were answered within
    each of ``within`` (keys ``answered_within``, after the service levels). Leaves each group's
    waits sorted, no longer in the callers' order."""
    waits, bounds = groups.waits, groups.bounds
    sizes = np.diff(bounds)
    stats = np.full((len(sizes), len(WAIT_STATS)), math.nan)
    cuts = np.asarray(within, dtype=float)
    answered_in = np.zeros((len(sizes), len(within)), dtype=np.intp)  # answered within each of within
    some = np.flatnonzero(sizes)
    if len(some):
        starts, ends = bounds[some], bounds[some + 1]
        for i, start, end in zip(some.tolist(), starts.tolist(), ends.tolist(), strict=True):
            part = waits[start:end]
            stats[i, 0] = part.sum() / (end - start)  # part.mean(): the same sum in the same order
            part.sort()
            answered_in[i] = part.searchsorted(cuts, side="right")  # NaN sorts last, within nothing
        before, after, gamma = _percentile_points(ends - starts)
        at = starts[:, None]
        stats[some, 1 : 1 + len(PERCENTILES)] = _lerp(waits[at + before], waits[at + after], gamma)
        stats[some, -1] = waits[ends - 1]  # the largest
        nan = np.isnan(waits[ends - 1])  # sorted last: np.percentile of waits holding NaN is NaN
        stats[some[nan], 1 : 1 + len(PERCENTILES)] = math.nan
    outcomes = groups.outcomes
    offered = outcomes.sum(axis=1) - outcomes[:, CLOSED]
    abandoned_share = share(outcomes[:, ABANDONED], offered).tolist()
    levels = share(answered_in, offered[:, None]).tolist()
    names = [f"{t:g}" for t in within]
    stat_keys = [("wait_s", name) for name in WAIT_STATS]
    level_keys = [("service_level", name) for name in names]
    count_keys = [("answered_within", name) for name in names] if counts else []
    rows = zip(
        heads,
        outcomes.tolist(),
        offered.tolist(),
        abandoned_share,
        stats.tolist(),
        levels,
        answered_in.tolist(),
        strict=True,
    )
    for i, (head, (answered, abandoned, unserved, closed, _), n, abandoned_of, stat, level, counted) in enumerate(rows):
        out[(*head, "offered")] = n
        out[(*head, "answered")] = answered
        out[(*head, "abandoned", "count")] = abandoned
        out[(*head, "abandoned", "share")] = abandoned_of
        out[(*head, "unserved")] = unserved
        out[(*head, "closed")] = closed
        for key, value in zip(stat_keys, stat, strict=True):
            out[head + key] = value
        for key, value in zip(level_keys, level, strict=True):
            out[head + key] = value
        for key, k in zip(count_keys, counted, strict=False):  # none without counts
            out[head + key] = k
        if then:
            for more, value in then[i].items():
                out[head + more] = value


def _percentile_points(n: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For samples of ``n`` values (each at least one), where np.percentile's default method
    (``linear``) reads each of PERCENTILES in the sorted sample: the positions before and after
    (an array of one row per sample, a column per percentile) and the weight of the one after."""
    count = n[:, None]
    virtual = (count - 1) * _FRACTIONS
    before = np.floor(virtual).astype(np.intp)
    past = virtual >= count - 1
    after = before + 1
    before[past] = after[past] = np.broadcast_to(count - 1, before.shape)[past]
    gamma = virtual - np.where(past, -1, before)  # numpy's weight there reads the last value twice
    return before, after, gamma


def _lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """np.percentile's interpolation from ``a`` to ``b`` by ``t``, the same floats."""
    diff = b - a
    out = a + diff * t
    np.subtract(b, diff * (1 - t), out=out, where=t >= 0.5)
    return out


def _indexes(mask: np.ndarray) -> np.ndarray:
    """Where ``mask`` is true, as 32-bit integers when they can be: reading an array at them is
    several times as fast as at the booleans, in half the room of 64-bit indexes."""
    at = np.flatnonzero(mask)
    return at.astype(np.int32) if len(mask) < 2**31 else at


def replication_measures(scenario: Scenario, schedule: Schedule, records: CallRecords) -> dict[Key, float]:
    """Every summary measure of one replication (``schedule``: the scenario's), keyed by its path
    in summary.json."""
    c = records.callers
    window = (c.arrival_s >= scenario.warmup) & (c.arrival_s < scenario.horizon)
    # The pools' busy spans (8 bytes a call) before any class's waits: not both at once. Their
    # keys still follow the classes'.
    pools = _pool_measures(scenario, schedule, records, window)
    out: dict[Key, float] = {}
    days: dict[Key, float] = {}
    for k, name in enumerate(scenario.class_names()):
        calls = _indexes(window & (c.cls == k))
        wait, outcome = records.wait_of(calls), records.outcome[calls]
        within = [t.within for t in scenario.targets.get(name, [])]
        _measure_groups(_groups(wait, outcome, None, 1), within, [("classes", name)], out)
        categories = list(scenario.classes[name].categories or {})
        if categories:
            heads = [("classes", name, "categories", cat) for cat in categories]
            _measure_groups(_groups(wait, outcome, c.category[calls], len(categories)), within, heads, out)
        out.update(_language_measures(scenario, records, name, calls, wait, outcome, within))
        days.update(_class_days(scenario, records, name, calls, wait, outcome))
    out.update(pools)
    out.update(replication_flows(scenario, records, window))  # nothing without transfers, redials...
    out.update(replication_cost(scenario, schedule, out))  # nothing without pay rates
    out.update(days)  # nothing for a run of one day
    return out


def _language_measures(
    scenario: Scenario,
    records: CallRecords,
    name: str,
    calls: np.ndarray,
    wait: np.ndarray,
    outcome: np.ndarray,
    within: Sequence[float],
) -> dict[Key, float]:
    """The class's measures over its callers (``calls``, indexes; their ``wait`` and ``outcome``) of each of
    its languages, and the calls answered with an interpreter line; nothing for a class without a
    language mix."""
    mix = scenario.classes[name].languages
    if not mix:
        return {}
    assert records.language is not None and records.interpreter is not None
    languages = scenario.languages()
    index = np.full(len(languages) + 1, -1, dtype=np.intp)  # a language's place in the mix; -1 (none): -1
    index[[languages.index(lang) for lang in mix]] = np.arange(len(mix))
    spoken = index[records.language[calls]]
    interpreted = (outcome == ANSWERED) & records.interpreter[calls].astype(bool) & (spoken >= 0)
    with_interpreter = np.bincount(spoken[interpreted], minlength=len(mix)).tolist()
    out: dict[Key, float] = {}
    heads = [("classes", name, "languages", lang) for lang in mix]
    then: list[dict[Key, float]] = [{("interpreter",): n} for n in with_interpreter]
    _measure_groups(_groups(wait, outcome, spoken, len(mix)), within, heads, out, then=then)
    return out


def _pool_measures(
    scenario: Scenario, schedule: Schedule, records: CallRecords, window: np.ndarray
) -> dict[Key, float]:
    """Each pool's utilization, answered calls (arrived in the statistics ``window``), agent-hours
    on duty and overtime. An agent is busy on every call answered and on every callback rung that
    nobody answered."""
    out: dict[Key, float] = {}
    answered = records.outcome == ANSWERED
    is_busy = answered | (records.outcome == CALLBACK_UNANSWERED)
    busy = _indexes(is_busy)
    edges = np.array([scenario.warmup, scenario.horizon])
    counted = window & answered
    answered_by = [int(np.count_nonzero(counted & (records.pool == p))) for p in range(len(scenario.staffing.pools))]
    # Each pool's busy calls (their places among the busy ones); None for a pool that answered
    # every call, whose sums are the whole array's (the same sums, no copies).
    mine_at = [
        None if not np.any(is_busy & (records.pool != p)) else _indexes(records.pool[busy] == p)
        for p in range(len(scenario.staffing.pools))
    ]
    del answered, is_busy, counted
    # One array of spans at a time, each summed per pool, in one buffer: three at once were 24
    # bytes a call at the measures' peak. Without breaks a span of work is a duty window: the
    # time past the end of either is the same.
    duty_ends = [[off for _, off in crew.duty_windows_s] for crew in schedule.crews]
    work_ends = [[off for _, off, _ in crew.work_segments_s] for crew in schedule.crews]
    ends = [_Ends(schedule.duty_ends_s, *_earliest_end(duty_ends))]
    if work_ends != duty_ends:
        ends.append(_Ends(schedule.work_ends_s, *_earliest_end(work_ends)))
    spans = np.empty(len(busy))
    sums = []
    for past in (None, *ends):
        _busy_spans(scenario, records, busy, past, spans)
        sums.append([float(spans.sum() if at is None else spans[at].sum()) for at in mine_at])
    busy_s, overtime_s, off_duty_s = sums if len(sums) == 3 else (*sums, sums[-1])
    for p, pool in enumerate(scenario.staffing.pools):
        on_duty = float(schedule.on_duty_s(p, edges)[0])
        out[("pools", pool.name, "utilization")] = share(busy_s[p] - off_duty_s[p], on_duty)
        out[("pools", pool.name, "answered")] = answered_by[p]
        out[("pools", pool.name, "agent_hours")] = on_duty / HOUR_S
        out[("pools", pool.name, "overtime_h")] = overtime_s[p] / HOUR_S
    return out


SPANS_AT_A_TIME = 1 << 16
"""Answered calls whose busy spans are measured at a time: the whole replication's at once took
several temporary arrays of 8 bytes a call."""


@dataclass(frozen=True, eq=False)
class _Ends:
    """The end of the duty window or span of work holding each (agent, time) pair (``of``:
    :meth:`~queueing.core.schedule.Schedule.duty_ends_s` or ``work_ends_s``), and the earliest end
    any agent's can be at a time: ``earliest[np.searchsorted(steps, time, side="right")]``."""

    of: Callable[[np.ndarray, np.ndarray], np.ndarray]
    steps: np.ndarray
    earliest: np.ndarray


def _earliest_end(ends: list[list[float]]) -> tuple[np.ndarray, np.ndarray]:
    """:class:`_Ends`' ``steps`` and ``earliest`` for crews whose windows or spans end at ``ends``
    (each crew's, ascending), read as the schedule reads them: the first end past a time, the
    last one for a time past them all."""
    crews = [np.asarray(e, dtype=float) for e in ends if e]
    steps = np.unique(np.concatenate(crews)) if crews else np.empty(0)
    at = np.concatenate(([-np.inf], steps))  # the earliest end holds from each step to the next
    earliest = np.full(len(at), np.inf)
    for offs in crews:
        np.minimum(earliest, offs[np.minimum(np.searchsorted(offs, at, side="right"), len(offs) - 1)], out=earliest)
    return steps, earliest


def _busy_spans(
    scenario: Scenario, records: CallRecords, busy: np.ndarray, past: _Ends | None, out: np.ndarray
) -> np.ndarray:
    """For each call an agent was busy on (``busy``, the callers' indexes), into ``out``: its time
    on the call within the statistics window, or (``past``) the part of that past the end of its
    agent's duty window or span of work: overtime, or a call running into a break (which then
    starts late). That end is looked up only for the calls ending after the earliest one any
    agent's can be (the schedule's lookup is most of the time): none of the others runs past it."""
    t0, t1 = scenario.warmup, scenario.horizon
    c = records.callers
    for start in range(0, len(busy), SPANS_AT_A_TIME):
        part = slice(start, start + SPANS_AT_A_TIME)
        calls = busy[part]
        busy_from = records.answered_s[calls]
        busy_to = busy_from + c.handle_s[calls]
        end = np.clip(busy_to, t0, t1)
        if past is None:
            out[part] = end - np.clip(busy_from, t0, t1)
        else:
            late = np.flatnonzero(busy_to > past.earliest.min())  # those that may be, then those that are
            late = late[busy_to[late] > past.earliest[np.searchsorted(past.steps, busy_from[late], side="right")]]
            ended = busy_to  # the earlier of the call's end and its agent's: the call's, but for the late ones
            ended[late] = np.minimum(past.of(records.agent[calls[late]], busy_from[late]), busy_to[late])
            out[part] = end - np.clip(ended, t0, t1)
    return out


def _nest(flat: dict[Key, Any]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for key, value in flat.items():
        node = root
        for part in key[:-1]:
            node = node.setdefault(part, {})
        node[key[-1]] = value
    return root


class WindowsJudged(Protocol):
    """One target judged over its windows (:class:`queueing.core.targets.Judged`)."""

    @property
    def n_judged(self) -> int: ...
    @property
    def n_met(self) -> int: ...
    @property
    def all_met(self) -> bool: ...


def _is_share(key: Key) -> bool:
    """Whether a measure is a share of calls (a service level, the abandoned share, the redials'
    or callbacks' shares: every key ending in ``share``): its interval
    is :func:`~queueing.core.statistics.share_estimate`'s, within 0-1."""
    return "service_level" in key or key[-1] == "share"


def summarize(
    scenario: Scenario, per_replication: Sequence[dict[Key, float]], version: str, judged: Sequence[WindowsJudged]
) -> dict[str, Any]:
    """The summary.json document: every measure as {"value", "ci95"} across replications.
    ``judged``: every target judged over its windows (:func:`queueing.core.targets.judge`, in
    its order): a target is ``met`` when every window judged meets it."""
    keys = [key for key in per_replication[0] if key[0] not in DAY_SECTIONS]
    flat = {key: (share_estimate if _is_share(key) else estimate)([m.get(key, math.nan) for m in per_replication])
            for key in keys}  # fmt: skip
    tree = _nest(flat)
    verdicts = iter(judged)
    for name in scenario.class_names():
        node = tree["classes"][name]
        levels = node.pop("service_level", {})
        node["service_level"] = []
        for target in scenario.targets.get(name, []):
            windows = next(verdicts)
            node["service_level"].append(
                {
                    "within_s": target.within,
                    "share": levels[f"{target.within:g}"],
                    "target": target.share,
                    "met": windows.all_met,
                    "over": target.window,
                    "windows": {"judged": windows.n_judged, "met": windows.n_met},
                }
            )
        groups = [*node.get("categories", {}).values(), *node.get("languages", {}).values()]
        for cat_node in groups:
            cat_levels = cat_node.pop("service_level", {})
            cat_node["service_level"] = [
                {"within_s": t.within, "share": cat_levels[f"{t.within:g}"], "target": t.share}
                for t in scenario.targets.get(name, [])
            ]
    if "cost" in tree:
        tree["cost"] = cost_summary(scenario, tree["cost"])
    tree.update(day_summary(scenario, per_replication))
    tree["meta"] = {
        "scenario": scenario.name,
        "seed": scenario.seed,
        "replications": len(per_replication),
        "horizon_s": scenario.horizon,
        "warmup_s": scenario.warmup,
        "version": version,
    }
    return tree


INTERVAL_COLUMNS_FIXED = (
    "replication", "interval_start_s", "interval_end_s", "class", "arrivals", "answered",
    "abandoned", "unserved", "closed", "offered", "wait_s_mean",
)  # fmt: skip


def interval_columns(scenario: Scenario) -> list[str]:
    """Column names of intervals.csv for this scenario (one service-level column per threshold)."""
    cuts = thresholds(scenario)
    return [
        *INTERVAL_COLUMNS_FIXED,
        *(f"answered_within_{t:g}s" for t in cuts),  # counts: what every share is derived from
        *(f"service_level_{t:g}s" for t in cuts),
        "queue_len_mean",
        "agents_on_duty",
        *interval_flow_columns(scenario),  # transfers, redials, callbacks: only when used
    ]


ROWS_AT_A_TIME = 1 << 14
"""Interval rows made into Python tuples at a time when iterated (see :class:`IntervalRows`)."""


@dataclass(frozen=True, eq=False)
class IntervalRows:
    """One replication's rows of intervals.csv (:func:`replication_intervals`) as numpy columns,
    interval by interval and each class in turn.

    ``columns`` holds every column of ``names`` (:func:`interval_columns`) but ``replication`` and
    ``class``: counts as 32-bit integers, figures as floats with NaN for an empty cell; ``class_of``
    is each row's class, an index into ``class_names``. A million-call replication's 60,672 rows
    are 6.0 MB, in memory and pickled (as tuples of Python numbers: about 16 MB more in memory,
    5.6 MB pickled but 5-9 times as long to pickle and unpickle), and every reader (the files, the
    hourly folding, the targets) made its columns from them again.
    Iterating gives the rows as intervals.csv writes them (:meth:`__iter__`)."""

    replication: int
    names: tuple[str, ...]
    class_names: tuple[str, ...]
    class_of: np.ndarray
    columns: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.class_of)

    def column(self, name: str) -> np.ndarray:
        """One column, a value per row; ``class`` as the class names (objects), ``replication`` too."""
        if name == "replication":
            return np.full(len(self), self.replication)
        if name == "class":
            return np.array(self.class_names, dtype=object)[self.class_of]
        return self.columns[name]

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        """The rows as tuples (columns ``names``): Python ints and floats, None for an empty cell,
        made ``ROWS_AT_A_TIME`` at a time."""
        for start in range(0, len(self), ROWS_AT_A_TIME):
            part = slice(start, start + ROWS_AT_A_TIME)
            names = [self.class_names[k] for k in self.class_of[part].tolist()]
            cells = [
                itertools.repeat(self.replication)
                if name == "replication"
                else names
                if name == "class"
                else _cells(self.columns[name][part])
                for name in self.names
            ]
            yield from zip(*cells, strict=False)  # the replication repeats without end


def _interval_of(times: np.ndarray, edges: np.ndarray, interval_s: float, rows: np.ndarray | None = None) -> np.ndarray:
    """For each of ``times`` (seconds from 0; ``rows``: those at these indexes only), the interval
    between ``edges`` (every ``interval_s`` from 0, the last at the horizon) it falls in, the last
    for a time past it: what ``np.searchsorted(edges, times, side="right") - 1`` gives, capped, as
    32-bit integers. Guessed by a product, which is at most one out, then put right by the edges
    themselves (three times as fast as the search), SPANS_AT_A_TIME at a time (without a
    temporary of 8 bytes a time)."""
    last = len(edges) - 2
    out = np.empty(len(times) if rows is None else len(rows), dtype=np.int32)
    for start in range(0, len(out), SPANS_AT_A_TIME):
        part = slice(start, start + SPANS_AT_A_TIME)
        t = times[part] if rows is None else times[rows[part]]
        at = (t * (1.0 / interval_s)).astype(np.int32)
        np.clip(at, 0, last, out=at)
        at -= edges[at] > t
        at += edges[at + 1] <= t
        out[part] = np.minimum(at, last, out=at)
    return out


def _cells(values: np.ndarray) -> list[Any]:
    """A column's values as Python numbers, NaN as None (an empty CSV cell)."""
    out = values.tolist()
    if values.dtype.kind == "f":
        for i in np.flatnonzero(np.isnan(values)).tolist():
            out[i] = None
    return out


def replication_intervals(
    scenario: Scenario, schedule: Schedule, records: CallRecords, replication: int, interval_s: float
) -> IntervalRows:
    """Rows of intervals.csv for one replication: per interval and class, callers counted in the
    interval they arrived in; queue length and agents on duty (by the schedule, less scheduled
    breaks) are time-averages over it. Service levels are shares of the calls offered (arrivals
    less closed ones)."""
    horizon = scenario.horizon
    edges = np.append(np.arange(0.0, horizon, interval_s), horizon)
    nbins = len(edges) - 1
    c = records.callers
    widths = np.diff(edges)
    on_duty = {pool.name: schedule.on_duty_s(p, edges) / widths for p, pool in enumerate(scenario.staffing.pools)}
    cuts = thresholds(scenario)
    names = interval_columns(scenario)
    flow_names = interval_flow_columns(scenario)
    # the intervals of every caller, only for a scenario whose calls transfer, redial or call back
    flow_bins = _interval_of(c.arrival_s, edges, interval_s) if flow_names else None
    class_names = scenario.class_names()
    per_class: dict[int, dict[str, np.ndarray]] = {}
    # One class's callers at a time, each temporary dropped once counted (a million-call
    # replication's whole columns at once were 83 MB of temporaries); the largest class first, and
    # its queue first, while nothing else is held.
    for k in np.argsort(-np.bincount(c.cls, minlength=len(class_names)), kind="stable").tolist():
        name = class_names[k]
        m = _indexes(c.cls == k)
        queued_at = c.queued_s[m]
        left = records.left_queue_of(m, queued_at)
        wait = left - queued_at  # records.wait_s[m], without the whole column
        # Callers are ordered by queue time, so the starts are already sorted.
        np.minimum(queued_at, horizon, out=queued_at)
        queue = np.diff(clipped_cumulative(queued_at, left, edges, starts_sorted=True, in_place=True)) / widths
        del queued_at, left
        queue = np.maximum(queue, 0.0)  # differences of large sums: -1e-13 is rounding, not a queue
        b = _interval_of(c.arrival_s, edges, interval_s, rows=m)
        out = records.outcome[m]
        del m
        slot = b.astype(np.intp)  # interval and outcome
        slot *= len(OUTCOMES)
        slot += out
        by_outcome = np.bincount(slot, minlength=nbins * len(OUTCOMES)).reshape(nbins, len(OUTCOMES))
        del slot
        arrivals = by_outcome.sum(axis=1)
        answered, closed = by_outcome[:, ANSWERED], by_outcome[:, CLOSED]
        abandoned, unserved = by_outcome[:, ABANDONED], by_outcome[:, UNSERVED]
        answered_at = _indexes(out == ANSWERED)
        del out
        b, wait = b[answered_at], wait[answered_at]  # the answered callers'
        del answered_at
        wait_sum = np.bincount(b, weights=wait, minlength=nbins)
        with np.errstate(invalid="ignore", divide="ignore"):
            wait_mean = wait_sum / answered
        offered = arrivals - closed
        # How many thresholds each answered caller's wait is within (none for NaN), counted per
        # interval: answered within the j-th smallest are those within the len(cuts) - j largest.
        fits = np.zeros(len(wait), dtype=np.intp)
        for t in cuts:
            fits += wait <= t
        fits += b.astype(np.intp) * (len(cuts) + 1)  # the interval and the fit, in one slot
        by_fit = np.bincount(fits, minlength=nbins * (len(cuts) + 1)).reshape(nbins, len(cuts) + 1)
        del fits
        within = [by_fit[:, len(cuts) - j :].sum(axis=1) for j in range(len(cuts))]
        levels = [share(n, offered) for n in within]  # the one place shares come from counts
        del b, wait
        flows = interval_flow_counts(scenario, records, c.cls == k, flow_bins, nbins) if flow_bins is not None else []
        agents = np.sum([on_duty[p.name] for p in scenario.staffing.pools if name in p.serves], axis=0)
        per_class[k] = {
            "arrivals": arrivals, "answered": answered, "abandoned": abandoned, "unserved": unserved,
            "closed": closed, "offered": offered, "wait_s_mean": wait_mean,
            **{f"answered_within_{t:g}s": n for t, n in zip(cuts, within, strict=True)},
            **{f"service_level_{t:g}s": level for t, level in zip(cuts, levels, strict=True)},
            "queue_len_mean": queue, "agents_on_duty": agents,
            **dict(zip(flow_names, flows, strict=True)),
        }  # fmt: skip
    classes = len(per_class)
    columns = {"interval_start_s": np.repeat(edges[:-1], classes), "interval_end_s": np.repeat(edges[1:], classes)}
    # Interval by interval, each class's row in turn.
    for key in names:
        if key in ("replication", "class") or key in columns:
            continue
        values = [np.broadcast_to(per_class[k][key], nbins) for k in range(classes)]
        if values[0].dtype.kind in "iu":  # counts: an interval holds fewer than 2**31 calls
            values = [v.astype(np.int32) for v in values]
        columns[key] = np.stack(values, axis=1).reshape(-1)
    class_of = np.tile(np.arange(classes, dtype=np.int32), nbins)
    return IntervalRows(replication, tuple(names), tuple(class_names), class_of, columns)


# --- per day and per weekday ------------------------------------------------------------------
# Day k of a run is [k * 24h, (k + 1) * 24h), weekday ``weekday_of_day(first_weekday, k)``. Its
# measures are those of the callers who ARRIVED in it after the warm-up (a call waiting past
# midnight counts in the day it came in), kept per replication under ("days", "<k>", ...) and
# ("weekdays", "<mon..sun>", ...) beside the whole run's, and summarized apart from them: the
# ``days`` and ``weekdays`` lists of summary.json, and daily.csv. A run of one day (horizon 24h
# or less) has neither: the whole run is that day.

DAY_SECTIONS = ("days", "weekdays")
DAY_WAIT_STATS = ("mean", "p90")  # of the wait, per day (the whole run's has every WAIT_STATS)


def day_spans(scenario: Scenario) -> list[tuple[int, float, float]]:
    """Each simulation day's part of the statistics window as ``(day, start_s, end_s)``: a
    day cut by the warm-up or the horizon is the part of it inside ``[warmup, horizon)``, a day
    the warm-up covers is left out. Empty when the horizon is a day or less."""
    if scenario.horizon <= DAY_S:
        return []
    last = math.ceil(scenario.horizon / DAY_S)
    return [
        (k, max(k * DAY_S, scenario.warmup), min((k + 1) * DAY_S, scenario.horizon))
        for k in range(int(scenario.warmup // DAY_S), last)
        if min((k + 1) * DAY_S, scenario.horizon) > max(k * DAY_S, scenario.warmup)
    ]


def weekday_days(scenario: Scenario) -> dict[Weekday, list[int]]:
    """The days of :func:`day_spans` by weekday, Monday first, weekdays without a day left out."""
    by: dict[Weekday, list[int]] = {}
    for day, _, _ in day_spans(scenario):
        by.setdefault(weekday_of_day(scenario.first_weekday, day), []).append(day)
    return {wd: by[wd] for wd in WEEKDAYS if wd in by}


def _date_of(scenario: Scenario, day: int) -> str:
    """The calendar date of simulation day ``day`` (the scenario has a start_date), ISO 8601."""
    assert scenario.start_date is not None
    return (scenario.start_date + dt.timedelta(days=day)).isoformat()


def _class_days(
    scenario: Scenario, records: CallRecords, name: str, calls: np.ndarray, wait: np.ndarray, outcome: np.ndarray
) -> dict[Key, float]:
    """One replication's measures per day and per weekday (a weekday pools its days' callers) of
    class ``name``: those of the whole run's ``classes.<class>`` (service levels at every threshold
    of any class, for daily.csv), over its callers in the statistics window ``calls`` (indexes,
    ascending) with their ``wait`` and ``outcome``. Nothing for a run of one day."""
    spans = day_spans(scenario)
    if not spans:
        return {}
    first = spans[0][0]
    days = [day for day, _, _ in spans]
    # each caller's day (the one her arrival falls in: day k is [k * DAY_S, (k + 1) * DAY_S))
    day = _interval_of(records.callers.arrival_s, np.arange(days[-1] + 2) * DAY_S, DAY_S, rows=calls)
    day -= first
    withins = thresholds(scenario)
    of_day = _groups(wait, outcome, day, len(days))
    del day
    # A weekday's callers are its days' in turn, gathered (one weekday at a time) before the days'
    # waits are sorted; its measures are put after the days'.
    weekdays: dict[Key, float] = {}
    for wd, ds in weekday_days(scenario).items():
        head: Key = ("weekdays", wd, "classes", name)
        _measure_groups(of_day.joined([d - first for d in ds]), withins, [head], weekdays, counts=True)
    out: dict[Key, float] = {}
    heads = [("days", str(day), "classes", name) for day in days]
    _measure_groups(of_day, withins, heads, out, counts=True)  # with the counts behind the shares, for daily.csv
    out.update(weekdays)
    return out


def _day_classes(
    scenario: Scenario, per_replication: Sequence[dict[Key, float]], prefix: Key, days: int = 1
) -> dict[str, dict[str, Any]]:
    """summary.json's ``classes`` of one day or weekday: offered, answered, abandoned, waits and
    each target's service level, as estimates across replications; counts per day (a weekday's
    pooled counts over its ``days``), shares and waits of every call pooled."""

    def values(*key: str) -> list[float]:
        return [m.get((*prefix, "classes", *key), math.nan) for m in per_replication]

    def per_day(*key: str) -> list[float]:
        return [v / days for v in values(*key)]

    out: dict[str, dict[str, Any]] = {}
    for name in scenario.class_names():
        levels = []
        for t in scenario.targets.get(name, []):
            level = share_estimate(values(name, "service_level", f"{t.within:g}"))
            met = level["value"] is not None and level["value"] >= t.share
            levels.append({"within_s": t.within, "share": level, "target": t.share, "met": met})
        out[name] = {
            "offered": estimate(per_day(name, "offered")),
            "answered": estimate(per_day(name, "answered")),
            "abandoned": {
                "count": estimate(per_day(name, "abandoned", "count")),
                "share": share_estimate(values(name, "abandoned", "share")),
            },
            "wait_s": {stat: estimate(values(name, "wait_s", stat)) for stat in DAY_WAIT_STATS},
            "service_level": levels,
        }
    return out


def day_summary(scenario: Scenario, per_replication: Sequence[dict[Key, float]]) -> dict[str, Any]:
    """summary.json's ``days`` (one entry per day of the statistics window: ``day``, ``weekday``,
    ``date`` with a start_date, ``start_s`` and ``end_s`` of its part of the window, ``classes``)
    and ``weekdays`` (per weekday, Monday first: ``weekday``, the ``days`` it pools, ``classes``
    with counts per day); nothing for a run of one day."""
    spans = day_spans(scenario)
    if not spans:
        return {}
    days = []
    for day, start_s, end_s in spans:
        entry: dict[str, Any] = {"day": day, "weekday": weekday_of_day(scenario.first_weekday, day)}
        if scenario.start_date is not None:
            entry["date"] = _date_of(scenario, day)
        entry |= {"start_s": start_s, "end_s": end_s}
        entry["classes"] = _day_classes(scenario, per_replication, ("days", str(day)))
        days.append(entry)
    weekdays = [
        {"weekday": wd, "days": ds, "classes": _day_classes(scenario, per_replication, ("weekdays", wd), len(ds))}
        for wd, ds in weekday_days(scenario).items()
    ]
    return {"days": days, "weekdays": weekdays}


DAILY_COLUMNS_FIXED = ("replication", "day", "weekday", "class", "arrivals", "offered", "answered", "abandoned",
                       "wait_s_mean")  # fmt: skip


def daily_columns(scenario: Scenario) -> list[str]:
    """Column names of daily.csv for this scenario (``date`` with a start_date; a service-level
    column, and its count, per threshold, as intervals.csv)."""
    cuts = thresholds(scenario)
    fixed = list(DAILY_COLUMNS_FIXED)
    if scenario.start_date is not None:
        fixed.insert(fixed.index("weekday") + 1, "date")
    return [
        *fixed,
        *(f"answered_within_{t:g}s" for t in cuts),
        *(f"service_level_{t:g}s" for t in cuts),
    ]


def replication_daily(scenario: Scenario, replication: int, measures: dict[Key, float]) -> list[tuple[Any, ...]]:
    """Rows of daily.csv for one replication (its :func:`replication_measures`): per day of the
    statistics window and class, the callers who arrived that day. Empty for a run of one day."""
    cuts = thresholds(scenario)
    rows: list[tuple[Any, ...]] = []
    for day, _, _ in day_spans(scenario):
        head: list[Any] = [replication, day, weekday_of_day(scenario.first_weekday, day)]
        if scenario.start_date is not None:
            head.append(_date_of(scenario, day))
        for name in scenario.class_names():

            def get(*key: str, day: int = day, name: str = name) -> float:
                return measures[("days", str(day), "classes", name, *key)]

            offered = int(get("offered"))
            wait_mean, *levels = _cells(
                np.array([get("wait_s", "mean"), *(get("service_level", f"{t:g}") for t in cuts)])
            )
            within = [int(get("answered_within", f"{t:g}")) for t in cuts]
            counts = [offered + int(get("closed")), offered, int(get("answered")), int(get("abandoned", "count"))]
            rows.append((*head, name, *counts, wait_mean, *within, *levels))
    return rows
