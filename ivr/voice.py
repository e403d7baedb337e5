"""The caller's side: greeting, main menu, services listing, confirmation, queues.

State travels in the query string of each Gather's action (language `lang`, step `n`, failed
attempts `a`, services `page`), so a handler's TwiML depends only on its URL and form: a retried
webhook gets the same answer, and the store ignores the repeated event (unique CallSid + step).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, Response, abort, current_app, request, url_for
from twilio.twiml.voice_response import VoiceResponse
from werkzeug.exceptions import InternalServerError

from ivr.menu import OPERATOR_CATEGORY, QUEUE_311, QUEUE_911, Category, Menu
from ivr.signature import check_signature
from ivr.store import CallStore, Enqueue, MenuEvent
from ivr.twiml import gather, say, twiml_response

log = logging.getLogger(__name__)

bp = Blueprint("voice", __name__, url_prefix="/voice")
bp.before_request(check_signature)

MAX_STEP = 1000  # a call that walks the menu this long is still answered, the counter just stops
REQUEUE_RESULTS = frozenset({"queue-full", "error", "system-error"})


def _menu() -> Menu:
    menu: Menu = current_app.extensions["ivr311.menu"]
    return menu


def _store() -> CallStore:
    store: CallStore = current_app.extensions["ivr311.store"]
    return store


def _now() -> datetime:
    """The app's clock (UTC); `ivr311 callers` replaces it to log calls at simulated times."""
    clock: Callable[[], datetime] = current_app.extensions["ivr311.clock"]
    return clock()


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    try:
        value = int(request.args.get(name, default))
    except ValueError:
        return default
    return min(max(value, low), high)


def _lang() -> str:
    menu = _menu()
    lang = request.args.get("lang", "")
    return lang if lang in menu.languages else menu.default_language


def _call_sid() -> str:
    call_sid = request.form.get("CallSid", "").strip()
    if not call_sid or len(call_sid) > 64:
        abort(400)
    return call_sid


@dataclass(frozen=True)
class CallerInput:
    digits: str
    speech: str
    confidence: float | None  # None when Twilio sent none (it may be missing)

    @classmethod
    def from_form(cls) -> CallerInput:
        raw = request.form.get("Confidence", "").strip()
        try:
            confidence: float | None = float(raw) if raw else None
        except ValueError:
            confidence = None
        return cls(
            digits=request.form.get("Digits", "").strip()[:16],
            speech=request.form.get("SpeechResult", "").strip(),
            confidence=confidence,
        )

    @property
    def empty(self) -> bool:
        return not self.digits and not self.speech


# -- rendering ---------------------------------------------------------------------------


def render_main(resp: VoiceResponse, lang: str, step: int, attempts: int) -> None:
    menu = _menu()
    prompts = menu.languages[lang].prompts
    gather(
        resp, menu, lang,
        action=url_for("voice.menu", lang=lang, n=step, a=attempts),
        hints=menu.hints(lang),
        prompt=[prompts.main_menu],
    )


def render_services(resp: VoiceResponse, lang: str, step: int, attempts: int, page: int) -> None:
    menu = _menu()
    prompts = menu.languages[lang].prompts
    lines = [prompts.services_intro] if page == 1 else []
    for position, cat in enumerate(menu.page(page), start=1):
        lines.append(prompts.service_item.format(label=cat.label[lang], key=position))
    if menu.page_count > 1:
        more = prompts.more_services if page < menu.page_count else prompts.first_page
        lines.append(more.format(key=9))
    lines.append(prompts.services_footer)
    gather(
        resp, menu, lang,
        action=url_for("voice.services", lang=lang, n=step, a=attempts, page=page),
        hints=menu.hints(lang),
        prompt=[" ".join(lines)],
    )


def render_confirm(resp: VoiceResponse, lang: str, step: int, attempts: int, cat: Category) -> None:
    menu = _menu()
    prompts = menu.languages[lang].prompts
    gather(
        resp, menu, lang,
        action=url_for("voice.confirm", lang=lang, n=step, a=attempts, cat=cat.code),
        hints=menu.yes_no_hints(lang),
        prompt=[prompts.confirm.format(label=cat.label[lang])],
    )


