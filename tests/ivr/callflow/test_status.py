"""Status callbacks: final status and duration; idempotent; out-of-order events never win."""

from __future__ import annotations

import pytest


def status(twilio, call, status: str, seq: int | None, duration: int | None = None, timestamp: str | None = None):
    extra = {"CallStatus": status}
    if seq is not None:
        extra["SequenceNumber"] = str(seq)
    if duration is not None:
        extra["CallDuration"] = str(duration)
    if timestamp:
        extra["Timestamp"] = timestamp
    resp = twilio.post("/status", call.params(**extra))
    assert resp.status_code == 200 and resp.mimetype == "text/xml"
    return resp


def test_final_status_and_duration(twilio, new_call, store):
    call = new_call()
    call.start()
    status(twilio, call, "completed", 2, 75, "Tue, 14 May 2024 10:01:15 +0000")
    row = store.call(call.sid)
    assert row["status"] == "completed" and row["duration_s"] == 75
    assert row["ended_at"].isoformat() == "2024-05-14T10:01:15+00:00"


def test_duplicate_callbacks_are_harmless(twilio, new_call, store):
    call = new_call()
    call.start()
    for _ in range(3):
        status(twilio, call, "completed", 3, 60)
    row = store.call(call.sid)
    assert row["status"] == "completed" and row["duration_s"] == 60


@pytest.mark.parametrize("order", [[0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1], [3, 0, 0, 2]])
def test_older_event_never_overwrites_newer(twilio, new_call, store, order):
    events = [("initiated", 0), ("ringing", 1), ("in-progress", 2), ("completed", 3)]
    call = new_call()
    for i in order:
        name, seq = events[i]
        status(twilio, call, name, seq, 90 if name == "completed" else None)
    expected = events[max(order)]
    row = store.call(call.sid)
    assert (row["status"], row["status_seq"]) == expected
    if expected[0] == "completed":
        assert row["duration_s"] == 90 and row["ended_at"] is not None


def test_without_sequence_numbers_the_later_stage_wins(twilio, new_call, store):
    call = new_call()
    call.start()
    status(twilio, call, "completed", None, 30)
    status(twilio, call, "in-progress", None)
    status(twilio, call, "ringing", 5)
    row = store.call(call.sid)
    assert row["status"] == "completed" and row["duration_s"] == 30


def test_first_final_status_is_kept_without_sequence(twilio, new_call, store):
    call = new_call()
    status(twilio, call, "no-answer", None)
    status(twilio, call, "completed", None, 10)
    assert store.call(call.sid)["status"] == "no-answer"


def test_callback_before_any_menu_webhook_creates_the_row(twilio, new_call, store):
    call = new_call()
    status(twilio, call, "completed", 4, 5)
    row = store.call(call.sid)
    assert row is not None and row["status"] == "completed"
    assert row["caller_hash"] and call.caller not in row["caller_hash"]


def test_bad_numbers_are_ignored_not_crashed(twilio, new_call, store):
    call = new_call()
    resp = twilio.post(
        "/status", call.params(CallStatus="completed", SequenceNumber="x", CallDuration="", Timestamp="not a date")
    )
    assert resp.status_code == 200
    assert store.call(call.sid)["status"] == "completed"


def test_missing_status_is_400(twilio, new_call):
    call = new_call()
    assert twilio.post("/status", call.params()).status_code == 400
