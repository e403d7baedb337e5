"""The wait a 311 caller on hold hears: the queue-length predictor with hang-ups, after the 911 callers.

Pure functions of the live state: the centre's (`HoldSnapshot`, read from the call log by
`ivr.calllog.holdlog.HoldLog.hold_snapshot`, at most every `SNAPSHOT_TTL_S` per process) and the
caller's own place (Twilio's QueuePosition and QueueTime of the wait URL request), made into one
`HoldState` by `for_caller`; nothing here reads a clock or the database.

The predictor. A call-taker answers the next 911 caller if any waits, else the oldest 311 work
(a caller in the 311 queue or a callback, by the time it joined). With `c` agents on duty, each
finishing a call in `h` seconds on average (the recent mean handle time), agents free up at
`c / h` per second. The `idle` agents free now take the first of the line at once; then the
`n911` 911 callers still ahead are answered one per departure, and the `k` pieces of 311 work
still ahead of this caller go either to an agent or, each at the 311 callers' recent patience
rate `theta` (per second: the hang-ups over the time 311 callers spent waiting in the last
hour), by hanging up. So, with `i` of them left ahead, the next step comes at `c / h + i *
theta` per second, and

    W = n911 / (c / h) + sum_{i=0..k} 1 / (c / h + i * theta)        [seconds]

(W = 0 when the idle agents cover everyone ahead). This is Ibrahim and Whitt's queue-length
predictor of the M/M/c+M queue, QL-m (`(k + 1) / (c mu)` when nobody hangs up), with the 911
callers waiting counted ahead and not hanging up; while they are answered the 311 callers ahead
are not counted as hanging up (it errs long there). The 911 callers still to arrive, who would
also go first, are left out on purpose: measured on the baseline day (bench/announce_accuracy.py,
docs/benchmarks.md), leaving them out is what brings the error down to the queue-length
predictor's, because the 311 desk's agents never take 911 and agents coming on duty during the
wait, which the log cannot see, shorten it as much. With exponential handle times and
patience, one class and every agent busy until the caller is answered, it is the exact
conditional mean (each departure and each hang-up ahead is a step of a random walk that ends
at zero; the tests hold it against a simulation of that walk). Without an agent on duty or
without recent handle times there is no estimate (None). Its accuracy is measured from the log
(`announced_wait_s` against the wait that followed), not assumed.

It is never computed for, nor announced to, a 911 caller.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from datetime import datetime

ANNOUNCE_FROM_S = 30.0  # a shorter expected wait is not announced (the position says enough)
LONGEST_ANNOUNCED_MIN = 60  # a longer wait is not put in minutes (the callback offer says it)
SNAPSHOT_TTL_S = 5.0  # the centre's state is read again after this long (per process)


@dataclass(frozen=True)
class HoldState:
    """The live state a 311 caller's expected wait is computed from."""

    waiting_911: int  # 911 callers waiting now
    ahead_311: int  # 311 callers and callbacks ahead of this caller (joined earlier)
    agents_busy: int  # agents in a conversation now
    agents_idle: int  # agents on the line with nobody to take
    handle_s: float | None  # recent mean handle time, seconds (None: too few recent calls)
    arrivals_911_per_s: float  # recent 911 arrival rate, calls per second (not in the estimate)
    abandon_per_s: float = 0.0  # recent 311 patience rate: hang-ups per second waited


@dataclass(frozen=True)
class HoldSnapshot:
    """The centre's live state, the same for every 311 caller on hold."""

    waiting_911: int
    waiting_311: int  # live callers in the 311 queue
    agents_busy: int
    agents_idle: int
    handle_s: float | None
    arrivals_911_per_s: float
    abandon_per_s: float = 0.0  # hang-ups per second waited by 311 callers, recently
    callback_places: list[datetime] = field(default_factory=list)  # open callbacks' places, oldest first


def for_caller(snapshot: HoldSnapshot, queue_position: int | None, joined: datetime) -> HoldState:
    """The state of one 311 caller: ahead of them, the callers before them in Twilio's queue
    (QueuePosition - 1; without it, every live 311 caller) and the open callbacks whose place
    is before `joined`, when they joined the queue."""
    in_queue = snapshot.waiting_311 if queue_position is None else queue_position - 1
    callbacks = bisect.bisect_left(snapshot.callback_places, joined)
    return HoldState(
        waiting_911=snapshot.waiting_911,
        ahead_311=max(in_queue, 0) + callbacks,
        agents_busy=snapshot.agents_busy,
        agents_idle=snapshot.agents_idle,
        handle_s=snapshot.handle_s,
        arrivals_911_per_s=snapshot.arrivals_911_per_s,
        abandon_per_s=snapshot.abandon_per_s,
    )


def expected_wait_s(state: HoldState) -> float | None:
    """The expected wait in seconds until an agent answers (the module docstring), None when
    there is no estimate. Its cost grows with the 311 work ahead, which is bounded (a QueuePosition
    under 100,000 and `ivr.calllog.holdlog.MAX_CALLBACKS_COUNTED` callbacks)."""
    agents = state.agents_busy + state.agents_idle
    if agents <= 0 or state.handle_s is None or state.handle_s <= 0:
        return None
    rate = agents / state.handle_s  # agents freed per second
    idle = max(state.agents_idle, 0)
    waiting_911 = max(state.waiting_911 - idle, 0)
    ahead = state.ahead_311 - max(idle - state.waiting_911, 0)
    if ahead < 0:
        return 0.0
    theta = max(state.abandon_per_s, 0.0)
    return waiting_911 / rate + sum(1.0 / (rate + i * theta) for i in range(ahead + 1))


def announced_minutes(wait_s: float | None) -> int | None:
    """The whole minutes a caller hears ("about N minutes"), or None to say nothing: no
    estimate, under `ANNOUNCE_FROM_S`, or over `LONGEST_ANNOUNCED_MIN`. Up to 10 minutes it is
    rounded up to the minute (a caller told 3 who waits 2.5 is not let down), beyond to the
    nearest 5 (a precision the predictor does not have is not claimed)."""
    if wait_s is None or not math.isfinite(wait_s) or wait_s < ANNOUNCE_FROM_S:
        return None
    minutes = wait_s / 60.0
    rounded = math.ceil(minutes) if minutes <= 10 else 5 * round(minutes / 5)
    return rounded if rounded <= LONGEST_ANNOUNCED_MIN else None


def offers_callback(wait_s: float | None, offer_after_s: float) -> bool:
    """A callback is offered once the expected wait passes `offer_after_s` (seconds) (an
    infinite one included); never without an estimate."""
    return wait_s is not None and wait_s >= offer_after_s
