"""Does a scenario fit the textbook formulas, and what do they say about it?

``analyze(scenario)`` checks the assumptions of the exact stationary models in
:mod:`queueing.analytic` and, where they hold, gives per-class mean wait, service levels and
(with patience) abandonment. Assumptions:

- constant arrival rates (a flat hourly profile, no surges);
- constant staffing (a head-count that is the same at every hour);
- every class served by exactly one pool (a shared pool or dedicated pools, no overflow);
- exponential handle times with one mean per pool (Cobham needs a common rate);
- patience only in pools serving a single class (Erlang A); no priority formula with abandonment.

The time in the IVR does not matter: Poisson arrivals delayed by independent times stay Poisson.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import analytic
from .distributions import Exponential
from .scenario import HOUR_S, Scenario


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
    for name in scenario.class_names():
        pools = [p.name for p in scenario.staffing.pools if name in p.serves]
        if len(pools) > 1:
            problems.append(f"class {name}: served by {len(pools)} pools ({', '.join(pools)}); "
                            "the formulas need one pool per class")
    for pool in scenario.staffing.pools:
        means = {_exponential_mean_s(scenario, c) for c in pool.serves}
        if len(pool.serves) > 1 and len(means) > 1:
            problems.append(f"pool {pool.name}: its classes have different mean handle times "
                            "(Cobham's formula needs one)")
        if len(pool.serves) > 1 and any(scenario.classes[c].patience for c in pool.serves):
            problems.append(f"pool {pool.name}: abandonment with priorities has no exact formula here "
                            "(Erlang A covers a pool serving one class)")
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
        patience = scenario.classes[names[0]].patience
        if len(names) == 1 and patience is not None:
            res = analytic.erlang_a(agents, lams[0], handle, patience.mean_s)
            sls = [(t.within, res.service_level(t.within), t.share) for t in scenario.targets.get(names[0], [])]
            answers.append(ClassAnswer(names[0], pool.name, "Erlang A (M/M/c+M)", agents, lams[0] * handle,
                                       res.mean_wait_answered_s, sls, res.p_abandon))
            continue
        waits = analytic.priority_mmc_mean_waits_s(agents, lams, handle)
        model = "Erlang C (M/M/c)" if len(names) == 1 else "Cobham, non-preemptive priority M/M/c"
        for k, name in enumerate(names):
            sls = [(t.within, analytic.priority_mmc_service_levels(agents, lams, handle, t.within)[k], t.share)
                   for t in scenario.targets.get(name, [])]
            answers.append(ClassAnswer(name, pool.name, model, agents, lams[k] * handle, waits[k], sls))
    order = scenario.class_names()
    return Analysis(answers=sorted(answers, key=lambda a: order.index(a.name)), problems=[])
