"""The voice line with faults injected: database locked or stopped, lost callbacks, bugs.

Life safety first: key 1 or "emergency" ends in <Enqueue>911</Enqueue> whatever the database
does, and waits on it at most the store budget (held with a store that never answers: a wait
without a bound would never end, so the test observes the bound, not the machine's speed);
nothing a webhook answered is lost (the journal replays it), a 911 caller is never hung up by
the app, and a caller whose callbacks were lost stops holding the agent line.

Tests of what the log holds run with a generous budget (a loaded machine never misses it);
tests of outages set a tight one (`store_budget_ms`), so the database's own timeouts, set below
it, fail the writes quickly; either way a write that misses the budget is journaled or lands
late, and a test reads the log after `Recorder.replay` or `Recorder.drain`.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ivr import create_app
from ivr.calllog.store import CallStore
from tests.ivr.outages import HUNG_GUARD_S, hung_store, sqlite_locked
from tests.ivr.twilio_sim import PUBLIC_BASE, TOKEN, Call, TwilioSim

OUTAGE_BUDGET_MS = 200  # the database's timeouts are set below it: a locked write fails fast
BOUND_BUDGET_MS = 50  # the bound's own tests: a store that never answers costs this, once


def emergency_calls(twilio: TwilioSim) -> list[Call]:
    """Two callers reach the 911 queue, by key and by voice, and hear the hold music."""
    calls = []
    for how in ("key", "voice"):
        call = Call(twilio)
        call.start()
        doc = call.press("1") if how == "key" else call.speak("emergency")
        assert doc.find("Enqueue") is not None and doc.find("Enqueue").text == "911", how
        hold = twilio.twiml(doc.find("Enqueue").get("waitUrl"), call.params(QueuePosition="1", QueueTime="4"))
        assert hold.find("Enqueue") is None and hold.find("Hangup") is None
        calls.append(call)
    return calls


def answered(fn: Any, *args: Any) -> Any:
    """`fn(*args)` run on a thread of its own and waited for `HUNG_GUARD_S` at most: with a
    store that never answers, a webhook that waits on it without a bound fails here."""
    runner = ThreadPoolExecutor(1)
    try:
        return runner.submit(fn, *args).result(timeout=HUNG_GUARD_S)
    finally:
        runner.shutdown(wait=False)  # (a stuck thread ends when the store is let go)


def check_outage_then_recovery(app: Any, outage: Any, db_url: str) -> None:
    twilio = TwilioSim(app.test_client())
    recorder = app.extensions["ivr311.recorder"]
    with outage():
        calls = emergency_calls(twilio)
        health = app.test_client().get("/healthz").get_json()
        assert health["status"] == "degraded" and health["journal_pending"] >= 6
        # the agent line cannot know who waits: it tries the 911 queue first
        doc = twilio.twiml("/agent", {"CallSid": "CA" + "a" * 32})
        assert doc.find("Dial/Queue").text == "911"
    recorder.replay()  # (the replay thread may have done it already)
    assert not recorder.journal.pending()
    assert app.test_client().get("/healthz").get_json()["status"] == "ok"
    store = CallStore(db_url, create=False)
    try:
        rows = {r["call_sid"]: r for r in store.export_rows()}
        for call in calls:
            assert rows[call.sid]["queue"] == "911" and rows[call.sid]["enqueued_at"] is not None
        assert store.waiting_counts() == {"911": 2}
    finally:
        store.close()
    doc = twilio.twiml("/agent", {"CallSid": "CA" + "b" * 32})
    assert doc.find("Dial/Queue").text == "911"


@pytest.mark.store_budget_ms(OUTAGE_BUDGET_MS)
def test_sqlite_locked_by_another_process(app, db_url):
    check_outage_then_recovery(app, lambda: sqlite_locked(db_url), db_url)


@pytest.fixture
def private_pg(tmp_path: Path) -> Iterator[Any]:
    """A PostgreSQL cluster of this test's own, so it can be stopped."""
    from bench.pgcluster import PgCluster

    cluster = PgCluster()
    try:
        yield cluster
    finally:
        cluster.remove()


@pytest.mark.slow
def test_postgresql_server_stopped(private_pg, tmp_path):
    url = private_pg.create_database()
    app = create_app(
        {
            "twilio_auth_token": TOKEN,
            "public_base_url": PUBLIC_BASE,
            "database_url": url,
            "caller_hash_key": "pg-outage-key-0123456",
            "journal_dir": tmp_path / "journal",
        }
    )

    @contextmanager
    def stopped() -> Iterator[None]:
        private_pg.stop()
        try:
            yield
        finally:
            private_pg.start()

    try:
        check_outage_then_recovery(app, stopped, url)
    finally:
        app.extensions["ivr311.store"].close()


