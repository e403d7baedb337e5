"""Every webhook is signed by Twilio or refused: 403 without TwiML; 405, 413, text/xml."""

from __future__ import annotations

import pytest
from twilio.request_validator import RequestValidator

from tests.ivr.twilio_sim import CALLER, PUBLIC_BASE, TOKEN, TwilioSim

WEBHOOKS = [
    "/voice",
    "/voice/menu?lang=en&n=1&a=0",
    "/voice/services?lang=es&n=2&a=0&page=1",
    "/voice/confirm?lang=en&n=2&a=0&cat=pothole",
    "/voice/wait?lang=en&queue=311",
    "/voice/bridge",
    "/voice/queue-result?lang=en&queue=311",
    "/agent",
    "/status",
]

PARAMS = {"CallSid": "CA" + "1" * 32, "From": CALLER, "CallStatus": "in-progress", "Digits": "2"}


@pytest.mark.parametrize("path", WEBHOOKS)
def test_unsigned_request_is_refused_without_twiml(client, path):
    resp = client.post(path, data=PARAMS)
    assert resp.status_code == 403
    assert resp.mimetype != "text/xml"
    assert b"<Response" not in resp.data


@pytest.mark.parametrize("path", WEBHOOKS)
def test_signed_request_is_accepted(twilio, path):
    resp = twilio.post(path, PARAMS)
    assert resp.status_code == 200
    assert resp.mimetype == "text/xml"


def test_tampered_form_is_refused(client, twilio):
    signature = twilio.sign("/voice/menu?lang=en&n=1&a=0", {**PARAMS, "Digits": "2"})
    resp = client.post(
        "/voice/menu?lang=en&n=1&a=0", data={**PARAMS, "Digits": "1"}, headers={"X-Twilio-Signature": signature}
    )
    assert resp.status_code == 403


def test_extra_form_field_is_refused(client, twilio):
    signature = twilio.sign("/voice", PARAMS)
    resp = client.post("/voice", data={**PARAMS, "Injected": "x"}, headers={"X-Twilio-Signature": signature})
    assert resp.status_code == 403


def test_tampered_query_string_is_refused(client, twilio):
    signature = twilio.sign("/voice/menu?lang=en&n=1&a=0", PARAMS)
    resp = client.post("/voice/menu?lang=en&n=1&a=3", data=PARAMS, headers={"X-Twilio-Signature": signature})
    assert resp.status_code == 403


def test_wrong_token_is_refused(client):
    other = TwilioSim(client, token="not-the-token")
    assert other.post("/voice", PARAMS).status_code == 403


def test_signature_for_another_host_or_scheme_is_refused(client):
    for base in ("http://ivr311.example.test", "https://evil.example.test"):
        assert TwilioSim(client, base=base).post("/voice", PARAMS).status_code == 403


def test_public_url_not_the_local_one_is_what_counts(client):
    """Behind a tunnel the server sees http://localhost/...; Twilio signed the public https URL."""
    local = RequestValidator(TOKEN).compute_signature("http://localhost/voice", PARAMS)
    resp = client.post("/voice", data=PARAMS, headers={"X-Twilio-Signature": local})
    assert resp.status_code == 403
    public = RequestValidator(TOKEN).compute_signature(PUBLIC_BASE + "/voice", PARAMS)
    resp = client.post("/voice", data=PARAMS, headers={"X-Twilio-Signature": public})
    assert resp.status_code == 200


def test_standard_port_in_signed_url_is_accepted(client):
    signed = RequestValidator(TOKEN).compute_signature("https://ivr311.example.test:443/voice", PARAMS)
    resp = client.post("/voice", data=PARAMS, headers={"X-Twilio-Signature": signed})
    assert resp.status_code == 200


@pytest.mark.parametrize("path", ["/voice", "/voice/menu", "/agent", "/status"])
@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_wrong_method_is_405(client, path, method):
    assert getattr(client, method)(path).status_code == 405


def test_body_over_64_kb_is_413(twilio):
    big = {**PARAMS, "SpeechResult": "x" * (65 * 1024)}
    assert twilio.post("/voice/menu?lang=en&n=1&a=0", big).status_code == 413


def test_body_just_under_limit_is_fine(twilio):
    ok = {**PARAMS, "SpeechResult": "pothole " * 7000}
    assert twilio.post("/voice/menu?lang=en&n=1&a=0", ok).status_code == 200


def test_validation_can_be_switched_off_with_a_loud_warning(db_url, caplog):
    from ivr import create_app

    with caplog.at_level("WARNING"):
        app = create_app({"validate_signatures": False, "database_url": db_url})
    assert any("NOT checked" in r.getMessage() for r in caplog.records)
    resp = app.test_client().post("/voice", data=PARAMS)
    assert resp.status_code == 200
