"""The now-cast: the next hours of the centre simulated from the queue as it stands.

1. **The state** (:func:`state_of_log`) from the call log at ``at``: a caller waits when it was
   enqueued and neither answered nor ended by then; a call is in service when it was answered
   and has not ended. Either open for more than :data:`MAX_OPEN_S` is taken for a lost status
   callback and left out (counted in ``ignored``). Agents on duty are the scenario's roster: the
   log does not say who is logged in.
2. **The clock.** ``at`` (UTC, as the log and calibrate's profile) maps to the scenario's clock by
   its time of day, on day 0 of a one-day scenario, else on the scenario's day of its date
   (``start_date``) or weekday; the run is that day's profile, shifts and surges from then for
   ``hours`` hours.
3. **The re-forecast** (:func:`reforecast`): per class, the calls that arrived since midnight
   (those who reached a queue, as the model's arrivals) against the scenario's expected calls
   over the same hours; the ratio, with its exact 95% Poisson interval, multiplies the rest of
   the horizon's arrivals, once at least :data:`MIN_CALLS` calls have arrived (fewer: the
   forecast is kept and the ratio only shown). The interval says how far to trust it: with 50
   calls it runs from 0.74 to 1.32 times the ratio, with 400 from 0.90 to 1.10.
4. **The runs**: ``replications`` runs from the state (:mod:`queueing.core.state`), and the same
   with one agent more and one fewer on duty from ``at`` in ``pool`` (common random numbers: the
   same callers), summarized per 15 minutes and class (:class:`Band`).

A replication's interval measures: the service level of each target (answered within, over
offered, callers counted in the interval they arrived in, those waiting at ``at`` in the first),
its mean wait (answered callers) and its time-average queue. Over replications: the chance a
target is met (the share of replications with calls offered in which it is), the mean, and a
band from the 10th to the 90th percentile of the replications (where the interval's figure
falls four times in five).
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from os import PathLike
from typing import Any

import numpy as np

from ..core.arrivals import rate_segments
from ..core.calendar import weekday_index
from ..core.durations import DAY_S, HOUR_S
from ..core.duty import clipped_cumulative
from ..core.metrics import answered_within
from ..core.records import ANSWERED, CLOSED, CallRecords
from ..core.scenario import Scenario
from ..core.scenario_file import validate_data
from ..core.state import InService, State, Waiting, on_duty_at, run_from, schedule_from
from ..errors import ScenarioError
from .calllog import CallLog, frame_call_log, read_call_log
from .demand import poisson_interval

INTERVAL_S = 900.0  # the now-cast's grid: quarter hours of the clock
MIN_CALLS = 50  # arrivals of a class today before its re-forecast ratio is applied
MAX_OPEN_S = 4 * HOUR_S  # a wait or a call open longer is a status callback lost, not a caller
BAND = (10.0, 90.0)  # percentiles of the replications: the band's low and high
_EPS = 1e-12


@dataclass(frozen=True)
class Reforecast:
    """One class's calls today against the forecast: ``actual`` since midnight, ``forecast`` over
    the same hours, their ratio with its 95% interval, and whether it was applied."""

    class_name: str
    actual: int
    forecast: float
    ratio: float | None
    low: float | None
    high: float | None
    applied: bool

    def to_json(self) -> dict[str, Any]:
        return {"class": self.class_name, "actual": self.actual, "forecast": round(self.forecast, 1),
                "ratio": _round(self.ratio, 3), "ratio_lo": _round(self.low, 3), "ratio_hi": _round(self.high, 3),
                "applied": self.applied}  # fmt: skip


@dataclass(frozen=True)
class Band:
    """One class in one interval, over the replications (seconds, callers)."""

    start: str  # ISO 8601, UTC
    class_name: str
    p_target_met: float | None  # every target of the class met (None: no target, or no call offered)
    targets: tuple[tuple[float, float, float | None], ...]  # (within_s, share, chance met) per target
    wait_mean_s: float | None
    wait_lo_s: float | None
    wait_hi_s: float | None
    queue_mean: float
    queue_lo: float
    queue_hi: float
    agents: float  # on duty (time-average) in the pools serving the class

    def to_json(self) -> dict[str, Any]:
        return {
            "start": self.start, "class": self.class_name, "p_target_met": _round(self.p_target_met, 3),
            "wait_mean_s": _round(self.wait_mean_s, 1), "wait_lo_s": _round(self.wait_lo_s, 1),
            "wait_hi_s": _round(self.wait_hi_s, 1), "queue_mean": _round(self.queue_mean, 2),
            "queue_lo": _round(self.queue_lo, 2), "queue_hi": _round(self.queue_hi, 2),
            "agents": _round(self.agents, 2),
            "targets": [{"within_s": w, "share": s, "p_met": _round(p, 3)} for w, s, p in self.targets],
        }  # fmt: skip


@dataclass(frozen=True)
class Nowcast:
    """What :func:`nowcast` returns: the state it started from, the re-forecast, and per interval
    and class the bands of the run as rostered, with one more and one fewer agent in ``pool``."""

    generated_at: str
    at: str
    at_s: float  # on the scenario's clock
    hours: float
    replications: int
    pool: str
    waiting: dict[str, dict[str, float]]  # class -> {"callers", "longest_wait_s"}
    in_service: dict[str, int]
    ignored: int  # open rows left out (MAX_OPEN_S)
    on_duty: dict[str, int]  # pool -> agents on duty at ``at`` by the roster
    reforecasts: tuple[Reforecast, ...]
    intervals: tuple[Band, ...]
    plus_one: tuple[Band, ...]
    minus_one: tuple[Band, ...]
    wall_s: float = field(default=0.0, compare=False)

    def to_json(self) -> dict[str, Any]:
        """The nowcast.json document (docs/planning.md, "Now-cast")."""
        return {
            "generated_at": self.generated_at,
            "at": self.at,
            "hours": self.hours,
            "replications": self.replications,
            "wall_s": round(self.wall_s, 2),
            "interval_s": INTERVAL_S,
            "band_percentiles": list(BAND),
            "state": {
                "waiting": self.waiting,
                "in_service": self.in_service,
                "ignored": self.ignored,
                "on_duty": self.on_duty,
            },  # fmt: skip
            "reforecast": [r.to_json() for r in self.reforecasts],
            "intervals": [b.to_json() for b in self.intervals],
            "plus_one": {"pool": self.pool, "intervals": [b.to_json() for b in self.plus_one]},
            "minus_one": {"pool": self.pool, "intervals": [b.to_json() for b in self.minus_one]},
        }


def _round(x: float | None, digits: int) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), digits)


def _iso(seconds: float) -> str:
    return dt.datetime.fromtimestamp(round(seconds, 3), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def scenario_day(scenario: Scenario, at_s: float) -> int:
    """The scenario's day that the UTC time ``at_s`` (seconds since 1970) falls on: 0 for a one-day
    scenario; else its date's day from ``start_date``, or the first day of its weekday."""
    days = math.ceil(scenario.horizon / DAY_S)
    if days <= 1:
        return 0
    date = dt.datetime.fromtimestamp(at_s, dt.UTC).date()
    if scenario.start_date is not None and 0 <= (date - scenario.start_date).days < days:
        return (date - scenario.start_date).days
    day = (date.weekday() - weekday_index(scenario.first_weekday)) % 7
    return day if day < days else 0


