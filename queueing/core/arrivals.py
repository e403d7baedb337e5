"""Arrival times: exact non-homogeneous Poisson processes with piecewise-constant rates.

A class's rate at time t is its rate in that hour of that day (the daily profile, or the day's:
weekday factors and profiles, special days) times the multiplier of every surge covering t.
Arrivals are drawn by inversion of the cumulative rate Λ(t): given N ~ Poisson(Λ(H)), the points
of a unit-rate process on [0, Λ(H)) are uniform order statistics; mapping them through Λ⁻¹
gives the exact process (no thinning, no rejections).
"""

from __future__ import annotations

import numpy as np

from .durations import DAY_S, HOUR_S
from .scenario import Scenario


def rate_segments(scenario: Scenario, class_name: str) -> tuple[np.ndarray, np.ndarray]:
    """Breakpoints (seconds, starting at 0, ending at the horizon) and rates (calls/s) between them."""
    horizon = scenario.horizon
    arrivals = scenario.classes[class_name].arrivals
    surges = [s for s in scenario.surges if s.class_ == class_name]
    cuts = {0.0, horizon}
    cuts.update(np.arange(HOUR_S, horizon, HOUR_S).tolist())
    for s in surges:
        cuts.update(t for t in (s.start, s.end) if t < horizon)
    edges = np.array(sorted(cuts))
    starts = edges[:-1]
    hour = ((starts % DAY_S) // HOUR_S).astype(int)
    if arrivals.varies_by_day:
        days = int(np.ceil(horizon / DAY_S))
        by_day = np.asarray([scenario.hourly_rates_on(class_name, d) for d in range(days)]) / HOUR_S
        rates = by_day[(starts // DAY_S).astype(int), hour]
    else:
        rates = (np.asarray(arrivals.hourly_rates()) / HOUR_S)[hour]
    for s in surges:
        rates = np.where((starts >= s.start) & (starts < s.end), rates * s.multiplier, rates)
    return edges, rates


def arrival_times(scenario: Scenario, class_name: str, rng: np.random.Generator) -> np.ndarray:
    """Sorted arrival times (seconds) of one class over [0, horizon) for one replication."""
    edges, rates = rate_segments(scenario, class_name)
    cum = np.concatenate(([0.0], np.cumsum(np.diff(edges) * rates)))
    total = cum[-1]
    n = int(rng.poisson(total)) if total > 0 else 0
    if n == 0:
        return np.empty(0)
    # Uniform order statistics on [0, total) from normalised exponential spacings (sorted, O(n)).
    spacings = rng.standard_exponential(n + 1)
    points = np.cumsum(spacings[:-1])
    points *= total / (points[-1] + spacings[-1])
    # Point i falls in the last segment k with cum[k] <= points[i] (the last one for any point
    # at or past the total): the points being sorted, segment k holds those from the first that
    # is not below cum[k] on, so a segment's values are repeated over its points rather than read
    # at each point's segment.
    k = len(rates)
    first = np.searchsorted(points, cum[:k], side="left")
    per_segment = np.diff(first, append=n)
    out = points - np.repeat(cum[:k], per_segment)
    out /= np.repeat(rates, per_segment)
    out += np.repeat(edges[:k], per_segment)
    return out
