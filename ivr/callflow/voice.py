"""The caller's side: greeting, main menu, services listing, confirmation, queues.

Every answer is decided from the request and the menu alone; the call log is written afterwards
through `ivr.calllog.recorder`, which never raises and never keeps a caller waiting more than its budget.
Form fields are read with `ivr.callflow.fields` (strict and total: a malformed field is absent). Every
failure degrades toward the 911 queue: a 911 caller is never hung up by the app, and a bug in a
menu step queues the caller for 911 rather than dropping them.

State travels in the query string of each Gather's action (language `lang`, step `n`, failed
attempts `a`, services `page`; read by `ivr.callflow.callstate`), so a handler's TwiML depends only
on its URL and form: a retried webhook gets the same answer, and the store ignores the repeated
event (unique CallSid + step). What each screen says is rendered by `ivr.callflow.screens`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from flask import Blueprint, Response, current_app, request
from twilio.twiml.voice_response import VoiceResponse
from werkzeug.exceptions import InternalServerError

from ivr import context
from ivr.callflow import fields
from ivr.callflow.callstate import MAX_SAID, CallerInput, MenuStep, category_arg, lang_arg, queue_arg, said_arg
from ivr.callflow.screens import (
    Render,
    Reply,
    render_address,
    render_ask_request_number,
    render_confirm,
    render_confirm_address,
    render_enqueue,
    render_hold_311,
    render_main,
    render_services,
    say_status,
)
from ivr.callflow.signature import check_signature
from ivr.callflow.twiml import say, twiml_response
from ivr.callflow.waitestimate import (
    SNAPSHOT_TTL_S,
    HoldSnapshot,
    announced_minutes,
    expected_wait_s,
    for_caller,
    offers_callback,
)
from ivr.calllog import requestnumbers
from ivr.calllog.servicerequests import RequestStore
from ivr.calllog.store import CallStore, MenuEvent
from ivr.menu import OPERATOR_CATEGORY, QUEUE_311, QUEUE_911, Category, Prompts

log = logging.getLogger(__name__)

bp = Blueprint("voice", __name__, url_prefix="/voice")
bp.before_request(check_signature)

# Queue results after which the caller is no longer ours to route (gone, or talked to an agent).
DONE_RESULTS = frozenset({"bridged", "hangup", "leave", "redirected", "redirected-from-bridged"})
MAX_311_REQUEUES = 3  # a 311 caller bounced by a full queue is queued again this often, then told
HOLD_BEFORE_REQUEUE_S = 2


def _to_911(resp: Reply, call_sid: str, lang: str) -> None:
    prompts = context.menu().languages[lang].prompts
    render_enqueue(resp, call_sid, lang, QUEUE_911, None, prompts.to_911)


def _to_operator(resp: Reply, call_sid: str, lang: str, announcement: str) -> None:
    render_enqueue(resp, call_sid, lang, QUEUE_311, OPERATOR_CATEGORY, announcement)


def _open_request(resp: Reply, call_sid: str, lang: str, cat: Category, said: str = "", address: str = "") -> None:
    """The call's service request, written after the step like the rest of the log (it is
    journaled when the database cannot take it; the number does not depend on it)."""
    resp.request = {
        "call_sid": call_sid,
        "service_code": cat.code,
        "language": lang,
        "description": said or None,
        "address": address or None,
    }


def _to_category(
    resp: Reply,
    call_sid: str,
    lang: str,
    cat: Category,
    said: str = "",
    *,
    step: int = 0,
    address: str = "",
) -> None:
    """A category is chosen: its request is opened, then the caller is asked for the street
    address (services that need one, unless given) or hears the request number and is queued."""
    _open_request(resp, call_sid, lang, cat, said, address)
    if cat.address and not address and step:
        render_address(resp, lang, step + 1, 0, cat, said)
        return
    prompts = context.menu().languages[lang].prompts
    number = requestnumbers.spoken(requestnumbers.for_call(call_sid))
    render_enqueue(
        resp,
        call_sid,
        lang,
        QUEUE_311,
        cat.code,
        prompts.to_311.format(label=cat.label[lang]),
        then=prompts.request_number.format(number=number),
    )


def _record(
    resp: Reply,
    call_sid: str,
    step: int,
    screen: str,
    lang: str,
    inp: CallerInput,
    outcome: str,
    category: str | None = None,
) -> None:
    event = MenuEvent(
        call_sid=call_sid,
        step=step,
        screen=screen,
        language=lang,
        outcome=outcome,
        digits=inp.digits or None,
        category=category,
        confidence=inp.confidence,
    )
    recorder = context.recorder()
    recorder.write(
        "record_step", ev=asdict(event), enqueue=asdict(resp.queued) if resp.queued else None, now=context.now()
    )
    if resp.request is not None:
        recorder.write("open_call_request", **resp.request, now=context.now())


def _speech_choice(
    resp: Reply,
    call_sid: str,
    lang: str,
    step: int,
    attempts: int,
    cat: Category,
    confidence: float | None,
    said: str,
) -> str:
    """A category named by speech: straight on if confident, else confirm first. What the
    caller said becomes the request's description."""
    menu = context.menu()
    said = said[:MAX_SAID]
    if confidence is not None and confidence >= menu.confidence_threshold:
        _to_category(resp, call_sid, lang, cat, said, step=step)
        return "category"
    render_confirm(resp, lang, step + 1, attempts, cat, said)
    return "confirm"


