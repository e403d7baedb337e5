"""Arrival times: hourly profiles and surges as a non-homogeneous Poisson process."""

from __future__ import annotations

import math

import numpy as np
import pytest

from queueing.core.arrivals import arrival_times
from queueing.core.limits import expected_calls
from queueing.core.scenario_file import parse_scenario


def test_hourly_profile_and_surge_give_the_expected_counts() -> None:
    """Counts per hour of a non-homogeneous Poisson process: mean and variance equal the rate."""
    profile = [0] * 6 + [50] * 6 + [200] * 6 + [10] * 6
    scenario = parse_scenario(f"""
name: nhpp
horizon: 1d
classes:
  a: {{priority: 1, arrivals: {{profile_per_hour: {profile}}}, handle_time: {{dist: exponential, mean: 1m}}}}
surges: [{{name: storm, class: a, start: 20h, end: 22h, multiplier: 5}}]
staffing: {{pools: [{{name: p, serves: [a], agents: 1}}]}}
""")
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
