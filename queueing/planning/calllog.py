"""The call log as calibrate reads it: an export of ``ivr311 calls export`` (CSV or JSON), parsed
here and not with ``ivr``'s code (the two packages share the file format only).

A malformed cell (a time that is no ISO 8601 time, a queue time that is no number of seconds
>= 0, a missing ``started_at`` or column, JSON that is no list of flat objects) stops the reading
with one line, ``file:line: column: reason``. A well-formed row that cannot be a call is dropped
and counted: a time outside the years 1970-2199, a ``call_sid`` seen on an earlier row, or times
out of order (enqueued before it started, answered before it was enqueued or never enqueued,
ended before it was answered or started) by more than the clock skew allowed, or a call that
lasted or waited a day or more. A call that ended at or before its answer within that skew is
kept without a handle time. :attr:`CallLog.notes` holds one :class:`RowNote` per kind with its
lines, which calibrate says on stderr. Times are seconds since 1970, UTC.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
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
# read when the log has them (an older export may not): the caller's language and hashed number
OPTIONAL = ("language", "caller_hash")

CHUNK_ROWS = 200_000  # rows parsed at a time (bounds memory on big logs)
TOLERANCE_S = 5.0  # clock skew allowed between a call's timestamps (webhook vs Twilio's clocks)
YEARS = (1970, 2200)  # a call's times fall in [1970, 2200), as the voice app's clocks (callers --start)
LATEST_S = 7_258_118_400.0  # 2200-01-01T00:00:00Z, seconds since 1970
MAX_JSON_BYTES = 200_000_000  # a JSON log is read whole (its objects take 3 times its size); CSV in chunks
MAX_CALL_S = 86_400.0  # Twilio ends every call within 24 h (its longest time limit): longer is no call
SHOWN_LINES = 5  # lines named per kind of dropped row; the count says the rest


@dataclass(frozen=True)
class RowNote:
    """Rows of one kind that calibrate dropped (``dropped``) or kept with a time left out."""

    what: str  # "answered before it was enqueued"
    lines: np.ndarray  # the rows' lines in the file (rows from 0 in a DataFrame)
    dropped: bool
    unit: str = "line"  # "line" in a file, "row" in a DataFrame

    def sentence(self) -> str:
        """``dropped 3 rows: answered before it was enqueued (lines 4, 9, 12)``."""
        n = len(self.lines)
        shown = ", ".join(str(int(x)) for x in self.lines[:SHOWN_LINES])
        more = f" and {n - SHOWN_LINES:,} more" if n > SHOWN_LINES else ""
        where = f"({self.unit}{'s' if n > 1 else ''} {shown}{more})"
        if self.dropped:
            return f"dropped {n:,} row{'s' if n > 1 else ''}: {self.what} {where}"
        return f"{n:,} call{'s' if n > 1 else ''} {self.what} {where}"


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
    language: np.ndarray  # object: the menu's language code, "" when none (or no such column)
    caller: np.ndarray  # object: the caller's hashed number, "" when none (or no such column)
    notes: tuple[RowNote, ...] = ()  # rows dropped or doubted while reading, one entry per kind

    def __len__(self) -> int:
        return len(self.started)

    def select(self, mask: np.ndarray) -> CallLog:
        return replace(self, **{f: getattr(self, f)[mask] for f in _ARRAYS})


_ARRAYS = (
    "started", "enqueued", "answered", "ended", "queue_time_s", "queue", "category", "queue_result", "language",
    "caller",
)  # fmt: skip


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
    if not YEARS[0] <= when.year < YEARS[1]:
        raise ScenarioError(f"{option} {text!r}: outside the years {YEARS[0]}-{YEARS[1] - 1} a call log holds")
    return float(when.value) / 1e9  # nanoseconds: within the years checked above


def time_window(since: str | datetime | None, until: str | datetime | None) -> tuple[float | None, float | None]:
    """``--since`` and ``--until`` as seconds since 1970 (None: open); ScenarioError unless until
    is after since."""
    since_s = parse_time_s(since, "--since") if since is not None and since != "" else None
    until_s = parse_time_s(until, "--until") if until is not None and until != "" else None
    if since_s is not None and until_s is not None and until_s <= since_s:
        raise ScenarioError(f"--until {until!r} is not after --since {since!r}")
    return since_s, until_s


def _seconds(raw: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ISO 8601 texts as seconds since 1970: (seconds, NaN where empty or out of range; empty;
    out of range: a time, or a text dated by a year, outside YEARS)."""
    import pandas as pd

    empty = (raw == "").to_numpy()
    parsed = pd.to_datetime(raw.where(~empty), format="ISO8601", utc=True, errors="coerce")
    # microseconds hold the years 1-9999 (nanoseconds end in 2262); the range is checked below
    when = parsed.dt.tz_localize(None).to_numpy().astype("datetime64[us]")
    missing = np.isnat(when)
    seconds = np.where(missing, np.nan, when.astype(np.int64) / 1e6)
    with np.errstate(invalid="ignore"):
        outside = (seconds < 0) | (seconds >= LATEST_S)
    unread = missing & ~empty
    if unread.any():  # a text past what pandas parses (year 10000 on) is dated, not malformed
        year = pd.to_numeric(raw[unread].str.extract(r"^\s*([+-]?\d{4,})-", expand=False), errors="coerce")
        outside[unread] = ((year < YEARS[0]) | (year >= YEARS[1])).to_numpy()
    return np.where(outside, np.nan, seconds), empty, outside


