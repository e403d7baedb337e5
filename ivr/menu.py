"""The voice menu: a validated, frozen model of `menu.yaml` plus the speech matching it needs.

A bad file never gives a traceback: `path/to/menu.yaml:LINE: categories.3.key: message`
(raised as `MenuError`, which the CLI prints as one line with exit status 2).

Speech is matched on whole words of normalized text (lower case, accents and punctuation
dropped: `_normalize`). The emergency rule (`Words.says_emergency`), which every screen of the
menu applies before anything else:

- an utterance is an emergency when it holds one of the language's `emergency` phrases that
  lies outside every exception. The exceptions are the negations (`not_emergency`: "not an
  emergency", "nobody is hurt") and the city-service phrases that hold an emergency word
  (`service_phrases`: "fire hydrant", "police station", "help me with");
- an exception excuses only the words it covers: "it's not an emergency... wait, he's not
  breathing" is an emergency ("not breathing" lies outside "not an emergency"), and so is "there
  is a fire hydrant and a fire" (the second "fire");
- an exception is matched within one clause of the transcript (punctuation ends a clause), so
  "No, es una emergencia" (no: it is an emergency) is not the negation "no es una emergencia";
  emergency phrases are matched across punctuation ("nine, one, one"). A negation that is one
  word and an emergency word ("no emergency") is refused for the same reason: "No! Emergency!"
  says the opposite;
- the menu is checked at load: every emergency phrase said alone is an emergency, every exception
  holds an emergency phrase (or it excuses nothing), and no service synonym is an emergency (a
  caller saying it would reach 911, never the service).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from ivr.errors import MenuError
from queueing.yamlsafe import YamlInputError, decode_yaml_bytes, read_yaml

DEFAULT_MENU_PATH = Path(__file__).with_name("menu.yaml")
OPERATOR_KEY = 0
OPERATOR_CATEGORY = "other"
QUEUE_911 = "911"
QUEUE_311 = "311"

_FROZEN = ConfigDict(extra="forbid", frozen=True)

NonEmpty = Annotated[str, Field(min_length=1)]


class _At(ValueError):
    """A validation error that knows where it is (model validators have no location)."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc


PLACEHOLDERS = {
    "label": "x",
    "key": 1,
    "position": 1,
    "number": "1",
    "address": "x",
    "status": "x",
    "notes": "x",
    "minutes": 2,
}


class Prompts(BaseModel):
    """Every sentence the caller can hear, in one language. `{label}`, `{key}`, `{position}`,
    `{number}`, `{address}`, `{status}`, `{notes}`, `{minutes}` are filled in where noted. The hold's
    prompts (the expected wait, the callback) are optional: a language without them hears
    neither."""

    model_config = _FROZEN

    greeting: NonEmpty
    main_menu: NonEmpty
    services_intro: NonEmpty
    service_item: NonEmpty  # {label} {key}
    more_services: NonEmpty  # {key}
    first_page: NonEmpty  # {key}
    services_footer: NonEmpty
    invalid: NonEmpty
    confirm: NonEmpty  # {label}
    to_911: NonEmpty
    to_311: NonEmpty  # {label}
    to_operator: NonEmpty
    too_many_attempts: NonEmpty
    wait_911: NonEmpty
    wait_311: NonEmpty  # {position}
    connecting: NonEmpty
    queue_full: NonEmpty  # a 311 caller still bounced after the last retry
    busy_retry: NonEmpty  # a 311 caller bounced by a full queue, queued again
    goodbye: NonEmpty
    # service requests (Open311): the number read back, the address by voice, status by keys
    request_number: NonEmpty  # {number}
    ask_address: NonEmpty
    confirm_address: NonEmpty  # {address}
    no_address: NonEmpty  # the address could not be taken: queued anyway
    ask_request_number: NonEmpty
    request_status: NonEmpty  # {number} {label} {status}
    request_notes: NonEmpty  # {notes}
    request_not_found: NonEmpty  # {number}
    request_number_invalid: NonEmpty
    lookup_unavailable: NonEmpty
    status_open: NonEmpty
    status_closed: NonEmpty
    # on hold, 311 only: the expected wait, and the callback offered when it is long
    wait_estimate: NonEmpty | None = None  # {minutes}
    wait_estimate_one: NonEmpty | None = None  # the same, for one minute
    callback_offer: NonEmpty | None = None
    callback_taken: NonEmpty | None = None
    callback_greeting: NonEmpty | None = None  # the called-back caller picks up

    @model_validator(mode="after")
    def _placeholders(self) -> Prompts:
        for name in type(self).model_fields:
            text: str | None = getattr(self, name)
            if text is None:
                continue
            try:
                text.format(**PLACEHOLDERS)
            except (KeyError, IndexError, ValueError) as exc:
                raise _At(
                    (name,), f"bad placeholder {exc}; use {', '.join('{' + p + '}' for p in PLACEHOLDERS)}"
                ) from None
        return self


