"""What a run would cost, checked before it starts: `validate` ok means `simulate` runs.

A valid scenario can still ask for more than a machine can give: ``rate_per_hour: 1.0e+9``
is 24 billion calls a day; ``agents: 1000000000`` a billion SimPy processes. :func:`check_run`
estimates, from the scenario alone and in microseconds, the calls per replication (rates ×
horizon, surges included), the agent processes and their duty windows, the intervals of
intervals.csv, the replications, the calls in all, and the memory of a worker and of the parent
process, and refuses with one line per problem, naming the field and the limit::

    big.yaml:14: classes.311.arrivals: about 4.3 billion calls per replication; at most 10 million without --large

Soft limits are what a 2-core laptop does in minutes (measured: about 125,000 calls/s per core
and 190 bytes per call in a worker); ``--large`` lifts them, for big machines or a Dask cluster.
Hard limits are never lifted: they are where the run would crash (memory this machine does not
have; counts past the model's integer types).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..errors import ScenarioError
from ..yamlsafe import format_path
from .durations import DAY_S, HOUR_S
from .scenario import Scenario

DEFAULT_INTERVAL_S = 900.0
"""The intervals of intervals.csv when no ``--interval`` is given (15 minutes); defined here, beside the
limit on their count, so that `validate` checks a run without importing the simulator."""

# Soft limits: a few minutes on a 2-core laptop. --large lifts them.
SOFT_CALLS_PER_REPLICATION = 10_000_000
SOFT_CALLS_IN_ALL = 100_000_000
SOFT_AGENTS = 10_000
SOFT_DUTY_WINDOWS = 10_000_000
SOFT_INTERVALS = 100_000
SOFT_REPLICATIONS = 1_000
# Hard limits: past these the run fails whatever the machine.
HARD_CALLS_PER_REPLICATION = 2**31 - 1  # numpy Poisson draws, int32 agent numbers, int16 class codes...
HARD_REPLICATIONS = 1_000_000
MEMORY_SHARE = 0.8  # of this machine's memory a run may plan to use

# Measured on the 2-core reference machine (bench/sim_speed.py and a peak-RSS probe).
BYTES_PER_CALL_WORKER = 200  # callers, model arrays and records while one replication runs
BYTES_PER_CALL_KEPT = 120  # a call record kept in the parent for calls.csv
BYTES_PER_INTERVAL_ROW = 400  # one row of intervals.csv as Python tuples
BYTES_PER_DUTY_WINDOW = 64
BYTES_PER_AGENT = 2_000  # a SimPy process and its generator frame
BYTES_PER_REPLICATION = 20_000  # the measures of one replication

YamlPath = tuple[str | int, ...]
Where = Callable[[YamlPath], str]
"""Where a field is, for messages: ``file.yaml:14: classes.311.arrivals`` (or ``--replications``)."""


def named(scenario: Scenario) -> Where:
    """Where a field is when the scenario came from Python, not a file: ``scenario 'baseline':
    classes.311.arrivals``."""
    return lambda path: f"scenario {scenario.name!r}: {format_path(path)}"


def _cumulative_calls(hourly: Sequence[float], t_s: float) -> float:
    """Expected arrivals in [0, t_s) at the hour-of-day rates ``hourly`` (per hour), repeating daily."""
    days, rest = divmod(t_s, DAY_S)
    hour, into = divmod(rest, HOUR_S)
    h = min(int(hour), 23)
    return days * math.fsum(hourly) + math.fsum(hourly[:h]) + hourly[h] * into / HOUR_S


def expected_calls(scenario: Scenario) -> dict[str, float]:
    """Expected calls per replication of each class over [0, horizon), surges included (exact:
    the cumulative rate between every surge boundary times the product of the multipliers there)."""
    horizon = scenario.horizon
    out: dict[str, float] = {}
    for name, cc in scenario.classes.items():
        if cc.arrivals.varies_by_day:
            from .arrivals import rate_segments  # numpy: only for files whose days differ

            edges, rates = rate_segments(scenario, name)
            out[name] = math.fsum((edges[1:] - edges[:-1]) * rates)
            continue
        hourly = cc.arrivals.hourly_rates()
        surges = [s for s in scenario.surges if s.class_ == name]
        cuts = sorted({0.0, horizon} | {t for s in surges for t in (s.start, s.end) if t < horizon})
        total = 0.0
        for a, b in zip(cuts[:-1], cuts[1:], strict=True):
            factor = math.prod(s.multiplier for s in surges if s.start <= a < s.end)
            total += factor * (_cumulative_calls(hourly, b) - _cumulative_calls(hourly, a))
        out[name] = total
    return out


def _agent_count(scenario: Scenario) -> tuple[int, int]:
    """Agent processes (one per agent of every shift) and their duty windows over the horizon."""
    days = math.ceil(scenario.horizon / DAY_S) + 2
    agents = windows = 0
    for pool in scenario.staffing.pools:
        for shift in pool.shift_list():
            agents += shift.agents
            windows += (shift.agents + 1) * days
    return agents, windows


def amount(n: float) -> str:
    """A count for people: 95,000; 12 million; 4.3 billion; 'more than 10^15' for absurd ones."""
    if not math.isfinite(n) or n >= 1e15:
        return "more than 10^15"
    for size, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
        if n >= size:
            value = n / size
            return f"{value:.2g} {word}" if value < 10 else f"{value:,.0f} {word}"
    return f"{n:,.0f}"


def gib(n_bytes: float) -> str:
    return f"{n_bytes / 2**30:.1f} GiB" if math.isfinite(n_bytes) and n_bytes < 1e18 else "more than an exabyte"


def physical_memory() -> float:
    """Bytes of memory of this machine (infinity when it cannot be told)."""
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
        return math.inf


@dataclass(frozen=True)
class Cost:
    """What one scenario's run needs (estimates, per replication unless said otherwise)."""

    calls_by_class: dict[str, float]
    agents: int
    duty_windows: int
    intervals: int
    replications: int
    worker_bytes: float
    parent_bytes: float

    @property
    def calls(self) -> float:
        return math.fsum(self.calls_by_class.values())