# -- webhooks ----------------------------------------------------------------------------


@bp.post("")
def incoming() -> Response:
    """A new call: greeting and main menu. A retried webhook gets the same TwiML."""
    menu = context.menu()
    call_sid = fields.call_sid()
    lang = menu.default_language
    resp = VoiceResponse()
    say(resp, menu, lang, menu.languages[lang].prompts.greeting)
    render_main(resp, lang, 1, 0)
    hasher = context.hasher()
    caller_hash = hasher.hash(fields.text("From", 64))
    context.recorder().write("start_call", call_sid=call_sid, caller_hash=caller_hash, language=lang, now=context.now())
    log.info("call %s started (caller %s)", call_sid, caller_hash)
    return twiml_response(resp)


# A screen's own choices, or its give-up: the outcome it handled, or None.
ScreenChoice = Callable[[MenuStep], str | None]


def _to_operator_after_attempts(st: MenuStep) -> str | None:
    """The give-up of most screens: the operator (the outcome stays the failed input's)."""
    _to_operator(st.resp, st.call_sid, st.lang, context.menu().languages[st.lang].prompts.too_many_attempts)
    return None


def _sorry(prompts: Prompts) -> str:
    return prompts.invalid


def _emergency_to_911(st: MenuStep) -> None:
    _to_911(st.resp, st.call_sid, st.lang)


def _record_menu_step(st: MenuStep, outcome: str) -> None:
    _record(st.resp, st.call_sid, st.step, st.screen, st.lang, st.inp, outcome, st.category)


@dataclass(frozen=True)
class Screen:
    """What one screen that takes caller input brings to the menu step (`_answer_menu_step`):
    its name in the log, its own choices, its question again, and what it does after the last
    re-prompt. The order in which choices are tried is the step's, the same on every screen."""

    name: str
    choose: ScreenChoice
    ask_again: Render
    shared: bool = False  # 0 or "operator", * to repeat, a service by voice (main menu, listings)
    category: Category | None = None  # what the screen asks about (logged with the step)
    sorry: Callable[[Prompts], str] = _sorry  # said before asking again after input not taken
    give_up: ScreenChoice = _to_operator_after_attempts
    # where an emergency goes: the 911 queue, or from the hold (where no <Enqueue> can be
    # given) out of the 311 queue, which `queue_result` turns into the 911 queue
    to_911: Callable[[MenuStep], None] = _emergency_to_911
    record: Callable[[MenuStep, str], None] = _record_menu_step