class Reply(VoiceResponse):
    """The TwiML of one webhook plus the queue it puts the caller in (recorded with the step)."""

    def __init__(self) -> None:
        super().__init__()
        self.queued: Enqueue | None = None


def render_enqueue(
    resp: Reply, call_sid: str, lang: str, queue: str, category: str | None,
    announcement: str, *, requeue: bool = False,
) -> None:
    menu = _menu()
    resp.queued = Enqueue(queue, category, requeue)
    log.info("call %s enqueued in %s (category %s, %s)", call_sid, queue, category, lang)
    say(resp, menu, lang, announcement)
    resp.enqueue(
        queue,
        action=url_for("voice.queue_result", lang=lang, queue=queue),
        method="POST",
        wait_url=url_for("voice.wait", lang=lang, queue=queue),
        wait_url_method="POST",
    )


def _to_911(resp: Reply, call_sid: str, lang: str) -> None:
    prompts = _menu().languages[lang].prompts
    render_enqueue(resp, call_sid, lang, QUEUE_911, None, prompts.to_911)


def _to_operator(resp: Reply, call_sid: str, lang: str, announcement: str) -> None:
    render_enqueue(resp, call_sid, lang, QUEUE_311, OPERATOR_CATEGORY, announcement)


def _to_category(resp: Reply, call_sid: str, lang: str, cat: Category) -> None:
    prompts = _menu().languages[lang].prompts
    render_enqueue(
        resp, call_sid, lang, QUEUE_311, cat.code, prompts.to_311.format(label=cat.label[lang])
    )


Render = Callable[[VoiceResponse, str, int, int], None]


def _invalid(
    resp: Reply, call_sid: str, lang: str, step: int, attempts: int,
    render_again: Render,
) -> int:
    """One more failed attempt: re-prompt, or after `max_reprompts` re-prompts, the operator."""
    menu = _menu()
    prompts = menu.languages[lang].prompts
    attempts += 1
    if attempts > menu.max_reprompts:
        _to_operator(resp, call_sid, lang, prompts.too_many_attempts)
    else:
        say(resp, menu, lang, prompts.invalid)
        render_again(resp, lang, step + 1, attempts)
    return attempts


def _record(
    resp: Reply, call_sid: str, step: int, screen: str, lang: str, inp: CallerInput,
    outcome: str, category: str | None = None,
) -> None:
    _store().record_step(
        MenuEvent(
            call_sid=call_sid, step=step, screen=screen, language=lang, outcome=outcome,
            digits=inp.digits or None, category=category, confidence=inp.confidence,
        ),
        resp.queued,
        now=_now(),
    )


def _speech_choice(
    resp: Reply, call_sid: str, lang: str, step: int, attempts: int, cat: Category,
    confidence: float | None,
) -> str:
    """A category named by speech: straight to the queue if confident, else confirm first."""
    menu = _menu()
    if confidence is not None and confidence >= menu.confidence_threshold:
        _to_category(resp, call_sid, lang, cat)
        return "category"
    render_confirm(resp, lang, step + 1, attempts, cat)
    return "confirm"


# -- webhooks ----------------------------------------------------------------------------


@bp.post("")
def incoming() -> Response:
    """A new call: greeting and main menu. A retried webhook gets the same TwiML."""
    menu = _menu()
    store = _store()
    call_sid = _call_sid()
    lang = menu.default_language
    caller_hash = store.caller_hash(request.form.get("From"))
    store.start_call(call_sid, caller_hash, lang, _now())
    log.info("call %s started (caller %s)", call_sid, caller_hash)
    resp = VoiceResponse()
    say(resp, menu, lang, menu.languages[lang].prompts.greeting)
    render_main(resp, lang, 1, 0)
    return twiml_response(resp)


