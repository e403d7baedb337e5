"""What the wallboard shows of the call log, per queue: callers waiting now and the longest wait,
today's service level so far per target, and the calls in conversation now.

Read on the wallboard's own engine (never the call log's store thread, which the recorder keeps
for the webhooks), in one job the gate bounds (`ivr.open311.apigate`).

- **Waiting** is the agent line's rule (`CallStore.waiting_counts`): in a queue and heard from
  within `stale_s` on the database's clock. The longest wait is from the first enqueue of the
  longest waiting of them (a caller queued again keeps it).
- **Service level within T, today so far**: calls enqueued since the day's start answered within
  T seconds of their first enqueue, as a share of the calls offered, abandoned callers counting
  against it (the model's definition, `queueing.core.metrics`). A caller still waiting for less
  than T is not counted yet, either way: the call may still meet it.
- **Agents on duty**: the agent line does not log call-takers (an agent's phone is not a call in
  the log), so the log cannot count them. What it can say is how many callers are in conversation
  now: queued and answered within the last `TALKING_MAX` (or today), not ended, not back from the
  queue; every one holds a call-taker, so it is at least that many on duty.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Float, Select, bindparam, func, select
from sqlalchemy.engine import Connection, Engine

from ivr.calllog.schema import calls, database_clock_s
from ivr.wallboard.targets import QUEUES, Target

# A conversation answered longer ago than this with no end in the log lost its end (a status
# callback that never came): it no longer counts as in conversation.
TALKING_MAX = timedelta(hours=2)


def read_board(
    engine: Engine,
    *,
    now: datetime,
    shift_s: float,
    stale_s: float,
    day_start: datetime,
    targets: Mapping[str, Sequence[Target]],
) -> list[dict[str, Any]]:
    """One entry per queue (911 first). `now` is the app's clock (UTC-aware), `shift_s` how far it
    is from this machine's (`CallStore._shift_s`: a simulation's offset, else 0)."""
    since = min(day_start, now - TALKING_MAX)
    with engine.connect() as conn:
        waiting = _waiting(conn, shift_s - stale_s)
        recent = conn.execute(recent_calls(since)).all()
    out = []
    for queue in QUEUES:
        count, first = waiting.get(queue, (0, None))
        mine = [r for r in recent if r.queue == queue]
        rows = [r for r in mine if r.enqueued_at >= day_start]
        out.append(
            {
                "queue": queue,
                "waiting": count,
                "longest_wait_s": None if first is None else max(0, round((now - first).total_seconds())),
                "offered": len(rows),
                "answered": sum(r.answered_at is not None for r in rows),
                "on_calls": sum(_talking(r, now) for r in mine),
                "service_levels": [_level(rows, t, now) for t in targets[queue]],
            }
        )
    return out


def recent_calls(since: datetime) -> Select[Any]:
    """The calls queued since `since`, found by the index of enqueued_at: the cost of a read is a
    day's calls, not the log's years."""
    return select(
        calls.c.queue,
        calls.c.enqueued_at,
        calls.c.answered_at,
        calls.c.queue_result,
        calls.c.ended_at,
    ).where(calls.c.enqueued_at >= since, calls.c.queue.in_(QUEUES))


def _waiting(conn: Connection, since_s: float) -> dict[str, tuple[int, datetime | None]]:
    alive = calls.c.alive_db_s >= database_clock_s(conn.dialect.name) + bindparam("since", type_=Float())
    rows = conn.execute(
        select(calls.c.waiting_queue, func.count(), func.min(calls.c.enqueued_at))
        .where(calls.c.waiting_queue.is_not(None), alive)
        .group_by(calls.c.waiting_queue),
        {"since": since_s},
    ).all()
    return {str(queue): (int(count), first) for queue, count, first in rows}


def _talking(row: Any, now: datetime) -> bool:
    """In conversation: answered within `TALKING_MAX`, not ended, not back from the queue."""
    answered = row.answered_at
    return (
        answered is not None
        and now - TALKING_MAX <= answered <= now
        and row.ended_at is None
        and row.queue_result is None
    )


def _level(rows: Sequence[Any], target: Target, now: datetime) -> dict[str, Any]:
    """Today's service level within `target.within_s` over `rows` (one queue's calls)."""
    within = timedelta(seconds=target.within_s)
    offered = met = 0
    for r in rows:
        if r.answered_at is not None:
            offered += 1
            met += r.answered_at - r.enqueued_at <= within
        elif r.queue_result is not None or r.ended_at is not None or now - r.enqueued_at > within:
            offered += 1  # gone unanswered, or past the target while still waiting
    return {
        "within_s": target.within_s,
        "target": target.share,
        "answered_within": met,
        "offered": offered,
        "share": met / offered if offered else None,
        "met": None if not offered else met / offered >= target.share,
    }