def _answer_menu_step(screen: Screen) -> Response:
    """The one step of every screen that takes caller input, in this order: an emergency said
    wins (whatever else was said or pressed with it), then the screen's own choices, then the
    ones the listings share, then a re-prompt, and after `max_reprompts` of them the screen's
    give-up."""
    menu = context.menu()
    st = MenuStep.from_request()
    st.category = screen.category.code if screen.category else None
    st.screen = screen.name
    if _keys_911(st.inp) or (st.inp.speech and menu.says_emergency(st.lang, st.inp.speech)):
        outcome = "911"
        screen.to_911(st)
    else:
        chosen = screen.choose(st)
        if chosen is None and screen.shared:
            chosen = _shared_choice(st, screen.ask_again)
        outcome = chosen if chosen is not None else _not_taken(st, screen)
    screen.record(st, outcome)
    return twiml_response(st.resp)


def _keys_911(inp: CallerInput) -> bool:
    """9-1-1 typed where a screen takes several keys (the request number): a caller who types
    the emergency number means it, whatever the screen asked for."""
    return inp.digits.rstrip("#") == "911"


def _shared_choice(st: MenuStep, render_again: Render) -> str | None:
    """0 or "operator", * to repeat, a category named by voice."""
    menu = context.menu()
    words, lang = st.inp.speech, st.lang
    if st.inp.digits == "0" or (words and menu.says(lang, words, "operator")):
        _to_operator(st.resp, st.call_sid, lang, menu.languages[lang].prompts.to_operator)
        return "operator"
    if st.inp.digits == "*":
        render_again(st.resp, lang, st.step + 1, st.attempts)
        return "repeat"
    if words and not st.inp.digits and (cat := menu.match_category(lang, words)) is not None:
        st.category = cat.code
        return _speech_choice(st.resp, st.call_sid, lang, st.step, st.attempts, cat, st.inp.confidence, words)
    return None


def _not_taken(st: MenuStep, screen: Screen) -> str:
    """Silence, or input the screen does not take: one more failed attempt."""
    prompts = context.menu().languages[st.lang].prompts
    sorry = prompts.invalid if st.inp.empty else screen.sorry(prompts)
    gave_up = _another_attempt(st, screen.ask_again, screen.give_up, sorry)
    return gave_up or ("silence" if st.inp.empty else "invalid")


def _another_attempt(st: MenuStep, ask_again: Render, give_up: ScreenChoice, sorry: str | None = None) -> str | None:
    """One more failed attempt: `sorry` and the question again, or after `max_reprompts`
    re-prompts, the screen's give-up (and its outcome, if it names one)."""
    menu = context.menu()
    attempts = st.attempts + 1
    if attempts > menu.max_reprompts:
        return give_up(st)
    if sorry:
        say(st.resp, menu, st.lang, sorry)
    ask_again(st.resp, st.lang, st.step + 1, attempts)
    return None


def _answers(st: MenuStep, key: str, meaning: str) -> bool:
    """The key pressed, or one of the `meaning` words ("yes", "no") said without keys."""
    words = st.inp.speech
    return st.inp.digits == key or bool(words and not st.inp.digits and context.menu().says(st.lang, words, meaning))


def _start_over(name: str) -> Screen:
    """A screen whose URL lost what it asks about (tampered or stale): the main menu again."""

    def main_menu(st: MenuStep) -> str:
        render_main(st.resp, st.lang, st.step + 1, st.attempts)
        return "invalid"

    return Screen(name, main_menu, render_main)


@bp.post("/menu")
def menu() -> Response:
    """Main menu: 1 emergency, 2 services, 3 a request's status, 9 the other language
    (0, *, words: shared)."""
    menu = context.menu()

    def main_keys(st: MenuStep) -> str | None:
        if st.inp.digits == "1":
            _to_911(st.resp, st.call_sid, st.lang)
            return "911"
        if st.inp.digits == "2":
            render_services(st.resp, st.lang, st.step + 1, st.attempts, 1)
            return "services"
        if st.inp.digits == "3":
            render_ask_request_number(st.resp, st.lang, st.step + 1, st.attempts)
            return "status"
        if st.inp.digits == "9" and len(menu.languages) > 1:
            render_main(st.resp, menu.other_language(st.lang), st.step + 1, st.attempts)
            return "language"
        return None

    return _answer_menu_step(Screen("main", main_keys, render_main, shared=True))


