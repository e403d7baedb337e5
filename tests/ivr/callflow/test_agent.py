"""Queues and the agent line: 911 is taken before 311 (the model's rule, live), from the app's
own records; wait URL, bridge and queue results are recorded; never a <Dial> to a number."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from ivr.callflow.agent import next_queue

AGENT = {"CallSid": "CA" + "a" * 32, "From": "+15550001111", "To": "+15550000999"}


def enqueue(new_call, how: str):
    call = new_call()
    call.start()
    if how == "911":
        call.press("1")
    else:
        call.press("0")
    assert call.enqueue is not None and call.enqueue.text == how
    return call


def agent_queue(twilio) -> str | None:
    doc = twilio.twiml("/agent", AGENT)
    dials = doc.findall("Dial")
    if not dials:
        return None
    (dial,) = dials
    assert not (dial.text or "").strip()
    (queue,) = list(dial)
    assert queue.tag == "Queue" and queue.get("url") == "/voice/bridge"
    assert dial.get("action") == "/agent"
    return queue.text


def answer(twilio, call, queue_time_s: int = 30) -> None:
    """Twilio runs the <Queue url> on the caller's side when an agent dequeues them."""
    doc = twilio.twiml(
        "/voice/bridge", call.params(QueueSid="QU1", QueueTime=str(queue_time_s), DequeingCallSid=AGENT["CallSid"])
    )
    assert doc.find("Say") is not None


def test_nobody_waiting_says_so_pauses_and_polls(twilio):
    doc = twilio.twiml("/agent", AGENT)
    tags = [c.tag for c in doc]
    assert tags == ["Say", "Pause", "Redirect"]
    assert doc.find("Redirect").text == "/agent"
    assert doc.find("Dial") is None


def test_911_caller_who_arrived_after_a_311_caller_is_taken_first(twilio, new_call):
    first_311 = enqueue(new_call, "311")
    later_911 = enqueue(new_call, "911")
    assert agent_queue(twilio) == "911"
    answer(twilio, later_911)
    assert agent_queue(twilio) == "311"
    answer(twilio, first_311)
    assert agent_queue(twilio) is None


def test_311_only_when_no_911_waits(twilio, new_call):
    enqueue(new_call, "311")
    enqueue(new_call, "311")
    assert agent_queue(twilio) == "311"


def test_caller_who_hung_up_in_queue_is_not_waiting(twilio, new_call, store):
    call = enqueue(new_call, "911")
    twilio.twiml(
        "/voice/queue-result?lang=en&queue=911", call.params(QueueResult="hangup", QueueTime="12", QueueSid="QU1")
    )
    assert store.call(call.sid)["queue_result"] == "hangup"
    assert agent_queue(twilio) is None


def test_caller_whose_call_ended_is_not_waiting(twilio, new_call):
    call = enqueue(new_call, "911")
    twilio.twiml("/status", call.params(CallStatus="completed", CallDuration="40", SequenceNumber="3"))
    assert agent_queue(twilio) is None


@pytest.mark.parametrize(
    ("waiting", "expected"),
    [
        ({}, None),
        ({"311": 4}, "311"),
        ({"911": 1}, "911"),
        ({"911": 1, "311": 9}, "911"),
        ({"911": 0, "311": 1}, "311"),
    ],
)
def test_next_queue_rule(waiting, expected):
    assert next_queue(waiting) == expected


@pytest.mark.parametrize(("lang", "queue"), [("en", "311"), ("es", "311"), ("en", "911")])
def test_wait_url_announces_position_and_holds(twilio, lang, queue):
    doc = twilio.twiml(
        f"/voice/wait?lang={lang}&queue={queue}",
        {
            "CallSid": "CA1",
            "QueuePosition": "3",
            "QueueTime": "40",
            "AvgQueueTime": "60",
            "CurrentQueueSize": "5",
            "QueueSid": "QU1",
        },
    )
    said = " ".join(s.text or "" for s in doc.iter("Say"))
    if queue == "311":
        assert "3" in said
    assert doc.find("Pause") is not None and int(doc.find("Pause").get("length")) > 0
    assert doc.find("Gather") is None and doc.find("Dial") is None