@bp.post("/menu")
def menu() -> Response:
    menu = _menu()
    call_sid = _call_sid()
    lang = _lang()
    step = _int_arg("n", 1, 1, MAX_STEP)
    attempts = _int_arg("a", 0, 0, 100)
    inp = CallerInput.from_form()
    resp = Reply()
    category: str | None = None
    words = inp.speech

    if inp.digits == "1" or (words and menu.says_emergency(lang, words)):
        outcome = "911"
        _to_911(resp, call_sid, lang)
    elif inp.digits == "2":
        outcome = "services"
        render_services(resp, lang, step + 1, attempts, 1)
    elif inp.digits == "0" or (words and menu.says(lang, words, "operator")):
        outcome = "operator"
        _to_operator(resp, call_sid, lang, menu.languages[lang].prompts.to_operator)
    elif inp.digits == "*":
        outcome = "repeat"
        render_main(resp, lang, step + 1, attempts)
    elif inp.digits == "9" and len(menu.languages) > 1:
        outcome = "language"
        other = menu.other_language(lang)
        render_main(resp, other, step + 1, attempts)
    elif words and not inp.digits and (cat := menu.match_category(lang, words)) is not None:
        category = cat.code
        outcome = _speech_choice(resp, call_sid, lang, step, attempts, cat, inp.confidence)
    else:
        outcome = "silence" if inp.empty else "invalid"
        _invalid(resp, call_sid, lang, step, attempts, render_main)
    _record(resp, call_sid, step, "main", lang, inp, outcome, category)
    return twiml_response(resp)


@bp.post("/services")
def services() -> Response:
    menu = _menu()
    call_sid = _call_sid()
    lang = _lang()
    step = _int_arg("n", 1, 1, MAX_STEP)
    attempts = _int_arg("a", 0, 0, 100)
    page = _int_arg("page", 1, 1, menu.page_count)
    inp = CallerInput.from_form()
    resp = Reply()
    category: str | None = None
    words = inp.speech
    on_page = menu.page(page)
    paged = menu.page_count > 1

    def again(r: VoiceResponse, lang_: str, step_: int, attempts_: int) -> None:
        render_services(r, lang_, step_, attempts_, page)

    if inp.digits == "9" and paged:
        outcome = "more"
        render_services(resp, lang, step + 1, attempts, page % menu.page_count + 1)
    elif inp.digits.isdigit() and len(inp.digits) == 1 and 1 <= int(inp.digits) <= len(on_page):
        chosen = on_page[int(inp.digits) - 1]
        category = chosen.code
        outcome = "category"
        _to_category(resp, call_sid, lang, chosen)
    elif inp.digits == "0" or (words and menu.says(lang, words, "operator")):
        outcome = "operator"
        _to_operator(resp, call_sid, lang, menu.languages[lang].prompts.to_operator)
    elif inp.digits == "*":
        outcome = "repeat"
        render_services(resp, lang, step + 1, attempts, page)
    elif words and menu.says_emergency(lang, words):
        outcome = "911"
        _to_911(resp, call_sid, lang)
    elif words and not inp.digits and (cat := menu.match_category(lang, words)) is not None:
        category = cat.code
        outcome = _speech_choice(resp, call_sid, lang, step, attempts, cat, inp.confidence)
    else:
        outcome = "silence" if inp.empty else "invalid"
        _invalid(resp, call_sid, lang, step, attempts, again)
    _record(resp, call_sid, step, "services", lang, inp, outcome, category)
    return twiml_response(resp)


@bp.post("/confirm")
def confirm() -> Response:
    menu = _menu()
    call_sid = _call_sid()
    lang = _lang()
    step = _int_arg("n", 1, 1, MAX_STEP)
    attempts = _int_arg("a", 0, 0, 100)
    code = request.args.get("cat", "")
    cat = next((c for c in menu.listed if c.code == code), None)
    inp = CallerInput.from_form()
    resp = Reply()
    words = inp.speech
    if cat is None:  # a tampered or stale URL: start the main menu over
        outcome = "invalid"
        render_main(resp, lang, step + 1, attempts)
    elif inp.digits == "2" or (words and not inp.digits and menu.says(lang, words, "no")):
        outcome = "no"
        render_main(resp, lang, step + 1, attempts)
    elif inp.digits == "1" or (words and not inp.digits and menu.says(lang, words, "yes")):
        outcome = "category"
        _to_category(resp, call_sid, lang, cat)
    elif words and menu.says_emergency(lang, words):
        outcome = "911"
        _to_911(resp, call_sid, lang)
    else:
        outcome = "silence" if inp.empty else "invalid"
        confirmed = cat

        def again(r: VoiceResponse, lang_: str, step_: int, attempts_: int) -> None:
            render_confirm(r, lang_, step_, attempts_, confirmed)

        _invalid(resp, call_sid, lang, step, attempts, again)
    _record(resp, call_sid, step, "confirm", lang, inp, outcome, cat.code if cat else None)
    return twiml_response(resp)


