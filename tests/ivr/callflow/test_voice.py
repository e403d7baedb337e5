"""Every menu path in both languages, invalid and empty input, low-confidence speech, retries."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import deque

import pytest

from ivr.menu import load_menu
from tests.ivr.twilio_sim import Call

MENU = load_menu()
SAY_LANG = {"en": "en-US", "es": "es-MX"}
EMERGENCY = {"en": "there is an emergency", "es": "es una emergencia"}
POTHOLE = {"en": "a pothole on my street", "es": "hay un bache en mi calle"}
YES = {"en": "yes", "es": "sí"}
NO = {"en": "no", "es": "no"}


def begin(new_call, lang: str) -> Call:
    call = new_call()
    call.start()
    if lang == "es":
        call.press("9")
    assert_menu_rules(call.doc)
    return call


def assert_menu_rules(doc: ET.Element | None) -> None:
    """Gather: action, input="dtmf speech", hints, and a Redirect to the same action after it.
    A document never just ends: it gathers, queues, redirects, pauses (hold) or hangs up."""
    assert doc is not None
    children = list(doc)
    for i, el in enumerate(children):
        if el.tag == "Gather":
            assert el.get("action"), "Gather without action"
            assert el.get("input") == "dtmf speech"
            assert el.get("hints")
            assert el.get("method") == "POST"
            follow = children[i + 1]
            assert follow.tag == "Redirect" and follow.text == el.get("action")
    for dial in doc.iter("Dial"):
        assert [c.tag for c in dial] == ["Queue"] and not (dial.text or "").strip()
    assert {c.tag for c in children} & {"Gather", "Enqueue", "Redirect", "Hangup", "Pause"}


def assert_language(doc: ET.Element, lang: str) -> None:
    for say in doc.iter("Say"):
        assert say.get("language") == SAY_LANG[lang]
    for g in doc.iter("Gather"):
        assert g.get("language") == SAY_LANG[lang]


def queued(call: Call, queue: str) -> ET.Element:
    """The caller is queued; a service that needs a location asks the street address first
    (answered and confirmed here; tests/ivr/callflow/test_voice_requests.py covers that step)."""
    if call.enqueue is None and "/voice/address?" in call.doc.find("Gather").get("action", ""):
        call.speak("100 Main Street", 0.9)
        call.press("1")
    enq = call.enqueue
    assert enq is not None, ET.tostring(call.doc)
    assert enq.text == queue
    assert enq.get("waitUrl", "").startswith("/voice/wait?")
    assert enq.get("action", "").startswith("/voice/queue-result?")
    assert enq.get("waitUrlMethod") == "POST"
    return enq


def test_greeting_then_main_menu(new_call):
    call = new_call()
    doc = call.start()
    assert_menu_rules(doc)
    assert [c.tag for c in doc] == ["Say", "Gather", "Redirect"]
    assert "emergency" in call.said() and "press 1" in call.said()
    assert "emergency" in call.gather.get("hints", "") and "pothole" in call.gather.get("hints", "")


@pytest.mark.parametrize("lang", ["en", "es"])
def test_key_1_goes_to_911_at_once(new_call, store, lang):
    call = begin(new_call, lang)
    call.press("1")
    assert_language(call.doc, lang)
    queued(call, "911")
    row = store.call(call.sid)
    assert row["queue"] == "911" and row["language"] == lang and row["category"] is None


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize("confidence", [0.95, 0.1, None])
def test_saying_emergency_goes_to_911_whatever_the_confidence(new_call, lang, confidence):
    call = begin(new_call, lang)
    call.speak(EMERGENCY[lang], confidence)
    queued(call, "911")


def test_not_an_emergency_is_not_911(new_call, store):
    call = begin(new_call, "en")
    call.speak("it's not an emergency, there is a pothole", 0.9)
    queued(call, "311")
    assert store.call(call.sid)["category"] == "pothole"


@pytest.mark.parametrize("lang", ["en", "es"])
def test_services_are_listed_in_pages(new_call, lang):
    call = begin(new_call, lang)
    call.press("2")
    assert_menu_rules(call.doc)
    assert_language(call.doc, lang)
    page1 = call.said()
    for cat in MENU.page(1):
        assert cat.label[lang] in page1
    assert MENU.page(2)[0].label[lang] not in page1
    assert len(MENU.page(1)) == 8 and MENU.page_count == 2
    call.press("9")  # more services
    page2 = call.said()
    for cat in MENU.page(2):
        assert cat.label[lang] in page2
    call.press("9")  # back to the first page
    assert MENU.page(1)[0].label[lang] in call.said()


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize(("page", "key"), [(1, 1), (1, 3), (1, 8), (2, 1), (2, 3), (2, 6)])
def test_service_keys_select_categories(new_call, store, lang, page, key):
    call = begin(new_call, lang)
    call.press("2")
    if page == 2:
        call.press("9")
    call.press(str(key))
    queued(call, "311")
    expected = MENU.page(page)[key - 1]
    assert expected.label[lang] in call.said()
    row = store.call(call.sid)
    assert row["category"] == expected.code and row["queue"] == "311"


def test_every_listed_category_is_reachable_by_keys():
    reachable = {c.code for p in range(1, MENU.page_count + 1) for c in MENU.page(p)}
    assert reachable | {"other"} == {c.code for c in MENU.categories}


@pytest.mark.parametrize("lang", ["en", "es"])
def test_key_0_is_the_operator(new_call, store, lang):
    call = begin(new_call, lang)
    call.press("0")
    queued(call, "311")
    assert store.call(call.sid)["category"] == "other"


def test_key_0_on_services_page_is_the_operator(new_call, store):
    call = begin(new_call, "en")
    call.press("2")
    call.press("0")
    queued(call, "311")
    assert store.call(call.sid)["category"] == "other"


@pytest.mark.parametrize("lang", ["en", "es"])
def test_star_repeats(new_call, lang):
    call = begin(new_call, lang)
    before = call.said()
    call.press("*")
    assert call.said() and before.endswith(call.said())
    assert "n=" in call.gather.get("action", "")
    call.press("2")
    page = call.said()
    call.press("*")
    assert call.said() == page


def test_nine_switches_language_and_back(new_call):
    call = begin(new_call, "en")
    call.press("9")
    assert_language(call.doc, "es")
    assert "lang=es" in call.gather.get("action", "")
    call.press("9")
    assert_language(call.doc, "en")


@pytest.mark.parametrize("lang", ["en", "es"])
def test_confident_speech_selects_the_category_directly(new_call, store, lang):
    call = begin(new_call, lang)
    call.speak(POTHOLE[lang], 0.61)
    queued(call, "311")
    assert store.call(call.sid)["category"] == "pothole"


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize("confidence", [0.59, 0.2, None])
def test_low_or_missing_confidence_asks_to_confirm(new_call, store, lang, confidence):
    call = begin(new_call, lang)
    call.speak(POTHOLE[lang], confidence)
    assert call.enqueue is None
    assert_menu_rules(call.doc)
    assert MENU.category("pothole").label[lang] in call.said()
    assert "cat=pothole" in call.gather.get("action", "")
    call.speak(YES[lang], 0.3)
    queued(call, "311")
    assert store.call(call.sid)["category"] == "pothole"


@pytest.mark.parametrize("lang", ["en", "es"])
def test_confirmation_by_keys(new_call, store, lang):
    call = begin(new_call, lang)
    call.speak(POTHOLE[lang], 0.3)
    call.press("2")  # no: back to the main menu
    assert "lang=" + lang in call.gather.get("action", "")
    assert "/voice/menu" in call.gather.get("action", "")
    call.speak("graffiti", 0.3)
    call.press("1")
    queued(call, "311")
    assert store.call(call.sid)["category"] == "graffiti"


@pytest.mark.parametrize("lang", ["en", "es"])
def test_saying_no_returns_to_main_menu(new_call, lang):
    call = begin(new_call, lang)
    call.speak(POTHOLE[lang], 0.3)
    call.speak(NO[lang], 0.9)
    assert call.enqueue is None
    assert "/voice/menu" in call.gather.get("action", "")


def test_speech_on_the_services_page(new_call, store):
    call = begin(new_call, "en")
    call.press("2")
    call.speak("rats in the basement", 0.9)
    queued(call, "311")
    assert store.call(call.sid)["category"] == "rodents"


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize("bad", ["silence", "7", "#", "gibberish"])
def test_three_reprompts_then_the_operator(new_call, store, lang, bad):
    call = begin(new_call, lang)
    invalid = MENU.languages[lang].prompts.invalid
    for _ in range(MENU.max_reprompts):
        if bad == "silence":
            call.silence()
        elif bad == "gibberish":
            call.speak("blue elephant sandwich", 0.9)
        else:
            call.press(bad)
        assert call.enqueue is None
        assert invalid in call.said()
        assert_menu_rules(call.doc)
    call.silence() if bad == "silence" else call.press("7")
    queued(call, "311")
    assert MENU.languages[lang].prompts.too_many_attempts in call.said()
    row = store.call(call.sid)
    assert row["category"] == "other"
    assert row["menu_attempts"] == MENU.max_reprompts + 1 + (lang == "es")


def test_reprompts_on_services_page_then_operator(new_call, store):
    call = begin(new_call, "en")
    call.press("2")
    call.press("9")  # page 2 has 6 services: 7 is invalid there
    for _ in range(MENU.max_reprompts):
        call.press("7")
        assert "page=2" in call.gather.get("action", "")
    call.silence()
    queued(call, "311")
    assert store.call(call.sid)["category"] == "other"


def test_silence_at_confirmation_reprompts_then_operator(new_call, store):
    call = begin(new_call, "en")
    call.speak("graffiti", 0.1)
    for _ in range(MENU.max_reprompts):
        call.silence()
        assert "cat=graffiti" in call.gather.get("action", "")
    call.silence()
    queued(call, "311")
    assert store.call(call.sid)["category"] == "other"


def test_attempts_are_counted_across_screens(new_call):
    call = begin(new_call, "en")
    call.press("5")  # invalid at main (1)
    call.press("2")
    call.press("#")  # invalid at services (2)
    call.press("#")  # (3)
    call.press("#")  # (4): beyond 3 re-prompts
    queued(call, "311")


def test_retried_webhook_gives_same_twiml_and_one_event(twilio, new_call, store):
    call = begin(new_call, "en")
    action = call.gather.get("action", "")
    params = call.params(Digits="2")
    first = twilio.post(action, params).data
    second = twilio.post(action, params).data
    assert first == second
    events = store.events(call.sid)
    assert len(events) == 1 and events[0]["outcome"] == "services"
    again = twilio.post("/voice", call.params()).data
    assert b"Gather" in again
    assert store.call(call.sid)["menu_attempts"] == 1


def test_retried_enqueue_keeps_first_enqueue_time(twilio, new_call, store):
    call = begin(new_call, "en")
    action = call.gather.get("action", "")
    twilio.post(action, call.params(Digits="1"))
    first = store.call(call.sid)["enqueued_at"]
    twilio.post(action, call.params(Digits="1"))
    assert store.call(call.sid)["enqueued_at"] == first


def test_tampered_category_in_confirm_url_restarts_menu(twilio, new_call):
    call = begin(new_call, "en")
    doc = twilio.twiml("/voice/confirm?lang=en&n=2&a=0&cat=nonsense", call.params(Digits="1"))
    assert doc.find("Enqueue") is None and doc.find("Gather") is not None


@pytest.mark.parametrize("screen", ["confirm", "address", "address-confirm"])
def test_emergency_at_a_tampered_screen_url_still_reaches_911(twilio, new_call, screen):
    """A URL that lost its category starts the menu over, after the emergency check."""
    call = begin(new_call, "en")
    doc = twilio.twiml(f"/voice/{screen}?lang=en&n=2&a=0&cat=nonsense", call.params(SpeechResult="there is a fire"))
    assert doc.find("Enqueue") is not None and doc.find("Enqueue").text == "911"


def test_missing_call_sid_is_400(twilio):
    assert twilio.post("/voice", {"From": "+1555"}).status_code == 400


def test_every_reachable_document_follows_the_rules(twilio, new_call):
    """Breadth-first walk of the menu with every key, speech and silence, three inputs deep."""
    inputs: list[dict[str, str]] = [{"Digits": d} for d in ["0", "1", "2", "3", "7", "9", "*", "#"]] + [
        {"SpeechResult": "pothole", "Confidence": "0.3"},
        {"SpeechResult": "noise", "Confidence": "0.9"},
        {"SpeechResult": "sí", "Confidence": "0.9"},
        {},
    ]
    call = new_call()
    start = call.start()
    frontier = deque([(start, 0)])
    seen = 0
    while frontier:
        doc, depth = frontier.popleft()
        assert_menu_rules(doc)
        seen += 1
        if depth == 3 or doc.find("Gather") is None:
            continue
        action = doc.find("Gather").get("action")
        for extra in inputs:
            frontier.append((twilio.twiml(action, call.params(**extra)), depth + 1))
    assert seen > 500
