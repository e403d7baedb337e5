"""Calls that reach a category open a service request: the number read back before the queue,
the address by voice where the service needs one, the status at key 3, and none of it ever
keeps a caller from a queue (database locked: the number still comes from the CallSid and the
request is journaled, then replayed)."""

from __future__ import annotations

import json
import logging
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from ivr.calllog import requestnumbers
from ivr.menu import load_menu
from tests.ivr.open311_client import Open311, body
from tests.ivr.outages import GENEROUS_BUDGET_MS, HUNG_GUARD_S, hung_store, sqlite_locked
from tests.ivr.twilio_sim import CALLER, Call

MENU = load_menu()


def begin(new_call, lang: str = "en") -> Call:
    call = new_call()
    call.start()
    if lang == "es":
        call.press("9")
    return call


def said_before_enqueue(call: Call) -> str:
    """What the caller hears in the TwiML that queues them, before the <Enqueue>."""
    words = []
    for el in call.doc:
        if el.tag == "Enqueue":
            return " ".join(words)
        if el.tag == "Say":
            words.append(el.text or "")
    raise AssertionError(ET.tostring(call.doc))


def request_of(store, call: Call) -> dict:
    row = store.requests.for_call(call.sid)
    assert row is not None, "no request for the call"
    return row


@pytest.mark.parametrize("lang", ["en", "es"])
def test_keys_to_a_category_open_a_request_and_read_its_number(new_call, store, lang):
    call = begin(new_call, lang)
    call.press("2")
    call.press("8")  # noise: no address needed
    assert call.enqueue is not None and call.enqueue.text == "311"
    number = requestnumbers.for_call(call.sid)
    heard = said_before_enqueue(call)
    assert requestnumbers.spoken(number) in heard
    intro = {"en": "Your request number is", "es": "Su número de solicitud es"}[lang]
    assert intro in heard
    row = request_of(store, call)
    assert (row["service_request_id"], row["service_code"], row["status"]) == (number, "noise", "open")
    assert row["description"] is None and row["language"] == lang


def test_the_api_shows_the_call_but_never_the_phone_number_nor_the_callers_words(new_call, client, store):
    """What a caller says may name them or give a number to call back: the public API shows a
    call's category, status, address and times, never its transcript (staff still see it)."""
    call = begin(new_call)
    words = "loud music next door, my name is Jane Roe, call me back on 555 765 4321"
    call.speak(words, 0.9)
    assert call.enqueue is not None
    number = requestnumbers.for_call(call.sid)
    assert request_of(store, call)["description"] == words  # kept for staff
    for fmt in ("json", "xml"):
        for resp in (Open311(client).get(f"requests/{number}", fmt), Open311(client).get("requests", fmt)):
            (doc,) = body(resp, fmt)
            assert doc["service_request_id"] == number and doc["service_code"] == "noise"
            assert doc["description"] is None
            text = resp.data.decode()
            assert CALLER not in text and CALLER[2:] not in text and call.sid not in text
            assert "Jane Roe" not in text and "765 4321" not in text


def test_confirmed_speech_keeps_the_transcript(new_call, store):
    call = begin(new_call)
    call.speak("there are rats in my kitchen", 0.3)
    assert "said=" in call.gather.get("action")
    call.press("1")
    assert call.enqueue is not None
    assert request_of(store, call)["description"] == "there are rats in my kitchen"


@pytest.mark.parametrize(
    "lang, words, address, yes",
    [
        ("en", "a pothole on my street", "1200 Elm Street", "yes"),
        ("es", "hay un bache enorme", "Calle Ñandú 45", "sí"),
    ],
)
def test_address_by_voice_confirmed_then_number_then_queue(new_call, store, lang, words, address, yes):
    call = begin(new_call, lang)
    call.speak(words, 0.9)
    gather = call.gather
    assert call.enqueue is None and "/voice/address?" in gather.get("action")
    assert "speech" in gather.get("input") and MENU.languages[lang].prompts.ask_address in call.said()
    request_of(store, call)  # opened already: a caller who hangs up now still has one
    call.speak(address, 0.8)
    assert address in call.said() and "/voice/address-confirm?" in call.gather.get("action")
    call.speak(yes, 0.9)
    assert call.enqueue is not None and call.enqueue.text == "311"
    assert requestnumbers.spoken(requestnumbers.for_call(call.sid)) in said_before_enqueue(call)
    row = request_of(store, call)
    assert (row["address"], row["description"], row["service_code"]) == (address, words, "pothole")
    assert store.call(call.sid)["category"] == "pothole"