def test_app_starts_and_routes_with_the_database_down(tmp_path):
    """The database cannot be opened at start: the app starts, routes 911, journals the calls."""
    app = create_app(
        {
            "twilio_auth_token": TOKEN,
            "public_base_url": PUBLIC_BASE,
            "database_url": "sqlite:////proc/no/such/calls.sqlite3",
            "caller_hash_key": "start-key-0123456789",
            "journal_dir": tmp_path / "j",
        }
    )
    twilio = TwilioSim(app.test_client())
    calls = emergency_calls(twilio)
    assert app.extensions["ivr311.recorder"].journal.count() >= 3 * len(calls)


@pytest.mark.store_budget_ms(BOUND_BUDGET_MS)
def test_911_never_waits_on_a_store_that_never_answers(app, twilio, monkeypatch):
    """The database takes the connection and never answers. The first write of the outage waits
    out its budget; every later one goes to the journal without touching the store: 911 callers
    are queued, the agent line dials 911 first, nothing is lost once the store answers."""
    recorder = app.extensions["ivr311.recorder"]
    with hung_store(monkeypatch, recorder.store) as reached:
        calls = answered(emergency_calls, twilio)
        doc = answered(twilio.twiml, "/agent", {"CallSid": "CA" + "a" * 32})
        assert doc.find("Dial/Queue").text == "911"
        assert reached == ["start_call"]  # one write waited on the store, once
        assert recorder.journal.count() >= 3 * len(calls)
    recorder.replay()
    assert {app.extensions["ivr311.store"].call(c.sid)["queue"] for c in calls} == {"911"}


@pytest.mark.store_budget_ms(OUTAGE_BUDGET_MS)
def test_one_warning_per_outage_not_one_per_call(app, db_url, caplog):
    twilio = TwilioSim(app.test_client())
    with caplog.at_level("WARNING", logger="ivr.calllog.recorder"), sqlite_locked(db_url):
        for _ in range(3):
            emergency_calls(twilio)
        warnings = [r for r in caplog.records if r.name == "ivr.calllog.recorder"]  # (still locked)
    assert len(warnings) == 1 and "unreachable" in warnings[0].getMessage()
    assert not [r for r in caplog.records if r.exc_info]


# -- queue results: 911 callers are never hung up by the app --------------------------------


@pytest.mark.parametrize(
    "result", ["queue-full", "error", "system-error", "system-shutdown", "bridging-in-process", "something-new", ""]
)
def test_911_queue_trouble_queues_the_caller_again(twilio, new_call, store, result):
    call = new_call()
    call.start()
    doc = call.press("1")
    action = doc.find("Enqueue").get("action")
    params = call.params(QueueTime="12")
    if result:
        params["QueueResult"] = result
    for _ in range(5):  # however often it happens
        doc = twilio.twiml(action, params)
        enq = doc.find("Enqueue")
        assert enq is not None and enq.text == "911" and doc.find("Hangup") is None
        action = enq.get("action")
    assert store.waiting_counts().get("911") == 1


@pytest.mark.parametrize("result", ["hangup", "leave", "bridged"])
def test_911_caller_who_left_is_not_queued_again(twilio, new_call, result):
    call = new_call()
    call.start()
    action = call.press("1").find("Enqueue").get("action")
    doc = twilio.twiml(action, call.params(QueueResult=result, QueueTime="12"))
    assert doc.find("Enqueue") is None and doc.find("Hangup") is not None


def test_a_bug_in_a_menu_step_queues_for_911(app, twilio, new_call, monkeypatch, caplog):
    from ivr.callflow import voice

    app.config["PROPAGATE_EXCEPTIONS"] = False

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(voice, "render_services", broken)
    call = new_call()
    call.start()
    doc = call.press("2")
    assert doc.find("Enqueue") is not None and doc.find("Enqueue").text == "911"
    assert any(r.exc_info for r in caplog.records)  # the bug is still shown


def test_a_bug_on_the_hold_music_keeps_holding(app, twilio, new_call, monkeypatch):
    from ivr.callflow import voice

    app.config["PROPAGATE_EXCEPTIONS"] = False
    call = new_call()
    call.start()
    wait_url = call.press("0").find("Enqueue").get("waitUrl")

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(voice.fields, "int_field", broken)
    doc = twilio.twiml(wait_url, call.params(QueuePosition="2"))
    assert [c.tag for c in doc] == ["Pause"]  # a wait URL may not enqueue


def test_a_request_without_callsid_is_not_a_twilio_webhook(app, twilio):
    """Every caller-side webhook the app serves (read from its routes, so a new one is covered)."""
    routes = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if "POST" in (rule.methods or ()) and rule.rule.startswith(("/voice", "/status"))
    ]
    assert {"/voice", "/voice/menu", "/voice/queue-result", "/status"} <= set(routes)
    for route in routes:
        assert twilio.post(route, {"Digits": "1", "CallStatus": "completed"}).status_code == 400, route