@bp.post("/services")
def services() -> Response:
    """Services listing: a key picks the service at that position, 9 the next page."""
    menu = context.menu()
    page = fields.int_arg("page", 1, 1, menu.page_count)
    on_page = menu.page(page)

    def listing_keys(st: MenuStep) -> str | None:
        keys = st.inp.digits
        if keys == "9" and menu.page_count > 1:
            render_services(st.resp, st.lang, st.step + 1, st.attempts, page % menu.page_count + 1)
            return "more"
        if len(keys) == 1 and keys.isdigit() and 1 <= int(keys) <= len(on_page):
            chosen = on_page[int(keys) - 1]
            st.category = chosen.code
            _to_category(st.resp, st.call_sid, st.lang, chosen, step=st.step)
            return "category"
        return None

    def again(r: VoiceResponse, lang_: str, step_: int, attempts_: int) -> None:
        render_services(r, lang_, step_, attempts_, page)

    return _answer_menu_step(Screen("services", listing_keys, again, shared=True))


@bp.post("/confirm")
def confirm() -> Response:
    """A service named by speech with low confidence: yes goes on to it, no back to the main
    menu."""
    cat, said = category_arg(), said_arg()
    if cat is None:
        return _answer_menu_step(_start_over("confirm"))

    def yes_or_no(st: MenuStep) -> str | None:
        if _answers(st, "2", "no"):
            render_main(st.resp, st.lang, st.step + 1, st.attempts)
            return "no"
        if _answers(st, "1", "yes"):
            _to_category(st.resp, st.call_sid, st.lang, cat, said, step=st.step)
            return "category"
        return None

    def again(r: VoiceResponse, lang_: str, step_: int, attempts_: int) -> None:
        render_confirm(r, lang_, step_, attempts_, cat, said)

    return _answer_menu_step(Screen("confirm", yes_or_no, again, category=cat))


def _queue_without_address(cat: Category, said: str) -> ScreenChoice:
    """The give-up of the address screens: no usable address after the re-prompts, the caller
    is queued anyway (a representative takes it); the request stays open without one."""

    def give_up(st: MenuStep) -> str:
        say(st.resp, context.menu(), st.lang, context.menu().languages[st.lang].prompts.no_address)
        _to_category(st.resp, st.call_sid, st.lang, cat, said)
        return "no_address"

    return give_up


@bp.post("/address")
def address() -> Response:
    """The street address, by speech, for a service that needs a location: confirmed next.
    Keys or silence re-prompt; after the re-prompts the caller is queued without it."""
    cat, said = category_arg(), said_arg()
    if cat is None:
        return _answer_menu_step(_start_over("address"))

    def heard(st: MenuStep) -> str | None:
        if st.inp.speech and not st.inp.digits:
            render_confirm_address(st.resp, st.lang, st.step + 1, st.attempts, cat, st.inp.speech[:MAX_SAID], said)
            return "address"
        return None

    def again(r: VoiceResponse, lang_: str, step_: int, attempts_: int) -> None:
        render_address(r, lang_, step_, attempts_, cat, said)

    return _answer_menu_step(Screen("address", heard, again, category=cat, give_up=_queue_without_address(cat, said)))


@bp.post("/address-confirm")
def address_confirm() -> Response:
    """Yes: the request gets the address, the caller hears its number and is queued. No: the
    address is asked again (re-prompts, then queued without it)."""
    cat, said = category_arg(), said_arg()
    heard = fields.clean_text(request.args.get("addr"), MAX_SAID)
    if cat is None or not heard:
        return _answer_menu_step(_start_over("address_confirm"))
    give_up = _queue_without_address(cat, said)

    def ask_address(r: VoiceResponse, lang_: str, step_: int, attempts_: int) -> None:
        render_address(r, lang_, step_, attempts_, cat, said)

    def yes_or_no(st: MenuStep) -> str | None:
        if _answers(st, "1", "yes"):
            _to_category(st.resp, st.call_sid, st.lang, cat, said, address=heard)
            return "category"
        if _answers(st, "2", "no"):
            return _another_attempt(st, ask_address, give_up) or "no"
        return None

    def again(r: VoiceResponse, lang_: str, step_: int, attempts_: int) -> None:
        render_confirm_address(r, lang_, step_, attempts_, cat, heard, said)

    return _answer_menu_step(Screen("address_confirm", yes_or_no, again, category=cat, give_up=give_up))


