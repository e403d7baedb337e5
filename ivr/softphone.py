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
from collections.abc import Callable
from typing import Any

from flask import Flask
from twilio.request_validator import RequestValidator

from ivr.config import Settings
from ivr.errors import IvrError

KEYS = re.compile(r"^[0-9*#]+$")
MAX_DOCUMENTS = 500  # a walk this long is a loop in the menu


class Hangup(Exception):
    """The caller (stdin closed, `h`) or the app (<Hangup>) ended the call."""


class Softphone:
    def __init__(
        self,
        app: Flask,
        *,
        caller: str = "+15555550100",
        confidence: float = 0.9,
        read: Callable[[str], str | None],
        write: Callable[[str], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = app.test_client()
        settings: Settings = app.extensions["ivr311.settings"]
        self.base = settings.public_base_url or "http://localhost"
        token = settings.twilio_auth_token if settings.validate_signatures else None
        self.validator = RequestValidator(token) if token else None
        self.caller = caller
        self.confidence = confidence
        self.read = read
        self.write = write
        self.clock = clock
        self.call_sid = "CA" + uuid.uuid4().hex
        self.started = clock()
        self.documents = 0
        self.status_seq = 0

    # -- transport -----------------------------------------------------------------------

    def params(self, **extra: str) -> dict[str, str]:
        return {"CallSid": self.call_sid, "From": self.caller, "To": "+15550000311",
                "AccountSid": "AC" + "0" * 32, "Direction": "inbound", **extra}

    def post(self, url: str, params: dict[str, str]) -> ET.Element:
        self.documents += 1
        if self.documents > MAX_DOCUMENTS:
            raise IvrError(f"the menu did not end after {MAX_DOCUMENTS} documents")
        path = url.removeprefix(self.base)
        headers = {}
        if self.validator is not None:
            headers["X-Twilio-Signature"] = self.validator.compute_signature(
                self.base + path, params
            )
        resp = self.client.post(path, data=params, headers=headers)
        if resp.status_code != 200 or resp.mimetype != "text/xml":
            raise IvrError(f"POST {path}: HTTP {resp.status_code} {resp.mimetype}")
        return ET.fromstring(resp.data)

    # -- the call ------------------------------------------------------------------------

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
            self.run(self.post("/voice", self.params()))
        except Hangup as end:
            self.write(f"[hung up: {end}]")
        self.send_status("completed", duration_s=self.elapsed_s())

    def agent(self, rounds: int = 1) -> None:
        """Be a call-taker: dial the agent line and show which queue it would connect."""
        doc = self.post("/agent", self.params())
        for _ in range(rounds):
            for verb in doc:
                if verb.tag == "Say":
                    self.write(f"  \N{SPEAKER} {verb.text}")
                elif verb.tag == "Dial":
                    queue = verb.find("Queue")
                    self.write(f"[connecting to the next caller in queue "
                               f"{queue.text if queue is not None else '?'}]")
                elif verb.tag == "Pause":
                    self.write(f"[pause {verb.get('length', '1')} s]")
                elif verb.tag == "Redirect":
                    self.write("[the line would poll again]")

    def send_status(self, status: str, duration_s: int | None = None) -> None:
        self.status_seq += 1
        extra = {"CallStatus": status, "SequenceNumber": str(self.status_seq)}
        if duration_s is not None:
            extra["CallDuration"] = str(duration_s)
        self.post("/status", self.params(**extra))

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
                    extra = (
                        {"Digits": answer} if KEYS.match(answer)
                        else {"SpeechResult": answer, "Confidence": f"{self.confidence:g}"}
                    )
                    return self.post(verb.get("action", ""), self.params(**extra))
                self.write("[silence]")
            elif verb.tag == "Redirect":
                return self.post(verb.text or "", self.params())
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
        wait = self.post(enqueue.get("waitUrl", ""), self.params(
            QueuePosition="1", CurrentQueueSize="1", QueueTime="0", AvgQueueTime="0"))
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
            bridge = self.post("/voice/bridge", self.params(
                QueueTime=queue_time, QueueSid="QU" + "0" * 32, DequeingCallSid="CAagent"))
            for verb in bridge:
                if verb.tag == "Say":
                    self.write(f"  \N{SPEAKER} {verb.text}")
            self.write(f"[talking to a {queue} call-taker]")
            self.ask("[Enter = end the conversation]> ")
            result = "bridged"
        return self.post(enqueue.get("action", ""), self.params(
            QueueResult=result, QueueTime=queue_time, QueueSid="QU" + "0" * 32))


def read_stdin(prompt: str) -> str | None:
    import click

    try:
        line: Any = click.prompt(prompt, default="", show_default=False, prompt_suffix="")
    except (EOFError, click.Abort):
        return None
    return str(line)
