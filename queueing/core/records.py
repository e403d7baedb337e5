"""What happened to every caller of one replication, as numpy columns (the rows of calls.csv)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from .draws import Callers
from .scenario import Scenario

ANSWERED, ABANDONED, UNSERVED, CLOSED, CALLBACK_UNANSWERED = 0, 1, 2, 3, 4
OUTCOMES = ("answered", "abandoned", "unserved", "closed", "callback_unanswered")
# A call's callback state (``CallRecords.callback``): no offer, offered and declined, accepted.
NOT_OFFERED, DECLINED, ACCEPTED = 0, 1, 2

CALLS_CSV_COLUMNS = (
    "replication", "call_id", "class", "category", "arrival_s", "queued_s", "answered_s",
    "ended_s", "wait_s", "pool", "agent", "outcome",
)  # fmt: skip


@dataclass(frozen=True)
class CallRecords:
    """Callers plus their outcome. Times in seconds since the start of the replication.

    ``answered_s`` is NaN unless answered; ``agent`` is a global agent number (-1 if none),
    ``pool`` its pool's index (-1 if none); ``outcome`` one of ANSWERED, ABANDONED, UNSERVED,
    CLOSED (arrived when no pool serving the class was open: never queued), CALLBACK_UNANSWERED
    (a callback the agent rang at ``answered_s`` and nobody answered).
    ``left_queue_s`` is when the caller stopped waiting: answered (or rung back), abandoned
    (arrival in the queue plus patience) or, for callers still waiting at the horizon, the
    horizon; callers still in the IVR at the horizon and closed callers never queued (wait 0).

    The routed model (:mod:`queueing.core.routed_model`) writes one row per attempt at one
    class's queue (a redial and each leg of a transfer are rows of their own), its
    ``callers.handle_s`` the agent's time on the call (a callback's ringing and an interpreter
    included), and fills the optional columns of the behaviours the scenario uses (None
    otherwise): ``caller_id`` and ``attempt`` (1, then 2.. for redials) with redials or
    transfers; ``transferred_from`` (class index, -1), ``transferred`` (the leg ended in a
    transfer: its handle time was the triage) and ``diverted`` with transfers; ``language``
    (index into ``Scenario.languages()``, -1) and ``interpreter`` with languages; ``callback``
    (NOT_OFFERED, DECLINED, ACCEPTED) with callbacks.
    """

    callers: Callers
    answered_s: np.ndarray
    agent: np.ndarray
    pool: np.ndarray
    outcome: np.ndarray
    horizon_s: float
    caller_id: np.ndarray | None = None
    attempt: np.ndarray | None = None
    transferred_from: np.ndarray | None = None
    transferred: np.ndarray | None = None
    diverted: np.ndarray | None = None
    language: np.ndarray | None = None
    interpreter: np.ndarray | None = None
    callback: np.ndarray | None = None

    @cached_property
    def wait_s(self) -> np.ndarray:
        """Time in queue: to the answer, to abandoning, or (unserved) to the horizon."""
        return self.left_queue_s - self.callers.queued_s

    @property
    def left_queue_s(self) -> np.ndarray:
        """When each caller stopped waiting (see the class docstring); made anew on each use, 8
        bytes a call: :meth:`left_queue_of` makes it for some callers only."""
        return self.left_queue_of(slice(None))

    def left_queue_of(self, rows: np.ndarray | slice, queued: np.ndarray | None = None) -> np.ndarray:
        """``left_queue_s[rows]``, without the whole column (``rows``: booleans, indexes or a slice;
        ``queued``: ``callers.queued_s[rows]``, when read already)."""
        return self._left_queue(rows, self.callers.queued_s[rows] if queued is None else queued)

    def wait_of(self, rows: np.ndarray | slice) -> np.ndarray:
        """``wait_s[rows]``, without the whole column (``rows``: booleans, indexes or a slice)."""
        queued = self.callers.queued_s[rows]
        wait = self._left_queue(rows, queued)
        wait -= queued
        return wait

    def _left_queue(self, rows: np.ndarray | slice, queued: np.ndarray) -> np.ndarray:
        """``left_queue_s[rows]``, ``queued`` being ``callers.queued_s[rows]``: made in one array,
        beside the queue times, :data:`ROWS_AT_A_TIME` rows at a time when ``rows`` are indexes."""
        c = self.callers
        left = np.empty(len(queued))
        indexes = rows if isinstance(rows, np.ndarray) and rows.dtype != bool else None
        step = ROWS_AT_A_TIME if indexes is not None else max(len(queued), 1)
        for start in range(0, len(queued), step):
            part = slice(start, start + step)
            at = rows if indexes is None else indexes[part]
            q, outcome = queued[part], self.outcome[at]
            gave_up = np.minimum(q + c.patience_s[at], self.horizon_s)
            served = (outcome == ANSWERED) | (outcome == CALLBACK_UNANSWERED)
            chunk = np.where(served, self.answered_s[at], gave_up)
            np.copyto(chunk, q, where=outcome == CLOSED)
            # Callers still in the IVR at the horizon never queued: they left as they came (wait 0).
            np.maximum(chunk, q, out=left[part])
        return left

    def forget_waits(self) -> None:
        """Drop the cached ``wait_s`` (8 bytes a call; computed again if asked for): once the
        measures that read it often are taken, the interval rows need room more."""
        self.__dict__.pop("wait_s", None)

    @property
    def ended_s(self) -> np.ndarray:
        """End of the call: answer plus handle time, leaving the queue, or (closed) arriving."""
        served = (self.outcome == ANSWERED) | (self.outcome == CALLBACK_UNANSWERED)
        ended = np.where(served, self.answered_s + self.callers.handle_s, self.left_queue_s)
        closed = self.outcome == CLOSED
        if closed.any():
            ended[closed] = self.callers.arrival_s[closed]
        return ended


ROWS_AT_A_TIME = 1 << 16
"""calls.csv's rows are made from this many callers at a time: Python objects for every call of a
replication at once would take about 200 bytes a call (a million-call run doubled its peak). The
times some callers left the queue are too (without temporaries of 8 bytes a caller)."""


CALLBACK_NAMES = (None, "declined", "accepted")  # calls.csv's ``callback``: NOT_OFFERED, DECLINED, ACCEPTED


def optional_call_columns(scenario: Scenario) -> list[str]:
    """The columns calls.csv adds for the behaviours the scenario uses: ``caller`` (redials or
    transfers), ``attempt`` (redials), ``transferred_from``, ``transferred``, ``diverted``
    (transfers), ``language``, ``interpreter`` (languages), ``callback`` (callbacks); none without."""
    classes = scenario.classes.values()
    transfers = any(c.transfer is not None for c in classes)
    redials = any(c.redial is not None for c in classes)
    out = ["caller"] if transfers or redials else []
    out += ["attempt"] if redials else []
    out += ["transferred_from", "transferred", "diverted"] if transfers else []
    out += ["language", "interpreter"] if scenario.languages() else []
    out += ["callback"] if any(c.callback is not None for c in classes) else []
    return out


def calls_columns(scenario: Scenario) -> list[str]:
    """Column names of calls.csv for this scenario."""
    return [*CALLS_CSV_COLUMNS, *optional_call_columns(scenario)]


def _optional_cells(scenario: Scenario, rec: CallRecords, columns: list[str], part: slice) -> list[list[Any]]:
    """Each optional column of ``rec``'s rows ``part`` as calls.csv writes it: names for classes and
    languages (empty for none), True/False, the callback's CALLBACK_NAMES."""
    class_names = scenario.class_names()
    languages = scenario.languages()

    def named(values: np.ndarray | None, names: list[str]) -> list[str | None]:
        assert values is not None
        return [names[v] if v >= 0 else None for v in values[part].tolist()]

    def column(name: str) -> list[Any]:
        if name == "transferred_from":
            return named(rec.transferred_from, class_names)
        if name == "language":
            return named(rec.language, languages)
        if name == "callback":
            assert rec.callback is not None
            return [CALLBACK_NAMES[v] for v in rec.callback[part].tolist()]
        values = getattr(rec, "caller_id" if name == "caller" else name)
        assert values is not None, f"calls.csv's {name}: the records have no such column"
        return values[part].tolist()

    return [column(name) for name in columns]