_UNAVAILABLE: dict[str, Any] | None = {}  # a read the database could not answer in time


def _typed_number(inp: CallerInput) -> str:
    """Keys (a trailing # dropped), or digits said one by one ("4 1 7 2 ...")."""
    if inp.digits:
        return inp.digits.rstrip("#")
    spoken = re.sub(r"[\s,.-]", "", inp.speech)
    return spoken if spoken.isascii() and spoken.isdigit() else ""


def _sorry_number(prompts: Prompts) -> str:
    return prompts.request_number_invalid


@bp.post("/request-status")
def request_status() -> Response:
    """A request's status read back (and its notes), then the main menu again. A number that
    fails its check digit is refused before any lookup; a lookup the database cannot answer
    within the budget says so, and the caller is back at the main menu."""

    def look_up(st: MenuStep) -> str | None:
        number = _typed_number(st.inp)
        if not requestnumbers.is_valid(number):
            return None
        menu = context.menu()
        prompts = menu.languages[st.lang].prompts
        found = context.recorder().read(lambda store: _lookup(store, number), _UNAVAILABLE)
        spoken = requestnumbers.spoken(number)
        if found is _UNAVAILABLE:
            outcome = "unavailable"
            say(st.resp, menu, st.lang, prompts.lookup_unavailable)
        elif found is None:
            outcome = "not_found"
            say(st.resp, menu, st.lang, prompts.request_not_found.format(number=spoken))
        else:
            outcome = "found"
            say_status(st.resp, st.lang, spoken, found)
        render_main(st.resp, st.lang, st.step + 1, st.attempts)
        return outcome

    return _answer_menu_step(Screen("status", look_up, render_ask_request_number, sorry=_sorry_number))


def _lookup(store: CallStore, number: str) -> dict[str, Any] | None:
    return cast(RequestStore, store).requests.get(number)


@bp.post("/wait")
def wait() -> Response:
    """Enqueue waitUrl: announce, then hold; Twilio requests it again after each loop, which
    the log keeps as the caller's heartbeat (a caller not heard from stops counting as waiting)."""
    menu = context.menu()
    call_sid = fields.call_sid()
    lang = lang_arg()
    queue = queue_arg()
    prompts = menu.languages[lang].prompts
    resp = VoiceResponse()
    announced_s: int | None = None
    if queue == QUEUE_911:  # a 911 caller hears no wait and is offered nothing: nothing is read
        say(resp, menu, lang, prompts.wait_911)
    else:
        position = fields.int_field("QueuePosition", 1, 100_000)
        if position is not None:
            say(resp, menu, lang, prompts.wait_311.format(position=position))
        announced_s = _hold_311(resp, call_sid, lang)
    resp.pause(length=menu.hold_pause_s)
    context.recorder().write(
        "record_heartbeat",
        call_sid=call_sid,
        queue=queue,
        queue_time_s=fields.int_field("QueueTime"),
        now=context.now(),
        announced_wait_s=announced_s,
    )
    return twiml_response(resp)


def _hold_311(resp: VoiceResponse, call_sid: str, lang: str) -> int | None:
    """The expected wait and, past `IVR311_CALLBACK_OFFER_AFTER`, the callback offer
    (`ivr.callflow.waitestimate`), from the centre's live state and the caller's place. When
    the log cannot say (down, locked, writes still in the journal), neither: the caller holds
    as before. Returns the expected wait announced, in seconds, for the log."""
    settings = context.settings()
    now = context.now()
    snapshot = _hold_snapshot(now)
    if snapshot is None:
        return None
    queue_time_s = fields.int_field("QueueTime") or 0
    joined = now - timedelta(seconds=queue_time_s)
    wait_s = expected_wait_s(for_caller(snapshot, fields.int_field("QueuePosition", 1, 100_000), joined))
    minutes = announced_minutes(wait_s)
    offer = (
        settings.callbacks_enabled
        and context.seal() is not None
        and bool(fields.text("From", 64))
        and offers_callback(wait_s, settings.callback_offer_after_s)
    )
    render_hold_311(resp, lang, minutes, offer)
    return None if minutes is None or wait_s is None else round(wait_s)


