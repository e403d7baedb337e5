"""The call log: one row per call (CallSid unique) and one per menu event, with SQLAlchemy 2 Core.

Every write is idempotent (Twilio retries webhooks) and every write transaction starts with a
write statement, so two gunicorn workers on one SQLite file in WAL mode wait on each other
(busy_timeout) instead of failing. Caller numbers are never stored: only a salted hash.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    TypeDecorator,
    UniqueConstraint,
    and_,
    case,
    create_engine,
    event,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.pool import StaticPool

from ivr.errors import IvrError

FINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
_STATUS_RANK = {"queued": 0, "initiated": 1, "ringing": 2, "in-progress": 3}
FINAL_RANK = 4


def status_rank(status: str) -> int:
    return FINAL_RANK if status in FINAL_STATUSES else _STATUS_RANK.get(status, 0)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone: stored as UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the call store; use UTC-aware datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

meta_table = Table(
    "ivr_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", String(256), nullable=False),
)

calls = Table(
    "calls",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("call_sid", String(64), nullable=False, unique=True),
    Column("caller_hash", String(64)),
    Column("started_at", UtcDateTime, nullable=False),
    Column("language", String(8)),
    Column("category", String(64)),
    Column("queue", String(8)),
    Column("menu_attempts", Integer, nullable=False, default=0),
    Column("enqueued_at", UtcDateTime),
    Column("answered_at", UtcDateTime),
    Column("queue_result", String(32)),
    Column("queue_time_s", Integer),
    Column("left_queue_at", UtcDateTime),
    Column("status", String(32)),
    Column("status_seq", Integer),
    Column("status_rank", Integer),
    Column("ended_at", UtcDateTime),
    Column("duration_s", Integer),
)

menu_events = Table(
    "menu_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("call_sid", String(64), nullable=False, index=True),
    Column("step", Integer, nullable=False),
    Column("screen", String(16), nullable=False),
    Column("language", String(8), nullable=False),
    Column("digits", String(16)),
    Column("category", String(64)),
    Column("confidence", Float),
    Column("outcome", String(32), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("call_sid", "step", name="uq_menu_events_call_step"),
)

EXPORT_COLUMNS = (
    "call_sid",
    "caller_hash",
    "started_at",
    "language",
    "category",
    "queue",
    "menu_attempts",
    "enqueued_at",
    "queue_result",
    "queue_time_s",
    "answered_at",
    "ended_at",
    "status",
    "duration_s",
)


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


def make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise IvrError(f"invalid database URL {url!r}") from None
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:"):
            kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
        else:
            Path(database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(parsed, **kwargs)
    except (ArgumentError, ImportError) as exc:
        raise IvrError(f"cannot use database {parsed.render_as_string()}: {exc}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


class CallStore:
    """All reads and writes of the call log. Methods take UTC-aware datetimes."""

    def __init__(self, url: str, *, salt: str | None = None, create: bool = True) -> None:
        self.url = url
        self.engine = make_engine(url)
        if create:
            self.create_tables()
        self._salt = salt

    def close(self) -> None:
        self.engine.dispose()

    def create_tables(self) -> None:
        for attempt in range(3):  # two workers may race to create the tables
            try:
                metadata.create_all(self.engine)
                return
            except (OperationalError, ProgrammingError, IntegrityError):
                if attempt == 2:
                    raise

    # -- privacy -------------------------------------------------------------------------

    @property
    def salt(self) -> str:
        """The caller-hash salt: configured, or random once per database and kept in it."""
        if self._salt is None:
            with self.engine.begin() as conn:
                self._insert_ignore(
                    conn, meta_table, {"key": "caller_hash_salt", "value": secrets.token_hex(16)}
                )
                self._salt = conn.execute(
                    select(meta_table.c.value).where(meta_table.c.key == "caller_hash_salt")
                ).scalar_one()
        return self._salt

    def caller_hash(self, number: str | None) -> str | None:
        if not number:
            return None
        return hmac.new(self.salt.encode(), number.encode(), hashlib.sha256).hexdigest()[:32]

    # -- writes --------------------------------------------------------------------------

    def _insert_ignore(
        self, conn: Connection, table: Table, values: Mapping[str, Any]
    ) -> None:
        name = conn.dialect.name
        if name == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            conn.execute(sqlite_insert(table).values(**values).on_conflict_do_nothing())
        elif name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            conn.execute(pg_insert(table).values(**values).on_conflict_do_nothing())
        else:
            try:
                with conn.begin_nested():
                    conn.execute(table.insert().values(**values))
            except IntegrityError:
                pass

    def _ensure_call(
        self, conn: Connection, call_sid: str, caller_hash: str | None, now: datetime
    ) -> None:
        self._insert_ignore(
            conn,
            calls,
            {"call_sid": call_sid, "caller_hash": caller_hash, "started_at": now,
             "menu_attempts": 0},
        )

    def start_call(
        self, call_sid: str, caller_hash: str | None, language: str, now: datetime | None = None
    ) -> None:
        """The first webhook of a call; a retry changes nothing."""
        now = now or utcnow()
        with self.engine.begin() as conn:
            self._ensure_call(conn, call_sid, caller_hash, now)
            conn.execute(
                update(calls)
                .where(calls.c.call_sid == call_sid, calls.c.language.is_(None))
                .values(language=language)
            )

    def record_menu_event(
        self, ev: MenuEvent, caller_hash: str | None = None, now: datetime | None = None
    ) -> None:
        now = now or utcnow()
        with self.engine.begin() as conn:
            self._ensure_call(conn, ev.call_sid, caller_hash, now)
            self._insert_ignore(
                conn,
                menu_events,
                {"call_sid": ev.call_sid, "step": ev.step, "screen": ev.screen,
                 "language": ev.language, "digits": ev.digits, "category": ev.category,
                 "confidence": ev.confidence, "outcome": ev.outcome, "created_at": now},
            )
            conn.execute(
                update(calls)
                .where(calls.c.call_sid == ev.call_sid)
                .values(
                    language=ev.language,
                    menu_attempts=case(
                        (calls.c.menu_attempts < ev.step, ev.step),
                        else_=calls.c.menu_attempts,
                    ),
                )
            )

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
        """The caller is put in a Twilio queue. The first enqueue time is kept on retries."""
        now = now or utcnow()
        values: dict[str, Any] = {
            "queue": queue,
            "category": category,
            "language": language,
            "enqueued_at": func.coalesce(calls.c.enqueued_at, now),
        }
        if requeue:
            values.update(queue_result=None, left_queue_at=None)
        with self.engine.begin() as conn:
            self._ensure_call(conn, call_sid, None, now)
            conn.execute(update(calls).where(calls.c.call_sid == call_sid).values(**values))

    def mark_answered(
        self, call_sid: str, queue_time_s: int | None, now: datetime | None = None
    ) -> None:
        """An agent dequeued the caller (the <Queue url> request, on the caller's side)."""
        now = now or utcnow()
        with self.engine.begin() as conn:
            conn.execute(
                update(calls)
                .where(calls.c.call_sid == call_sid, calls.c.answered_at.is_(None))
                .values(answered_at=now, queue_time_s=queue_time_s)
            )

    def record_queue_result(
        self, call_sid: str, result: str, queue_time_s: int | None, now: datetime | None = None
    ) -> None:
        """The caller left the queue (the <Enqueue action> request)."""
        now = now or utcnow()
        values: dict[str, Any] = {
            "queue_result": result,
            "left_queue_at": func.coalesce(calls.c.left_queue_at, now),
        }
        if queue_time_s is not None:
            values["queue_time_s"] = queue_time_s
        with self.engine.begin() as conn:
            self._ensure_call(conn, call_sid, None, now)
            conn.execute(update(calls).where(calls.c.call_sid == call_sid).values(**values))

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
        stored_rank = func.coalesce(calls.c.status_rank, -1)
        if sequence_number is None:
            newer = stored_rank < rank
        else:
            newer = or_(
                and_(calls.c.status_seq.is_not(None), calls.c.status_seq < sequence_number),
                and_(calls.c.status_seq.is_(None), stored_rank <= rank),
            )
        values: dict[str, Any] = {"status": status, "status_rank": rank}
        if sequence_number is not None:
            values["status_seq"] = sequence_number
        if duration_s is not None:
            values["duration_s"] = duration_s
        if rank == FINAL_RANK:
            values["ended_at"] = timestamp or now
        with self.engine.begin() as conn:
            self._ensure_call(conn, call_sid, caller_hash, timestamp or now)
            result = conn.execute(
                update(calls).where(calls.c.call_sid == call_sid, newer).values(**values)
            )
            return bool(result.rowcount)

    # -- reads ---------------------------------------------------------------------------

    def waiting_counts(self) -> dict[str, int]:
        """Callers waiting in each queue, from the app's own records."""
        waiting = and_(
            calls.c.enqueued_at.is_not(None),
            calls.c.answered_at.is_(None),
            calls.c.queue_result.is_(None),
            calls.c.ended_at.is_(None),
        )
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(calls.c.queue, func.count()).where(waiting).group_by(calls.c.queue)
            ).all()
        return {str(queue): int(count) for queue, count in rows}

    def call(self, call_sid: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(calls).where(calls.c.call_sid == call_sid)).mappings().first()
        return dict(row) if row else None

    def events(self, call_sid: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(menu_events).where(menu_events.c.call_sid == call_sid)
                .order_by(menu_events.c.step)
            ).mappings().all()
        return [dict(r) for r in rows]

    def export_rows(self, since: datetime | None = None) -> Iterator[dict[str, Any]]:
        """Rows of the documented export schema, oldest call first (raw values, not formatted)."""
        query = select(*(calls.c[name] for name in EXPORT_COLUMNS)).order_by(
            calls.c.started_at, calls.c.id
        )
        if since is not None:
            query = query.where(calls.c.started_at >= since)
        with self.engine.connect() as conn:
            for row in conn.execute(query).mappings():
                yield dict(row)
