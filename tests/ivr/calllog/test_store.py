"""The call store on a real SQLite file (WAL) and on a real PostgreSQL server."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from ivr.calllog.callerhash import CallerHasher
from ivr.calllog.store import CallStore, MenuEvent
from tests.ivr.workers import run_as_workers

T0 = datetime(2024, 5, 14, 10, 0, 0, tzinfo=UTC)
HASHER = CallerHasher(b"key-for-store-tests-0123")


@pytest.fixture
def any_store(any_db_url):
    store = CallStore(any_db_url)
    yield store
    store.close()


def test_sqlite_file_is_in_wal_mode(tmp_path):
    store = CallStore(f"sqlite:///{tmp_path / 'wal.sqlite3'}")
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    store.close()


def test_one_row_per_call_sid(any_store):
    for _ in range(3):
        any_store.start_call("CA1", HASHER.hash("+15551234567"), "en", T0)
    rows = list(any_store.export_rows())
    assert len(rows) == 1
    assert rows[0]["started_at"] == T0
    assert rows[0]["started_at"].tzinfo is not None


def test_menu_events_are_unique_per_step(any_store):
    any_store.start_call("CA1", None, "en", T0)
    ev = MenuEvent("CA1", 1, "main", "en", "services", digits="2")
    any_store.record_menu_event(ev, now=T0)
    any_store.record_menu_event(ev, now=T0 + timedelta(seconds=5))
    any_store.record_menu_event(MenuEvent("CA1", 2, "services", "en", "category", "3", "dead_animal"), now=T0)
    events = any_store.events("CA1")
    assert [e["step"] for e in events] == [1, 2]
    assert any_store.call("CA1")["menu_attempts"] == 2
    any_store.record_menu_event(ev, now=T0)  # a late retry of step 1 does not lower it
    assert any_store.call("CA1")["menu_attempts"] == 2


def test_full_lifecycle_and_waiting_counts(any_store):
    any_store.start_call("CA311", None, "en", T0)
    any_store.start_call("CA911", None, "es", T0 + timedelta(seconds=1))
    any_store.mark_enqueued("CA311", "311", "pothole", "en", T0 + timedelta(seconds=20))
    any_store.mark_enqueued("CA911", "911", None, "es", T0 + timedelta(seconds=21))
    assert any_store.waiting_counts() == {"311": 1, "911": 1}
    any_store.mark_answered("CA911", 9, T0 + timedelta(seconds=30))
    assert any_store.waiting_counts() == {"311": 1}
    any_store.record_queue_result("CA911", "bridged", 9, T0 + timedelta(seconds=200))
    any_store.record_status("CA911", "completed", 5, 200, T0 + timedelta(seconds=201))
    any_store.record_queue_result("CA311", "hangup", 95, T0 + timedelta(seconds=115))
    assert any_store.waiting_counts() == {}
    rows = {r["call_sid"]: r for r in any_store.export_rows()}
    assert rows["CA911"]["status"] == "completed" and rows["CA911"]["duration_s"] == 200
    assert rows["CA911"]["queue_time_s"] == 9
    assert rows["CA311"]["queue_result"] == "hangup" and rows["CA311"]["queue_time_s"] == 95


def test_status_ordering(any_store):
    assert any_store.record_status("CA1", "in-progress", 2, None, None, now=T0)
    assert not any_store.record_status("CA1", "ringing", 1, None, None, now=T0)
    assert any_store.record_status("CA1", "completed", 3, 42, T0, now=T0)
    assert not any_store.record_status("CA1", "completed", 3, 42, T0, now=T0)
    assert not any_store.record_status("CA1", "in-progress", None, None, None, now=T0)
    row = any_store.call("CA1")
    assert (row["status"], row["status_seq"], row["duration_s"]) == ("completed", 3, 42)


def test_since_filter(any_store):
    for i in range(5):
        any_store.start_call(f"CA{i}", None, "en", T0 + timedelta(hours=i))
    got = [r["call_sid"] for r in any_store.export_rows(T0 + timedelta(hours=2))]
    assert got == ["CA2", "CA3", "CA4"]


def test_concurrent_writers(any_db_url):
    store = CallStore(any_db_url)

    def one_call(i: int) -> None:
        sid = f"CA{i:04d}"
        store.start_call(sid, HASHER.hash(f"+1555{i:07d}"), "en")
        store.record_menu_event(MenuEvent(sid, 1, "main", "en", "operator", digits="0"))
        store.mark_enqueued(sid, "311", "other", "en")
        store.record_status(sid, "completed", 3, 12, None)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one_call, range(80)))
    rows = list(store.export_rows())
    assert len(rows) == 80 and all(r["status"] == "completed" for r in rows)
    store.close()


def _worker(url: str, offset: int) -> None:
    store = CallStore(url)
    for i in range(offset, offset + 60):
        sid = f"CA{i:04d}"
        store.start_call(sid, None, "en")
        store.record_menu_event(MenuEvent(sid, 1, "main", "en", "911", digits="1"))
        store.mark_enqueued(sid, "911", None, "en")
    store.close()


def test_two_processes_share_one_sqlite_file(tmp_path):
    """What two gunicorn workers do: no 'database is locked', no lost rows."""
    url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    CallStore(url).close()
    run_as_workers(_worker, [(url, k * 1000) for k in range(2)])
    store = CallStore(url)
    assert len(list(store.export_rows())) == 120
    assert store.waiting_counts() == {"911": 120}
    store.close()
