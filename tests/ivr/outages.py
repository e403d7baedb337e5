"""The call log made unavailable for a while, as the voice tests inject it (the webhook benchmark's
outages, in bench/webhook_latency.py, are the served counterpart), and the store budgets tests set.

A test of what the log holds sets `GENEROUS_BUDGET_MS`: a write that misses the budget lands
later or is replayed from the journal, so on a loaded machine a tight budget would make the
test race the clock. A test of the bound itself sets a tight budget and injects the fault
(`hung_store`: the database never answers until the test lets it), so the bound, not the
machine's speed, is what it observes.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from ivr.calllog.store import CallStore

# The longest budget the settings allow: seconds of CPU starvation before a write misses it.
GENEROUS_BUDGET_MS = 5000
# A wait the bound makes finite takes far less than this even on a loaded machine; a wait
# without a bound (a hung store) never ends. Tests join their callers' threads with it, and
# `sqlite_locked` waits this long at most for a write of the app still running to end.
HUNG_GUARD_S = 60.0


@contextmanager
def sqlite_locked(db_url: str) -> Iterator[None]:
    """A second connection holds the write lock (BEGIN EXCLUSIVE), as another process would. It
    waits for the lock as that process would: the app may still be writing (creating its
    tables at start past a tight budget, on a loaded machine)."""
    path = db_url.removeprefix("sqlite:///")
    conn = sqlite3.connect(path, timeout=HUNG_GUARD_S, isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        conn.execute("COMMIT")
        conn.close()


@contextmanager
def hung_store(monkeypatch: pytest.MonkeyPatch, store: CallStore) -> Iterator[list[str]]:
    """Every write of `store` blocks until the block ends (a database that accepted the
    connection and never answers). Yields the names of the writes that reached the store,
    in order; on leaving, the store answers again and the blocked writes go on."""
    release = threading.Event()
    reached: list[str] = []
    apply = store.apply

    def hung(name: str, args: Any) -> Any:
        reached.append(name)
        release.wait()
        return apply(name, args)

    monkeypatch.setattr(store, "apply", hung)
    try:
        yield reached
    finally:
        release.set()
        monkeypatch.setattr(store, "apply", apply)
