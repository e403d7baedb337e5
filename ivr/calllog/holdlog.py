"""The call log's part for the hold: what a 311 caller's expected wait is computed from, the
wait announced, and callbacks (virtual hold) from the request to their outcome.

A mixin of `ivr.calllog.store.CallStore` (its writes are the store's, journaled and replayed
like the others: JSON-friendly arguments, idempotent). Times are as the store's "Two clocks"
says: history on the app's clock (`now`), liveness on the database's (`*_db_s`).

A callback's life, in `calls.callback_status`: `pending` (asked for on hold; its place is when
the caller joined the 311 queue) -> `placing` (an agent line claimed it and asked Twilio to
call; `callback_attempts` counts these) -> `connected` (the callee picked up and holds for the
agent who placed it) -> `answered` (an agent took them). An attempt Twilio reports `busy`,
`no-answer`, `failed` or `canceled` (or that the REST call itself failed) goes back to
`pending`, due again `retry_after_s` later, until `max_attempts`; then `failed`, its last
outcome kept. A callee who hangs up before an agent takes them is `failed` with outcome
`hangup`. Once a callback is `answered` or `failed`, the sealed number is dropped.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.engine import Connection, Engine

from ivr.calllog.schema import agent_line, calls, database_clock_s, menu_events

HOLD_STEP = 10_000  # the step number of the hold screen's input in menu_events (after any menu step)
RECENT_WINDOW_S = 3600.0  # handle times, 911 arrivals and 311 patience are averaged over the last hour
HANDLE_SAMPLES = 200  # at most this many recent conversations are averaged
MIN_HANDLED = 3  # fewer recent conversations than this: no handle time, so no estimate
RECENT_ROWS = 5000  # history is read from the last this many calls (an hour of a big centre's)
MAX_CALLBACKS_COUNTED = 1000  # open callbacks whose places are read (more wait far beyond an hour)
LONGEST_TALK_S = 4 * 3600.0  # an answered call older than this without an end is not in conversation
IDLE_AGENT_STALE_S = 30.0  # an agent line that said "nobody waits" counts as idle this long
CALLBACK_QUEUE = "311cb"  # the Twilio queue a called-back caller holds in for their agent
OPEN_CALLBACK = ("pending", "placing", "connected")
# an attempt that did not reach the caller: Twilio's final statuses, the REST call refused or
# timed out, a number that no longer opens (sealed under another key), an attempt lost
FAILED_ATTEMPT = frozenset({"busy", "no-answer", "failed", "canceled", "rest-error", "unsealable", "lost"})
# an attempt placed (or a callee holding) not heard from for this long is lost: its status
# callback went astray; far longer than a ring and a hold
CALLBACK_LOST_S = 15 * 60.0


def _patience_rate(waits: Any, since: datetime, now: datetime) -> float:
    """Hang-ups per second waited: the 311 callers who hung up waiting in [since, now] over the
    time 311 callers spent waiting in it (rows of joined, left or None, queue result; the
    maximum-likelihood rate of an exponential patience); 0 when nobody waited."""
    waited = 0.0
    hung_up = 0
    for joined, left, result in waits:
        end = now if left is None else min(left, now)
        waited += max((end - max(joined, since)).total_seconds(), 0.0)
        hung_up += result == "hangup" and left is not None and since <= left <= now
    return hung_up / waited if waited > 0 else 0.0


class HoldLog:
    """The hold's reads and writes (see the module docstring); mixed into `CallStore`."""

    engine: Engine
    _begin: Callable[[], contextlib.AbstractContextManager[Connection]]
    _shift_s: Callable[[datetime | None], float]
    _insert_ignore: Callable[[Connection, Any, Mapping[str, Any]], None]
    _ensure_call: Callable[..., None]

    HOLD_WRITES = frozenset(
        {
            "record_hold_step",
            "record_agent_idle",
            "callback_placed",
            "callback_connected",
            "callback_answered",
            "record_callback_status",
        }
    )

    def _db_clock(self) -> Any:
        return database_clock_s(self.engine.dialect.name)

    # -- writes --------------------------------------------------------------------------

    def record_hold_step(
        self,
        ev: Mapping[str, Any],
        sealed: str | None = None,
        queue_time_s: int | None = None,
        now: datetime | None = None,
    ) -> None:
        """An input at the hold screen (`ev`: a `MenuEvent` as a dict, kept once per call at
        `HOLD_STEP`), and with `sealed` a callback request: the caller leaves the queue, kept at
        the time they joined it (enqueued, else now - `queue_time_s`). A retry changes nothing."""
        now = now or datetime.now(UTC)
        sid = str(ev["call_sid"])
        with self._begin() as conn:
            self._ensure_call(conn, sid, None, now, ev.get("language"))
            self._insert_ignore(conn, menu_events, {**ev, "step": HOLD_STEP, "created_at": now})
            if sealed is None:
                return
            joined = now - timedelta(seconds=queue_time_s or 0)
            conn.execute(
                update(calls)
                .where(calls.c.call_sid == sid, calls.c.callback_status.is_(None))
                .values(
                    callback_requested_at=now,
                    callback_position_at=func.coalesce(calls.c.enqueued_at, joined),
                    callback_sealed=sealed,
                    callback_status="pending",
                    callback_attempts=0,
                    callback_due_db_s=None,
                    queue_result="callback",
                    left_queue_at=func.coalesce(calls.c.left_queue_at, now),
                    waiting_queue=None,
                )
            )

    def record_agent_idle(self, agent_sid: str, now: datetime | None = None) -> None:
        """An agent line heard that nobody waits: it is idle (for `IDLE_AGENT_STALE_S`)."""
        seen = self._db_clock() + self._shift_s(now)
        with self._begin() as conn:
            count = conn.execute(
                update(agent_line).where(agent_line.c.call_sid == agent_sid).values(idle_db_s=seen)
            ).rowcount
            if not count:
                self._insert_ignore(conn, agent_line, {"call_sid": agent_sid, "idle_db_s": 0.0})
                conn.execute(update(agent_line).where(agent_line.c.call_sid == agent_sid).values(idle_db_s=seen))

    def callback_placed(self, call_sid: str, attempt: int, callback_sid: str, now: datetime | None = None) -> None:
        """Twilio took the callback's REST request: the outbound call's sid, for the record."""
        with self._begin() as conn:
            conn.execute(
                update(calls)
                .where(calls.c.call_sid == call_sid, calls.c.callback_attempts == attempt)
                .values(callback_sid=callback_sid)
            )

    def callback_connected(self, call_sid: str, attempt: int, now: datetime | None = None) -> None:
        """The callee of attempt `attempt` picked up and holds for an agent: a heartbeat, on
        the database's clock, as a caller's in a queue."""
        alive = self._db_clock() + self._shift_s(now)
        with self._begin() as conn:
            conn.execute(
                update(calls)
                .where(
                    calls.c.call_sid == call_sid,
                    calls.c.callback_attempts == attempt,
                    calls.c.callback_status.in_(("placing", "connected")),
                )
                .values(callback_status="connected", callback_due_db_s=alive)
            )

    def callback_answered(self, callback_sid: str, now: datetime | None = None) -> None:
        """An agent took the callee of the outbound call `callback_sid`: the callback is done."""
        now = now or datetime.now(UTC)
        with self._begin() as conn:
            conn.execute(
                update(calls)
                .where(calls.c.callback_sid == callback_sid, calls.c.callback_status.in_(OPEN_CALLBACK))
                .values(callback_status="answered", callback_done_at=now, callback_sealed=None)
            )

    def record_callback_status(
        self,
        call_sid: str,
        attempt: int,
        status: str,
        max_attempts: int,
        retry_after_s: float,
        now: datetime | None = None,
    ) -> None:
        """The final status of attempt `attempt` (Twilio's CallStatus, or `rest-error`): a failed
        attempt is due again after `retry_after_s` while attempts remain, else the callback
        failed; `completed` ends it (answered if an agent took the callee, else `hangup`). A
        late or repeated status of an earlier attempt changes nothing."""
        due = self._db_clock() + self._shift_s(now) + retry_after_s
        now = now or datetime.now(UTC)
        current = and_(
            calls.c.call_sid == call_sid,
            calls.c.callback_attempts == attempt,
            calls.c.callback_status.in_(OPEN_CALLBACK),
        )
        with self._begin() as conn:
            if status in FAILED_ATTEMPT:
                again = attempt < max_attempts
                values: dict[str, Any] = {"callback_status": "pending", "callback_due_db_s": due}
                if not again:
                    values = {"callback_status": "failed", "callback_done_at": now, "callback_sealed": None}
                conn.execute(update(calls).where(current).values(callback_outcome=status, **values))
            elif status == "completed":
                conn.execute(
                    update(calls)
                    .where(current)
                    .values(
                        callback_status="failed",
                        callback_outcome="hangup",
                        callback_done_at=now,
                        callback_sealed=None,
                    )
                )
                conn.execute(
                    update(calls)
                    .where(calls.c.call_sid == call_sid, calls.c.callback_status == "answered")
                    .values(callback_outcome="completed")
                )

    # -- the agent line's claim (a read that writes: never journaled, see `claim_callback`) --

    def claim_callback(self, call_sid: str, attempt: int, now: datetime | None = None) -> bool:
        """Take callback `call_sid` for attempt `attempt` + 1, if it is still pending at
        `attempt` attempts: two agent lines never place the same callback. Run as a read
        (`Recorder.read`), never from the journal: a claim replayed later would place a call
        nobody asked for then. The claim's time (database clock) is kept: an attempt that
        never reports back is lost after `CALLBACK_LOST_S`."""
        claimed = self._db_clock() + self._shift_s(now)
        with self._begin() as conn:
            taken = conn.execute(
                update(calls)
                .where(
                    calls.c.call_sid == call_sid,
                    calls.c.callback_status == "pending",
                    calls.c.callback_attempts == attempt,
                )
                .values(
                    callback_status="placing",
                    callback_attempts=attempt + 1,
                    callback_sid=None,
                    callback_due_db_s=claimed,
                    callback_placed_db_s=claimed,
                )
            ).rowcount
        return bool(taken)

    # -- reads ---------------------------------------------------------------------------

    def _oldest_311(self, conn: Connection, since: float) -> datetime | None:
        """When the longest-waiting live 311 caller joined the queue."""
        found: datetime | None = conn.execute(
            select(func.min(calls.c.enqueued_at)).where(
                calls.c.waiting_queue == "311", calls.c.alive_db_s >= self._db_clock() + since
            )
        ).scalar()
        return found

    def next_callback(self, now: datetime | None, stale_s: float, dial_wait_s: float = 0.0) -> dict[str, Any] | None:
        """The callback an idle agent line serves next, when no 911 caller waits: an attempt
        that never reported back within `CALLBACK_LOST_S` (`{"lost": True, ...}`: to record as
        failed), a callee who picked up and holds (`{"dial": True}`) once the line that placed the
        call has stopped dialing for them (`dial_wait_s` after the claim), else the oldest pending callback that is due
        and whose place is before every live 311 caller's (its call, sealed number, attempts
        and language); None when the oldest 311 work is a caller in the queue, or there is none."""
        shift = self._shift_s(now)
        clock = self._db_clock()
        with self._begin() as conn:
            lost = (
                conn.execute(
                    select(calls.c.call_sid, calls.c.callback_attempts)
                    .where(
                        calls.c.callback_status.in_(("placing", "connected")),
                        calls.c.callback_due_db_s < clock + shift - CALLBACK_LOST_S,
                    )
                    .limit(1)
                )
                .mappings()
                .first()
            )
            if lost is not None:
                return {"lost": True, "call_sid": lost["call_sid"], "attempts": int(lost["callback_attempts"] or 0)}
            holding = conn.execute(
                select(func.count()).where(
                    calls.c.callback_status == "connected",
                    calls.c.callback_due_db_s >= clock + shift - stale_s,
                    calls.c.callback_placed_db_s < clock + shift - dial_wait_s,
                )
            ).scalar()
            if holding:
                return {"dial": True}
            row = (
                conn.execute(
                    select(
                        calls.c.call_sid,
                        calls.c.callback_sealed,
                        calls.c.callback_attempts,
                        calls.c.callback_position_at,
                        calls.c.language,
                    )
                    .where(
                        calls.c.callback_status == "pending",
                        or_(calls.c.callback_due_db_s.is_(None), calls.c.callback_due_db_s <= clock + shift),
                    )
                    .order_by(calls.c.callback_position_at, calls.c.id)
                    .limit(1)
                )
                .mappings()
                .first()
            )
            if row is None:
                return None
            oldest = self._oldest_311(conn, shift - stale_s)
        if oldest is not None and oldest < row["callback_position_at"]:
            return None
        return {
            "call_sid": row["call_sid"],
            "sealed": row["callback_sealed"],
            "attempts": int(row["callback_attempts"] or 0),
            "language": row["language"],
        }

    def hold_snapshot(self, now: datetime, stale_s: float) -> dict[str, Any]:
        """The centre's live state a 311 caller's expected wait is computed from
        (`ivr.callflow.waitestimate.HoldSnapshot`): live callers waiting per queue, the places of
        the open callbacks (oldest first), agents in conversation and idle, and over the last
        `RECENT_WINDOW_S` the mean handle time and the 911 arrival rate. Times on the app's
        clock, liveness on the database's. The scans of history read the last `RECENT_ROWS`
        calls only (a range of the primary key), so the cost does not grow with the log."""
        shift = self._shift_s(now)
        clock = self._db_clock()
        alive = calls.c.alive_db_s >= clock + shift - stale_s
        recent = now - timedelta(seconds=RECENT_WINDOW_S)
        latest = select(func.max(calls.c.id)).scalar_subquery()
        lately = calls.c.id > latest - RECENT_ROWS
        with self._begin() as conn:
            counts: dict[str, int] = dict(
                conn.execute(
                    select(calls.c.waiting_queue, func.count())
                    .where(calls.c.waiting_queue.is_not(None), alive)
                    .group_by(calls.c.waiting_queue)
                ).all()
            )
            callbacks = (
                conn.execute(
                    select(calls.c.callback_position_at)
                    .where(calls.c.callback_status.in_(OPEN_CALLBACK), calls.c.callback_position_at.is_not(None))
                    .order_by(calls.c.callback_position_at)
                    .limit(MAX_CALLBACKS_COUNTED)
                )
                .scalars()
                .all()
            )
            talking = conn.execute(
                select(func.count()).where(
                    lately,
                    calls.c.answered_at.is_not(None),
                    calls.c.answered_at >= now - timedelta(seconds=LONGEST_TALK_S),
                    calls.c.queue_result.is_(None),
                    calls.c.ended_at.is_(None),
                )
            ).scalar()
            idle = conn.execute(
                select(func.count()).where(agent_line.c.idle_db_s >= clock + shift - IDLE_AGENT_STALE_S)
            ).scalar()
            ended = case(
                (calls.c.queue_result == "bridged", func.coalesce(calls.c.left_queue_at, calls.c.ended_at)),
                else_=calls.c.ended_at,
            )
            talks = conn.execute(
                select(calls.c.answered_at, ended.label("ended"))
                .where(lately, calls.c.answered_at >= recent, calls.c.answered_at <= now, ended.is_not(None))
                .order_by(calls.c.answered_at.desc())
                .limit(HANDLE_SAMPLES)
            ).all()
            waits_311 = conn.execute(
                select(
                    calls.c.enqueued_at,
                    func.coalesce(calls.c.answered_at, calls.c.left_queue_at, calls.c.ended_at),
                    calls.c.queue_result,
                ).where(
                    lately,
                    calls.c.queue == "311",
                    calls.c.enqueued_at <= now,
                    or_(calls.c.left_queue_at.is_(None), calls.c.left_queue_at >= recent),
                )
            ).all()
            arrivals_911 = conn.execute(
                select(func.count()).where(
                    lately, calls.c.queue == "911", calls.c.enqueued_at >= recent, calls.c.enqueued_at <= now
                )
            ).scalar()
        handles = [(e - a).total_seconds() for a, e in talks if e is not None and e >= a]
        return {
            "abandon_per_s": _patience_rate(waits_311, recent, now),
            "waiting_911": int(counts.get("911", 0)),
            "waiting_311": int(counts.get("311", 0)),
            "callback_places": list(callbacks),
            "agents_busy": int(talking or 0),
            "agents_idle": int(idle or 0),
            "handle_s": sum(handles) / len(handles) if len(handles) >= MIN_HANDLED else None,
            "arrivals_911_per_s": int(arrivals_911 or 0) / RECENT_WINDOW_S,
        }