def _chunk_arrays(frame: Any, source: str, first_line: int) -> dict[str, np.ndarray]:
    """Parse one chunk of text columns (empty = missing): raise on the first malformed cell; the
    rows to drop, by kind, as boolean columns ``drop:<kind>`` (a row under its first kind only)."""
    import pandas as pd

    out: dict[str, np.ndarray] = {}
    bad_at: list[tuple[int, str, str]] = []  # (row in chunk, column, reason): the earliest wins

    def note(bad: np.ndarray, column: str, reason: str) -> None:
        if bad.any():
            bad_at.append((int(np.argmax(bad)), column, reason))

    outside = np.zeros(len(frame), dtype=bool)
    for col in TIME_COLUMNS:
        seconds, empty, out_of_range = _seconds(frame[col])
        note(~empty & np.isnan(seconds) & ~out_of_range, col,
             f"not an ISO 8601 time like 2024-05-14T10:01:15.000Z ({col})")  # fmt: skip
        out[col] = seconds
        outside |= out_of_range
    note((frame["started_at"] == "").to_numpy(), "started_at", "required")
    raw = frame["queue_time_s"]
    empty = (raw == "").to_numpy()
    qt = pd.to_numeric(raw.where(~empty), errors="coerce").to_numpy(dtype=float)
    note(~empty & ~np.isfinite(qt), "queue_time_s", "not a number of seconds")
    note(np.isfinite(qt) & (qt < 0), "queue_time_s", "must be >= 0")
    out["queue_time_s"] = qt
    if bad_at:
        row, column, reason = min(bad_at)
        raise _malformed(source, first_line + row, column, reason)
    started, enqueued, answered, ended = (out[c] for c in TIME_COLUMNS)
    taken = np.zeros(len(frame), dtype=bool)
    latest = np.fmax(np.fmax(enqueued, answered), ended)  # NaN only where all three are empty
    with np.errstate(invalid="ignore"):
        kinds = {
            f"a time outside the years {YEARS[0]}-{YEARS[1] - 1}": outside,
            "enqueued before it started": enqueued < started - TOLERANCE_S,
            "answered but never enqueued": ~np.isnan(answered) & np.isnan(enqueued),
            "answered before it was enqueued": answered < enqueued - TOLERANCE_S,
            "ended before it started": ended < started - TOLERANCE_S,
            "ended before it was answered": ended < answered - TOLERANCE_S,
            "lasted a day or more (started_at to its last time)": latest - started >= MAX_CALL_S,
            "waited a day or more (queue_time_s)": qt >= MAX_CALL_S,
        }
        for kind, rows in kinds.items():
            out[f"drop:{kind}"] = rows & ~taken
            taken |= rows
        # within the skew: the call is real, its handle time is not (0 s, or less, says nothing)
        out["no_handle"] = ~taken & ~np.isnan(answered) & (ended <= answered)
    out["ended_at"] = np.where(out["no_handle"], np.nan, ended)
    out["line"] = first_line + np.arange(len(frame), dtype=np.int64)
    for col in ("queue", "category", "queue_result"):
        out[col] = frame[col].str.strip().to_numpy(dtype=object)
    for col in OPTIONAL:
        out[col] = frame[col].str.strip().to_numpy(dtype=object) if col in frame else np.full(len(frame), "", object)
    if "call_sid" in frame:
        sid = frame["call_sid"]  # as exported: Twilio's 34 characters, no spaces to strip
        # hashes, not texts: a million call_sids would double calibrate's memory
        out["sid"] = np.where((sid == "").to_numpy(), 0, pd.util.hash_pandas_object(sid, index=False).to_numpy())
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
        size = path.stat().st_size
        if size > MAX_JSON_BYTES:
            raise _malformed(
                source, 1, "json", f"{size / 1e6:,.1f} MB: a JSON log is read whole, up to "
                f"{MAX_JSON_BYTES / 1e6:,.1f} MB; export CSV (`ivr311 calls export --format csv`), read in chunks"
            )  # fmt: skip
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            line = getattr(exc, "lineno", 1)
            raise _malformed(source, line, "json", str(getattr(exc, "msg", exc))) from None
        except RecursionError:  # arrays in arrays, deeper than Python's stack: no call log
            raise _malformed(source, 1, "json", "nested too deep: a call log is a list of flat objects") from None
        if not isinstance(data, list):
            raise _malformed(source, 1, "json", "must be a list of calls")
        wanted = ("call_sid", *NEEDED, *OPTIONAL)
        for i, rec in enumerate(data):
            if not isinstance(rec, dict):
                raise _malformed(source, i + 2, "json", "each call must be an object")
            for key in wanted:
                if isinstance(rec.get(key), dict | list):
                    raise _malformed(source, i + 2, key, "must be text, a number or null, not a list or an object")
        columns = set().union(*(r.keys() for r in data)) if data else set(LOG_COLUMNS)
        _check_header(sorted(columns), source)
        frame = _text_columns(pd.DataFrame.from_records(data, columns=[c for c in wanted if c in columns]))
        del data
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
        usecols = [c for c in ("call_sid", *NEEDED, *OPTIONAL) if c in header]
        reader = pd.read_csv(
            path, usecols=usecols, dtype=str, keep_default_na=False, chunksize=CHUNK_ROWS, encoding="utf-8"
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
    """The NEEDED columns of ``frame`` (and call_sid and the OPTIONAL ones, if it has them) as
    text, as read from a CSV export (NaN, NaT, None: empty)."""
    columns = [c for c in ("call_sid", *NEEDED, *OPTIONAL) if c in frame.columns]
    out = frame[columns].copy()
    for col in columns:
        values = out[col].astype(object)
        out[col] = values.where(values.notna(), None).map(_cell_text)
    return out


def read_call_log(path: str | PathLike[str]) -> CallLog:
    """Read a call-log export (CSV or JSON). A malformed cell raises ScenarioError
    ``file:line: column: reason`` (the first one found); rows that cannot be calls are dropped
    and named in the log's notes."""
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise ScenarioError(f"{source}: no such file")
    return _call_log([_chunk_arrays(frame, source, line) for frame, line in _frames(path, source)], source, "line")


def frame_call_log(frame: Any, source: str = "DataFrame") -> CallLog:
    """A call log from a pandas DataFrame with the export's columns (text as read from the CSV,
    or parsed: times as datetimes, numbers, NaN or None for empty). A malformed cell raises
    ScenarioError ``DataFrame:ROW: column: reason``, ROW counted from 0."""
    _check_header([str(c) for c in frame.columns], source)
    text = _text_columns(frame)
    parts = [_chunk_arrays(text.iloc[k : k + CHUNK_ROWS], source, k) for k in range(0, len(text), CHUNK_ROWS)]
    return _call_log(parts, source, "row")


def _call_log(parts: list[dict[str, np.ndarray]], source: str, unit: str) -> CallLog:
    """The log of the parsed chunks, without the rows to drop (named in its notes)."""
    if not parts:
        raise ScenarioError(f"{source}: the call log has no calls")
    cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    drops = {k.removeprefix("drop:"): v for k, v in cols.items() if k.startswith("drop:")}
    gone = np.logical_or.reduce(list(drops.values()))
    if "sid" in cols:  # a call exported twice (two exports concatenated) would count twice
        sid = cols["sid"]
        seen = _duplicated(np.where(gone, 0, sid))
        drops["the same call_sid as an earlier row"] = seen & (sid != 0) & ~gone
        gone |= drops["the same call_sid as an earlier row"]
    notes = [RowNote(kind, cols["line"][rows], True, unit) for kind, rows in drops.items() if rows.any()]
    if cols["no_handle"].any():
        notes.append(RowNote(
            f"ended within {TOLERANCE_S:g} s before or at their answer: left out of the handle time",
            cols["line"][cols["no_handle"] & ~gone], False, unit,
        ))  # fmt: skip
    keep = ~gone
    if not keep.any():
        raise ScenarioError(f"{source}: no call left to calibrate: " + "; ".join(n.sentence() for n in notes))
    return CallLog(
        source=source,
        started=cols["started_at"][keep],
        enqueued=cols["enqueued_at"][keep],
        answered=cols["answered_at"][keep],
        ended=cols["ended_at"][keep],
        queue_time_s=cols["queue_time_s"][keep],
        queue=cols["queue"][keep],
        category=cols["category"][keep],
        queue_result=cols["queue_result"][keep],
        language=cols["language"][keep],
        caller=cols["caller_hash"][keep],
        notes=tuple(n for n in notes if len(n.lines)),
    )


def _duplicated(values: np.ndarray) -> np.ndarray:
    """True where a value is one seen earlier in ``values``."""
    import pandas as pd

    return pd.Series(values).duplicated().to_numpy()


def format_date(seconds: float) -> str:
    """Seconds since 1970 as the UTC date, ``2024-05-03``."""
    import pandas as pd

    return pd.Timestamp(seconds, unit="s").strftime("%Y-%m-%d")


def format_time(seconds: float) -> str:
    """Seconds since 1970 as a UTC time to the minute, ``2024-05-03T08:00Z``."""
    import pandas as pd

    return pd.Timestamp(seconds, unit="s").strftime("%Y-%m-%dT%H:%MZ")