# -- every webhook is an upsert --------------------------------------------------------------


def test_bridge_of_a_call_the_log_never_saw(twilio, store):
    """Earlier webhooks lost (a worker killed mid-call): the bridge creates the row."""
    sid = "CA" + "7" * 32
    doc = twilio.twiml("/voice/bridge", {"CallSid": sid, "QueueTime": "30"})
    assert doc.find("Say") is not None
    row = store.call(sid)
    assert row is not None and row["answered_at"] is not None and row["queue_time_s"] == 30


def test_bridged_result_without_its_bridge_still_has_an_answer_time(app, twilio, new_call, store):
    """Twilio asks the Enqueue action after the conversation: answered = enqueued + QueueTime."""
    t0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    now = [t0]
    app.extensions["ivr311.clock"] = lambda: now[0]
    call = new_call()
    call.start()
    action = call.press("0").find("Enqueue").get("action")
    now[0] = t0 + timedelta(seconds=400)
    twilio.twiml(action, call.params(QueueResult="bridged", QueueTime="40"))
    row = store.call(call.sid)
    assert row["queue_result"] == "bridged" and row["answered_at"] is not None
    assert row["answered_at"] == row["enqueued_at"] + timedelta(seconds=40)


def test_hold_music_of_an_unknown_caller_makes_them_waiting(twilio, store):
    sid = "CA" + "8" * 32
    twilio.twiml("/voice/wait?lang=en&queue=911", {"CallSid": sid, "QueueTime": "25"})
    assert store.waiting_counts() == {"911": 1}
    assert store.call(sid)["queue"] == "911"


# -- waiting means alive ---------------------------------------------------------------------


def test_stale_911_waiter_no_longer_holds_the_agent_line(app, twilio, new_call):
    """A 911 caller whose queue result and final status never arrive stops counting as waiting
    once their hold-music requests stop; the 311 caller who is still there is taken."""
    t0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    now = [t0]
    app.extensions["ivr311.clock"] = lambda: now[0]
    stale_s = app.extensions["ivr311.wait_stale_s"]
    assert stale_s == 75.0  # 3 loops of 15 s hold + 10 s announcement, by default

    lost = new_call()
    lost.start()
    lost_wait = lost.press("1").find("Enqueue").get("waitUrl")
    twilio.twiml(lost_wait, lost.params(QueueTime="0"))
    alive = new_call()
    alive.start()
    alive_wait = alive.press("0").find("Enqueue").get("waitUrl")

    def agent_queue() -> str:
        doc = twilio.twiml("/agent", {"CallSid": "CA" + "c" * 32})
        queue = doc.find("Dial/Queue")
        return queue.text if queue is not None else "nobody"

    assert agent_queue() == "911"
    for step in range(1, 9):  # the 311 caller's hold music loops every 20 s; the 911 one is gone
        now[0] = t0 + timedelta(seconds=20 * step)
        twilio.twiml(alive_wait, alive.params(QueuePosition="1", QueueTime=str(20 * step)))
        expected = "911" if 20 * step <= stale_s else "311"
        assert agent_queue() == expected, f"at {20 * step} s"


@pytest.mark.parametrize("screen_keys", [[], ["2"], ["2", "9"]])
def test_emergency_words_win_over_every_other_choice(new_call, screen_keys):
    """On every listing screen, words with an emergency in them queue for 911, even when they
    also ask for the operator or name a service."""
    call = new_call()
    call.start()
    for key in screen_keys:
        call.press(key)
    doc = call.speak("operator please, there is a fire and a pothole", confidence=0.2)
    assert doc.find("Enqueue") is not None and doc.find("Enqueue").text == "911"


# -- the journal fails too -------------------------------------------------------------------


