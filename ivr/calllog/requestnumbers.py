"""Service request numbers: ten digits a caller can hear, write down and key in.

A number is nine digits (the first not 0) and a Luhn check digit, so a caller who mistypes one
digit or swaps two neighbours at the status line is told the number is not valid instead of
hearing somebody else's request.

A call's number is derived from its CallSid alone (SHA-256, no database round trip), so the
caller hears it before being queued even while the database is locked or down, and a retried
webhook or a replayed journal entry gives the same number. The price is that two calls may
draw the same number: with N requests stored, a new call's first candidate is taken with
probability N / 900,000,000 (about 1 in 900 after a million requests). The store then gives
the later call the next candidate of its own sequence and logs a warning; that caller's spoken
number finds the earlier request. Requests made through the Open311 API draw random numbers,
retried until one is free (the API answers only after the row exists).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator

DIGITS = 10
_BODY = DIGITS - 1
_LOW = 10 ** (_BODY - 1)
_SPAN = 9 * _LOW  # nine-digit bodies 100000000..999999999


def luhn_digit(body: str) -> str:
    """The check digit that makes `body + digit` pass the Luhn test."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:  # every second digit from the right, counting the check digit as first
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def from_body(value: int) -> str:
    body = str(_LOW + value % _SPAN)
    return body + luhn_digit(body)


def is_valid(number: str) -> bool:
    """Ten ASCII digits, the first not 0, with a correct check digit."""
    return (
        len(number) == DIGITS
        and number.isascii()
        and number.isdigit()
        and number[0] != "0"
        and luhn_digit(number[:-1]) == number[-1]
    )


def for_call(call_sid: str, attempt: int = 0) -> str:
    """The number of the request a call creates (`attempt` > 0: the next candidates, used only
    when an earlier one is taken by another request)."""
    seed = call_sid if attempt == 0 else f"{call_sid}#{attempt}"
    digest = hashlib.sha256(seed.encode("utf-8", "surrogatepass")).digest()
    return from_body(int.from_bytes(digest[:8], "big"))


def candidates_for_call(call_sid: str) -> Iterator[str]:
    attempt = 0
    while True:
        yield for_call(call_sid, attempt)
        attempt += 1


def random_number() -> str:
    return from_body(secrets.randbelow(_SPAN))


def spoken(number: str) -> str:
    """Digits read one by one in two groups: "4 1 7 2 0, 9 3 8 1 5"."""
    half = len(number) // 2
    return f"{' '.join(number[:half])}, {' '.join(number[half:])}"
