"""Callers made by hand for exact cases of the model."""

from __future__ import annotations

import numpy as np

from queueing.core.draws import Callers


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