def cost(scenario: Scenario, interval_s: float, keep_calls: bool = False) -> Cost:
    """Estimate what simulating ``scenario`` needs, without drawing anything."""
    calls = expected_calls(scenario)
    n = math.fsum(calls.values())
    agents, windows = _agent_count(scenario)
    intervals = math.ceil(scenario.horizon / interval_s)
    rows = intervals * len(scenario.classes)
    worker = n * BYTES_PER_CALL_WORKER + rows * BYTES_PER_INTERVAL_ROW + windows * BYTES_PER_DUTY_WINDOW
    worker += agents * BYTES_PER_AGENT
    kept = rows * BYTES_PER_INTERVAL_ROW + BYTES_PER_REPLICATION + (n * BYTES_PER_CALL_KEPT if keep_calls else 0)
    reps = scenario.replications
    return Cost(calls, agents, windows, intervals, reps, worker, reps * kept)


def run_problems(
    scenario: Scenario,
    where: Where,
    *,
    interval_s: float,
    keep_calls: bool = False,
    large: bool = False,
    local: bool = True,
) -> list[str]:
    """Every reason not to start this run, one message each (empty: go ahead)."""
    c = cost(scenario, interval_s, keep_calls)
    soft = "" if large else " without --large"
    problems: list[str] = []

    def limit(value: float, soft_max: float, hard_max: float, path: YamlPath, what: str) -> None:
        if value > hard_max:
            problems.append(f"{where(path)}: {what}; at most {amount(hard_max)} (a limit of the model)")
        elif not large and value > soft_max:
            problems.append(f"{where(path)}: {what}; at most {amount(soft_max)}{soft}")

    busiest = max(c.calls_by_class, key=lambda k: c.calls_by_class[k])
    limit(
        c.calls,
        SOFT_CALLS_PER_REPLICATION,
        HARD_CALLS_PER_REPLICATION,
        ("classes", busiest, "arrivals"),
        f"about {amount(c.calls)} calls per replication (rates x horizon, surges included)",
    )
    limit(
        c.replications,
        SOFT_REPLICATIONS,
        HARD_REPLICATIONS,
        ("replications",),
        f"{amount(c.replications)} replications",
    )
    if c.calls <= SOFT_CALLS_PER_REPLICATION and c.replications <= SOFT_REPLICATIONS:
        limit(
            c.calls * c.replications,
            SOFT_CALLS_IN_ALL,
            math.inf,
            ("replications",),
            f"about {amount(c.calls * c.replications)} calls in all ({c.replications} replications)",
        )
    limit(c.agents, SOFT_AGENTS, math.inf, ("staffing",), f"{amount(c.agents)} agents in all shifts")
    limit(
        c.duty_windows,
        SOFT_DUTY_WINDOWS,
        math.inf,
        ("staffing",),
        f"about {amount(c.duty_windows)} agent duty windows over the horizon (agents x days)",
    )
    limit(
        c.intervals,
        SOFT_INTERVALS,
        math.inf,
        ("horizon",),
        f"{amount(c.intervals)} intervals of --interval per replication",
    )
    memory = physical_memory() * MEMORY_SHARE
    need = c.parent_bytes + (c.worker_bytes if local else 0.0)
    if not problems and need > memory:
        problems.append(
            f"{where(('replications',) if c.parent_bytes > c.worker_bytes else ())}: needs about "
            f"{gib(need)} of memory ({amount(c.calls)} calls per replication, {c.replications} "
            f"replications{', calls kept for calls.csv' if keep_calls else ''}); this machine has "
            f"{gib(physical_memory())}"
        )
    return problems


def check_run(
    runs: Sequence[tuple[Scenario, Where]],
    *,
    interval_s: float,
    keep_calls: bool = False,
    large: bool = False,
    local: bool = True,
) -> None:
    """Raise ScenarioError listing every problem of every run (see :func:`run_problems`), and one
    more if the runs together are more calls than the soft limit."""
    problems: list[str] = []
    for scenario, where in runs:
        problems += run_problems(
            scenario, where, interval_s=interval_s, keep_calls=keep_calls, large=large, local=local
        )
    if not problems and len(runs) > 1 and not large:
        total = math.fsum(cost(s, interval_s).calls * s.replications for s, _ in runs)
        if total > SOFT_CALLS_IN_ALL:
            problems.append(
                f"{runs[0][1](())}: about {amount(total)} calls in all ({len(runs)} scenarios); "
                f"at most {amount(SOFT_CALLS_IN_ALL)} without --large"
            )
    if problems:
        raise ScenarioError("\n".join(problems))


def workers_for(jobs: int, tasks: int, worker_bytes: float) -> int:
    """Local processes worth starting: no more than the tasks, nor than this machine's memory holds."""
    fit = int(physical_memory() * MEMORY_SHARE // worker_bytes) if worker_bytes > 0 else jobs
    return max(1, min(jobs, tasks, fit))
