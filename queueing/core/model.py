"""The SimPy model of a shared call centre: callers are data, agents are processes.

An agent process loops: take the oldest waiting call of the highest-priority class its pool
serves, or wait idle until an arriving call is handed to it. That is the non-preemptive
priority rule of a shared 911/311 centre (311 only when no 911 call waits) with few events
per call:

- Queues are implicit. Callers of a class are sorted by the time they join the queue, so the
  queue at time t is the slice from the class's head pointer up to the last caller queued by
  t. An agent that finishes a call pops from that slice; a caller needs no event to join.
- Arrivals are events only while some agent is idle (someone must be woken up); while every
  agent is busy the arrival process sleeps, and callers pile up in the implicit queues. When
  the caller's first-choice pool has an idle agent, the arrival process takes the call for
  that agent at the time the agent would have (its look at the queues, done for it) and
  schedules the agent's wake-up at the end of that call: a hand-over costs no event of its own.
- Running ahead of the clock: a process whose next step comes before every event in SimPy's
  queue (nothing else can happen in between) takes that step at once instead of scheduling an
  event for it, keeping its own clock. The arrival process goes on from one hand-over to the
  next so; an agent whose call ends first goes on to its next call so. Everything such a
  process schedules is at an absolute time computed from its own clock, the very float SimPy's
  clock would hold, so the records are those of the event-by-event run to the last bit; an
  event due at that very time goes first, as SimPy would order it (ties need the event).
- Abandonment is exact without timers: a caller at the head whose patience ran out before an
  agent reached it left at ``queued + patience``; popping it late changes nobody else's wait.
- Shifts: an agent checks its schedule between calls; a call in progress at the end of a
  shift is finished (overtime); an idle agent is sent home at the end of its shift. Breaks
  work the same way: a call in progress at a break's start is finished, then the agent takes
  the whole break.
- Opening hours: callers arriving while no pool serving their class is open are ``closed``;
  they never enter the model (:func:`simulate_replication` runs the others).
- A start from a state (:mod:`queueing.core.state` builds it): the clock starts at ``start_s``
  instead of 0, with a schedule whose spans of work begin then at the earliest
  (``state.schedule_from``); callers already waiting are callers queued before it (ahead of every
  arrival), and an agent busy at the start (``busy_s``: agent number -> seconds left on its call)
  first finishes that call. The default start (0, nobody busy) is the run from an empty centre.

Who works when, and the agents' numbers, come from the replication's
:class:`~queueing.core.schedule.Schedule`.
"""

from __future__ import annotations

import dataclasses
import math
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Generator, Mapping, Sequence
from typing import Any

import numpy as np
import simpy

from .draws import Callers
from .duty import Segment, closed_calls
from .records import ABANDONED, ANSWERED, CLOSED, UNSERVED, CallRecords
from .scenario import Scenario
from .schedule import Schedule
from .simpy_internals import event_queue, succeeds_at, timeouts_at

OFF_DUTY = -1  # the wake-up value that sends an idle agent home


def simulate_replication(
    scenario: Scenario,
    schedule: Schedule,
    callers: Callers,
    start_s: float = 0.0,
    busy_s: Mapping[int, float] | None = None,
) -> CallRecords:
    """Run one replication of ``scenario`` (whose schedule is ``schedule``) from ``start_s`` with
    the agents of ``busy_s`` on a call for that many more seconds; return the call records
    (overtime past shift ends is measured from them, in ``metrics``). Callers arriving while no
    pool serving their class is open are recorded as closed and never enter the model."""
    closed = closed_calls(scenario, callers.cls, callers.arrival_s)
    if closed is None or not closed.any():
        return Replication(scenario, schedule, callers, start_s, busy_s).run()
    keep = ~closed
    inner = Callers(**{f.name: getattr(callers, f.name)[keep] for f in dataclasses.fields(Callers)})
    records = Replication(scenario, schedule, inner, start_s, busy_s).run()
    answered = np.full(len(callers), np.nan)
    answered[keep] = records.answered_s
    agent = np.full(len(callers), -1, dtype=records.agent.dtype)
    agent[keep] = records.agent
    pool = np.full(len(callers), -1, dtype=records.pool.dtype)
    pool[keep] = records.pool
    outcome = np.full(len(callers), CLOSED, dtype=records.outcome.dtype)
    outcome[keep] = records.outcome
    return dataclasses.replace(records, callers=callers, answered_s=answered, agent=agent, pool=pool, outcome=outcome)


