"""The call log between the two halves: the voice app writes it (`calls export`, ivr/calllog/export.py, the
columns ivr.calllog.schema.EXPORT_COLUMNS), calibrate reads it (queueing/planning/calllog.py, LOG_COLUMNS).
The packages share the file format, not code, so each half names the columns on its own; a test
may import both and hold them to one schema: the same columns in the same order, and what the
export writes is what the reader reads, in both formats."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ivr.calllog.export import FORMATS, write_calls
from ivr.calllog.schema import CALL_COLUMNS, EXPORT_COLUMNS, HOLD_COLUMNS
from queueing.planning.calllog import LOG_COLUMNS, NEEDED, TIME_COLUMNS, read_call_log

T0 = datetime(2026, 11, 2, 8, 0, 0, 250_000, tzinfo=UTC)


def _call(sid: str, at_s: float, queue: str, result: str | None, wait_s: float | None, talk_s: float) -> dict:
    """One row as the store hands it to the export: times as datetimes, absent values None."""
    started = T0 + timedelta(seconds=at_s)
    enqueued = started + timedelta(seconds=25) if queue else None
    answered = enqueued + timedelta(seconds=wait_s) if enqueued and result == "bridged" and wait_s else None
    ended = (answered or enqueued or started) + timedelta(seconds=talk_s)
    return {
        "call_sid": sid, "caller_hash": "ab" * 16, "started_at": started, "language": "en",
        "category": "pothole" if queue == "311" else None, "queue": queue or None, "menu_attempts": 1,
        "enqueued_at": enqueued, "queue_result": result, "queue_time_s": wait_s, "answered_at": answered,
        "ended_at": ended, "status": "completed", "duration_s": round((ended - started).total_seconds()),
    }  # fmt: skip


CALLS = [
    _call("CA01", 0.0, "911", "bridged", 4.5, 180.0),  # answered after 4.5 s
    _call("CA02", 60.0, "311", "hangup", 95.0, 0.0),  # hung up in the queue
    _call("CA03", 90.0, "", None, None, 30.0),  # left in the menu, never queued
]


def test_the_log_columns_are_the_export_columns() -> None:
    """calibrate names every column of a call; the hold's columns (the announced wait, the
    callback) follow them, and calibrate reads past them."""
    assert LOG_COLUMNS == CALL_COLUMNS == EXPORT_COLUMNS[: len(LOG_COLUMNS)]
    assert EXPORT_COLUMNS == CALL_COLUMNS + HOLD_COLUMNS
    assert set(NEEDED) <= set(EXPORT_COLUMNS) and set(TIME_COLUMNS) <= set(EXPORT_COLUMNS)


@pytest.mark.parametrize("fmt", FORMATS)
def test_what_the_export_writes_calibrate_reads(tmp_path: Path, fmt: str) -> None:
    out = io.StringIO()
    assert write_calls(CALLS, out, fmt) == len(CALLS)
    path = tmp_path / f"calls.{fmt}"
    path.write_text(out.getvalue(), encoding="utf-8")
    if fmt == "csv":
        assert out.getvalue().splitlines()[0].split(",") == list(EXPORT_COLUMNS)
    log = read_call_log(path)
    assert len(log) == len(CALLS)
    for column, times in (("started_at", log.started), ("enqueued_at", log.enqueued), ("answered_at", log.answered)):
        expected = [c[column].timestamp() if c[column] else None for c in CALLS]
        got = [None if t != t else float(t) for t in times]  # NaN: no time
        assert got == pytest.approx(expected, abs=0.01), column  # written to the hundredth of a second
    assert list(log.queue) == ["911", "311", ""]
    assert list(log.category) == ["", "pothole", ""]
    assert list(log.queue_result) == ["bridged", "hangup", ""]
    assert log.queue_time_s[:2].tolist() == [4.5, 95.0]
