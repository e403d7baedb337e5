"""Properties of the model that must hold for any scenario (hypothesis)."""

from __future__ import annotations

import os

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from queueing.core.draws import draw_callers
from queueing.core.model import simulate_replication
from queueing.core.records import ABANDONED, ANSWERED, UNSERVED
from queueing.core.scenario import Scenario
from queueing.core.schedule import build_schedule

HANDLES = st.sampled_from(
    [
        {"dist": "exponential", "mean": "4m"},
        {"dist": "lognormal", "mean": "3m", "sd": "2m"},
        {"dist": "deterministic", "value": "150s"},
        {"dist": "uniform", "low": "30s", "high": "6m"},
        {"dist": "gamma", "mean": "5m", "sd": "1m"},
        {"dist": "triangular", "low": "1m", "mode": "2m", "high": "9m"},
        {"dist": "empirical", "values": ["40s", "2m", "7m"]},
    ]
)


@st.composite
def scenarios(draw: st.DrawFn, max_agents: int = 12) -> Scenario:
    n_classes = draw(st.integers(1, 3))
    names = ["911", "311", "admin"][:n_classes]
    classes = {}
    for prio, name in enumerate(names, start=1):
        cc = {
            "priority": prio,
            "arrivals": {"rate_per_hour": draw(st.floats(5, 120))},
            "handle_time": draw(HANDLES),
        }
        if draw(st.booleans()):
            cc["patience"] = {"dist": "exponential", "mean": draw(st.sampled_from(["30s", "2m", "10m"]))}
        if draw(st.booleans()):
            cc["ivr_time"] = {"dist": "uniform", "low": "10s", "high": "50s"}
        classes[name] = cc
    pools = [{"name": "shared", "serves": names, "agents": draw(st.integers(1, max_agents))}]
    if n_classes > 1 and draw(st.booleans()):
        pools.append({"name": "desk", "serves": [names[-1]], "agents": draw(st.integers(1, 4))})
    return Scenario.model_validate(
        {
            "name": "property",
            "seed": draw(st.integers(0, 2**32)),
            "horizon": draw(st.sampled_from(["2h", "5h"])),
            "classes": classes,
            "staffing": {"pools": pools},
        }
    )


def _run(scenario: Scenario):
    records = simulate_replication(scenario, build_schedule(scenario), draw_callers(scenario, 0))
    return records


# IVR311_PROPERTY_EXAMPLES=400 for a deeper search than CI's default.
SETTINGS = settings(
    max_examples=int(os.environ.get("IVR311_PROPERTY_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@SETTINGS
@given(scenarios())
def test_as_many_agents_as_callers_nobody_waits(scenario: Scenario) -> None:
    n = len(draw_callers(scenario, 0))
    pools = [p.model_copy(update={"agents": max(n, 1)}) for p in scenario.staffing.pools]
    roomy = scenario.model_copy(update={"staffing": scenario.staffing.model_copy(update={"pools": pools})})
    rec = _run(roomy)
    reached = rec.callers.queued_s < roomy.horizon
    assert np.all(rec.outcome[reached] == ANSWERED)
    assert np.all(rec.wait_s[reached] == 0)
    assert np.all(rec.outcome[~reached] == UNSERVED)


@SETTINGS
@given(scenarios(max_agents=6))
def test_no_lower_priority_call_answered_while_a_higher_one_waits(scenario: Scenario) -> None:
    rec = _run(scenario)
    c = rec.callers
    left = rec.left_queue_s
    for p, pool in enumerate(scenario.staffing.pools):
        served = sorted(scenario.class_names().index(n) for n in pool.serves)
        for k in served[1:]:
            answered_at = rec.answered_s[(rec.pool == p) & (c.cls == k)]
            for higher in (h for h in served if h < k):
                m = c.cls == higher
                q, lq = c.queued_s[m], left[m]
                # A higher-priority caller waiting strictly around the moment of that answer?
                waiting = (q[None, :] < answered_at[:, None] - 1e-9) & (lq[None, :] > answered_at[:, None] + 1e-9)
                assert not waiting.any()


@SETTINGS
@given(scenarios(max_agents=6))
def test_no_agent_idles_while_a_call_it_serves_waits(scenario: Scenario) -> None:
    rec = _run(scenario)
    c = rec.callers
    answered = rec.outcome == ANSWERED
    busy_from = rec.answered_s[answered]
    busy_to = busy_from + c.handle_s[answered]
    busy_pool = rec.pool[answered]
    waited = (rec.wait_s > 1e-9) & (rec.outcome != UNSERVED)
    for i in np.flatnonzero(waited):
        t = c.queued_s[i] + rec.wait_s[i] / 2  # a moment in the middle of this caller's wait
        name = scenario.class_names()[c.cls[i]]
        for p, pool in enumerate(scenario.staffing.pools):
            if name in pool.serves:
                busy = np.count_nonzero((busy_pool == p) & (busy_from <= t) & (busy_to > t))
                assert busy == pool.agents, (i, t, pool.name)


@SETTINGS
@given(scenarios())
def test_outcomes_are_consistent(scenario: Scenario) -> None:
    rec = _run(scenario)
    c = rec.callers
    ans = rec.outcome == ANSWERED
    assert np.all(rec.wait_s >= 0)
    assert np.all(rec.wait_s[ans] <= c.patience_s[ans])
    gone = rec.outcome == ABANDONED
    np.testing.assert_allclose(rec.wait_s[gone], c.patience_s[gone])
    assert np.all((rec.agent >= 0) == ans)
    # FIFO within a class and pool set: callers of one class are answered in the order they queued.
    for k in range(len(scenario.classes)):
        m = ans & (c.cls == k)
        assert np.all(np.diff(rec.answered_s[m]) >= -1e-9)


@SETTINGS
@given(scenarios(max_agents=8))
def test_an_idle_specialist_answers_before_a_generalist(scenario: Scenario) -> None:
    """When a pool serving only the caller's class has an idle agent, that pool answers the call."""
    pools = scenario.staffing.pools
    assume(len(pools) >= 2)
    rec = _run(scenario)
    c = rec.callers
    desk = 1
    k = scenario.class_names().index(pools[desk].serves[0])
    answered = rec.outcome == ANSWERED
    desk_from = rec.answered_s[answered & (rec.pool == desk)]
    desk_to = desk_from + c.handle_s[answered & (rec.pool == desk)]
    for i in np.flatnonzero(answered & (c.cls == k) & (rec.pool == 0)):
        t = rec.answered_s[i]
        busy = np.count_nonzero((desk_from < t) & (desk_to > t))  # desk agents on a call at that moment
        assert busy == pools[desk].agents, (i, t, busy)
