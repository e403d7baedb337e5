"""A console phone: walks the TwiML of the local app through the Flask test client, the way
Twilio would, reading keys or words from standard input. Nothing leaves the machine.

Keys (`2`, `9`, `*`, `0`, ...) are sent as Digits, anything else as SpeechResult with the given
Confidence, an empty line is silence. In a queue, Enter is "a call-taker answers", `h` hangs up.
"""

from __future__ import annotations

import re
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.client import HTTPConnection, HTTPException, HTTPSConnection
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Flask
from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator

from ivr import context
from ivr.errors import IvrError

KEYS = re.compile(r"^[0-9*#]+$")
MAX_DOCUMENTS = 500  # a walk this long is a loop in the menu
ACCOUNT_SID = "AC" + "0" * 32
QUEUE_SID = "QU" + "0" * 32


class Hangup(Exception):
    """The caller (stdin closed, `h`) or the app (<Hangup>) ended the call."""


@dataclass(frozen=True)
class HttpResponse:
    status_code: int
    mimetype: str
    data: bytes


class HttpTransport:
    """A running server reached over HTTP(S), with the Flask test client's `post` signature. One
    connection per request, with the standard library's http.client: less than half the client
    CPU per request of `requests` (0.3-0.4 ms against 0.9 ms on loopback), which matters when
    `callers --url` or bench/webhook_latency.py load a server from the same machine. Proxy
    variables (HTTP_PROXY...) are not read."""

    def __init__(self, base_url: str, timeout_s: float = 15.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise IvrError(f"{base_url!r}: expected http://HOST:PORT or https://HOST")
        self.base_url = base_url.rstrip("/")
        self.connection = HTTPSConnection if parts.scheme == "https" else HTTPConnection
        self.netloc = parts.netloc
        self.prefix = parts.path.rstrip("/")
        self.timeout_s = timeout_s
        self.latencies_s: list[float] = []  # of each post answered by the server
        self.failures = 0  # posts refused, reset, timed out or cut off

    def post(self, path: str, data: Mapping[str, str], headers: Mapping[str, str]) -> HttpResponse:
        body = urlencode(data)
        head = {"Content-Type": "application/x-www-form-urlencoded", "Connection": "close", **headers}
        started = time.perf_counter()
        conn = self.connection(self.netloc, timeout=self.timeout_s)
        try:
            conn.request("POST", self.prefix + path, body, head)
            resp = conn.getresponse()
            payload = resp.read()
        except (OSError, HTTPException) as exc:  # refused, reset, timed out, cut off
            self.failures += 1
            raise IvrError(f"POST {self.base_url + path}: {type(exc).__name__}") from None
        finally:
            conn.close()
        self.latencies_s.append(time.perf_counter() - started)
        mimetype = (resp.getheader("Content-Type") or "").split(";")[0].strip()
        return HttpResponse(resp.status, mimetype, payload)


class TwilioClient:
    """Posts webhooks the way Twilio does: form-encoded POST to the public URL, signed
    (X-Twilio-Signature, HMAC-SHA1 over URL + sorted params) when a token is given; to the local
    app (Flask test client) or to a running server (`over_http`)."""

    def __init__(self, client: FlaskClient | HttpTransport, token: str | None, base: str) -> None:
        self.client = client
        self.validator = RequestValidator(token) if token else None
        self.base = base.rstrip("/")

    @classmethod
    def over_http(cls, url: str, token: str | None) -> TwilioClient:
        """A running server at `url` (its public base URL, as the signatures are computed on)."""
        return cls(HttpTransport(url), token, url)

    @classmethod
    def for_app(cls, app: Flask) -> TwilioClient:
        """Signed as the app checks: its own token and public URL."""
        settings = context.settings(app)
        token = settings.twilio_auth_token if settings.validate_signatures else None
        return cls(app.test_client(), token, settings.public_base_url or "http://localhost")

    def sign(self, path: str, params: Mapping[str, str]) -> str:
        assert self.validator is not None
        return str(self.validator.compute_signature(self.base + path, dict(params)))

    def post(self, url: str, params: Mapping[str, str] | None = None, **kwargs: Any) -> Any:
        """The raw response (status, headers, body) of one webhook."""
        path = url.removeprefix(self.base)
        params = dict(params or {})
        headers = {"X-Twilio-Signature": self.sign(path, params)} if self.validator else {}
        return self.client.post(path, data=params, headers=headers, **kwargs)

    def twiml(self, url: str, params: Mapping[str, str] | None = None) -> ET.Element:
        """The TwiML document a webhook answers; IvrError unless it is a 200 <Response>."""
        resp = self.post(url, params)
        if resp.status_code != 200 or resp.mimetype != "text/xml":
            raise IvrError(f"POST {url}: HTTP {resp.status_code} {resp.mimetype}")
        try:
            root = ET.fromstring(resp.data)
        except ET.ParseError as exc:  # e.g. a body cut off by a server that died mid-answer
            raise IvrError(f"POST {url}: not XML ({exc})") from None
        if root.tag != "Response":
            raise IvrError(f"POST {url}: <{root.tag}> is not a TwiML <Response>")
        return root


def input_params(answer: str, confidence: float | None) -> dict[str, str]:
    """What Twilio sends for an answer to a <Gather>: keys as Digits, anything else as speech
    (with Confidence when the recognizer gave one)."""
    if KEYS.match(answer):
        return {"Digits": answer}
    extra = {"SpeechResult": answer}
    if confidence is not None:
        extra["Confidence"] = f"{confidence:g}"
    return extra


class CallWalker:
    """One call walking the TwiML like Twilio: the current document, and the requests that
    answer its <Gather>, follow its <Redirect>, or report on its <Enqueue>. The one TwiML walker
    of the project (console phone, simulated callers, tests)."""

    def __init__(self, twilio: TwilioClient, sid: str | None = None, caller: str = "+15555550100") -> None:
        self.twilio = twilio
        self.sid = sid or "CA" + uuid.uuid4().hex
        self.caller = caller
        self.doc: ET.Element | None = None
        self.documents = 0

    def params(self, **extra: str) -> dict[str, str]:
        return {
            "CallSid": self.sid,
            "From": self.caller,
            "To": "+15550000311",
            "AccountSid": ACCOUNT_SID,
            "Direction": "inbound",
            **extra,
        }

    def request(self, url: str, **extra: str) -> ET.Element:
        """Post one webhook of this call; its answer becomes the current document."""
        self.documents += 1
        if self.documents > MAX_DOCUMENTS:
            raise IvrError(f"the menu did not end after {MAX_DOCUMENTS} documents")
        self.doc = self.twilio.twiml(url, self.params(**extra))
        return self.doc

    def start(self) -> ET.Element:
        return self.request("/voice")

    @property
    def gather(self) -> ET.Element:
        found = self.doc.find("Gather") if self.doc is not None else None
        if found is None:
            raise IvrError("the current document has no <Gather>")
        return found

    @property
    def enqueue(self) -> ET.Element | None:
        return self.doc.find("Enqueue") if self.doc is not None else None

    def press(self, digits: str) -> ET.Element:
        return self.request(self.gather.get("action", ""), Digits=digits)

    def speak(self, words: str, confidence: float | None = 0.92) -> ET.Element:
        return self.request(
            self.gather.get("action", ""),
            SpeechResult=words,
            **({} if confidence is None else {"Confidence": f"{confidence:g}"}),
        )

    def silence(self) -> ET.Element:
        """No input: the <Gather> falls through to the <Redirect> after it."""
        redirect = self.doc.find("Redirect") if self.doc is not None else None
        if redirect is None or not redirect.text:
            raise IvrError("the current document has no <Redirect>")
        return self.request(redirect.text)

    def said(self) -> str:
        return " ".join((s.text or "") for s in self.doc.iter("Say")) if self.doc is not None else ""


class Softphone:
    """A caller at the console (or a simulated one): reads keys and words from `read`, shows
    what the app says with `write`, and drives a `CallWalker` until someone hangs up."""

    def __init__(
        self,
        app: Flask | None,
        *,
        twilio: TwilioClient | None = None,
        caller: str = "+15555550100",
        confidence: float = 0.9,
        read: Callable[[str], str | None],
        write: Callable[[str], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if twilio is None:
            if app is None:
                raise IvrError("a softphone needs the local app or a client of a running server")
            twilio = TwilioClient.for_app(app)
        self.twilio = twilio
        self.walker = CallWalker(self.twilio, caller=caller)
        self.confidence = confidence
        self.read = read
        self.write = write
        self.clock = clock
        self.started = clock()
        self.status_seq = 0

    @property
    def call_sid(self) -> str:
        return self.walker.sid

    @call_sid.setter
    def call_sid(self, sid: str) -> None:
        self.walker.sid = sid

    def elapsed_s(self) -> int:
        return int(self.clock() - self.started)

    def ask(self, prompt: str) -> str | None:
        line = self.read(prompt)
        return None if line is None else line.strip()

    def call(self) -> None:
        """Dial the city line and follow the TwiML until someone hangs up."""
        self.write(f"calling the 311 line (call {self.call_sid})")
        self.send_status("ringing")
        try:
            self.run(self.walker.start())
        except Hangup as end:
            self.write(f"[hung up: {end}]")
        self.send_status("completed", duration_s=self.elapsed_s())

    def agent(self, rounds: int = 1) -> None:
        """Be a call-taker: dial the agent line and show which queue it would connect."""
        doc = self.walker.request("/agent")
        for _ in range(rounds):
            for verb in doc:
                if verb.tag == "Say":
                    self.write(f"  \N{SPEAKER} {verb.text}")
                elif verb.tag == "Dial":
                    queue = verb.find("Queue")
                    self.write(f"[connecting to the next caller in queue {queue.text if queue is not None else '?'}]")
                elif verb.tag == "Pause":
                    self.write(f"[pause {verb.get('length', '1')} s]")
                elif verb.tag == "Redirect":
                    self.write("[the line would poll again]")

    def send_status(self, status: str, duration_s: int | None = None) -> None:
        self.status_seq += 1
        extra = {"CallStatus": status, "SequenceNumber": str(self.status_seq)}
        if duration_s is not None:
            extra["CallDuration"] = str(duration_s)
        self.walker.request("/status", **extra)

    def run(self, doc: ET.Element) -> None:
        while True:
            doc = self.execute(doc)

    def execute(self, doc: ET.Element) -> ET.Element:
        """Run one document's verbs; returns the next document (Twilio's next request)."""
        for verb in doc:
            if verb.tag == "Say":
                self.write(f"  \N{SPEAKER} {verb.text}")
            elif verb.tag == "Pause":
                self.write(f"[pause {verb.get('length', '1')} s]")
            elif verb.tag == "Gather":
                for inner in verb:
                    if inner.tag == "Say":
                        self.write(f"  \N{SPEAKER} {inner.text}")
                answer = self.ask("keys or words (empty = silence)> ")
                if answer is None:
                    raise Hangup("caller hung up")
                if answer:
                    return self.walker.request(verb.get("action", ""), **input_params(answer, self.confidence))
                self.write("[silence]")
            elif verb.tag == "Redirect":
                return self.walker.request(verb.text or "")
            elif verb.tag == "Enqueue":
                return self.hold(verb)
            elif verb.tag == "Hangup":
                raise Hangup("the city line hung up")
            elif verb.tag == "Dial":
                raise IvrError("the caller's menu must never <Dial>")
        raise Hangup("the document ended")

    def hold(self, enqueue: ET.Element) -> ET.Element:
        queue = enqueue.text or "?"
        self.write(f"[waiting in queue {queue}]")
        entered = self.clock()
        wait = self.walker.request(
            enqueue.get("waitUrl", ""), QueuePosition="1", CurrentQueueSize="1", QueueTime="0", AvgQueueTime="0"
        )
        for verb in wait:
            if verb.tag == "Say":
                self.write(f"  \N{SPEAKER} {verb.text}")
            elif verb.tag == "Pause":
                self.write(f"[hold {verb.get('length', '1')} s]")
        answer = self.ask("[on hold] Enter = a call-taker answers, h = hang up> ")
        queue_time = str(int(self.clock() - entered))
        if answer is None or answer.lower().startswith("h"):
            result = "hangup"
        else:
            bridge = self.walker.request(
                "/voice/bridge", QueueTime=queue_time, QueueSid=QUEUE_SID, DequeingCallSid="CAagent"
            )
            for verb in bridge:
                if verb.tag == "Say":
                    self.write(f"  \N{SPEAKER} {verb.text}")
            self.write(f"[talking to a {queue} call-taker]")
            self.ask("[Enter = end the conversation]> ")
            result = "bridged"
        return self.walker.request(
            enqueue.get("action", ""), QueueResult=result, QueueTime=queue_time, QueueSid=QUEUE_SID
        )


def read_stdin(prompt: str) -> str | None:
    import click

    try:
        line: Any = click.prompt(prompt, default="", show_default=False, prompt_suffix="")
    except (EOFError, click.Abort):
        return None
    return str(line)
