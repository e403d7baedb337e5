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

Callbacks (virtual hold) are 311 work kept at the place their caller had in the 311 queue. When
no 911 caller waits and a callback is the oldest 311 work, the line claims it (one line only),
asks Twilio's REST API to call the caller back (`ivr.callflow.dialer`, time-bounded), and dials
the callback queue (`311cb`), where the callee holds once they pick up (`callback_answer`). The
REST call is never made while a 911 caller waits, and a callback that fails to be placed lets
the line go on to the 311 queue at once. The callee's leg has its own webhooks here (answer,
hold, bridge, result, status), signed like every webhook; its final status decides a retry
(`ivr.calllog.holdlog`).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, request, url_for
from twilio.twiml.voice_response import Dial, VoiceResponse
from werkzeug.exceptions import InternalServerError

from ivr import context
from ivr.callflow import dialer, fields
from ivr.callflow.callstate import lang_arg
from ivr.callflow.signature import check_signature
from ivr.callflow.twiml import say, twiml_response
from ivr.calllog.holdlog import CALLBACK_QUEUE
from ivr.menu import QUEUE_311, QUEUE_911

log = logging.getLogger(__name__)

bp = Blueprint("agent", __name__, url_prefix="/agent")
bp.before_request(check_signature)

QUEUE_ORDER = (QUEUE_911, QUEUE_311)  # priority 1 first
DIAL_TIMEOUT_S = 20
# the line that placed a callback waits this long for the callee: Twilio rings them for
# `dialer.RING_S`, then the greeting before they join the callback queue
CALLBACK_DIAL_TIMEOUT_S = dialer.RING_S + 30


def next_queue(waiting: dict[str, int]) -> str | None:
    """The queue an idle call-taker takes next: 911 before 311, None when nobody waits."""
    return next((q for q in QUEUE_ORDER if waiting.get(q, 0) > 0), None)


def blind_queue(tried: str, dial_status: str) -> str:
    """Without the log: 911 first; 311 only right after a 911 dial that found nobody."""
    return QUEUE_311 if tried == QUEUE_911 and dial_status != "completed" else QUEUE_911


def _dial(resp: VoiceResponse, queue: str, timeout_s: int, **action_args: Any) -> None:
    dial = Dial(action=url_for("agent.line", **action_args), method="POST", timeout=timeout_s)
    bridge = url_for("agent.callback_bridge") if queue == CALLBACK_QUEUE else url_for("voice.bridge")
    dial.queue(queue, url=bridge, method="POST")
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
    if queue != QUEUE_911 and _callback_turn(resp, now, stale_s):
        return twiml_response(resp)
    if queue is None:
        say(resp, menu, lang, menu.agent_prompts["nobody_waiting"])
        resp.pause(length=menu.agent_poll_s)
        resp.redirect(url_for("agent.line"), method="POST")
        recorder.write("record_agent_idle", agent_sid=fields.call_sid(), now=now)
        return twiml_response(resp)
    log.info("agent line: taking the %s queue", queue)
    key = "take_911" if queue == QUEUE_911 else "take_311"
    say(resp, menu, lang, menu.agent_prompts[key])
    _dial(resp, queue, DIAL_TIMEOUT_S)
    return twiml_response(resp)


def _callback_turn(resp: VoiceResponse, now: Any, stale_s: float) -> bool:
    """When no 911 caller waits: a callee holding in the callback queue is dialed, else the
    oldest 311 work, if it is a callback, is placed and its queue dialed. False when it is not
    a callback's turn, or the callback could not be placed (the line goes on as without it)."""
    call = dialer.current()
    if call is None or context.seal() is None:
        return False
    menu = context.menu()
    recorder = context.recorder()
    turn = recorder.read(lambda store: store.next_callback(now, stale_s, CALLBACK_DIAL_TIMEOUT_S), None)
    if turn is None:
        return False
    if turn.get("lost"):  # its status never came back: a failed attempt, retried or final
        _record_attempt(turn["call_sid"], turn["attempts"], "lost")
        return False
    if turn.get("dial"):
        say(resp, menu, menu.agent_language, menu.agent_prompts.get("take_callback", menu.agent_prompts["take_311"]))
        _dial(resp, CALLBACK_QUEUE, DIAL_TIMEOUT_S)
        return True
    sid, attempts = turn["call_sid"], turn["attempts"]
    if not recorder.read(lambda store: store.claim_callback(sid, attempts, now), False):
        return False  # another line took it, or the log did not answer
    attempt = attempts + 1
    if not _place(sid, attempt, turn["sealed"], turn["language"]):
        return False
    say(resp, menu, menu.agent_language, menu.agent_prompts.get("take_callback", menu.agent_prompts["take_311"]))
    _dial(resp, CALLBACK_QUEUE, CALLBACK_DIAL_TIMEOUT_S)
    return True


def _absolute(endpoint: str, **args: Any) -> str:
    """A URL of ours as Twilio must be given it for an outbound call: on the public base URL
    (what signatures are computed over), else the one this request came in on."""
    base = context.settings().public_base_url or request.url_root.rstrip("/")
    return base + url_for(endpoint, **args)


