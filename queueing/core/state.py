"""A run that starts from the centre as it stands: callers already waiting, agents on a call,
agents on duty now and by the roster for the rest of the horizon.

The clock is the scenario's (seconds since 00:00 on day 0), so the day's profile, shifts,
breaks and surges apply as they are: a state at 14:00 (``at_s = 50_400``) of a one-day scenario
runs from 14:00 to the horizon (a now-cast sets the horizon to 14:00 plus its hours). What the
state adds, all drawn from streams of their own (``draws.PURPOSES``'s ``state_*``), so the
scenario's callers after ``at_s`` are the very callers of a run from 0 (common random numbers):

- a caller who has waited ``elapsed_s`` joins its class's queue at ``at_s - elapsed_s``, ahead of
  every caller arriving from ``at_s`` on; its patience is drawn conditioned on having lasted
  ``elapsed_s`` (it may still hang up), its handle time from its category's (or, without one, the
  class's, or a category drawn by the shares) distribution;
- a call answered ``elapsed_s`` ago keeps one agent of its pool busy for the rest of its handle
  time, drawn from the handle-time distribution conditioned on exceeding ``elapsed_s``
  (:func:`residual_s`; without a category, the category is drawn from the shares weighted by the
  chance each gives of a call lasting that long);
- the agents are the schedule's from ``at_s`` on (:func:`schedule_from`): spans of work that
  ended before ``at_s`` are gone, the one in progress starts at ``at_s``; ``extra`` adds an
  agent to a pool for the rest of the horizon (+1) or sends one of those on duty now home (-1).

A state with nothing in it at ``at_s = 0`` is the ordinary run: :func:`run_from` then gives the
records of ``runner.run_task`` bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .distributions import Deterministic, Empirical, Exponential, Gamma, Lognormal, Triangular, Uniform
from .draws import Callers, draw_callers, stream
from .duty import work_spans
from .model import simulate_replication
from .records import CallRecords
from .scenario import Scenario
from .schedule import Crew, Schedule, build_schedule


@dataclass(frozen=True)
class Waiting:
    """A caller in a queue: its class, its category (None: not known) and how long it has waited."""

    class_name: str
    elapsed_s: float
    category: str | None = None


@dataclass(frozen=True)
class InService:
    """A call being answered: its class, category (None: not known), how long since the answer,
    and the pool of the agent on it (None: the first pool serving the class with an agent free)."""

    class_name: str
    elapsed_s: float
    category: str | None = None
    pool: str | None = None


@dataclass(frozen=True)
class State:
    """The centre at ``at_s`` (the scenario's clock, seconds): who waits, who is being answered,
    and agents added to (+n) or sent home from (-n) each pool from then on."""

    at_s: float = 0.0
    waiting: tuple[Waiting, ...] = ()
    in_service: tuple[InService, ...] = ()
    extra: tuple[tuple[str, int], ...] = ()

    def with_extra(self, pool: str, agents: int) -> State:
        """This state with ``agents`` more (or fewer, negative) agents on duty in ``pool`` from now."""
        return replace(self, extra=(*self.extra, (pool, agents)))


def _tail(dist: Any) -> tuple[Any, Any]:
    """(S, S⁻¹): the survival function P(X > t) of a continuous duration distribution of
    :mod:`queueing.core.distributions` and its inverse, in closed form (scipy.special's normal and
    incomplete gamma functions, no scipy.stats: freezing one costs a millisecond)."""
    from scipy.special import gammaincc, gammainccinv, ndtr, ndtri

    if isinstance(dist, Lognormal):
        sigma = math.sqrt(math.log1p((dist.sd / dist.mean) ** 2))
        mu = math.log(dist.mean) - sigma**2 / 2
        return (
            lambda t: ndtr((mu - np.log(np.maximum(t, 1e-300))) / sigma),
            lambda q: np.exp(mu - sigma * ndtri(q)),
        )
    if isinstance(dist, Gamma):
        shape, scale = (dist.mean / dist.sd) ** 2, dist.sd**2 / dist.mean
        return (lambda t: gammaincc(shape, np.maximum(t, 0.0) / scale), lambda q: scale * gammainccinv(shape, q))
    if isinstance(dist, Uniform):
        lo, hi = dist.low, dist.high
        return (lambda t: np.clip((hi - t) / (hi - lo), 0.0, 1.0), lambda q: hi - q * (hi - lo))
    if isinstance(dist, Triangular):
        lo, mode, hi = dist.low, dist.mode, dist.high
        right = (hi - mode) / (hi - lo)  # P(X > mode)

        def sf(t: Any) -> Any:
            t = np.clip(t, lo, hi)
            below = 1 - (t - lo) ** 2 / ((hi - lo) * (mode - lo)) if mode > lo else 1.0
            above = (hi - t) ** 2 / ((hi - lo) * (hi - mode)) if hi > mode else 0.0
            return np.where(t <= mode, below, above)

        def isf(q: Any) -> Any:
            return np.where(
                q <= right,
                hi - np.sqrt(q * (hi - lo) * (hi - mode)),
                lo + np.sqrt(np.maximum(1 - q, 0.0) * (hi - lo) * (mode - lo)),
            )

        return sf, isf
    raise TypeError(f"no survival function for {type(dist).__name__}")  # pragma: no cover - every kind is here


def survival(dist: Any, t_s: float) -> float:
    """P(X > t_s) for a duration distribution of :mod:`queueing.core.distributions`."""
    if isinstance(dist, Exponential):
        return math.exp(-max(t_s, 0.0) / dist.mean)
    if isinstance(dist, Deterministic):
        return 1.0 if dist.value > t_s else 0.0
    if isinstance(dist, Empirical):
        return float(np.mean(np.asarray(dist.values) > t_s))
    return float(_tail(dist)[0](t_s))


def residual_s(dist: Any, elapsed_s: float, u: np.ndarray) -> np.ndarray:
    """The rest of a duration that has lasted ``elapsed_s``: X - elapsed given X > elapsed, by
    inverse transform of the conditional survival function, one value per uniform in ``u``
    (seconds). Exponential: memoryless, the whole distribution again. Deterministic: the time
    left (0 once past). Empirical: the values above ``elapsed_s`` resampled (0 when none is)."""
    u = np.asarray(u, dtype=float)
    if isinstance(dist, Exponential):
        return -dist.mean * np.log1p(-u)  # 1 - u is in (0, 1]: never log(0)
    if isinstance(dist, Deterministic):
        return np.full(u.shape, max(dist.value - elapsed_s, 0.0))
    if isinstance(dist, Empirical):
        above = np.sort(np.asarray(dist.values, dtype=float))
        above = above[above > elapsed_s]
        if not len(above):
            return np.zeros(u.shape)
        return above[np.minimum((u * len(above)).astype(int), len(above) - 1)] - elapsed_s
    sf, isf = _tail(dist)
    tail = float(sf(elapsed_s))
    if tail <= 0:  # past the support (uniform, triangular) or beyond float: the duration is over
        return np.zeros(u.shape)
    # S(X) = (1 - u) S(e) is uniform on (0, S(e)]: X given X > e, by the inverse of S (tails exact).
    return np.maximum(isf((1.0 - u) * tail) - elapsed_s, 0.0)


def _category(
    scenario: Scenario, class_name: str, given: str | None, rng: np.random.Generator, elapsed_s: float
) -> Any:
    """The handle-time distribution of a call: its category's, the class's, or a category drawn by
    the shares weighted by the chance of lasting ``elapsed_s`` (0 for a call not yet answered)."""
    cc = scenario.classes[class_name]
    if given is not None and cc.categories and given in cc.categories:
        return cc.category_handle(given)
    if not cc.categories:
        return cc.handle_time
    names = list(cc.categories)
    weights = np.array([cc.categories[c].share for c in names])
    if elapsed_s > 0:
        weights = weights * [survival(cc.category_handle(c), elapsed_s) for c in names]
    if weights.sum() <= 0:  # no category lasts that long: by the shares alone
        weights = np.array([cc.categories[c].share for c in names])
    j = min(int(np.searchsorted(np.cumsum(weights / weights.sum()), rng.random(), side="right")), len(names) - 1)
    return cc.category_handle(names[j])


def _category_index(scenario: Scenario, class_name: str, category: str | None) -> int:
    cats = list(scenario.classes[class_name].categories or {})
    return cats.index(category) if category in cats else -1


def state_callers(scenario: Scenario, state: State, replication: int) -> Callers:
    """The callers of one replication from ``state``: those waiting at ``state.at_s``, then the
    scenario's callers arriving from then on, ordered by the time they join a queue."""
    callers = draw_callers(scenario, replication)
    keep = callers.arrival_s >= state.at_s
    if keep.all() and not state.waiting:
        return callers
    names = scenario.class_names()
    rows: list[tuple[int, int, float, float, float]] = []
    for k, name in enumerate(names):
        mine = [w for w in state.waiting if w.class_name == name]
        if not mine:
            continue
        cc = scenario.classes[name]
        rng_handle = stream(scenario.seed, replication, "state_handle", name)
        rng_patience = stream(scenario.seed, replication, "state_patience", name)
        for w in mine:
            handle = float(_category(scenario, name, w.category, rng_handle, 0.0).sample(rng_handle, 1)[0])
            u = rng_patience.random(1)
            patience = math.inf
            if cc.patience is not None:
                patience = w.elapsed_s + float(residual_s(cc.patience, w.elapsed_s, u)[0])
            rows.append((k, _category_index(scenario, name, w.category), state.at_s - w.elapsed_s, handle, patience))
    cls = np.array([r[0] for r in rows], dtype=np.int16)
    queued = np.array([r[2] for r in rows], dtype=float)
    parts = (
        (cls, callers.cls[keep]),
        (np.array([r[1] for r in rows], dtype=np.int16), callers.category[keep]),
        (queued, callers.arrival_s[keep]),  # a waiting caller's arrival is taken as its queueing
        (queued, callers.queued_s[keep]),
        (np.array([r[3] for r in rows], dtype=float), callers.handle_s[keep]),
        (np.array([r[4] for r in rows], dtype=float), callers.patience_s[keep]),
    )
    cols = [np.concatenate(p) for p in parts]
    order = np.argsort(cols[3], kind="stable")
    return Callers(*(c[order] for c in cols))


def schedule_from(scenario: Scenario, state: State) -> Schedule:
    """The scenario's schedule from ``state.at_s`` on, with ``state.extra``'s agents: spans of work
    over by then dropped, the one in progress cut to start then; an extra agent works from then to
    the horizon, an agent sent home is the last on duty now in the pool's last crew on duty now."""
    full = build_schedule(scenario)
    at = state.at_s
    if at <= 0 and not state.extra:
        return full
    extra = dict.fromkeys((p.name for p in scenario.staffing.pools), 0)
    for name, n in state.extra:
        extra[name] += n
    horizon = scenario.horizon
    crews: list[Crew] = []
    agent_pool: list[int] = []
    pool_work = []
    for p, pool in enumerate(scenario.staffing.pools):
        mine = [
            Crew(
                pool=p,
                first_agent=0,  # numbered below, once the agents sent home are gone
                agents=crew.agents,
                duty_windows_s=tuple((max(on, at), off) for on, off in crew.duty_windows_s if off > at),
                work_segments_s=tuple((max(on, at), off, rest) for on, off, rest in crew.work_segments_s if off > at),
                absent=crew.absent,
            )
            for crew in full.crews
            if crew.pool == p
        ]
        for _ in range(max(0, -extra[pool.name])):
            now = [j for j, c in enumerate(mine) if c.agents and c.work_segments_s and c.work_segments_s[0][0] <= at]
            if now:
                mine[now[-1]] = replace(mine[now[-1]], agents=mine[now[-1]].agents - 1)
        if extra[pool.name] > 0:
            mine.append(Crew(p, 0, extra[pool.name], ((at, horizon),), ((at, horizon, 0.0),)))
        for j, crew in enumerate(mine):
            mine[j] = replace(crew, first_agent=len(agent_pool))
            agent_pool.extend([p] * crew.agents)
        pool_work.append(work_spans([(c.agents, c.work_segments_s) for c in mine], horizon))
        crews.extend(mine)
    return Schedule(
        horizon_s=horizon,
        warmup_s=max(full.warmup_s, at),
        crews=tuple(crews),
        agent_pool=np.asarray(agent_pool, dtype=np.int32),
        pool_work_s=tuple(pool_work),
    )


def busy_agents(scenario: Scenario, schedule: Schedule, state: State, replication: int) -> dict[int, float]:
    """Agent number -> seconds left on the call it is on at ``state.at_s``: each call in service
    goes to the next agent on duty then in its pool (given, or the first serving its class with
    one left); a call no agent on duty is left for is dropped (its agent is not on the roster)."""
    at = state.at_s
    free: dict[int, list[int]] = {}
    for crew in schedule.crews:
        if crew.work_segments_s and crew.work_segments_s[0][0] <= at < crew.work_segments_s[0][1]:
            free.setdefault(crew.pool, []).extend(crew.agent_numbers)
    pool_index = {p.name: j for j, p in enumerate(scenario.staffing.pools)}
    busy: dict[int, float] = {}
    for name in scenario.class_names():
        mine = [c for c in state.in_service if c.class_name == name]
        if not mine:
            continue
        rng = stream(scenario.seed, replication, "state_service", name)
        for call in mine:
            dist = _category(scenario, name, call.category, rng, call.elapsed_s)
            left = float(residual_s(dist, call.elapsed_s, rng.random(1))[0])
            pools = [pool_index[call.pool]] if call.pool in pool_index else scenario.staffing.pools_for(name)
            for p in pools:
                if free.get(p):
                    busy[free[p].pop(0)] = left
                    break
    return busy


def run_from(scenario: Scenario, state: State, replication: int, schedule: Schedule | None = None) -> CallRecords:
    """One replication of ``scenario`` from ``state`` (its horizon the scenario's): the call
    records, the waiting callers among them (queued before ``state.at_s``)."""
    schedule = schedule if schedule is not None else schedule_from(scenario, state)
    callers = state_callers(scenario, state, replication)
    busy = busy_agents(scenario, schedule, state, replication)
    return simulate_replication(scenario, schedule, callers, state.at_s, busy)


def on_duty_at(schedule: Schedule, at_s: float) -> Mapping[int, int]:
    """Pool index -> agents of ``schedule`` on a span of work at ``at_s``."""
    out: dict[int, int] = {}
    for crew in schedule.crews:
        if any(on <= at_s < off for on, off, _ in crew.work_segments_s):
            out[crew.pool] = out.get(crew.pool, 0) + crew.agents
    return out
