"""The routing policy of the routed model, in one place: who takes which call next, where a
transferred leg goes, when a callback is offered, whether an abandoner redials.

The rules (each a method of :class:`Router`, or a function below):

- **Who takes which call** (:meth:`Router.next_call`): an agent takes the oldest waiting call
  of the highest-priority class its pool serves, among the calls in a language its pool speaks
  (``languages`` of the pool; every language without it). A caller whose language no agent on
  duty speaks (by the schedule, in a pool serving the class) may be answered by an agent of a
  pool speaking the scenario's first language when the class has an ``interpreter``: the call
  then takes that much longer. Without ``interpreter`` the caller waits for a speaker.
- **Which idle agent is woken** for an arriving call (:meth:`Router.pools_for`): one of a pool
  that could take it, specialists first (``Staffing.pools_for``).
- **Transfers** (:func:`transfer_kind`): a caller of a class with ``transfer`` whose uniform is
  below ``share x diverted`` (the share of the hour the caller arrives in) dialled the other
  class instead (diverted); below ``share``, the call is triaged at this class's priority and
  transferred to class ``to`` when the triage ends, where it queues again as a call of ``to``.
- **Callback offers** (:func:`expected_wait_s`, :func:`callback_offered`): when a caller joins a
  queue of a class with ``callback``, the model predicts the wait as
  ``max(0, ahead + 1 - free) x mean handle / on duty``: ``ahead`` the calls waiting then in the
  caller's class and every class of higher priority, ``free`` the idle agents of pools serving
  the class, ``on duty`` the agents on duty by the schedule in those pools (no one on duty: an
  infinite wait), the mean handle the class's. Above ``offer_after`` the callback is offered.
- **Redials** (:func:`redials`): an abandoner redials with the class's probability.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_right
from collections.abc import Callable, Sequence

import numpy as np

from .durations import DAY_S, HOUR_S
from .scenario import Callback, Redial, Scenario, Transfer
from .schedule import Schedule

NOT_TRANSFERRED, TRANSFERRED, DIVERTED = 0, 1, 2


def transfer_kind(transfer: Transfer | None, u: float, arrival_s: float) -> int:
    """NOT_TRANSFERRED, TRANSFERRED or DIVERTED for a caller arriving at ``arrival_s`` whose
    transfer uniform is ``u``. The diverted callers are among those who would be transferred
    without a campaign, so a larger ``diverted`` moves the same callers (paired comparisons)."""
    if transfer is None:
        return NOT_TRANSFERRED
    share = transfer.share_at(arrival_s)
    if u < share * transfer.diverted:
        return DIVERTED
    return TRANSFERRED if u < share else NOT_TRANSFERRED


def transfer_kinds(transfer: Transfer, u: np.ndarray, arrival_s: np.ndarray) -> np.ndarray:
    """:func:`transfer_kind` of many callers of one class at once (int8)."""
    if isinstance(transfer.share, list):
        share = np.asarray(transfer.share)[(arrival_s % DAY_S // HOUR_S).astype(int)]
    else:
        share = np.full(len(u), transfer.share)
    kinds = np.where(u < share, TRANSFERRED, NOT_TRANSFERRED)
    kinds[u < share * transfer.diverted] = DIVERTED
    return kinds.astype(np.int8)


def expected_wait_s(ahead: int, free: int, on_duty: int, mean_handle_s: float) -> float:
    """The wait predicted for a caller joining behind ``ahead`` waiting calls (of its class and
    higher ones) with ``free`` idle agents and ``on_duty`` agents serving its class."""
    if ahead < free:
        return 0.0
    if on_duty <= 0:
        return float("inf")
    return (ahead + 1 - free) * mean_handle_s / on_duty


def callback_offered(callback: Callback | None, expected_s: float) -> bool:
    """Whether a caller whose predicted wait is ``expected_s`` is offered a callback."""
    return callback is not None and expected_s > callback.offer_after


def redials(redial: Redial | None, u: float) -> bool:
    """Whether an abandoner redials, given its redial uniform ``u``."""
    return redial is not None and u < redial.probability


class Lane:
    """The calls of one class in one language, in the order they join: the callers drawn before
    the run (leg numbers sorted by the time they queue, and a head pointer, as the fast model's
    implicit queues) merged with the calls made during the run (a heap by queue time).

    One lane may hold a class's calls in every language, when every agent who takes the class
    takes them all: each call then has the ``rank`` of its language's lane (language + 1), and
    calls queued at the same time go in the order of their languages' lanes, the drawn one first
    within a language (the order a look at the lanes one by one gives). ``ranks``: the drawn
    calls' (None: all ``rank``); the calls made during the run are also kept by language, in
    heaps of their own (``by_rank``), laid out as each language's own lane would have them."""

    __slots__ = ("ids", "queued", "size", "head", "heap", "seq", "rank", "ranks", "by_rank")

    def __init__(
        self, ids: Sequence[int], queued: Sequence[float], rank: int = 0, ranks: Sequence[int] | None = None
    ) -> None:
        self.ids: Sequence[int] = ids  # compact arrays in the model (4 bytes a call)
        self.queued: Sequence[float] = queued
        self.rank, self.ranks = rank, ranks
        self.size = len(self.ids)
        self.head = 0
        self.heap: list[tuple[float, int, int, int]] = []
        self.seq = 0
        self.by_rank: dict[int, list[tuple[float, int, int, int]]] | None = {} if ranks is not None else None

    def push(self, leg: int, queued_s: float, rank: int | None = None) -> None:
        """A call made during the run (a redial, a transferred leg) joining at ``queued_s``; ``rank``
        its language's lane (default: the lane's)."""
        entry = (queued_s, self.rank if rank is None else rank, self.seq, leg)
        heapq.heappush(self.heap, entry)
        if self.by_rank is not None:
            heapq.heappush(self.by_rank.setdefault(entry[1], []), entry)
        self.seq += 1

    def pop(self, from_heap: bool) -> int:
        """Remove and return the first drawn call not taken (``from_heap``: the first made during the run)."""
        if from_heap:
            entry = heapq.heappop(self.heap)
            if self.by_rank is not None:
                heapq.heappop(self.by_rank[entry[1]])  # the same call: the first of its language
            return entry[3]
        self.head += 1
        return self.ids[self.head - 1]

    def heap_first(self) -> bool:
        """Whether the first call made during the run goes before the first drawn one when both
        queued at the same time: if its language's lane is of lower rank."""
        ranks = self.ranks
        return self.heap[0][1] < (self.rank if ranks is None else ranks[self.head])

    def take_rest(self, rank: int) -> list[int]:
        """Remove and return every call of the language lane ``rank`` not taken (the run is over):
        the drawn ones in queue order, then those made during the run as its heap lays them out."""
        if self.ranks is None:
            rest = list(self.ids[self.head :]) + [entry[3] for entry in self.heap]
            self.ids, self.queued, self.size, self.head, self.heap = [], [], 0, 0, []
            return rest
        assert self.by_rank is not None
        mine: list[int] = []
        ids, queued, ranks = [], [], []
        for h in range(self.head, self.size):
            if self.ranks[h] == rank:
                mine.append(self.ids[h])
            else:
                ids.append(self.ids[h])
                queued.append(self.queued[h])
                ranks.append(self.ranks[h])
        self.ids, self.queued, self.ranks, self.size, self.head = ids, queued, ranks, len(ids), 0
        mine += [entry[3] for entry in self.by_rank.pop(rank, [])]
        self.heap = [entry for entry in self.heap if entry[1] != rank]
        heapq.heapify(self.heap)
        return mine


