"""Does a scenario fit the textbook formulas, and what do they say about it?

``analyze(scenario)`` checks the assumptions of the exact stationary models in
:mod:`queueing.theory.analytic` and, where they hold, gives per-class mean wait, service levels and
(with patience) abandonment. Assumptions:

- constant arrival rates (a flat hourly profile, no surges);
- constant staffing (a head-count that is the same at every hour, at least one agent);
- every class served by exactly one pool (a shared pool or dedicated pools, no overflow);
- exponential handle times with one mean per pool (Cobham needs a common rate);
- patience only in pools serving a single class (Erlang A); no priority formula with abandonment.

The time in the IVR does not matter: Poisson arrivals delayed by independent times stay Poisson.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..core.distributions import Exponential
from ..core.durations import HOUR_S
from ..core.scenario import Scenario
from . import analytic


@dataclass(frozen=True)
class ClassAnswer:
    """Stationary answers for one class (seconds, shares in 0..1)."""

    name: str
    pool: str
    model: str
    agents: int
    load_erlangs: float
    mean_wait_s: float
    service_levels: list[tuple[float, float, float]] = field(default_factory=list)  # (within_s, share, target)
    p_abandon: float | None = None


@dataclass(frozen=True)
class Analysis:
    """Either ``answers`` (the scenario fits) or ``problems`` (the assumptions that fail)."""

    answers: list[ClassAnswer]
    problems: list[str]

    @property
    def fits(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class PoolAnswer:
    """Stationary answers for one pool: per class (highest priority first) the mean wait (s) and
    the share answered within each of its targets; the share abandoning (Erlang A only)."""

    model: str
    mean_waits_s: list[float]
    service_levels: list[list[float]]
    p_abandon: float | None = None


def stationary_pool(
    scenario: Scenario, names: list[str], rates_per_s: list[float], handle_s: float, agents: int
) -> PoolAnswer:
    """The textbook model of a pool with ``agents`` agents serving classes ``names``: Erlang A for
    one class with patience, else Erlang C (one class) or Cobham's non-preemptive priority M/M/c
    (patience ignored, a conservative answer), with one mean handle time ``handle_s``."""
    targets = [scenario.targets.get(c, []) for c in names]
    patience = scenario.classes[names[0]].patience
    if len(names) == 1 and patience is not None:
        res = analytic.erlang_a(agents, rates_per_s[0], handle_s, patience.mean_s)
        return PoolAnswer(
            "Erlang A (M/M/c+M)",
            [res.mean_wait_answered_s],
            [[res.service_level(t.within) for t in targets[0]]],
            res.p_abandon,
        )
    waits = analytic.priority_mmc_mean_waits_s(agents, rates_per_s, handle_s)
    within = sorted({t.within for ts in targets for t in ts})
    by_within = {w: analytic.priority_mmc_service_levels(agents, rates_per_s, handle_s, w) for w in within}
    model = "Erlang C (M/M/c)" if len(names) == 1 else "Cobham, non-preemptive priority M/M/c"
    return PoolAnswer(model, waits, [[by_within[t.within][k] for t in ts] for k, ts in enumerate(targets)])


def _exponential_mean_s(scenario: Scenario, name: str) -> float | None:
    cc = scenario.classes[name]
    dists = [cc.category_handle(c) for c in cc.categories] if cc.categories else [cc.handle_time]
    means = {d.mean_s for d in dists if isinstance(d, Exponential)}
    return means.pop() if len(means) == 1 and all(isinstance(d, Exponential) for d in dists) else None


def analyze(scenario: Scenario) -> Analysis:
    """Check the assumptions and, if they hold, compute the stationary answers."""
    problems: list[str] = []
    rates: dict[str, float] = {}
    for name in scenario.class_names():
        hourly = scenario.classes[name].arrivals.hourly_rates()
        if max(hourly) != min(hourly):
            problems.append(f"class {name}: arrivals vary by hour (the formulas need a constant rate)")
        if scenario.classes[name].arrivals.varies_by_day:
            problems.append(f"class {name}: arrivals vary by day (the formulas need a constant rate)")
        rates[name] = hourly[0] / HOUR_S
        if _exponential_mean_s(scenario, name) is None:
            problems.append(f"class {name}: handle time is not exponential with a single mean")
    if scenario.surges:
        problems.append("surges change the arrival rate over the day")
    for pool in scenario.staffing.pools:
        counts = {pool.agents_at(h * HOUR_S) for h in range(24)}
        if len(counts) > 1:
            problems.append(
                f"pool {pool.name}: staffing changes during the day ({min(counts)} to {max(counts)} agents)"
            )
        elif counts == {0}:
            problems.append(f"pool {pool.name}: no agents (the formulas need at least one; every call would wait)")
        if any(s.days is not None for s in pool.shift_list()):
            problems.append(f"pool {pool.name}: shifts work on some weekdays only (staffing changes over the week)")
        if any(s.breaks for s in pool.shift_list()):
            problems.append(f"pool {pool.name}: agents take breaks (staffing changes during the day)")
    for name in scenario.class_names():
        pools = [p.name for p in scenario.staffing.pools if name in p.serves]
        if len(pools) > 1:
            problems.append(
                f"class {name}: served by {len(pools)} pools ({', '.join(pools)}); the formulas need one pool per class"
            )
    for pool in scenario.staffing.pools:
        means = {_exponential_mean_s(scenario, c) for c in pool.serves}
        if len(pool.serves) > 1 and len(means) > 1:
            problems.append(
                f"pool {pool.name}: its classes have different mean handle times (Cobham's formula needs one)"
            )
        if len(pool.serves) > 1 and any(scenario.classes[c].patience for c in pool.serves):
            problems.append(
                f"pool {pool.name}: abandonment with priorities has no exact formula here "
                "(Erlang A covers a pool serving one class)"
            )
        if any(not isinstance(scenario.classes[c].patience, Exponential | None) for c in pool.serves):
            problems.append(f"pool {pool.name}: patience is not exponential (Erlang A needs it)")
    if problems:
        return Analysis(answers=[], problems=problems)

    answers: list[ClassAnswer] = []
    for pool in scenario.staffing.pools:
        names = [c for c in scenario.class_names() if c in pool.serves]
        agents = pool.agents_at(0.0)
        handle = _exponential_mean_s(scenario, names[0])
        assert handle is not None
        lams = [rates[c] for c in names]
        res = stationary_pool(scenario, names, lams, handle, agents)
        for k, name in enumerate(names):
            sls = [(t.within, res.service_levels[k][j], t.share) for j, t in enumerate(scenario.targets.get(name, []))]
            answers.append(
                ClassAnswer(
                    name, pool.name, res.model, agents, lams[k] * handle, res.mean_waits_s[k], sls, res.p_abandon
                )
            )
    order = scenario.class_names()
    return Analysis(answers=sorted(answers, key=lambda a: order.index(a.name)), problems=[])