MAX_HINTS = 500  # Twilio's <Gather hints>: at most 500 comma-separated entries...
MAX_HINT_CHARS = 100  # ...of at most 100 characters each (error 13330 otherwise)


def _phrase(value: str) -> str:
    """A phrase the menu listens for, which is also a <Gather> hint."""
    if "," in value:
        raise ValueError(f"{value!r}: no commas in a phrase (Twilio's hints are comma-separated)")
    if len(value) > MAX_HINT_CHARS:
        raise ValueError(f"{value[:20]!r}...: at most {MAX_HINT_CHARS} characters (a Twilio hint)")
    if not _normalize(value):
        raise ValueError(f"{value!r}: no words in it (letters or digits)")
    return value


Phrase = Annotated[str, AfterValidator(_phrase)]
Tokens = tuple[str, ...]  # a normalized phrase, word by word


class Words(BaseModel):
    """Spoken words with a fixed meaning at the menus (accents, case and punctuation are
    ignored). The emergency rule is in the module docstring."""

    model_config = _FROZEN

    emergency: list[Phrase] = Field(min_length=1)
    operator: list[Phrase] = Field(min_length=1)
    yes: list[Phrase] = Field(min_length=1)
    no: list[Phrase] = Field(min_length=1)
    not_emergency: list[Phrase] = Field(default_factory=list)  # negations: "not an emergency"
    service_phrases: list[Phrase] = Field(default_factory=list)  # "fire hydrant": a city service

    @model_validator(mode="after")
    def _emergency_rule_holds(self) -> Words:
        for i, phrase in enumerate(self.emergency):
            if not self.says_emergency(phrase):
                raise _At(("emergency", i), f"{phrase!r} said alone is inside an exception, so it never counts")
        answers_no = [_words(w) for w in self.no]
        for field in ("not_emergency", "service_phrases"):
            for i, phrase in enumerate(getattr(self, field)):
                words = _words(phrase)
                if not any(True for _ in self._emergency_spans(words)):
                    raise _At((field, i), f"{phrase!r} holds no emergency phrase, so it excuses nothing")
                if any(words[: len(no)] == no and self._is_emergency_phrase(words[len(no) :]) for no in answers_no):
                    raise _At((field, i), f"{phrase!r} is also the answer no followed by an emergency")
        return self

    def says_emergency(self, speech: str) -> bool:
        """Whether the utterance holds an emergency phrase outside every exception (the rule is
        in the module docstring)."""
        clauses = [_words(part) for part in _CLAUSE_BREAK.split(speech)]
        excused: list[tuple[int, int]] = []
        start = 0
        for clause in clauses:
            excused.extend((start + a, start + b) for a, b in _spans(clause, self._exceptions))
            start += len(clause)
        words = tuple(w for clause in clauses for w in clause)
        return any(not any(x <= a and b <= y for x, y in excused) for a, b in self._emergency_spans(words))

    def _is_emergency_phrase(self, words: Tokens) -> bool:
        return bool(words) and words in self._emergency_phrases.get(words[0], [])

    def _emergency_spans(self, words: Tokens) -> Iterator[tuple[int, int]]:
        return _spans(words, self._emergency_phrases)

    @cached_property
    def _emergency_phrases(self) -> dict[str, list[Tokens]]:
        return _by_first_word(self.emergency)

    @cached_property
    def _exceptions(self) -> dict[str, list[Tokens]]:
        return _by_first_word([*self.not_emergency, *self.service_phrases])


