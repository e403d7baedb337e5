"""The routed model: the fast model (:mod:`queueing.core.model`) with calls made during the run.

Transfers, redials, callbacks and languages make queue entries the fast model's pre-sorted
implicit queues cannot hold: a transferred leg joins a queue when its triage ends, a redial
when the caller comes back through the IVR. This model runs a scenario that uses any of them
(:attr:`Scenario.routed <queueing.core.scenario.Scenario.routed>`; the runner chooses), and
keeps the fast model's rules and processes otherwise: agents are processes that take the next
call or sleep, arrivals are events only while some agent is idle, abandonment is resolved when
a caller is popped, shifts and breaks are checked between calls. The policy (who takes which
call, transfers, callback offers, redials) is :mod:`queueing.core.routing`'s.

- **Legs.** Each row of the records is a leg: one attempt at one class's queue. The callers
  drawn before the run are the first legs (a diverted caller is a call of the class it dialled
  instead); a triage that ends makes a leg of the class transferred to (queued then); an
  abandoned caller who redials makes a leg at ``abandoned + delay``, queued after the IVR.
- **Lanes.** A queue per class and language (:class:`queueing.core.routing.Lane`): the drawn
  legs as the fast model's implicit queue, merged with a heap of the legs made during the run.
- **Callbacks.** A leg of a class with ``callback`` decides, when it joins, on the offer (by
  the predicted wait) and its acceptance; an accepted callback never abandons; the agent that
  reaches it rings for ``ring_time``, then talks if answered. A drawn leg's decision takes no
  event: each process, as it resumes, first makes those due by then, at their own times and
  in the order urgent events would have had (:meth:`RoutedReplication._catch_up`).
- **Interpreters.** A leg taken by an agent who does not speak its language takes the class's
  ``interpreter`` time longer; when a language loses its last speaker on duty, idle agents look
  at the queues again.

With none of the four behaviours in use this model gives the fast model's records exactly
(``tests/core/test_routed_model.py``), only slower.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Generator, Sequence
from typing import Any

import numpy as np
import simpy

from .draws import CallerExtras, Callers, LaterDraws, draw_extras
from .duty import Segment, closed_calls
from .model import OFF_DUTY, Replication
from .records import (
    ABANDONED,
    ACCEPTED,
    ANSWERED,
    CALLBACK_UNANSWERED,
    CLOSED,
    DECLINED,
    NOT_OFFERED,
    UNSERVED,
    CallRecords,
)
from .routing import (
    DIVERTED,
    TRANSFERRED,
    Lane,
    Router,
    callback_offered,
    calls_waiting,
    expected_wait_s,
    redials,
    transfer_kinds,
)
from .scenario import Scenario
from .schedule import Schedule
from .simpy_internals import succeed_later, timeouts_at, urgent_timeout

RECHECK = -2  # the wake-up value that makes an idle agent look at the queues again


def simulate_routed(scenario: Scenario, schedule: Schedule, callers: Callers, replication: int) -> CallRecords:
    """Run one replication of ``scenario`` with transfers, redials, callbacks and languages; the
    callers are those of :func:`~queueing.core.draws.draw_callers` for ``replication``, and
    their further draws are made here from streams of their own."""
    extras = draw_extras(scenario, replication, callers)
    run = RoutedReplication(scenario, schedule, callers, extras, LaterDraws(scenario, replication))
    del extras  # copied into the legs: the model keeps only what transferred callers need of it
    return run.run()


class RoutedReplication(Replication):
    """One replication of the routed model: the legs as growing arrays, the lanes, and the
    processes of :class:`~queueing.core.model.Replication` (whose shift ends it shares)."""

    def __init__(
        self, scenario: Scenario, schedule: Schedule, callers: Callers, extras: CallerExtras, later: LaterDraws
    ) -> None:
        super().__init__(scenario, schedule, callers.__class__(*(a[:0] for a in _columns(callers))))
        self.router = router = Router(scenario, schedule)
        self.later = later
        self.classes = router.classes
        self.uses = {
            "transfer": any(c.transfer is not None for c in self.classes),
            "redial": any(c.redial is not None for c in self.classes),
            "callback": any(c.callback is not None for c in self.classes),
            "language": bool(router.languages),
        }
        # Each column a compact array (8 bytes a value or less), grown as legs are made.
        self.legs: dict[str, Any] = {name: array(code) for name, (code, _) in LEG_COLUMNS.items()}
        self.handing: set[int] = set()  # legs an idle agent is being woken for
        self.book_ahead = True
        # the callback decisions of the drawn legs (see _catch_up): the next to make, of join_legs[jn],
        # at next_join, waited for since join_since
        self.join_legs, self.jn, self.next_join, self.join_since = array("i"), 0, math.inf, self.env.now
        self._first_legs(callers, extras)
        cls = np.frombuffer(self.legs["cls"], dtype=np.int16)
        queued = np.frombuffer(self.legs["queued"], dtype=np.float64)
        order = np.argsort(queued, kind="stable")
        closed = closed_calls(scenario, cls, np.frombuffer(self.legs["arrival"], dtype=np.float64))
        if closed is not None:
            order = order[~closed[order]]
            for i in np.flatnonzero(closed).tolist():
                self.legs["outcome"][i] = CLOSED
        self.first_legs = _array("i", order)  # the drawn legs that queue, in order
        n_lanes = router.lanes_per_class()
        # a leg made during the run has the language of a drawn one: no other lane is ever used
        self.used_lanes = set((np.unique(np.frombuffer(self.legs["language"], dtype=np.int16)) + 1).tolist())
        rank = np.frombuffer(self.legs["language"], dtype=np.int16) + 1
        lane = (cls.astype(np.int64) * n_lanes + rank)[order]
        self.lanes = []
        for k in range(len(self.classes)):
            if len(self.used_lanes) > 1 and router.one_lane(k, self.used_lanes):
                mine = order[cls[order] == k]
                mine = mine[np.lexsort((rank[mine], queued[mine]))]  # by queue time, then language (stable)
                one = Lane(_array("i", mine), _array("d", queued[mine]), 0, _array("b", rank[mine]))
                self.lanes.append([one] * n_lanes)
            else:
                self.lanes.append([_lane(order[lane == k * n_lanes + j], queued, j) for j in range(n_lanes)])
        # interpreted[p][k]: the languages agents of pool p take calls of class k in through an interpreter
        self.interpreted = [
            [set(router.fallback[p][k]) for k in range(len(self.classes))] for p in range(len(self.pools))
        ]
        self.callbacks = [cc.callback for cc in self.classes]
        # The classes a made leg can find closed: every pool serving them has opening hours (a
        # class with a pool open all day never is, and closed_calls costs a numpy call a leg).
        self.may_close = [
            all(p.hours is not None for p in self.pools if name in p.serves) for name in scenario.class_names()
        ]
        # on_duty[k]: (from, until, agents on duty serving class k then, the most calls ahead an offer
        # counts besides the free agents)
        self.on_duty = [(math.inf, -math.inf, 0, 0) for _ in self.classes]
        self.idle_of = [[self.idle[p] for p in pools] for pools in router.pools_for_class]
        # ahead_of[k]: the lanes of class k and every class of higher priority
        self.ahead_of = [
            list(
                dict.fromkeys(
                    lane
                    for per_class in self.lanes[: k + 1]
                    for j, lane in enumerate(per_class)
                    if j in self.used_lanes
                )
            )
            for k in range(len(self.classes))
        ]

    # --- legs ------------------------------------------------------------------------
    def _first_legs(self, callers: Callers, e: CallerExtras) -> None:
        """The drawn callers as the first legs, column by column (each made, copied in and let go
        in turn: the columns are the replication's largest memory): a non-emergency's leg has the
        triage's handle time; a diverted caller's is a call of the class dialled instead."""
        n = len(callers)
        kind = np.zeros(n, dtype=np.int8)
        for k, cc in enumerate(self.classes):
            if cc.transfer is not None:
                mine = callers.cls == k
                kind[mine] = transfer_kinds(cc.transfer, e.transfer_u[mine], callers.arrival_s[mine])
        moved = kind == TRANSFERRED
        # what each caller triaged and transferred is as a call of the class transferred to
        self.to_call = {
            i: (c, h, pt)
            for i, c, h, pt in zip(
                np.flatnonzero(moved).tolist(),
                e.to_category[moved].tolist(),
                e.to_handle_s[moved].tolist(),
                e.to_patience_s[moved].tolist(),
                strict=True,
            )
        }
        diverted = np.flatnonzero(kind == DIVERTED)
        names = self.router.class_names
        to = np.asarray([names.index(c.transfer.to) if c.transfer else -1 for c in self.classes], dtype=np.int16)

        def column(values: np.ndarray, at: np.ndarray | None = None, new: np.ndarray | None = None) -> np.ndarray:
            """``values`` with those of the legs ``at`` replaced by ``new`` (a copy if any are)."""
            if at is None or not len(at):
                return values
            values = values.copy()
            values[at] = new
            return values

        made = {
            "cls": lambda: column(callers.cls, diverted, to[callers.cls[diverted]]),
            "category": lambda: column(callers.category, diverted, e.to_category[diverted]),
            "arrival": lambda: callers.arrival_s,
            "queued": lambda: column(callers.queued_s, diverted, callers.arrival_s[diverted] + e.to_ivr_s[diverted]),
            "handle": lambda: column(
                column(callers.handle_s, np.flatnonzero(moved), e.triage_s[moved]), diverted, e.to_handle_s[diverted]
            ),
            "patience": lambda: column(callers.patience_s, diverted, e.to_patience_s[diverted]),
            "deadline": lambda: np.frombuffer(self.legs["queued"]) + np.frombuffer(self.legs["patience"]),
            "caller": lambda: np.arange(n, dtype=np.int32),
            "transfers": lambda: moved,
            "diverted": lambda: kind == DIVERTED,
            "language": lambda: e.language,
            "accept_u": lambda: e.accept_u,
            "answer_u": lambda: e.answer_u,
        }
        for name, (code, default) in LEG_COLUMNS.items():
            if name in made:
                self.legs[name] = _array(code, made[name]())
            else:
                self.legs[name] = array(code, [default]) * n

    def _to_leg(self, i: int, k: int, t: float) -> dict[str, Any]:
        """What a leg of caller ``i`` (first drawn in class ``k``) is as a call of the class its
        calls are transferred to, made at ``t``."""
        to = self.router.class_names.index(self.classes[k].transfer.to)  # type: ignore[union-attr]
        category, handle, patience = self.to_call[i]
        return dict(
            cls=to, category=category, arrival=t, queued=t, handle=handle, patience=patience, transfers=False,
        )  # fmt: skip

    def _add(self, leg: dict[str, Any]) -> int:
        """Append a leg; its number."""
        legs = self.legs
        n = len(legs["cls"])
        deadline = leg["queued"] + leg["patience"]
        for name, (_, default) in LEG_COLUMNS.items():
            legs[name].append(leg.get(name, default))
        legs["deadline"][n] = deadline
        return n

    def _join(self, leg: int, free: int = 0) -> None:
        """A leg made during the run joins its lane (now or when it is queued), unless no pool
        serving its class is open when it arrives; ``free``: agents about to look at the queues
        now (the one whose triage made the leg), besides the idle ones."""
        legs = self.legs
        k = legs["cls"][leg]
        if self.classes[k].callback is not None:
            name = self.router.class_names[k]
            legs["accept_u"][leg] = self.later.uniform("callback_later", name)
            legs["answer_u"][leg] = self.later.uniform("callback_later", name)
        if self.may_close[k]:
            closed = closed_calls(
                self.scenario, np.asarray([legs["cls"][leg]], dtype=np.int16), np.asarray([legs["arrival"][leg]])
            )
            if closed is not None and closed[0]:
                legs["outcome"][leg] = CLOSED
                return
        rank = legs["language"][leg] + 1
        self.lanes[legs["cls"][leg]][rank].push(leg, legs["queued"][leg], rank)
        if legs["queued"][leg] <= self.env.now:
            self._joined(leg, free)
        else:
            self.env.process(self._join_later(leg))

    def _join_later(self, leg: int) -> Generator:
        made = self.env.now
        yield urgent_timeout(self.env, self.legs["queued"][leg] - self.env.now)
        self._catch_up(self.env.now, made)
        self._joined(leg, 0)

    def _joined(self, leg: int, free: int) -> None:
        """A leg made during the run is in its queue now: the callback decision, an idle agent woken."""
        now = self.env.now
        self._offer(leg, now, free)
        legs = self.legs
        self._wake(self.router.pools_for(legs["cls"][leg], legs["language"][leg], now), leg, now)

    def _abandon(self, leg: int) -> None:
        """A caller whose patience ran out: abandoned, and maybe a redial."""
        legs = self.legs
        legs["outcome"][leg] = ABANDONED
        k = legs["cls"][leg]
        cc = self.classes[k]
        if cc.redial is None or cc.redial.probability <= 0:
            return
        name = self.router.class_names[k]
        if not redials(cc.redial, self.later.uniform("redial", name)):
            return
        t = legs["deadline"][leg] + self.later.duration("redial_delay", name, cc.redial.delay)
        if t >= self.horizon:
            return
        ivr = self.later.duration("redial_ivr", name, cc.ivr_time) if cc.ivr_time is not None else 0.0
        patience = self.later.duration("redial_patience", name, cc.patience) if cc.patience is not None else math.inf
        redial = {name: legs[name][leg] for name in ("cls", "category", "handle", "caller", "transfers", "diverted")}
        redial.update(language=legs["language"][leg], attempt=legs["attempt"][leg] + 1, arrival=t)
        redial.update(queued=t + ivr, patience=patience)
        self._join(self._add(redial))

    def _offer(self, leg: int, now: float, free: int = 0) -> None:
        """The callback decision of a leg joining its queue at ``now`` (not when an agent takes it
        at once; ``free``: agents about to look at the queues besides the idle ones)."""
        legs = self.legs
        k = legs["cls"][leg]
        callback = self.callbacks[k]
        if callback is None or legs["outcome"][leg] != UNSERVED or leg in self.handing:
            return
        deadline = legs["deadline"]
        for idle in self.idle_of[k]:
            free += len(idle)
        since, until, on_duty, most = self.on_duty[k]
        mean_handle_s = self.router.mean_handle_s[k]
        if not since <= now < until:
            on_duty, since, until = self.router.agents_on_duty(k, now)
            # Counting the calls ahead stops where the predicted wait passes the threshold anyway
            # (it grows with them): the decision is the same, the count bounded.
            most = 2 + (math.ceil(callback.offer_after * on_duty / mean_handle_s) if mean_handle_s > 0 else 0)
            self.on_duty[k] = (since, until, on_duty, most)
        ahead = calls_waiting(self.ahead_of[k], now, deadline, free + most) - (deadline[leg] >= now)  # not itself
        expected = expected_wait_s(ahead, free, on_duty, mean_handle_s)
        if not callback_offered(callback, expected):
            return
        if legs["accept_u"][leg] < callback.accept:
            legs["callback"][leg] = ACCEPTED
            deadline[leg] = legs["patience"][leg] = math.inf
        else:
            legs["callback"][leg] = DECLINED

    # --- processes -------------------------------------------------------------------
    def run(self) -> CallRecords:
        env = self.env
        for crew in self.schedule.crews:
            for aid in crew.agent_numbers:
                env.process(self.agent(env, aid, crew.pool, crew.work_segments_s))
        env.process(self.arrivals(env))
        env.process(self.shift_ends(env, self.schedule.shift_ends_s()))
        if self.uses["callback"]:
            self._plan_joins()
            env.process(self.joins(env))
        ends = self.router.coverage_ends()
        if ends:
            env.process(self.rechecks(env, ends))
        # An idle agent booked ahead for the next drawn caller is out of reach of a leg made
        # before that caller comes, and of a recheck: book ahead only when neither can happen.
        self.book_ahead = not (self.uses["transfer"] or self.uses["redial"] or ends)
        env.run(until=self.horizon)
        self._catch_up(math.nextafter(self.horizon, -math.inf))  # the joins after the last event
        return self.records()

    def agent(
        self, env: simpy.Environment, aid: int, p: int, windows: Sequence[Segment], busy_s: float = 0.0
    ) -> Generator:
        """Agent ``aid`` of pool ``p``, as the fast model's, taking calls by
        :meth:`Router.next_call <queueing.core.routing.Router.next_call>`; a triage that ends
        makes the transferred leg. The routed model starts from an empty centre: ``busy_s`` (a
        call in progress at the start, the fast model's now-cast) must be 0."""
        assert busy_s == 0.0, "the routed model starts from an empty centre"
        legs = self.legs
        queued, answered, agent_of = legs["queued"], legs["answered"], legs["agent"]
        deadline, next_call, my_idle = legs["deadline"], self.router.next_call, self.idle[p]
        cls, language, handle, outcome = legs["cls"], legs["language"], legs["handle"], legs["outcome"]
        callback_of, transfers, callbacks = legs["callback"], legs["transfers"], self.callbacks
        interpreted, handing = self.interpreted[p], self.handing
        plan, abandon = self.router.plan(p, self.lanes, self.used_lanes), self._abandon
        timeout, event, timeout_at = env.timeout, env.event, timeouts_at(env)
        ends = None  # this agent's one call-end event, fired again
        for on, off, rest in windows:
            if env.now < on:
                yield timeout(on - env.now)
                self._catch_up(env.now)
            now = env.now
            while now < off:
                call = next_call(plan, now, deadline, abandon)
                if call < 0:
                    wake = event()
                    my_idle.append((off, wake, aid))
                    self.n_idle += 1
                    if self.doorbell is not None:
                        self.doorbell.succeed()
                        self.doorbell = None
                    woken = yield wake
                    now = env.now
                    if self.next_join <= now:
                        self._catch_up(now)
                    if woken == OFF_DUTY:
                        break
                    continue
                if handing:
                    handing.discard(call)
                q = queued[call]
                answered[call] = now if now - q > 1e-9 else q
                agent_of[call] = aid
                # the outcome, and the agent's time on the call (kept as the leg's handle time)
                k = cls[call]
                busy = handle[call]
                if language[call] in interpreted[k] and self.router.takes(p, k, language[call], now)[1]:
                    legs["interpreter"][call] = True
                    busy += self.classes[k].interpreter
                outcome[call] = ANSWERED
                if callback_of[call] == ACCEPTED:
                    callback = callbacks[k]
                    if legs["answer_u"][call] < callback.answer:
                        busy += callback.ring_time
                    else:
                        outcome[call] = CALLBACK_UNANSWERED
                        busy = callback.ring_time
                handle[call] = busy
                now += busy  # the time the call ends, as SimPy's clock will read it
                ends = timeout_at(now, ends)
                yield ends
                if self.next_join <= now:
                    self._catch_up(now)
                if transfers[call]:
                    legs["transferred"][call] = True
                    to_leg = self._to_leg(legs["caller"][call], legs["cls"][call], now)
                    to_leg.update(
                        caller=legs["caller"][call], attempt=legs["attempt"][call], tfrom=legs["cls"][call],
                        language=legs["language"][call], diverted=legs["diverted"][call],
                    )  # fmt: skip
                    self._join(self._add(to_leg), free=int(to_leg["cls"] in self.router.serve_order[p]))
            if rest:
                yield timeout(rest)
                self._catch_up(env.now)

    def arrivals(self, env: simpy.Environment) -> Generator:
        """Wake an idle agent that may take each drawn leg as it joins, as the fast model's
        arrival process (sleeping while nobody is idle)."""
        legs = self.legs
        queued, cls, language, first = legs["queued"], legs["cls"], legs["language"], self.first_legs
        idle, pools_for, horizon, book_ahead = self.idle, self.router.pools_for, self.horizon, self.book_ahead
        fixed = self.router.fixed
        n = len(first)
        j = 0
        timeout_at = timeouts_at(env)
        tick = None  # this process's one timeout, fired again
        while True:
            if self.n_idle == 0:
                self.doorbell = env.event()
                yield self.doorbell
                now = env.now
                if self.next_join <= now:
                    self._catch_up(now)
                while j < n and queued[first[j]] <= now:
                    j += 1
                continue
            if j >= n or queued[first[j]] >= horizon:
                return
            i = first[j]
            t = queued[i]
            now = env.now
            if t > now:
                delay = t - now
                if now + delay < t:
                    delay = math.nextafter(delay, math.inf)
                pools = pools_for(cls[i], language[i], t) if book_ahead else None
                waiting = idle[pools[0]] if pools else None
                if waiting and waiting[0][0] > t:
                    wake = waiting.popleft()[1]
                    self.n_idle -= 1
                    self.handing.add(i)
                    succeed_later(env, wake, delay, i)
                    yield wake
                    if self.next_join <= env.now:
                        self._catch_up(env.now)
                    j += 1
                    continue
                now += delay  # the time SimPy's clock will read
                tick = timeout_at(now, tick)
                yield tick
                if self.next_join <= now:
                    self._catch_up(now)
                if self.n_idle == 0:
                    continue
            pools = fixed[cls[i]][language[i] + 1]
            self._wake(pools_for(cls[i], language[i], now) if pools is None else pools, i, now)
            j += 1

    def _wake(self, pools: list[int], leg: int, now: float) -> None:
        """Wake the first idle agent still on duty of ``pools`` (sending home those whose shift ended)."""
        for p in pools:
            waiting = self.idle[p]
            while waiting:
                off, wake, _ = waiting.popleft()
                self.n_idle -= 1
                if off > now:
                    wake.succeed(leg)
                    return
                wake.succeed(OFF_DUTY)

    def _plan_joins(self) -> None:
        """The drawn legs of the classes with callbacks (in queue order, up to the horizon), whose
        callback decision is made as they join their queue, before an agent woken at that time
        takes a call. The decisions are made without events, by :meth:`_catch_up` as the
        processes go past those times; their times are those of a process that waits for each
        with an urgent ``Timeout`` (before the ordinary events of its time) from the last, and so
        is their order with the joins of calls made during the run at the same time."""
        first = np.frombuffer(self.first_legs, dtype=np.int32)
        cls, queued = np.frombuffer(self.legs["cls"], dtype=np.int16), np.frombuffer(self.legs["queued"])
        offers = np.asarray([c is not None for c in self.callbacks])
        mine = first[offers[cls[first]] & (queued[first] < self.horizon)]
        self.join_legs = _array("i", mine)
        del first, cls, queued  # (views of arrays that grow)
        if len(mine):
            t, at = self.legs["queued"][self.join_legs[0]], self.env.now
            self.next_join = at + (t - at) if t > at else at

    def _catch_up(self, now: float, made: float | None = None) -> None:
        """Make the callback decisions of the drawn legs due by ``now``, each at its own time (the
        state has not changed since: every process calls this before it changes anything). From
        a leg made during the run at ``made`` and joining at ``now`` (an urgent event too): the
        decisions at ``now`` that wait since ``made`` or before (their event is the older)."""
        at, since = self.next_join, self.join_since
        if at > now or (at == now and made is not None and since > made):
            return
        j, mine, queued = self.jn, self.join_legs, self.legs["queued"]
        n = len(mine)
        while at < now or (at == now and (made is None or since <= made)):
            self._offer(mine[j], at)
            j += 1
            if j == n:
                at = math.inf
                break
            t = queued[mine[j]]
            if t > at:  # the wait for it starts at the last decision
                since, at = at, at + (t - at)
        self.jn, self.next_join, self.join_since = j, at, since

    def joins(self, env: simpy.Environment) -> Generator:
        """The callback decisions of the drawn legs queued at the start, after the other processes
        start (the later ones: :meth:`_catch_up`)."""
        self._catch_up(env.now)
        yield from ()

    def shift_ends(self, env: simpy.Environment, times: list[float]) -> Generator:
        """The fast model's, with the callback decisions due made first at each time."""
        for step in super().shift_ends(env, times):
            yield step
            self._catch_up(env.now)

    def rechecks(self, env: simpy.Environment, times: list[float]) -> Generator:
        """When a language loses its last speaker on duty, idle agents look at the queues again."""
        for t in times:
            if t >= self.horizon:
                return
            if t > env.now:
                yield env.timeout(t - env.now)
                self._catch_up(env.now)
            for waiting in self.idle:
                while waiting:
                    _, wake, _ = waiting.popleft()
                    self.n_idle -= 1
                    wake.succeed(RECHECK)

    def records(self) -> CallRecords:
        """The records of every leg, ordered by queue time. Legs still queued at the horizon: gone
        if their patience ran out (and maybe redialled), else unserved."""
        legs, horizon = self.legs, self.horizon
        deadline, queued = legs["deadline"], legs["queued"]
        outcome = legs["outcome"]
        for per_class in self.lanes:
            for rank, lane in enumerate(per_class):  # language by language (a lane may hold them all)
                while True:  # a redial made here joins a lane again
                    left = [i for i in lane.take_rest(rank) if outcome[i] == UNSERVED]
                    gone = [i for i in left if queued[i] < horizon and deadline[i] < horizon]
                    if not gone:
                        break
                    for i in sorted(gone, key=deadline.__getitem__):
                        self._abandon(i)
        order = np.argsort(np.asarray(queued), kind="stable")
        # what the run held is let go as the records are made (the peak of a replication's memory)
        del deadline, queued, outcome
        for name in ("deadline", "accept_u", "answer_u", "transfers"):
            del legs[name]
        self.lanes, self.ahead_of, self.first_legs = [], [], array("i")

        def col(name: str, dtype: Any) -> np.ndarray:
            """The column in queue order; the leg's array is let go (each column is read once)."""
            values = legs.pop(name)
            return np.asarray(np.frombuffer(values, dtype=LEG_DTYPES[values.typecode]), dtype=dtype)[order]

        callers = Callers(
            cls=col("cls", np.int16), category=col("category", np.int16), arrival_s=col("arrival", float),
            queued_s=col("queued", float), handle_s=col("handle", float), patience_s=col("patience", float),
        )  # fmt: skip
        agent = col("agent", np.int32)
        pool = np.where(agent >= 0, np.append(self.schedule.agent_pool, np.int32(-1))[agent], -1).astype(np.int32)
        uses = self.uses
        with_callers = uses["redial"] or uses["transfer"]
        return CallRecords(
            callers=callers,
            answered_s=col("answered", float),
            agent=agent,
            pool=pool,
            outcome=col("outcome", np.int8),
            horizon_s=horizon,
            caller_id=col("caller", np.int64) if with_callers else None,
            attempt=col("attempt", np.int16) if with_callers else None,
            transferred_from=col("tfrom", np.int16) if uses["transfer"] else None,
            transferred=col("transferred", bool) if uses["transfer"] else None,
            diverted=col("diverted", bool) if uses["transfer"] else None,
            language=col("language", np.int16) if uses["language"] else None,
            interpreter=col("interpreter", bool) if uses["language"] else None,
            callback=col("callback", np.int8) if uses["callback"] else None,
        )


# Each leg's columns: its array type code and what a leg made without it has.
LEG_COLUMNS: dict[str, tuple[str, Any]] = {
    "cls": ("h", 0), "category": ("h", -1), "arrival": ("d", 0.0), "queued": ("d", 0.0), "handle": ("d", 0.0),
    "patience": ("d", math.inf), "deadline": ("d", math.inf), "caller": ("i", -1), "attempt": ("h", 1),
    "tfrom": ("h", -1), "transfers": ("b", False), "transferred": ("b", False), "diverted": ("b", False),
    "language": ("h", -1), "interpreter": ("b", False), "callback": ("b", NOT_OFFERED), "accept_u": ("d", math.nan),
    "answer_u": ("d", math.nan), "answered": ("d", math.nan), "agent": ("i", -1), "outcome": ("b", UNSERVED),
}  # fmt: skip
LEG_DTYPES = {"h": np.int16, "d": np.float64, "b": np.int8, "i": np.int32}


def _lane(ids: np.ndarray, queued: np.ndarray, rank: int) -> Lane:
    """A lane (of ``rank``: language + 1) of these drawn legs (in queue order), as compact arrays."""
    return Lane(_array("i", ids), _array("d", queued[ids]), rank)


def _array(code: str, values: np.ndarray) -> array:
    """``values`` as an array of type ``code`` (of the numpy type :data:`LEG_DTYPES` gives it)."""
    out = array(code)
    out.frombytes(memoryview(np.ascontiguousarray(values, dtype=LEG_DTYPES[code])).cast("B"))  # type: ignore[arg-type]  # numpy arrays are buffers
    return out


def _columns(callers: Callers) -> tuple[np.ndarray, ...]:
    return (callers.cls, callers.category, callers.arrival_s, callers.queued_s, callers.handle_s, callers.patience_s)
