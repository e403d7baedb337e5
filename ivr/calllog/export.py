"""`calls export`: the call log as CSV or JSON in the documented schema (see EXPORT_COLUMNS).

Times are UTC ISO 8601 with a `Z` (millisecond precision); the caller appears only as
`caller_hash`, a keyed HMAC (the store never holds the raw number; see ivr.calllog.callerhash).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from ivr.calllog.schema import EXPORT_COLUMNS
from ivr.errors import IvrError

FORMATS = ("csv", "json")
_RELATIVE = re.compile(r"^(\d+)\s*([smhd])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def format_time(value: datetime) -> str:
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """`2024-05-01`, `2024-05-01T08:00:00Z`, `2024-05-01T10:00+02:00` (naive = UTC), or a
    look-back like `90m`, `24h`, `7d`."""
    raw = text.strip()
    match = _RELATIVE.match(raw)
    if match:
        now = now or datetime.now(UTC)
        try:
            return now - timedelta(seconds=int(match.group(1)) * _UNIT_S[match.group(2)])
        except OverflowError:
            raise IvrError(f"--since {text!r}: reaches back before the year 1") from None
    try:
        when = datetime.fromisoformat(raw.replace("z", "Z"))
    except ValueError:
        raise IvrError(
            f"--since {text!r}: expected an ISO 8601 time like 2024-05-01T08:00:00Z or a look-back like 24h or 7d"
        ) from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def export_record(row: Mapping[str, Any]) -> dict[str, Any]:
    """One row of the schema, times formatted, JSON-ready (None stays None)."""
    out: dict[str, Any] = {}
    for name in EXPORT_COLUMNS:
        value = row.get(name)
        out[name] = format_time(value) if isinstance(value, datetime) else value
    return out


def write_calls(rows: Iterable[Mapping[str, Any]], out: TextIO, fmt: str = "csv") -> int:
    """Write rows in `fmt`; returns how many."""
    if fmt not in FORMATS:
        raise IvrError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    count = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=list(EXPORT_COLUMNS), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            record = export_record(row)
            writer.writerow({k: "" if v is None else v for k, v in record.items()})
            count += 1
        return count
    out.write("[")
    for row in rows:
        out.write(",\n" if count else "\n")
        out.write(json.dumps(export_record(row), ensure_ascii=False))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count
