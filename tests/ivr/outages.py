"""The call log made unavailable for a while, as the voice tests inject it (the webhook benchmark's
outages, in bench/webhook_latency.py, are the served counterpart)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def sqlite_locked(db_url: str) -> Iterator[None]:
    """A second connection holds the write lock (BEGIN EXCLUSIVE), as another process would."""
    path = db_url.removeprefix("sqlite:///")
    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        conn.execute("COMMIT")
        conn.close()
