"""The agent line: a call-taker's phone calls POST /agent and is connected to the next caller.

The rule is the model's: the next 911 caller if any waits, otherwise the oldest 311 caller
(Twilio queues are first in, first out). Non-preemptive: a call in progress is never interrupted,
the agent comes back here (the Dial action) when it ends. Who waits comes from the app's own
records, not from the Twilio REST API. Only ever <Dial><Queue>: never a number.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, url_for
from twilio.twiml.voice_response import Dial, VoiceResponse

from ivr.menu import QUEUE_311, QUEUE_911, Menu
from ivr.signature import check_signature
from ivr.store import CallStore
from ivr.twiml import say, twiml_response

log = logging.getLogger(__name__)

bp = Blueprint("agent", __name__, url_prefix="/agent")
bp.before_request(check_signature)

QUEUE_ORDER = (QUEUE_911, QUEUE_311)  # priority 1 first


def next_queue(waiting: dict[str, int]) -> str | None:
    """The queue an idle call-taker takes next: 911 before 311, None when nobody waits."""
    return next((q for q in QUEUE_ORDER if waiting.get(q, 0) > 0), None)


@bp.post("")
def line() -> Response:
    menu: Menu = current_app.extensions["ivr311.menu"]
    store: CallStore = current_app.extensions["ivr311.store"]
    lang = menu.agent_language
    resp = VoiceResponse()
    queue = next_queue(store.waiting_counts())
    if queue is None:
        say(resp, menu, lang, menu.agent_prompts["nobody_waiting"])
        resp.pause(length=menu.agent_poll_s)
        resp.redirect(url_for("agent.line"), method="POST")
        return twiml_response(resp)
    log.info("agent line: taking the %s queue", queue)
    key = "take_911" if queue == QUEUE_911 else "take_311"
    say(resp, menu, lang, menu.agent_prompts[key])
    dial = Dial(action=url_for("agent.line"), method="POST", timeout=20)
    dial.queue(queue, url=url_for("voice.bridge"), method="POST")
    resp.append(dial)
    return twiml_response(resp)