def _view(values: np.ndarray) -> Any:
    """``values`` (C-contiguous) as a memoryview: element reads and writes are Python numbers."""
    return memoryview(values)  # type: ignore[arg-type]  # numpy arrays are buffers


class Replication:
    """One replication in progress: the callers as flat arrays, the implicit queues, the idle
    agents, and the three kinds of SimPy process (:meth:`agent`, :meth:`arrivals`,
    :meth:`shift_ends`) that share them. :meth:`run` starts them and returns the records.

    The processes copy the attributes they read in their loops into locals once (a loop of
    the model runs millions of times; a local is cheaper to read than an attribute).
    """

    def __init__(
        self,
        scenario: Scenario,
        schedule: Schedule,
        callers: Callers,
        start_s: float = 0.0,
        busy_s: Mapping[int, float] | None = None,
    ) -> None:
        self.env = simpy.Environment(start_s)
        self.busy_s = dict(busy_s or {})
        self.scenario = scenario
        self.schedule = schedule
        self.callers = callers
        self.horizon = scenario.horizon
        class_names = scenario.class_names()
        self.class_index = {c: k for k, c in enumerate(class_names)}
        self.pools = scenario.staffing.pools
        n = self.n = len(callers)

        # Flat per-caller data as memoryviews of numpy arrays: a Python number per read or write
        # (as fast as array.array), and no copy of the callers' own columns.
        self.queued = _view(np.ascontiguousarray(callers.queued_s))
        self.handle = _view(np.ascontiguousarray(callers.handle_s))
        self.deadline = _view(callers.queued_s + callers.patience_s)
        self.cls = _view(np.ascontiguousarray(callers.cls))
        self.answered_s = np.full(n, np.nan)
        self.agent_arr = np.full(n, -1, dtype=np.int32)
        self.outcome_arr = np.full(n, UNSERVED, dtype=np.int8)
        self.answered = _view(self.answered_s)
        self.agent_of = _view(self.agent_arr)
        self.outcome = _view(self.outcome_arr)

        # Implicit FIFO queues: members[k] lists class k's callers in queue order, head[k] is the
        # first one nobody has taken yet; those with queued <= now are waiting.
        members = [np.flatnonzero(callers.cls == k) for k in range(len(class_names))]
        self.members = [_view(m) for m in members]
        self.member_queued = [_view(callers.queued_s[m]) for m in members]
        self.head = [0] * len(class_names)
        # Each pool's lanes, highest class first: (class, members, their queue times, how many).
        self.pool_lanes = [
            [
                (k, self.members[k], self.member_queued[k], len(members[k]))
                for k in sorted(self.class_index[c] for c in pool.serves)
            ]
            for pool in self.pools
        ]

        # Idle agents per pool as (end of duty, wake-up event, agent number), and how many in all.
        self.idle: list[deque[tuple[float, Any, int]]] = [deque() for _ in self.pools]
        self.n_idle = 0
        self.doorbell: Any = None  # the event the sleeping arrival process waits on, if it sleeps
        # An arriving call goes to an idle specialist before an idle generalist.
        self.pools_for_class = [scenario.staffing.pools_for(name) for name in class_names]

    def run(self) -> CallRecords:
        """Start an agent process per agent of the schedule (with its number there), the arrivals
        and the shift ends; run to the horizon; return the call records."""
        env = self.env
        for crew in self.schedule.crews:
            for aid in crew.agent_numbers:
                env.process(self.agent(env, aid, crew.pool, crew.work_segments_s, self.busy_s.get(aid, 0.0)))
        env.process(self.arrivals(env))
        env.process(self.shift_ends(env, self.schedule.shift_ends_s()))
        env.run(until=self.horizon)
        return self.records()

    def agent(
        self, env: simpy.Environment, aid: int, p: int, windows: Sequence[Segment], busy_s: float = 0.0
    ) -> Generator:
        """Agent ``aid`` of pool ``p``: first the ``busy_s`` seconds left of a call in progress at
        the start, then over each span of work, take the oldest waiting call of the highest
        class the pool serves, or wait idle to be handed one (or sent home, or on a break). A
        break starts when the call in progress at its scheduled start ends and lasts its whole
        length; the next span starts at its scheduled time or after the break."""
        head, deadline, outcome = self.head, self.deadline, self.outcome
        queued, handle, answered, agent_of = self.queued, self.handle, self.answered, self.agent_of
        lanes = self.pool_lanes[p]
        my_idle = self.idle[p]
        event, pending, succeed_at, timeout_at = env.event, event_queue(env), succeeds_at(env), timeouts_at(env)
        ends = None
        now = env.now
        if busy_s > 0:
            yield env.timeout(busy_s)
            now = env.now
        for on, off, rest in windows:
            if now < on:
                yield timeout_at(now + (on - now), None)
                now = env.now
            while now < off:
                call = -1
                for k, mem, mq, size in lanes:
                    h = head[k]
                    if h == size or mq[h] > now:
                        continue  # nobody waiting in this lane
                    while True:  # pop callers (those whose patience ran out have left) up to a call
                        i = mem[h]
                        h += 1
                        if deadline[i] < now:
                            outcome[i] = ABANDONED
                            if h == size or mq[h] > now:
                                break
                        else:
                            call = i
                            break
                    head[k] = h
                    if call >= 0:
                        break
                if call < 0:
                    wake = event()
                    my_idle.append((off, wake, aid))
                    self.n_idle += 1
                    if self.doorbell is not None:
                        succeed_at(self.doorbell, now, None)
                        self.doorbell = None
                    woken = yield wake
                    now = env.now
                    if woken == OFF_DUTY:
                        break
                    continue  # woken by an arrival or at the end of a call handed to it: look again
                # An arrival event lands up to an ulp after its caller queued; that is no wait.
                q = queued[call]
                answered[call] = now if now - q > 1e-9 else q
                agent_of[call] = aid  # answered: records() reads the outcome from this
                now += handle[call]  # the time the call ends, as env.timeout would compute it
                if now < pending[0][0]:
                    continue  # nothing happens before the call ends: go on from then
                ends = timeout_at(now, ends)  # the agent's one call-end event, fired again
                yield ends
            if rest:
                yield timeout_at(now + rest, None)
                now = env.now

    def arrivals(self, env: simpy.Environment) -> Generator:
        """Wake an idle agent for each arriving caller; sleep (no events) while nobody is idle.

        The process runs ahead of SimPy's clock: ``now`` is the time it has reached, and while no
        event is due before the next hand-over it makes the hand-over itself, without an event, and
        goes on at the time the woken agent would have taken the call. Everything it schedules is
        at an absolute time computed from ``now``, the float SimPy would compute at ``now``."""
        queued, cls, idle, pools_for_class = self.queued, self.cls, self.idle, self.pools_for_class
        # The idle agents of each class's first-choice pool (none for a class no pool serves).
        first_choice = [idle[pools[0]] if pools else deque() for pools in pools_for_class]
        first_lanes = [self.pool_lanes[pools[0]] if pools else [] for pools in pools_for_class]
        head, deadline, outcome = self.head, self.deadline, self.outcome
        handle, answered, agent_of = self.handle, self.answered, self.agent_of
        n, horizon = self.n, self.horizon
        pending, succeed_at, timeout_at = event_queue(env), succeeds_at(env), timeouts_at(env)
        i = bisect_left(queued, env.now)  # callers queued before the start were waiting then
        now = env.now
        tick = None  # this process's one timeout, fired again
        while True:
            if self.n_idle == 0:
                # Nobody to wake: callers join the implicit queues without events.
                self.doorbell = env.event()
                yield self.doorbell
                now = env.now
                i = bisect_right(queued, now, i)  # the callers queued meanwhile are in the queues
                continue
            if i >= n:
                return
            t = queued[i]
            if t >= horizon:
                return
            if t > now:
                delay = t - now
                if now + delay < t:  # land on or after t, so the caller is in the queue
                    delay = math.nextafter(delay, math.inf)
                w = now + delay  # when SimPy's clock would reach the caller from now
                # Fast path: an idle agent of the first-choice pool for this caller, still on duty
                # at t. Otherwise decide at t: a specialist may have come free by then.
                waiting = first_choice[cls[i]]
                if waiting and waiting[0][0] > t:
                    off, wake, aid = waiting.popleft()
                    self.n_idle -= 1
                    if off <= w:  # its shift ends as it wakes: it goes, the caller waits
                        succeed_at(wake, w, i)
                        yield wake
                        now = w
                        i += 1
                        continue
                    # Take the call for the agent as it would at w, and wake it when the call ends:
                    # one event for the call, none for the hand-over. Events due by w come first.
                    if w >= pending[0][0]:
                        tick = timeout_at(w, tick)
                        yield tick
                    call = -1
                    for k, mem, mq, size in first_lanes[cls[i]]:  # the agent's own look at the queues
                        h = head[k]
                        if h == size or mq[h] > w:
                            continue
                        while True:
                            c = mem[h]
                            h += 1
                            if deadline[c] < w:
                                outcome[c] = ABANDONED
                                if h == size or mq[h] > w:
                                    break
                            else:
                                call = c
                                break
                        head[k] = h
                        if call >= 0:
                            break
                    if call < 0:  # everyone it would find has left: idle again
                        waiting.append((off, wake, aid))
                        self.n_idle += 1
                    else:
                        q = queued[call]
                        answered[call] = w if w - q > 1e-9 else q
                        agent_of[call] = aid
                        succeed_at(wake, w + handle[call], call)
                    now = w
                    i += 1
                    continue
                tick = timeout_at(w, tick)
                yield tick
                now = w
                if self.n_idle == 0:
                    continue  # everyone got busy meanwhile; the caller waits in the queue
            for p in pools_for_class[cls[i]]:
                waiting = idle[p]
                while waiting:
                    off, wake, _ = waiting.popleft()
                    self.n_idle -= 1
                    if off > now:
                        succeed_at(wake, now, i)  # this agent will take the oldest call of its highest class
                        break
                    succeed_at(wake, now, OFF_DUTY)  # its shift ends now: home, not to this call
                else:
                    continue
                break
            i += 1

    def shift_ends(self, env: simpy.Environment, times: list[float]) -> Generator:
        """Send idle agents home when their shift ends."""
        for t in times:
            yield env.timeout(t - env.now)
            for waiting in self.idle:
                if any(off <= t for off, _, _ in waiting):
                    leaving = [w for w in waiting if w[0] <= t]
                    staying = [w for w in waiting if w[0] > t]
                    waiting.clear()  # in place: agents hold a reference to this deque
                    waiting.extend(staying)
                    self.n_idle -= len(leaving)
                    for _, wake, _ in leaving:
                        wake.succeed(OFF_DUTY)

    def records(self) -> CallRecords:
        """The call records once the run is over. Callers still queued at the horizon: gone if
        their patience ran out, else unserved."""
        horizon, queued, deadline, outcome = self.horizon, self.queued, self.deadline, self.outcome
        for k, mem in enumerate(self.members):
            for h in range(self.head[k], len(mem)):
                i = mem[h]
                if queued[i] < horizon and deadline[i] < horizon:
                    outcome[i] = ABANDONED
        agent_arr, outcome_arr = self.agent_arr, self.outcome_arr
        outcome_arr[agent_arr >= 0] = ANSWERED
        pool_arr = np.where(agent_arr >= 0, np.append(self.schedule.agent_pool, np.int32(-1))[agent_arr], -1)
        return CallRecords(
            callers=self.callers,
            answered_s=self.answered_s,
            agent=agent_arr,
            pool=pool_arr.astype(np.int32),
            outcome=outcome_arr,
            horizon_s=horizon,
        )
