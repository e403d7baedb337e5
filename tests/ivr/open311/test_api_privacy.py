"""Privacy by default on the public Open311 API, and the headers every answer of the app carries.

- A call's request publishes its category, status, address and times, never what the caller
  said (`tests/ivr/callflow/test_voice_requests.py` walks a call); staff publish what they choose in status_notes.
- The api_key travels in the POST body or the X-Api-Key header; a URL carrying one is refused
  (URLs land in access logs), on every endpoint.
- XML carries only what XML 1.0 can: one odd character in a stored text does not break the
  document for every client.
- Simulated callers' requests are never public.
- `X-Content-Type-Options: nosniff` on every answer: voice, agent, status, health, Open311, errors.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ivr.calllog.servicerequests import ServiceRequests
from tests.ivr.open311_client import API_KEY, BASE, FORMATS, Open311, body, make_app


@pytest.fixture
def api_app(tmp_path: Path) -> Any:
    app = make_app(f"sqlite:///{tmp_path / 'calls.sqlite3'}", tmp_path)
    app.extensions["ivr311.recorder"].start()
    yield app
    app.extensions["ivr311.store"].close()
    app.extensions["ivr311.open311_gate"].close()


@pytest.fixture
def api(api_app: Any) -> Open311:
    return Open311(api_app.test_client())


@pytest.fixture
def store(api_app: Any) -> Any:
    return api_app.extensions["ivr311.store"]


def _only(resp: Any, fmt: str) -> dict[str, Any]:
    assert resp.status_code == 200, resp.data
    (doc,) = body(resp, fmt)
    return doc  # type: ignore[no-any-return]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_calls_words_stay_private_until_staff_publish_a_note(api, store, fmt):
    said = "pothole by my house, I am Jane Roe, call me back on 555 765 4321"
    number = store.open_call_request("CA" + "1" * 32, "pothole", "en", said, "12 Elm Street")
    for resp in (api.get(f"requests/{number}", fmt), api.get("requests", fmt)):
        doc = _only(resp, fmt)
        assert doc["service_code"] == "pothole" and doc["status"] == "open"
        assert doc["address"] == "12 Elm Street" and doc["requested_datetime"]
        assert not doc["description"] and not doc["status_notes"]
        assert b"Jane Roe" not in resp.data and b"765 4321" not in resp.data
    store.requests.set_status(number, "closed", "Filled on Monday.")
    doc = _only(api.get(f"requests/{number}", fmt), fmt)
    assert doc["status"] == "closed" and doc["status_notes"] == "Filled on Monday."
    assert not doc["description"]


def test_an_api_clients_description_is_published(api):
    """What a client posts to the public API is what it means to publish (the spec's use)."""
    number = api.create(description="Sinkhole at the corner")
    assert _only(api.get(f"requests/{number}"), "json")["description"] == "Sinkhole at the corner"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("method", ["get", "post"])
def test_an_api_key_in_the_url_is_refused_and_says_where_it_goes(api, fmt, method):
    call = getattr(api.client, method)
    url = f"{BASE}/requests.{fmt}?api_key={API_KEY}"
    form = {"service_code": "noise", "address_string": "1 Main St"}
    resp = call(url, data=form) if method == "post" else call(url)
    assert resp.status_code == 403, resp.data
    (error,) = body(resp, fmt)
    assert "X-Api-Key" in error["description"] and "body" in error["description"]
    assert api.client.get(f"{BASE}/services.{fmt}?api_key=anything").status_code == 403


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_api_key_in_a_header_or_the_body(api, fmt):
    form = {"service_code": "noise", "address_string": "1 Main St"}
    by_header = api.client.post(f"{BASE}/requests.{fmt}", data=form, headers={"X-Api-Key": API_KEY})
    assert by_header.status_code == 200, by_header.data
    by_body = api.client.post(f"{BASE}/requests.{fmt}", data={**form, "api_key": API_KEY})
    assert by_body.status_code == 200, by_body.data
    wrong = api.client.post(f"{BASE}/requests.{fmt}", data=form, headers={"X-Api-Key": "not-a-key"})
    assert wrong.status_code == 403


def test_xml_leaves_out_what_xml_cannot_carry(api, store):
    """U+FFFF, U+FFFE (which the input cleaning keeps) in a description and in staff notes: the
    XML list still parses, for every client; JSON keeps them, escaped."""
    number = api.create(description="odd \uffff character \ufffe here")
    store.requests.set_status(number, "open", "note \uffff too")
    resp = api.get("requests", "xml")
    assert resp.status_code == 200
    root = ET.fromstring(resp.data)
    assert root.findtext("request/description") == "odd  character  here"
    assert root.findtext("request/status_notes") == "note  too"
    assert _only(api.get("requests"), "json")["description"] == "odd \uffff character \ufffe here"


@pytest.mark.parametrize("fmt", FORMATS)
def test_simulated_callers_requests_are_never_public(api_app, api, store, fmt):
    real = store.open_call_request("CA" + "2" * 32, "noise", "en")
    simulated = ServiceRequests(api_app.extensions["ivr311.store"].engine, simulated=True)
    fake = simulated.open_for_call("CA" + "3" * 32, "noise", "en", now=datetime.now(UTC))
    listed = body(api.get("requests", fmt), fmt)
    assert [r["service_request_id"] for r in listed] == [real]
    assert api.get(f"requests/{fake}", fmt).status_code == 404
    assert body(api.get("requests", fmt, service_request_id=f"{real},{fake}"), fmt)[0]["service_request_id"] == real
    assert store.requests.get(fake)["simulated"] is True  # staff (and the caller at key 3) still see it


def test_every_answer_says_nosniff(api_app):
    client = api_app.test_client()
    answers = [
        client.post("/voice", data={"CallSid": "CA" + "4" * 32}),  # unsigned: 403
        client.post("/agent"),
        client.post("/status"),
        client.get("/healthz"),
        client.get(f"{BASE}/services.json"),
        client.get(f"{BASE}/requests.xml"),
        client.get(f"{BASE}/openapi.json"),
        client.get(f"{BASE}/nothing.json"),
        client.get("/no/such/page"),
        client.delete("/healthz"),
    ]
    assert {resp.status_code for resp in answers} >= {200, 403, 404, 405}
    for resp in answers:
        assert resp.headers.get("X-Content-Type-Options") == "nosniff", (resp.status_code, resp.request.path)
