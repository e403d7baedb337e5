"""bench/baselines.py's own event loop (``heapq``) is the textbook case: calls conserved and the
mean waits of Cobham's non-preemptive priority M/M/c, so its time is that of the right system."""

from __future__ import annotations

import pytest

from bench.baselines import AGENTS, DAY_S, MEAN_HANDLE_S, RATES_PER_HOUR, TOTAL_RATE_PER_S, run_heapq
from queueing.theory.analytic import priority_mmc_mean_waits_s


def test_the_heapq_loop_waits_what_cobham_says() -> None:
    horizon_s = 200 * DAY_S  # about 630,000 calls
    stats = run_heapq(horizon_s, DAY_S, seed=7)
    assert stats.arrived == pytest.approx(horizon_s * TOTAL_RATE_PER_S, rel=0.01)
    assert 0 <= stats.arrived - stats.completed < 100  # those on a call or waiting at the end
    rates = [RATES_PER_HOUR[k] / 3600.0 for k in RATES_PER_HOUR]  # highest priority first
    cobham = priority_mmc_mean_waits_s(AGENTS, rates, MEAN_HANDLE_S)
    waits = stats.mean_waits_s()
    # One long run, so no interval: 10% is several standard errors here, and a loop that took
    # 311 first or left an agent idle beside a waiting caller misses it by far (911 ~19 s, 311 ~161 s).
    for name, expected in zip(RATES_PER_HOUR, cobham, strict=True):
        assert waits[name] == pytest.approx(expected, rel=0.10)
