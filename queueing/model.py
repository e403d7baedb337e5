"""The SimPy model of a shared call centre: callers are data, agents are processes.

An agent process loops: take the oldest waiting call of the highest-priority class its pool
serves, or wait idle until an arriving call is handed to it. That is the non-preemptive
priority rule of a shared 911/311 centre (311 only when no 911 call waits) with a few events
per call. Abandonment is exact without timers: a caller at the head of a FIFO queue whose
patience ran out before an agent reached it left at ``queued + patience``; popping it late
changes nobody else's wait. Shifts: an agent checks its schedule between calls; a call in
progress at the end of a shift is finished (overtime); an idle agent is sent home at the end.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from .callers import Callers
from .records import ABANDONED, ANSWERED, UNSERVED, CallRecords
from .scenario import Scenario
from .staffing import duty_windows

OFF_DUTY = -1


def simulate_replication(scenario: Scenario, callers: Callers) -> tuple[CallRecords, np.ndarray]:
    """Run one replication; return the call records and each pool's overtime (agent-seconds
    worked past shift ends, on calls answered at or after the warm-up)."""
    env = simpy.Environment()
    horizon = scenario.horizon
    warmup = scenario.warmup
    class_names = scenario.class_names()
    class_index = {c: k for k, c in enumerate(class_names)}
    pools = scenario.staffing.pools
    n = len(callers)

    queued = callers.queued_s.tolist()
    handle = callers.handle_s.tolist()
    deadline = (callers.queued_s + callers.patience_s).tolist()
    cls = callers.cls.tolist()
    answered: list[float] = [float("nan")] * n
    agent_of: list[int] = [-1] * n
    outcome: list[int] = [UNSERVED] * n
    overtime = [0.0] * len(pools)

    queues: list[deque[int]] = [deque() for _ in class_names]
    idle: list[deque[tuple[float, Any, int]]] = [deque() for _ in pools]
    # An arriving call goes to an idle specialist before an idle generalist (fewest classes
    # served first, then file order), keeping shared agents free for higher priorities.
    pools_for_class = [
        sorted(
            (p for p, pool in enumerate(pools) if name in pool.serves),
            key=lambda p: (len(pools[p].serves), p),
        )
        for name in class_names
    ]

    def agent(env: simpy.Environment, aid: int, p: int, windows: list[tuple[float, float]]) -> Generator:
        serve_order = [queues[k] for k in sorted(class_index[c] for c in pools[p].serves)]
        my_idle = idle[p]
        for on, off in windows:
            if env.now < on:
                yield env.timeout(on - env.now)
            while env.now < off:
                now = env.now
                call = OFF_DUTY
                for q in serve_order:
                    while q:
                        i = q.popleft()
                        if deadline[i] < now:
                            outcome[i] = ABANDONED
                        else:
                            call = i
                            break
                    if call != OFF_DUTY:
                        break
                if call == OFF_DUTY:
                    wake = env.event()
                    my_idle.append((off, wake, aid))
                    call = yield wake
                    if call == OFF_DUTY:
                        break
                    # env.now was reached by adding a delay and may sit an ulp before queued[call].
                    now = max(env.now, queued[call])
                answered[call] = now
                agent_of[call] = aid
                outcome[call] = ANSWERED
                end = now + handle[call]
                if end > off and off < horizon and now >= warmup:
                    overtime[p] += end - max(off, now)
                yield env.timeout(handle[call])

    def arrivals(env: simpy.Environment) -> Generator:
        for i in range(n):
            t = queued[i]
            if t >= horizon:
                return
            if t > env.now:
                yield env.timeout(t - env.now)
            for p in pools_for_class[cls[i]]:
                if idle[p]:
                    _, wake, _ = idle[p].popleft()
                    wake.succeed(i)
                    break
            else:
                queues[cls[i]].append(i)

    def shift_ends(env: simpy.Environment, times: list[float]) -> Generator:
        """Send idle agents home when their shift ends."""
        for t in times:
            yield env.timeout(t - env.now)
            for waiting in idle:
                if any(off <= t for off, _, _ in waiting):
                    leaving = [w for w in waiting if w[0] <= t]
                    staying = [w for w in waiting if w[0] > t]
                    waiting.clear()  # in place: agents hold a reference to this deque
                    waiting.extend(staying)
                    for _, wake, _ in leaving:
                        wake.succeed(OFF_DUTY)

    agent_pool: list[int] = []
    ends: set[float] = set()
    for p, pool in enumerate(pools):
        for shift in pool.shift_list():
            windows = duty_windows(shift, horizon)
            ends.update(off for _, off in windows if off < horizon)
            for _ in range(shift.agents):
                env.process(agent(env, len(agent_pool), p, windows))
                agent_pool.append(p)
    env.process(arrivals(env))
    env.process(shift_ends(env, sorted(ends)))
    env.run(until=horizon)

    # Callers still queued at the horizon: gone if their patience ran out, else unserved.
    for q in queues:
        for i in q:
            if deadline[i] < horizon:
                outcome[i] = ABANDONED
    agent_arr = np.asarray(agent_of, dtype=np.int32)
    pool_arr = np.where(agent_arr >= 0, np.asarray(agent_pool + [-1], dtype=np.int32)[agent_arr], -1)
    records = CallRecords(
        callers=callers,
        answered_s=np.asarray(answered),
        agent=agent_arr,
        pool=pool_arr.astype(np.int32),
        outcome=np.asarray(outcome, dtype=np.int8),
        horizon_s=horizon,
    )
    return records, np.asarray(overtime)
