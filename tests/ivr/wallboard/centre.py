"""A call centre for the wallboard's tests: the voice app with a wallboard token, on a clock the
test moves, and callers who walk the menu into a queue, wait, are answered, hang up or end, all
through the signed webhooks Twilio would send (``tests.ivr.wallboard.centre``)."""

from __future__ import annotations

import contextlib
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from ivr import context
from ivr.wallboard import page
from tests.ivr.open311_client import make_app as open311_app
from tests.ivr.outages import HUNG_GUARD_S
from tests.ivr.twilio_sim import Call, TwilioSim

WALL_TOKEN = "wall-token-7c1e9a55d02b4f3a"
AUTH = {"Authorization": f"Bearer {WALL_TOKEN}"}
# A Monday afternoon, on the app's clock (the log's history follows it; waiting is judged on it too).
START = datetime(2026, 5, 4, 14, 0, tzinfo=UTC)


def make_app(db_url: str, folder: Path, **extra: Any) -> Flask:
    """The voice app of the Open311 tests, with the wallboard's token and no answer reused."""
    return open311_app(db_url, folder, **{"wallboard_token": WALL_TOKEN, "WALLBOARD_CACHE_S": 0, **extra})


class Centre:
    """The app, its Twilio, and the clock: `now` is what the app's clock says."""

    def __init__(self, app: Flask, start: datetime = START) -> None:
        self.app = app
        self.now = start
        self.waiting_911: Caller | None = None  # a caller a test keeps waiting, to answer later
        context.set_clock(app, lambda: self.now)
        self.twilio = TwilioSim(app.test_client())

    def later(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def caller(self, queue: str) -> Caller:
        """A caller who presses 1 (an emergency: 911) or 0 (an operator: 311) and is queued."""
        call = Call(self.twilio)
        call.start()
        call.press("1" if queue == "911" else "0")
        enqueue = call.enqueue
        assert enqueue is not None and enqueue.text == queue
        return Caller(call, enqueue, self.now)

    def waited_s(self, caller: Caller) -> str:
        return str(int((self.now - caller.entered).total_seconds()))

    def hold_music(self, caller: Caller) -> None:
        """Twilio fetches the hold music again: the caller is still there."""
        caller.call.request(caller.enqueue.get("waitUrl", ""), QueueTime=self.waited_s(caller), QueuePosition="1")

    def answer(self, caller: Caller) -> None:
        caller.call.request("/voice/bridge", QueueTime=self.waited_s(caller), QueueSid="QU1", DequeingCallSid="CAagent")

    def hang_up_in_queue(self, caller: Caller) -> None:
        caller.call.request(
            caller.enqueue.get("action", ""), QueueResult="hangup", QueueTime=self.waited_s(caller), QueueSid="QU1"
        )

    def end(self, caller: Caller) -> None:
        caller.call.request("/status", CallStatus="completed", SequenceNumber="9", CallDuration="60")


@dataclass
class Caller:
    """A call in a queue: its walker, its <Enqueue> and when it entered (the app's clock)."""

    call: Call
    enqueue: ET.Element
    entered: datetime


@contextlib.contextmanager
def hung_board(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """The wallboard's read of the log does not return until the block ends (a database that
    took the connection and never answers); then it answers again. Yields an event set once a
    read has begun."""
    release, entered = threading.Event(), threading.Event()
    real = page.read_board

    def hung(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        release.wait(HUNG_GUARD_S)
        return real(*args, **kwargs)

    monkeypatch.setattr(page, "read_board", hung)
    try:
        yield entered
    finally:
        monkeypatch.setattr(page, "read_board", real)
        release.set()