def state_of_log(log: CallLog | None, scenario: Scenario, at_s: float, clock_s: float) -> tuple[State, int]:
    """The state at UTC ``at_s`` (on the scenario's clock ``clock_s``) and how many open rows
    were left out as stale (:data:`MAX_OPEN_S`)."""
    if log is None:
        return State(at_s=clock_s), 0
    classes = set(scenario.class_names())
    with np.errstate(invalid="ignore"):
        open_at = ~(log.ended <= at_s) & (log.started <= at_s)  # NaN (not ended) is open
        waiting = open_at & (log.enqueued <= at_s) & ~(log.answered <= at_s)
        serving = open_at & (log.answered <= at_s)
    known = np.array([q in classes for q in log.queue], dtype=bool)
    stale = (waiting & (at_s - log.enqueued > MAX_OPEN_S)) | (serving & (at_s - log.answered > MAX_OPEN_S))
    waits = [
        Waiting(str(log.queue[i]), float(at_s - log.enqueued[i]), str(log.category[i]) or None)
        for i in np.flatnonzero(waiting & known & ~stale)
    ]
    calls = [
        InService(str(log.queue[i]), float(at_s - log.answered[i]), str(log.category[i]) or None)
        for i in np.flatnonzero(serving & known & ~stale)
    ]
    waits.sort(key=lambda w: -w.elapsed_s)
    return State(at_s=clock_s, waiting=tuple(waits), in_service=tuple(calls)), int((stale & known).sum())


