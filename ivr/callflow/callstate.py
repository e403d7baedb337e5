"""What a webhook carries: our own query parameters (language `lang`, step `n`, failed attempts
`a`, the queue, the category and what the caller said) and the caller's input in the form.

State travels in the query string of each Gather's action, so a handler's TwiML depends only on
its URL and form; each reader here is strict and total (`ivr.callflow.fields`): a tampered or
stale value is the default, and a queue we do not know is 911 (fail toward the 911 queue).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import request

from ivr import context
from ivr.callflow import fields
from ivr.callflow.screens import Reply
from ivr.menu import QUEUE_311, QUEUE_911, Category

MAX_SAID = 300  # characters of a transcript carried in our URLs (the request's description)
MAX_STEP = 1000  # a call that walks the menu this long is still answered, the counter just stops
QUEUES = (QUEUE_911, QUEUE_311)


def lang_arg() -> str:
    menu = context.menu()
    return fields.choice("lang", tuple(menu.languages), menu.default_language)


def queue_arg() -> str:
    """The queue our own URL names; anything else is taken as 911 (fail toward the 911 queue)."""
    return fields.choice("queue", QUEUES, QUEUE_911)


def step_args() -> tuple[int, int]:
    return fields.int_arg("n", 1, 1, MAX_STEP), fields.int_arg("a", 0, 0, 100)


def said_arg() -> str:
    """What the caller said when naming the service (our own URL carries it along)."""
    return fields.clean_text(request.args.get("said"), MAX_SAID)


def category_arg() -> Category | None:
    """The listed category our own URL names (None for a tampered or stale URL)."""
    code = fields.clean_text(request.args.get("cat"), 64)
    return next((c for c in context.menu().listed if c.code == code), None)


@dataclass(frozen=True)
class CallerInput:
    digits: str
    speech: str
    confidence: float | None  # None when Twilio sent none (it may be missing)

    @classmethod
    def from_form(cls) -> CallerInput:
        return cls(digits=fields.digits(), speech=fields.text("SpeechResult", 512), confidence=fields.confidence())

    @property
    def empty(self) -> bool:
        return not self.digits and not self.speech


@dataclass
class MenuStep:
    """One caller input at a menu screen: what came in, and the reply being built."""

    call_sid: str
    lang: str
    step: int
    attempts: int
    inp: CallerInput
    resp: Reply
    category: str | None = None
    screen: str = ""  # the screen's name in the log

    @classmethod
    def from_request(cls) -> MenuStep:
        step, attempts = step_args()
        return cls(fields.call_sid(), lang_arg(), step, attempts, CallerInput.from_form(), Reply())
