"""Hostile webhooks: every route with fuzzed, correctly signed form fields and query strings.

The property: no 5xx, no exception (the app propagates them here, so a hidden one fails the
test), no error logged, every 200 a parseable <Response> that never dials a number, and every
write accepted by the database (nothing pushed to the journal by a bad value). Run on SQLite and
on the real PostgreSQL server, where column widths and 32-bit integers are enforced.
IVR311_PROPERTY_EXAMPLES sets the depth (CI keeps the default).
"""

from __future__ import annotations

import logging
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivr import create_app
from tests.ivr.outages import GENEROUS_BUDGET_MS
from tests.ivr.twilio_sim import PUBLIC_BASE, TOKEN, TwilioSim

EXAMPLES = int(os.environ.get("IVR311_PROPERTY_EXAMPLES", "40"))

# Values at the edges of what the fields' columns and parsers take, and their relatives.
NASTY = [
    "99999999999999999999",
    "2147483648",
    "-2147483649",
    "1e400",
    "-1e400",
    "1e-400",
    "NaN",
    "inf",
    "-0",
    "0x10",
    "²",
    "٣",
    "１",
    "3\x00",
    "\x00",
    "\x1b[2J",
    "\u202e",
    "Fri, 31 Dec 9999 23:59:59 -1200",
    "Mon, 01 Jan 0001 00:00:00 +0000",
    "Tue, 14 May 2024 10:00:00 +0000",
    "",
    " ",
    "1" * 80,
    "x" * 3000,
    "queue-full",
    "error",
    "system-error",
    "bridged",
    "hangup",
    "leave",
    "completed",
    "in-progress",
    "1",
    "0",
    "2",
    "9",
    "*",
    "#",
    "emergency",
    "yes",
    "3",
    "4172093815#",
    "4172093816",
    "4 1 7 2 0 9 3 8 1 5",
    "100 Main Street",
]
VALUES = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=40),
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
FIELDS = [
    "From",
    "To",
    "Digits",
    "SpeechResult",
    "Confidence",
    "QueueResult",
    "QueueTime",
    "QueuePosition",
    "CurrentQueueSize",
    "CallStatus",
    "SequenceNumber",
    "CallDuration",
    "Timestamp",
    "DialCallStatus",
    "AccountSid",
]
ROUTES = [
    "/voice",
    "/voice/menu",
    "/voice/services",
    "/voice/confirm",
    "/voice/wait",
    "/voice/bridge",
    "/voice/queue-result",
    "/status",
    "/agent",
    "/voice/address",
    "/voice/address-confirm",
    "/voice/request-status",
]
ARGS = ["lang", "n", "a", "page", "queue", "cat", "r", "tried", "said", "addr"]
ARG_VALUES = st.one_of(
    st.sampled_from(
        [
            "en",
            "es",
            "911",
            "311",
            "pothole",
            "graffiti",
            "1",
            "0",
            "-5",
            "100 Main St",
            "99999999999999999999",
            "1e400",
            "²",
            "\x00",
        ]
    ),
    st.text(max_size=12),
)
CALL_SIDS = st.one_of(
    st.just("CA" + "0123456789abcdef" * 2),
    st.from_regex(r"\ACA[0-9a-f]{32}\Z"),
    VALUES,
)


def make_app(database_url: str, folder: Path) -> Any:
    return create_app(
        {
            "twilio_auth_token": TOKEN,
            "public_base_url": PUBLIC_BASE,
            "database_url": database_url,
            "caller_hash_key": "fuzz-key-0123456789",
            "journal_dir": folder / "journal",
            "store_budget_ms": GENEROUS_BUDGET_MS,  # a journaled write is one the database refused
            "TESTING": True,  # exceptions propagate: none may be hidden behind the fallback answer
        }
    )


request_strategy = st.tuples(
    st.sampled_from(ROUTES),
    st.dictionaries(st.sampled_from(ARGS), ARG_VALUES, max_size=4),
    st.one_of(st.none(), CALL_SIDS),
    st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=8),
)


def check_one(app: Any, twilio: TwilioSim, caplog: pytest.LogCaptureFixture, req: Any) -> None:
    route, args, sid, form = req
    path = route + ("?" + urlencode(args) if args else "")
    params = dict(form)
    if sid is not None:
        params["CallSid"] = sid
    caplog.clear()
    resp = twilio.post(path, params)
    assert resp.status_code in (200, 400, 413), (resp.status_code, path, params)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
    if resp.status_code == 200:
        assert resp.mimetype == "text/xml"
        root = ET.fromstring(resp.data)
        assert root.tag == "Response"
        for dial in root.iter("Dial"):
            assert [c.tag for c in dial] == ["Queue"]
    health = app.extensions["ivr311.recorder"].health()
    assert health["journal_pending"] == 0, (health, path, params)


@pytest.fixture(scope="module")
def fuzz_app(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    app = make_app(module_db_url, tmp_path_factory.mktemp("fuzz"))
    yield app
    app.extensions["ivr311.store"].close()


@settings(
    max_examples=EXAMPLES * 6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(req=request_strategy)
def test_fuzzed_webhooks(fuzz_app, caplog, req):
    check_one(fuzz_app, TwilioSim(fuzz_app.test_client()), caplog, req)


@pytest.mark.parametrize(
    "field, value",
    [
        ("SequenceNumber", "99999999999999999999"),
        ("Timestamp", "Fri, 31 Dec 9999 23:59:59 -1200"),
        ("CallDuration", "2147483648"),
        ("CallStatus", "completed\x00"),
        ("From", "+1555\x00867"),
    ],
)
def test_status_reproducers_from_the_issue(app, twilio, store, field, value):
    """Each value once gave a 500 or an exception behind the fallback; now it is absent."""
    sid = "CA" + "5" * 32
    params = {"CallSid": sid, "CallStatus": "completed", "SequenceNumber": "3", field: value}
    resp = twilio.post("/status", params)
    assert resp.status_code == 200
    row = store.call(sid)
    assert row is not None and row["status"] == "completed"
    if field in ("SequenceNumber", "CallDuration"):
        assert row["status_seq" if field == "SequenceNumber" else "duration_s"] is None


def test_keys_are_ascii_digits_only(twilio, new_call):
    """`Digits=²` made `int('²')` raise; non-ASCII digits are now no key at all (a re-prompt)."""
    call = new_call()
    call.start()
    call.press("2")
    for junk in ("²", "٣", "１"):
        doc = call.press(junk)
        assert "Sorry" in " ".join(s.text or "" for s in doc.iter("Say"))


def test_infinite_queue_time_does_not_hang_up_an_emergency_caller(twilio, new_call):
    """QueueResult=queue-full with QueueTime=1e400 hung up a 911 caller (OverflowError)."""
    call = new_call()
    call.start()
    doc = call.press("1")
    action = doc.find("Enqueue").get("action")
    doc = twilio.twiml(action, call.params(QueueResult="queue-full", QueueTime="1e400"))
    assert doc.find("Enqueue").text == "911" and doc.find("Hangup") is None
