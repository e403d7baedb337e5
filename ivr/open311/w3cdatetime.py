"""Datetimes as GeoReport v2 wants them: the W3C profile of ISO 8601, always with a zone.

Written as UTC with `Z` to the second (`2010-01-01T00:00:00Z`). Read: a date (`2010-01-01`,
midnight UTC) or a date and time with `Z` or `±hh:mm` (a `+` that a query string turned into a
space is taken back). A time without a zone, or a year outside 1900..2199, is refused.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

_W3C = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2}))?$",
    re.ASCII,
)
_PLUS_AS_SPACE = re.compile(r"(?<=\d) (\d{2}:\d{2})$", re.ASCII)
EARLIEST_YEAR = 1900
LATEST_YEAR = 2199


def format_w3c(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_w3c(text: str) -> datetime:
    """A UTC-aware datetime; ValueError with a sentence for the client otherwise."""
    raw = _PLUS_AS_SPACE.sub(r"+\1", text.strip())  # '+02:00' sent unencoded in a URL
    match = _W3C.match(raw)
    if not match:
        raise ValueError("expected a W3C datetime with a zone, like 2010-01-01T00:00:00Z")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    if not EARLIEST_YEAR <= int(year) <= LATEST_YEAR:
        raise ValueError(f"year must be between {EARLIEST_YEAR} and {LATEST_YEAR}")
    if hour is None:
        iso = f"{year}-{month}-{day}T00:00:00+00:00"
    else:
        frac = f".{(fraction or '0')[:6]:0<6}"
        iso = f"{year}-{month}-{day}T{hour}:{minute}:{second or '00'}{frac}"
        iso += "+00:00" if zone == "Z" else zone
    try:
        return datetime.fromisoformat(iso).astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValueError("not a real date or time") from None
