"""Replications and executors: run a scenario R times, in this process or a process pool.

Replication r draws its callers from streams keyed by (seed, r), so the results do not depend
on which process ran it or in what order: ``--jobs 4`` gives the same files as ``--jobs 1``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from .callers import draw_callers
from .metrics import Key, interval_columns, replication_intervals, replication_measures, summarize
from .model import simulate_replication
from .records import CallRecords
from .scenario import Scenario

DEFAULT_INTERVAL_S = 900.0


def version() -> str:
    """The installed ivr311 version (recorded in every summary)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("ivr311")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0+unknown"


@dataclass(frozen=True)
class ReplicationResult:
    """What one replication returns to the parent process (small unless calls are kept)."""

    replication: int
    measures: dict[Key, float]
    intervals: list[tuple[Any, ...]]
    records: CallRecords | None


def run_replication(
    scenario: Scenario, replication: int, interval_s: float = DEFAULT_INTERVAL_S, keep_calls: bool = False
) -> ReplicationResult:
    """Draw the callers of replication ``replication``, simulate, and measure."""
    callers = draw_callers(scenario, replication)
    records, overtime = simulate_replication(scenario, callers)
    return ReplicationResult(
        replication=replication,
        measures=replication_measures(scenario, records, overtime),
        intervals=replication_intervals(scenario, records, replication, interval_s),
        records=records if keep_calls else None,
    )


def _run_packed(args: tuple[Scenario, int, float, bool]) -> ReplicationResult:
    return run_replication(*args)


@dataclass
class SimulationResult:
    """Everything a run produced; ``write`` lays it out as the results contract says."""

    scenario: Scenario
    replications: list[ReplicationResult]
    interval_s: float
    summary: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.summary = summarize(self.scenario, [r.measures for r in self.replications], version())

    @property
    def interval_columns(self) -> list[str]:
        return interval_columns(self.scenario)

    def interval_rows(self) -> Iterator[tuple[Any, ...]]:
        for rep in self.replications:
            yield from rep.intervals


def default_jobs() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def simulate(
    scenario: Scenario,
    *,
    jobs: int = 1,
    interval_s: float = DEFAULT_INTERVAL_S,
    keep_calls: bool = False,
    on_done: Callable[[int], None] | None = None,
) -> SimulationResult:
    """Run every replication of ``scenario`` with ``jobs`` processes; results in replication order.

    ``on_done(r)`` is called in this process as each replication finishes (progress bars).
    """
    work = [(scenario, r, interval_s, keep_calls) for r in range(scenario.replications)]
    results: list[ReplicationResult] = []
    if jobs <= 1 or len(work) <= 1:
        for args in work:
            results.append(_run_packed(args))
            if on_done:
                on_done(args[1])
    else:
        with ProcessPoolExecutor(max_workers=min(jobs, len(work))) as pool:
            for res in pool.map(_run_packed, work):
                results.append(res)
                if on_done:
                    on_done(res.replication)
    return SimulationResult(scenario=scenario, replications=results, interval_s=interval_s)
