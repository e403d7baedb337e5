"""Strict, total parsing of what Twilio sends: form fields and our own query parameters.

Every reader here returns a clean value or "absent" (None / ""), never raises: a malformed field
is treated as if Twilio had not sent it. Text loses NUL and other control characters, digits are
ASCII only (`int('²')` and Arabic-Indic digits are not keys), numbers must be finite and fit the
32-bit integer columns of the call log, dates outside 2000..2199 are dropped. A value outside a
field's known set (a new CallStatus, say) is logged once per process, then quietly kept as
"unknown" where a known value is needed.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from flask import abort, request

log = logging.getLogger(__name__)

INT32_MAX = 2**31 - 1  # the largest value an Integer column holds on PostgreSQL
CALL_SID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
KEYS = re.compile(r"^[0-9*#]{1,16}$")
_NUMBER = re.compile(r"^[+-]?[0-9]{1,12}(?:\.[0-9]{0,6})?$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2199, 12, 31, tzinfo=UTC)

CALL_STATUSES = frozenset(
    {"queued", "initiated", "ringing", "in-progress", "completed", "busy", "failed", "no-answer", "canceled"}
)
QUEUE_RESULTS = frozenset(
    {
        "bridged",
        "bridging-in-process",
        "queue-full",
        "error",
        "hangup",
        "leave",
        "redirected",
        "redirected-from-bridged",
        "system-error",
        "system-shutdown",
    }
)

_seen_unknown: set[tuple[str, str]] = set()
_seen_lock = threading.Lock()
_MAX_SEEN = 256  # a flood of junk values logs this many, then stays quiet


def clean_text(raw: str | None, max_len: int) -> str:
    """`raw` without control characters (NUL included), stripped, at most `max_len` characters."""
    if not raw:
        return ""
    return _CONTROL.sub("", raw).strip()[:max_len]


def text(name: str, max_len: int = 256) -> str:
    """A form field as clean text ("" when absent)."""
    return clean_text(request.form.get(name), max_len)


def call_sid() -> str:
    """The CallSid every Twilio webhook carries; without a plausible one the request is a 400."""
    sid = text("CallSid", 80)
    if not CALL_SID.match(sid):
        abort(400, description="not a Twilio webhook: CallSid missing or malformed")
    return sid


def digits() -> str:
    """Keys pressed: ASCII 0-9, * and # only, else absent."""
    raw = text("Digits", 32)
    return raw if KEYS.match(raw) else ""


def number(raw: str | None, low: float, high: float) -> float | None:
    """A finite decimal within [low, high], else None (1e400, NaN, '²' and '0x10' are absent)."""
    value = clean_text(raw, 32)
    if not _NUMBER.match(value):
        return None
    parsed = float(value)
    if not math.isfinite(parsed) or not low <= parsed <= high:
        return None
    return parsed


def int_field(name: str, low: int = 0, high: int = INT32_MAX) -> int | None:
    """A whole number of a form field (seconds, positions, sequence numbers) that fits a 32-bit
    column; a decimal is truncated as Twilio's own integers never carry one."""
    value = number(request.form.get(name), low, high)
    return None if value is None else int(value)


def int_arg(name: str, default: int, low: int, high: int) -> int:
    """A query parameter of our own URLs, clamped into [low, high]; malformed gives `default`."""
    value = number(request.args.get(name), -INT32_MAX, INT32_MAX)
    return default if value is None else min(max(int(value), low), high)


def confidence() -> float | None:
    """Speech recognition confidence in [0, 1], or None when absent or malformed."""
    return number(request.form.get("Confidence"), 0.0, 1.0)


def timestamp(name: str = "Timestamp") -> datetime | None:
    """An RFC 2822 time (`Tue, 14 May 2024 10:00:00 +0000`) in UTC, dropped outside 2000..2199."""
    raw = text(name, 64)
    if not raw:
        return None
    try:
        when = parsedate_to_datetime(raw)
        when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return when if EARLIEST <= when <= LATEST else None


def known(name: str, value: str, allowed: frozenset[str], default: str = "unknown") -> str:
    """`value` if Twilio documents it for field `name`, else `default` (logged once per value)."""
    if value in allowed:
        return value
    if value:
        key = (name, value[:40])
        with _seen_lock:
            first = key not in _seen_unknown and len(_seen_unknown) < _MAX_SEEN
            if first:
                _seen_unknown.add(key)
        if first:
            log.warning("unknown %s value %r from Twilio: treated as %r", name, key[1], default)
    return default


def choice(name: str, allowed: frozenset[str] | tuple[str, ...], default: str) -> str:
    """A query parameter of our own URLs that must be one of `allowed`, else `default`."""
    value = clean_text(request.args.get(name), 32)
    return value if value in allowed else default
