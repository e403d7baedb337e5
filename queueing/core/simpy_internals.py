"""The one place ivr311 reaches into SimPy's private API (pinned: ``simpy>=4.1,<5`` in pyproject).

:func:`succeed_later` triggers an event that a process already waits on, ``delay`` seconds
from now, as a single scheduled event. The routed model's arrival process uses it to hand a
caller to an idle agent: the agent is woken at the caller's arrival time by the very event the
arrival process then waits on, one event per hand-over instead of two (a ``Timeout`` for the
arrival process plus ``succeed`` at that time).

SimPy has no public way to do this: ``Event.succeed`` schedules for *now*, ``Timeout`` is a new
event nobody waits on, and chaining them (``timeout.callbacks.append``) costs the second event
this saves. So this does what ``simpy.events.Timeout.__init__`` does for its own event: set
``_ok`` and ``_value`` and call ``Environment.schedule(event, NORMAL, delay)``.
tests/core/test_simpy_internals.py fails loudly when a SimPy release changes any of that.

:func:`succeeds_at` does the same at an absolute time, and :func:`event_queue` lets a process
read when the next event is due: the fast model's processes run ahead of SimPy's clock while
nothing is due before their next step (:mod:`queueing.core.model`), and schedule what they
would at their own time: an agent's wake-up at the end of a call the arrival process took for
it, an idle agent's wake-up, the sleeping arrival process's doorbell.

:func:`urgent_timeout` is a ``Timeout`` processed before the ordinary events of its time: the
routed model decides a callback offer as a caller joins, before an agent woken at that very
time takes it.

:func:`timeouts_at` makes the model's most frequent event, an agent's call ending, with one
Python call instead of two (``Timeout.__init__`` and ``Environment.schedule``): the same entry in
SimPy's event queue (time, ``NORMAL``, the next event id, the event) as ``env.timeout``'s.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from heapq import heappush

import simpy
from simpy.core import NORMAL, URGENT


def succeed_later(env: simpy.Environment, event: simpy.Event, delay: float, value: object) -> None:
    """``event.succeed(value)``, but ``delay`` seconds from now, as a single scheduled event.

    ``event`` must be untriggered (not checked: this is on the model's hot path).
    """
    event._ok = True
    event._value = value
    env.schedule(event, NORMAL, delay)


def succeeds_at(env: simpy.Environment) -> Callable[[simpy.Event, float, object], None]:
    """A function ``at(event, t, value)`` that triggers ``event`` (untriggered, or processed and never
    to be waited on again: not checked) with ``value`` to be processed at time ``t`` (not before now:
    not checked). Its queue entry is the one ``event.succeed(value)`` makes at ``t``: a process that
    runs ahead of the clock (it knows nothing happens before ``t``) schedules what it would at ``t``."""
    queue, eid = env._queue, env._eid

    def at(event: simpy.Event, t: float, value: object) -> None:
        event._ok = True
        event._value = value
        heappush(queue, (t, NORMAL, next(eid), event))

    return at


def event_queue(env: simpy.Environment) -> Sequence[tuple[float, int, int, simpy.Event]]:
    """SimPy's queue of scheduled events, a heap of (time, priority, id, event): ``[0][0]`` is the time
    of the next event (``env.peek()`` without a call); read it, never change it."""
    return env._queue


def urgent_timeout(env: simpy.Environment, delay: float) -> simpy.Event:
    """``env.timeout(delay)``, processed before every ordinary event scheduled for the same time."""
    event = simpy.Event(env)
    event._ok = True
    event._value = None
    env.schedule(event, URGENT, delay)
    return event


def timeouts_at(env: simpy.Environment) -> Callable[[float, simpy.Event | None], simpy.Event]:
    """A function ``at(t, event)`` that returns a timeout landing at time ``t`` (not before now: not
    checked). When ``t`` is ``now + delay``, computed so, its queue entry is the very one
    ``env.timeout(delay)`` makes now: same time, priority and order among events of that time.

    ``event``: None for a new event, or one that ``at`` made and SimPy has processed since, made
    to fire again (a process that sleeps again and again on its own event saves making one)."""
    queue, eid, new, event_type = env._queue, env._eid, simpy.Event.__new__, simpy.Event

    def at(t: float, event: simpy.Event | None = None) -> simpy.Event:
        if event is None:
            event = new(event_type)
            event.env = env
            event._value = None
            event._ok = True
        event.callbacks = []
        heappush(queue, (t, NORMAL, next(eid), event))
        return event

    return at
