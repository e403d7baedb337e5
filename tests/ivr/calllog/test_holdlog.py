"""The call log's hold part (`ivr.calllog.holdlog`) on SQLite and PostgreSQL: the live state a
wait estimate is computed from, a callback's life, and an older log opened by this version."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from ivr.callflow.waitestimate import HoldSnapshot, for_caller
from ivr.calllog.holdlog import HOLD_STEP
from ivr.calllog.sealing import NumberSeal, load_seal
from ivr.calllog.store import CallStore, MenuEvent, utcnow
from ivr.errors import ConfigError

STALE_S = 75.0


@pytest.fixture
def store(any_db_url: str):
    found = CallStore(any_db_url)
    yield found
    found.close()


def talk(store: CallStore, sid: str, queue: str, answered_ago_s: float, handle_s: float | None) -> None:
    """A caller answered `answered_ago_s` ago, the conversation `handle_s` long (None: going on)."""
    now = utcnow()
    answered = now - timedelta(seconds=answered_ago_s)
    store.mark_enqueued(sid, queue, None, "en", answered - timedelta(seconds=20))
    store.mark_answered(sid, 20, answered)
    if handle_s is not None:
        store.record_queue_result(sid, "bridged", 20, answered + timedelta(seconds=handle_s))


def ask_callback(store: CallStore, sid: str, sealed: str = "sealed") -> None:
    ev = MenuEvent(sid, 0, "hold", "en", "callback", "1")
    store.record_hold_step(ev.__dict__, sealed=sealed, queue_time_s=40, now=utcnow())


def test_the_snapshot_holds_what_the_estimate_needs(store):
    for i, handle in enumerate((200.0, 300.0, 400.0)):
        talk(store, f"CAdone{i}", "311", 3000 - 500 * i, handle)
    talk(store, "CAtalk", "911", 100, None)
    talk(store, "CAlong-ago", "311", 7200, 100.0)  # beyond the hour: not a recent handle time
    now = utcnow()
    store.mark_enqueued("CA911", "911", None, "en", now - timedelta(seconds=5))
    for i in range(3):
        store.mark_enqueued(f"CA311-{i}", "311", None, "en", now - timedelta(seconds=50 - i))
    store.record_agent_idle("CAagent", now)
    snapshot = store.hold_snapshot(utcnow(), STALE_S)
    assert snapshot == {
        "waiting_911": 1,
        "waiting_311": 3,
        "callback_places": [],
        "agents_busy": 1,
        "agents_idle": 1,
        "handle_s": pytest.approx(300.0),
        "arrivals_911_per_s": pytest.approx(2 / 3600),  # CAtalk and CA911 within the hour
        "abandon_per_s": 0.0,  # nobody hung up
    }
    ask_callback(store, "CA311-0")  # a callback keeps its place: still ahead of the later ones
    snapshot = HoldSnapshot(**store.hold_snapshot(utcnow(), STALE_S))
    assert snapshot.waiting_311 == 2 and snapshot.callback_places == [store.call("CA311-0")["enqueued_at"]]
    joined = store.call("CA311-2")["enqueued_at"]
    assert for_caller(snapshot, 2, joined).ahead_311 == 2  # one in the queue before it, one callback
    assert for_caller(snapshot, 1, store.call("CA311-0")["enqueued_at"]).ahead_311 == 0


def test_the_patience_rate_is_the_hang_ups_over_the_time_waited_in_the_hour(store):
    now = utcnow()
    ago = lambda s: now - timedelta(seconds=s)  # noqa: E731
    store.mark_enqueued("CAgave-up", "311", None, "en", ago(1000))
    store.record_queue_result("CAgave-up", "hangup", 600, ago(400))  # 600 s waited
    store.mark_enqueued("CAlong", "311", None, "en", ago(7000))  # 600 s of its wait in the hour
    store.mark_answered("CAlong", 4000, ago(3000))
    store.record_queue_result("CAlong", "bridged", 4000, ago(2900))
    store.mark_enqueued("CAold", "311", None, "en", ago(5000))  # hung up before the hour
    store.record_queue_result("CAold", "hangup", 1000, ago(4000))
    store.mark_enqueued("CA911", "911", None, "en", ago(900))  # 911 callers are not counted
    store.record_queue_result("CA911", "hangup", 100, ago(800))
    rate = store.hold_snapshot(now, STALE_S)["abandon_per_s"]
    assert rate == pytest.approx(1 / 1200, rel=1e-3)


def test_history_is_read_from_the_latest_calls_only(store, monkeypatch):
    from ivr.calllog import holdlog

    for i in range(4):
        talk(store, f"CAdone{i}", "311", 1000 - 100 * i, 300.0)
    monkeypatch.setattr(holdlog, "RECENT_ROWS", 2)  # the last two calls: fewer than MIN_HANDLED
    assert store.hold_snapshot(utcnow(), STALE_S)["handle_s"] is None


def test_a_callback_from_request_to_retries_to_failure(store):
    now = utcnow()
    store.mark_enqueued("CA1", "311", "other", "en", now - timedelta(seconds=40))
    ask_callback(store, "CA1")
    ask_callback(store, "CA1", sealed="another")  # a retried webhook changes nothing
    row = store.call("CA1")
    assert (row["callback_status"], row["callback_sealed"], row["waiting_queue"]) == ("pending", "sealed", None)
    assert row["callback_position_at"] == row["enqueued_at"] and row["queue_result"] == "callback"
    assert [e["step"] for e in store.events("CA1")] == [HOLD_STEP]
    store.record_queue_result("CA1", "hangup", 41, utcnow())
    assert store.call("CA1")["queue_result"] == "callback"
    assert store.next_callback(utcnow(), STALE_S)["call_sid"] == "CA1"
    for attempt in (1, 2):
        assert store.claim_callback("CA1", attempt - 1)
        assert not store.claim_callback("CA1", attempt - 1)  # one agent line only
        assert store.next_callback(utcnow(), STALE_S) is None  # placing: not offered again
        store.record_callback_status("CA1", attempt, "no-answer", max_attempts=2, retry_after_s=0.0)
    row = store.call("CA1")
    assert (row["callback_status"], row["callback_outcome"], row["callback_attempts"]) == ("failed", "no-answer", 2)
    assert row["callback_sealed"] is None and row["callback_done_at"] is not None
    assert store.next_callback(utcnow(), STALE_S) is None


def test_a_retry_waits_its_delay_and_a_caller_in_line_before_it_goes_first(store):
    now = utcnow()
    store.mark_enqueued("CAearly", "311", None, "en", now - timedelta(seconds=60))
    store.mark_enqueued("CAcb", "311", None, "en", now - timedelta(seconds=30))
    ask_callback(store, "CAcb")
    assert store.next_callback(utcnow(), STALE_S) is None  # CAearly joined first
    store.mark_answered("CAearly", 60, utcnow())
    assert store.next_callback(utcnow(), STALE_S)["call_sid"] == "CAcb"
    assert store.claim_callback("CAcb", 0)
    store.record_callback_status("CAcb", 1, "busy", max_attempts=3, retry_after_s=3600.0)
    assert store.call("CAcb")["callback_status"] == "pending"
    assert store.next_callback(utcnow(), STALE_S) is None  # not due for an hour
    assert store.next_callback(utcnow() + timedelta(hours=1, seconds=1), STALE_S)["call_sid"] == "CAcb"


def test_a_callee_who_picks_up_holds_and_is_answered(store):
    store.mark_enqueued("CA1", "311", None, "en", utcnow())
    ask_callback(store, "CA1")
    assert store.claim_callback("CA1", 0)
    store.callback_placed("CA1", 1, "CAout1")
    store.callback_connected("CA1", 1, utcnow())
    # the line that placed the call still dials for them: no other line does for 60 s
    assert store.next_callback(utcnow(), STALE_S, dial_wait_s=60.0) is None
    later = utcnow() + timedelta(seconds=61)
    store.callback_connected("CA1", 1, later)  # still holding
    assert store.next_callback(later, STALE_S, dial_wait_s=60.0) == {"dial": True}  # another line dials them
    store.callback_answered("CAout1", utcnow())
    store.record_callback_status("CA1", 1, "completed", max_attempts=3, retry_after_s=0.0)
    row = store.call("CA1")
    assert (row["callback_status"], row["callback_outcome"], row["callback_sealed"]) == ("answered", "completed", None)
    assert store.next_callback(utcnow(), STALE_S) is None


def test_an_older_log_gets_the_hold_columns(any_db_url):
    store = CallStore(any_db_url)
    store.mark_enqueued("CA1", "311", None, "en", utcnow())
    with store.engine.begin() as conn:
        for column in ("announced_wait_s", "callback_sealed", "callback_outcome"):
            conn.execute(text(f"ALTER TABLE calls DROP COLUMN {column}"))
    store.close()
    store = CallStore(any_db_url)
    try:
        present = {c["name"] for c in inspect(store.engine).get_columns("calls")}
        assert {"announced_wait_s", "callback_sealed", "callback_outcome"} <= present
        store.record_heartbeat("CA1", "311", 10, utcnow(), announced_wait_s=240)
        assert store.call("CA1")["announced_wait_s"] == 240
    finally:
        store.close()


def test_the_seal_opens_only_under_its_own_key(tmp_path: Path):
    seal = NumberSeal(b"a-callback-key-0123456789")
    token = seal.seal("+15558675309")
    assert "5558675309" not in token and seal.open(token) == "+15558675309"
    assert NumberSeal(b"another-key-0123456789ab").open(token) is None
    assert seal.open(token[:-4] + "AAAA") is None and seal.open(None) is None
    with pytest.raises(ConfigError, match="at least 16"):
        NumberSeal(b"short")
    with pytest.raises(ConfigError, match="IVR311_CALLBACK_KEY"):
        load_seal(None, None, tmp_path, "postgresql+psycopg://u@h/db")
    made = load_seal(None, None, tmp_path, f"sqlite:///{tmp_path / 'calls.sqlite3'}")
    key_file = tmp_path / "callback.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    again = load_seal(None, key_file, tmp_path, "postgresql+psycopg://u@h/db")
    assert again.open(made.seal("+15550001111")) == "+15550001111"


def test_an_attempt_that_never_reports_back_is_lost_and_retried(store):
    from ivr.calllog.holdlog import CALLBACK_LOST_S

    store.mark_enqueued("CA1", "311", None, "en", utcnow())
    ask_callback(store, "CA1")
    assert store.claim_callback("CA1", 0, utcnow())
    assert store.next_callback(utcnow(), STALE_S) is None  # placing, not lost yet
    later = utcnow() + timedelta(seconds=CALLBACK_LOST_S + 1)
    assert store.next_callback(later, STALE_S) == {"lost": True, "call_sid": "CA1", "attempts": 1}
    store.record_callback_status("CA1", 1, "lost", max_attempts=3, retry_after_s=0.0, now=later)
    assert store.call("CA1")["callback_status"] == "pending"
    assert store.next_callback(later + timedelta(seconds=1), STALE_S)["call_sid"] == "CA1"