def _by_first_word(phrases: list[str]) -> dict[str, list[Tokens]]:
    index: dict[str, list[Tokens]] = {}
    for phrase in phrases:
        words = _words(phrase)
        index.setdefault(words[0], []).append(words)
    return index


def _spans(words: Tokens, phrases: dict[str, list[Tokens]]) -> Iterator[tuple[int, int]]:
    """(start, end) of every occurrence of the phrases in the words (whole words)."""
    for i, word in enumerate(words):
        for phrase in phrases.get(word, ()):
            if words[i : i + len(phrase)] == phrase:
                yield i, i + len(phrase)


class Language(BaseModel):
    model_config = _FROZEN

    name: NonEmpty  # how the language is announced, e.g. "Español"
    say_language: NonEmpty  # TwiML language attribute, e.g. en-US
    voice: str | None = None  # TwiML Say voice, e.g. Polly.Joanna; None = Twilio default
    prompts: Prompts
    words: Words


LIST_DATATYPES = ("singlevaluelist", "multivaluelist")
Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]


class AttributeValue(BaseModel):
    model_config = _FROZEN

    key: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
    name: NonEmpty


class Attribute(BaseModel):
    """A question an Open311 client asks for a service (GeoReport v2 service definition)."""

    model_config = _FROZEN

    code: Code
    datatype: Literal["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]
    required: bool = False
    description: NonEmpty
    datatype_description: str | None = None
    values: list[AttributeValue] = Field(default_factory=list)

    @model_validator(mode="after")
    def _values(self) -> Attribute:
        if self.datatype in LIST_DATATYPES and not self.values:
            raise _At(("values",), f"a {self.datatype} needs values")
        if self.datatype not in LIST_DATATYPES and self.values:
            raise _At(("values",), f"a {self.datatype} takes no values")
        keys = [v.key for v in self.values]
        if len(set(keys)) != len(keys):
            raise _At(("values",), "duplicate value keys")
        return self


class Category(BaseModel):
    model_config = _FROZEN

    code: Code
    key: Annotated[int, Field(ge=0)]  # position in the services listing; 0 = the operator
    label: dict[str, NonEmpty]
    synonyms: dict[str, list[Phrase]]
    group: NonEmpty = "general"  # Open311 service group
    address: bool = False  # the menu asks for the street address by voice
    attributes: list[Attribute] = Field(default_factory=list)  # Open311 clients only

    @field_validator("attributes")
    @classmethod
    def _unique_attributes(cls, value: list[Attribute]) -> list[Attribute]:
        codes = [a.code for a in value]
        if len(set(codes)) != len(codes):
            raise ValueError("duplicate attribute codes")
        return value


class Open311(BaseModel):
    """What the Open311 discovery document says about this server."""

    model_config = _FROZEN

    contact: NonEmpty = "Call 3 1 1."
    key_service: NonEmpty = "Ask the city's 311 office for an API key."


class Menu(BaseModel):
    """The whole menu. Languages are in file order; key 9 at the main menu switches to the next."""

    model_config = _FROZEN

    confidence_threshold: Annotated[float, Field(ge=0.0, le=1.0)] = 0.6
    max_reprompts: Annotated[int, Field(ge=0, le=10)] = 3
    gather_timeout_s: Annotated[int, Field(ge=1, le=60)] = 6
    hold_pause_s: Annotated[int, Field(ge=1, le=120)] = 15
    agent_poll_s: Annotated[int, Field(ge=1, le=120)] = 10
    agent_language: NonEmpty = "en"
    agent_prompts: dict[str, NonEmpty] = Field(default_factory=dict)
    languages: dict[str, Language] = Field(min_length=1)
    categories: list[Category] = Field(min_length=1)
    open311: Open311 = Field(default_factory=Open311)

    @field_validator("languages")
    @classmethod
    def _language_codes(cls, value: dict[str, Language]) -> dict[str, Language]:
        for code in value:
            if not re.fullmatch(r"[a-z]{2}", code):
                raise ValueError(f"language code {code!r} must be two lower-case letters")
        return value

    @field_validator("agent_prompts")
    @classmethod
    def _agent_prompts(cls, value: dict[str, str]) -> dict[str, str]:
        missing = {"take_911", "take_311", "nobody_waiting", "unknown_waiting"} - set(value)
        if missing:
            raise ValueError(f"missing agent prompts: {', '.join(sorted(missing))}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Menu:
        seen: set[str] = set()
        for i, cat in enumerate(self.categories):
            if cat.code in seen:
                raise _At(("categories", i, "code"), f"duplicate category code {cat.code!r}")
            seen.add(cat.code)
        keys = [c.key for c in self.categories]
        for i, cat in enumerate(self.categories):
            if cat.key >= len(keys) or keys.count(cat.key) > 1:
                raise _At(
                    ("categories", i, "key"),
                    "category keys must be 0 (the operator) and then 1, 2, ... without gaps or "
                    f"repeats; got {sorted(keys)}",
                )
            if cat.key == OPERATOR_KEY and cat.code != OPERATOR_CATEGORY:
                raise _At(
                    ("categories", i, "code"),
                    f"key 0 is the operator and must be category {OPERATOR_CATEGORY!r}",
                )
        if self.agent_language not in self.languages:
            raise _At(("agent_language",), f"{self.agent_language!r} is not in languages")
        for i, cat in enumerate(self.categories):
            for field in ("label", "synonyms"):
                given: dict[str, Any] = getattr(cat, field)
                for lang in self.languages:
                    if lang not in given:
                        raise _At(("categories", i, field), f"missing language {lang!r}")
                extra = sorted(set(given) - set(self.languages))
                if extra:
                    raise _At(("categories", i, field), f"unknown languages {extra}")
        for i, cat in enumerate(self.categories):
            for lang, synonyms in cat.synonyms.items():
                for j, synonym in enumerate(synonyms):
                    if self.says_emergency(lang, synonym):
                        raise _At(
                            ("categories", i, "synonyms", lang, j),
                            f"{synonym!r} is an emergency: a caller saying it reaches 911, never this service",
                        )
        for (lang, kind), phrases in self._hint_lists().items():
            if len(phrases) > MAX_HINTS:
                raise _At(
                    ("languages", lang, "words"),
                    f"{len(phrases)} different phrases to hint ({kind}); Twilio takes at most {MAX_HINTS}",
                )
        return self

    # -- derived views -------------------------------------------------------------------

    @property
    def default_language(self) -> str:
        return next(iter(self.languages))

    def other_language(self, lang: str) -> str:
        codes = list(self.languages)
        return codes[(codes.index(lang) + 1) % len(codes)]

    @cached_property
    def listed(self) -> list[Category]:
        """The categories read out after key 2, in key order (the operator is key 0, not listed)."""
        return sorted((c for c in self.categories if c.key != OPERATOR_KEY), key=lambda c: c.key)

    @property
    def page_size(self) -> int:
        """Up to 9 services fit on one page; more are read in pages of 8, key 9 = more."""
        return 9 if len(self.listed) <= 9 else 8

    @property
    def page_count(self) -> int:
        return -(-len(self.listed) // self.page_size)

    def page(self, number: int) -> list[Category]:
        """Categories of page `number` (1-based); the key pressed is the position on the page."""
        start = (number - 1) * self.page_size
        return self.listed[start : start + self.page_size]

    def category(self, code: str) -> Category:
        for cat in self.categories:
            if cat.code == code:
                return cat
        raise MenuError(f"unknown category {code!r}")

    def hints(self, lang: str, *, services: bool = True) -> str:
        """Gather hints: the emergency and operator words, and every category synonym of a
        language (`services`)."""
        return self._hints[(lang, "services" if services else "words")]

    def yes_no_hints(self, lang: str) -> str:
        """Gather hints of a yes-or-no question: yes, no and the emergency words."""
        return self._hints[(lang, "yes_no")]

    @cached_property
    def _hints(self) -> dict[tuple[str, str], str]:
        return {(lang, kind): ", ".join(phrases) for (lang, kind), phrases in self._hint_lists().items()}

    def _hint_lists(self) -> dict[tuple[str, str], list[str]]:
        """Every hint list the menu's Gathers use, each phrase once, emergency words first."""
        lists: dict[tuple[str, str], list[str]] = {}
        for lang, language in self.languages.items():
            words = language.words
            synonyms = [s for cat in self.listed for s in cat.synonyms[lang]]
            for kind, phrases in (
                ("services", [*words.emergency, *words.operator, *synonyms]),
                ("words", [*words.emergency, *words.operator]),
                ("yes_no", [*words.yes, *words.no, *words.emergency]),
            ):
                lists[(lang, kind)] = list(dict.fromkeys(p.strip() for p in phrases))
        return lists

    # -- speech matching -----------------------------------------------------------------

    def match_category(self, lang: str, speech: str) -> Category | None:
        """The category whose longest synonym occurs in the utterance (whole words), if any."""
        text = _normalize(speech)
        best: tuple[int, Category] | None = None
        for cat in self.listed:
            for phrase in cat.synonyms[lang]:
                norm = _normalize(phrase)
                if norm and _contains_phrase(text, norm) and (best is None or len(norm) > best[0]):
                    best = (len(norm), cat)
        return best[1] if best else None

    def says_emergency(self, lang: str, speech: str) -> bool:
        """The emergency rule (module docstring), in the language's words."""
        return self.languages[lang].words.says_emergency(speech)

    def says(self, lang: str, speech: str, meaning: str) -> bool:
        """Whether the utterance contains one of the language's `meaning` words."""
        text = _normalize(speech)
        words: list[str] = getattr(self.languages[lang].words, meaning)
        return any(_contains_phrase(text, _normalize(w)) for w in words)


def _normalize(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^a-z0-9]+", " ", stripped).split())


def _words(text: str) -> Tokens:
    return tuple(_normalize(text).split())


# What ends a clause in a transcript (a hyphen does not: "non-emergency" is one clause).
_CLAUSE_BREAK = re.compile(r"[.,;:!?¡¿…—–]")


def _contains_phrase(text: str, phrase: str) -> bool:
    return f" {phrase} " in f" {text} "


# -- loading -------------------------------------------------------------------------------


def load_menu(path: str | Path | None = None) -> Menu:
    """Read and validate a menu file; every problem is a `MenuError` naming file and line.
    The file is read with the planner's safe YAML reader (duplicate keys, control characters,
    bad bytes, deep nesting and alias bombs are refused), with only true/false as booleans."""
    menu_path = Path(path) if path else DEFAULT_MENU_PATH
    try:
        raw = menu_path.read_bytes()
    except OSError as exc:
        raise MenuError(f"{menu_path}: cannot read menu file: {exc.strerror or exc}") from None
    try:
        text = decode_yaml_bytes(raw, str(menu_path), yes_no_booleans=False)
    except YamlInputError as exc:
        raise MenuError(str(exc)) from None
    return parse_menu(text, str(menu_path))


def parse_menu(text: str, source: str = "<menu>") -> Menu:
    try:
        doc = read_yaml(text, source, yes_no_booleans=False)
    except YamlInputError as exc:
        raise MenuError(str(exc)) from None
    data = doc.data
    if not isinstance(data, dict):
        raise MenuError(f"{source}:1: the menu must be a mapping")
    try:
        return Menu.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc: tuple[str | int, ...] = tuple(err["loc"])
        cause = err.get("ctx", {}).get("error")
        if isinstance(cause, _At):
            loc += cause.loc
        line = doc.line_of(loc)
        where = ".".join(str(part) for part in loc) or "menu"
        message = str(cause) if isinstance(cause, _At) else err["msg"].removeprefix("Value error, ")
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise MenuError(f"{source}:{line}: {where}: {message}{more}") from None
