"""The expected wait a 311 caller hears (`ivr.callflow.waitestimate`), against hand-computed cases
and the M/M/c queue-length predictor it refines."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ivr.callflow.waitestimate import HoldState, announced_minutes, expected_wait_s, offers_callback


def state(**kw: float | None) -> HoldState:
    base = dict(waiting_911=0, ahead_311=0, agents_busy=4, agents_idle=0, handle_s=240.0, arrivals_911_per_s=0.0)
    base.update(kw)
    return HoldState(**base)  # type: ignore[arg-type]


def test_without_911_it_is_the_mmc_queue_length_predictor():
    # Ibrahim and Whitt's queue-length predictor: (k + 1) / (c mu), k ahead, c agents, mu = 1/h
    for k in (0, 3, 17):
        assert expected_wait_s(state(ahead_311=k)) == pytest.approx((k + 1) / (4 / 240.0))


def test_911_callers_waiting_go_first_and_those_to_come_are_left_out():
    # 2 waiting at 911 and 3 ahead at 311, 5 agents of 300 s: (2 + 3 + 1) / (5/300) = 360 s,
    # with 911 callers arriving at 36 an hour or not (measured: leaving them out is closer)
    for per_s in (0.0, 36 / 3600):
        got = expected_wait_s(
            state(waiting_911=2, ahead_311=3, agents_busy=5, handle_s=300.0, arrivals_911_per_s=per_s)
        )
        assert got == pytest.approx(360.0)


def test_the_311_callers_ahead_who_hang_up_shorten_the_wait():
    # 2 at 911, 2 ahead at 311, 4 agents of 240 s (1/60 per s), patience rate 1/120 per s:
    # 2 * 60 + 1 / (1/60) + 1 / (1/60 + 1/120) + 1 / (1/60 + 2/120) = 120 + 60 + 40 + 30 = 250 s
    got = expected_wait_s(state(waiting_911=2, ahead_311=2, abandon_per_s=1 / 120))
    assert got == pytest.approx(250.0)
    assert expected_wait_s(state(waiting_911=2, ahead_311=2)) == pytest.approx(300.0)
    # with an agent idle, the first 911 caller is answered at once
    assert expected_wait_s(state(waiting_911=2, ahead_311=2, agents_busy=3, agents_idle=1, abandon_per_s=1 / 120)) == (
        pytest.approx(190.0)
    )


def test_idle_agents_take_the_first_callers_at_once():
    assert expected_wait_s(state(agents_busy=1, agents_idle=3, ahead_311=2)) == 0.0
    assert expected_wait_s(state(agents_busy=1, agents_idle=1, ahead_311=2)) == pytest.approx(2 / (2 / 240.0))


@pytest.mark.parametrize("kw", [{"agents_busy": 0}, {"handle_s": None}])
def test_no_agents_or_no_recent_handle_times_give_no_estimate(kw):
    assert expected_wait_s(state(**kw)) is None


@pytest.mark.parametrize(
    ("wait_s", "said"),
    [
        (None, None),
        (math.inf, None),
        (20.0, None),  # under half a minute: the position says enough
        (45.0, 1),
        (61.0, 2),  # up to 10 minutes: rounded up to the minute
        (600.0, 10),
        (740.0, 10),  # beyond: to the nearest 5
        (800.0, 15),
        (3600.0, 60),
        (3800.0, None),  # over an hour is not put in minutes
    ],
)
def test_announced_minutes(wait_s, said):
    assert announced_minutes(wait_s) == said


def test_callback_offered_past_the_threshold_and_when_the_queue_does_not_drain():
    assert not offers_callback(None, 300.0)
    assert not offers_callback(299.0, 300.0)
    assert offers_callback(300.0, 300.0)
    assert offers_callback(math.inf, 300.0)


def test_the_example_of_docs_voice():
    # 4 busy, 4-minute calls, 1 at 911, 6 ahead, 311 callers hanging up at 1 per 10 minutes
    # waited: 60 + sum over i = 0..6 of 1 / (1/60 + i/600) = 60 + 331.1 = 391.1 s, "about 7 minutes"
    wait = expected_wait_s(
        state(
            waiting_911=1,
            ahead_311=6,
            agents_busy=4,
            handle_s=240.0,
            arrivals_911_per_s=15 / 3600,
            abandon_per_s=1 / 600,
        )
    )
    assert wait == pytest.approx(60 + sum(1 / (1 / 60 + i / 600) for i in range(7)))
    assert wait == pytest.approx(391.1, abs=0.05) and announced_minutes(wait) == 7


@pytest.mark.parametrize(
    ("ahead_311", "agents", "handle_s", "patience_s"),
    [(5, 3, 240.0, 300.0), (12, 4, 300.0, 120.0), (0, 2, 180.0, 60.0), (8, 10, 240.0, math.inf)],
)
def test_the_expected_wait_with_hang_ups_against_a_simulation(ahead_311, agents, handle_s, patience_s):
    """With every agent busy, exponential handle times and exponential patience, agents free up
    at c/h per second and each of the i callers ahead hangs up at 1/patience: the caller's wait,
    simulated event by event (a race of the next departure and the next hang-up ahead), has the
    mean the predictor gives, within 4 standard errors."""
    rng = np.random.default_rng(20261207)
    departures, theta = agents / handle_s, 1.0 / patience_s
    waits = np.empty(4000)
    for n in range(len(waits)):
        ahead, t = ahead_311, 0.0
        while ahead >= 0:  # this caller is answered by the departure that finds nobody ahead
            t += rng.exponential(1.0 / (departures + ahead * theta))
            ahead -= 1
        waits[n] = t
    predicted = expected_wait_s(state(ahead_311=ahead_311, agents_busy=agents, handle_s=handle_s, abandon_per_s=theta))
    assert predicted is not None
    assert abs(waits.mean() - predicted) < 4 * waits.std(ddof=1) / np.sqrt(len(waits))