def calls_waiting(lanes: Sequence[Lane], now: float, deadline: Sequence[float], limit: int) -> int:
    """Calls of ``lanes`` queued by ``now`` still waiting (not taken, patience not run out), counted
    up to ``limit``: the count, or ``limit`` if it is that or more (the rest is not looked at)."""
    count = 0
    for lane in lanes:
        if count >= limit:
            break
        h, size = lane.head, lane.size
        if h < size:
            ids, queued = lane.ids, lane.queued
            while h < size and queued[h] <= now:
                if deadline[ids[h]] >= now:
                    count += 1
                    if count >= limit:
                        return limit
                h += 1
        for q, _, _, leg in lane.heap:
            if q <= now and deadline[leg] >= now:
                count += 1
                if count >= limit:
                    return limit
    return count


def _step(spans: list[tuple[float, float, int]]) -> tuple[list[float], list[int]]:
    """A count over time from (on, off, count) spans: breakpoints and the count from each on."""
    changes: dict[float, int] = {}
    for on, off, count in spans:
        changes[on] = changes.get(on, 0) + count
        changes[off] = changes.get(off, 0) - count
    times = sorted(changes)
    counts, total = [], 0
    for t in times:
        total += changes[t]
        counts.append(total)
    return times, counts


def _at(step: tuple[list[float], list[int]], t: float) -> int:
    times, counts = step
    j = bisect_right(times, t) - 1
    return counts[j] if j >= 0 else 0


