"""bench/announce_accuracy.py reads the state a caller finds right: on a hand-made trace, exact
numbers; on the model's own M/M/s+M calls, the invariants every such state obeys."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bench.announce_accuracy import Trace, _abandon_rate, mm_scenario, predictions, scored, states, trace_of

NAN = math.nan

# Class 0 is the priority (911), class 1 the announced one (311). Two agents of pool 0 on duty all
# along, one of pool 1 only from 100 s. Columns: class, queued, answered, ended, left, abandoned, pool.
CALLS = [
    (0, 0.0, 0.0, 100.0, 0.0, False, 0),  # 911, answered at once
    (1, 10.0, 10.0, 50.0, 10.0, False, 0),  # answered at once: an agent was idle
    (1, 20.0, 50.0, 80.0, 50.0, False, 0),  # waits 30 s
    (0, 30.0, 80.0, 200.0, 80.0, False, 0),  # 911, waits 50 s
    (1, 40.0, NAN, NAN, 60.0, True, -1),  # hangs up after 20 s
    (1, 45.0, 100.0, 150.0, 100.0, False, 0),  # waits 55 s
    (1, 55.0, 150.0, 190.0, 150.0, False, 0),  # waits 95 s
]


def hand_trace() -> Trace:
    cols = list(zip(*CALLS, strict=True))
    return Trace(
        cls=np.array(cols[0]),
        queued_s=np.array(cols[1]),
        answered_s=np.array(cols[2]),
        ended_s=np.array(cols[3]),
        left_s=np.array(cols[4]),
        abandoned=np.array(cols[5]),
        pool=np.array(cols[6]),
        duty=[(np.array([0.0, 0.0]), np.array([1e4, 1e4])), (np.array([100.0]), np.array([1e4]))],
    )


def test_the_state_of_the_last_caller_on_a_hand_made_trace():
    seen = states(hand_trace(), cls=1, priority=0, window_s=1000.0, samples=200, min_handled=1)
    assert [x.at_s for x in seen] == [10.0, 20.0, 40.0, 45.0, 55.0]
    last = seen[-1]
    s = last.state
    # waiting at 55 s: the 911 caller of 30 s, the 311 callers of 40 s and 45 s
    assert (s.waiting_911, s.ahead_311) == (1, 2)
    # in a conversation: the 911 call of 0 s and the 311 call answered at 50 s; pool 1 not on yet
    assert (s.agents_busy, s.agents_idle) == (2, 0)
    assert s.handle_s == 40.0  # the one conversation that has ended (10 s to 50 s)
    assert s.arrivals_911_per_s == 2 / 1000.0
    assert last.les_s == 30.0  # the 311 caller answered at 50 s had waited 30 s
    assert last.hol_s == 15.0  # the head (joined at 40 s) has waited 15 s
    assert last.abandon_rate_per_s == 0.0  # 55 s waited in the window, the hang-up comes at 60 s
    assert last.wait_s == 95.0
    p = predictions(last, priority=True)
    assert p["QL"] == pytest.approx(3 * 40 / 2)  # (k + 1) / (s mu)
    assert p["QL-naive"] == pytest.approx(4 * 40 / 2)  # the 911 caller waiting counted ahead
    assert s.abandon_per_s == 0.0
    # QL-m without hang-ups seen: the 911 caller waiting and the 2 ahead, one per departure
    assert p["ivr311"] == pytest.approx(4 * 40 / 2)
    assert p["QL-m"] == pytest.approx(1 / 0.048 + 3 / 0.048)  # no abandonment seen: no correction
    assert (p["LES"], p["HOL"]) == (30.0, 15.0)


def test_the_window_and_an_idle_agent():
    seen = states(hand_trace(), cls=1, priority=0, window_s=50.0, samples=200, min_handled=1)
    first, last = seen[0], seen[-1]
    # at 10 s one agent talks to the 911 caller, the other is idle; no history yet
    assert (first.state.agents_busy, first.state.agents_idle, first.state.ahead_311) == (1, 1, 0)
    assert (first.state.handle_s, first.les_s, first.hol_s, first.wait_s) == (None, None, 0.0, 0.0)
    # at 55 s a window of 50 s starts at 5 s: the 911 caller of 0 s is out of it
    assert last.state.arrivals_911_per_s == 1 / 50.0
    # at 45 s the caller who hangs up at 60 s is still ahead
    assert seen[3].state.ahead_311 == 2
    fewer = states(hand_trace(), cls=1, priority=0, window_s=1000.0, min_handled=3)
    assert fewer[-1].state.handle_s is None  # fewer conversations than the minimum: no estimate


def test_the_wait_of_a_caller_who_hung_up_had_they_held_on():
    seen = states(hand_trace(), cls=1, priority=0, window_s=1000.0, samples=200, min_handled=1)
    gave_up = seen[2]  # joined at 40 s, hung up at 60 s
    assert gave_up.wait_s is None
    # the caller of 20 s leaves the queue at 50 s; at 80 s the freed agent takes the 911 caller;
    # at 100 s the agent who takes the caller of 45 s would have taken them
    assert gave_up.potential_s == 60.0
    assert [x.potential_s for x in seen] == [0.0, 30.0, 60.0, 55.0, 95.0]


def test_an_idle_agent_would_have_taken_the_caller_who_hung_up():
    trace = hand_trace()
    # the last caller hangs up at 60 s instead: nobody of the class joins after them
    last = len(CALLS) - 1
    for name, value in (("answered_s", NAN), ("ended_s", NAN), ("left_s", 60.0), ("pool", -1)):
        getattr(trace, name)[last] = value
    trace.abandoned[last] = True
    # the caller ahead is answered at 100 s, when pool 1's agent comes on duty, idle
    assert states(trace, cls=1, priority=0, window_s=1000.0)[-1].potential_s == 100.0 - 55.0
    # without pool 1, the agent who ends the call of that caller at 150 s
    trace.duty[1][1][:] = 100.0
    assert states(trace, cls=1, priority=0, window_s=1000.0)[-1].potential_s == 150.0 - 55.0
    # with nobody on duty after 120 s, never
    trace.duty[0][1][:] = 120.0
    assert states(trace, cls=1, priority=0, window_s=1000.0)[-1].potential_s is None


def test_the_patience_rate_counts_the_hang_up_over_the_time_waited():
    trace = hand_trace()
    # by 70 s the 311 callers have waited 30 + 20 + 25 + 15 s, and one hung up
    assert _abandon_rate(trace, trace.cls == 1, 70.0, 1000.0) == pytest.approx(1 / 90)
    # a window of 20 s, [50, 70): 0 + 10 + 20 + 15 s waited in it, the hang-up at 60 s inside
    assert _abandon_rate(trace, trace.cls == 1, 70.0, 20.0) == pytest.approx(1 / 45)
    # the caller who joins at 200 s finds that rate in their state: 1 over 30 + 20 + 55 + 95 s
    trace = Trace(
        **{
            **trace.__dict__,
            "cls": np.append(trace.cls, 1),
            "queued_s": np.append(trace.queued_s, 200.0),
            **{
                n: np.append(getattr(trace, n), v)
                for n, v in (
                    ("answered_s", 200.0),
                    ("ended_s", 210.0),
                    ("left_s", 200.0),
                    ("abandoned", False),
                    ("pool", 0),
                )
            },
        }
    )
    late = states(trace, cls=1, priority=0, window_s=1000.0, samples=200, min_handled=1)[-1]
    assert late.state.abandon_per_s == pytest.approx(1 / 200)


def test_scored_counts_and_rmse_on_the_hand_made_trace():
    seen = states(hand_trace(), cls=1, priority=0, window_s=1000.0, samples=200, min_handled=1)
    rmse, counts = scored(seen, priority=True, from_s=0.0)
    # waited and answered: 20 s, 45 s, 55 s; at 20 s and 45 s nothing has ended yet (no estimate)
    assert counts == {"waited": 3, "ivr311_inf": 0, "ivr311_none": 2, "other_missing": 0, "scored": 1}
    assert rmse["QL"] == pytest.approx(abs(60.0 - 95.0))
    assert rmse["HOL"] == pytest.approx(95.0 - 15.0)


def test_the_model_s_callers_who_wait_find_every_agent_busy():
    from queueing import simulate
    from queueing.core.schedule import build_schedule

    scenario = mm_scenario(1.1, replications=1, seed=3)
    (rec,) = simulate(scenario, keep_calls=True).records()
    trace = trace_of(rec, build_schedule(scenario))
    seen = states(trace, cls=0, priority=None)
    waited = [x for x in seen if x.wait_s is not None and x.wait_s > 0]
    at_once = [x for x in seen if x.wait_s == 0]
    assert len(waited) > 100 and len(at_once) > 100
    assert all(x.state.agents_busy == 10 and x.state.agents_idle == 0 for x in waited)
    assert all(x.state.ahead_311 == 0 and x.state.agents_idle >= 1 for x in at_once)
    assert all(x.state.agents_busy + x.state.agents_idle == 10 for x in seen)
    # a caller who hung up would have been answered after they did, and by the end of the day
    gave_up = [(x, left) for x, left, a in zip(seen, trace.left_s, trace.abandoned, strict=True) if a]
    assert len(gave_up) > 50
    assert all(x.potential_s is not None and x.at_s + x.potential_s >= left for x, left in gave_up[:-20])