def call_rows(scenario: Scenario, runs: Iterable[tuple[int, CallRecords]]) -> Iterator[tuple[Any, ...]]:
    """Rows of calls.csv (columns :func:`calls_columns`) for (replication, records) pairs, callers in
    the order they queued; empty cells (None) where a call has no category, answer, pool or agent
    (and, closed calls, no queue time or wait)."""
    class_names = scenario.class_names()
    categories = [list(scenario.classes[c].categories or {}) for c in class_names]
    pool_names = [p.name for p in scenario.staffing.pools]
    optional = optional_call_columns(scenario)
    for replication, rec in runs:
        c = rec.callers
        ended_s, wait_s, closed = rec.ended_s, rec.wait_s, rec.outcome == CLOSED
        for start in range(0, len(c), ROWS_AT_A_TIME):
            part = slice(start, start + ROWS_AT_A_TIME)
            queued: list[float | None] = c.queued_s[part].tolist()
            wait: list[float | None] = wait_s[part].tolist()
            for i in np.flatnonzero(closed[part]).tolist():
                queued[i] = wait[i] = None  # a closed call never queued
            cols = (
                c.cls[part].tolist(), c.category[part].tolist(), c.arrival_s[part].tolist(), queued,
                [None if math.isnan(a) else a for a in rec.answered_s[part].tolist()],
                ended_s[part].tolist(), wait, rec.pool[part].tolist(), rec.agent[part].tolist(),
                rec.outcome[part].tolist(),
            )  # fmt: skip
            # the optional columns' cells, or nothing for each row when the scenario uses none of them
            extra = (
                zip(*_optional_cells(scenario, rec, optional, part), strict=True) if optional else itertools.repeat(())
            )
            rows = enumerate(zip(*cols, strict=True), start=start + 1)
            for (call_id, (k, cat, arr, q, ans, end, wait_, pool, agent, out)), more in zip(rows, extra, strict=False):
                yield (
                    replication, call_id, class_names[k], categories[k][cat] if cat >= 0 else None,
                    arr, q, ans, end, wait_, pool_names[pool] if pool >= 0 else None,
                    agent if agent >= 0 else None, OUTCOMES[out], *more,
                )  # fmt: skip
