"""queueing.core.simpy_internals against the SimPy installed: if one of these fails, a SimPy
release changed what succeed_later imitates. Read simpy.events.Timeout.__init__ of that release,
mend succeed_later (or go back to ``env.timeout`` plus ``event.succeed``), then the pin in
pyproject."""

from __future__ import annotations

import inspect
from importlib.metadata import version

import simpy
import simpy.core
import simpy.events

from queueing.core.simpy_internals import event_queue, succeed_later, succeeds_at, timeouts_at, urgent_timeout


def test_simpy_is_the_major_version_pinned() -> None:
    assert version("simpy").split(".")[0] == "4", "succeed_later was written against SimPy 4"


def test_timeout_still_schedules_itself_the_way_succeed_later_does() -> None:
    source = inspect.getsource(simpy.events.Timeout.__init__)
    for line in ("self._value = value", "self._ok = True", "env.schedule(self, NORMAL, delay)"):
        assert line in source, f"simpy.events.Timeout.__init__ no longer has {line!r}"
    assert simpy.core.NORMAL == simpy.events.NORMAL
    assert simpy.events.Event(simpy.Environment())._value is simpy.events.PENDING


def test_an_event_succeeds_later_with_its_value_once() -> None:
    env = simpy.Environment()
    woken: list[tuple[float, object]] = []
    wake = env.event()

    def agent(env: simpy.Environment):
        value = yield wake
        woken.append((env.now, value))

    def arrivals(env: simpy.Environment):
        yield env.timeout(1.0)
        succeed_later(env, wake, 2.5, "caller 7")
        assert wake.triggered and wake.ok and wake.value == "caller 7"
        assert (yield wake) == "caller 7"  # the arrival process waits on the same event
        woken.append((env.now, "arrivals"))

    env.process(agent(env))
    env.process(arrivals(env))
    env.run()
    assert woken == [(3.5, "caller 7"), (3.5, "arrivals")]
    assert wake.processed


def test_an_urgent_timeout_comes_before_the_ordinary_events_of_its_time() -> None:
    env = simpy.Environment()
    order: list[tuple[float, str]] = []

    def ordinary(env: simpy.Environment):
        yield env.timeout(2.0)
        order.append((env.now, "ordinary"))

    def urgent(env: simpy.Environment):
        yield env.timeout(1.0)
        yield urgent_timeout(env, 1.0)
        order.append((env.now, "urgent"))

    env.process(ordinary(env))
    env.process(urgent(env))
    env.run()
    assert order == [(2.0, "urgent"), (2.0, "ordinary")]


def test_a_timeout_at_a_time_is_queued_as_env_timeout_would_queue_it() -> None:
    env = simpy.Environment(initial_time=0.1)
    at = timeouts_at(env)
    order: list[tuple[float, str]] = []

    def sleeper(env: simpy.Environment, name: str, delay: float, mine: bool):
        yield at(env.now + delay) if mine else env.timeout(delay)
        order.append((env.now, name))

    # Made in this order, at these times: ties at 0.3 keep the order they were made in.
    for name, delay, mine in (("a", 0.2, True), ("b", 0.2, False), ("c", 0.1, True), ("d", 0.2, True)):
        env.process(sleeper(env, name, delay, mine))
    env.run()
    assert order == [(0.1 + 0.1, "c"), (0.1 + 0.2, "a"), (0.1 + 0.2, "b"), (0.1 + 0.2, "d")]
    assert not env._queue
    event = at(1.0)
    assert event.triggered and event.ok and event.value is None and not event.processed
    assert env._queue[0][:2] == (1.0, simpy.core.NORMAL)


def test_a_process_sleeps_again_and_again_on_one_timeout_at() -> None:
    env = simpy.Environment()
    at = timeouts_at(env)
    woken: list[float] = []

    def sleeper(env: simpy.Environment):
        event = None
        for delay in (1.5, 2.0, 0.25):
            event = at(env.now + delay, event)
            yield event
            woken.append(env.now)
        assert event.processed

    def ticker(env: simpy.Environment):
        yield env.timeout(3.5)  # made before the sleeper's second sleep: ties keep that order
        woken.append(-env.now)

    env.process(sleeper(env))
    env.process(ticker(env))
    env.run()
    assert woken == [1.5, -3.5, 3.5, 3.75]


def test_an_event_succeeds_at_a_time_as_succeed_would_then() -> None:
    env = simpy.Environment(initial_time=0.1)
    at = succeeds_at(env)
    woken: list[tuple[float, str, object]] = []
    early, late = env.event(), env.event()

    def waiter(env: simpy.Environment, name: str, event: simpy.Event):
        value = yield event
        woken.append((env.now, name, value))

    def ahead(env: simpy.Environment):
        yield env.timeout(0.2)  # then, at about 0.3, what succeed() would do at 0.5 and at 0.4
        at(late, 0.5, "late")
        at(early, 0.4, "early")
        assert event_queue(env)[0][:2] == (0.4, simpy.core.NORMAL)

    def then(env: simpy.Environment):
        yield env.timeout(0.4)  # at 0.1 + 0.4 == 0.5, a tie with "late", made before it: first
        woken.append((env.now, "then", None))

    for name, event in (("early", early), ("late", late)):
        env.process(waiter(env, name, event))
    env.process(ahead(env))
    env.process(then(env))
    env.run()
    assert 0.1 + 0.4 == 0.5
    assert woken == [(0.4, "early", "early"), (0.5, "then", None), (0.5, "late", "late")]
    assert not event_queue(env)
