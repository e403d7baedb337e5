"""The menu file: its validation, the shipped menu, and the speech matching (the emergency rule)."""

from __future__ import annotations

import re

import pytest

from ivr.errors import MenuError
from ivr.menu import DEFAULT_MENU_PATH, load_menu, parse_menu

CODES = {
    "abandoned_vehicle",
    "code_violation",
    "dead_animal",
    "debris_in_roadway",
    "graffiti",
    "illegal_burning",
    "streetlight_signal_meter",
    "noise",
    "parking_enforcement",
    "parks_recreation",
    "pothole",
    "public_safety",
    "rodents",
    "stolen_vehicle",
    "other",
}


def test_shipped_menu_has_the_15_categories_in_two_languages():
    menu = load_menu()
    assert {c.code for c in menu.categories} == CODES
    assert list(menu.languages) == ["en", "es"]
    assert menu.confidence_threshold == 0.6 and menu.max_reprompts == 3
    assert menu.category("other").key == 0


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("max_reprompts: 3 ", "max_reprompts: -1 ", "max_reprompts"),
        ("    key: 11\n", "    key: 12\n", "categories"),
        ('      goodbye: "Thank you for calling. Goodbye."\n', "", "languages.en.prompts.goodbye"),
        ("confidence_threshold: 0.6", "confidence_threshold: 0.6\nunknown_key: 1", "unknown_key"),
        (
            "    synonyms: {en: [something else, other], es: [otra cosa, otro]}",
            "    synonyms: {en: [something else, other]}",
            "categories.0.synonyms",
        ),
        (
            'service_item: "For {label}, press {key}."',
            'service_item: "For {lable}, press {key}."',
            "languages.en.prompts.service_item",
        ),
    ],
)
def test_bad_menu_names_file_line_and_field(old, new, where):
    text = DEFAULT_MENU_PATH.read_text()
    assert old in text
    with pytest.raises(MenuError) as info:
        parse_menu(text.replace(old, new, 1), "bad.yaml")
    message = str(info.value)
    assert re.match(r"^bad\.yaml:\d+: ", message), message
    assert where in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("old", "new", "where", "message"),
    [
        # an exception that holds no emergency phrase excuses nothing
        ("fire hydrant, fire hydrants,", "hydrant, fire hydrants,", "words.service_phrases.0", "no emergency"),
        # "no emergency" is also the answer "No! Emergency!"
        ("not an emergency, not emergency,", "no emergency, not emergency,", "words.not_emergency.0", "answer no"),
        # an emergency phrase that an exception hides even said alone would never count
        ("emergency, nine one one,", "not an emergency, nine one one,", "words.emergency.0", "never counts"),
        # a service synonym that is an emergency: the caller would reach 911, never the service
        ("[graffiti, tagging,", "[graffiti, gunshot,", "categories.5.synonyms.en.1", "reaches 911"),
        # every phrase is a Twilio hint, and hints are comma-separated
        ('emergency, nine one one, "911"', 'emergency, "nine, one, one", "911"', "words.emergency.1", "comma"),
    ],
)
def test_bad_emergency_words_are_refused(old, new, where, message):
    text = DEFAULT_MENU_PATH.read_text()
    assert old in text
    with pytest.raises(MenuError, match=rf"^bad\.yaml:\d+: \S*{re.escape(where)}: .*{message}"):
        parse_menu(text.replace(old, new, 1), "bad.yaml")


def test_more_hints_than_twilio_takes_are_refused():
    """Twilio takes at most 500 hints a Gather (error 13330): the services Gather hints every
    synonym, so 400 more for graffiti are too many."""
    text = DEFAULT_MENU_PATH.read_text()
    more = ", ".join(f"graffiti {n}" for n in range(400))
    bad = text.replace("[graffiti, tagging,", f"[graffiti, {more}, tagging,", 1)
    with pytest.raises(MenuError, match=r"^bad\.yaml:\d+: languages\.en\.words: 6\d\d different .*at most 500"):
        parse_menu(bad, "bad.yaml")


@pytest.mark.parametrize(
    ("lang", "said", "emergency"),
    [
        ("en", "not an emergency", False),
        ("en", "not an emergency, but he's not breathing", True),  # only the covered words
        ("en", "the fire hydrant is leaking", False),
        ("en", "there is a fire hydrant and a fire", True),
        ("en", "nine, one, one", True),  # emergency phrases are matched across punctuation
        ("en", "No! Emergency!", True),
        ("es", "no es una emergencia", False),
        ("es", "No, es una emergencia", True),  # exceptions are matched within a clause
        ("es", "AYUDENME", True),  # case and accents ignored
        ("es", "ayúdeme con un bache", False),
    ],
)
def test_the_emergency_rule(lang, said, emergency):
    assert load_menu().says_emergency(lang, said) is emergency


def test_bad_yaml_syntax():
    with pytest.raises(MenuError, match=r"^m\.yaml:\d+: not valid YAML"):
        parse_menu("languages: [unclosed", "m.yaml")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("hold_pause_s: 15\nhold_pause_s: 120\n", r"^m\.yaml:2: hold_pause_s: .*line 1"),
        ('agent_language: "e\\x00n"\n', r"^m\.yaml:1: agent_language: .*control character"),
        (
            "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
            "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
            "e: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n",
            r"^m\.yaml:\d+: .*alias",
        ),
    ],
)
def test_menu_is_read_with_the_shared_safe_reader(text, expected):
    """The same guards as scenario files: duplicate keys, control characters, alias bombs."""
    with pytest.raises(MenuError, match=expected) as info:
        parse_menu(text, "m.yaml")
    assert "\n" not in str(info.value)


def test_yes_and_no_are_words_not_booleans():
    menu = load_menu()
    assert "no" in menu.languages["en"].words.no
    assert "yes" in menu.languages["en"].words.yes


def test_speech_matching():
    menu = load_menu()
    assert menu.match_category("en", "There's a PotHole!").code == "pothole"
    assert menu.match_category("es", "Robaron mi carro anoche").code == "stolen_vehicle"
    assert menu.match_category("es", "hay un vehículo abandonado").code == "abandoned_vehicle"
    assert menu.match_category("en", "my cat is fine") is None
    assert menu.says_emergency("en", "Emergency!")
    assert not menu.says_emergency("en", "this is not an emergency")
