"""What each screen says: the TwiML of the caller's menu, one render_* function a screen.

A render_* function appends to the reply being built: a Gather whose action is the screen's own
webhook (its URL carries the call's state, `ivr.callflow.callstate`), or the announcements and
the Enqueue that put the caller in a queue. What happens on the caller's input is the webhooks'
(`ivr.callflow.voice`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import url_for
from twilio.twiml.voice_response import VoiceResponse

from ivr import context
from ivr.callflow.twiml import gather, say
from ivr.calllog import requestnumbers
from ivr.calllog.store import Enqueue
from ivr.menu import Category

log = logging.getLogger(__name__)

Render = Callable[[VoiceResponse, str, int, int], None]


def render_main(resp: VoiceResponse, lang: str, step: int, attempts: int) -> None:
    menu = context.menu()
    prompts = menu.languages[lang].prompts
    gather(
        resp,
        menu,
        lang,
        action=url_for("voice.menu", lang=lang, n=step, a=attempts),
        hints=menu.hints(lang),
        prompt=[prompts.main_menu],
    )


def render_services(resp: VoiceResponse, lang: str, step: int, attempts: int, page: int) -> None:
    menu = context.menu()
    prompts = menu.languages[lang].prompts
    lines = [prompts.services_intro] if page == 1 else []
    for position, cat in enumerate(menu.page(page), start=1):
        lines.append(prompts.service_item.format(label=cat.label[lang], key=position))
    if menu.page_count > 1:
        more = prompts.more_services if page < menu.page_count else prompts.first_page
        lines.append(more.format(key=9))
    lines.append(prompts.services_footer)
    gather(
        resp,
        menu,
        lang,
        action=url_for("voice.services", lang=lang, n=step, a=attempts, page=page),
        hints=menu.hints(lang),
        prompt=[" ".join(lines)],
    )


def _ask_about(
    resp: VoiceResponse,
    lang: str,
    endpoint: str,
    step: int,
    attempts: int,
    cat: Category,
    said: str,
    prompt: str,
    hints: str,
    **args: Any,
) -> None:
    """A question about the chosen category; its URL carries the category and the transcript."""
    gather(
        resp,
        context.menu(),
        lang,
        hints=hints,
        prompt=[prompt],
        action=url_for(endpoint, lang=lang, n=step, a=attempts, cat=cat.code, said=said or None, **args),
    )


def render_confirm(resp: VoiceResponse, lang: str, step: int, attempts: int, cat: Category, said: str = "") -> None:
    menu = context.menu()
    _ask_about(
        resp,
        lang,
        "voice.confirm",
        step,
        attempts,
        cat,
        said,
        menu.languages[lang].prompts.confirm.format(label=cat.label[lang]),
        menu.yes_no_hints(lang),
    )


def render_address(resp: VoiceResponse, lang: str, step: int, attempts: int, cat: Category, said: str = "") -> None:
    """Ask for the street address of a service that needs a location (speech)."""
    menu = context.menu()
    _ask_about(
        resp,
        lang,
        "voice.address",
        step,
        attempts,
        cat,
        said,
        menu.languages[lang].prompts.ask_address,
        menu.hints(lang, services=False),
    )


def render_confirm_address(
    resp: VoiceResponse,
    lang: str,
    step: int,
    attempts: int,
    cat: Category,
    address: str,
    said: str = "",
) -> None:
    menu = context.menu()
    _ask_about(
        resp,
        lang,
        "voice.address_confirm",
        step,
        attempts,
        cat,
        said,
        menu.languages[lang].prompts.confirm_address.format(address=address),
        menu.yes_no_hints(lang),
        addr=address,
    )


def render_ask_request_number(resp: VoiceResponse, lang: str, step: int, attempts: int) -> None:
    """Key 3 at the main menu: the request number by keys (ten digits, then #)."""
    menu = context.menu()
    gather(
        resp,
        menu,
        lang,
        action=url_for("voice.request_status", lang=lang, n=step, a=attempts),
        hints=menu.hints(lang, services=False),
        prompt=[menu.languages[lang].prompts.ask_request_number],
        num_digits=requestnumbers.DIGITS,
    )


class Reply(VoiceResponse):
    """The TwiML of one webhook plus the queue it puts the caller in (recorded with the step)."""

    def __init__(self) -> None:
        super().__init__()
        self.queued: Enqueue | None = None
        self.request: dict[str, Any] | None = None  # the service request this step opens


def render_enqueue(
    resp: Reply,
    call_sid: str,
    lang: str,
    queue: str,
    category: str | None,
    announcement: str,
    *,
    requeue: bool = False,
    requeues: int = 0,
    then: str | None = None,
) -> None:
    menu = context.menu()
    resp.queued = Enqueue(queue, category, requeue)
    log.info("call %s enqueued in %s (category %s, %s)", call_sid, queue, category, lang)
    say(resp, menu, lang, announcement)
    if then:
        say(resp, menu, lang, then)
    resp.enqueue(
        queue,
        action=url_for("voice.queue_result", lang=lang, queue=queue, r=requeues or None),
        method="POST",
        wait_url=url_for("voice.wait", lang=lang, queue=queue),
        wait_url_method="POST",
    )


def render_hold_311(resp: VoiceResponse, lang: str, minutes: int | None, offer: bool) -> None:
    """A 311 caller on hold, after their position: the expected wait in minutes (if there is
    one to say) and, when it is long, the callback offer: a Gather whose action is the hold
    screen (`voice.hold`); silence falls through its Redirect to the same screen, which holds
    on. Never rendered for a 911 caller."""
    menu = context.menu()
    prompts = menu.languages[lang].prompts
    if minutes is not None:
        text = prompts.wait_estimate_one if minutes == 1 else prompts.wait_estimate
        if text:
            say(resp, menu, lang, text.format(minutes=minutes))
    if offer and prompts.callback_offer and prompts.callback_taken:
        gather(
            resp,
            menu,
            lang,
            action=url_for("voice.hold", lang=lang),
            hints=menu.yes_no_hints(lang),
            prompt=[prompts.callback_offer],
        )


def say_status(resp: Reply, lang: str, spoken: str, found: dict[str, Any]) -> None:
    menu = context.menu()
    prompts = menu.languages[lang].prompts
    cat = next((c for c in menu.categories if c.code == found["service_code"]), None)
    label = cat.label[lang] if cat else str(found["service_code"]).replace("_", " ")
    status = prompts.status_closed if found["status"] == "closed" else prompts.status_open
    say(resp, menu, lang, prompts.request_status.format(number=spoken, label=label, status=status))
    if found["status_notes"]:
        say(resp, menu, lang, prompts.request_notes.format(notes=found["status_notes"]))