def expected_calls(scenario: Scenario, class_name: str, start_s: float, end_s: float) -> float:
    """The scenario's expected arrivals of ``class_name`` in [start_s, end_s) of its clock."""
    edges, rates = rate_segments(scenario, class_name)
    cum = np.concatenate(([0.0], np.cumsum(np.diff(edges) * rates)))
    return float(np.interp(end_s, edges, cum) - np.interp(start_s, edges, cum))


def reforecast(log: CallLog | None, scenario: Scenario, at_s: float, clock_s: float) -> list[Reforecast]:
    """Per class: the calls that started since midnight UTC and reached its queue before ``at_s``,
    against the scenario's forecast for the same hours of its clock (midnight to ``clock_s``)."""
    midnight = at_s - at_s % DAY_S
    day0 = clock_s - clock_s % DAY_S
    out = []
    for name in scenario.class_names():
        actual = 0
        if log is not None:
            with np.errstate(invalid="ignore"):
                # reached the queue by then: a live log does not know yet where a caller in the menu goes
                mine = (log.queue == name) & (log.enqueued < at_s)
                actual = int(np.sum(mine & (log.started >= midnight) & (log.started < at_s)))
        forecast = expected_calls(scenario, name, day0, clock_s)
        if forecast <= 0:
            out.append(Reforecast(name, actual, forecast, None, None, None, False))
            continue
        low, high = poisson_interval(np.array([actual]), np.array([forecast]))
        out.append(Reforecast(name, actual, forecast, actual / forecast, float(low[0]), float(high[0]),
                              actual >= MIN_CALLS))  # fmt: skip
    return out


def nowcast_scenario(scenario: Scenario, clock_s: float, hours: float, ratios: Sequence[Reforecast]) -> Scenario:
    """``scenario`` run from midnight to ``clock_s + hours`` with each applied ratio as a surge from
    ``clock_s`` on (roster rules left out: the now-cast plans nothing)."""
    data = scenario.to_data()
    end = clock_s + hours * HOUR_S
    data["horizon"] = end
    data["warmup"] = 0.0
    data.pop("roster", None)
    surges = list(data.get("surges") or [])
    surges += [{"name": f"{r.class_name} today so far x{r.ratio:.2f}", "class": r.class_name, "start": clock_s,
                "end": end, "multiplier": r.ratio} for r in ratios if r.applied]  # fmt: skip
    data["surges"] = surges
    return validate_data(data, "now-cast")


def _edges(start_s: float, end_s: float) -> np.ndarray:
    """``start_s``, then each quarter hour of the clock after it, then ``end_s``."""
    first = (math.floor(start_s / INTERVAL_S) + 1) * INTERVAL_S
    return np.unique(np.concatenate(([start_s], np.arange(first, end_s, INTERVAL_S), [end_s])))