def test_address_no_asks_again_and_silence_still_reaches_the_queue(new_call, store):
    call = begin(new_call)
    call.press("2")
    call.press("5")  # graffiti
    call.speak("wrong place", 0.5)
    call.press("2")  # no
    assert "/voice/address?" in call.gather.get("action")
    for _ in range(MENU.max_reprompts):
        if call.enqueue is not None:
            break
        call.silence()
    assert call.enqueue is not None and call.enqueue.text == "311"
    assert MENU.languages["en"].prompts.no_address in call.said()
    row = request_of(store, call)
    assert row["address"] is None and row["service_code"] == "graffiti"


def test_emergency_at_the_address_prompt_goes_to_911(new_call):
    call = begin(new_call)
    call.speak("pothole", 0.9)
    call.speak("there is a fire", 0.9)
    assert call.enqueue is not None and call.enqueue.text == "911"


def test_a_retried_webhook_opens_one_request(new_call, twilio, store):
    call = begin(new_call)
    action = call.gather.get("action")
    for _ in range(2):
        twilio.twiml(action, call.params(SpeechResult="noise complaint", Confidence="0.9"))
    assert len(store.requests.query(numbers=[requestnumbers.for_call(call.sid)])) == 1


def test_operator_and_emergency_open_no_request(new_call, store):
    for keys in (["0"], ["1"]):
        call = begin(new_call)
        call.press(keys[0])
        assert store.requests.for_call(call.sid) is None


# -- key 3: the status of a request -------------------------------------------------------------


def ask_status(call: Call, number: str) -> str:
    call.press("3")
    gather = call.gather
    assert gather.get("numDigits") == "10" and "/voice/request-status" in gather.get("action")
    call.press(number + "#")
    return call.said()


@pytest.mark.parametrize("lang", ["en", "es"])
def test_status_by_keys_open_then_closed_with_notes(new_call, store, lang):
    number = store.requests.create("graffiti", address="5 Elm St")
    call = begin(new_call, lang)
    heard = ask_status(call, number)
    prompts = MENU.languages[lang].prompts
    assert requestnumbers.spoken(number) in heard and prompts.status_open in heard
    assert MENU.category("graffiti").label[lang] in heard
    assert "/voice/menu" in call.gather.get("action")  # back at the main menu
    store.requests.set_status(number, "closed", "Painted over on Tuesday.")
    heard = ask_status(call, number)
    assert prompts.status_closed in heard and "Painted over on Tuesday." in heard


def test_status_refuses_a_mistyped_number_before_any_lookup(new_call, store):
    number = store.requests.create("noise", address="x")
    typo = number[:3] + str((int(number[3]) + 1) % 10) + number[4:]
    call = begin(new_call)
    assert MENU.languages["en"].prompts.request_number_invalid in ask_status(call, typo)
    call.press(number)  # a second try at the same prompt
    assert MENU.languages["en"].prompts.status_open in call.said()


def test_status_of_an_unknown_number(new_call):
    unknown = requestnumbers.from_body(123456789)
    assert "could not find" in ask_status(begin(new_call), unknown)


def test_status_by_speaking_the_digits(new_call, store):
    number = store.requests.create("noise", address="x")
    call = begin(new_call)
    call.press("3")
    call.speak(" ".join(number), 0.9)
    assert MENU.languages["en"].prompts.status_open in call.said()


# -- the database locked: never a delay on the way to the queue --------------------------------