def test_journal_unusable_with_the_database_down_still_routes_311_to_311(tmp_path, caplog):
    """The journal's folder is a file (ENOTDIR: a real failure even for root, whom chmod 000
    does not stop) and the database is locked at the same time: nothing can keep the call log.
    Callers are routed as ever (a journal failure must not trip the "a bug falls toward 911"
    fallback: a flood of 311 callers in the 911 queue is an outage of 911), /healthz answers 200
    degraded with the reason and the count lost, and the ERROR is logged once, not per call."""
    journal_dir = tmp_path / "journal"
    journal_dir.write_text("a file where the journal folder should be\n")
    db_url = f"sqlite:///{tmp_path / 'calls.sqlite3'}"
    with caplog.at_level("WARNING"):
        app = create_app(  # not TESTING: an exception would reach the voice fallback, as live
            {
                "twilio_auth_token": TOKEN,
                "public_base_url": PUBLIC_BASE,
                "database_url": db_url,
                "caller_hash_key": "journal-gone-key-0123456",
                "journal_dir": journal_dir,
                "store_budget_ms": 100,
            }
        )
        started = [r for r in caplog.records if r.levelname == "ERROR"]
        assert len(started) == 1 and str(journal_dir) in started[0].getMessage()
        assert "IVR311_JOURNAL_DIR" in started[0].getMessage()
        twilio = TwilioSim(app.test_client())
        recorder = app.extensions["ivr311.recorder"]
        try:
            with sqlite_locked(db_url):
                services = Call(twilio)
                assert services.start().find("Gather") is not None
                assert services.press("2").find("Enqueue") is None  # the services listing
                assert services.press("2").find("Enqueue").text == "311"  # code violations
                operator = Call(twilio)
                operator.start()
                assert operator.press("0").find("Enqueue").text == "311"
                emergency = Call(twilio)
                emergency.start()
                assert emergency.press("1").find("Enqueue").text == "911"
                response = app.test_client().get("/healthz")
                assert response.status_code == 200
                health = response.get_json()
                assert health["status"] == "degraded"
                assert health["journal"].startswith("unwritable: ") and "NotADirectoryError" in health["journal"]
                recorder.drain()  # writes past their budget are counted once the database refuses them
                lost = app.test_client().get("/healthz").get_json()["lost"]
                assert lost >= 7  # every write of the seven webhooks
            recorder.drain()
            # the database is back; the journal is not: writes go to the database, none lost
            later = Call(twilio)
            later.start()
            assert later.press("0").find("Enqueue").text == "311"
            recorder.drain()  # (a write past its budget lands late)
            health = app.test_client().get("/healthz").get_json()
            assert health["lost"] == lost and health["status"] == "degraded"
            assert app.extensions["ivr311.store"].call(later.sid)["queue"] == "311"
        finally:
            app.extensions["ivr311.recorder"].close()
            app.extensions["ivr311.store"].close()
    assert [r for r in caplog.records if r.levelname == "ERROR"] == started  # not one per call
    assert not [r for r in caplog.records if r.exc_info]  # no webhook failed


@pytest.mark.store_budget_ms(OUTAGE_BUDGET_MS)
def test_journal_lost_mid_outage_routes_as_ever_and_the_rest_replays(app, db_url):
    """Writes wait in the journal (the database is locked) when its folder is replaced by a
    file: the next 311 caller still reaches 311, not the 911 fallback, and the health says why.
    Once the folder is back, what it held is replayed."""
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as live: an exception would reach the fallback
    twilio = TwilioSim(app.test_client())
    recorder = app.extensions["ivr311.recorder"]
    folder = recorder.journal.folder
    with sqlite_locked(db_url):
        first = Call(twilio)
        first.start()
        assert first.press("0").find("Enqueue").text == "311"
        assert recorder.journal.count() == 2
        folder.rename(folder.with_name("journal-aside"))
        folder.write_text("not a folder\n")
        second = Call(twilio)
        assert second.start().find("Gather") is not None
        assert second.press("0").find("Enqueue").text == "311"
        recorder.drain()  # writes past their budget are counted once the database refuses them
        health = app.test_client().get("/healthz").get_json()
        assert health["status"] == "degraded" and health["journal"].startswith("unwritable: ")
        assert health["journal_pending"] is None and health["lost"] == 2
    folder.unlink()
    folder.with_name("journal-aside").rename(folder)
    recorder.replay()
    assert not recorder.journal.pending()
    assert app.extensions["ivr311.store"].call(first.sid)["queue"] == "311"


@pytest.mark.store_budget_ms(BOUND_BUDGET_MS)
def test_a_write_past_its_budget_is_not_lost_when_the_database_takes_it_late(app, twilio, monkeypatch):
    """The journal cannot be used and the database answers only after the budget (a slow
    database, a loaded machine): the webhooks answer without waiting for it, and once it
    answers every write lands; none is counted lost."""
    recorder = app.extensions["ivr311.recorder"]
    folder = recorder.journal.folder
    folder.rmdir()  # (empty: made by the check at start)
    folder.write_text("not a folder\n")
    with hung_store(monkeypatch, recorder.store) as reached:
        call = Call(twilio)
        answered(call.start)
        assert answered(call.press, "0").find("Enqueue").text == "311"
        assert reached == ["start_call"]  # the menu step's write waits behind it, unwaited
    recorder.drain()
    health = recorder.health()
    assert health["lost"] == 0 and health["journal"].startswith("unwritable: ")
    row = app.extensions["ivr311.store"].call(call.sid)
    assert row["queue"] == "311" and row["enqueued_at"] is not None