def _measures(scenario: Scenario, records: CallRecords, edges: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
    """Per class: offered, answered within each target's threshold, mean wait and time-average
    queue, per interval between ``edges`` (one replication)."""
    c = records.callers
    nbins = len(edges) - 1
    at = np.maximum(c.arrival_s, edges[0])  # those waiting at the start count in the first interval
    inside = at < edges[-1]
    bins = np.minimum(np.searchsorted(edges, at, side="right") - 1, nbins - 1)
    wait, left = records.wait_s, records.left_queue_s
    widths = np.diff(edges)
    out = {}
    for k, name in enumerate(scenario.class_names()):
        m = (c.cls == k) & inside
        b = bins[m]
        ans = records.outcome[m] == ANSWERED
        offered = np.bincount(b[records.outcome[m] != CLOSED], minlength=nbins)
        answered = np.bincount(b[ans], minlength=nbins)
        with np.errstate(invalid="ignore", divide="ignore"):
            wait_mean = np.bincount(b[ans], weights=wait[m][ans], minlength=nbins) / answered
        mine = c.cls == k
        q = np.diff(clipped_cumulative(c.queued_s[mine], left[mine], edges)) / widths
        measures = {"offered": offered, "wait": wait_mean, "queue": np.maximum(q, 0.0)}
        for t in scenario.targets.get(name, []):
            measures[f"within {t.within:g}"] = np.bincount(b[answered_within(wait[m], ans, t.within)], minlength=nbins)
        out[name] = measures
    return out


def _run(scenario: Scenario, state: State, replications: range, edges: np.ndarray) -> list[dict[str, Any]]:
    """The measures of replications ``replications`` from ``state`` (one task of a worker)."""
    schedule = schedule_from(scenario, state)
    return [_measures(scenario, run_from(scenario, state, r, schedule), edges) for r in replications]


def _run_all(
    scenario: Scenario, states: Sequence[State], replications: int, edges: np.ndarray, jobs: int
) -> list[list[dict[str, Any]]]:
    """Each state's replications' measures, in ``jobs`` local processes (1: this one). Each
    replication's draws are its own, so the processes change nothing in the answer."""
    if jobs <= 1:
        return [_run(scenario, s, range(replications), edges) for s in states]
    from concurrent.futures import ProcessPoolExecutor

    from ..core.runner import _stop_signals_held, _worker_init

    step = math.ceil(replications / jobs)
    chunks = [range(k, min(k + step, replications)) for k in range(0, replications, step)]
    with ProcessPoolExecutor(max_workers=jobs, initializer=_worker_init) as pool:
        with _stop_signals_held():  # the first submit forks the workers
            futures = [[pool.submit(_run, scenario, s, chunk, edges) for chunk in chunks] for s in states]
        return [[m for f in mine for m in f.result()] for mine in futures]


def _pct(values: np.ndarray, q: float) -> float | None:
    values = values[np.isfinite(values)]
    return float(np.percentile(values, q)) if len(values) else None


def _bands(
    scenario: Scenario, runs: list[dict[str, Any]], edges: np.ndarray, state: State, midnight: float
) -> tuple[Band, ...]:
    """The replications' measures summarized per interval and class."""
    schedule = schedule_from(scenario, state)
    widths = np.diff(edges)
    duty = [schedule.on_duty_s(p, edges) / widths for p in range(len(scenario.staffing.pools))]
    day0 = edges[0] - edges[0] % DAY_S
    out = []
    for j in range(len(edges) - 1):
        start = _iso(midnight + edges[j] - day0)
        for name in scenario.class_names():
            offered = np.array([r[name]["offered"][j] for r in runs], dtype=float)
            some = offered > 0
            targets, all_met = [], np.ones(len(runs), dtype=bool)
            for t in scenario.targets.get(name, []):
                within = np.array([r[name][f"within {t.within:g}"][j] for r in runs], dtype=float)
                with np.errstate(invalid="ignore", divide="ignore"):
                    met = within / offered >= t.share - _EPS
                all_met &= met
                targets.append((t.within, t.share, float(met[some].mean()) if some.any() else None))
            p_all = float(all_met[some].mean()) if some.any() and targets else None
            waits = np.array([r[name]["wait"][j] for r in runs], dtype=float)
            queues = np.array([r[name]["queue"][j] for r in runs], dtype=float)
            agents = sum(duty[p][j] for p, pool in enumerate(scenario.staffing.pools) if name in pool.serves)
            out.append(Band(
                start=start, class_name=name, p_target_met=p_all, targets=tuple(targets),
                wait_mean_s=float(np.nanmean(waits)) if np.isfinite(waits).any() else None,
                wait_lo_s=_pct(waits, BAND[0]), wait_hi_s=_pct(waits, BAND[1]),
                queue_mean=float(queues.mean()), queue_lo=_pct(queues, BAND[0]) or 0.0,
                queue_hi=_pct(queues, BAND[1]) or 0.0, agents=float(agents),
            ))  # fmt: skip
    return tuple(out)


def nowcast(
    scenario: Scenario,
    log: CallLog | str | PathLike[str] | Any = None,
    *,
    database_url: str | None = None,
    at: str | dt.datetime | None = None,
    hours: float = 2.0,
    replications: int = 100,
    pool: str | None = None,
    jobs: int | None = None,
) -> Nowcast:
    """The now-cast of ``scenario`` from ``log`` (the call log: an export's path, a DataFrame of its
    columns or a :class:`CallLog`, as ``calibrate`` takes it; or
    read from the voice app's database at ``database_url``, :func:`livelog.read_live_log`; neither:
    nobody waits and no call came today) at ``at`` (UTC; None: now) for ``hours``
    with ``replications`` runs, and with one agent more and one fewer in ``pool`` (None: the
    first pool) from then on, in ``jobs`` local processes (None: every core)."""
    started = time.perf_counter()
    from .calllog import parse_time_s

    at_s = time.time() if at is None else parse_time_s(at, "--at")
    if not 0 < hours <= 24:
        raise ScenarioError(f"--hours {hours:g}: must be more than 0 and at most 24")
    if replications < 2:
        raise ScenarioError(f"--replications {replications}: needs at least 2 for a band")
    if scenario.routed:
        # a start from a state is the fast model's (core/state.py); the routed one starts empty
        raise ScenarioError(
            "nowcast: the scenario transfers, redials, offers callbacks or has languages; a now-cast "
            "models none of them yet: give it the scenario without those keys"
        )
    names = [p.name for p in scenario.staffing.pools]
    pool = names[0] if pool is None else pool
    if pool not in names:
        raise ScenarioError(f"--pool {pool!r}: no such pool (pools: {', '.join(names)})")
    clock = scenario_day(scenario, at_s) * DAY_S + at_s % DAY_S
    if database_url is not None:
        from .livelog import read_live_log

        log = read_live_log(database_url, at_s - at_s % DAY_S - MAX_OPEN_S, at_s)
    elif isinstance(log, (str, PathLike)):
        log = read_call_log(log)
    elif log is not None and not isinstance(log, CallLog):
        log = frame_call_log(log)
    state, ignored = state_of_log(log, scenario, at_s, clock)
    ratios = reforecast(log, scenario, at_s, clock)
    model = nowcast_scenario(scenario, clock, hours, ratios)
    edges = _edges(clock, model.horizon)
    midnight = at_s - at_s % DAY_S
    variants = {"as rostered": state, "plus one": state.with_extra(pool, 1), "minus one": state.with_extra(pool, -1)}
    from ..core.runner import default_jobs

    workers = min(jobs or default_jobs(), replications)
    runs = _run_all(model, list(variants.values()), replications, edges, workers)
    bands = {k: _bands(model, r, edges, s, midnight) for (k, s), r in zip(variants.items(), runs, strict=True)}
    waiting: dict[str, dict[str, float]] = {}
    for w in state.waiting:
        mine = waiting.setdefault(w.class_name, {"callers": 0, "longest_wait_s": 0.0})
        mine["callers"] += 1
        mine["longest_wait_s"] = round(max(mine["longest_wait_s"], w.elapsed_s), 1)
    in_service: dict[str, int] = {}
    for call in state.in_service:
        in_service[call.class_name] = in_service.get(call.class_name, 0) + 1
    duty = on_duty_at(schedule_from(model, state), clock)
    return Nowcast(
        generated_at=_iso(time.time()),
        at=_iso(at_s),
        at_s=clock,
        hours=hours,
        replications=replications,
        pool=pool,
        waiting=waiting,
        in_service=in_service,
        ignored=ignored,
        on_duty={name: duty.get(p, 0) for p, name in enumerate(names)},
        reforecasts=tuple(ratios),
        intervals=bands["as rostered"],
        plus_one=bands["plus one"],
        minus_one=bands["minus one"],
        wall_s=time.perf_counter() - started,
    )