_SNAPSHOT = "ivr311.hold_snapshot"  # (when it was read on the app's clock, HoldSnapshot)


def _hold_snapshot(now: datetime) -> HoldSnapshot | None:
    """The centre's live state, read from the log within the store budget at most every
    `SNAPSHOT_TTL_S` per process (every 311 caller on hold shares it, so many callers cost the
    store thread one read every few seconds); None while the log is behind or does not answer."""
    recorder = context.recorder()
    if recorder.behind():
        current_app.extensions.pop(_SNAPSHOT, None)
        return None
    cached = current_app.extensions.get(_SNAPSHOT)
    if cached is not None and abs((now - cached[0]).total_seconds()) < SNAPSHOT_TTL_S:
        return cast(HoldSnapshot, cached[1])
    stale_s = context.wait_stale_s()
    found = recorder.read(lambda store: store.hold_snapshot(now, stale_s), None)
    if found is None:
        return None
    snapshot = HoldSnapshot(**found)
    current_app.extensions[_SNAPSHOT] = (now, snapshot)
    return snapshot


@bp.post("/hold")
def hold() -> Response:
    """The hold screen: the callback offer's answer, inside the 311 queue's wait (only <Say>,
    <Pause>, <Hangup>, <Leave>... may be given there). 1 (or yes): the caller's number is
    sealed and kept with their place, they hear so and hang up, and the agent line calls them
    back in turn. An emergency said or keyed wins, as on every screen: <Leave>, which the 311
    queue's result (`queue_result`) turns into the 911 queue without reading the log. Anything
    else, or silence: the hold goes on."""
    menu = context.menu()
    sealed: list[str] = []

    def callback_or_hold(st: MenuStep) -> str:
        prompts = menu.languages[st.lang].prompts
        seal = context.seal()
        number = fields.text("From", 64)
        if _answers(st, "1", "yes") and seal is not None and number and prompts.callback_taken:
            sealed.append(seal.seal(number))
            say(st.resp, menu, st.lang, prompts.callback_taken)
            st.resp.hangup()
            return "callback"
        st.resp.pause(length=menu.hold_pause_s)  # then Twilio fetches the wait URL again
        return "silence" if st.inp.empty else "hold"

    def leave_for_911(st: MenuStep) -> None:
        say(st.resp, menu, st.lang, menu.languages[st.lang].prompts.to_911)
        st.resp.leave()

    def record(st: MenuStep, outcome: str) -> None:
        event = MenuEvent(st.call_sid, 0, "hold", st.lang, outcome, st.inp.digits or None, None, st.inp.confidence)
        context.recorder().write(
            "record_hold_step",
            ev=asdict(event),
            sealed=sealed[0] if sealed else None,
            queue_time_s=fields.int_field("QueueTime"),
            now=context.now(),
        )

    def again(r: VoiceResponse, lang_: str, step_: int, attempts_: int) -> None:
        r.pause(length=menu.hold_pause_s)

    return _answer_menu_step(Screen("hold", callback_or_hold, again, to_911=leave_for_911, record=record))


@bp.post("/bridge")
def bridge() -> Response:
    """<Queue url>: runs on the caller's side just before an agent is connected."""
    menu = context.menu()
    call_sid = fields.call_sid()
    known = context.recorder().write(
        "mark_answered", call_sid=call_sid, queue_time_s=fields.int_field("QueueTime"), now=context.now()
    )
    lang = known if known in menu.languages else menu.default_language
    log.info("call %s answered by an agent", call_sid)
    resp = VoiceResponse()
    say(resp, menu, lang, menu.languages[lang].prompts.connecting)
    return twiml_response(resp)