class Router:
    """The scenario's routing tables for one run: lanes are indexed by class (0 = highest
    priority) and language + 1 (0: a caller without a language, whom anyone answers)."""

    def __init__(self, scenario: Scenario, schedule: Schedule) -> None:
        self.class_names = scenario.class_names()
        self.languages = scenario.languages()
        self.classes = [scenario.classes[c] for c in self.class_names]
        pools = scenario.staffing.pools
        index = {c: k for k, c in enumerate(self.class_names)}
        self.serve_order = [sorted(index[c] for c in pool.serves) for pool in pools]
        everyone = range(len(self.languages))
        self.speaks = [
            {self.languages.index(lang) for lang in pool.languages} if pool.languages is not None else set(everyone)
            for pool in pools
        ]
        first = 0 if self.languages else -1
        self.interprets = [first in spoken for spoken in self.speaks]
        self.pools_for_class = [scenario.staffing.pools_for(c) for c in self.class_names]
        spans_of_pool: list[list[tuple[float, float, int]]] = [[] for _ in pools]
        for crew in schedule.crews:
            if crew.agents:
                spans_of_pool[crew.pool].extend((on, off, crew.agents) for on, off, _ in crew.work_segments_s)
        self.on_duty = [
            _step([s for p in self.pools_for_class[k] for s in spans_of_pool[p]]) for k in range(len(self.classes))
        ]
        # coverage[k][l]: agents on duty in pools serving class k and speaking language l
        self.coverage = [
            [
                _step([s for p in self.pools_for_class[k] if lang in self.speaks[p] for s in spans_of_pool[p]])
                for lang in everyone
            ]
            for k in range(len(self.classes))
        ]
        self.mean_handle_s = [cc.mean_handle_s() for cc in self.classes]
        # per pool and class: the lanes its agents always take (callers without a language, and
        # its languages), and the languages they take through an interpreter when nobody speaks them
        self.always = [[0] + [lang + 1 for lang in sorted(spoken)] for spoken in self.speaks]
        self.fallback = [
            [
                [lang for lang in everyone if lang not in self.speaks[p]]
                if self.classes[k].interpreter is not None and self.interprets[p]
                else []
                for k in range(len(self.classes))
            ]
            for p in range(len(pools))
        ]
        # fixed[k][language + 1]: pools_for's answer when no pool's depends on who is on duty, else None
        self.fixed = [
            [
                None
                if any(self._by_coverage(p, k, lang) for p in self.pools_for_class[k])
                else [p for p in self.pools_for_class[k] if self.takes(p, k, lang, 0.0)[0]]
                for lang in range(-1, len(self.languages))
            ]
            for k in range(len(self.classes))
        ]

    def _by_coverage(self, p: int, k: int, language: int) -> bool:
        """Whether an agent of pool ``p`` takes a call of class ``k`` in ``language`` only while no
        agent on duty speaks it (through an interpreter)."""
        return (
            language >= 0
            and language not in self.speaks[p]
            and self.classes[k].interpreter is not None
            and self.interprets[p]
        )

    def lanes_per_class(self) -> int:
        return len(self.languages) + 1

    def covered(self, k: int, language: int, t: float) -> bool:
        """Whether some agent on duty at ``t`` serving class ``k`` speaks ``language``."""
        return language < 0 or _at(self.coverage[k][language], t) > 0

    def takes(self, p: int, k: int, language: int, t: float) -> tuple[bool, bool]:
        """(whether an agent of pool ``p`` may take a call of class ``k`` in ``language`` at
        ``t``, whether through an interpreter)."""
        if not self._by_coverage(p, k, language):
            return language < 0 or language in self.speaks[p], False
        if not self.covered(k, language, t):
            return True, True
        return False, False

    def pools_for(self, k: int, language: int, t: float) -> list[int]:
        """The pools whose idle agent may be woken for a call of class ``k`` in ``language`` at
        ``t``, first choice first."""
        fixed = self.fixed[k][language + 1]
        if fixed is not None:
            return fixed
        return [p for p in self.pools_for_class[k] if self.takes(p, k, language, t)[0]]

    def agents_on_duty(self, k: int, t: float) -> tuple[int, float, float]:
        """Agents on duty at ``t`` by the schedule in pools serving class ``k``, and the span of
        time around ``t`` they are that many (from, until)."""
        times, counts = self.on_duty[k]
        j = bisect_right(times, t) - 1
        until = times[j + 1] if j + 1 < len(times) else math.inf
        return (counts[j], times[j], until) if j >= 0 else (0, -math.inf, until)

    def coverage_ends(self) -> list[float]:
        """Every time a language of a class with an interpreter loses its last speaker on duty:
        idle agents then look at the queues again (they may now take those callers)."""
        ends: set[float] = set()
        for k, cc in enumerate(self.classes):
            if cc.interpreter is None:
                continue
            for times, counts in self.coverage[k]:
                ends.update(t for t, n in zip(times, counts, strict=True) if n == 0)
        return sorted(ends)

    def plan(
        self, p: int, lanes: list[list[Lane]], used: set[int]
    ) -> list[tuple[int, list[Lane], list[tuple[int, Lane]]]]:
        """What :meth:`next_call` looks at for an agent of pool ``p``, highest class first: (class,
        the lanes its agents always take, (language, lane) of those taken when nobody speaks it),
        of the lanes (language + 1) ``used`` only (the others never hold a call)."""
        return [
            (
                k,
                list(dict.fromkeys(lanes[k][j] for j in self.always[p] if j in used)),  # (a lane for all: once)
                [(lang, lanes[k][lang + 1]) for lang in self.fallback[p][k] if lang + 1 in used],
            )
            for k in self.serve_order[p]
        ]

    def one_lane(self, k: int, used: set[int]) -> bool:
        """Whether one lane may hold class ``k``'s calls in the languages of the lanes ``used``:
        every agent who takes the class takes them all, none through an interpreter."""
        return all(used <= set(self.always[p]) for p in self.pools_for_class[k])

    def next_call(
        self,
        plan: list[tuple[int, list[Lane], list[tuple[int, Lane]]]],
        now: float,
        deadline: Sequence[float],
        abandon: Callable[[int], None],
    ) -> int:
        """The call an agent whose :meth:`plan` is ``plan`` takes at ``now`` (-1: none): the oldest
        of the highest class the pool serves, in a language it may take (the first lane's on a tie,
        a drawn call's before one made during the run). Calls whose patience ran out before
        ``now`` are popped on the way and handed to ``abandon``."""
        for k, always, fallback in plan:
            if not fallback and len(always) == 1:  # one lane (the same rules, fewer steps)
                lane = always[0]
                while True:
                    h = lane.head
                    q = lane.queued[h] if h < lane.size else math.inf
                    heap = lane.heap
                    if heap and heap[0][0] <= now and (heap[0][0] < q or (heap[0][0] == q and lane.heap_first())):
                        leg = lane.pop(True)
                    elif q <= now:
                        lane.head = h + 1
                        leg = lane.ids[h]
                    else:
                        break
                    if deadline[leg] < now:
                        abandon(leg)
                        continue
                    return leg
                continue
            mine = always
            if fallback:
                mine = always + [lane for lang, lane in fallback if not self.covered(k, lang, now)]
            while True:
                best: Lane | None = None
                best_q = math.inf
                from_heap = False
                for lane in mine:
                    h = lane.head
                    if h < lane.size:
                        q = lane.queued[h]
                        if q <= now and q < best_q:
                            best, best_q, from_heap = lane, q, False
                    heap = lane.heap
                    if heap:
                        q = heap[0][0]
                        if q <= now and (q < best_q or (q == best_q and best is lane and lane.heap_first())):
                            best, best_q, from_heap = lane, q, True
                if best is None:
                    break
                leg = best.pop(from_heap)
                if deadline[leg] < now:
                    abandon(leg)
                    continue
                return leg
        return -1
