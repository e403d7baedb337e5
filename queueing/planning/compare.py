"""Paired comparison of scenarios run with common random numbers.

Scenarios compared share the seed, so replication r of each sees the same callers; the
difference B − A is then computed replication by replication and its 95% Student-t interval
(:func:`~queueing.core.statistics.paired_difference`) is much narrower than the one of two
independent runs, for the same computing time. Metric names are summary.json keys (``wait_s.mean``, ``abandoned.share``,
``service_level.15s`` for the first target within 15 s, ``utilization``), and with pay rates
``cost.per_day``, ``cost.per_answered_call`` (the centre) and ``cost_per_day`` (a pool).

:func:`windows_met` counts the windows each target is met in (its hours, days...: summary.json's
``met``, :mod:`queueing.core.targets`): what ``compare``'s sentence per plan
(:mod:`queueing.output.comparison`) says with the agent-hours and money one plan buys against another.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..core.call_flows import flows_of, transfer_routes
from ..core.cost import is_costed
from ..core.durations import format_duration
from ..core.metrics import Key
from ..core.runner import (
    DEFAULT_INTERVAL_S,
    Executor,
    SimulationResult,
    Table,
    executor_for,
    run_scenarios,
)
from ..core.scenario import Over, Scenario
from ..core.scenario_file import with_overrides
from ..core.statistics import estimate, paired_difference
from ..errors import ScenarioError

CLASS_METRICS: list[Key] = [
    ("offered",), ("answered",), ("abandoned", "share"), ("wait_s", "mean"), ("wait_s", "p90"), ("wait_s", "p95"),
]  # fmt: skip
POOL_METRICS: list[Key] = [("utilization",), ("agent_hours",), ("overtime_h",)]
# With pay rates (any scenario compared): the centre's cost, then each pool's.
COST_METRICS: list[Key] = [("cost", "per_day"), ("cost", "per_answered_call")]
POOL_COST_METRICS: list[Key] = [("cost_per_day",)]

# The optional call flows (either scenario using one): per class, per class and language, per transfer route.
TRANSFER_METRICS: list[Key] = [("transfers", "out"), ("transfers", "in"), ("diverted",), ("load_erlangs",)]
REDIAL_METRICS: list[Key] = [("callers",), ("redials", "share")]
CALLBACK_METRICS: list[Key] = [
    ("callbacks", "offered"), ("callbacks", "accepted", "share"), ("callbacks", "unanswered", "share"),
    ("callbacks", "wait_s", "mean"),
]  # fmt: skip
LANGUAGE_METRICS: list[Key] = [("offered",), ("interpreter",), ("wait_s", "mean")]
ROUTE_METRICS: list[Key] = [("count",), ("wait_before_s", "mean"), ("wait_after_s", "mean"), ("wait_total_s", "mean")]

COMPARISON_COLUMNS = (
    "metric", "class", "pool", "scenario_a", "scenario_b", "a_value", "b_value", "diff", "diff_ci_low",
    "diff_ci_high", "significant",
)  # fmt: skip


def metric_name(key: Key) -> str:
    return ".".join(key)


def comparable(scenarios: Sequence[Scenario], sources: Sequence[str] | None = None) -> None:
    """Raise ScenarioError unless the scenarios can be paired: the same classes, replications,
    horizon and warm-up (else the "differences" would be those of the time simulated). Messages
    name ``sources`` (the files), or the scenario names without them."""
    names = list(sources) if sources is not None else [repr(s.name) for s in scenarios]
    first = scenarios[0]
    checks = [
        ("call classes", lambda s: sorted(s.classes), ""),
        ("replications", lambda s: s.replications, "; pass --replications"),
        ("horizons", lambda s: format_duration(s.horizon), ""),
        ("warm-ups", lambda s: format_duration(s.warmup), ""),
    ]
    for other, name in zip(scenarios[1:], names[1:], strict=True):
        for what, value, hint in checks:
            if value(other) != value(first):
                raise ScenarioError(
                    f"cannot compare {names[0]} and {name}: their {what} differ "
                    f"({value(first)} vs {value(other)}){hint}"
                )


def flow_keys(scenario: Scenario) -> list[tuple[str, Key]]:
    """The (class, summary key) of the optional call flows ``scenario`` uses ("" for a transfer
    route's keys, which are the centre's): nothing for a scenario without them."""
    flows = flows_of(scenario)
    keys: list[tuple[str, Key]] = []
    for name in scenario.class_names():
        cc = scenario.classes[name]
        head = ("classes", name)
        class_keys = (TRANSFER_METRICS if flows.transfers else []) + (REDIAL_METRICS if flows.redials else [])
        class_keys += CALLBACK_METRICS if cc.callback is not None else []
        keys += [(name, head + k) for k in class_keys]
        levels = [("service_level", f"{t.within:g}") for t in scenario.targets.get(name, [])]
        for lang in cc.languages or {}:
            keys += [(name, (*head, "languages", lang, *k)) for k in LANGUAGE_METRICS + levels]
    for source, target in transfer_routes(scenario):
        keys += [("", ("transfers", source, target, *k)) for k in ROUTE_METRICS]
    return keys


def _series(result: SimulationResult, key: Key) -> list[float]:
    return [float(r.measures.get(key, math.nan)) for r in result.replications]


def comparison_rows(results: Sequence[SimulationResult], labels: Sequence[str]) -> list[dict[str, Any]]:
    """Every headline metric of every class and pool: A's value, each other scenario's value, and
    the paired difference against the first scenario with its 95% interval."""
    base, base_label = results[0], labels[0]
    rows: list[dict[str, Any]] = []
    for other, label in zip(results[1:], labels[1:], strict=True):
        costed = [res.scenario for res in (base, other) if is_costed(res.scenario)]
        currency = costed[0].roster.currency if costed and costed[0].roster else ""
        keys: list[tuple[str, str, Key]] = []
        for name in base.scenario.class_names():
            targets = base.scenario.targets.get(name, [])
            class_keys = CLASS_METRICS + [("service_level", f"{t.within:g}") for t in targets]
            keys += [(name, "", ("classes", name) + k) for k in class_keys]
        pools = [p.name for p in base.scenario.staffing.pools]
        pools += [p.name for p in other.scenario.staffing.pools if p.name not in pools]
        pool_metrics = POOL_METRICS + (POOL_COST_METRICS if costed else [])
        keys += [("", pool, ("pools", pool) + k) for pool in pools for k in pool_metrics]
        keys += [("", "", k) for k in COST_METRICS] if costed else []
        flows = dict.fromkeys(flow_keys(base.scenario) + flow_keys(other.scenario))  # either one's, in order
        keys += [(cname, "", key) for cname, key in flows]
        for cname, pool, key in keys:
            a, b = _series(base, key), _series(other, key)
            diff, lo, hi = paired_difference(a, b)
            short = key[2:] if cname or pool else key  # past ("classes", name) or ("pools", name)
            name = metric_name(short)
            if "service_level" in short:  # a class's, or one of its languages'
                name = metric_name(short[:-1]) + f".{short[-1]}s"
            rows.append({
                "metric": name, "class": cname, "pool": pool, "scenario_a": base_label, "scenario_b": label,
                "a_value": _mean(a), "b_value": _mean(b), "diff": diff, "diff_ci_low": lo, "diff_ci_high": hi,
                "significant": bool(lo > 0 or hi < 0) if not math.isnan(lo) else False, "currency": currency,
            })  # fmt: skip
    return rows


@dataclass(frozen=True)
class WindowsMet:
    """How many windows of one target (its intervals, hours, days...) one plan meets."""

    class_name: str
    within_s: float
    share: float
    over: Over
    met: int  # windows whose service level (mean over replications) reaches the share
    judged: int  # windows with calls offered after the warm-up


def windows_met(result: SimulationResult) -> list[WindowsMet]:
    """Per target of the scenario (classes by priority, targets in file order): the windows it is
    met in, as summary.json's ``met`` counts them (the result's ``judged``)."""
    return [
        WindowsMet(j.class_name, j.target.within, j.target.share, j.target.window, j.n_met, j.n_judged)
        for j in result.judged
    ]


def _mean(values: Sequence[float]) -> float:
    value = estimate(values)["value"]
    return math.nan if value is None else float(value)


def unique_labels(names: Sequence[str]) -> list[str]:
    """``names`` made unique for the comparison's rows: a name met again is numbered (``a``, ``a-2``)."""
    labels: list[str] = []
    for name in names:
        label, n = name, 2
        while label in labels:
            label, n = f"{name}-{n}", n + 1
        labels.append(label)
    return labels


