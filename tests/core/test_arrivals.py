"""Arrival times: hourly profiles and surges as a non-homogeneous Poisson process."""

from __future__ import annotations

import math

import numpy as np
import pytest

from queueing.core.arrivals import arrival_times, rate_segments
from queueing.core.limits import expected_calls
from queueing.core.scenario import Scenario
from queueing.core.scenario_file import parse_scenario


def _profile_and_surge(profile: list[int], horizon: str, surge: str) -> Scenario:
    """One class ``a`` arriving by the hourly ``profile`` over ``horizon``, with one ``surge``
    (its start, end and multiplier, YAML)."""
    return parse_scenario(f"""
name: nhpp
horizon: {horizon}
classes:
  a: {{priority: 1, arrivals: {{profile_per_hour: {profile}}}, handle_time: {{dist: exponential, mean: 1m}}}}
surges: [{{name: storm, class: a, {surge[1:-1]}}}]
staffing: {{pools: [{{name: p, serves: [a], agents: 1}}]}}
""")


def test_hourly_profile_and_surge_give_the_expected_counts() -> None:
    """Counts per hour of a non-homogeneous Poisson process: mean and variance equal the rate."""
    profile = [0] * 6 + [50] * 6 + [200] * 6 + [10] * 6
    scenario = _profile_and_surge(profile, "1d", "{start: 20h, end: 22h, multiplier: 5}")
    expected = np.array(profile, dtype=float)
    expected[20:22] *= 5
    assert expected_calls(scenario)["a"] == pytest.approx(expected.sum())
    reps = 400
    counts = np.array(
        [
            np.histogram(arrival_times(scenario, "a", np.random.default_rng(r)), bins=np.arange(25) * 3600.0)[0]
            for r in range(reps)
        ]
    )
    assert counts[:, :6].sum() == 0  # no calls at zero rate
    busy = expected > 0
    z = (counts.mean(axis=0)[busy] - expected[busy]) / np.sqrt(expected[busy] / reps)
    assert np.all(np.abs(z) < 4.5), z
    ratio = counts.var(axis=0, ddof=1)[busy] / expected[busy]  # Poisson: variance = mean
    assert np.all((ratio > 0.7) & (ratio < 1.4)), ratio
    # Within an hour, arrival times are uniform (constant rate): the mean offset is half an hour.
    t = np.concatenate([arrival_times(scenario, "a", np.random.default_rng(r)) for r in range(50)])
    offsets = t[(t >= 12 * 3600) & (t < 18 * 3600)] % 3600
    assert abs(offsets.mean() - 1800) < 4 * 3600 / math.sqrt(12 * len(offsets))


def test_each_arrival_is_its_segments_inverse_of_the_cumulative_rate_bit_for_bit() -> None:
    """Each point of the unit-rate process maps through the segment it falls in (the last whose
    cumulative rate is not past it: zero-rate hours hold none), the same floats as reading that
    segment's start, cumulative rate and rate at each point."""
    profile = [0] * 3 + [40] * 2 + [0] * 2 + [300] * 5 + [25] * 12
    scenario = _profile_and_surge(profile, "2d", "{start: 20h30m, end: 26h, multiplier: 3}")
    edges, rates = rate_segments(scenario, "a")
    cum = np.concatenate(([0.0], np.cumsum(np.diff(edges) * rates)))
    for seed in range(5):
        got = arrival_times(scenario, "a", np.random.default_rng(seed))
        rng = np.random.default_rng(seed)  # the same draws, mapped point by point
        n = int(rng.poisson(cum[-1]))
        spacings = rng.standard_exponential(n + 1)
        points = np.cumsum(spacings[:-1])
        points *= cum[-1] / (points[-1] + spacings[-1])
        seg = np.minimum(np.searchsorted(cum, points, side="right") - 1, len(rates) - 1)
        assert got.tobytes() == (edges[seg] + (points - cum[seg]) / rates[seg]).tobytes()
