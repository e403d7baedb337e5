"""Callers made by hand for exact cases of the model."""

from __future__ import annotations

import math

import numpy as np

from queueing.core.draws import Callers
from queueing.core.records import ABANDONED, ANSWERED, CallRecords


def callers_at(arrivals_s: list[float], handle_s: float) -> Callers:
    """Callers of one class (index 0), no IVR, no abandonment, all with the same handle time."""
    n = len(arrivals_s)
    at = np.asarray(arrivals_s, dtype=float)
    return Callers(
        cls=np.zeros(n, dtype=np.int16),
        category=np.full(n, -1, dtype=np.int16),
        arrival_s=at,
        queued_s=at.copy(),
        handle_s=np.full(n, handle_s),
        patience_s=np.full(n, np.inf),
    )


def records_of(calls: list[tuple[float, float | None]], horizon_s: float) -> CallRecords:
    """One replication's outcomes made by hand, one class: (arrival, wait) answered after ``wait``
    seconds in the queue, or (arrival, None) hung up after a minute; ordered by arrival."""
    at = np.array([a for a, _ in calls], dtype=float)
    waits = [w for _, w in calls]
    callers = callers_at(at.tolist(), 60.0)
    callers.patience_s[:] = [math.inf if w is not None else 60.0 for w in waits]
    answered = np.array([a + w if w is not None else math.nan for a, w in zip(at.tolist(), waits, strict=True)])
    outcome = np.array([ANSWERED if w is not None else ABANDONED for w in waits], dtype=np.int8)
    n = len(calls)
    return CallRecords(callers, answered, np.zeros(n, dtype=int), np.zeros(n, dtype=int), outcome, horizon_s)
