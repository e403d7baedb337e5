"""TwiML rendering. The builder in `twilio.twiml` validates nothing, so the rules live here:

- every <Gather> has an explicit action, `input="dtmf speech"`, hints, and a <Redirect> after it
  (silence falls through a Gather; nothing after it would hang up);
- <Dial> only ever holds a <Queue>: no number, no client, no SIP, ever (`check_dial_rule`).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from flask import Response
from twilio.twiml import TwiML
from twilio.twiml.voice_response import Gather, VoiceResponse

from ivr.errors import TwimlError
from ivr.menu import Menu

GATHER_INPUT = "dtmf speech"
XML_MIMETYPE = "text/xml"


def say(resp: VoiceResponse | Gather, menu: Menu, lang: str, text: str) -> None:
    language = menu.languages[lang]
    resp.say(text, language=language.say_language, voice=language.voice)


def gather(
    resp: VoiceResponse,
    menu: Menu,
    lang: str,
    *,
    action: str,
    hints: str,
    prompt: list[str],
    num_digits: int = 1,
) -> None:
    """A Gather that speaks `prompt`, then a Redirect to the same action for silence."""
    if not action or not hints:
        raise TwimlError("a Gather needs an action and hints")
    language = menu.languages[lang]
    g = Gather(
        input=GATHER_INPUT,
        action=action,
        method="POST",
        num_digits=num_digits,
        timeout=menu.gather_timeout_s,
        speech_timeout="auto",
        language=language.say_language,
        hints=hints,
    )
    for text in prompt:
        say(g, menu, lang, text)
    resp.append(g)
    resp.redirect(action, method="POST")


def check_dial_rule(xml: str) -> None:
    """Refuse any TwiML that would dial something other than a Twilio queue."""
    root = ET.fromstring(xml)
    for dial in root.iter("Dial"):
        if (dial.text or "").strip():
            raise TwimlError("<Dial> with a number is forbidden; only <Dial><Queue> is allowed")
        children = list(dial)
        if not children or any(child.tag != "Queue" for child in children):
            raise TwimlError("<Dial> may only contain <Queue>")


def check_dial_tree(node: TwiML) -> None:
    """`check_dial_rule` on the builder's tree (no XML round trip)."""
    if node.name == "Dial":
        if node.value is not None and str(node.value).strip():
            raise TwimlError("<Dial> with a number is forbidden; only <Dial><Queue> is allowed")
        if not node.verbs or any(child.name != "Queue" for child in node.verbs):
            raise TwimlError("<Dial> may only contain <Queue>")
    for child in node.verbs:
        if isinstance(child, TwiML):
            check_dial_tree(child)


def twiml_response(resp: VoiceResponse, status: int = 200) -> Response:
    check_dial_tree(resp)
    return Response(resp.to_xml(), status=status, mimetype=XML_MIMETYPE)
