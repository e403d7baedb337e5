"""The agent line: a call-taker's phone calls POST /agent and is connected to the next caller.

The rule is the model's: the next 911 caller if any waits, otherwise the oldest 311 caller
(Twilio queues are first in, first out). Non-preemptive: a call in progress is never interrupted,
the agent comes back here (the Dial action) when it ends. Who waits comes from the app's own
records, not from the Twilio REST API: a caller counts as waiting while Twilio keeps fetching
their hold music (the heartbeat), so a caller whose last callbacks were lost stops holding the
line after `wait_stale_s` (the model's abandonment, learned late instead of exactly). Staleness
is judged on the database's clock (`ivr.calllog.store`, "Two clocks"), so an app server whose clock is
off never sees a live 911 caller heard by another server as gone.

When the log cannot say who waits (database down, or writes still in the journal), the line
fails toward 911: it dials the 911 queue first, for `agent_poll_s`, then the 311 queue, and back.
Only ever <Dial><Queue>: never a number.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, url_for
from twilio.twiml.voice_response import Dial, VoiceResponse
from werkzeug.exceptions import InternalServerError

from ivr import context
from ivr.callflow import fields
from ivr.callflow.signature import check_signature
from ivr.callflow.twiml import say, twiml_response
from ivr.menu import QUEUE_311, QUEUE_911

log = logging.getLogger(__name__)

bp = Blueprint("agent", __name__, url_prefix="/agent")
bp.before_request(check_signature)

QUEUE_ORDER = (QUEUE_911, QUEUE_311)  # priority 1 first
DIAL_TIMEOUT_S = 20


def next_queue(waiting: dict[str, int]) -> str | None:
    """The queue an idle call-taker takes next: 911 before 311, None when nobody waits."""
    return next((q for q in QUEUE_ORDER if waiting.get(q, 0) > 0), None)


def blind_queue(tried: str, dial_status: str) -> str:
    """Without the log: 911 first; 311 only right after a 911 dial that found nobody."""
    return QUEUE_311 if tried == QUEUE_911 and dial_status != "completed" else QUEUE_911


def _dial(resp: VoiceResponse, queue: str, timeout_s: int, **action_args: Any) -> None:
    dial = Dial(action=url_for("agent.line", **action_args), method="POST", timeout=timeout_s)
    dial.queue(queue, url=url_for("voice.bridge"), method="POST")
    resp.append(dial)


@bp.post("")
def line() -> Response:
    menu = context.menu()
    recorder = context.recorder()
    stale_s = context.wait_stale_s()
    now = context.now()
    lang = menu.agent_language
    resp = VoiceResponse()
    waiting = recorder.read(lambda store: store.waiting_counts(now, stale_s), None)
    if waiting is None:
        tried = fields.choice("tried", QUEUE_ORDER, "")
        blind = blind_queue(tried, fields.text("DialCallStatus", 32))
        if not tried:
            say(resp, menu, lang, menu.agent_prompts["unknown_waiting"])
        log.info("agent line: call log unavailable, dialing the %s queue blind", blind)
        _dial(resp, blind, menu.agent_poll_s, tried=blind)
        return twiml_response(resp)
    queue = next_queue(waiting)
    if queue is None:
        say(resp, menu, lang, menu.agent_prompts["nobody_waiting"])
        resp.pause(length=menu.agent_poll_s)
        resp.redirect(url_for("agent.line"), method="POST")
        return twiml_response(resp)
    log.info("agent line: taking the %s queue", queue)
    key = "take_911" if queue == QUEUE_911 else "take_311"
    say(resp, menu, lang, menu.agent_prompts[key])
    _dial(resp, queue, DIAL_TIMEOUT_S)
    return twiml_response(resp)


@bp.errorhandler(InternalServerError)
def fallback(error: InternalServerError) -> Response:
    """A bug on the agent line still connects the call-taker: to the 911 queue."""
    log.exception("agent line failed", exc_info=error.original_exception)
    resp = VoiceResponse()
    _dial(resp, QUEUE_911, DIAL_TIMEOUT_S)
    return twiml_response(resp)
