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


def test_911_callers_waiting_and_arriving_go_first():
    # 2 waiting at 911 and 3 ahead at 311, 5 agents of 300 s, 911 at 36 an hour (0.01/s):
    # W = (2 + 3 + 1) / (5/300 - 0.01) = 6 / (1/150) = 900 s
    got = expected_wait_s(
        state(waiting_911=2, ahead_311=3, agents_busy=5, handle_s=300.0, arrivals_911_per_s=36 / 3600)
    )
    assert got == pytest.approx(900.0)
    # the same without the 911 arrivals is the plain predictor, shorter
    assert expected_wait_s(state(waiting_911=2, ahead_311=3, agents_busy=5, handle_s=300.0)) == pytest.approx(360.0)


def test_911_load_that_takes_every_agent_gives_an_unbounded_wait():
    assert expected_wait_s(state(agents_busy=2, handle_s=360.0, arrivals_911_per_s=2 / 360.0)) == math.inf


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
    # 4 busy, 4-minute calls, 1 at 911, 6 ahead, 911 at 15 an hour: 8 / (4/240 - 15/3600) = 640 s
    wait = expected_wait_s(
        state(waiting_911=1, ahead_311=6, agents_busy=4, handle_s=240.0, arrivals_911_per_s=15 / 3600)
    )
    assert wait == pytest.approx(640.0) and announced_minutes(wait) == 10


@pytest.mark.parametrize(
    ("waiting_911", "ahead_311", "agents", "handle_s", "per_hour_911"),
    [(0, 5, 3, 240.0, 0.0), (2, 4, 4, 300.0, 12.0), (1, 0, 2, 180.0, 20.0)],
)
def test_the_expected_wait_of_the_priority_queue_against_a_simulation(
    waiting_911, ahead_311, agents, handle_s, per_hour_911
):
    """With every agent busy and exponential handle times, agents free up at c/h per second
    whoever they serve, and each 911 arrival goes first: the 311 caller's wait, simulated
    event by event (a race of the next departure and the next 911 arrival), has the mean the
    predictor gives, within 4 standard errors."""
    rng = np.random.default_rng(20261207)
    departures, arrivals = agents / handle_s, per_hour_911 / 3600.0
    waits = np.empty(4000)
    for i in range(len(waits)):
        needed, t = waiting_911 + ahead_311 + 1, 0.0
        while needed:
            t += rng.exponential(1.0 / (departures + arrivals))
            needed += -1 if rng.random() < departures / (departures + arrivals) else 1
        waits[i] = t
    predicted = expected_wait_s(
        state(
            waiting_911=waiting_911,
            ahead_311=ahead_311,
            agents_busy=agents,
            handle_s=handle_s,
            arrivals_911_per_s=arrivals,
        )
    )
    assert abs(waits.mean() - predicted) < 4 * waits.std(ddof=1) / np.sqrt(len(waits))
