"""Waiting is judged on the database's clock: app servers whose clocks disagree by minutes still
agree on who waits, a heartbeat replayed late from the journal does not make a gone caller
alive, and a call log from before the database-clock column keeps its callers waiting."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import inspect, text

from ivr import create_app
from ivr.calllog.journal import Journal, Op
from ivr.calllog.recorder import Recorder
from ivr.calllog.store import CallStore, utcnow
from tests.ivr.outages import GENEROUS_BUDGET_MS
from tests.ivr.twilio_sim import PUBLIC_BASE, TOKEN, Call, TwilioSim

SKEW_S = 200.0  # each app server's clock is this far from the true time, one behind, one ahead
STALE_S = 2.0  # wait_stale_s of both servers (75 s by default), so the test need not wait long
GONE_DEADLINE_S = 60.0  # for a caller to stop counting, on a loaded machine
AGENT = {"CallSid": "CA" + "a" * 32, "From": "+15550001111", "To": "+15550000999"}


def skewed(offset_s: float) -> Callable[[], datetime]:
    def clock() -> datetime:
        return utcnow() + timedelta(seconds=offset_s)

    return clock


def server(db_url: str, folder: Path, offset_s: float) -> Flask:
    """An app server on a machine whose clock is `offset_s` off: the app reads it, and so does
    its call store (as `utcnow` would on that machine)."""
    app = create_app(
        {
            "twilio_auth_token": TOKEN,
            "public_base_url": PUBLIC_BASE,
            "database_url": db_url,
            "caller_hash_key": "pepper-for-tests-0123456789",
            "journal_dir": folder / "journal",
            "wait_stale_s": STALE_S,
            "store_budget_ms": GENEROUS_BUDGET_MS,
            "TESTING": True,
        }
    )
    clock = skewed(offset_s)
    app.extensions["ivr311.clock"] = clock
    app.extensions["ivr311.store"].machine_clock = clock
    return app


@pytest.fixture
def behind_and_ahead(any_db_url: str, tmp_path: Path) -> Iterator[tuple[TwilioSim, TwilioSim]]:
    """Two app servers on one call log, their clocks 2 x SKEW_S apart."""
    apps = [server(any_db_url, tmp_path / "behind", -SKEW_S), server(any_db_url, tmp_path / "ahead", SKEW_S)]
    yield TwilioSim(apps[0].test_client()), TwilioSim(apps[1].test_client())
    for app in apps:
        app.extensions["ivr311.store"].close()


def agent_queue(twilio: TwilioSim) -> str | None:
    """The queue the agent line dials, None when it says nobody waits."""
    queue = twilio.twiml("/agent", AGENT).find("Dial/Queue")
    return None if queue is None else queue.text


def enqueue(twilio: TwilioSim, key: str) -> tuple[Call, str]:
    call = Call(twilio)
    call.start()
    enqueued = call.press(key).find("Enqueue")
    assert enqueued is not None
    return call, enqueued.get("waitUrl", "")


def test_servers_with_skewed_clocks_agree_on_who_waits(behind_and_ahead):
    """A 911 caller heard by the server behind is waiting for the server ahead, whose agent dials
    911 before the 311 caller it hears itself; once the hold music stops, both callers stop
    counting STALE_S later on both servers, not 2 x SKEW_S later on the one behind."""
    behind, ahead = behind_and_ahead
    emergency, emergency_wait = enqueue(behind, "1")
    other, other_wait = enqueue(ahead, "0")
    last_heard = time.monotonic()
    behind.twiml(emergency_wait, emergency.params(QueuePosition="1", QueueTime="5"))
    ahead.twiml(other_wait, other.params(QueuePosition="1", QueueTime="5"))
    assert agent_queue(ahead) == "911"
    assert agent_queue(behind) == "911"

    while agent_queue(behind) is not None:
        assert time.monotonic() - last_heard < GONE_DEADLINE_S, "the callers still wait for the server behind"
        time.sleep(0.1)
    gone_after_s = time.monotonic() - last_heard
    assert agent_queue(ahead) is None
    assert gone_after_s >= STALE_S - 0.1, f"gone {gone_after_s:.2f} s after the last heartbeat"


def heartbeat(queue_time_s: int, heard: datetime) -> Op:
    return Op("record_heartbeat", {"call_sid": "CA1", "queue": "911", "queue_time_s": queue_time_s, "now": heard})


def test_a_heartbeat_replayed_late_does_not_make_a_gone_caller_alive(any_db_url, tmp_path):
    """A heartbeat journaled during an outage counts from when it was heard, not from the replay:
    five minutes late, it is stale; a later heartbeat is not undone by an older one replayed."""
    store = CallStore(any_db_url)
    recorder = Recorder(store, Journal(tmp_path / "journal"))
    heard = utcnow() - timedelta(minutes=5)
    recorder.journal.append(heartbeat(30, heard))
    try:
        assert recorder.replay() == 1
        assert store.waiting_counts(utcnow(), 75) == {}
        assert store.waiting_counts(utcnow(), 400) == {"911": 1}
        store.record_heartbeat("CA1", "911", 330, now=utcnow())
        recorder.journal.append(heartbeat(40, heard))
        assert recorder.replay() == 1
        assert store.waiting_counts(utcnow(), 75) == {"911": 1}
    finally:
        recorder.close()
        store.close()


def test_a_log_from_before_the_database_clock_keeps_its_waiting_callers(any_db_url):
    """Opening an older log adds the column; a caller on hold through the upgrade still counts
    (until STALE_S from the upgrade without a heartbeat), so no 911 caller is skipped for it."""
    store = CallStore(any_db_url)
    store.mark_enqueued("CA911", "911", None, "en", utcnow())
    store.mark_enqueued("CA311", "311", None, "en", utcnow())
    store.record_queue_result("CA311", "hangup", 10, utcnow())
    with store.engine.begin() as conn:
        conn.execute(text("ALTER TABLE calls DROP COLUMN alive_db_s"))
    store.close()
    store = CallStore(any_db_url)
    try:
        assert "alive_db_s" in {c["name"] for c in inspect(store.engine).get_columns("calls")}
        assert store.waiting_counts(utcnow(), STALE_S) == {"911": 1}
        time.sleep(STALE_S + 0.1)
        assert store.waiting_counts(utcnow(), STALE_S) == {}
    finally:
        store.close()
