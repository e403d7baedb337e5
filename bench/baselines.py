"""Baseline simulators of the benchmark case, to compare ``ivr311 simulate`` against.

The case: one shared pool of 10 call-takers, exponential 4-minute handle time for
every call, Poisson arrivals of 36 calls/h (911, answered first) and 96 calls/h (311),
non-preemptive priority, nobody abandons.

Three baselines, each run as its own process by ``bench/sim_speed.py``:

* ``simpy``: the textbook SimPy model, one process per call queueing on a
  ``simpy.PriorityResource`` (capacity 10, priority 1 for 911 and 2 for 311);
* ``floor``: SimPy's floor, what SimPy needs to move as many calls and nothing else: one bare
  ``Timeout`` per call in 10 processes (one per agent), no queue, no random draw, no waits;
* ``ciw``: the same system in Ciw 3 with priority classes (non-preemptive);
* ``heapq``: the same system without SimPy, a plain Python loop over a heap of the busy agents'
  call ends (``heapq``) and each class's arrivals drawn ahead: what Python needs to move the
  calls with an event loop of one's own instead of SimPy's.

Usage::

    python -m bench.baselines simpy --calls 1000000
    python -m bench.baselines ciw --days 60 --seed 7

Prints one JSON object on stdout: the model, the simulated horizon, the number of calls that
arrived and that completed service, the mean wait per class (arrivals after the warm-up) and
the wall time of the simulation itself (the whole-process time is measured by the caller).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

AGENTS = 10
MEAN_HANDLE_S = 240.0
RATES_PER_HOUR = {"911": 36.0, "311": 96.0}  # highest priority first
PRIORITY = {"911": 1, "311": 2}
TOTAL_RATE_PER_S = sum(RATES_PER_HOUR.values()) / 3600.0
DAY_S = 86400.0


@dataclass
class WaitStats:
    """Running per-class counts and wait sums (no per-call lists: memory stays flat)."""

    arrived: int = 0
    completed: int = 0
    waits: dict[str, list[float]] = field(
        default_factory=lambda: {name: [0.0, 0.0] for name in RATES_PER_HOUR}
    )  # name -> [count, sum of waits (s)]

    def record_wait(self, name: str, wait_s: float) -> None:
        bucket = self.waits[name]
        bucket[0] += 1.0
        bucket[1] += wait_s

    def mean_waits_s(self) -> dict[str, float | None]:
        return {k: (s / n if n else None) for k, (n, s) in self.waits.items()}


def run_simpy(horizon_s: float, warmup_s: float, seed: int) -> WaitStats:
    """Textbook SimPy model: a source process per class, one process per call."""
    import simpy

    rng = random.Random(seed)
    env = simpy.Environment()
    agents = simpy.PriorityResource(env, capacity=AGENTS)
    stats = WaitStats()

    def call(env: simpy.Environment, name: str) -> Generator[simpy.Event, Any, None]:
        arrival_s = env.now
        with agents.request(priority=PRIORITY[name]) as request:
            yield request
            if arrival_s >= warmup_s:
                stats.record_wait(name, env.now - arrival_s)
            yield env.timeout(rng.expovariate(1.0 / MEAN_HANDLE_S))
        stats.completed += 1

    def source(env: simpy.Environment, name: str, rate_per_s: float) -> Generator[simpy.Event, Any, None]:
        while True:
            yield env.timeout(rng.expovariate(rate_per_s))
            stats.arrived += 1
            env.process(call(env, name))

    for name, per_hour in RATES_PER_HOUR.items():
        env.process(source(env, name, per_hour / 3600.0))
    env.run(until=horizon_s)
    return stats


def run_floor(horizon_s: float, warmup_s: float, seed: int, agents: int = AGENTS) -> WaitStats:
    """SimPy's floor: ``agents`` processes, each yielding one bare ``Timeout`` per call it would
    take, as many calls in all as the case has over ``horizon_s`` (the expected number); no
    queue, no draw. Every call is counted as arrived and completed; there are no waits.

    ``agents`` sets how many events wait in SimPy's queue at once: each step pops the earliest
    of them, in time that grows with the logarithm of their number (10: the case's agents)."""
    import simpy

    env = simpy.Environment()
    per_agent = round(horizon_s * TOTAL_RATE_PER_S / agents)
    gap_s = horizon_s / per_agent  # each agent's calls spread over the horizon

    def agent(env: simpy.Environment) -> Generator[simpy.Event, Any, None]:
        timeout = env.timeout
        for _ in range(per_agent):
            yield timeout(gap_s)

    for _ in range(agents):
        env.process(agent(env))
    env.run()
    stats = WaitStats()
    stats.arrived = stats.completed = per_agent * agents
    return stats


def run_ciw(horizon_s: float, warmup_s: float, seed: int) -> WaitStats:
    """The same system in Ciw 3: priority classes, non-preemptive."""
    import ciw

    names = list(RATES_PER_HOUR)
    network = ciw.create_network(
        arrival_distributions={k: [ciw.dists.Exponential(RATES_PER_HOUR[k] / 3600.0)] for k in names},
        service_distributions={k: [ciw.dists.Exponential(1.0 / MEAN_HANDLE_S)] for k in names},
        number_of_servers=[AGENTS],
        priority_classes=({k: PRIORITY[k] - 1 for k in names}, [False]),  # False: no preemption
    )
    ciw.seed(seed)
    sim = ciw.Simulation(network)
    sim.simulate_until_max_time(horizon_s)
    stats = WaitStats()
    records = sim.get_all_records()
    stats.completed = len(records)
    # Arrivals: completed calls plus those still in the system at the horizon.
    stats.arrived = stats.completed + sum(len(node.all_individuals) for node in sim.transitive_nodes)
    for record in records:
        if record.arrival_date >= warmup_s:
            stats.record_wait(record.customer_class, record.waiting_time)
    return stats


def run_heapq(horizon_s: float, warmup_s: float, seed: int) -> WaitStats:
    """The case in a loop of its own: each class's arrivals drawn ahead (in time order), the busy
    agents' call ends in a heap. An arriving caller is taken at once while an agent is idle (no
    one waits then); an agent whose call ends takes the oldest waiting call of the highest
    class, or goes idle."""
    import heapq

    rng = random.Random(seed)
    names = list(RATES_PER_HOUR)
    arrivals: list[list[float]] = []
    for name in names:
        rate_per_s, t, times = RATES_PER_HOUR[name] / 3600.0, 0.0, []
        while True:
            t += rng.expovariate(rate_per_s)
            if t >= horizon_s:
                break
            times.append(t)
        arrivals.append(times)
    stats = WaitStats()
    stats.arrived = sum(map(len, arrivals))
    sizes, head = [len(a) for a in arrivals], [0] * len(names)
    ends: list[float] = []  # the busy agents' call ends
    idle = AGENTS
    handle_rate_per_s = 1.0 / MEAN_HANDLE_S

    def take(k: int, now: float) -> None:
        i = head[k]
        head[k] = i + 1
        if arrivals[k][i] >= warmup_s:
            stats.record_wait(names[k], now - arrivals[k][i])
        heapq.heappush(ends, now + rng.expovariate(handle_rate_per_s))

    while True:
        if idle:
            # The next arrival over the classes (highest first on a tie); nobody waits meanwhile.
            k, t = -1, horizon_s
            for c in range(len(names)):
                if head[c] < sizes[c] and arrivals[c][head[c]] < t:
                    k, t = c, arrivals[c][head[c]]
            if ends and ends[0] <= t:
                heapq.heappop(ends)  # a call ends first: one more idle agent
                stats.completed += 1
                idle += 1
                continue
            if k < 0:
                break
            idle -= 1
            take(k, t)
            continue
        now = heapq.heappop(ends)
        if now >= horizon_s:
            break
        stats.completed += 1
        for k in range(len(names)):
            if head[k] < sizes[k] and arrivals[k][head[k]] <= now:
                take(k, now)
                break
        else:
            idle += 1
    return stats


MODELS = {"simpy": run_simpy, "floor": run_floor, "ciw": run_ciw, "heapq": run_heapq}


def horizon_for(calls: int | None, days: float | None) -> float:
    """Simulated seconds: enough for ``calls`` expected arrivals, or ``days`` days."""
    if days is not None:
        return days * DAY_S
    assert calls is not None
    return calls / TOTAL_RATE_PER_S


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", choices=sorted(MODELS))
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--calls", type=int, help="expected number of calls (sets the horizon)")
    size.add_argument("--days", type=float, help="simulated days")
    parser.add_argument("--warmup-days", type=float, default=1.0, help="excluded from waits")
    parser.add_argument("--seed", type=int, default=311)
    parser.add_argument(
        "--agents",
        type=int,
        default=AGENTS,
        help=f"floor only: its processes (default {AGENTS})",
    )
    args = parser.parse_args(argv)
    if args.agents < 1:
        parser.error("--agents must be >= 1")
    if args.agents != AGENTS and args.model != "floor":
        parser.error("--agents is the floor's only")
    calls = args.calls if args.calls is not None or args.days is not None else 100_000
    horizon_s = horizon_for(calls if args.days is None else None, args.days)
    warmup_s = min(args.warmup_days * DAY_S, horizon_s / 2)
    started = time.perf_counter()
    if args.model == "floor":
        stats = run_floor(horizon_s, warmup_s, args.seed, args.agents)
    else:
        stats = MODELS[args.model](horizon_s, warmup_s, args.seed)
    wall_s = time.perf_counter() - started
    out = {
        "model": args.model,
        "horizon_s": horizon_s,
        "warmup_s": warmup_s,
        "calls_arrived": stats.arrived,
        "calls_completed": stats.completed,
        "mean_wait_s": stats.mean_waits_s(),
        "sim_wall_s": wall_s,
    }
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