@bp.post("/queue-result")
def queue_result() -> Response:
    """<Enqueue action>: the caller left the queue. A 911 caller is queued again whatever went
    wrong (only leave, hangup, a bridged call or a redirect end it); a 311 caller bounced by a
    full queue is queued again up to MAX_311_REQUEUES times, then told to call back."""
    menu = context.menu()
    call_sid = fields.call_sid()
    lang = lang_arg()
    queue = queue_arg()
    requeues = fields.int_arg("r", 0, 0, 1000)
    result = fields.known("QueueResult", fields.text("QueueResult", 32), fields.QUEUE_RESULTS)
    queue_time_s = fields.int_field("QueueTime")
    prompts = menu.languages[lang].prompts
    resp = Reply()
    recorder = context.recorder()
    # only the hold screen's emergency takes a caller out of the 311 queue (<Leave>): to 911
    emergency_on_hold = result == "leave" and queue == QUEUE_311
    if emergency_on_hold or (result not in DONE_RESULTS and (queue == QUEUE_911 or requeues < MAX_311_REQUEUES)):
        if emergency_on_hold:
            queue, announcement, requeues = QUEUE_911, prompts.wait_911, 0
            log.warning("call %s: an emergency said on hold in the 311 queue; queued for 911", call_sid)
        else:
            resp.pause(length=HOLD_BEFORE_REQUEUE_S)
            announcement = prompts.wait_911 if queue == QUEUE_911 else prompts.busy_retry
            requeues += 1
            log.warning("call %s: queue %s said %s; queued again (%d)", call_sid, queue, result, requeues)
        render_enqueue(resp, call_sid, lang, queue, None, announcement, requeue=True, requeues=requeues)
        recorder.write(
            "mark_enqueued",
            call_sid=call_sid,
            queue=queue,
            category=None,
            language=lang,
            now=context.now(),
            requeue=True,
        )
        return twiml_response(resp)
    if result == "leave":
        say(resp, menu, lang, prompts.goodbye)
    elif result not in DONE_RESULTS:
        say(resp, menu, lang, prompts.queue_full)
    resp.hangup()
    recorder.write(
        "record_queue_result", call_sid=call_sid, result=result, queue_time_s=queue_time_s, now=context.now()
    )
    log.info("call %s left queue %s: %s after %ss", call_sid, queue, result, queue_time_s)
    return twiml_response(resp)


LAST_RESORT = '<?xml version="1.0" encoding="UTF-8"?><Response><Enqueue>911</Enqueue></Response>'


@bp.errorhandler(InternalServerError)
def fallback(error: InternalServerError) -> Response:
    """A bug must not drop the caller, and fails toward the 911 queue: a menu step queues the
    caller for 911 (with an apology), a queue result queues them again where they were, the
    hold music holds, the bridge connects."""
    log.exception("voice webhook %s failed", request.path, exc_info=error.original_exception)
    try:
        return _fallback_twiml()
    except Exception:
        log.exception("voice fallback failed too; bare 911 queue")
        return Response(LAST_RESORT, mimetype="text/xml")


def _fallback_twiml() -> Response:
    menu = context.menu()
    lang = lang_arg()
    prompts = menu.languages[lang].prompts
    resp = Reply()
    if request.endpoint == "voice.bridge":
        say(resp, menu, lang, prompts.connecting)
    elif request.endpoint == "voice.wait":
        resp.pause(length=menu.hold_pause_s)
    elif request.endpoint == "voice.hold":  # out of the 311 queue, into 911 (queue_result)
        resp.leave()
    elif request.endpoint == "voice.queue_result":
        queue = queue_arg()
        render_enqueue(
            resp,
            "?",
            lang,
            queue,
            None,
            prompts.wait_911 if queue == QUEUE_911 else prompts.busy_retry,
            requeue=True,
            requeues=MAX_311_REQUEUES,
        )
    else:
        render_enqueue(resp, "?", lang, QUEUE_911, None, prompts.too_many_attempts)
    return twiml_response(resp)
