"""The hold: a 311 caller hears the expected wait and, when it is long, is offered a callback; the
agent line places the callback through Twilio's REST API (a stand-in here) when its turn comes.

The live state is made by signed webhooks at chosen times on the app's clock: conversations that
ended in the last hour (the handle time), one still going (an agent busy), callers waiting.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from ivr import context
from ivr.callflow import dialer
from ivr.calllog.holdlog import CALLBACK_QUEUE
from tests.ivr.call_log import logged
from tests.ivr.outages import sqlite_locked
from tests.ivr.twilio_sim import CALLER, PUBLIC_BASE, Call, FakeDialer, TwilioSim

AGENT = {"CallSid": "CA" + "a" * 32, "From": "+15550001111", "To": "+15550000999"}
HANDLE_S = 300
ESTIMATE = re.compile(r"expected wait is about (\d+) minute")
OFFER = "press 1"
NOT_ON_911 = ("expected wait", "called back", "call you back")


@pytest.fixture
def hold_app(make_app: Any, tmp_path: Path) -> Flask:
    """The voice app with callbacks configured, Twilio's REST API a `FakeDialer`; on its own
    database (a test may use the tests' usual app beside it)."""
    app: Flask = make_app(
        database_url=f"sqlite:///{tmp_path / 'hold.sqlite3'}",
        journal_dir=tmp_path / "hold-journal",
        twilio_account_sid="AC" + "1" * 32,
        callback_from="+15550000311",
        callback_key="callback-key-for-tests-0123",
        callback_offer_after_s=300,
    )
    dialer.install(app, FakeDialer())
    return app


@pytest.fixture
def hold_store(hold_app: Flask) -> Any:
    return hold_app.extensions["ivr311.store"]


@pytest.fixture
def tw(hold_app: Flask) -> TwilioSim:
    return TwilioSim(hold_app.test_client())


def at(app: Flask, when: datetime) -> None:
    context.set_clock(app, lambda: when)


def queued(twilio: TwilioSim, how: str, caller: str = CALLER) -> Call:
    call = Call(twilio, caller=caller)
    call.start()
    call.press("1" if how == "911" else "0")
    assert call.enqueue is not None and call.enqueue.text == how
    return call


def answer(twilio: TwilioSim, call: Call) -> None:
    twilio.twiml("/voice/bridge", call.params(QueueSid="QU1", QueueTime="30", DequeingCallSid=AGENT["CallSid"]))


def busy_centre(app: Flask, twilio: TwilioSim, waiting_311: int = 4) -> list[Call]:
    """One agent, busy now; three conversations of `HANDLE_S` ended in the last hour; then
    `waiting_311` callers in the 311 queue. Returns those waiting, oldest first."""
    now = datetime.now(UTC)
    for i in range(3):
        start = now - timedelta(minutes=50 - 10 * i)
        at(app, start)
        call = queued(twilio, "311")
        at(app, start + timedelta(seconds=30))
        answer(twilio, call)
        at(app, start + timedelta(seconds=30 + HANDLE_S))
        twilio.twiml(call.enqueue.get("action"), call.params(QueueResult="bridged", QueueTime="30", QueueSid="QU1"))
    at(app, now - timedelta(seconds=200))
    talking = queued(twilio, "311")
    answer(twilio, talking)
    waiting = []
    for i in range(waiting_311):
        at(app, now - timedelta(seconds=10 - i))  # alive for a minute more on any machine
        waiting.append(queued(twilio, "311", caller=f"+1555000{i:04d}"))
    context.set_clock(app, lambda: datetime.now(UTC))
    return waiting


def hold(twilio: TwilioSim, call: Call, position: int = 1) -> Any:
    """Twilio fetches the caller's wait URL (the hold music)."""
    return twilio.twiml(call.enqueue.get("waitUrl"), call.params(QueuePosition=str(position), QueueTime="20"))


def said(doc: Any) -> str:
    return " ".join(s.text or "" for s in doc.iter("Say"))


def test_a_311_caller_hears_the_expected_wait_and_the_offer(hold_app, tw):
    waiting = busy_centre(hold_app, tw)
    doc = hold(tw, waiting[-1], position=4)
    # 3 ahead, 1 agent busy, 300 s a call, no 911: (3 + 1) * 300 s = 20 minutes
    assert ESTIMATE.search(said(doc)).group(1) == "20"
    gather = doc.find("Gather")
    assert gather is not None and gather.get("action") == "/voice/hold?lang=en"
    assert OFFER in said(gather)
    assert doc.find("Redirect").text == "/voice/hold?lang=en"  # silence: the hold goes on
    # the first caller in line waits (0 + 1) * 300 s = 5 minutes: said, and just at the threshold
    first = hold(tw, waiting[0], position=1)
    assert ESTIMATE.search(said(first)).group(1) == "5"
    hold_app.extensions["ivr311.recorder"].drain()
    rows = {r["call_sid"]: r for r in logged(hold_app.extensions["ivr311.store"].url)}
    assert rows[waiting[-1].sid]["announced_wait_s"] == 1200
    assert rows[waiting[0].sid]["announced_wait_s"] == 300 and rows[waiting[0].sid]["announced_at"]


def test_no_offer_below_the_threshold_nor_without_callbacks_configured(app, twilio, hold_app, tw):
    waiting = busy_centre(hold_app, tw, waiting_311=1)
    at(hold_app, datetime.now(UTC) - timedelta(seconds=1))  # wait (0 + 1) * 300 s, so just under 300
    hold_app.extensions["ivr311.settings"] = hold_app.extensions["ivr311.settings"].model_copy(
        update={"callback_offer_after_s": 301}
    )
    doc = hold(tw, waiting[0])
    assert ESTIMATE.search(said(doc)) and doc.find("Gather") is None
    # the tests' usual app has no Twilio account: it announces, never offers
    plain = busy_centre(app, twilio)
    doc = hold(twilio, plain[-1], position=4)
    assert ESTIMATE.search(said(doc)) and doc.find("Gather") is None


def test_pressing_1_keeps_the_place_and_seals_the_number(hold_app, tw, hold_store):
    waiting = busy_centre(hold_app, tw)
    caller = waiting[-1]
    gather = hold(tw, caller, position=4).find("Gather")
    doc = tw.twiml(gather.get("action"), caller.params(Digits="1"))
    assert "call you back" in said(doc) and doc.find("Hangup") is not None
    assert doc.find("Enqueue") is None and doc.find("Leave") is None
    # Twilio then reports the queue's end: hung up, which the log keeps as a callback
    tw.twiml(caller.enqueue.get("action"), caller.params(QueueResult="hangup", QueueTime="25", QueueSid="QU1"))
    hold_app.extensions["ivr311.recorder"].drain()
    row = hold_store.call(caller.sid)
    assert row["callback_status"] == "pending" and row["queue_result"] == "callback"
    assert row["callback_position_at"] == row["enqueued_at"]
    assert row["waiting_queue"] is None
    assert CALLER not in str(row) and caller.caller not in str(row)  # the number only sealed...
    assert context.seal(hold_app).open(row["callback_sealed"]) == caller.caller  # ...and opens
    exported = {r["call_sid"]: r for r in logged(hold_store.url)}[caller.sid]
    assert exported["callback_status"] == "pending" and exported["queue_result"] == "callback"
    assert "callback_sealed" not in exported


@pytest.mark.parametrize("emergency", [{"SpeechResult": "someone broke in", "Confidence": "0.4"}, {"Digits": "911"}])
def test_an_emergency_at_the_offer_leaves_the_311_queue_for_911(hold_app, tw, hold_store, emergency):
    waiting = busy_centre(hold_app, tw)
    caller = waiting[-1]
    gather = hold(tw, caller, position=4).find("Gather")
    doc = tw.twiml(gather.get("action"), caller.params(**emergency))
    assert doc.find("Leave") is not None and doc.find("Hangup") is None
    assert "emergency" in said(doc)
    # <Leave>: Twilio asks the 311 queue's action, which queues the caller for 911
    doc = tw.twiml(caller.enqueue.get("action"), caller.params(QueueResult="leave", QueueTime="25", QueueSid="QU1"))
    enq = doc.find("Enqueue")
    assert enq is not None and enq.text == "911" and doc.find("Hangup") is None
    hold_app.extensions["ivr311.recorder"].drain()
    row = hold_store.call(caller.sid)
    assert row["waiting_queue"] == "911" and row["callback_status"] is None
    assert [e["outcome"] for e in hold_store.events(caller.sid) if e["screen"] == "hold"] == ["911"]
    # the agent line takes them before every 311 caller
    assert tw.twiml("/agent", AGENT).find("Dial/Queue").text == "911"


def test_silence_or_another_key_at_the_offer_holds_on(hold_app, tw):
    waiting = busy_centre(hold_app, tw)
    caller = waiting[-1]
    action = hold(tw, caller, position=4).find("Gather").get("action")
    for params in ({}, {"Digits": "5"}):
        doc = tw.twiml(action, caller.params(**params))
        assert [v.tag for v in doc] == ["Pause"]


def test_911_callers_never_hear_a_wait_nor_an_offer(hold_app, tw, monkeypatch):
    """Every way into the 911 queue: key 1, an emergency word, the emergency at the hold offer,
    a queue error queuing again; their hold music never says a wait, never offers anything, and
    never reads the log."""
    busy_centre(hold_app, tw)
    store = hold_app.extensions["ivr311.store"]

    def not_for_911(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the log was read for a 911 caller's hold")

    entries = []
    by_key = queued(tw, "911")
    entries.append(by_key.enqueue)
    by_word = Call(tw)
    by_word.start()
    entries.append(by_word.speak("there is a fire").find("Enqueue"))
    on_hold = busy_centre(hold_app, tw, waiting_311=1)[0]
    tw.twiml(hold(tw, on_hold).find("Gather").get("action"), on_hold.params(SpeechResult="emergency"))
    entries.append(
        tw.twiml(on_hold.enqueue.get("action"), on_hold.params(QueueResult="leave", QueueSid="QU1")).find("Enqueue")
    )
    entries.append(
        tw.twiml(by_key.enqueue.get("action"), by_key.params(QueueResult="error", QueueSid="QU1")).find("Enqueue")
    )
    monkeypatch.setattr(store, "hold_snapshot", not_for_911)
    for enq in entries:
        assert enq is not None and enq.text == "911"
        for position in ("1", "7"):
            doc = tw.twiml(enq.get("waitUrl"), by_key.params(QueuePosition=position, QueueTime="600"))
            text = said(doc).lower()
            assert not any(words in text for words in NOT_ON_911), text
            assert doc.find("Gather") is None and doc.find("Leave") is None and doc.find("Hangup") is None


@pytest.mark.store_budget_ms(200)
def test_with_the_log_locked_the_caller_holds_in_311_without_an_offer(hold_app, tw):
    waiting = busy_centre(hold_app, tw)
    with sqlite_locked(hold_app.extensions["ivr311.store"].url):
        tw.twiml("/voice", waiting[-1].params())  # a write waits out its budget: the journal takes over
        doc = hold(tw, waiting[-1], position=4)
        assert doc.find("Gather") is None and doc.find("Enqueue") is None and doc.find("Leave") is None
        assert not ESTIMATE.search(said(doc)) and doc.find("Pause") is not None
        # a press on a hold screen the caller heard before the outage: holds on, stays in 311
        doc = tw.twiml("/voice/hold?lang=en", waiting[-1].params(Digits="2"))
        assert doc.find("Leave") is None and doc.find("Enqueue") is None


# -- the agent line places the callback ---------------------------------------------------


def ask_callback(twilio: TwilioSim, call: Call, position: int) -> None:
    gather = hold(twilio, call, position=position).find("Gather")
    twilio.twiml(gather.get("action"), call.params(Digits="1"))
    twilio.twiml(call.enqueue.get("action"), call.params(QueueResult="hangup", QueueTime="25", QueueSid="QU1"))


def dial_of(doc: Any) -> str | None:
    queue = doc.find("Dial/Queue")
    return None if queue is None else queue.text


def test_the_callback_is_placed_in_its_turn_never_before_a_waiting_911_call(hold_app, tw, hold_store):
    fake = dialer.current(hold_app)
    waiting = busy_centre(hold_app, tw)
    ask_callback(tw, waiting[1], position=2)  # its place: second in line
    hold_app.extensions["ivr311.recorder"].drain()
    emergency = queued(tw, "911")
    assert dial_of(tw.twiml("/agent", AGENT)) == "911" and fake.placed == []
    answer(tw, emergency)
    assert dial_of(tw.twiml("/agent", AGENT)) == "311" and fake.placed == []  # the first in line is older
    answer(tw, waiting[0])
    doc = tw.twiml("/agent", AGENT)  # now the callback is the oldest 311 work
    assert dial_of(doc) == CALLBACK_QUEUE and doc.find("Dial").get("timeout") == "60"
    (placed,) = fake.placed
    assert placed.to == waiting[1].caller and placed.from_ == "+15550000311"
    assert placed.url.startswith(PUBLIC_BASE + "/agent/callback/answer?")
    assert placed.status_callback.startswith(PUBLIC_BASE + "/agent/callback/status?")
    # a second agent line does not place it again: the next is a caller in the 311 queue
    assert dial_of(tw.twiml("/agent", {**AGENT, "CallSid": "CA" + "c" * 32})) == "311" and len(fake.placed) == 1
    # the callee picks up, holds in the callback queue, and an agent takes them
    callee = Call(tw, sid="CA" + "1" * 32, caller=waiting[1].caller)
    doc = callee.request(placed.url.removeprefix(PUBLIC_BASE))
    assert doc.find("Enqueue").text == CALLBACK_QUEUE and "calling you back" in said(doc)
    tw.twiml(doc.find("Enqueue").get("waitUrl"), callee.params(QueuePosition="1", QueueTime="3"))
    hold_app.extensions["ivr311.recorder"].drain()
    assert hold_store.call(waiting[1].sid)["callback_status"] == "connected"
    tw.twiml("/agent/callback/bridge", {**callee.params(), "CallSid": "CA" + f"{1:032d}"})
    tw.twiml(placed.status_callback.removeprefix(PUBLIC_BASE), callee.params(CallStatus="completed"))
    hold_app.extensions["ivr311.recorder"].drain()
    row = hold_store.call(waiting[1].sid)
    assert row["callback_status"] == "answered" and row["callback_outcome"] == "completed"
    assert row["callback_attempts"] == 1 and row["callback_sealed"] is None  # the number is gone


def test_a_failed_callback_is_retried_a_bounded_number_of_times_then_recorded(hold_app, tw, hold_store):
    fake = dialer.current(hold_app)
    hold_app.extensions["ivr311.settings"] = hold_app.extensions["ivr311.settings"].model_copy(
        update={"callback_retry_after_s": 0, "callback_retries": 2}
    )
    waiting = busy_centre(hold_app, tw, waiting_311=1)
    ask_callback(tw, waiting[0], position=1)
    hold_app.extensions["ivr311.recorder"].drain()
    base = datetime.now(UTC)
    for attempt, status in enumerate(("busy", "no-answer", "failed"), start=1):
        at(hold_app, base + timedelta(seconds=attempt))  # the retry is due (after 0 s) on any clock
        doc = tw.twiml("/agent", AGENT)
        assert dial_of(doc) == CALLBACK_QUEUE and len(fake.placed) == attempt
        # a late repeat of an earlier attempt's status changes nothing
        tw.twiml(fake.placed[-1].status_callback.removeprefix(PUBLIC_BASE), {**AGENT, "CallStatus": status})
        tw.twiml(fake.placed[0].status_callback.removeprefix(PUBLIC_BASE), {**AGENT, "CallStatus": "busy"})
        hold_app.extensions["ivr311.recorder"].drain()
    row = hold_store.call(waiting[0].sid)
    assert row["callback_status"] == "failed" and row["callback_outcome"] == "failed"
    assert row["callback_attempts"] == 3 and row["callback_sealed"] is None and row["callback_done_at"]
    assert dial_of(tw.twiml("/agent", AGENT)) is None and len(fake.placed) == 3  # no fourth call
    exported = {r["call_sid"]: r for r in logged(hold_store.url)}[waiting[0].sid]
    assert (exported["callback_status"], exported["callback_attempts"], exported["callback_outcome"]) == (
        "failed",
        3,
        "failed",
    )


def test_a_rest_api_that_refuses_is_a_failed_attempt_and_the_line_goes_on(hold_app, tw, hold_store):
    fake = dialer.current(hold_app)
    fake.fail = RuntimeError("HTTP 503 from the API")
    hold_app.extensions["ivr311.settings"] = hold_app.extensions["ivr311.settings"].model_copy(
        update={"callback_retries": 0}
    )
    waiting = busy_centre(hold_app, tw, waiting_311=2)
    ask_callback(tw, waiting[0], position=1)
    hold_app.extensions["ivr311.recorder"].drain()
    assert dial_of(tw.twiml("/agent", AGENT)) == "311"  # not placed: the next 311 caller instead
    hold_app.extensions["ivr311.recorder"].drain()
    row = hold_store.call(waiting[0].sid)
    assert (row["callback_status"], row["callback_outcome"], row["callback_attempts"]) == ("failed", "rest-error", 1)


def test_a_rest_api_that_does_not_answer_costs_at_most_its_time_bound(hold_app, tw, hold_store):
    import threading
    import time

    release = threading.Event()

    class Hung(FakeDialer):
        def place(self, call: dialer.Outbound) -> str:
            release.wait(30)
            return "CA" + "9" * 32

    dialer.install(hold_app, Hung())
    hold_app.extensions["ivr311.settings"] = hold_app.extensions["ivr311.settings"].model_copy(
        update={"rest_timeout_s": 0.3}
    )
    waiting = busy_centre(hold_app, tw, waiting_311=1)
    ask_callback(tw, waiting[0], position=1)
    hold_app.extensions["ivr311.recorder"].drain()
    started = time.monotonic()
    doc = tw.twiml("/agent", AGENT)
    release.set()
    assert time.monotonic() - started < 5.0 and dial_of(doc) is None
    hold_app.extensions["ivr311.recorder"].drain()
    assert hold_store.call(waiting[0].sid)["callback_outcome"] == "rest-error"


def test_many_callers_on_hold_cost_the_log_one_read_every_few_seconds(hold_app, tw, hold_store, monkeypatch):
    waiting = busy_centre(hold_app, tw, waiting_311=6)
    reads = []
    snapshot = hold_store.hold_snapshot

    def counted(*args: Any) -> Any:
        reads.append(args)
        return snapshot(*args)

    monkeypatch.setattr(hold_store, "hold_snapshot", counted)
    now = datetime.now(UTC)
    at(hold_app, now)
    minutes = [ESTIMATE.search(said(hold(tw, call, position=i + 1))).group(1) for i, call in enumerate(waiting)]
    assert len(reads) == 1 and minutes == ["5", "10", "15", "20", "25", "30"]
    at(hold_app, now + timedelta(seconds=6))  # past SNAPSHOT_TTL_S: read again
    hold(tw, waiting[0])
    assert len(reads) == 2


def test_a_bug_at_the_offer_leaves_the_311_queue_toward_911(hold_app, tw, monkeypatch):
    from ivr.callflow import voice

    hold_app.config["PROPAGATE_EXCEPTIONS"] = False

    def broken(*args: Any, **kwargs: Any) -> bool:
        raise RuntimeError("a bug")

    monkeypatch.setattr(voice, "_answers", broken)
    caller = busy_centre(hold_app, tw)[-1]
    doc = tw.twiml(hold(tw, caller, position=4).find("Gather").get("action"), caller.params(Digits="1"))
    assert [verb.tag for verb in doc] == ["Leave"]


def test_the_callback_leg_takes_only_signed_requests(hold_app):
    client = hold_app.test_client()
    for path in ("/agent/callback/status?call=CA1&k=1", "/agent/callback/answer?call=CA1&k=1", "/voice/hold"):
        assert client.post(path, data={"CallSid": "CA1", "CallStatus": "busy"}).status_code == 403