@pytest.mark.store_budget_ms(300)  # SQLite's busy timeout, set below it, fails a locked write
def test_database_locked_the_caller_still_hears_the_number_and_is_queued(app, new_call, db_url, store, monkeypatch):
    """The database is locked just before the step that opens the request: the write fails
    (the busy timeout) and goes to the journal. The step still answers with the number derived
    from the CallSid; once the database is back the journal replays the request with that
    number. (The bound on the wait is held by the next test, with a store that never answers.)"""
    recorder = app.extensions["ivr311.recorder"]
    monkeypatch.setattr(recorder, "budget_s", GENEROUS_BUDGET_MS / 1000)  # a loaded machine never misses it
    timings = {}
    healthy = begin(new_call)
    t0 = time.perf_counter()
    healthy.speak("loud music", 0.9)
    timings["healthy"] = time.perf_counter() - t0
    calls = []
    for how in ("keys", "speech", "address"):
        call = begin(new_call)
        if how == "keys":
            call.press("2")
        elif how == "address":
            call.speak("pothole", 0.9)
            call.speak("12 Oak Avenue", 0.9)
        with sqlite_locked(db_url):
            t0 = time.perf_counter()
            if how == "speech":
                call.speak("loud party", 0.9)
            else:
                call.press("8" if how == "keys" else "1")
            timings[how] = time.perf_counter() - t0
            assert call.enqueue is not None and call.enqueue.text == "311"
            heard = said_before_enqueue(call)
            assert requestnumbers.spoken(requestnumbers.for_call(call.sid)) in heard
            assert store.requests.for_call(call.sid) is None or how == "address"
        recorder.replay()  # the replay thread may have replayed it already
        assert not recorder.journal.pending()
        row = request_of(store, call)
        assert row["service_request_id"] == requestnumbers.for_call(call.sid)
        calls.append(call)
    assert request_of(store, calls[2])["address"] == "12 Oak Avenue"
    # a write lock does not stop readers (WAL): the status line still answers ...
    status_call = begin(new_call)
    status_call.press("3")
    with sqlite_locked(db_url):
        t0 = time.perf_counter()
        status_call.press(requestnumbers.for_call(healthy.sid) + "#")
        timings["status lookup, locked"] = time.perf_counter() - t0
        assert MENU.languages["en"].prompts.status_open in status_call.said()
        # ... but while writes wait in the journal its answer would be stale: it says so, and
        # the caller is back at the main menu
        status_call.press("3")
        t0 = time.perf_counter()
        status_call.press(requestnumbers.for_call(healthy.sid) + "#")
        timings["status lookup, journal pending"] = time.perf_counter() - t0
        assert MENU.languages["en"].prompts.lookup_unavailable in status_call.said()
        assert "/voice/menu" in status_call.gather.get("action")
    print("\nrequest step latency: " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in timings.items()))


@pytest.mark.store_budget_ms(50)
def test_the_request_step_never_waits_on_a_store_that_never_answers(app, new_call, store, monkeypatch):
    """The worst case: the database takes the connection and never answers as the request is
    opened. The step answers once its write has waited out the budget, with the number from the
    CallSid, and queues the caller; the request is replayed with that number once it answers."""
    call = begin(new_call)
    call.press("2")
    recorder = app.extensions["ivr311.recorder"]
    runner = ThreadPoolExecutor(1)
    with hung_store(monkeypatch, recorder.store) as reached:
        runner.submit(call.press, "8").result(timeout=HUNG_GUARD_S)  # no bound: never answers
        assert len(reached) == 1  # the step's first write waited; the rest went to the journal
        assert call.enqueue is not None and call.enqueue.text == "311"
        assert requestnumbers.spoken(requestnumbers.for_call(call.sid)) in said_before_enqueue(call)
    runner.shutdown(wait=False)
    recorder.replay()
    assert request_of(store, call)["service_request_id"] == requestnumbers.for_call(call.sid)


