"""A call log in the voice app's own database (its schema, `ivr/calllog/schema.py`), for the
now-cast's tests: calls of a known day written as the recorder leaves them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class LoggedCall:
    """One call, its times in seconds after ``day`` (None: not yet)."""

    queue: str
    started: float
    enqueued: float | None = None
    answered: float | None = None
    ended: float | None = None
    category: str | None = None


def write_calls_db(path: Path, day: datetime, calls: Iterable[LoggedCall]) -> str:
    """The calls written into a new SQLite call log at ``path`` (tables made by the voice app's
    `create_tables`); its database URL."""
    from sqlalchemy import create_engine, insert

    from ivr.calllog.schema import calls as table
    from ivr.calllog.schema import create_tables

    url = f"sqlite:///{path}"
    engine = create_engine(url)
    create_tables(engine)

    def at(s: float | None) -> datetime | None:
        return None if s is None else day + timedelta(seconds=s)

    rows = []
    for n, c in enumerate(calls):
        waiting = c.enqueued is not None and c.answered is None and c.ended is None
        rows.append({
            "call_sid": f"CA{n:032d}", "started_at": at(c.started), "queue": c.queue, "category": c.category,
            "menu_attempts": 0, "enqueued_at": at(c.enqueued), "answered_at": at(c.answered),
            "ended_at": at(c.ended), "waiting_queue": c.queue if waiting else None,
            "queue_result": "bridged" if c.answered is not None else ("hangup" if c.ended is not None else None),
            "status": "completed" if c.ended is not None else "in-progress",
        })  # fmt: skip
    with engine.begin() as conn:
        if rows:
            conn.execute(insert(table), rows)
    engine.dispose()
    return url


def poisson_day(rate_per_hour: float, until_s: float, rng: np.random.Generator, queue: str = "911") -> list[LoggedCall]:
    """Calls of one class arriving as a Poisson process from midnight to ``until_s``, each answered
    10 s after it queued and done 2 minutes later."""
    times = np.sort(rng.uniform(0, until_s, rng.poisson(rate_per_hour * until_s / 3600)))
    return [LoggedCall(queue, float(t), float(t), float(t + 10), float(t + 130)) for t in times]


DAY = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
