"""A Twilio stand-in for the voice app's tests: signs requests exactly as Twilio does and walks
the TwiML like a caller (a uniquely named module, imported by conftest and the tests)."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator

TOKEN = "test-auth-token-5f0c2a9e"
PUBLIC_BASE = "https://ivr311.example.test"
CALLER = "+15558675309"


class TwilioSim:
    """Posts webhooks the way Twilio does: form-encoded POST to the public URL, signed with
    HMAC-SHA1 over URL + sorted params (RequestValidator.compute_signature)."""

    def __init__(self, client: FlaskClient, token: str = TOKEN, base: str = PUBLIC_BASE) -> None:
        self.client = client
        self.validator = RequestValidator(token)
        self.base = base

    def sign(self, path: str, params: Mapping[str, str]) -> str:
        return self.validator.compute_signature(self.base + path, dict(params))

    def post(self, path: str, params: Mapping[str, str] | None = None, **kwargs: Any) -> Any:
        params = dict(params or {})
        headers = {"X-Twilio-Signature": self.sign(path, params)}
        return self.client.post(path, data=params, headers=headers, **kwargs)

    def twiml(self, path: str, params: Mapping[str, str] | None = None) -> ET.Element:
        resp = self.post(path, params)
        assert resp.status_code == 200, resp.data
        assert resp.mimetype == "text/xml"
        root = ET.fromstring(resp.data)
        assert root.tag == "Response"
        return root


class Call:
    """One caller walking the menu: follows Gather actions and Redirects like Twilio."""

    def __init__(self, twilio: TwilioSim, sid: str | None = None, caller: str = CALLER) -> None:
        self.twilio = twilio
        self.sid = sid or "CA" + uuid.uuid4().hex
        self.caller = caller
        self.doc: ET.Element | None = None

    def params(self, **extra: str) -> dict[str, str]:
        return {"CallSid": self.sid, "From": self.caller, "To": "+15550000311",
                "AccountSid": "AC" + "0" * 32, "Direction": "inbound", **extra}

    def start(self) -> ET.Element:
        self.doc = self.twilio.twiml("/voice", self.params())
        return self.doc

    @property
    def gather(self) -> ET.Element:
        assert self.doc is not None
        found = self.doc.find("Gather")
        assert found is not None, ET.tostring(self.doc)
        return found

    def press(self, digits: str) -> ET.Element:
        self.doc = self.twilio.twiml(self.gather.get("action", ""), self.params(Digits=digits))
        return self.doc

    def speak(self, words: str, confidence: float | None = 0.92) -> ET.Element:
        extra = {"SpeechResult": words}
        if confidence is not None:
            extra["Confidence"] = f"{confidence}"
        self.doc = self.twilio.twiml(self.gather.get("action", ""), self.params(**extra))
        return self.doc

    def silence(self) -> ET.Element:
        """No input: the Gather falls through to the Redirect that follows it."""
        assert self.doc is not None
        redirect = self.doc.find("Redirect")
        assert redirect is not None and redirect.text
        self.doc = self.twilio.twiml(redirect.text, self.params())
        return self.doc

    def said(self) -> str:
        assert self.doc is not None
        return " ".join((s.text or "") for s in self.doc.iter("Say"))

    @property
    def enqueue(self) -> ET.Element | None:
        assert self.doc is not None
        return self.doc.find("Enqueue")