def test_queue_result_and_time_are_recorded(twilio, new_call, store):
    call = enqueue(new_call, "311")
    answer(twilio, call, 25)
    assert store.call(call.sid)["answered_at"] is not None
    doc = twilio.twiml(
        "/voice/queue-result?lang=en&queue=311", call.params(QueueResult="bridged", QueueTime="25", QueueSid="QU1")
    )
    assert doc.find("Hangup") is not None
    row = store.call(call.sid)
    assert row["queue_result"] == "bridged" and row["queue_time_s"] == 25


def test_full_311_queue_retries_then_says_goodbye(twilio, new_call, store):
    """A 311 caller bounced by a full queue is queued again (with an apology) up to
    MAX_311_REQUEUES times, then told to call back and hung up."""
    from ivr.callflow.voice import MAX_311_REQUEUES

    call = enqueue(new_call, "311")
    url = call.enqueue.get("action")
    for attempt in range(1, MAX_311_REQUEUES + 1):
        doc = twilio.twiml(url, call.params(QueueResult="queue-full", QueueTime="0"))
        enq = doc.find("Enqueue")
        assert enq is not None and enq.text == "311" and doc.find("Hangup") is None
        assert "busy" in " ".join(s.text or "" for s in doc.iter("Say"))
        assert f"r={attempt}" in enq.get("action")
        assert store.waiting_counts().get("311") == 1
        url = enq.get("action")
    doc = twilio.twiml(url, call.params(QueueResult="queue-full", QueueTime="0"))
    assert doc.find("Enqueue") is None and doc.find("Hangup") is not None
    assert "call again" in doc.find("Say").text
    assert store.call(call.sid)["queue_result"] == "queue-full"


def test_emergency_caller_is_never_dropped_on_queue_error(twilio, new_call, store):
    call = enqueue(new_call, "911")
    doc = twilio.twiml("/voice/queue-result?lang=en&queue=911", call.params(QueueResult="queue-full", QueueTime="0"))
    assert doc.find("Enqueue") is not None and doc.find("Enqueue").text == "911"
    assert doc.find("Hangup") is None
    assert store.waiting_counts().get("911") == 1


def test_bridge_speaks_the_callers_language(twilio, new_call):
    call = new_call()
    call.start()
    call.press("9")
    call.press("0")
    doc = twilio.twiml("/voice/bridge", call.params(QueueTime="3"))
    assert doc.find("Say").get("language") == "es-MX"
    assert [c.tag for c in doc] == ["Say"]  # <Queue url> allows Play, Say, Pause, Redirect only


def test_twiml_guard_refuses_dial_to_a_number():
    from ivr.callflow.twiml import check_dial_rule
    from ivr.errors import TwimlError

    check_dial_rule("<Response><Dial><Queue>911</Queue></Dial></Response>")
    for bad in [
        "<Response><Dial>911</Dial></Response>",
        "<Response><Dial><Number>+15551234567</Number></Dial></Response>",
        "<Response><Dial><Queue>911</Queue><Number>911</Number></Dial></Response>",
        "<Response><Dial/></Response>",
    ]:
        with pytest.raises(TwimlError):
            check_dial_rule(bad)


def test_source_never_dials_a_number():
    """No module builds a <Dial> with a number or a <Number>/<Client>/<Sip> noun."""
    from pathlib import Path

    import ivr

    root = Path(ivr.__file__).parent
    for path in root.glob("*.py"):
        text = path.read_text()
        for forbidden in (".number(", ".client(", ".sip(", "<Number", "Dial(number", ".dial("):
            assert forbidden not in text, f"{path.name} contains {forbidden}"
    ET.fromstring("<ok/>")


def test_failing_store_does_not_change_the_route(app, twilio, new_call, monkeypatch):
    """A store that raises does not change what the caller hears: key 2 still lists the
    services (the write goes to the journal instead)."""
    from sqlalchemy.exc import OperationalError

    call = new_call()
    call.start()

    def broken(*args, **kwargs):
        raise OperationalError("UPDATE calls", {}, Exception("database is locked"))

    monkeypatch.setattr(app.extensions["ivr311.store"], "record_step", broken)
    doc = twilio.twiml(call.gather.get("action"), call.params(Digits="2"))
    assert doc.find("Gather") is not None and "/voice/services" in doc.find("Gather").get("action")
    assert app.extensions["ivr311.recorder"].journal.count() == 1
