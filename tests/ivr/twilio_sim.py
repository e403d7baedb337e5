"""Twilio as the voice app's tests see it: the project's one TwiML walker (`ivr.tools.softphone`) with
the tests' token and public URL (``tests.ivr.twilio_sim``, imported by conftest and the tests), and
its REST API for outbound calls (`FakeDialer`)."""

from __future__ import annotations

from flask.testing import FlaskClient

from ivr.callflow.dialer import Outbound
from ivr.tools.softphone import CallWalker, TwilioClient

TOKEN = "test-auth-token-5f0c2a9e"
PUBLIC_BASE = "https://ivr311.example.test"
CALLER = "+15558675309"


class TwilioSim(TwilioClient):
    """Signed webhooks to the test app, with the tests' token and public URL."""

    def __init__(self, client: FlaskClient, token: str = TOKEN, base: str = PUBLIC_BASE) -> None:
        super().__init__(client, token, base)


class Call(CallWalker):
    """One caller walking the menu (start, press, speak, silence), from the tests' number."""

    def __init__(self, twilio: TwilioClient, sid: str | None = None, caller: str = CALLER) -> None:
        super().__init__(twilio, sid, caller)


class FakeDialer:
    """Twilio's REST API as the tests see it (`ivr.callflow.dialer.Dialer`): records each
    outbound call asked for and answers a new CallSid, or raises `fail` when it is set."""

    def __init__(self) -> None:
        self.placed: list[Outbound] = []
        self.fail: Exception | None = None

    def place(self, call: Outbound) -> str:
        if self.fail is not None:
            raise self.fail
        self.placed.append(call)
        return f"CA{len(self.placed):032d}"
