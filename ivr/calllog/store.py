"""The call log: one row per call (CallSid unique) and one per menu event, with SQLAlchemy 2 Core.

Every write is idempotent (Twilio retries webhooks, the journal may replay a write) and an
upsert: any webhook may be the first the log sees of a call, and creates its row with what it
knows. Every write transaction starts with a write statement, so two gunicorn workers on one
SQLite file in WAL mode wait on each other (busy_timeout) instead of failing. Caller numbers are
never stored: only a keyed hash (`ivr.calllog.callerhash`), whose key is never in the database.

The voice app does not call the write methods directly but through `ivr.calllog.recorder`, which bounds
the wait (`timeout_s`) and journals what the database cannot take.

Two clocks. Every time in the log's history (started, enqueued, answered, ...) is the app's clock,
the `now` each write is given: `ivr311 callers` replaces it to log calls at simulated times.
Whether a caller still waits is judged on one clock all app servers share, the database's:
`alive_db_s` is the database's time at the caller's last sign of life, read in SQL by the write
itself, and `waiting_counts` compares it with the database's time again, so app servers whose
clocks disagree agree on who waits. A write stamps it shifted by how far its `now` is from this
machine's clock (`CallStore.machine_clock`): nothing for a live write, minus the wait for a
write replayed from the journal (which never leaves the machine that wrote it), so a heartbeat
replayed minutes late does not make a caller look alive now; and a simulation's offset, so
waiting follows simulated time there.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import Float, Integer, Table, and_, bindparam, case, func, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from ivr.calllog import schema
from ivr.calllog.engine import PATIENT_TIMEOUT_S, make_engine
from ivr.calllog.holdlog import HoldLog
from ivr.calllog.schema import EXPORT_COLUMNS, UtcDateTime, agent_line, calls, database_clock_s, menu_events

FINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
_STATUS_RANK = {"queued": 0, "initiated": 1, "ringing": 2, "in-progress": 3}
FINAL_RANK = 4


def status_rank(status: str) -> int:
    return FINAL_RANK if status in FINAL_STATUSES else _STATUS_RANK.get(status, 0)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class MenuEvent:
    call_sid: str
    step: int
    screen: str  # main | services | confirm
    language: str
    outcome: str  # e.g. 911, services, operator, category, confirm, repeat, invalid, silence
    digits: str | None = None
    category: str | None = None
    confidence: float | None = None


@dataclass(frozen=True)
class Enqueue:
    """Where a menu step sent the caller."""

    queue: str
    category: str | None
    requeue: bool = False


def _later(column: Any, value: Any) -> Any:
    """`column` set to `value` unless it already holds a later one (a late retry or replay
    never moves it back)."""
    return case((or_(column.is_(None), column < value), value), else_=column)


class _Statements:
    """Prepared write statements of one dialect."""

    def __init__(self, dialect: str) -> None:
        self.insert_ignore: dict[str, Any] = {}
        if dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            for table in (calls, menu_events, agent_line):
                self.insert_ignore[table.name] = sqlite_insert(table).on_conflict_do_nothing()
        elif dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            for table in (calls, menu_events, agent_line):
                self.insert_ignore[table.name] = pg_insert(table).on_conflict_do_nothing()
        sid = calls.c.call_sid == bindparam("b_sid")
        step = bindparam("b_step", type_=Integer())
        now = bindparam("b_now", type_=UtcDateTime())
        db_clock = database_clock_s(dialect)
        # the database's time of the write, shifted as the module docstring says
        alive = _later(calls.c.alive_db_s, db_clock + bindparam("b_shift", type_=Float()))
        step_values = {
            "language": bindparam("b_lang"),
            "menu_attempts": case((calls.c.menu_attempts < step, step), else_=calls.c.menu_attempts),
        }
        queued_in = {
            "queue": bindparam("b_queue"),
            "category": bindparam("b_category"),
            "enqueued_at": func.coalesce(calls.c.enqueued_at, now),
            "alive_db_s": alive,
        }
        # a retried enqueue after the caller was answered or left must not make them wait again
        still_waiting = and_(calls.c.answered_at.is_(None), calls.c.queue_result.is_(None), calls.c.ended_at.is_(None))
        enqueued = {
            **queued_in,
            "waiting_queue": case((still_waiting, bindparam("b_queue")), else_=None),
        }
        requeued = {**queued_in, "queue_result": None, "left_queue_at": None, "waiting_queue": bindparam("b_queue")}
        self.update_step = update(calls).where(sid).values(**step_values)
        self.update_step_enqueue = update(calls).where(sid).values(**step_values, **enqueued)
        self.update_step_requeue = update(calls).where(sid).values(**step_values, **requeued)
        self.update_enqueue = update(calls).where(sid).values(**enqueued)
        self.update_requeue = update(calls).where(sid).values(**requeued)
        # a heartbeat (hold music fetched) of a caller the log may never have seen enqueued
        self.update_heartbeat = (
            update(calls)
            .where(sid)
            .values(
                queue=func.coalesce(calls.c.queue, bindparam("b_queue")),
                enqueued_at=func.coalesce(calls.c.enqueued_at, bindparam("b_enqueued", type_=UtcDateTime())),
                heard_at=_later(calls.c.heard_at, now),
                alive_db_s=alive,
                announced_wait_s=func.coalesce(calls.c.announced_wait_s, bindparam("b_announced", type_=Integer())),
                announced_at=func.coalesce(
                    calls.c.announced_at,
                    case((bindparam("b_announced", type_=Integer()).is_not(None), now), else_=None),
                ),
                waiting_queue=case((still_waiting, bindparam("b_queue")), else_=None),
            )
        )
        queue_time = bindparam("b_queue_time", type_=Integer())
        self.update_answered = (
            update(calls)
            .where(sid, calls.c.answered_at.is_(None))
            .values(answered_at=now, queue_time_s=queue_time, waiting_queue=None)
        )
        self.update_queue_result = (
            update(calls)
            .where(sid)
            .values(
                # a caller who asked for a callback left the queue for it, whatever Twilio says next
                queue_result=case((calls.c.queue_result == "callback", "callback"), else_=bindparam("b_result")),
                queue_time_s=func.coalesce(queue_time, calls.c.queue_time_s),
                left_queue_at=func.coalesce(calls.c.left_queue_at, now),
                waiting_queue=None,
            )
        )
        self.select_queue_times = select(calls.c.enqueued_at, calls.c.answered_at, calls.c.queue_time_s).where(sid)
        seq = bindparam("b_seq", type_=Integer())
        rank = bindparam("b_rank", type_=Integer())
        stored_rank = func.coalesce(calls.c.status_rank, -1)
        status_values = {
            "status": bindparam("b_status"),
            "status_rank": rank,
            "status_seq": func.coalesce(seq, calls.c.status_seq),
            "duration_s": func.coalesce(bindparam("b_duration", type_=Integer()), calls.c.duration_s),
            "ended_at": func.coalesce(bindparam("b_ended", type_=UtcDateTime()), calls.c.ended_at),
            "waiting_queue": case((rank == FINAL_RANK, None), else_=calls.c.waiting_queue),
        }
        newer_by_seq = or_(
            and_(calls.c.status_seq.is_not(None), calls.c.status_seq < seq),
            and_(calls.c.status_seq.is_(None), stored_rank <= rank),
        )
        self.update_status = update(calls).where(sid, newer_by_seq).values(**status_values)
        # waiting = in a queue; alive = heard from (enqueue or hold-music fetch) since the
        # database's time now shifted by b_since (minus the staleness, plus a simulation's offset)
        self.select_waiting = (
            select(calls.c.waiting_queue, func.count())
            .where(calls.c.waiting_queue.is_not(None))
            .group_by(calls.c.waiting_queue)
        )
        self.select_waiting_alive = self.select_waiting.where(
            calls.c.alive_db_s >= db_clock + bindparam("b_since", type_=Float())
        )
        self.select_language = select(calls.c.language).where(sid)
        self.update_status_unsequenced = update(calls).where(sid, stored_rank < rank).values(**status_values)


class CallStore(HoldLog):
    """All reads and writes of the call log. Methods take UTC-aware datetimes.

    The write methods (`WRITES`) take only JSON-friendly arguments, so that `ivr.calllog.recorder` can
    journal a write it could not make and replay it later with `apply`.

    `machine_clock` is this machine's clock; a write's `now` minus it shifts the database's
    clock for liveness (the module docstring). Tests replace it, with the app's clock, to play
    a server whose clock is off."""

    WRITES = (
        frozenset(
            {
                "start_call",
                "record_step",
                "mark_enqueued",
                "mark_answered",
                "record_queue_result",
                "record_status",
                "record_heartbeat",
            }
        )
        | HoldLog.HOLD_WRITES
    )

    def __init__(self, url: str, *, create: bool = True, timeout_s: float = PATIENT_TIMEOUT_S) -> None:
        self.url = url
        self.engine = make_engine(url, timeout_s)
        self.machine_clock: Callable[[], datetime] = utcnow
        self._local = threading.local()
        if create:
            self.create_tables()

    def close(self) -> None:
        self.engine.dispose()

    def create_tables(self) -> None:
        schema.create_tables(self.engine)

    def apply(self, op: str, args: Mapping[str, Any]) -> Any:
        """Run the write method `op` with `args` (a journal entry); unknown ops are refused."""
        if op not in self.WRITES:
            raise ValueError(f"not a call-log write: {op!r}")
        return getattr(self, op)(**args)

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Writes made inside share one transaction (a journal replay: one commit per chunk
        instead of one per write, which is what lets a replay outrun live traffic)."""
        with self.engine.begin() as conn:
            self._local.conn = conn
            try:
                yield
            finally:
                self._local.conn = None

    @contextlib.contextmanager
    def _begin(self) -> Iterator[Connection]:
        """The batch's connection if one is open on this thread, else a transaction of its own."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            yield conn
            return
        with self.engine.begin() as conn:
            yield conn

    # -- writes --------------------------------------------------------------------------
    # Statements are built once (bind parameters, not literal values): building SQLAlchemy
    # statements per request costs more than running them on SQLite.

    @cached_property
    def _stmts(self) -> _Statements:
        return _Statements(self.engine.dialect.name)

    def _shift_s(self, now: datetime | None) -> float:
        """How far the app's clock (`now`) is from this machine's: about 0 for a live write or
        read, minus the wait for a replayed write, a simulation's offset; 0 without `now`."""
        return 0.0 if now is None else (now - self.machine_clock()).total_seconds()

    def _insert_ignore(self, conn: Connection, table: Table, values: Mapping[str, Any]) -> None:
        stmt = self._stmts.insert_ignore.get(table.name)
        if stmt is not None:
            conn.execute(stmt, values)
            return
        try:  # a dialect without ON CONFLICT: let the unique constraint decide
            with conn.begin_nested():
                conn.execute(table.insert(), values)
        except IntegrityError:
            pass

    def _ensure_call(
        self,
        conn: Connection,
        call_sid: str,
        caller_hash: str | None,
        now: datetime,
        language: str | None = None,
    ) -> None:
        self._insert_ignore(
            conn,
            calls,
            {
                "call_sid": call_sid,
                "caller_hash": caller_hash,
                "started_at": now,
                "language": language,
                "menu_attempts": 0,
            },
        )

    def start_call(self, call_sid: str, caller_hash: str | None, language: str, now: datetime | None = None) -> None:
        """The first webhook of a call; a retry changes nothing."""
        now = now or utcnow()
        with self._begin() as conn:
            self._ensure_call(conn, call_sid, caller_hash, now, language)

    def _update_or_create(
        self,
        conn: Connection,
        stmt: Any,
        params: Mapping[str, Any],
        call_sid: str,
        caller_hash: str | None,
        now: datetime,
        language: str | None = None,
    ) -> int:
        """Run an UPDATE of one call; when the row is missing (a webhook of a call whose first
        webhook never arrived), create it and run the UPDATE again. Returns the rowcount."""
        count = conn.execute(stmt, params).rowcount
        if count == 0:
            self._ensure_call(conn, call_sid, caller_hash, now, language)
            count = conn.execute(stmt, params).rowcount
        return int(count)

    def record_step(
        self,
        ev: MenuEvent | Mapping[str, Any],
        enqueue: Enqueue | Mapping[str, Any] | None = None,
        caller_hash: str | None = None,
        now: datetime | None = None,
    ) -> None:
        """One menu input, and the queue it led to if any, in one transaction."""
        shift_s = self._shift_s(now)
        now = now or utcnow()
        ev = ev if isinstance(ev, MenuEvent) else MenuEvent(**ev)
        if enqueue is not None and not isinstance(enqueue, Enqueue):
            enqueue = Enqueue(**enqueue)
        st = self._stmts
        params = {"b_sid": ev.call_sid, "b_lang": ev.language, "b_step": ev.step}
        if enqueue is None:
            stmt = st.update_step
        else:
            stmt = st.update_step_requeue if enqueue.requeue else st.update_step_enqueue
            params.update(b_queue=enqueue.queue, b_category=enqueue.category, b_now=now, b_shift=shift_s)
        with self._begin() as conn:
            self._update_or_create(conn, stmt, params, ev.call_sid, caller_hash, now, ev.language)
            self._insert_ignore(conn, menu_events, {**asdict(ev), "created_at": now})

    def record_menu_event(self, ev: MenuEvent, caller_hash: str | None = None, now: datetime | None = None) -> None:
        self.record_step(ev, None, caller_hash, now)

    def mark_enqueued(
        self,
        call_sid: str,
        queue: str,
        category: str | None,
        language: str,
        now: datetime | None = None,
        *,
        requeue: bool = False,
    ) -> None:
        """The caller is put in a Twilio queue. The first enqueue time is kept on retries;
        `requeue` (a caller queued again after a queue error) makes them wait again."""
        shift_s = self._shift_s(now)
        now = now or utcnow()
        st = self._stmts
        params = {"b_sid": call_sid, "b_queue": queue, "b_category": category, "b_now": now, "b_shift": shift_s}
        with self._begin() as conn:
            self._update_or_create(
                conn, st.update_requeue if requeue else st.update_enqueue, params, call_sid, None, now, language
            )

    def record_heartbeat(
        self,
        call_sid: str,
        queue: str,
        queue_time_s: int | None,
        now: datetime | None = None,
        announced_wait_s: int | None = None,
    ) -> None:
        """Twilio fetched the caller's hold music: they are alive and waiting in `queue`.
        A caller the log has not seen enqueued is created waiting, since `now - queue_time_s`.
        `announced_wait_s`, the expected wait they heard, is kept from its first announcement."""
        shift_s = self._shift_s(now)
        now = now or utcnow()
        enqueued = now - timedelta(seconds=queue_time_s or 0)
        params = {
            "b_sid": call_sid,
            "b_queue": queue,
            "b_now": now,
            "b_enqueued": enqueued,
            "b_shift": shift_s,
            "b_announced": announced_wait_s,
        }
        with self._begin() as conn:
            self._update_or_create(conn, self._stmts.update_heartbeat, params, call_sid, None, enqueued)

    def mark_answered(self, call_sid: str, queue_time_s: int | None, now: datetime | None = None) -> str | None:
        """An agent dequeued the caller (the <Queue url> request, on the caller's side).
        Returns the caller's menu language, if the call is known."""
        now = now or utcnow()
        params = {"b_sid": call_sid, "b_now": now, "b_queue_time": queue_time_s}
        started = now - timedelta(seconds=queue_time_s or 0)  # if this is all the log sees
        with self._begin() as conn:
            self._update_or_create(conn, self._stmts.update_answered, params, call_sid, None, started)
            language = conn.execute(self._stmts.select_language, {"b_sid": call_sid}).scalar()
        return str(language) if language else None

    def record_queue_result(
        self, call_sid: str, result: str, queue_time_s: int | None, now: datetime | None = None
    ) -> None:
        """The caller left the queue (the <Enqueue action> request). For `bridged`, Twilio asks
        after the conversation; if the <Queue url> request was lost, the answer time is taken
        as enqueued + QueueTime (else this request's time), so no bridged call lacks one."""
        now = now or utcnow()
        st = self._stmts
        params = {"b_sid": call_sid, "b_result": result, "b_queue_time": queue_time_s, "b_now": now}
        with self._begin() as conn:
            self._update_or_create(conn, st.update_queue_result, params, call_sid, None, now)
            if result != "bridged":
                return
            row = conn.execute(st.select_queue_times, {"b_sid": call_sid}).one()
            if row.answered_at is not None:
                return
            answered = now
            if row.enqueued_at is not None and row.queue_time_s is not None:
                answered = min(now, row.enqueued_at + timedelta(seconds=row.queue_time_s))
            conn.execute(st.update_answered, {"b_sid": call_sid, "b_now": answered, "b_queue_time": row.queue_time_s})

    def record_status(
        self,
        call_sid: str,
        status: str,
        sequence_number: int | None,
        duration_s: int | None,
        timestamp: datetime | None,
        caller_hash: str | None = None,
        now: datetime | None = None,
    ) -> bool:
        """Apply a status callback unless a newer one was applied already. Returns whether it was.

        Newer means a higher SequenceNumber; when either side has none, the later stage of the
        call (queued < initiated < ringing < in-progress < final) wins, and the first final
        status is kept.
        """
        now = now or utcnow()
        rank = status_rank(status)
        st = self._stmts
        stmt = st.update_status_unsequenced if sequence_number is None else st.update_status
        params = {
            "b_sid": call_sid,
            "b_status": status,
            "b_rank": rank,
            "b_seq": sequence_number,
            "b_duration": duration_s,
            "b_ended": (timestamp or now) if rank == FINAL_RANK else None,
        }
        with self._begin() as conn:
            count = self._update_or_create(conn, stmt, params, call_sid, caller_hash, timestamp or now)
            return bool(count)

    # -- reads ---------------------------------------------------------------------------

    def waiting_counts(self, now: datetime | None = None, stale_s: float | None = None) -> dict[str, int]:
        """Callers waiting in each queue, from the app's own records: in a queue and heard from
        (enqueued, or hold music fetched) within `stale_s` (None = however long ago) by the
        database's clock. `now`, the app's clock, shifts that only by its distance from this
        machine's clock (a simulation), never by how far this machine's is from the others'."""
        with self.engine.connect() as conn:
            if stale_s is None:
                rows = conn.execute(self._stmts.select_waiting).all()
            else:
                since = self._shift_s(now) - stale_s
                rows = conn.execute(self._stmts.select_waiting_alive, {"b_since": since}).all()
        return {str(queue): int(count) for queue, count in rows}

    def call(self, call_sid: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(calls).where(calls.c.call_sid == call_sid)).mappings().first()
        return dict(row) if row else None

    def events(self, call_sid: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = (
                conn.execute(select(menu_events).where(menu_events.c.call_sid == call_sid).order_by(menu_events.c.step))
                .mappings()
                .all()
            )
        return [dict(r) for r in rows]

    def export_rows(self, since: datetime | None = None) -> Iterator[dict[str, Any]]:
        """Rows of the documented export schema, oldest call first (raw values, not formatted)."""
        query = select(*(calls.c[name] for name in EXPORT_COLUMNS)).order_by(calls.c.started_at, calls.c.id)
        if since is not None:
            query = query.where(calls.c.started_at >= since)
        with self.engine.connect() as conn:
            for row in conn.execute(query).mappings():
                yield dict(row)
