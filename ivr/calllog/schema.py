"""The call log's tables: one row per call (CallSid unique) and one per menu event, their
columns and types, and the columns added since the first release (added to an older database
when the tables are created). `ivr.calllog.store` reads and writes them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    TypeDecorator,
    UniqueConstraint,
    inspect,
    literal_column,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError


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
    Column("enqueued_at", UtcDateTime, index=True),  # the wallboard reads today's calls by it
    # the queue while the caller waits in it, else NULL: the agent line's query reads only these
    Column("waiting_queue", String(8), index=True),
    # the last time Twilio fetched the caller's hold music (the wait URL): a heartbeat
    Column("heard_at", UtcDateTime),
    # the caller's last sign of life (enqueue or heartbeat) on the database's clock, in seconds
    # since 1970 (`ivr.calllog.store`, "Two clocks"): what the agent line's query judges waiting by
    Column("alive_db_s", Float),
    Column("answered_at", UtcDateTime),
    Column("queue_result", String(32)),
    Column("queue_time_s", Integer),
    Column("left_queue_at", UtcDateTime),
    Column("status", String(32)),
    Column("status_seq", Integer),
    Column("status_rank", Integer),
    Column("ended_at", UtcDateTime),
    Column("duration_s", Integer),
    # the wait the caller heard announced on hold (the first announcement, seconds) and when:
    # beside answered_at it measures the announcement's accuracy
    Column("announced_wait_s", Integer),
    Column("announced_at", UtcDateTime),
    # a callback (virtual hold): asked for on hold, kept at the caller's place in the 311 queue
    # (`callback_position_at`, when they joined it), their number sealed (`ivr.calllog.sealing`)
    # until it is done; status pending -> placing -> connected / answered, or back to pending
    # for a retry, or failed; `callback_due_db_s` is the database's clock before which it is not
    # placed again (a retry's delay), and the last sign of life of a callee on hold
    Column("callback_requested_at", UtcDateTime),
    Column("callback_position_at", UtcDateTime),
    Column("callback_sealed", String(512)),
    Column("callback_status", String(16), index=True),
    Column("callback_attempts", Integer),
    Column("callback_sid", String(64)),
    Column("callback_outcome", String(32)),
    Column("callback_due_db_s", Float),
    Column("callback_placed_db_s", Float),  # when the last attempt was claimed (database's clock)
    Column("callback_done_at", UtcDateTime),
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

# The columns calibrate reads (queueing/planning/calllog.py's LOG_COLUMNS names them on its own).
CALL_COLUMNS = (
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
# After them, what the hold adds: the announced wait and the callback (calibrate reads past them).
HOLD_COLUMNS = (
    "announced_wait_s",
    "announced_at",
    "callback_requested_at",
    "callback_position_at",
    "callback_status",
    "callback_attempts",
    "callback_outcome",
    "callback_done_at",
)
# The agent lines heard saying nobody waits (idle), on the database's clock: with the calls in
# conversation, the agents on duty now that a caller's expected wait counts.
agent_line = Table(
    "agent_line",
    metadata,
    Column("call_sid", String(64), primary_key=True),
    Column("idle_db_s", Float, nullable=False),
)

EXPORT_COLUMNS = CALL_COLUMNS + HOLD_COLUMNS


def database_clock_s(dialect: str) -> ColumnElement[float]:
    """The database's own time when the statement runs, in seconds since 1970 (sub-second)."""
    if dialect == "sqlite":  # 'now' is one instant for the whole statement, to the millisecond
        sql = "((julianday('now') - 2440587.5) * 86400.0)"
    elif dialect == "postgresql":  # now() would be the transaction's start: a replay's is long
        sql = "CAST(EXTRACT(EPOCH FROM statement_timestamp()) AS DOUBLE PRECISION)"
    elif dialect in ("mysql", "mariadb"):
        sql = "UNIX_TIMESTAMP(NOW(6))"
    else:
        sql = "EXTRACT(EPOCH FROM CURRENT_TIMESTAMP)"
    return literal_column(sql, Float())


# Columns added after the first release: (name, type); create_tables adds what an older file lacks.
ADDED_COLUMNS = (
    ("heard_at", UtcDateTime()),
    ("alive_db_s", Float()),
    ("announced_wait_s", Integer()),
    ("announced_at", UtcDateTime()),
    ("callback_requested_at", UtcDateTime()),
    ("callback_position_at", UtcDateTime()),
    ("callback_sealed", String(512)),
    ("callback_status", String(16)),
    ("callback_attempts", Integer()),
    ("callback_sid", String(64)),
    ("callback_outcome", String(32)),
    ("callback_due_db_s", Float()),
    ("callback_placed_db_s", Float()),
    ("callback_done_at", UtcDateTime()),
)
# Indexes added after the first release; create_tables makes what an older file lacks.
ADDED_INDEXES = ("ix_calls_enqueued_at",)


def create_tables(engine: Engine) -> None:
    """Create the tables a database lacks, and the columns an older one lacks."""
    for attempt in range(3):  # two workers may race to create the tables
        try:
            metadata.create_all(engine)
            _add_missing_columns(engine)
            _add_missing_indexes(engine)
            return
        except (OperationalError, ProgrammingError, IntegrityError):
            if attempt == 2:
                raise


def _add_missing_columns(engine: Engine) -> None:
    present = {c["name"] for c in inspect(engine).get_columns("calls")}
    for name, type_ in ADDED_COLUMNS:
        if name not in present:
            ddl = f"ALTER TABLE calls ADD COLUMN {name} {type_.compile(dialect=engine.dialect)}"
            with engine.begin() as conn:
                conn.exec_driver_sql(ddl)
                if name == "alive_db_s":  # or a 911 caller on hold through the upgrade is not seen
                    conn.execute(_backfill_alive(engine.dialect.name))


def _add_missing_indexes(engine: Engine) -> None:
    for index in calls.indexes:
        if index.name in ADDED_INDEXES:
            index.create(engine, checkfirst=True)


def _backfill_alive(dialect: str) -> Any:
    """Callers waiting when the column was added count as heard from then."""
    return (
        update(calls)
        .where(calls.c.waiting_queue.is_not(None), calls.c.alive_db_s.is_(None))
        .values(alive_db_s=database_clock_s(dialect))
    )
