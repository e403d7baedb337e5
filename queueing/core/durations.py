"""Durations with units, as planners write them: ``15s``, ``4m``, ``1h30m``, ``30d`` or plain seconds."""

from __future__ import annotations

import math
import re

HOUR_S = 3600.0
DAY_S = 24 * HOUR_S  # the simulation starts at 00:00 on day 0; shifts and profiles repeat daily

_UNIT_S = {"d": DAY_S, "h": HOUR_S, "m": 60.0, "s": 1.0}
_PART = re.compile(r"(\d+(?:\.\d+)?|\.\d+)\s*([dhms])")
_WHOLE = re.compile(r"^\s*(?:(?:\d+(?:\.\d+)?|\.\d+)\s*[dhms]\s*)+$")

DURATION_HINT = "a duration like 15s, 4m, 1h30m, 30d or a number of seconds"
MAX_DURATION_S = 100 * 365 * DAY_S  # 100 years: beyond it, sums and squares of durations lose meaning


def parse_duration_s(value: object) -> float:
    """Return ``value`` in seconds.

    Accepts an int or float (seconds) or a string of number-unit parts with units
    ``d``, ``h``, ``m`` and ``s`` (``"1h30m"`` is 5400.0). Raises ``ValueError`` with a
    message for users otherwise. Booleans are refused: YAML's ``yes`` is not a duration; so are
    infinities and anything longer than 100 years.
    """
    if isinstance(value, bool):
        raise ValueError(f"must be {DURATION_HINT}, got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            seconds = float(text)
        except ValueError:
            sign = -1.0 if text.startswith("-") else 1.0
            body = text[1:] if sign < 0 else text
            if not _WHOLE.match(body):
                raise ValueError(f"must be {DURATION_HINT}, got {value!r}") from None
            seconds = sign * sum(float(n) * _UNIT_S[u] for n, u in _PART.findall(body))
    else:
        raise ValueError(f"must be {DURATION_HINT}, got {value!r}")
    if not math.isfinite(seconds):
        raise ValueError(f"must be a finite duration, got {value!r}")
    if abs(seconds) > MAX_DURATION_S:
        raise ValueError(f"must be at most 100 years (36500d), got {value!r}")
    return seconds


def format_duration(seconds: float) -> str:
    """Render seconds compactly for tables and messages: ``5400`` -> ``"1h30m"``, ``12.5`` -> ``"12.5s"``."""
    if seconds != int(seconds) or seconds < 60:
        return f"{seconds:g}s"
    rest = int(seconds)
    parts = []
    for unit, size in (("d", int(DAY_S)), ("h", int(HOUR_S)), ("m", 60), ("s", 1)):
        n, rest = divmod(rest, size)
        if n:
            parts.append(f"{n}{unit}")
    return "".join(parts)


def format_shift_time(seconds: float) -> str:
    """A shift's start or end in hours past midnight, as staffing.yaml writes it:
    ``27000`` -> ``"7h30m"``, ``97200`` -> ``"27h"`` (a night shift ending the next morning)."""
    h, rest = divmod(int(round(seconds)), int(HOUR_S))
    return f"{h}h{rest // 60}m" if rest else f"{h}h"


def format_clock(seconds: float) -> str:
    """Seconds since midnight as HH:MM (24:00 for the end of the day; past it the hours go on)."""
    m = int(round(seconds / 60))
    return f"{m // 60:02d}:{m % 60:02d}"


def intervals_in(period_s: float, interval_s: float) -> int | None:
    """How many intervals of ``interval_s`` make ``period_s`` (an hour, a day), or None when they
    do not divide it evenly. The one rule behind every ``--interval`` that folds into hours of the
    day (report, hourly.csv) or days (staff)."""
    if interval_s <= 0 or interval_s > period_s + 1e-9:
        return None
    n = period_s / interval_s
    return int(round(n)) if abs(n - round(n)) <= 1e-9 else None
