"""The call log's database engine: the timeouts that bound every wait on it (a locked SQLite
file, a PostgreSQL statement or lock, a connection from the pool) and SQLite's pragmas (WAL, so
two gunicorn workers on one file wait on each other instead of failing).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import StaticPool

from ivr.errors import IvrError

# Timeouts when nobody gives one (the command line: an export may run for a while).
PATIENT_TIMEOUT_S = 30.0
# PostgreSQL's client library enforces at least 2 s to connect; the recorder's own deadline
# (`ivr.calllog.recorder`) bounds what a webhook waits.
PG_MIN_CONNECT_TIMEOUT_S = 2


def make_engine(url: str, timeout_s: float = PATIENT_TIMEOUT_S) -> Engine:
    """An engine that gives up after about `timeout_s` on a locked SQLite file (busy timeout), a
    PostgreSQL statement or lock wait, or a connection from the pool."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise IvrError(f"invalid database URL {url!r}") from None
    kwargs: dict[str, Any] = {}
    timeout_ms = max(1, int(timeout_s * 1000))
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:"):
            kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
        else:
            with contextlib.suppress(OSError):  # if it cannot be made, connecting says why
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": timeout_s, "check_same_thread": False}
    else:
        kwargs["pool_pre_ping"] = True
        kwargs["pool_timeout"] = timeout_s
        if parsed.get_backend_name() == "postgresql":
            kwargs["connect_args"] = {
                "connect_timeout": max(PG_MIN_CONNECT_TIMEOUT_S, int(timeout_s + 0.999)),
                "options": f"-c statement_timeout={timeout_ms} -c lock_timeout={timeout_ms}",
            }
    try:
        engine = create_engine(parsed, **kwargs)
    except (ArgumentError, ImportError) as exc:
        raise IvrError(f"cannot use database {parsed.render_as_string()}: {exc}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas(timeout_ms))
    return engine


def _sqlite_pragmas(busy_timeout_ms: int) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return on_connect