def _place(call_sid: str, attempt: int, sealed: str | None, language: str | None) -> bool:
    """Ask Twilio to call the caller of `call_sid` back (attempt `attempt`); whether it took
    the request. A failure is recorded as the attempt's outcome (retried later, or final)."""
    settings = context.settings()
    recorder = context.recorder()
    seal, call = context.seal(), dialer.current()
    number = seal.open(sealed) if seal is not None else None
    outcome = "unsealable"
    if number is not None and call is not None and settings.callback_from:
        lang = language if language in context.menu().languages else context.menu().default_language
        outbound = dialer.Outbound(
            to=number,
            from_=settings.callback_from,
            url=_absolute("agent.callback_answer", call=call_sid, k=attempt, lang=lang),
            status_callback=_absolute("agent.callback_status", call=call_sid, k=attempt),
        )
        placed = dialer.place_within(call, outbound, settings.rest_timeout_s)
        if placed is not None:
            log.info("callback for call %s placed (attempt %d): %s", call_sid, attempt, placed)
            recorder.write(
                "callback_placed", call_sid=call_sid, attempt=attempt, callback_sid=placed, now=context.now()
            )
            return True
        outcome = "rest-error"
    _record_attempt(call_sid, attempt, outcome)
    return False


def _record_attempt(call_sid: str, attempt: int, outcome: str) -> None:
    """A failed attempt's outcome: retried later while attempts remain, else final (a number
    that does not open is final at once: no retry could open it)."""
    settings = context.settings()
    max_attempts = settings.callback_retries + 1
    context.recorder().write(
        "record_callback_status",
        call_sid=call_sid,
        attempt=attempt,
        status=outcome,
        max_attempts=attempt if outcome == "unsealable" else max_attempts,
        retry_after_s=settings.callback_retry_after_s,
        now=context.now(),
    )


# -- the called-back caller's leg --------------------------------------------------------


def _callback_args() -> tuple[str, int]:
    """The original call and the attempt our own callback URLs name."""
    sid = fields.clean_text(request.args.get("call"), 64)
    return (sid if fields.CALL_SID.match(sid) else ""), fields.int_arg("k", 0, 0, 100)


@bp.post("/callback/answer")
def callback_answer() -> Response:
    """The callee picked up: greeted, then held in the callback queue for the agent who placed
    the call (or the next idle one)."""
    menu = context.menu()
    call_sid, attempt = _callback_args()
    lang = lang_arg()
    prompts = menu.languages[lang].prompts
    resp = VoiceResponse()
    say(resp, menu, lang, prompts.callback_greeting or prompts.connecting)
    resp.enqueue(
        CALLBACK_QUEUE,
        action=url_for("agent.callback_left", lang=lang),
        method="POST",
        wait_url=url_for("agent.callback_hold", call=call_sid, k=attempt),
        wait_url_method="POST",
    )
    return _holding(resp, call_sid, attempt)


def _holding(resp: VoiceResponse, call_sid: str, attempt: int) -> Response:
    """The callee holds for an agent: a heartbeat, as a caller's in a queue."""
    if call_sid:
        context.recorder().write("callback_connected", call_sid=call_sid, attempt=attempt, now=context.now())
    return twiml_response(resp)


@bp.post("/callback/hold")
def callback_hold() -> Response:
    """The callee's hold music: a pause, and a heartbeat (they still hold)."""
    menu = context.menu()
    call_sid, attempt = _callback_args()
    resp = VoiceResponse()
    resp.pause(length=menu.hold_pause_s)
    return _holding(resp, call_sid, attempt)


@bp.post("/callback/bridge")
def callback_bridge() -> Response:
    """<Queue url> of the callback queue: an agent takes the callee; the callback is done."""
    menu = context.menu()
    context.recorder().write("callback_answered", callback_sid=fields.call_sid(), now=context.now())
    resp = VoiceResponse()
    say(resp, menu, menu.default_language, menu.languages[menu.default_language].prompts.connecting)
    return twiml_response(resp)


@bp.post("/callback/left")
def callback_left() -> Response:
    """<Enqueue action> of the callee: the conversation is over, or they hung up."""
    menu = context.menu()
    lang = lang_arg()
    resp = VoiceResponse()
    if fields.text("QueueResult", 32) not in ("bridged", "hangup"):
        say(resp, menu, lang, menu.languages[lang].prompts.goodbye)
    resp.hangup()
    return twiml_response(resp)


@bp.post("/callback/status")
def callback_status() -> Response:
    """The status callback of an attempt (signed by Twilio): its final status decides a retry."""
    settings = context.settings()
    call_sid, attempt = _callback_args()
    status = fields.known("CallStatus", fields.text("CallStatus", 32).lower(), fields.CALL_STATUSES)
    if call_sid and attempt and status in ("completed", "busy", "no-answer", "failed", "canceled"):
        log.info("callback for call %s, attempt %d: %s", call_sid, attempt, status)
        context.recorder().write(
            "record_callback_status",
            call_sid=call_sid,
            attempt=attempt,
            status=status,
            max_attempts=settings.callback_retries + 1,
            retry_after_s=settings.callback_retry_after_s,
            now=context.now(),
        )
    return twiml_response(VoiceResponse())


@bp.errorhandler(InternalServerError)
def fallback(error: InternalServerError) -> Response:
    """A bug on the agent line still connects the call-taker: to the 911 queue. A bug on a
    called-back caller's leg never does that to them: they hold in the callback queue."""
    log.exception("agent line failed", exc_info=error.original_exception)
    resp = VoiceResponse()
    if request.endpoint == "agent.callback_answer":
        resp.enqueue(CALLBACK_QUEUE)
    elif (request.endpoint or "").startswith("agent.callback_"):
        pass  # hold music goes on, a status is dropped (Twilio only logs a failure)
    else:
        _dial(resp, QUEUE_911, DIAL_TIMEOUT_S)
    return twiml_response(resp)