@dataclass
class Comparison:
    """Scenarios run with common random numbers and compared to the first: each one's results
    (``results[i]``, labelled ``labels[i]``) and the paired differences (``rows``, comparison.csv)."""

    labels: list[str]
    results: list[SimulationResult]
    rows: list[dict[str, Any]]

    @property
    def table(self) -> Table:
        """comparison.csv: per metric, class or pool, and scenario against the first, the
        paired difference and its 95% interval."""
        return Table(list(COMPARISON_COLUMNS), lambda: (tuple(r[c] for c in COMPARISON_COLUMNS) for r in self.rows))

    def to_pandas(self) -> Any:
        """comparison.csv as a pandas DataFrame (needs the ``analysis`` extra)."""
        return self.table.to_pandas()

    def windows_met(self) -> dict[str, list[WindowsMet]]:
        """Per scenario, the windows each target is met in (:func:`windows_met`)."""
        return {label: windows_met(r) for label, r in zip(self.labels, self.results, strict=True)}


def compare(
    scenarios: Sequence[Scenario],
    labels: Sequence[str] | None = None,
    *,
    replications: int | None = None,
    seed: int | None = None,
    jobs: int | None = None,
    interval_s: float = DEFAULT_INTERVAL_S,
    dask: str | None = None,
    large: bool = False,
    executor: Executor | None = None,
    on_done: Callable[[], None] | None = None,
) -> Comparison:
    """``ivr311 compare``: every scenario against the first, paired: all run with the same seed and
    replications (default the first scenario's), calls kept (each result's ``calls``). ``labels``
    name them in the rows (default their names, numbered when two share one). Run on
    ``executor``, else Dask at ``dask``, else ``jobs`` local processes (None: all cores);
    ``large`` lifts the soft size limits; ``on_done()`` hears each replication finish."""
    if len(scenarios) < 2:
        raise ScenarioError("compare needs at least two scenarios: the first is the one the others are compared to")
    names = unique_labels([s.name for s in scenarios]) if labels is None else list(labels)
    if len(names) != len(scenarios) or len(set(names)) != len(names):
        raise ScenarioError(f"compare: labels must be one per scenario and unique, got {names}")
    seed = scenarios[0].seed if seed is None else seed
    reps = replications or scenarios[0].replications
    if reps < 2:
        raise ScenarioError("a paired comparison needs at least 2 replications")
    paired = [s if (s.seed, s.replications) == (seed, reps) else with_overrides(s, seed=seed, replications=reps)
              for s in scenarios]  # fmt: skip
    comparable(paired, [repr(n) for n in names])
    with executor_for(
        paired, interval_s, jobs=jobs, dask=dask, keep_calls=True, executor=executor, large=large
    ) as ex:  # fmt: skip
        results = run_scenarios(paired, ex, interval_s=interval_s, keep_calls=True, on_done=on_done)
    return Comparison(names, results, comparison_rows(results, names))