@bp.post("/wait")
def wait() -> Response:
    """Enqueue waitUrl: announce the position, then hold; Twilio requests it again after."""
    menu = _menu()
    lang = _lang()
    queue = request.args.get("queue", QUEUE_311)
    prompts = menu.languages[lang].prompts
    resp = VoiceResponse()
    if queue == QUEUE_911:
        say(resp, menu, lang, prompts.wait_911)
    else:
        position = _int_form("QueuePosition")
        if position is not None and position > 0:
            say(resp, menu, lang, prompts.wait_311.format(position=position))
    resp.pause(length=menu.hold_pause_s)
    return twiml_response(resp)


@bp.post("/bridge")
def bridge() -> Response:
    """<Queue url>: runs on the caller's side just before an agent is connected."""
    menu = _menu()
    store = _store()
    call_sid = _call_sid()
    known = store.mark_answered(call_sid, _int_form("QueueTime"), _now())
    lang = known if known in menu.languages else menu.default_language
    log.info("call %s answered by an agent", call_sid)
    resp = VoiceResponse()
    say(resp, menu, lang, menu.languages[lang].prompts.connecting)
    return twiml_response(resp)


@bp.post("/queue-result")
def queue_result() -> Response:
    """<Enqueue action>: the caller left the queue; record QueueResult and QueueTime."""
    menu = _menu()
    call_sid = _call_sid()
    lang = _lang()
    queue = request.args.get("queue", QUEUE_311)
    result = request.form.get("QueueResult", "").strip()[:32] or "unknown"
    queue_time_s = _int_form("QueueTime")
    prompts = menu.languages[lang].prompts
    resp = Reply()
    if result in REQUEUE_RESULTS and queue == QUEUE_911:
        # never drop an emergency caller: hold a moment and queue again
        resp.pause(length=2)
        render_enqueue(resp, call_sid, lang, QUEUE_911, None, prompts.wait_911, requeue=True)
        _store().mark_enqueued(call_sid, QUEUE_911, None, lang, _now(), requeue=True)
        return twiml_response(resp)
    _store().record_queue_result(call_sid, result, queue_time_s, _now())
    log.info("call %s left queue %s: %s after %ss", call_sid, queue, result, queue_time_s)
    if result in REQUEUE_RESULTS:
        say(resp, menu, lang, prompts.queue_full)
    elif result == "leave":
        say(resp, menu, lang, prompts.goodbye)
    resp.hangup()
    return twiml_response(resp)


@bp.errorhandler(InternalServerError)
def fallback(error: InternalServerError) -> Response:
    """A bug or a database outage must not drop the caller: apologise and queue them for an
    operator (no write needed), or end a finished call politely."""
    log.exception("voice webhook %s failed", request.path, exc_info=error.original_exception)
    menu = _menu()
    lang = _lang()
    resp = VoiceResponse()
    if request.endpoint == "voice.queue_result":
        resp.hangup()
    elif request.endpoint == "voice.bridge":
        say(resp, menu, lang, menu.languages[lang].prompts.connecting)
    else:
        say(resp, menu, lang, menu.languages[lang].prompts.too_many_attempts)
        queue = request.args.get("queue") if request.endpoint == "voice.wait" else None
        if queue == QUEUE_911:
            resp.pause(length=menu.hold_pause_s)
        else:
            resp.enqueue(
                QUEUE_311,
                action=url_for("voice.queue_result", lang=lang, queue=QUEUE_311),
                method="POST",
                wait_url=url_for("voice.wait", lang=lang, queue=QUEUE_311),
                wait_url_method="POST",
            )
    return twiml_response(resp)


def _int_form(name: str) -> int | None:
    raw = request.form.get(name, "").strip()
    try:
        return int(float(raw)) if raw else None
    except ValueError:
        return None