def test_a_taken_number_gives_the_next_candidate_and_a_warning(store, caplog):
    sid = "CA" + "e" * 32
    first = requestnumbers.for_call(sid)
    with store.engine.begin() as conn:  # another request already holds the call's number
        from ivr.calllog.servicerequests import service_requests
        from ivr.calllog.store import utcnow

        conn.execute(
            service_requests.insert(),
            {
                "service_request_id": first,
                "source": "api",
                "service_code": "noise",
                "status": "open",
                "requested_at": utcnow(),
                "updated_at": utcnow(),
            },
        )
    with caplog.at_level(logging.WARNING, logger="ivr.calllog.servicerequests"):
        got = store.open_call_request(sid, "graffiti", "en")
    assert got == requestnumbers.for_call(sid, 1) != first
    assert store.open_call_request(sid, "graffiti", "en", address="1 Main St") == got
    assert "was taken" in caplog.text


def test_a_reused_callsid_never_rewrites_the_first_calls_request(store, caplog):
    """Another call with the same CallSid (a forged or replayed webhook, simulated callers run
    twice) gets a request of its own, under its CallSid's next number; the first call's request
    stays as it was. Each call's own retries and its address still land on its own request."""
    sid = "CA" + "f" * 32
    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    minute = timedelta(minutes=1)
    first = store.open_call_request(sid, "pothole", "en", "a hole in the road", now=t0)
    assert store.open_call_request(sid, "pothole", "en", "a hole in the road", "5 Oak Street", now=t0 + minute) == first
    assert first == requestnumbers.for_call(sid)
    later = t0 + timedelta(days=2)
    with caplog.at_level(logging.WARNING, logger="ivr.calllog.servicerequests"):
        second = store.open_call_request(sid, "pothole", "en", "another hole", now=later)
    assert second == requestnumbers.for_call(sid, 1)
    assert "used by an earlier call" in caplog.text
    assert store.open_call_request(sid, "pothole", "en", "another hole", now=later + minute) == second  # a retry
    assert store.open_call_request(sid, "pothole", "en", "another hole", "9 Pine Road", now=later + minute) == second
    # the same CallSid moments later, saying something else: a third call, not the second's
    third = store.open_call_request(sid, "noise", "en", "a barking dog", now=later + 2 * minute)
    assert third == requestnumbers.for_call(sid, 2)
    rows = {n: store.requests.get(n) for n in (first, second, third)}
    assert (rows[first]["description"], rows[first]["address"]) == ("a hole in the road", "5 Oak Street")
    assert rows[first]["requested_at"] == t0
    assert (rows[second]["description"], rows[second]["address"]) == ("another hole", "9 Pine Road")
    assert (rows[third]["service_code"], rows[third]["description"]) == ("noise", "a barking dog")
    assert store.requests.for_call(sid)["service_request_id"] == first


def test_two_calls_with_one_callsid_through_the_menu(new_call, store):
    sid = "CA" + "d" * 32
    for words in ("loud music next door", "rats in the alley"):
        call = new_call(sid)
        call.start()
        call.speak(words, 0.9)
        assert call.enqueue is not None and call.enqueue.text == "311"
    first, second = (store.requests.get(requestnumbers.for_call(sid, n)) for n in (0, 1))
    assert (first["service_code"], first["description"]) == ("noise", "loud music next door")
    assert (second["service_code"], second["description"]) == ("rodents", "rats in the alley")


def test_request_numbers_have_a_check_digit():
    numbers = {requestnumbers.for_call(f"CA{i:032x}") for i in range(2000)}
    assert len(numbers) == 2000
    assert all(requestnumbers.is_valid(n) and len(n) == 10 and n[0] != "0" for n in numbers)
    n = numbers.pop()
    for i in range(10):  # every single-digit error is caught
        for d in "0123456789":
            if d != n[i]:
                assert not requestnumbers.is_valid(n[:i] + d + n[i + 1 :])
    assert not requestnumbers.is_valid("١٢٣٤٥٦٧٨٩٠") and not requestnumbers.is_valid("")
    assert json.dumps(requestnumbers.spoken("4172093815")) == '"4 1 7 2 0, 9 3 8 1 5"'
