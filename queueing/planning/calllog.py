"""The call log as calibrate reads it: an export of ``ivr311 calls export`` (CSV or JSON), parsed
here and not with ``ivr``'s code (the two packages share the file format only).

A malformed cell stops the reading with one line, ``file:line: column: reason``; times are
seconds since 1970, UTC.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ScenarioError

LOG_COLUMNS = (
    "call_sid", "caller_hash", "started_at", "language", "category", "queue", "menu_attempts",
    "enqueued_at", "queue_result", "queue_time_s", "answered_at", "ended_at", "status", "duration_s",
)  # fmt: skip
"""The export schema (docs/file-formats.md, "Call-log export"); calibrate reads the columns in NEEDED."""
TIME_COLUMNS = ("started_at", "enqueued_at", "answered_at", "ended_at")
NEEDED = ("started_at", "category", "queue", "enqueued_at", "queue_result", "queue_time_s", "answered_at", "ended_at")

CHUNK_ROWS = 200_000  # rows parsed at a time (bounds memory on big logs)
TOLERANCE_S = 5.0  # clock skew allowed between a call's timestamps (webhook vs Twilio's clocks)


@dataclass(frozen=True)
class CallLog:
    """The columns calibrate needs, one entry per call; times in seconds since 1970 (NaN: empty)."""

    source: str
    started: np.ndarray
    enqueued: np.ndarray
    answered: np.ndarray
    ended: np.ndarray
    queue_time_s: np.ndarray
    queue: np.ndarray  # object: class name, "" when the caller never queued
    category: np.ndarray  # object: category code, "" when none
    queue_result: np.ndarray  # object: Twilio's QueueResult, "" when none

    def __len__(self) -> int:
        return len(self.started)

    def select(self, mask: np.ndarray) -> CallLog:
        return CallLog(self.source, *(getattr(self, f)[mask] for f in _ARRAYS))


_ARRAYS = ("started", "enqueued", "answered", "ended", "queue_time_s", "queue", "category", "queue_result")


def _malformed(source: str, line: int, column: str, reason: str) -> ScenarioError:
    return ScenarioError(f"{source}:{line}: {column}: {reason}")


def parse_time_s(text: str | datetime, option: str) -> float:
    """``2024-05-01`` or ``2024-05-01T08:00:00Z`` (naive = UTC), or a datetime, as seconds since 1970."""
    import pandas as pd

    try:
        when = pd.Timestamp(text.strip() if isinstance(text, str) else text)
    except (ValueError, TypeError):
        raise ScenarioError(f"{option} {text!r}: expected an ISO 8601 time like 2024-05-01T08:00:00Z") from None
    if pd.isna(when):
        raise ScenarioError(f"{option} {text!r}: expected an ISO 8601 time like 2024-05-01T08:00:00Z")
    when = when.tz_localize("UTC") if when.tzinfo is None else when.tz_convert("UTC")
    return float(when.value) / 1e9


def time_window(since: str | datetime | None, until: str | datetime | None) -> tuple[float | None, float | None]:
    """``--since`` and ``--until`` as seconds since 1970 (None: open); ScenarioError unless until
    is after since."""
    since_s = parse_time_s(since, "--since") if since is not None and since != "" else None
    until_s = parse_time_s(until, "--until") if until is not None and until != "" else None
    if since_s is not None and until_s is not None and until_s <= since_s:
        raise ScenarioError(f"--until {until!r} is not after --since {since!r}")
    return since_s, until_s


def _chunk_arrays(frame: Any, source: str, first_line: int) -> dict[str, np.ndarray]:
    """Parse one chunk of text columns (empty = missing); raise on the first malformed cell."""
    import pandas as pd

    out: dict[str, np.ndarray] = {}
    bad_at: list[tuple[int, str, str]] = []  # (row in chunk, column, reason): the earliest wins

    def note(bad: np.ndarray, column: str, reason: str) -> None:
        if bad.any():
            bad_at.append((int(np.argmax(bad)), column, reason))

    for col in TIME_COLUMNS:
        raw = frame[col]
        empty = (raw == "").to_numpy()
        parsed = pd.to_datetime(raw.where(~empty), format="ISO8601", utc=True, errors="coerce")
        seconds = (parsed - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy(dtype=float)
        note(~empty & np.isnan(seconds), col, f"not an ISO 8601 time like 2024-05-14T10:01:15.000Z ({col})")
        out[col] = seconds
    note(np.isnan(out["started_at"]) & (frame["started_at"] == "").to_numpy(), "started_at", "required")
    raw = frame["queue_time_s"]
    empty = (raw == "").to_numpy()
    qt = pd.to_numeric(raw.where(~empty), errors="coerce").to_numpy(dtype=float)
    note(~empty & ~np.isfinite(qt), "queue_time_s", "not a number of seconds")
    note(np.isfinite(qt) & (qt < 0), "queue_time_s", "must be >= 0")
    out["queue_time_s"] = qt
    for later, earlier in (("enqueued_at", "started_at"), ("answered_at", "enqueued_at"), ("ended_at", "answered_at")):
        with np.errstate(invalid="ignore"):
            note(out[later] < out[earlier] - TOLERANCE_S, later, f"before {earlier}")
    with np.errstate(invalid="ignore"):
        note(~np.isnan(out["answered_at"]) & np.isnan(out["enqueued_at"]), "answered_at", "answered but never enqueued")
    if bad_at:
        row, column, reason = min(bad_at)
        raise _malformed(source, first_line + row, column, reason)
    for col in ("queue", "category", "queue_result"):
        out[col] = frame[col].str.strip().to_numpy(dtype=object)
    return out


def _check_header(columns: Sequence[str], source: str) -> None:
    missing = [c for c in NEEDED if c not in columns]
    if missing:
        raise _malformed(
            source, 1, missing[0], "missing column (a call log as `ivr311 calls export` writes it has: "
            + ", ".join(LOG_COLUMNS) + ")"
        )  # fmt: skip


def _frames(path: Path, source: str) -> Any:
    """Chunks of text columns with the line of their first row."""
    import pandas as pd

    with path.open("rb") as fh:
        head = fh.read(4096).lstrip()
    if path.suffix.lower() == ".json" or head.startswith(b"["):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            line = getattr(exc, "lineno", 1)
            raise _malformed(source, line, "json", str(getattr(exc, "msg", exc))) from None
        if not isinstance(data, list):
            raise _malformed(source, 1, "json", "must be a list of calls")
        for i, rec in enumerate(data):
            if not isinstance(rec, dict):
                raise _malformed(source, i + 2, "json", "each call must be an object")
        columns = set().union(*(r.keys() for r in data)) if data else set(LOG_COLUMNS)
        _check_header(sorted(columns), source)
        frame = _text_columns(pd.DataFrame.from_records(data, columns=list(NEEDED)))
        # calls export writes one call a line after the opening bracket: call i is on line i + 2
        for start in range(0, len(frame), CHUNK_ROWS):
            yield frame.iloc[start : start + CHUNK_ROWS], start + 2
        return
    try:
        header = pd.read_csv(path, nrows=0, dtype=str).columns
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise _malformed(source, 1, "header", f"not a CSV call log ({exc})") from None
    _check_header(list(header), source)
    try:
        reader = pd.read_csv(
            path, usecols=list(NEEDED), dtype=str, keep_default_na=False, chunksize=CHUNK_ROWS, encoding="utf-8"
        )
        line = 2
        for chunk in reader:
            yield chunk, line
            line += len(chunk)
    except pd.errors.ParserError as exc:
        text = str(exc)
        where = text.rsplit("line ", 1)[-1].split(",")[0] if "line " in text else "?"
        raise _malformed(source, int(where) if where.isdigit() else 0, "row", text.split(". ")[-1]) from None
    except UnicodeDecodeError as exc:
        raise _malformed(source, 0, "row", f"not UTF-8 text ({exc.reason})") from None


def _cell_text(value: Any) -> str:
    """A cell as the export writes it: empty when missing (None), ISO 8601 for a time."""
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _text_columns(frame: Any) -> Any:
    """The NEEDED columns of ``frame`` as text, as read from a CSV export (NaN, NaT, None: empty)."""
    out = frame[list(NEEDED)].copy()
    for col in NEEDED:
        values = out[col].astype(object)
        out[col] = values.where(values.notna(), None).map(_cell_text)
    return out


def read_call_log(path: str | PathLike[str]) -> CallLog:
    """Read a call-log export (CSV or JSON). A malformed cell raises ScenarioError
    ``file:line: column: reason`` (the first one found)."""
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise ScenarioError(f"{source}: no such file")
    return _call_log([_chunk_arrays(frame, source, line) for frame, line in _frames(path, source)], source)


def frame_call_log(frame: Any, source: str = "DataFrame") -> CallLog:
    """A call log from a pandas DataFrame with the export's columns (text as read from the CSV,
    or parsed: times as datetimes, numbers, NaN or None for empty). A malformed cell raises
    ScenarioError ``DataFrame:ROW: column: reason``, ROW counted from 0."""
    _check_header([str(c) for c in frame.columns], source)
    text = _text_columns(frame)
    parts = [_chunk_arrays(text.iloc[k : k + CHUNK_ROWS], source, k) for k in range(0, len(text), CHUNK_ROWS)]
    return _call_log(parts, source)


def _call_log(parts: list[dict[str, np.ndarray]], source: str) -> CallLog:
    if not parts:
        raise ScenarioError(f"{source}: the call log has no calls")
    cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    return CallLog(
        source=source,
        started=cols["started_at"],
        enqueued=cols["enqueued_at"],
        answered=cols["answered_at"],
        ended=cols["ended_at"],
        queue_time_s=cols["queue_time_s"],
        queue=cols["queue"],
        category=cols["category"],
        queue_result=cols["queue_result"],
    )


def format_date(seconds: float) -> str:
    """Seconds since 1970 as the UTC date, ``2024-05-03``."""
    import pandas as pd

    return pd.Timestamp(seconds, unit="s").strftime("%Y-%m-%d")


def format_time(seconds: float) -> str:
    """Seconds since 1970 as a UTC time to the minute, ``2024-05-03T08:00Z``."""
    import pandas as pd

    return pd.Timestamp(seconds, unit="s").strftime("%Y-%m-%dT%H:%MZ")
